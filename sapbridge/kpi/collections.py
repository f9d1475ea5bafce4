"""What a collections lead works from: broken promises, the worklist, credit exposure, top
debtors and blocked-order overrides by approver (pure: rows in, figures out).

Every amount stays in its company code's currency; nothing is summed across currencies.

**Worklist score** (0-100, higher is worked first; ranked per company code):

- overdue amount, weighted by bucket (1-30 days x1, 31-60 x2, 61-90 x3, over 90 x4 with the
  default buckets; bucket *n* past due weighs *n*), as a share of the largest weighted overdue
  in the company code: up to 40 points;
- days past due of the oldest overdue item, capped at 120: up to 15 points;
- broken promises to pay: 10 points each, up to 20;
- credit risk class: A 0, B 3, C 6, D 10 (other classes 0);
- highest dunning level of the open items: 3 points per level, up to 9;
- sales orders waiting on a credit block: 6 points.

**Next action**, the first that applies: call about a broken promise; decide the blocked
orders; wait for an open promise not yet due; escalate (dunning level 3 and over 90 days past
due); send the next dunning level; call.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from sapbridge.kpi.collections_queries import PromiseRow, ReleaseRow, SegmentRow, WaitingOrderRow
from sapbridge.kpi.config import KpiConfig, bucket_labels
from sapbridge.kpi.formulas import bucket_index
from sapbridge.kpi.queries import ItemRow
from sapbridge.kpi.receivables import open_at
from sapbridge.money import ZERO, quantize

__all__ = [
    "BrokenPromise",
    "CollectionsInputs",
    "CollectionsReport",
    "CountAmount",
    "ExpiringLimit",
    "KeptRate",
    "OverLimit",
    "OverrideRow",
    "SegmentExposure",
    "TopDebtor",
    "WorklistEntry",
    "build_collections",
]

RISK_POINTS = {"A": Decimal(0), "B": Decimal(3), "C": Decimal(6), "D": Decimal(10)}
DUE_STATES = ("kept", "partially_kept", "broken")
"""Promise states that count as due in the kept-rate (open and withdrawn promises do not)."""


@dataclass(frozen=True, slots=True)
class CollectionsInputs:
    """The rows the collections sections are computed from."""

    items: Sequence[ItemRow] = ()
    promises: Sequence[PromiseRow] = ()
    segments: Sequence[SegmentRow] = ()
    collectors: Mapping[tuple[str, str], str] = field(default_factory=dict)
    dunning: Mapping[tuple[str, str], int] = field(default_factory=dict)
    waiting_orders: Sequence[WaitingOrderRow] = ()
    releases: Sequence[ReleaseRow] = ()


@dataclass(frozen=True, slots=True)
class BrokenPromise:
    company_code: str
    customer: str
    collector: str
    currency: str
    promised: Decimal
    paid: Decimal
    due_on: date | None
    days_broken: int
    level: str

    @property
    def shortfall(self) -> Decimal:
        """Promised but not paid."""
        return self.promised - self.paid


@dataclass(frozen=True, slots=True)
class CountAmount:
    """A count and an amount of one group (a label such as an age bucket or a collector)."""

    currency: str
    label: str
    count: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class KeptRate:
    currency: str
    due: int
    kept: int

    @property
    def percent(self) -> Decimal | None:
        """Kept / due x 100 (None with nothing due)."""
        return None if not self.due else Decimal(self.kept) * 100 / Decimal(self.due)


@dataclass(frozen=True, slots=True)
class WorklistEntry:
    rank: int
    company_code: str
    customer: str
    collector: str
    currency: str
    overdue: Decimal
    overdue_buckets: tuple[Decimal, ...]
    oldest_days: int
    broken_promises: int
    risk_class: str
    dunning_level: int
    blocked_orders: int
    blocked_value: Decimal
    score: Decimal
    next_action: str


@dataclass(frozen=True, slots=True)
class SegmentExposure:
    segment: str
    currency: str
    customers: int
    limit: Decimal
    exposure: Decimal
    over_limit: int

    @property
    def utilisation_percent(self) -> Decimal | None:
        """Exposure / limit x 100."""
        return None if not self.limit else self.exposure * 100 / self.limit


@dataclass(frozen=True, slots=True)
class OverLimit:
    segment: str
    customer: str
    currency: str
    limit: Decimal
    open_ar: Decimal
    blocked_value: Decimal

    @property
    def exposure(self) -> Decimal:
        """Open AR plus the value of orders waiting on a credit block."""
        return self.open_ar + self.blocked_value


@dataclass(frozen=True, slots=True)
class ExpiringLimit:
    segment: str
    customer: str
    currency: str
    limit: Decimal
    valid_to: date
    days_left: int


@dataclass(frozen=True, slots=True)
class TopDebtor:
    rank: int
    company_code: str
    customer: str
    collector: str
    currency: str
    overdue: Decimal
    ar_total: Decimal
    oldest_days: int


@dataclass(frozen=True, slots=True)
class OverrideRow:
    approver: str
    currency: str
    releases: int
    value: Decimal


@dataclass(frozen=True, slots=True)
class CollectionsReport:
    """Every collections section of one report."""

    broken: list[BrokenPromise] = field(default_factory=list)
    broken_by_age: list[CountAmount] = field(default_factory=list)
    broken_by_collector: list[CountAmount] = field(default_factory=list)
    kept_rates: list[KeptRate] = field(default_factory=list)
    worklist: list[WorklistEntry] = field(default_factory=list)
    exposure: list[SegmentExposure] = field(default_factory=list)
    over_limit: list[OverLimit] = field(default_factory=list)
    expiring: list[ExpiringLimit] = field(default_factory=list)
    top_debtors: list[TopDebtor] = field(default_factory=list)
    overrides: list[OverrideRow] = field(default_factory=list)


# --------------------------------------------------------------------------- promises


def broken_promises(promises: Iterable[PromiseRow], as_of: date,
                    collectors: Mapping[tuple[str, str], str]) -> list[BrokenPromise]:
    """Promises in state broken, longest broken first."""
    rows = [BrokenPromise(p.company_code, p.customer, collectors.get((p.company_code, p.customer), ""),
                          p.currency, p.promised, p.paid, p.due_on,
                          max(0, (as_of - p.due_on).days) if p.due_on else 0, p.level)
            for p in promises if p.state == "broken"]
    return sorted(rows, key=lambda b: (-b.days_broken, b.company_code, b.customer))


def _count_amount(groups: Iterable[tuple[tuple[str, str], Decimal]],
                  order: Sequence[str] = ()) -> list[CountAmount]:
    sums: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for key, amount in groups:
        count, total = sums.get(key, (0, ZERO))
        sums[key] = (count + 1, total + amount)
    position = {label: at for at, label in enumerate(order)}
    keys = sorted(sums, key=lambda k: (k[0], position.get(k[1], 0), k[1]))
    return [CountAmount(cur, label, *sums[(cur, label)]) for cur, label in keys]


def broken_by_age(broken: Iterable[BrokenPromise], edges: tuple[int, ...]) -> list[CountAmount]:
    """Broken promises and their shortfall per currency and days broken (the aging buckets)."""
    labels = bucket_labels(edges)
    return _count_amount((((b.currency, labels[bucket_index(b.days_broken, edges)]), b.shortfall)
                          for b in broken), labels)


def broken_by_collector(broken: Iterable[BrokenPromise]) -> list[CountAmount]:
    """Broken promises and their shortfall per currency and collector."""
    return _count_amount(((b.currency, b.collector or "(none)"), b.shortfall) for b in broken)


def kept_rates(promises: Iterable[PromiseRow], as_of: date) -> list[KeptRate]:
    """Per currency: of the promises due by ``as_of`` (kept, partially kept or broken), how many were kept."""
    due: dict[str, int] = defaultdict(int)
    kept: dict[str, int] = defaultdict(int)
    for p in promises:
        if p.state in DUE_STATES and p.due_on is not None and p.due_on <= as_of:
            due[p.currency] += 1
            kept[p.currency] += p.state == "kept"
    return [KeptRate(cur, due[cur], kept[cur]) for cur in sorted(due)]


# --------------------------------------------------------------------------- worklist


@dataclass
class _Account:
    """One customer's open AR in one company code, as the worklist and top debtors see it."""

    currency: str
    total: Decimal = ZERO
    overdue: Decimal = ZERO
    buckets: list[Decimal] = field(default_factory=list)
    oldest_days: int = 0


