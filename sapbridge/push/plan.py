"""Plan a batch (the default, a dry run): read SAP now, show before and after per row, and
mark rows whose SAP value changed since the request (stale). Nothing is sent to SAP.

A plan is refused, like an apply, when the batch is not what the audit log proves, or when it
claims to be approved without the audited approvals to show for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from sapbridge.audit.log import record
from sapbridge.push.apply_limits import limit_verdict
from sapbridge.push.apply_releases import release_after, release_verdict, try_read_order
from sapbridge.push.apply_writeoffs import writeoff_verdict
from sapbridge.push.approval import approvals_problem
from sapbridge.push.authority import PushConfig
from sapbridge.push.controls import refuse
from sapbridge.push.proof import prove_or_refuse
from sapbridge.push.sap import ODataLike, find_posted_document, read_credit_account, read_item
from sapbridge.push.state import Row, load_batch, load_rows

__all__ = ["Plan", "PlanRow", "plan_batch"]


@dataclass(frozen=True, slots=True)
class PlanRow:
    """One row of a plan. ``verdict``: change, stale, already, done, failed."""

    row_no: int
    customer: str
    ref: str
    verdict: str
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Plan:
    """What applying the batch would do now."""

    batch_id: str
    kind: str
    status: str
    rows: tuple[PlanRow, ...]

    @property
    def stale(self) -> list[int]:
        """Row numbers SAP changed since the request."""
        return [r.row_no for r in self.rows if r.verdict == "stale"]


def _plan_limit(odata: ODataLike, row: Row) -> PlanRow:
    t = row.target
    after = {"credit_limit": t["new_limit"], "valid_to": t.get("valid_to")}
    ref = f"{row.customer}/{t['credit_segment']}"
    if row.state == "done":
        return PlanRow(row.row_no, row.customer, ref, "done", row.seen, after)
    account, _ = read_credit_account(odata, row.customer, t["credit_segment"])
    return PlanRow(row.row_no, row.customer, ref, limit_verdict(row, account),
                   account.as_dict(), after)


def _plan_writeoff(odata: ODataLike, row: Row) -> PlanRow:
    t = row.target
    after = {"write_off": t["amount"], "currency": t["currency"], "gl_account": t["gl_account"]}
    ref = f"{t['company_code']}/{t['document']}/{t['fiscal_year']}/{t['item']}"
    if row.state == "done":
        return PlanRow(row.row_no, row.customer, ref, "done", row.seen, after)
    if find_posted_document(odata, t["company_code"], row.idem_key):
        return PlanRow(row.row_no, row.customer, ref, "already", row.seen, after)
    item = read_item(odata, t["company_code"], t["fiscal_year"], t["document"], t["item"])
    before = {"open_amount": str(item.amount) if item else None,
              "cleared": item.cleared if item else None}
    return PlanRow(row.row_no, row.customer, ref, writeoff_verdict(row, item), before, after)


def _plan_release(odata: ODataLike, config: PushConfig, row: Row) -> PlanRow:
    """Before: the order in SAP now, and the customer's exposure after release vs its limit."""
    t = row.target
    ref = f"order {t['sales_order']}"
    exposure = {k: row.seen.get(k) for k in ("exposure_after", "credit_limit", "over_limit_by")}
    after = release_after(row)
    if row.state == "done":
        return PlanRow(row.row_no, row.customer, ref, "done", row.seen, after)
    order = try_read_order(odata, config.releases, t["sales_order"])
    before = {**(order.as_dict() if order else {"credit_status": None}), **exposure}
    return PlanRow(row.row_no, row.customer, ref, release_verdict(row, order), before, after)


def _check(engine: Engine, batch_id: str, config: PushConfig, actor: str,
           run_id: str) -> None:
    proven = prove_or_refuse(engine, batch_id, config, actor=actor, run_id=run_id,
                             attempted="plan")
    if proven.batch.status in {"approved", "partial", "done"}:
        control, problem = approvals_problem(proven, config)
        if problem:
            refuse(engine, problem, control=control, attempted="plan", actor=actor,
                   run_id=run_id, batch_id=batch_id)


def _plan_row(odata: ODataLike, config: PushConfig, kind: str, row: Row) -> PlanRow:
    if kind == "releases":
        return _plan_release(odata, config, row)
    return _plan_limit(odata, row) if kind == "limits" else _plan_writeoff(odata, row)


def plan_batch(engine: Engine, batch_id: str, *, odata: ODataLike, actor: str, run_id: str,
               config: PushConfig) -> Plan:
    """Read SAP for every row and record the plan (and stale rows) in the audit log."""
    _check(engine, batch_id, config, actor, run_id)
    with engine.connect() as conn:
        batch = load_batch(conn, batch_id)
        rows = load_rows(conn, batch_id)
    planned = tuple(_plan_row(odata, config, batch.kind, row) for row in rows)
    with engine.begin() as conn:
        for p in planned:
            record(conn, action="planned", actor=actor, run_id=run_id, batch_id=batch_id,
                   row_no=p.row_no, customer=p.customer, before=p.before, after=p.after,
                   detail={"verdict": p.verdict, "ref": p.ref})
            if p.verdict == "stale":
                record(conn, action="stale", actor=actor, run_id=run_id, batch_id=batch_id,
                       row_no=p.row_no, customer=p.customer, before=p.before, after=p.after,
                       message="SAP value changed since the request")
    return Plan(batch_id, batch.kind, batch.status, planned)
