"""Blocked orders, disputes and recoveries: counts, values and durations, per currency.

What the store says about blocked orders (``sapbridge/sync/writer.py`` and
``mappings/blocked_orders.toml``): ``credit_status`` B is blocked, D released by a credit
representative (VKM1, an override). Sync sets ``blocked_since`` when an order turns B (for one
first seen as D, its creation day, an estimate) and ``released_at`` when a B order turns anything
else. An incremental sync also keeps orders released automatically (status A, credit re-check
passed) with ``released_at`` set, so *released by a credit rep* here means ``credit_status`` D, not
merely ``released_at`` set. An order that left the B/D set in a full sync is marked gone
(``cleared_at``); it is no longer blocked from then on.
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sapbridge.kpi.config import KpiConfig
from sapbridge.kpi.formulas import HUNDRED, bucket_index
from sapbridge.kpi.queries import DisputeRow, OrderRow, RecoveryClaimRow
from sapbridge.money import ZERO

__all__ = [
    "BlockedRow",
    "DisputeBucketRow",
    "RecoveryRow",
    "blocked_orders_summary",
    "dispute_age_labels",
    "disputes_by_age",
    "disputes_by_reason",
    "open_disputes",
    "recovery_rates",
]

_SECONDS_PER_DAY = Decimal(86400)


def _day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def _days_between(start: datetime, end: datetime) -> Decimal:
    return Decimal(int((end - start).total_seconds())) / _SECONDS_PER_DAY


@dataclass(frozen=True, slots=True)
class BlockedRow:
    """Credit-blocked orders of one company code and currency."""

    company_code: str
    currency: str
    blocked_count: int
    blocked_value: Decimal
    blocked_days_average: Decimal | None
    blocked_days_max: Decimal | None
    overrides_count: int
    overrides_value: Decimal
    other_releases_count: int
    other_releases_value: Decimal
    days_to_release_average: Decimal | None
    days_to_release_median: Decimal | None
    days_to_release_max: Decimal | None


def _is_blocked(order: OrderRow, end: datetime) -> bool:
    since = order.blocked_since
    if since is None or since >= end or (order.gone_at is not None and order.gone_at < end):
        return False
    if order.rejected_at is not None and order.rejected_at < end:
        return False
    released = order.released_at
    return released is None or released < since or released >= end


def _released_within(order: OrderRow, start: datetime, end: datetime) -> bool:
    return order.released_at is not None and start <= order.released_at < end


def _stats(values: list[Decimal]) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    if not values:
        return None, None, None
    return sum(values, ZERO) / len(values), statistics.median(values), max(values)


def blocked_orders_summary(orders: Iterable[OrderRow], as_of: date, cfg: KpiConfig,
                           company_codes: Sequence[str]) -> list[BlockedRow]:
    """Orders blocked at the end of ``as_of`` and releases within the release window before it."""
    end = _day_end(as_of)
    start = end - timedelta(days=cfg.release_window_days)
    groups: dict[tuple[str, str], list[OrderRow]] = defaultdict(list)
    for order in orders:
        code = cfg.company_code_of_sales_org(order.sales_organization) or ""
        if code in company_codes:
            groups[(code, order.currency)].append(order)
    rows = []
    for (code, currency), members in sorted(groups.items()):
        blocked = [o for o in members if _is_blocked(o, end)]
        released = [o for o in members if _released_within(o, start, end)]
        overrides = [o for o in released if o.credit_status == "D"]
        others = [o for o in released if o.credit_status != "D"]
        ages = [_days_between(o.blocked_since, end) for o in blocked if o.blocked_since]
        waits = [_days_between(o.blocked_since, o.released_at) for o in released
                 if o.blocked_since and o.released_at and o.released_at >= o.blocked_since]
        average_wait, median_wait, max_wait = _stats(waits)
        rows.append(BlockedRow(
            company_code=code, currency=currency, blocked_count=len(blocked),
            blocked_value=sum((o.net_amount for o in blocked), ZERO),
            blocked_days_average=_stats(ages)[0], blocked_days_max=_stats(ages)[2],
            overrides_count=len(overrides), overrides_value=sum((o.net_amount for o in overrides), ZERO),
            other_releases_count=len(others), other_releases_value=sum((o.net_amount for o in others), ZERO),
            days_to_release_average=average_wait, days_to_release_median=median_wait,
            days_to_release_max=max_wait,
        ))
    return rows


def open_disputes(cases: Iterable[DisputeRow], as_of: date, cfg: KpiConfig) -> list[DisputeRow]:
    """Cases open at the end of ``as_of``: created by then and not closed by then."""
    closed_statuses = set(cfg.dispute_closed_statuses)

    def is_open(case: DisputeRow) -> bool:
        if case.created_on is not None and case.created_on > as_of:
            return False
        if case.closed_on is not None:
            return case.closed_on > as_of
        if case.case_status in closed_statuses:
            return case.changed_on is not None and case.changed_on > as_of
        return True

    return [case for case in cases if is_open(case)]


def dispute_age_edges(edges: Sequence[int]) -> tuple[int, ...]:
    """Age bucket bounds of open cases: the aging edges without the 'not yet due' bound."""
    return tuple(e for e in edges if e > 0) or (30,)


def dispute_age_labels(edges: Sequence[int]) -> list[str]:
    """Readable names: 0-30, 31-60, ..., over 90."""
    bounds = dispute_age_edges(edges)
    labels = [f"0-{bounds[0]}"]
    labels += [f"{low + 1}-{high}" for low, high in itertools.pairwise(bounds)]
    labels.append(f"over {bounds[-1]}")
    return labels


@dataclass(frozen=True, slots=True)
class DisputeBucketRow:
    """Open cases of one currency in one age bucket or with one reason."""

    currency: str
    label: str
    count: int
    amount: Decimal


def _tally(pairs: Iterable[tuple[tuple[str, str], Decimal]]) -> dict[tuple[str, str], tuple[int, Decimal]]:
    totals: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for key, amount in pairs:
        count, total = totals.get(key, (0, ZERO))
        totals[key] = (count + 1, total + amount)
    return totals


def disputes_by_age(open_cases: Iterable[DisputeRow], as_of: date,
                    edges: Sequence[int]) -> list[DisputeBucketRow]:
    """Open cases by currency and days open (a case without a creation day counts as new)."""
    bounds = dispute_age_edges(edges)
    labels = dispute_age_labels(edges)
    totals = _tally(((case.currency, labels[bucket_index((as_of - case.created_on).days
                                                           if case.created_on else 0, bounds)]),
                     case.disputed_amount) for case in open_cases)
    order = {label: i for i, label in enumerate(labels)}
    ranked = sorted(totals.items(), key=lambda kv: (kv[0][0], order[kv[0][1]]))
    return [DisputeBucketRow(cur, label, count, amount) for (cur, label), (count, amount) in ranked]


def disputes_by_reason(open_cases: Iterable[DisputeRow]) -> list[DisputeBucketRow]:
    """Open cases by currency and reason code."""
    totals = _tally(((case.currency, case.reason), case.disputed_amount) for case in open_cases)
    return [DisputeBucketRow(cur, reason, count, amount)
            for (cur, reason), (count, amount) in sorted(totals.items())]


@dataclass(frozen=True, slots=True)
class RecoveryRow:
    """Recovery rate of one currency in the latest recoveries run.

    Rate = recovered / claimed × 100 over every claim of the run. Rejected claims stay in both
    sums: their claimed amount counts, their recovered amount (normally 0) too, so a rejection
    lowers the rate instead of vanishing from it.
    """

    currency: str
    claims: int
    claimed: Decimal
    recovered: Decimal
    rejected_claims: int
    rejected_claimed: Decimal

    @property
    def rate_percent(self) -> Decimal | None:
        """Recovered / claimed × 100 (None when nothing was claimed)."""
        if self.claimed <= ZERO:
            return None
        return self.recovered / self.claimed * HUNDRED


def recovery_rates(claims: Iterable[RecoveryClaimRow]) -> list[RecoveryRow]:
    """Recovery rate per currency."""
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO] * 5)
    for claim in claims:
        row = sums[claim.currency]
        row[0] += 1
        row[1] += claim.claim_amount
        row[2] += claim.recovered_amount
        if claim.claim_status.lower() == "rejected":
            row[3] += 1
            row[4] += claim.claim_amount
    return [RecoveryRow(cur, int(v[0]), v[1], v[2], int(v[3]), v[4]) for cur, v in sorted(sums.items())]
