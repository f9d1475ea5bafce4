"""Release a sales order from its credit block, or reject it, exactly once.

Read the order first: when SAP already shows the outcome (credit status D after a release, the
order rejected after a rejection) and this row was in flight, an earlier run's call went through
and nothing is sent again; when SAP shows it but the row was never sent, someone else decided
in the meantime and the row is stale, as it is when the order's value, currency, status or last
change differ from what the store showed at request time. Otherwise commit ``in_flight``, call
the function import (POST with a CSRF token) or the site's RFC wrapper, refuse on an error
message, and read the order back to verify. Every name sent comes from the release mapping.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy.engine import Engine

from sapbridge.errors import FatalError, RetriableError, SapHttpError
from sapbridge.money import D
from sapbridge.push.apply_writeoffs import bapi_errors
from sapbridge.push.controls import failpoint
from sapbridge.push.outcome import (
    ApplyContext,
    Event,
    RowOutcome,
    SapUnreachable,
    mark_in_flight,
    settle,
)
from sapbridge.push.release_mapping import ReleaseMapping
from sapbridge.push.sap import ODataLike, OrderState, RfcLike, read_order
from sapbridge.push.state import Row, approvals_for
from sapbridge.push.validate import BLOCKED_STATUSES, REJECTED

__all__ = ["apply_release", "decided_in_sap", "release_after", "release_verdict",
           "try_read_order"]

RELEASED = "D"
"""TotalCreditCheckStatus of an order released by a credit representative."""
_ERROR_TYPES = {"E", "A", "X"}


def decided_in_sap(order: OrderState, action: str) -> bool:
    """True when SAP shows the row's action done: released (D) or rejected."""
    if action == "release":
        return order.credit_status == RELEASED
    return order.rejection_status == REJECTED


def _changed(row: Row, order: OrderState) -> str:
    """What differs from the order as requested, or ''."""
    seen = row.seen
    if order.credit_status not in BLOCKED_STATUSES:
        return f"credit status is {order.credit_status or 'blank'}, not blocked"
    if order.rejection_status == REJECTED:
        return "the order was rejected"
    if order.value != D(seen["order_value"]) or order.currency != seen["currency"]:
        return (f"order value is {order.value} {order.currency}, was {seen['order_value']}"
                f" {seen['currency']}")
    if seen.get("changed_at") and order.changed_at is not None \
            and order.changed_at != datetime.fromisoformat(seen["changed_at"]):
        return f"order changed in SAP at {order.changed_at.isoformat()}"
    return ""


def release_verdict(row: Row, order: OrderState | None) -> str:
    """``already`` (our interrupted call went through), ``stale`` or ``change``."""
    if order is None:
        return "stale"
    if decided_in_sap(order, row.target["action"]):
        return "already" if row.state == "in_flight" else "stale"
    return "stale" if _changed(row, order) else "change"


def _stale_message(row: Row, order: OrderState | None) -> str:
    if order is None:
        return f"sales order {row.target['sales_order']} not found in SAP"
    if decided_in_sap(order, row.target["action"]):
        done = "released" if row.target["action"] == "release" else "rejected"
        return f"{done} in SAP by someone else since the request"
    return f"order changed since the request: {_changed(row, order)}"


def try_read_order(odata: ODataLike, names: ReleaseMapping, sales_order: str) -> OrderState | None:
    """The order, or None when SAP answers 404 (retriable errors propagate)."""
    try:
        return read_order(odata, names, sales_order)
    except SapHttpError as exc:
        if getattr(exc, "status", None) == 404:
            return None
        raise


def release_after(row: Row) -> dict[str, Any]:
    """The outcome the row asks for, for plans and audit entries."""
    t = row.target
    after: dict[str, Any] = {"action": t["action"]}
    if t["action"] == "release":
        after["credit_status"] = RELEASED
    else:
        after["rejection_status"] = REJECTED
        after["rejection_reason"] = t.get("rejection_reason")
    return after


def _override_detail(engine: Engine, row: Row) -> dict[str, Any]:
    """Who overrode which block for how much: what the blocked-order KPIs read."""
    with engine.connect() as conn:
        approvers = sorted({u for u, d, _ in approvals_for(conn, row.batch_id) if d == "approved"})
    t = row.target
    return {"sales_order": t["sales_order"], "action": t["action"],
            "order_value": t["order_value"], "currency": t["currency"],
            "rejection_reason": t.get("rejection_reason"), "reason": t["reason"],
            "approvers": approvers, "approver": ", ".join(approvers)}


