"""Validate one row of a batch file against the store and the config.

Each validator returns a :class:`Prepared` change or raises :class:`InputError` with the
problem (the caller adds file and row). Keys SAP pads with zeros (customer, document, item) may
be given without the leading zeros.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, and_, func, select
from sqlalchemy.engine import Connection

from sapbridge.errors import InputError
from sapbridge.money import D, currency_decimals, parse_amount, quantize
from sapbridge.push.authority import PushConfig
from sapbridge.push.state import authority_amount
from sapbridge.push.tables import push_batches, push_claims, push_rows
from sapbridge.store.schema import blocked_orders, credit_segments, open_items

__all__ = ["BLOCKED_STATUSES", "LIMIT_COLUMNS", "RELEASE_ACTIONS", "RELEASE_COLUMNS",
           "WRITEOFF_COLUMNS", "Prepared", "claimed_by", "order_claim", "validate_limit",
           "validate_release", "validate_writeoff"]

LIMIT_COLUMNS = ("customer", "credit_segment", "new_limit", "currency", "valid_to", "reason")
RELEASE_COLUMNS = ("sales_order", "action", "reason", "rejection_reason")
RELEASE_ACTIONS = ("release", "reject")
BLOCKED_STATUSES = ("B", "C")
"""TotalCreditCheckStatus of a credit-blocked order: B not OK, C partially released."""
REJECTED = "C"
"""OverallSDDocumentRejectionSts of a fully rejected order: SAP leaves its credit status B."""
WRITEOFF_COLUMNS = ("company_code", "customer", "fiscal_year", "document", "item", "amount",
                    "currency", "reason_code", "text")


@dataclass(frozen=True, slots=True)
class Prepared:
    """A validated row: what to change, what the store showed, and the amount for authority."""

    row_no: int
    customer: str
    currency: str
    target: dict[str, Any]
    seen: dict[str, Any]
    authority_amount: Decimal
    unique_key: str


def _required(raw: Mapping[str, str], *names: str) -> None:
    missing = [n for n in names if not raw.get(n)]
    if missing:
        msg = f"missing {', '.join(missing)}"
        raise InputError(msg)


def _amount(text: str, name: str, currency: str) -> Decimal:
    try:
        value = parse_amount(text)
    except ValueError as exc:
        msg = f"{name}: {exc}"
        raise InputError(msg) from None
    if quantize(value, currency) != value:
        msg = f"{name} {text} has more than {currency_decimals(currency)} decimals for {currency}"
        raise InputError(msg)
    return value


def _lookup(conn: Connection, table: Table, system: str, keys: Mapping[str, str],
            pads: Mapping[str, int]) -> Mapping[Any, Any] | None:
    """The open row matching ``keys``, trying the given and the zero-padded spelling."""
    variants = [dict(keys)]
    padded = {k: v.zfill(pads[k]) if k in pads and v.isdigit() else v for k, v in keys.items()}
    if padded != keys:
        variants.append(padded)
    for variant in variants:
        cond = and_(table.c.system == system, table.c.status == "open",
                    *(table.c[k] == v for k, v in variant.items()))
        row = conn.execute(select(table).where(cond)).mappings().first()
        if row is not None:
            return row
    return None


def validate_limit(conn: Connection, system: str, raw: Mapping[str, str], config: PushConfig,
                   row_no: int) -> Prepared:
    """A credit-limit change: the segment exists, currency matches, the limit is an amount."""
    _required(raw, "customer", "credit_segment", "new_limit", "currency", "reason")
    currency = raw["currency"].upper()
    segment = _lookup(conn, credit_segments, system,
                      {"customer": raw["customer"], "credit_segment": raw["credit_segment"]},
                      {"customer": 10})
    if segment is None:
        msg = (f"no open credit segment {raw['credit_segment']} for customer {raw['customer']}"
               f" in system {system}")
        raise InputError(msg)
    if (segment["currency"] or "").upper() != currency:
        msg = f"currency {currency} does not match the segment's {segment['currency']}"
        raise InputError(msg)
    new_limit = _amount(raw["new_limit"], "new_limit", currency)
    if new_limit < 0:
        msg = "new_limit must not be negative"
        raise InputError(msg)
    valid_to = None
    if raw.get("valid_to"):
        try:
            valid_to = date.fromisoformat(raw["valid_to"]).isoformat()
        except ValueError:
            msg = f"valid_to is not a date (YYYY-MM-DD): {raw['valid_to']!r}"
            raise InputError(msg) from None
    current = quantize(segment["credit_limit"] or Decimal(0), currency)
    customer, seg = segment["customer"], segment["credit_segment"]
    target = {"credit_segment": seg, "new_limit": str(new_limit), "currency": currency,
              "valid_to": valid_to, "reason": raw["reason"]}
    seen = {"credit_limit": str(current),
            "valid_to": segment["valid_to"].isoformat() if segment["valid_to"] else None}
    return Prepared(
        row_no=row_no, customer=customer, currency=currency, target=target, seen=seen,
        authority_amount=authority_amount("limits", target, seen),
        unique_key=f"{customer}/{seg}",
    )


def claimed_by(item: str, batch_id: str) -> str:
    """The problem line for an open item another live batch writes off."""
    return f"item {item} is already requested in batch {batch_id} (one live batch per item)"


def _live_claim(conn: Connection, system: str, item: str) -> str | None:
    return conn.execute(select(push_claims.c.batch_id).where(
        push_claims.c.system == system, push_claims.c.item == item)).scalar()


def _requested_before(conn: Connection, system: str, item: Mapping[Any, Any]) -> Decimal:
    """Write-offs of this item in other batches that are not rejected and not stale.

    A write-off posted with BAPI_ACC_DOCUMENT_POST leaves the invoice open, so the open
    amount alone cannot stop a second batch from writing the same item off again.
    """
    rows = conn.execute(
        select(push_rows.c.target_json)
        .join(push_batches, push_batches.c.batch_id == push_rows.c.batch_id)
        .where(push_batches.c.system == system, push_batches.c.kind == "write-offs",
               push_batches.c.status != "rejected", push_rows.c.state != "stale",
               push_rows.c.customer == item["customer"])
    ).scalars()
    keys = ("company_code", "fiscal_year", "document", "item")
    total = Decimal(0)
    for text in rows:
        target = json.loads(text)
        if all(target.get(k) == item[k] for k in keys):
            total += D(target["amount"])
    return total


def validate_writeoff(conn: Connection, system: str, raw: Mapping[str, str],
                      config: PushConfig, row_no: int) -> Prepared:
    """A write-off of an open item: item open, customer and currency match, amount within it."""
    if raw.get("case_id"):
        msg = "dispute case write-offs (case_id) are not supported; give the invoice item"
        raise InputError(msg)
    _required(raw, "company_code", "customer", "fiscal_year", "document", "item", "amount",
              "currency", "reason_code")
    currency = raw["currency"].upper()
    keys = {k: raw[k] for k in ("company_code", "fiscal_year", "document", "item")}
    item = _lookup(conn, open_items, system, keys, {"document": 10, "item": 3})
    where = f"{keys['company_code']}/{keys['document']}/{keys['fiscal_year']}/{keys['item']}"
    if item is None:
        msg = f"no open item {where} in system {system}"
        raise InputError(msg)
    if item["customer"].lstrip("0") != raw["customer"].lstrip("0"):
        msg = f"item {where} belongs to customer {item['customer']}, not {raw['customer']}"
        raise InputError(msg)
    if item["currency"].upper() != currency:
        msg = f"currency {currency} does not match the item's {item['currency']}"
        raise InputError(msg)
    amount = _amount(raw["amount"], "amount", currency)
    if amount <= 0:
        msg = "amount must be positive"
        raise InputError(msg)
    if amount > item["amount"]:
        open_amount = quantize(item["amount"], currency)
        msg = f"amount {amount} is above the open amount {open_amount} {currency}"
        raise InputError(msg)
    unique_key = f"{item['company_code']}/{item['document']}/{item['fiscal_year']}/{item['item']}"
    live = _live_claim(conn, system, unique_key)
    if live is not None:
        raise InputError(claimed_by(unique_key, live))
    earlier = _requested_before(conn, system, item)
    if earlier and amount + earlier > item["amount"]:
        msg = (f"amount {amount} plus {earlier} already requested in other batches is above"
               f" the open amount {quantize(item['amount'], currency)} {currency}")
        raise InputError(msg)
    reason = config.reason_codes.get(raw["reason_code"])
    if reason is None:
        known = ", ".join(sorted(config.reason_codes)) or "none configured"
        msg = f"unknown reason_code {raw['reason_code']!r} (known: {known})"
        raise InputError(msg)
    target = {"company_code": item["company_code"], "fiscal_year": item["fiscal_year"],
              "document": item["document"], "item": item["item"], "amount": str(amount),
              "currency": currency, "reason_code": reason.code, "gl_account": reason.gl_account,
              "text": (raw.get("text") or reason.text)[:50]}
    return Prepared(
        row_no=row_no, customer=item["customer"], currency=currency, target=target,
        seen={"open_amount": str(quantize(item["amount"], currency))}, authority_amount=amount,
        unique_key=unique_key,
    )


def order_claim(sales_order: str) -> str:
    """The claim key of a sales order (one live release batch per order)."""
    return f"order/{sales_order}"


def _blocked_order(conn: Connection, system: str, sales_order: str) -> Mapping[Any, Any]:
    """The synced order, given with or without leading zeros; InputError when unknown."""
    spellings = {sales_order, sales_order.zfill(10) if sales_order.isdigit() else sales_order}
    row = conn.execute(select(blocked_orders).where(
        blocked_orders.c.system == system,
        blocked_orders.c.sales_order.in_(sorted(spellings)))).mappings().first()
    if row is None:
        msg = f"no sales order {sales_order} in system {system} (run sync blocked_orders?)"
        raise InputError(msg)
    status = (row["credit_status"] or "").strip()
    if row["status"] != "open" or status not in BLOCKED_STATUSES:
        now = f"TotalCreditCheckStatus {status or 'blank'}" if row["status"] == "open" \
            else "no longer in SAP's blocked orders"
        msg = f"sales order {row['sales_order']} is not credit-blocked now ({now})"
        raise InputError(msg)
    if (row["rejection_status"] or "").strip() == REJECTED:
        msg = (f"sales order {row['sales_order']} is rejected in SAP (OverallSDDocumentRejectionSts "
               f"{REJECTED}): nothing left to release or reject")
        raise InputError(msg)
    return row


def _exposure(conn: Connection, system: str, customer: str, currency: str,
              order_value: Decimal) -> dict[str, Any]:
    """The customer's open receivables, its credit limit, and the exposure after release."""
    receivables = conn.execute(select(func.coalesce(func.sum(open_items.c.amount), 0)).where(
        open_items.c.system == system, open_items.c.customer == customer,
        open_items.c.currency == currency, open_items.c.status == "open")).scalar_one()
    segment = conn.execute(select(credit_segments.c.credit_segment, credit_segments.c.credit_limit)
                           .where(credit_segments.c.system == system,
                                  credit_segments.c.customer == customer,
                                  credit_segments.c.currency == currency,
                                  credit_segments.c.status == "open")
                           .order_by(credit_segments.c.credit_segment)).first()
    exposure = quantize(D(receivables), currency)
    limit = quantize(D(segment[1] or 0), currency) if segment else None
    after = exposure + order_value
    return {"receivables": str(exposure), "exposure_after": str(after),
            "credit_segment": segment[0] if segment else None,
            "credit_limit": str(limit) if limit is not None else None,
            "over_limit_by": str(after - limit) if limit is not None and after > limit else None}


