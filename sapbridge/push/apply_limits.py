"""Apply one credit-limit change over OData, exactly once.

Read the account (value and ETag); if SAP already holds the target, the change is done (an
earlier run's response was lost) and is not sent again; if SAP's limit differs from the one
seen at request time, the row is stale. Otherwise commit ``in_flight``, PATCH with
``If-Match`` (a 412 makes the row stale, never retried blindly), and read back to verify.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NoReturn

from sapbridge.errors import FatalError, PreconditionFailedError, RetriableError
from sapbridge.money import D
from sapbridge.push.controls import failpoint
from sapbridge.push.outcome import (
    ApplyContext,
    Event,
    RowOutcome,
    SapUnreachable,
    mark_in_flight,
    settle,
)
from sapbridge.push.sap import (
    CREDIT_SERVICE,
    CREDIT_SET,
    CreditAccount,
    read_credit_account,
    to_sap_date,
)
from sapbridge.push.state import Row

__all__ = ["apply_limit", "limit_verdict", "matches_target"]


def matches_target(account: CreditAccount, target: dict[str, Any]) -> bool:
    """True when SAP holds the requested limit (and validity end, when one was requested)."""
    if account.limit != D(target["new_limit"]):
        return False
    wanted = target.get("valid_to")
    return wanted is None or account.valid_to == date.fromisoformat(wanted)


def limit_verdict(row: Row, account: CreditAccount) -> str:
    """``already`` (SAP holds the target), ``stale`` (changed since request) or ``change``."""
    if matches_target(account, row.target):
        return "already"
    if account.limit != D(row.seen["credit_limit"]):
        return "stale"
    return "change"


def _after(row: Row) -> dict[str, Any]:
    return {"credit_limit": row.target["new_limit"], "valid_to": row.target.get("valid_to")}


def _patch_body(row: Row) -> dict[str, Any]:
    body: dict[str, Any] = {"CreditLimitAmount": row.target["new_limit"]}
    if row.target.get("valid_to"):
        body["CreditLimitValidityEndDate"] = to_sap_date(date.fromisoformat(row.target["valid_to"]))
    return body


def _unreachable(ctx: ApplyContext, row: Row, exc: Exception,
                 before: dict[str, Any]) -> NoReturn:
    message = f"SAP did not answer ({exc}); outcome unknown, re-run to resolve"
    outcome = settle(ctx, row, None, [Event("failed", before=before, after=_after(row))],
                     outcome="unknown", message=message)
    raise SapUnreachable(outcome) from exc


def apply_limit(ctx: ApplyContext, row: Row) -> RowOutcome:
    """Apply one limit change; see the module docstring for the steps."""
    keys = {"BusinessPartner": row.customer, "CreditSegment": row.target["credit_segment"]}
    try:
        account, etag = read_credit_account(ctx.odata, row.customer, row.target["credit_segment"])
    except RetriableError as exc:
        _unreachable(ctx, row, exc, {})
    before = account.as_dict()
    verdict = limit_verdict(row, account)
    if verdict == "already":
        recovered = row.state == "in_flight"
        action = "applied" if recovered else "skipped"
        msg = ("found applied in SAP after an interrupted run" if recovered
               else "SAP already holds the requested limit")
        events = [Event(action, before=row.seen, after=before, detail={"recovered": recovered})]
        if recovered:
            events.append(Event("verified", after=before))
        return settle(ctx, row, "done", events, outcome="recovered" if recovered else "already",
                      message=msg)
    if verdict == "stale":
        msg = f"SAP limit is {account.limit}, was {row.seen['credit_limit']} when requested"
        return settle(ctx, row, "stale", [Event("stale", before=before, after=_after(row))],
                      outcome="stale", message=msg)
    mark_in_flight(ctx, row)
    failpoint("limit_before_patch")
    try:
        ctx.odata.patch_entity(CREDIT_SERVICE, CREDIT_SET, keys, _patch_body(row), etag=etag)
    except PreconditionFailedError:
        msg = "SAP answered 412: the account changed since it was read"
        return settle(ctx, row, "stale", [Event("stale", before=before, after=_after(row))],
                      outcome="stale", message=msg)
    except RetriableError as exc:
        _unreachable(ctx, row, exc, before)
    except FatalError as exc:
        return settle(ctx, row, "failed", [Event("failed", before=before, after=_after(row))],
                      outcome="failed", message=str(exc))
    failpoint("limit_after_patch")
    try:
        check, _ = read_credit_account(ctx.odata, row.customer, row.target["credit_segment"])
    except RetriableError as exc:
        _unreachable(ctx, row, exc, before)
    if not matches_target(check, row.target):
        msg = f"read-back shows limit {check.limit}, expected {row.target['new_limit']}"
        return settle(ctx, row, "failed", [Event("failed", before=before, after=check.as_dict())],
                      outcome="failed", message=msg)
    events = [Event("applied", before=before, after=_after(row)),
              Event("verified", after=check.as_dict())]
    return settle(ctx, row, "done", events, outcome="applied")
