"""A fake SAP for push tests: OData and RFC over one state kept in a JSON file.

Payloads have the shape of the recorded responses in ``recorded/``. The state lives in a file
so a crashed process's committed changes survive (as they would in SAP) while its uncommitted
RFC LUW (a posted but not committed document) dies with it. ``faults`` scripts failures per
operation: each call to an operation pops the next fault from its list.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sapbridge.errors import PreconditionFailedError, SapBusinessError, SapUnavailableError

RECORDED = Path(__file__).parent / "recorded"


def recorded(name: str) -> Any:
    return json.loads((RECORDED / name).read_text(encoding="utf-8"))


class FakeSapState:
    """SAP's persistent state: credit accounts, items, posted documents, a change log."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            self.save({"accounts": {}, "items": {}, "documents": [], "patches": [],
                       "next_document": 1400000001})

    def load(self) -> dict[str, Any]:
        return json.loads(self.path.read_text(encoding="utf-8"))

    def save(self, data: dict[str, Any]) -> None:
        temp = self.path.with_suffix(".tmp")
        temp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        temp.replace(self.path)

    def add_account(self, customer: str, segment: str, limit: str, currency: str = "EUR") -> None:
        data = self.load()
        account = recorded("credit_account.json")
        account.update(BusinessPartner=customer, CreditSegment=segment,
                       CreditLimitAmount=limit, CreditSegmentCurrency=currency)
        account["__metadata"]["etag"] = 'W/"1"'
        data["accounts"][f"{customer}/{segment}"] = account
        self.save(data)

    def add_item(self, company_code: str, year: str, document: str, item: str, customer: str,
                 amount: str, currency: str = "EUR") -> None:
        data = self.load()
        row = recorded("item_cube_row.json")
        row.update(CompanyCode=company_code, FiscalYear=year, AccountingDocument=document,
                   AccountingDocumentItem=item, Customer=customer,
                   AmountInTransactionCurrency=amount, TransactionCurrency=currency)
        data["items"][f"{company_code}/{year}/{document}/{item}"] = row
        self.save(data)

    def set_limit(self, customer: str, segment: str, limit: str) -> None:
        """Someone changes the limit in SAP (UKM_BP); the ETag changes."""
        data = self.load()
        account = data["accounts"][f"{customer}/{segment}"]
        account["CreditLimitAmount"] = limit
        tag = int(account["__metadata"]["etag"][3:-1]) + 1
        account["__metadata"]["etag"] = f'W/"{tag}"'
        self.save(data)

    def add_order(self, sales_order: str, customer: str, value: str, currency: str = "EUR",
                  status: str = "B") -> None:
        data = self.load()
        order = recorded("sales_order_blocked.json")
        order.update(SalesOrder=sales_order, SoldToParty=customer, TotalNetAmount=value,
                     TransactionCurrency=currency, TotalCreditCheckStatus=status)
        data.setdefault("orders", {})[sales_order] = order
        self.save(data)

    def change_order(self, sales_order: str, **fields: str) -> None:
        """Someone changes the order in SAP (VKM1, VA02): its last change moves on."""
        data = self.load()
        order = data["orders"][sales_order]
        stamp = int(order["LastChangeDateTime"][6:19]) + 60_000
        order.update(fields, LastChangeDateTime=f"/Date({stamp}+0000)/")
        self.save(data)

    def order(self, sales_order: str) -> dict[str, Any]:
        return self.load()["orders"][sales_order]

    def documents_by_reference(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for doc in self.load()["documents"]:
            counts[doc["DocumentReferenceID"]] = counts.get(doc["DocumentReferenceID"], 0) + 1
        return counts


class Faults:
    """Scripted failures: ``{"patch": ["412", None, "lost"]}`` fails the 1st and 3rd patch."""

    def __init__(self, script: Mapping[str, list[str | None]] | None = None) -> None:
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.calls: list[str] = []

    def next(self, operation: str) -> str | None:
        self.calls.append(operation)
        queue = self.script.get(operation)
        return queue.pop(0) if queue else None


@dataclass
class Page:
    rows: list[dict[str, Any]]


def _key(keys: Mapping[str, object]) -> str:
    return f"{keys['BusinessPartner']}/{keys['CreditSegment']}"


_EQ = re.compile(r"(\w+) eq '((?:[^']|'')*)'")


class FakeOData:
    """The three ODataClient methods push uses, over :class:`FakeSapState`."""

    def __init__(self, state: FakeSapState, faults: Faults | None = None) -> None:
        self.state = state
        self.faults = faults or Faults()

    def get_entity(self, service: str, entity_set: str,
                   keys: Mapping[str, object]) -> tuple[dict[str, Any], str | None]:
        if (service, entity_set) == ("API_SALES_ORDER_SRV", "A_SalesOrder"):
            return self._order(keys)
        assert (service, entity_set) == ("API_CRDTMBUSINESSPARTNER", "CreditManagementAccount")
        if self.faults.next("get") == "timeout":
            raise SapUnavailableError("timeout reading CreditManagementAccount")
        account = self.state.load()["accounts"][_key(keys)]
        return copy.deepcopy(account), account["__metadata"]["etag"]

    def patch_entity(self, service: str, entity_set: str, keys: Mapping[str, object],
                     body: Mapping[str, Any], *, etag: str | None) -> None:
        fault = self.faults.next("patch")
        if fault == "timeout_before":
            raise SapUnavailableError("timeout sending PATCH")
        if fault == "changed_by_other":
            current = self.state.load()["accounts"][_key(keys)]
            self.state.set_limit(str(keys["BusinessPartner"]), str(keys["CreditSegment"]),
                                 str(Decimal(current["CreditLimitAmount"]) + 1))
        if fault == "http_500":
            from sapbridge.errors import SapHttpError

            raise SapHttpError("SAP answered 400: CreditLimitAmount invalid", status=400)
        data = self.state.load()
        account = data["accounts"][_key(keys)]
        if etag != account["__metadata"]["etag"]:
            error = recorded("odata_412.json")["error"]
            raise PreconditionFailedError(f"412 {error['message']['value']}", status=412,
                                          code=error["code"])
        account.update(body)
        tag = int(account["__metadata"]["etag"][3:-1]) + 1
        account["__metadata"]["etag"] = f'W/"{tag}"'
        data["patches"].append({"keys": dict(keys), "body": dict(body)})
        self.state.save(data)
        if fault == "lost":
            raise SapUnavailableError("connection reset reading the PATCH response")

    def _order(self, keys: Mapping[str, object]) -> tuple[dict[str, Any], str | None]:
        if self.faults.next("get_order") == "timeout":
            raise SapUnavailableError("timeout reading A_SalesOrder")
        order = self.state.load().get("orders", {}).get(str(keys["SalesOrder"]))
        if order is None:
            from sapbridge.errors import SapHttpError

            raise SapHttpError("SAP answered 404: Resource not found", status=404)
        return copy.deepcopy(order), order["__metadata"]["etag"]

    def post(self, service: str, path: str, body: Mapping[str, Any] | None = None,
             params: Mapping[str, str] | None = None) -> dict[str, Any]:
        """ReleaseCreditBlock / RejectCreditBlock with the (unconfirmed) mapped parameters."""
        assert service == "API_SLS_DOC_WITH_CREDIT_BLOCK"
        params = dict(params or {})
        fault = self.faults.next("post")
        if fault == "timeout_before":
            raise SapUnavailableError("timeout sending POST")
        if fault == "refused":
            return recorded("release_credit_block_refused.json")["d"]
        order_no = params["SalesDocument"].strip("'")
        assert params["SDDocumentCategory"] == "'C'"
        if path == "ReleaseCreditBlock":
            self.state.change_order(order_no, TotalCreditCheckStatus="D", TotalBlockStatus="")
            answer = recorded("release_credit_block_ok.json")["d"]
        else:
            assert path == "RejectCreditBlock"
            assert params["SalesDocumentRjcnReason"].startswith("'")
            self.state.change_order(order_no, OverallSDDocumentRejectionSts="C")
            answer = recorded("reject_credit_block_ok.json")["d"]
        data = self.state.load()
        data.setdefault("posts", []).append([path, params])  # the calls SAP carried out
        self.state.save(data)
        if fault == "lost":
            raise SapUnavailableError("connection reset reading the POST response")
        return answer

    def iter_pages(self, service: str, entity_set: str, *, select=(), filter=None,
                   orderby=None, expand=(), page_size=None, inline_count=True) -> Iterator[Page]:
        assert (service, entity_set) == ("API_OPLACCTGDOCITEMCUBE_SRV",
                                         "A_OperationalAcctgDocItemCube")
        if self.faults.next("query") == "timeout":
            raise SapUnavailableError("timeout querying A_OperationalAcctgDocItemCube")
        wanted = {k: v.replace("''", "'") for k, v in _EQ.findall(filter or "")}
        data = self.state.load()
        rows = list(data["items"].values()) + data["documents"]
        found = [r for r in rows if all(r.get(k) == v for k, v in wanted.items())]
        yield Page(rows=[copy.deepcopy(r) for r in found])


class FakeRfc:
    """One RFC connection: a posted document stays in this connection's LUW until COMMIT."""

    def __init__(self, state: FakeSapState, faults: Faults | None = None) -> None:
        self.state = state
        self.faults = faults or Faults()
        self.pending: dict[str, Any] | None = None
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call(self, function: str, **params: Any) -> dict[str, Any]:
        result = self.call_unchecked(function, **params)
        ret = result.get("RETURN") or []
        rows = [ret] if isinstance(ret, dict) else ret
        errors = [r for r in rows if r.get("TYPE") in {"E", "A"}]
        if errors:
            raise SapBusinessError(f"{function}: {errors[0]['MESSAGE']}", function=function,
                                   messages=errors)
        return result

    def call_unchecked(self, function: str, **params: Any) -> dict[str, Any]:
        self.calls.append((function, params))
        handler = {"BAPI_ACC_DOCUMENT_POST": self._post,
                   "BAPI_TRANSACTION_COMMIT": self._commit,
                   "BAPI_TRANSACTION_ROLLBACK": self._rollback,
                   "Z_SD_ORDER_CREDIT_RELEASE": self._release}[function]
        return handler(params)

    def _post(self, params: dict[str, Any]) -> dict[str, Any]:
        fault = self.faults.next("post")
        if fault == "timeout":
            raise SapUnavailableError("RFC communication failure in BAPI_ACC_DOCUMENT_POST")
        if fault == "E":
            return recorded("bapi_acc_document_post_error.json")
        amounts = [Decimal(str(a["AMT_DOCCUR"])) for a in params["CURRENCYAMOUNT"]]
        assert sum(amounts) == 0, "document does not balance"
        header = params["DOCUMENTHEADER"]
        number = str(self.state.load()["next_document"])
        self.pending = {"CompanyCode": header["COMP_CODE"], "AccountingDocument": number,
                        "FiscalYear": header["PSTNG_DATE"][:4],
                        "DocumentReferenceID": header["REF_DOC_NO"],
                        "HeaderText": header["HEADER_TXT"],
                        "Lines": [{**a, "AMT_DOCCUR": str(a["AMT_DOCCUR"])}
                                  for a in params["CURRENCYAMOUNT"]]}
        text = json.dumps(recorded("bapi_acc_document_post_ok.json"))
        text = text.replace("{document}", number).replace("{company_code}", header["COMP_CODE"])
        return json.loads(text.replace("{fiscal_year}", header["PSTNG_DATE"][:4]))

    def _commit(self, params: dict[str, Any]) -> dict[str, Any]:
        assert params.get("WAIT") == "X"
        fault = self.faults.next("commit")
        if fault == "timeout_before":
            self.pending = None  # the connection broke: SAP rolls the LUW back
            raise SapUnavailableError("RFC communication failure in BAPI_TRANSACTION_COMMIT")
        if self.pending is not None:
            data = self.state.load()
            data["documents"].append(self.pending)
            data["next_document"] += 1
            self.state.save(data)
            self.pending = None
        if fault == "lost":
            raise SapUnavailableError("RFC connection lost after COMMIT WORK")
        return recorded("bapi_transaction_commit_ok.json")

    def _release(self, params: dict[str, Any]) -> dict[str, Any]:
        """The site's remote-enabled wrapper of SD_ORDER_CREDIT_RELEASE (commits itself)."""
        if self.faults.next("release") == "E":
            return recorded("z_sd_order_credit_release_error.json")
        self.state.change_order(params["VBELN"].lstrip("0"), TotalCreditCheckStatus="D")
        return recorded("z_sd_order_credit_release_ok.json")

    def _rollback(self, params: dict[str, Any]) -> dict[str, Any]:
        self.pending = None
        return {"RETURN": {"TYPE": "", "MESSAGE": ""}}

    def close(self) -> None:
        self.pending = None
