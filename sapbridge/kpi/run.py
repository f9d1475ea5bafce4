"""One KPI report run: read the store, compute, write the files, remember the headline figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from sapbridge.config import Settings
from sapbridge.errors import InputError
from sapbridge.kpi.collections import CollectionsInputs
from sapbridge.kpi.collections_queries import (
    load_collectors,
    load_dunning_levels,
    load_promises,
    load_releases,
    load_segments,
    load_waiting_orders,
)
from sapbridge.kpi.config import KpiConfig, parse_kpi_config
from sapbridge.kpi.outputs import check_out_dir, publish_report
from sapbridge.kpi.queries import (
    first_sync_date,
    known_company_codes,
    load_customer_names,
    load_disputes,
    load_items,
    load_orders,
    load_recovery_claims,
    load_snapshots,
)
from sapbridge.kpi.report import KpiInputs, KpiReport, build_report, earliest_day_needed, summary_of
from sapbridge.kpi.tables import kpi_snapshots
from sapbridge.store import Store

__all__ = ["KpiResult", "compute_report", "run_kpi_report"]


@dataclass(frozen=True, slots=True)
class KpiResult:
    """What a report run produced."""

    report: KpiReport
    files: list[Path]
    summary: dict[str, Any] = field(default_factory=dict)
    """JSON-safe: money and ratios as decimal strings."""


def _today() -> date:
    return datetime.now(UTC).date()


def _company_codes(conn: Connection, settings: Settings, system: str,
                   wanted: Sequence[str] | None) -> list[str]:
    stored = known_company_codes(conn, system)
    if not stored:
        msg = (f"no open items of system {system} in the store; "
               f"run `sapbridge sync all --system {system}` first")
        raise InputError(msg)
    known = stored | set(settings.system(system).company_codes)
    if not wanted:
        return sorted(stored)
    unknown = [code for code in wanted if code not in known]
    if unknown:
        raise InputError(f"unknown company code(s) {', '.join(unknown)} for system {system} "
                         f"(known: {', '.join(sorted(known))})")
    return sorted(set(wanted))


def _read_inputs(conn: Connection, system: str, codes: list[str], as_of: date, cfg: KpiConfig) -> KpiInputs:
    run, claims = load_recovery_claims(conn, system)
    return KpiInputs(
        items=load_items(conn, system, codes, as_of=as_of, since=earliest_day_needed(as_of, cfg)),
        orders=load_orders(conn, system), disputes=load_disputes(conn, system, codes),
        recovery_run=run, recovery_claims=claims, history=load_snapshots(conn, system, codes),
        first_sync=first_sync_date(conn, system), customer_names=load_customer_names(conn, system),
        collections=_collections_inputs(conn, system, codes),
    )


def _collections_inputs(conn: Connection, system: str, codes: list[str]) -> CollectionsInputs:
    return CollectionsInputs(
        promises=load_promises(conn, system, codes), segments=load_segments(conn, system),
        collectors=load_collectors(conn, system), dunning=load_dunning_levels(conn, system, codes),
        waiting_orders=load_waiting_orders(conn, system), releases=load_releases(conn, system),
    )


def _snapshot_rows(report: KpiReport) -> list[dict[str, Any]]:
    rows = []
    for row, d, reserve in report.headline():
        rows.append({
            "run_at": report.generated_at, "system": report.system, "as_of": report.as_of,
            "company_code": row.company_code, "currency": row.currency, "ar_total": row.total,
            "past_due": row.past_due, "past_due_percent": row.past_due_percent,
            "dso_simple": d.dso_simple, "dso_countback": d.countback.days if d.countback else None,
            "best_possible_dso": d.best_possible_dso, "average_days_delinquent": d.average_days_delinquent,
            "cei_percent": d.cei_percent, "reserve": reserve,
        })
    return rows


def _round_for_storage(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ratios of a snapshot to 6 places (the NUMERIC(28, 6) of PostgreSQL, same on SQLite)."""
    step = Decimal("0.000001")
    return [{k: v.quantize(step) if isinstance(v, Decimal) else v for k, v in row.items()} for row in rows]


def compute_report(store: Store, settings: Settings, *, system: str, as_of: date | None = None,
                   company_codes: Sequence[str] | None = None) -> KpiReport:
    """Every KPI of ``system`` at ``as_of`` (default: the system's key date or today), not written anywhere.

    ``as_of`` may not lie after the later of today and the system's key date.
    """
    system_config = settings.system(system)
    cfg = parse_kpi_config(settings.section("kpi"))
    latest = system_config.business_date()
    day = as_of or latest
    if day > max(_today(), latest):
        raise InputError(f"--as-of {day} is in the future")
    with store.engine.connect() as conn:
        codes = _company_codes(conn, settings, system, company_codes)
        inputs = _read_inputs(conn, system, codes, day, cfg)
    return build_report(inputs, system=system, as_of=day, company_codes=codes, cfg=cfg,
                        generated_at=datetime.now(UTC))


def run_kpi_report(store: Store, settings: Settings, *, system: str, out: Path, as_of: date | None = None,
                   company_codes: Sequence[str] | None = None) -> KpiResult:
    """Compute every KPI of ``system`` at ``as_of`` and write ``kpis.xlsx`` and ``kpis.html`` to ``out``.

    ``as_of`` defaults to the system's fixed key date (the demo's recording date) or today, and
    may not lie after the later of the two.
    The run's headline figures are stored in ``kpi_snapshots`` after the files are in place.
    """
    out = Path(out)
    check_out_dir(out)
    report = compute_report(store, settings, system=system, as_of=as_of, company_codes=company_codes)
    files = publish_report(report, out)
    rows = _round_for_storage(_snapshot_rows(report))
    if rows:
        with store.engine.begin() as conn:
            conn.execute(kpi_snapshots.insert(), rows)
    summary = summary_of(report)
    summary["files"] = [str(path) for path in files]
    return KpiResult(report=report, files=files, summary=summary)
