"""A simulated SAP over recorded answers: the demo system's SAP, which keeps state between commands.

Reads are answered from the recordings: a request recorded exactly (and not touched by a change)
is replayed byte for byte; any other read of a recorded entity set (an incremental sync's
``$filter`` on a change timestamp, a single entity by key, a write-off's read-back by reference)
is evaluated over the recorded rows with the changes applied. Changes are kept in a
:class:`~sapbridge.transport.sapstate.SapState` file: ``PATCH`` with CSRF token and ``If-Match``
ETag (412 when the ETag is stale), credit-block ``ReleaseCreditBlock`` / ``RejectCreditBlock``
of sales orders (POST with CSRF token), and ``BAPI_ACC_DOCUMENT_POST`` + ``BAPI_TRANSACTION_COMMIT``
on one connection (a document posted but not committed dies with the connection, as in SAP).
Every connection says once, through ``notice``, that its answers are simulated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson

from sapbridge.transport.base import HttpResponse
from sapbridge.transport.catalogue import Catalogue, entity_key, load_catalogue
from sapbridge.transport.keys import read_http_fixture
from sapbridge.transport.odata_query import compile_filter, project
from sapbridge.transport.replay import ReplayHttpConnection, ReplayRfcConnection
from sapbridge.transport.sapstate import SapState

__all__ = ["DEMO_LABEL", "SimulatedHttpConnection", "SimulatedRfcConnection"]

DEMO_LABEL = "simulated SAP (demo): nothing is sent to a real system"
"""The words every changed answer of the simulated SAP carries."""

_TOKEN = "simulated-csrf-token"  # noqa: S105 - not a secret: the simulated SAP's fixed token
_KEY_PART = re.compile(r"(\w+)=('(?:[^']|'')*'|[^,()]+)")
_CHANGE_METHODS = {"PATCH", "MERGE", "PUT"}
_ITEM_SET = ("API_OPLACCTGDOCITEMCUBE_SRV", "A_OperationalAcctgDocItemCube")
_ITEM_KEY = ("CompanyCode", "FiscalYear", "AccountingDocument", "AccountingDocumentItem")
_CREDIT_BLOCK_SERVICE = "API_SLS_DOC_WITH_CREDIT_BLOCK"
_ORDER_SET = ("API_SALES_ORDER_SRV", "A_SalesOrder")
_CREDIT_DECISIONS = {"ReleaseCreditBlock": {"TotalCreditCheckStatus": "D", "TotalBlockStatus": ""},
                     "RejectCreditBlock": {"OverallSDDocumentRejectionSts": "C"}}


def _json(status: int, body: Any, url: str, headers: Mapping[str, str] | None = None) -> HttpResponse:
    return HttpResponse(status, orjson.dumps(body), {"content-type": "application/json", **(headers or {})},
                        url)


def _error(status: int, code: str, message: str, url: str) -> HttpResponse:
    body = {"error": {"code": code, "message": {"lang": "en", "value": message},
                      "innererror": {"errordetails": [{"code": code, "message": message,
                                                       "severity": "error"}]}}}
    return _json(status, body, url)


def _key_text(key: tuple[str, ...]) -> str:
    return "|".join(key)


def _parse_key(predicate: str) -> dict[str, str]:
    return {name: value[1:-1].replace("''", "'") if value.startswith("'") else value
            for name, value in _KEY_PART.findall(unquote(predicate))}


def _sap_date(moment: datetime) -> str:
    midnight = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return f"/Date({int(midnight.timestamp()) * 1000})/"


class SimulatedHttpConnection:
    """An HttpConnection answering OData V2 from recordings under ``root`` plus ``state``."""

    def __init__(self, root: Path, state: SapState, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 notice: Callable[[str], None] | None = None) -> None:
        self.replay = ReplayHttpConnection(root)
        self.root = Path(root)
        self.state = state
        self.clock = clock
        self.notice = notice
        self._catalogue: Catalogue | None = None

    def _announce(self) -> None:
        """Say once per connection that answers come from the simulated SAP."""
        if self.notice is not None:
            self.notice(f"demo: answered by the {DEMO_LABEL}; its state is in {self.state.path}")
            self.notice = None

    @property
    def catalogue(self) -> Catalogue:
        """The recorded rows (read on first need)."""
        if self._catalogue is None:
            self._catalogue = load_catalogue(self.root)
        return self._catalogue

    def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                params: Mapping[str, str] | None = None, data: bytes | str | None = None,
                timeout: float | None = None) -> HttpResponse:
        method = method.upper()
        sent = {k.lower(): v for k, v in (headers or {}).items()}
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        query.update(params or {})
        segments = [s for s in parts.path.split("/") if s]
        at = segments.index("odata") + 2 if "odata" in segments else len(segments)
        service = segments[at] if at < len(segments) else ""
        tail = segments[at + 1:]
        if sent.get("x-csrf-token", "").lower() == "fetch":
            self._announce()
            return _json(200, {"d": {"EntitySets": []}}, url, {"x-csrf-token": _TOKEN})
        if method in _CHANGE_METHODS and len(tail) == 1:
            return self._change(service, tail[0], sent, data, url)
        if method == "POST" and service == _CREDIT_BLOCK_SERVICE and len(tail) == 1:
            return self._credit_decision(tail[0], sent, query, url)
        if method != "GET" or len(tail) != 1 or tail[0] == "$metadata":
            return self.replay.request(method, url, headers=headers, params=params, data=data)
        entity_set, _, predicate = unquote(tail[0]).partition("(")
        self._announce_unless_recorded(method, url, params)
        if predicate:
            return self._entity(service, entity_set, "(" + predicate, url)
        changed = self.state.changes(service, entity_set)
        if not changed and read_http_fixture(self.root, method, url, params) is not None:
            return self.replay.request(method, url, headers=headers, params=params, data=data)
        if (service, entity_set) not in self.catalogue.entity_sets() and not changed:
            return self.replay.request(method, url, headers=headers, params=params, data=data)
        return self._collection(service, entity_set, query, url)

    # ----------------------------------------------------------------- reads

    def _announce_unless_recorded(self, method: str, url: str, params: Mapping[str, str] | None) -> None:
        if self.notice is not None and read_http_fixture(self.root, method, url, params) is None:
            self._announce()

    def _rows(self, service: str, entity_set: str) -> dict[str, dict[str, Any]]:
        recorded = self.catalogue.rows.get((service, entity_set), {})
        rows = {_key_text(key): dict(row) for key, row in recorded.items()}
        for key, fields in self.state.changes(service, entity_set).items():
            rows[key] = {**rows.get(key, {}), **fields}
        return rows

    def _collection(self, service: str, entity_set: str, query: dict[str, str], url: str) -> HttpResponse:
        rows = list(self._rows(service, entity_set).values())
        try:
            if query.get("$filter"):
                keep = compile_filter(query["$filter"])
                rows = [r for r in rows if keep(r)]
        except (ValueError, TypeError) as exc:
            return _error(400, "/IWBEP/CM_MGW_RT/022", f"simulated SAP cannot evaluate $filter: {exc}", url)
        order = [f.strip().split(" ")[0] for f in query.get("$orderby", "").split(",") if f.strip()]
        if order:
            rows.sort(key=lambda r: tuple(str(r.get(f) or "") for f in order))
        skip = int(query.get("$skip", "0") or 0)
        end = skip + int(query["$top"]) if query.get("$top") else len(rows)
        select = [s for s in query.get("$select", "").split(",") if s]
        expand = [e for e in query.get("$expand", "").split(",") if e]
        results = []
        for row in rows[skip:end]:
            shaped = project(row, select, expand)
            shaped["__metadata"] = row.get("__metadata") or {"type": f"{service}.{entity_set}Type"}
            results.append(shaped)
        body: dict[str, Any] = {"results": results}
        if query.get("$inlinecount") == "allpages":
            body["__count"] = str(len(rows))
        return _json(200, {"d": body}, url)

    def _find(self, service: str, entity_set: str, predicate: str) -> tuple[str, dict[str, Any]] | None:
        names = self.catalogue.keys.get((service, entity_set), ())
        wanted = _parse_key(predicate)
        if not names or set(wanted) != set(names):
            return None
        key = _key_text(entity_key(wanted, names))
        row = self._rows(service, entity_set).get(key)
        return (key, row) if row is not None else None

    def _entity(self, service: str, entity_set: str, predicate: str, url: str) -> HttpResponse:
        found = self._find(service, entity_set, predicate)
        if found is None:
            return _error(404, "/IWBEP/CM_MGW_RT/020", f"Resource not found for segment '{entity_set}'", url)
        row = found[1]
        etag = (row.get("__metadata") or {}).get("etag")
        return _json(200, {"d": row}, url, {"etag": etag} if etag else {})

    # ----------------------------------------------------------------- changes

    def _change(self, service: str, segment: str, sent: Mapping[str, str], data: bytes | str | None,
                url: str) -> HttpResponse:
        if sent.get("x-csrf-token") != _TOKEN:
            return HttpResponse(403, b"CSRF token validation failed",
                                {"x-csrf-token": "Required", "content-type": "text/plain"}, url)
        entity_set, _, predicate = unquote(segment).partition("(")
        try:
            body = orjson.loads(data or b"{}")
        except orjson.JSONDecodeError:
            return _error(400, "/IWBEP/CM_MGW_RT/004", "malformed JSON body", url)
        with self.state.changing() as state:
            found = self._find(service, entity_set, "(" + predicate)
            if found is None:
                return _error(404, "/IWBEP/CM_MGW_RT/020", f"Resource not found for '{entity_set}'", url)
            key, row = found
            current = (row.get("__metadata") or {}).get("etag")
            if current and sent.get("if-match") != current:
                return _error(412, "/IWBEP/CM_MGW_RT/003",
                              "The data has been changed by another user (ETag mismatch)", url)
            now = self.clock()
            fields = {k: v for k, v in body.items() if not k.startswith("__")}
            if entity_set == "CreditManagementAccount":
                fields["CreditLimitLastChangeDate"] = _sap_date(now)
            stamp = now.strftime("%Y-%m-%dT%H%%3A%M%%3A%S.%f")
            metadata = {**(row.get("__metadata") or {}), "etag": f"W/\"datetime'{stamp}'\""}
            entities = state["entities"].setdefault(f"{service}/{entity_set}", {})
            entities[key] = {**entities.get(key, {}), **fields, "__metadata": metadata}
        return HttpResponse(204, b"", {}, url)

    def _credit_decision(self, function: str, sent: Mapping[str, str], query: Mapping[str, str],
                         url: str) -> HttpResponse:
        """ReleaseCreditBlock / RejectCreditBlock of a sales order: a ReturnMessage, as the
        delivery sibling API_DEL_DOC_WITH_CREDIT_BLOCK answers."""
        if sent.get("x-csrf-token") != _TOKEN:
            return HttpResponse(403, b"CSRF token validation failed",
                                {"x-csrf-token": "Required", "content-type": "text/plain"}, url)
        if function not in _CREDIT_DECISIONS:
            return _error(404, "/IWBEP/CM_MGW_RT/021", f"Function import '{function}' not found", url)
        document = query.get("SalesDocument", "").strip("'")

        def answer(kind: str, message: str) -> HttpResponse:
            return _json(200, {"d": {function: {"MessageType": kind, "Message": message}}}, url)

        with self.state.changing() as state:
            found = self._find(*_ORDER_SET, f"(SalesOrder='{document}')")
            if found is None:
                return answer("E", f"Sales document {document} does not exist")
            key, row = found
            status = str(row.get("TotalCreditCheckStatus") or "")
            if status not in {"B", "C"} or row.get("OverallSDDocumentRejectionSts") == "C":
                return answer("E", f"Sales document {document} is not blocked for credit"
                                   f" (status {status or 'blank'})")
            stamp = f"/Date({int(self.clock().timestamp() * 1000)}+0000)/"
            fields = {**_CREDIT_DECISIONS[function], "LastChangeDateTime": stamp}
            entities = state["entities"].setdefault("/".join(_ORDER_SET), {})
            entities[key] = {**entities.get(key, {}), **fields}
        done = "released from its credit block" if function == "ReleaseCreditBlock" else "rejected"
        return answer("S", f"Sales document {document} {done} ({DEMO_LABEL})")


def _amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal("NaN")


def _return(kind: str, message: str, **extra: str) -> dict[str, Any]:
    return {"TYPE": kind, "ID": "DEMO", "NUMBER": "000" if kind == "S" else "001", "MESSAGE": message,
            "LOG_NO": "", "LOG_MSG_NO": "000000", "MESSAGE_V1": "", "MESSAGE_V2": "",
            "MESSAGE_V3": "", "MESSAGE_V4": "", "PARAMETER": "", "ROW": 0, "FIELD": "",
            "SYSTEM": "DEMO", **extra}


class SimulatedRfcConnection:
    """An RfcConnection: recorded calls replayed, FI postings kept in ``state`` on COMMIT."""

    def __init__(self, root: Path, state: SapState, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 notice: Callable[[str], None] | None = None) -> None:
        self.notice = notice
        self.replay = ReplayRfcConnection(root)
        self.root = Path(root)
        self.state = state
        self.clock = clock
        self.pending: list[dict[str, Any]] = []

    def call(self, function: str, **params: Any) -> dict[str, Any]:
        handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "RFC_PING": lambda _: {},
            "BAPI_ACC_DOCUMENT_POST": self._post,
            "BAPI_TRANSACTION_COMMIT": self._commit,
            "BAPI_TRANSACTION_ROLLBACK": self._rollback,
        }
        handler = handlers.get(function)
        return handler(params) if handler else self.replay.call(function, **params)

    def close(self) -> None:
        """The connection ends: an uncommitted LUW is rolled back."""
        self.pending = []

    def _post(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.notice is not None:
            self.notice(f"demo: posting in the {DEMO_LABEL}; its state is in {self.state.path}")
            self.notice = None
        header = params.get("DOCUMENTHEADER") or {}
        receivable = (params.get("ACCOUNTRECEIVABLE") or [{}])[0]
        amounts = {str(a.get("ITEMNO_ACC")): _amount(a.get("AMT_DOCCUR"))
                   for a in params.get("CURRENCYAMOUNT") or []}
        if not amounts or any(a.is_nan() for a in amounts.values()) or sum(amounts.values()) != 0:
            return {"RETURN": [_return("E", "Balance in transaction currency is not zero (simulated SAP)")]}
        company = str(header.get("COMP_CODE", ""))
        year = str(header.get("PSTNG_DATE", ""))[:4]
        with self.state.changing() as state:
            number = str(state["next_document"])
            state["next_document"] += 1
        customer_amount = amounts.get(str(receivable.get("ITEMNO_ACC")), Decimal(0))
        currency = next((str(a.get("CURRENCY", "")) for a in params.get("CURRENCYAMOUNT") or []), "")
        self.pending.append(self._item_row(header, receivable, number, year, customer_amount, currency))
        key = f"{number:0>10}{company:<4}{year}"
        message = f"Document {number} posted in company code {company} ({DEMO_LABEL})"
        return {"OBJ_TYPE": "BKPFF", "OBJ_KEY": key, "OBJ_SYS": "DEMO",
                "RETURN": [_return("S", message, MESSAGE_V2=key)]}

    def _item_row(self, header: Mapping[str, Any], receivable: Mapping[str, Any], number: str, year: str,
                  amount: Decimal, currency: str) -> dict[str, Any]:
        day = datetime.strptime(str(header.get("PSTNG_DATE")), "%Y%m%d").replace(tzinfo=UTC)
        text = f"{amount.quantize(Decimal('0.01'))}"
        return {
            "CompanyCode": str(header.get("COMP_CODE", "")), "FiscalYear": year,
            "AccountingDocument": number, "AccountingDocumentItem": "1",
            "Customer": str(receivable.get("CUSTOMER", "")),
            "AccountingDocumentType": str(header.get("DOC_TYPE", "")),
            "PostingDate": _sap_date(day), "DocumentDate": _sap_date(day),
            "DueCalculationBaseDate": _sap_date(day), "NetDueDate": _sap_date(day),
            "AmountInTransactionCurrency": text, "TransactionCurrency": currency,
            "AmountInCompanyCodeCurrency": text, "CompanyCodeCurrency": currency,
            "DocumentReferenceID": str(header.get("REF_DOC_NO", "")),
            "AssignmentReference": str(receivable.get("ALLOC_NMBR", "")),
            "BillingDocument": "", "InvoiceReference": "", "PaymentReference": "",
            "AccountingDocumentHeaderText": str(header.get("HEADER_TXT", "")),
            "PaymentTerms": "", "DunningLevel": "0", "PaymentBlockingReason": "", "SpecialGLCode": "",
            "CreditControlArea": "", "FinancialAccountType": "D", "IsCleared": False,
            "__metadata": {"type": f"{_ITEM_SET[0]}.{_ITEM_SET[1]}Type"},
        }

    def _commit(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.pending:
            with self.state.changing() as state:
                entities = state["entities"].setdefault("/".join(_ITEM_SET), {})
                for row in self.pending:
                    key = _key_text(entity_key(row, _ITEM_KEY))
                    entities[key] = row
            self.pending = []
        return {"RETURN": _return("S", f"Committed ({DEMO_LABEL})")}

    def _rollback(self, params: dict[str, Any]) -> dict[str, Any]:
        self.pending = []
        return {"RETURN": _return("S", f"Rolled back ({DEMO_LABEL})")}
