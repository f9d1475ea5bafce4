"""One recoveries run: read, classify, write the files and record the run in the store.

The run's ``reconcile_runs`` row and its ``recovery_claims`` rows are written in one transaction
at the end, together with moving the output folder into place; the KPI report reads the latest
finished run of a system.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from sapbridge.audit import log as audit
from sapbridge.config import Settings
from sapbridge.reconcile.bulk import no_cyclic_gc
from sapbridge.reconcile.recoveries.classify import classify
from sapbridge.reconcile.recoveries.config import RecoveriesConfig
from sapbridge.reconcile.recoveries.inputs import read_claims, read_disputes
from sapbridge.reconcile.recoveries.model import RecoveriesResult, ResultRow
from sapbridge.reconcile.recoveries.outputs import build_outputs, publish, summarise, totals
from sapbridge.reconcile.recoveries.stored import load_store_disputes
from sapbridge.reconcile.tables import reconcile_runs, recovery_claims
from sapbridge.store import Store
from sapbridge.store.schema import customers

__all__ = ["KIND", "RunResult", "run_recoveries"]

KIND = "recoveries"
"""``reconcile_runs.kind`` of these runs."""


@dataclass(frozen=True, slots=True)
class RunResult:
    """What :func:`run_recoveries` returns."""

    run_id: str
    out: Path
    summary: dict[str, Any]
    """JSON-safe: counts and amounts (strings) per category and currency."""
    needs_review: int
    """Rows in categories that need a person's action."""
    result: RecoveriesResult


def run_recoveries(store: Store, settings: Settings, *, system: str, claims: Path, out: Path,
                   disputes: Path | None = None, as_of: date | None = None,
                   actor: str = "sapbridge") -> RunResult:
    """Reconcile the claims file against the system's dispute cases (or ``disputes``).

    Writes a CSV per category and ``recoveries.xlsx`` to ``out`` and records the run; on any
    error nothing is written and nothing recorded.
    """
    system_config = settings.system(system)
    system_name = system_config.name
    config = RecoveriesConfig.from_section(settings.section("recoveries"))
    started = datetime.now(UTC)
    day = as_of or system_config.business_date()
    run_id = str(uuid.uuid4())
    inputs = {"claims": str(claims), "disputes": str(disputes) if disputes else "store",
              "as_of": day.isoformat(), "config": config.as_dict()}
    with no_cyclic_gc():
        claim_records = read_claims(claims)
        cases = (read_disputes(disputes, config) if disputes is not None
                 else load_store_disputes(store, system_name, config))
        result = classify(claim_records, cases, config, day)
        sums = totals(result)
        summary = {"run_id": run_id, "system": system_name, **summarise(result, sums)}
        staging = build_outputs(result, Path(out), sums, _customer_names(store, system_name))
        try:
            with store.engine.begin() as conn:
                _record(conn, run_id=run_id, system=system_name, actor=actor, started=started,
                        inputs=inputs, summary=summary, result=result)
                publish(staging, Path(out))
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return RunResult(run_id=run_id, out=Path(out), summary=summary, needs_review=result.needs_review,
                     result=result)


def _customer_names(store: Store, system: str) -> dict[str, str]:
    """Customer number -> name of the system's customers in the store, for the workbook."""
    c = customers.c
    with store.engine.connect() as conn:
        return {row.customer: row.name for row in conn.execute(
            select(c.customer, c.name).where(c.system == system, c.status == "open", c.name.is_not(None)))}


_BATCH = 5000
"""Claim rows per INSERT."""


def _claim_row(run_id: str, system: str, row: ResultRow) -> dict[str, Any]:
    claim = row.claim
    assert claim is not None
    return {"run_id": run_id, "claim_id": claim.claim_id, "system": system,
            "customer": claim.customer, "currency": claim.currency, "claim_amount": claim.amount,
            "recovered_amount": claim.recovered_amount, "claim_status": claim.status,
            "category": row.category, "case_id": row.dispute.case_id if row.dispute is not None else None,
            "owner": row.owner}


def _record(conn: Connection, *, run_id: str, system: str, actor: str, started: datetime,
            inputs: dict[str, Any], summary: dict[str, Any], result: RecoveriesResult) -> None:
    conn.execute(insert(reconcile_runs).values(
        run_id=run_id, kind=KIND, system=system, actor=actor[:64], started_at=started,
        finished_at=datetime.now(UTC), inputs=json.dumps(inputs, sort_keys=True),
        summary=json.dumps(summary, sort_keys=True),
    ))
    claimed = [row for row in result.rows if row.claim is not None]
    for start in range(0, len(claimed), _BATCH):  # a batch of dicts at a time, not 200k at once
        conn.execute(insert(recovery_claims), [_claim_row(run_id, system, row)
                                               for row in claimed[start:start + _BATCH]])
    audit.record(conn, action="reconcile_recoveries", actor=actor[:64], run_id=run_id, detail=summary)
