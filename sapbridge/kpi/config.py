"""The ``[kpi]`` section of ``sapbridge.toml``, validated into :class:`KpiConfig`.

Example::

    [kpi]
    aging_edges = [0, 30, 60, 90]          # upper day bounds: current, 1-30, 31-60, 61-90, >90
    reserve_rates = ["0.01", "0.05", "0.10", "0.25", "0.50"]   # one per bucket
    dso_months = 3                         # credit-sales period of DSO, best DSO and CEI
    month_days = "actual"                  # or 30: days counted per month in DSO formulas
    countback_months = 12                  # how far back countback DSO may walk
    countback_net_of_reserve = false       # countback from AR less the bad-debt reserve (Nestlé)
    cei_months = 1                         # CEI period: N months ending at the report date
    cei_divide_by_months = true            # CEI with sales/N (true) or undivided sales (false)
    trend_months = 6                       # month-end DSO points in the trend
    invoice_document_types = ["RV", "DR"]  # credit sales = debit items of these types
    release_window_days = 30               # blocked orders released within this many days
    dispute_closed_statuses = ["30"]       # case statuses that mean closed without a closed_on
    sales_org_company_codes = { "1010" = "1000" }   # sales org -> company code (default: same)
    segment_company_codes = { "SEG1" = ["1000", "1010"] }   # credit segment -> company codes (same)
    limit_expiry_days = 30                 # credit exposure lists limits expiring within this
    top_debtors = 20                       # top debtors per company code
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sapbridge.config import refuse_unknown
from sapbridge.errors import ConfigError

__all__ = ["DEFAULT_EDGES", "DEFAULT_RATES", "KpiConfig", "bucket_labels", "parse_kpi_config"]

DEFAULT_EDGES = (0, 30, 60, 90)
"""Aging bucket upper bounds in days past due: current, 1-30, 31-60, 61-90, over 90."""

DEFAULT_RATES = tuple(Decimal(r) for r in ("0.01", "0.05", "0.10", "0.25", "0.50"))
"""Bad-debt reserve rate per aging bucket (1/5/10/25/50%)."""

_KEYS = {
    "aging_edges", "reserve_rates", "dso_months", "month_days", "countback_months", "cei_months",
    "cei_divide_by_months", "trend_months", "invoice_document_types", "release_window_days",
    "dispute_closed_statuses", "sales_org_company_codes", "countback_net_of_reserve",
    "segment_company_codes", "limit_expiry_days", "top_debtors",
}


@dataclass(frozen=True, slots=True)
class KpiConfig:
    """Conventions of the KPI report; the defaults are the usual textbook ones."""

    aging_edges: tuple[int, ...] = DEFAULT_EDGES
    reserve_rates: tuple[Decimal, ...] = DEFAULT_RATES
    dso_months: int = 3
    month_days: int | None = None
    """None: actual calendar days of each month; else a fixed count (30)."""
    countback_months: int = 12
    countback_net_of_reserve: bool = False
    cei_months: int = 1
    """CEI period in months; with 1 both conventions of the sales term agree."""
    cei_divide_by_months: bool = True
    trend_months: int = 6
    invoice_document_types: tuple[str, ...] = ("RV", "DR")
    release_window_days: int = 30
    dispute_closed_statuses: tuple[str, ...] = ("30",)
    sales_org_company_codes: Mapping[str, str] = field(default_factory=dict)
    segment_company_codes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    limit_expiry_days: int = 30
    top_debtors: int = 20

    def company_codes_of_segment(self, segment: str) -> tuple[str, ...]:
        """Company codes whose AR and orders count against a credit segment (same name unless mapped)."""
        return self.segment_company_codes.get(segment, (segment,))

    def company_code_of_sales_org(self, sales_org: str | None) -> str | None:
        """The company code a sales organisation books into (same code unless mapped)."""
        if sales_org is None:
            return None
        return self.sales_org_company_codes.get(sales_org, sales_org)

    def as_dict(self) -> dict[str, Any]:
        """The conventions in effect, JSON-safe, for the report's header."""
        return {
            "aging_edges": list(self.aging_edges),
            "reserve_rates": [str(r) for r in self.reserve_rates],
            "dso_months": self.dso_months,
            "month_days": self.month_days or "actual",
            "countback_months": self.countback_months,
            "countback_net_of_reserve": self.countback_net_of_reserve,
            "cei_months": self.cei_months,
            "cei_divide_by_months": self.cei_divide_by_months,
            "trend_months": self.trend_months,
            "invoice_document_types": list(self.invoice_document_types),
            "release_window_days": self.release_window_days,
            "limit_expiry_days": self.limit_expiry_days,
            "top_debtors": self.top_debtors,
        }


