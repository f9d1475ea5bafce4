"""Assembling every KPI of one report run into a :class:`KpiReport`, and its JSON summary.

:func:`build_report` is pure: rows from :mod:`sapbridge.kpi.queries` in, figures out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sapbridge.kpi.activity import (
    BlockedRow,
    DisputeBucketRow,
    RecoveryRow,
    blocked_orders_summary,
    disputes_by_age,
    disputes_by_reason,
    open_disputes,
    recovery_rates,
)
from sapbridge.kpi.collections import CollectionsInputs, CollectionsReport, build_collections
from sapbridge.kpi.config import KpiConfig, bucket_labels
from sapbridge.kpi.periods import month_ends, shift_months
from sapbridge.kpi.queries import (
    DisputeRow,
    ItemRow,
    OrderRow,
    RecoveryClaimRow,
    RecoveryRun,
    SnapshotRow,
)
from sapbridge.kpi.receivables import (
    AgingRow,
    DsoRow,
    ReserveRow,
    SalesIndex,
    TrendPoint,
    aging,
    dso_figures,
    reserves,
    trend,
)
from sapbridge.money import ZERO, quantize

__all__ = [
    "KpiInputs",
    "KpiReport",
    "build_report",
    "earliest_day_needed",
    "latest_per_report_date",
    "ratio",
    "summary_of",
    "worklist_rows",
]

NO_RECOVERIES = "no recoveries run yet"


@dataclass(frozen=True, slots=True)
class KpiInputs:
    """Everything read from the store for one report."""

    items: Sequence[ItemRow]
    orders: Sequence[OrderRow] = ()
    disputes: Sequence[DisputeRow] = ()
    recovery_run: RecoveryRun | None = None
    recovery_claims: Sequence[RecoveryClaimRow] = ()
    history: Sequence[SnapshotRow] = ()
    first_sync: date | None = None
    customer_names: Mapping[str, str] = field(default_factory=dict)
    collections: CollectionsInputs = field(default_factory=CollectionsInputs)
    """Promises, credit accounts, collectors, dunning, waiting orders, releases (items: ``items``)."""


@dataclass(frozen=True, slots=True)
class KpiReport:
    """The figures of one report run."""

    system: str
    as_of: date
    generated_at: datetime
    company_codes: tuple[str, ...]
    config: KpiConfig
    aging: list[AgingRow]
    customer_aging: list[AgingRow]
    dso: list[DsoRow]
    trend: list[TrendPoint]
    reserves: list[ReserveRow]
    blocked: list[BlockedRow]
    disputes_by_age: list[DisputeBucketRow]
    disputes_by_reason: list[DisputeBucketRow]
    recovery_run: RecoveryRun | None
    recoveries: list[RecoveryRow]
    history: list[SnapshotRow]
    """Earlier runs: the newest per report date, company code and currency."""
    notes: list[str] = field(default_factory=list)
    customer_names: Mapping[str, str] = field(default_factory=dict)
    """Customer number -> name, shown beside the numbers."""
    collections: CollectionsReport = field(default_factory=CollectionsReport)
    """Broken promises, worklist, credit exposure, top debtors, overrides by approver."""

    def name_of(self, customer: str) -> str:
        """The customer's name, or '' when the store has none."""
        return self.customer_names.get(customer, "")

    @property
    def bucket_labels(self) -> list[str]:
        """Names of the aging buckets."""
        return bucket_labels(self.config.aging_edges)

    def headline(self) -> list[tuple[AgingRow, DsoRow, Decimal]]:
        """Per company code and currency: its aging, its DSO figures and its bad-debt reserve."""
        dso = {(r.company_code, r.currency): r for r in self.dso}
        reserve = {(r.company_code, r.currency): r.total for r in self.reserves}
        return [(row, dso[(row.company_code, row.currency)], reserve[(row.company_code, row.currency)])
                for row in self.aging]


