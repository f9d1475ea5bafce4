"""The narrow view of SAP that push needs, and the reads built on it.

Push talks to SAP through two small protocols: :class:`ODataLike` (implemented by
``sapbridge.odata.client.ODataClient``) and :class:`RfcLike` (``sapbridge.rfc.client.RfcClient``).
Tests pass fakes; :func:`connect` builds the real clients for a configured system.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol

from sapbridge.config import SystemConfig
from sapbridge.convert import to_datetime
from sapbridge.errors import ProtocolError
from sapbridge.money import D
from sapbridge.push.release_mapping import ReleaseMapping

__all__ = [
    "CREDIT_SERVICE",
    "CREDIT_SET",
    "ITEM_SERVICE",
    "ITEM_SET",
    "CreditAccount",
    "ItemState",
    "ODataLike",
    "OrderState",
    "PageLike",
    "RfcLike",
    "connect",
    "find_posted_document",
    "from_sap_date",
    "read_credit_account",
    "read_item",
    "read_order",
    "to_sap_date",
]

CREDIT_SERVICE = "API_CRDTMBUSINESSPARTNER"
CREDIT_SET = "CreditManagementAccount"
ITEM_SERVICE = "API_OPLACCTGDOCITEMCUBE_SRV"
ITEM_SET = "A_OperationalAcctgDocItemCube"


class PageLike(Protocol):
    """One page of an OData collection."""

    @property
    def rows(self) -> list[dict[str, Any]]: ...


class ODataLike(Protocol):
    """What push uses of the OData client."""

    def get_entity(self, service: str, entity_set: str,
                   keys: Mapping[str, object]) -> tuple[dict[str, Any], str | None]: ...

    def patch_entity(self, service: str, entity_set: str, keys: Mapping[str, object],
                     body: Mapping[str, Any], *, etag: str | None) -> None: ...

    def iter_pages(self, service: str, entity_set: str, *, select: Sequence[str] = (),
                   filter: str | None = None, orderby: str | None = None,
                   expand: Sequence[str] = (), page_size: int | None = None,
                   inline_count: bool = True) -> Iterator[PageLike]: ...

    def post(self, service: str, path: str, body: Mapping[str, Any] | None = None,
             params: Mapping[str, str] | None = None) -> dict[str, Any]: ...


class RfcLike(Protocol):
    """What push uses of the RFC client (one connection: post and commit share it)."""

    def call(self, function: str, **params: Any) -> dict[str, Any]: ...

    def call_unchecked(self, function: str, **params: Any) -> dict[str, Any]: ...

    def close(self) -> None: ...


_DATE_RE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")


def from_sap_date(value: Any) -> date | None:
    """``"/Date(ms)/"`` (Edm.DateTime in V2 JSON) as a date; None for null."""
    if value in (None, ""):
        return None
    match = _DATE_RE.fullmatch(str(value))
    if match is None:
        msg = f"not an OData V2 date: {value!r}"
        raise ProtocolError(msg)
    return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC).date()


def to_sap_date(value: date) -> str:
    """A date as ``"/Date(ms)/"`` at midnight UTC."""
    moment = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return f"/Date({int(moment.timestamp()) * 1000})/"


@dataclass(frozen=True, slots=True)
class CreditAccount:
    """A credit segment of a business partner as SAP holds it now."""

    limit: Decimal
    currency: str
    valid_to: date | None
    changed_on: date | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values for plans and audit entries."""
        return {"credit_limit": str(self.limit), "currency": self.currency,
                "valid_to": self.valid_to.isoformat() if self.valid_to else None,
                "changed_on": self.changed_on.isoformat() if self.changed_on else None}


def read_credit_account(odata: ODataLike, customer: str,
                        segment: str) -> tuple[CreditAccount, str | None]:
    """The current credit limit of one segment, with the ETag to send back on PATCH."""
    data, etag = odata.get_entity(CREDIT_SERVICE, CREDIT_SET,
                                  {"BusinessPartner": customer, "CreditSegment": segment})
    try:
        account = CreditAccount(
            limit=D(data.get("CreditLimitAmount") or "0"),
            currency=str(data.get("CreditSegmentCurrency") or ""),
            valid_to=from_sap_date(data.get("CreditLimitValidityEndDate")),
            changed_on=from_sap_date(data.get("CreditLimitLastChangeDate")),
        )
    except (TypeError, ValueError) as exc:
        msg = f"{CREDIT_SET}({customer},{segment}): unexpected payload: {exc}"
        raise ProtocolError(msg) from exc
    return account, etag