def _accounts(items: Iterable[ItemRow], as_of: date,
              edges: tuple[int, ...]) -> dict[tuple[str, str], _Account]:
    accounts: dict[tuple[str, str], _Account] = {}
    for item in open_at(items, as_of):
        account = accounts.setdefault((item.company_code, item.customer),
                                      _Account(item.currency, buckets=[ZERO] * len(edges)))
        account.total += item.amount
        days = (as_of - item.due_on).days
        at = bucket_index(days, edges)
        if at == 0:
            continue
        account.buckets[at - 1] += item.amount
        account.overdue += item.amount
        if item.amount > 0:
            account.oldest_days = max(account.oldest_days, days)
    return accounts


def _weighted(buckets: Sequence[Decimal]) -> Decimal:
    return sum((amount * (at + 1) for at, amount in enumerate(buckets)), ZERO)


def score(*, weighted_share: Decimal, oldest_days: int, broken: int, risk_class: str, dunning_level: int,
          blocked_orders: int) -> Decimal:
    """The worklist score (see the module text), to one decimal."""
    share = min(max(weighted_share, ZERO), Decimal(1))
    points = (Decimal(40) * share + Decimal(15) * Decimal(min(oldest_days, 120)) / 120
              + Decimal(min(broken * 10, 20)) + RISK_POINTS.get(risk_class, ZERO)
              + Decimal(min(dunning_level * 3, 9)) + (Decimal(6) if blocked_orders else ZERO))
    return points.quantize(Decimal("0.1"))