def latest_per_report_date(history: Sequence[SnapshotRow]) -> list[SnapshotRow]:
    """The newest stored run for each report date, company code and currency, by report date."""
    latest: dict[tuple[date, str, str], SnapshotRow] = {}
    for snap in sorted(history, key=lambda s: s.run_at):
        latest[(snap.as_of, snap.company_code, snap.currency)] = snap
    return [latest[key] for key in sorted(latest)]


def earliest_day_needed(as_of: date, cfg: KpiConfig) -> date:
    """The first day whose AR or sales any figure of the report looks at."""
    oldest_end = min([as_of, *month_ends(as_of, cfg.trend_months)])
    reach = max(cfg.dso_months, cfg.countback_months, cfg.cei_months)
    return shift_months(oldest_end, -reach)


def ratio(value: Decimal | None, places: int = 1) -> Decimal | None:
    """A KPI rounded for display (DSO to 1 place, percentages to 2)."""
    if value is None:
        return None
    return value.quantize(Decimal(1).scaleb(-places))


def _notes(inputs: KpiInputs, as_of: date, cfg: KpiConfig, dso: list[DsoRow]) -> list[str]:
    notes = ["Amounts are in company-code currency where sync stored it, else in document currency; "
             "every figure is per company code and currency, never summed across currencies."]
    if inputs.first_sync is not None and inputs.first_sync > earliest_day_needed(as_of, cfg):
        notes.append(
            f"The store's history starts on {inputs.first_sync} (the first sync, or the oldest "
            "clearing of the cleared items synced): items settled "
            "before then are unknown, so credit sales of earlier months count only invoices still "
            "open at that sync, and DSO/CEI for periods reaching before it are overstated.")
    for row in dso:
        if row.countback is not None and not row.countback.exhausted:
            notes.append(f"Countback DSO of {row.company_code} {row.currency} is a lower bound: "
                         f"AR exceeds the credit sales of the {row.countback.months_used} month(s) "
                         "with sales before the report date.")
    if inputs.recovery_run is None:
        notes.append(f"Recovery rate: {NO_RECOVERIES}.")
    return notes


def build_report(inputs: KpiInputs, *, system: str, as_of: date, company_codes: Sequence[str],
                 cfg: KpiConfig, generated_at: datetime) -> KpiReport:
    """Every KPI at ``as_of`` from the rows read for the report."""
    index = SalesIndex(inputs.items, cfg.invoice_document_types)
    group_aging = aging(inputs.items, as_of, cfg.aging_edges)
    dso = dso_figures(inputs.items, as_of, cfg, index)
    cases = open_disputes(inputs.disputes, as_of, cfg)
    return KpiReport(
        system=system, as_of=as_of, generated_at=generated_at, company_codes=tuple(company_codes),
        config=cfg, aging=group_aging,
        customer_aging=aging(inputs.items, as_of, cfg.aging_edges, by_customer=True),
        dso=dso, trend=trend(inputs.items, as_of, cfg, index),
        reserves=reserves(group_aging, cfg.reserve_rates),
        blocked=blocked_orders_summary(inputs.orders, as_of, cfg, company_codes),
        disputes_by_age=disputes_by_age(cases, as_of, cfg.aging_edges),
        disputes_by_reason=disputes_by_reason(cases),
        recovery_run=inputs.recovery_run, recoveries=recovery_rates(inputs.recovery_claims),
        history=latest_per_report_date(inputs.history), notes=_notes(inputs, as_of, cfg, dso),
        customer_names=dict(inputs.customer_names),
        collections=build_collections(replace(inputs.collections, items=inputs.items), as_of, cfg),
    )


def _money(amount: Decimal, currency: str) -> str:
    return str(quantize(amount, currency))


def _text(value: Decimal | None, places: int = 1) -> str | None:
    rounded = ratio(value, places)
    return None if rounded is None else str(rounded)