def _unreachable(ctx: ApplyContext, row: Row, exc: Exception) -> NoReturn:
    message = f"SAP did not answer ({exc}); outcome unknown, re-run to resolve"
    outcome = settle(ctx, row, None, [Event("failed", after=release_after(row))],
                     outcome="unknown", message=message)
    raise SapUnreachable(outcome) from exc


def _odata_call(odata: ODataLike, names: ReleaseMapping, row: Row) -> list[str]:
    """POST the function import; the error messages of its ReturnMessage."""
    t = row.target
    function = names.release_function if t["action"] == "release" else names.reject_function
    params = {names.document_parameter: f"'{t['sales_order'].lstrip('0')}'",
              names.category_parameter: f"'{names.category}'"}
    if t["action"] == "reject":
        params[names.rejection_parameter] = f"'{t['rejection_reason']}'"
    result = odata.post(names.service, function, params=params)
    message = result.get(function, result)
    if isinstance(message, dict) and str(message.get("MessageType", "")).upper() in _ERROR_TYPES:
        return [str(message.get("Message") or f"{function} answered {message['MessageType']}")]
    return []


def _rfc_call(rfc: RfcLike | None, names: ReleaseMapping, row: Row) -> list[str]:
    """Call the site's remote-enabled wrapper; the E/A messages of its RETURN."""
    if rfc is None:
        msg = "no RFC connection: [push] release_route = 'rfc' needs RFC"
        raise FatalError(msg)
    t = row.target
    function = (names.rfc_release_function if t["action"] == "release"
                else names.rfc_reject_function)
    params = {names.rfc_document_parameter: t["sales_order"]}
    if t["action"] == "reject":
        params[names.rfc_rejection_parameter] = t["rejection_reason"]
    return bapi_errors(rfc.call_unchecked(function, **params))


def _call(ctx: ApplyContext, row: Row) -> list[str]:
    names = ctx.config.releases
    if ctx.config.release_route == "rfc":
        return _rfc_call(ctx.rfc, names, row)
    return _odata_call(ctx.odata, names, row)


def apply_release(ctx: ApplyContext, row: Row) -> RowOutcome:
    """Release or reject one order; see the module docstring for the steps."""
    names, order_no = ctx.config.releases, row.target["sales_order"]
    try:
        order = try_read_order(ctx.odata, names, order_no)
    except RetriableError as exc:
        _unreachable(ctx, row, exc)
    before = order.as_dict() if order else {}
    detail = _override_detail(ctx.engine, row)
    verdict = release_verdict(row, order)
    if verdict == "already":
        events = [Event("applied", before=row.seen, after=before,
                        detail={**detail, "recovered": True}),
                  Event("verified", after=before, detail=detail)]
        return settle(ctx, row, "done", events, outcome="recovered",
                      message="found decided in SAP after an interrupted run")
    if verdict == "stale":
        msg = _stale_message(row, order)
        return settle(ctx, row, "stale", [Event("stale", before=before, after=release_after(row),
                                                detail=detail)],
                      outcome="stale", message=msg)
    mark_in_flight(ctx, row)
    failpoint("release_before_call")
    try:
        errors = _call(ctx, row)
    except RetriableError as exc:
        _unreachable(ctx, row, exc)
    except FatalError as exc:
        errors = [str(exc)]
    if errors:
        return settle(ctx, row, "failed", [Event("failed", before=before, after=release_after(row),
                                                 detail={**detail, "messages": errors})],
                      outcome="failed", message="SAP refused: " + "; ".join(errors))
    failpoint("release_after_call")
    try:
        check = try_read_order(ctx.odata, names, order_no)
    except RetriableError as exc:
        _unreachable(ctx, row, exc)
    if check is None or not decided_in_sap(check, row.target["action"]):
        shown = check.as_dict() if check else {}
        msg = f"read-back does not show the order {row.target['action']}d: {shown}"
        return settle(ctx, row, "failed", [Event("failed", before=before, after=shown,
                                                 detail=detail)],
                      outcome="failed", message=msg)
    events = [Event("applied", before=before, after=release_after(row), detail=detail),
              Event("verified", after=check.as_dict(), detail=detail)]
    return settle(ctx, row, "done", events, outcome="applied")