def bucket_labels(edges: tuple[int, ...]) -> list[str]:
    """Readable names of the aging buckets: current, 1-30, ..., over 90."""
    labels = ["current" if edges[0] == 0 else f"up to {edges[0]}"]
    labels += [f"{low + 1}-{high}" for low, high in itertools.pairwise(edges)]
    labels.append(f"over {edges[-1]}")
    return labels


def _fail(key: str, problem: str) -> ConfigError:
    return ConfigError(f"config [kpi] {key}: {problem}")


def _positive_int(raw: Mapping[str, Any], key: str, default: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(key, f"must be a whole number of at least 1, not {value!r}")
    return value


def _edges(raw: Mapping[str, Any]) -> tuple[int, ...]:
    value = raw.get("aging_edges", list(DEFAULT_EDGES))
    if (not isinstance(value, list) or not value
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        raise _fail("aging_edges", "must be a list of whole numbers of days")
    if value[0] < 0 or any(b <= a for a, b in itertools.pairwise(value)):
        raise _fail("aging_edges", f"must start at 0 or more and rise strictly, not {value}")
    return tuple(value)


def _rates(raw: Mapping[str, Any], buckets: int) -> tuple[Decimal, ...]:
    value = raw.get("reserve_rates")
    if value is None:
        if buckets != len(DEFAULT_RATES):
            raise _fail("reserve_rates", f"needed: one rate for each of the {buckets} aging buckets")
        return DEFAULT_RATES
    if not isinstance(value, list) or len(value) != buckets:
        raise _fail("reserve_rates", f"must list one rate per aging bucket ({buckets})")
    rates = []
    for item in value:
        try:
            rate = Decimal(str(item)) if not isinstance(item, bool) else None
        except InvalidOperation:
            rate = None
        if rate is None or not Decimal(0) <= rate <= Decimal(1):
            raise _fail("reserve_rates", f"{item!r} is not a rate between 0 and 1 (e.g. \"0.05\")")
        rates.append(rate)
    return tuple(rates)


def _strings(raw: Mapping[str, Any], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = raw.get(key, list(default))
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(key, "must be a list of strings")
    return tuple(value)


def _month_days(raw: Mapping[str, Any]) -> int | None:
    value = raw.get("month_days", "actual")
    if value == "actual":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 28 <= value <= 31:
        return value
    raise _fail("month_days", f"must be \"actual\" or a number of days from 28 to 31, not {value!r}")


def _flag(raw: Mapping[str, Any], key: str, *, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise _fail(key, "must be true or false")
    return value


def parse_kpi_config(raw: Mapping[str, Any]) -> KpiConfig:
    """Validate a raw ``[kpi]`` table; every problem is one ConfigError line naming the key."""
    refuse_unknown(raw, _KEYS, "config [kpi]")
    edges = _edges(raw)
    divide = _flag(raw, "cei_divide_by_months", default=True)
    orgs = raw.get("sales_org_company_codes", {})
    if not isinstance(orgs, dict) or not all(isinstance(v, str) for v in orgs.values()):
        raise _fail("sales_org_company_codes", "must be a table of sales org = \"company code\"")
    segments = raw.get("segment_company_codes", {})
    if not isinstance(segments, dict) or not all(
            isinstance(v, list) and v and all(isinstance(c, str) for c in v) for v in segments.values()):
        raise _fail("segment_company_codes", "must be a table of credit segment = [\"company code\", ...]")
    window = raw.get("release_window_days", 30)
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise _fail("release_window_days", f"must be a whole number of at least 1, not {window!r}")
    return KpiConfig(
        aging_edges=edges,
        reserve_rates=_rates(raw, len(edges) + 1),
        dso_months=_positive_int(raw, "dso_months", 3),
        month_days=_month_days(raw),
        countback_months=_positive_int(raw, "countback_months", 12),
        countback_net_of_reserve=_flag(raw, "countback_net_of_reserve", default=False),
        cei_months=_positive_int(raw, "cei_months", 1),
        cei_divide_by_months=divide,
        trend_months=_positive_int(raw, "trend_months", 6),
        invoice_document_types=_strings(raw, "invoice_document_types", ("RV", "DR")),
        release_window_days=window,
        dispute_closed_statuses=_strings(raw, "dispute_closed_statuses", ("30",)),
        sales_org_company_codes=dict(orgs),
        segment_company_codes={k: tuple(v) for k, v in segments.items()},
        limit_expiry_days=_positive_int(raw, "limit_expiry_days", 30),
        top_debtors=_positive_int(raw, "top_debtors", 20),
    )