def _receivables(report: KpiReport) -> list[dict[str, Any]]:
    result = []
    for row, figures, reserve in report.headline():
        cur = row.currency
        result.append({
            "company_code": row.company_code, "currency": cur,
            "ar_total": _money(row.total, cur), "past_due": _money(row.past_due, cur),
            "past_due_percent": _text(row.past_due_percent, 2),
            "aging": {label: _money(amount, cur) for label, amount in zip(report.bucket_labels, row.buckets,
                                                                          strict=True)},
            "credit_sales": _money(figures.credit_sales, cur), "period_days": figures.period_days,
            "dso_simple": _text(figures.dso_simple),
            "dso_countback": _text(figures.countback.days if figures.countback else None),
            "countback_exhausted": figures.countback.exhausted if figures.countback else None,
            "best_possible_dso": _text(figures.best_possible_dso),
            "average_days_delinquent": _text(figures.average_days_delinquent),
            "cei_percent": _text(figures.cei_percent, 2),
            "bad_debt_reserve": _money(reserve, cur),
        })
    return result


def _blocked(report: KpiReport) -> list[dict[str, Any]]:
    return [{
        "company_code": r.company_code, "currency": r.currency, "blocked_count": r.blocked_count,
        "blocked_value": _money(r.blocked_value, r.currency),
        "blocked_days_average": _text(r.blocked_days_average),
        "released_by_credit_rep_count": r.overrides_count,
        "released_by_credit_rep_value": _money(r.overrides_value, r.currency),
        "released_otherwise_count": r.other_releases_count,
        "days_to_release_average": _text(r.days_to_release_average),
        "days_to_release_max": _text(r.days_to_release_max),
    } for r in report.blocked]


def _disputes(report: KpiReport) -> dict[str, Any]:
    totals: dict[str, tuple[int, Decimal]] = {}
    for row in report.disputes_by_age:
        count, amount = totals.get(row.currency, (0, ZERO))
        totals[row.currency] = (count + row.count, amount + row.amount)

    def rows(items: list[DisputeBucketRow]) -> list[dict[str, Any]]:
        return [{"currency": r.currency, "label": r.label, "count": r.count,
                 "amount": _money(r.amount, r.currency)} for r in items]

    return {
        "open": [{"currency": cur, "count": count, "amount": _money(amount, cur)}
                 for cur, (count, amount) in sorted(totals.items())],
        "by_age": rows(report.disputes_by_age), "by_reason": rows(report.disputes_by_reason),
    }


def _recoveries(report: KpiReport) -> dict[str, Any]:
    if report.recovery_run is None:
        return {"status": NO_RECOVERIES}
    return {
        "status": "ok", "run_id": report.recovery_run.run_id,
        "finished_at": report.recovery_run.finished_at.isoformat(),
        "by_currency": [{
            "currency": r.currency, "claims": r.claims, "claimed": _money(r.claimed, r.currency),
            "recovered": _money(r.recovered, r.currency), "rate_percent": _text(r.rate_percent, 2),
            "rejected_claims": r.rejected_claims,
        } for r in report.recoveries],
    }


def _count_amounts(rows: Sequence[Any]) -> list[dict[str, Any]]:
    return [{"currency": r.currency, "label": r.label, "count": r.count,
             "amount": _money(r.amount, r.currency)} for r in rows]


def _broken_promises(report: KpiReport) -> dict[str, Any]:
    c = report.collections
    return {
        "by_age": _count_amounts(c.broken_by_age), "by_collector": _count_amounts(c.broken_by_collector),
        "kept_rate": [{"currency": k.currency, "due": k.due, "kept": k.kept,
                       "kept_percent": _text(k.percent, 2)} for k in c.kept_rates],
        "promises": [{"company_code": b.company_code, "customer": b.customer,
                      "name": report.name_of(b.customer), "collector": b.collector, "currency": b.currency,
                      "promised": _money(b.promised, b.currency), "paid": _money(b.paid, b.currency),
                      "shortfall": _money(b.shortfall, b.currency),
                      "due_date": b.due_on.isoformat() if b.due_on else None,
                      "days_broken": b.days_broken, "level": b.level} for b in c.broken],
    }