@dataclass(frozen=True, slots=True)
class ItemState:
    """An accounting document item as SAP holds it now."""

    amount: Decimal
    currency: str
    cleared: bool


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def read_item(odata: ODataLike, company_code: str, fiscal_year: str, document: str,
              item: str) -> ItemState | None:
    """The customer item of an accounting document, or None when SAP does not return it."""
    condition = (f"CompanyCode eq {_quote(company_code)} and FiscalYear eq {_quote(fiscal_year)}"
                 f" and AccountingDocument eq {_quote(document)}"
                 f" and AccountingDocumentItem eq {_quote(item)}")
    for page in odata.iter_pages(
        ITEM_SERVICE, ITEM_SET, filter=condition, inline_count=False,
        select=("AmountInTransactionCurrency", "TransactionCurrency",
                "ClearingAccountingDocument"),
    ):
        for row in page.rows:
            return ItemState(amount=D(row.get("AmountInTransactionCurrency") or "0"),
                             currency=str(row.get("TransactionCurrency") or ""),
                             cleared=bool(row.get("ClearingAccountingDocument")))
    return None


def find_posted_document(odata: ODataLike, company_code: str, reference: str) -> str | None:
    """``company/document/year`` of the document whose reference (XBLNR) is ``reference``."""
    condition = (f"CompanyCode eq {_quote(company_code)}"
                 f" and DocumentReferenceID eq {_quote(reference)}")
    for page in odata.iter_pages(
        ITEM_SERVICE, ITEM_SET, filter=condition, inline_count=False,
        select=("CompanyCode", "AccountingDocument", "FiscalYear"),
    ):
        for row in page.rows:
            return f"{row['CompanyCode']}/{row['AccountingDocument']}/{row['FiscalYear']}"
    return None


@dataclass(frozen=True, slots=True)
class OrderState:
    """A sales order's credit status as SAP holds it now."""

    credit_status: str
    rejection_status: str
    value: Decimal
    currency: str
    changed_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values for plans and audit entries."""
        return {"credit_status": self.credit_status, "rejection_status": self.rejection_status,
                "order_value": str(self.value), "currency": self.currency,
                "changed_at": self.changed_at.isoformat() if self.changed_at else None}


def read_order(odata: ODataLike, names: ReleaseMapping, sales_order: str) -> OrderState:
    """A sales order's credit and rejection status, value and last change, read by key."""
    data, _ = odata.get_entity(names.order_service, names.order_set,
                               {names.order_key: sales_order.lstrip("0") or "0"})
    try:
        return OrderState(
            credit_status=str(data.get(names.credit_status) or "").strip(),
            rejection_status=str(data.get(names.rejection_status) or "").strip(),
            value=D(data.get(names.net_amount) or "0"),
            currency=str(data.get(names.currency) or ""),
            changed_at=to_datetime(data.get(names.changed_at)),
        )
    except (TypeError, ValueError) as exc:
        msg = f"{names.order_set}({sales_order}): unexpected payload: {exc}"
        raise ProtocolError(msg) from exc


class _LazyRfc:
    """Opens the RFC connection on first use: limit changes never need pyrfc."""

    def __init__(self, system: SystemConfig) -> None:
        self.system = system
        self._client: RfcLike | None = None

    def _open(self) -> RfcLike:
        if self._client is None:
            from sapbridge.connect import open_rfc

            self._client = open_rfc(self.system)
        return self._client

    def call(self, function: str, **params: Any) -> dict[str, Any]:
        return self._open().call(function, **params)

    def call_unchecked(self, function: str, **params: Any) -> dict[str, Any]:
        return self._open().call_unchecked(function, **params)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def connect(system: SystemConfig) -> tuple[ODataLike, RfcLike]:
    """The real OData client and a lazily opened RFC client of a configured system."""
    from sapbridge.connect import open_odata

    return open_odata(system), _LazyRfc(system)