def _release_action(raw: Mapping[str, str]) -> tuple[str, str | None]:
    action = raw["action"].lower()
    if action not in RELEASE_ACTIONS:
        msg = f"action must be release or reject, not {raw['action']!r}"
        raise InputError(msg)
    rejection = raw.get("rejection_reason") or None
    if action == "reject" and rejection is None:
        msg = "action reject needs a rejection_reason (SAP's rejection reason code)"
        raise InputError(msg)
    if action == "release" and rejection is not None:
        msg = "rejection_reason is only for action reject"
        raise InputError(msg)
    if rejection is not None and len(rejection) > 2:
        msg = f"rejection_reason {rejection!r} is longer than SAP's 2 characters"
        raise InputError(msg)
    return action, rejection


def validate_release(conn: Connection, system: str, raw: Mapping[str, str],
                     config: PushConfig, row_no: int) -> Prepared:
    """A credit-block release or rejection: the order is synced and blocked now."""
    _required(raw, "sales_order", "action", "reason")
    action, rejection = _release_action(raw)
    order = _blocked_order(conn, system, raw["sales_order"])
    sales_order, currency = order["sales_order"], (order["currency"] or "").upper()
    if order["net_amount"] is None or not currency:
        msg = f"sales order {sales_order} has no value or currency in the store"
        raise InputError(msg)
    value = quantize(order["net_amount"], currency)
    live = _live_claim(conn, system, order_claim(sales_order))
    if live is not None:
        msg = f"sales order {sales_order} is already requested in batch {live}" \
              " (one live batch per order)"
        raise InputError(msg)
    target = {"sales_order": sales_order, "action": action, "reason": raw["reason"],
              "rejection_reason": rejection, "order_value": str(value), "currency": currency}
    seen = {"credit_status": order["credit_status"], "order_value": str(value),
            "currency": currency,
            "changed_at": order["changed_at"].isoformat() if order["changed_at"] else None,
            **_exposure(conn, system, order["sold_to"], currency, value)}
    return Prepared(row_no=row_no, customer=order["sold_to"], currency=currency, target=target,
                    seen=seen, authority_amount=value, unique_key=order_claim(sales_order))