def worklist_rows(report: KpiReport, collector: str | None = None) -> list[dict[str, Any]]:
    """The collections worklist as JSON-safe rows, optionally one collector's only."""
    labels = report.bucket_labels[1:]
    return [{
        "company_code": w.company_code, "rank": w.rank, "customer": w.customer,
        "name": report.name_of(w.customer), "collector": w.collector, "currency": w.currency,
        "score": str(w.score), "overdue": _money(w.overdue, w.currency),
        "overdue_by_bucket": {label: _money(v, w.currency)
                              for label, v in zip(labels, w.overdue_buckets, strict=True)},
        "oldest_days_past_due": w.oldest_days, "broken_promises": w.broken_promises,
        "risk_class": w.risk_class, "dunning_level": w.dunning_level, "blocked_orders": w.blocked_orders,
        "blocked_value": _money(w.blocked_value, w.currency), "next_action": w.next_action,
    } for w in report.collections.worklist if collector is None or w.collector == collector]


def _credit_exposure(report: KpiReport) -> dict[str, Any]:
    c = report.collections
    return {
        "limit_expiry_days": report.config.limit_expiry_days,
        "segments": [{"segment": e.segment, "currency": e.currency, "customers": e.customers,
                      "limit": _money(e.limit, e.currency), "exposure": _money(e.exposure, e.currency),
                      "utilisation_percent": _text(e.utilisation_percent, 2), "over_limit": e.over_limit}
                     for e in c.exposure],
        "over_limit": [{"segment": o.segment, "customer": o.customer, "name": report.name_of(o.customer),
                        "currency": o.currency, "limit": _money(o.limit, o.currency),
                        "open_ar": _money(o.open_ar, o.currency),
                        "blocked_value": _money(o.blocked_value, o.currency),
                        "exposure": _money(o.exposure, o.currency)} for o in c.over_limit],
        "expiring": [{"segment": e.segment, "customer": e.customer, "name": report.name_of(e.customer),
                      "currency": e.currency, "limit": _money(e.limit, e.currency),
                      "valid_to": e.valid_to.isoformat(), "days_left": e.days_left} for e in c.expiring],
    }


def _top_debtors(report: KpiReport) -> list[dict[str, Any]]:
    return [{"company_code": t.company_code, "rank": t.rank, "customer": t.customer,
             "name": report.name_of(t.customer), "collector": t.collector, "currency": t.currency,
             "overdue": _money(t.overdue, t.currency), "ar_total": _money(t.ar_total, t.currency),
             "oldest_days_past_due": t.oldest_days} for t in report.collections.top_debtors]


def _overrides(report: KpiReport) -> list[dict[str, Any]]:
    return [{"approver": o.approver, "currency": o.currency, "releases": o.releases,
             "value": _money(o.value, o.currency)} for o in report.collections.overrides]


def summary_of(report: KpiReport) -> dict[str, Any]:
    """The JSON-safe headline of a report: money and ratios as exact decimal strings."""
    return {
        "system": report.system, "as_of": report.as_of.isoformat(),
        "generated_at": report.generated_at.isoformat(), "company_codes": list(report.company_codes),
        "conventions": report.config.as_dict(), "receivables": _receivables(report),
        "blocked_orders": _blocked(report), "disputes": _disputes(report),
        "recoveries": _recoveries(report), "broken_promises": _broken_promises(report),
        "worklist": worklist_rows(report), "credit_exposure": _credit_exposure(report),
        "top_debtors": _top_debtors(report), "overrides_by_approver": _overrides(report),
        "notes": list(report.notes),
    }