def next_action(*, broken: Sequence[BrokenPromise], open_promise_due: date | None, blocked_orders: int,
                blocked_value: Decimal, currency: str, oldest_days: int, dunning_level: int) -> str:
    """What the collector does next (the first rule of the module text that applies)."""
    if broken:
        worst = broken[0]
        return f"call: promise of {quantize(worst.shortfall, currency)} {currency} due {worst.due_on} broken"
    if blocked_orders:
        worth = quantize(blocked_value, currency)
        return f"decide {blocked_orders} blocked order(s) worth {worth} {currency}"
    if open_promise_due is not None:
        return f"wait: promise due {open_promise_due}"
    if dunning_level >= 3 and oldest_days > 90:
        return "escalate: dunned 3 times and over 90 days past due"
    if dunning_level < 3:
        return f"send dunning level {dunning_level + 1}"
    return "call"


def _risk_classes(segments: Iterable[SegmentRow], cfg: KpiConfig) -> dict[tuple[str, str], str]:
    risk: dict[tuple[str, str], str] = {}
    for s in segments:
        for code in cfg.company_codes_of_segment(s.segment):
            risk[(code, s.customer)] = s.risk_class
    return risk


def _waiting_by_account(orders: Iterable[WaitingOrderRow], cfg: KpiConfig
                        ) -> dict[tuple[str, str], tuple[int, Decimal]]:
    waiting: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for o in orders:
        key = (cfg.company_code_of_sales_org(o.sales_organization) or "", o.sold_to)
        count, value = waiting.get(key, (0, ZERO))
        waiting[key] = (count + 1, value + o.net_amount)
    return waiting


def worklist(inputs: CollectionsInputs, as_of: date, cfg: KpiConfig,
             broken: Sequence[BrokenPromise]) -> list[WorklistEntry]:
    """Every customer with overdue items (overdue balance above zero), ranked per company code by score."""
    accounts = {k: a for k, a in _accounts(inputs.items, as_of, cfg.aging_edges).items() if a.overdue > 0}
    risk = _risk_classes(inputs.segments, cfg)
    waiting = _waiting_by_account(inputs.waiting_orders, cfg)
    broken_of: dict[tuple[str, str], list[BrokenPromise]] = defaultdict(list)
    for b in broken:
        broken_of[(b.company_code, b.customer)].append(b)
    open_due: dict[tuple[str, str], date] = {}
    for p in inputs.promises:
        if p.state == "open" and p.due_on is not None and p.due_on >= as_of:
            key = (p.company_code, p.customer)
            open_due[key] = min(open_due.get(key, p.due_on), p.due_on)
    largest: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for (code, _), account in accounts.items():
        largest[code] = max(largest[code], _weighted(account.buckets))
    entries = []
    for key, account in accounts.items():
        code = key[0]
        blocked, blocked_value = waiting.get(key, (0, ZERO))
        dunning = inputs.dunning.get(key, 0)
        top = largest[code]
        entries.append(WorklistEntry(
            rank=0, company_code=code, customer=key[1], collector=inputs.collectors.get(key, ""),
            currency=account.currency, overdue=account.overdue, overdue_buckets=tuple(account.buckets),
            oldest_days=account.oldest_days, broken_promises=len(broken_of[key]),
            risk_class=risk.get(key, ""), dunning_level=dunning, blocked_orders=blocked,
            blocked_value=blocked_value,
            score=score(weighted_share=_weighted(account.buckets) / top if top > 0 else ZERO,
                        oldest_days=account.oldest_days, broken=len(broken_of[key]),
                        risk_class=risk.get(key, ""), dunning_level=dunning, blocked_orders=blocked),
            next_action=next_action(broken=broken_of[key], open_promise_due=open_due.get(key),
                                    blocked_orders=blocked, blocked_value=blocked_value,
                                    currency=account.currency, oldest_days=account.oldest_days,
                                    dunning_level=dunning),
        ))
    return _ranked(entries)


def _ranked(entries: list[WorklistEntry]) -> list[WorklistEntry]:
    ordered = sorted(entries, key=lambda e: (e.company_code, -e.score, -e.overdue, e.customer))
    result, rank, previous = [], 0, ""
    for entry in ordered:
        rank = rank + 1 if entry.company_code == previous else 1
        previous = entry.company_code
        result.append(replace(entry, rank=rank))
    return result


# --------------------------------------------------------------------------- exposure


def credit_exposure(inputs: CollectionsInputs, as_of: date, cfg: KpiConfig
                    ) -> tuple[list[SegmentExposure], list[OverLimit], list[ExpiringLimit]]:
    """Per credit segment: limits against open AR plus blocked order value, customers over their
    limit, and limits expiring within ``cfg.limit_expiry_days``. Amounts in another currency
    than the segment's are left out (they cannot be compared)."""
    ar: dict[tuple[str, str, str], Decimal] = defaultdict(lambda: ZERO)
    for item in open_at(inputs.items, as_of):
        ar[(item.company_code, item.customer, item.currency)] += item.amount
    blocked: dict[tuple[str, str, str], Decimal] = defaultdict(lambda: ZERO)
    for o in inputs.waiting_orders:
        code = cfg.company_code_of_sales_org(o.sales_organization) or ""
        blocked[(code, o.sold_to, o.currency)] += o.net_amount
    totals: dict[tuple[str, str], list[Decimal]] = {}
    over, expiring = [], []
    for s in inputs.segments:
        if s.limit is None:
            continue
        codes = cfg.company_codes_of_segment(s.segment)
        open_ar = sum((ar[(c, s.customer, s.currency)] for c in codes), ZERO)
        waiting = sum((blocked[(c, s.customer, s.currency)] for c in codes), ZERO)
        entry = totals.setdefault((s.segment, s.currency), [ZERO, ZERO, ZERO, ZERO])
        entry[0] += 1
        entry[1] += s.limit
        entry[2] += open_ar + waiting
        if open_ar + waiting > s.limit:
            entry[3] += 1
            over.append(OverLimit(s.segment, s.customer, s.currency, s.limit, open_ar, waiting))
        if s.valid_to is not None and 0 <= (s.valid_to - as_of).days <= cfg.limit_expiry_days:
            expiring.append(ExpiringLimit(s.segment, s.customer, s.currency, s.limit, s.valid_to,
                                          (s.valid_to - as_of).days))
    exposure = [SegmentExposure(seg, cur, int(v[0]), v[1], v[2], int(v[3]))
                for (seg, cur), v in sorted(totals.items())]
    over.sort(key=lambda o: (o.segment, -(o.exposure - o.limit), o.customer))
    expiring.sort(key=lambda e: (e.valid_to, e.segment, e.customer))
    return exposure, over, expiring


# --------------------------------------------------------------------------- debtors, overrides


def top_debtors(inputs: CollectionsInputs, as_of: date, cfg: KpiConfig) -> list[TopDebtor]:
    """Per company code the ``cfg.top_debtors`` customers with the largest overdue balance."""
    by_code: dict[str, list[tuple[str, _Account]]] = defaultdict(list)
    for (code, customer), account in _accounts(inputs.items, as_of, cfg.aging_edges).items():
        if account.overdue > 0:
            by_code[code].append((customer, account))
    result = []
    for code in sorted(by_code):
        ranked = sorted(by_code[code], key=lambda pair: (-pair[1].overdue, pair[0]))[: cfg.top_debtors]
        result += [TopDebtor(rank, code, customer, inputs.collectors.get((code, customer), ""),
                             account.currency, account.overdue, account.total, account.oldest_days)
                   for rank, (customer, account) in enumerate(ranked, start=1)]
    return result


def overrides_by_approver(releases: Iterable[ReleaseRow]) -> list[OverrideRow]:
    """Blocked orders released through push batches: per approver and currency, how many and their value."""
    sums: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for r in releases:
        count, value = sums.get((r.approver, r.currency), (0, ZERO))
        sums[(r.approver, r.currency)] = (count + 1, value + r.order_value)
    return [OverrideRow(approver, cur, count, value)
            for (approver, cur), (count, value) in sorted(sums.items())]


def build_collections(inputs: CollectionsInputs, as_of: date, cfg: KpiConfig) -> CollectionsReport:
    """Every collections section at ``as_of`` (orders blocked only after it do not count)."""
    inputs = replace(inputs, waiting_orders=[o for o in inputs.waiting_orders
                                             if o.blocked_since is None or o.blocked_since.date() <= as_of])
    broken = broken_promises(inputs.promises, as_of, inputs.collectors)
    exposure, over, expiring = credit_exposure(inputs, as_of, cfg)
    return CollectionsReport(
        broken=broken, broken_by_age=broken_by_age(broken, cfg.aging_edges),
        broken_by_collector=broken_by_collector(broken), kept_rates=kept_rates(inputs.promises, as_of),
        worklist=worklist(inputs, as_of, cfg, broken), exposure=exposure, over_limit=over,
        expiring=expiring, top_debtors=top_debtors(inputs, as_of, cfg),
        overrides=overrides_by_approver(inputs.releases),
    )
