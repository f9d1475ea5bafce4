"""The KPI workbook: one sheet per KPI, numbers as numbers, money with a number format."""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from sapbridge.kpi.report import KpiReport, ratio
from sapbridge.money import quantize
from sapbridge.sheetstyle import column_widths, human_header, money_format, print_to_page_width
from sapbridge.tabular import MONEY_FORMAT, SheetSpec, atomic_path, xlsx_value

__all__ = ["MONEY_HEADERS", "RATIO_FORMAT", "human_header", "money_format", "workbook_sheets",
           "worklist_sheet", "write_sheets", "write_workbook"]

RATIO_FORMAT = "0.0#"
"""DSO, days and percentages: numbers with one or two decimals."""

RATIO_HEADERS = frozenset({
    "past_due_percent", "dso_simple", "dso_countback", "best_possible_dso", "average_days_delinquent",
    "cei_percent", "rate_percent", "blocked_days_average", "blocked_days_max", "days_to_release_average",
    "days_to_release_median", "days_to_release_max", "score", "utilisation_percent", "kept_percent",
})
"""Columns written with the ratio number format."""

MONEY_HEADERS = frozenset({
    "ar_total", "current_ar", "past_due", "credit_sales", "begin_ar", "cei_credit_sales", "balance",
    "reserve",
    "blocked_value", "released_by_credit_rep_value", "released_otherwise_value", "amount",
    "claimed", "recovered", "rejected_claimed",
    "promised", "paid", "shortfall", "overdue", "limit", "exposure", "open_ar", "value",
})
"""Columns written with the money number format (besides the aging bucket columns)."""


def _m(amount: Decimal, currency: str) -> Decimal:
    return quantize(amount, currency)


def _summary_sheet(report: KpiReport) -> SheetSpec:
    dso = {(r.company_code, r.currency): r for r in report.dso}
    reserve = {(r.company_code, r.currency): r.total for r in report.reserves}
    header = ["company_code", "currency", "ar_total", "past_due", "past_due_percent", "dso_simple",
              "dso_countback", "best_possible_dso", "average_days_delinquent", "cei_percent", "reserve"]
    rows = []
    for row in report.aging:
        key = (row.company_code, row.currency)
        d = dso[key]
        rows.append([row.company_code, row.currency, _m(row.total, row.currency),
                     _m(row.past_due, row.currency), ratio(row.past_due_percent, 2), ratio(d.dso_simple),
                     ratio(d.countback.days if d.countback else None), ratio(d.best_possible_dso),
                     ratio(d.average_days_delinquent), ratio(d.cei_percent, 2),
                     _m(reserve[key], row.currency)])
    return header, rows


def _aging_sheet(report: KpiReport, *, by_customer: bool) -> SheetSpec:
    labels = report.bucket_labels
    lead = ["company_code", "customer", "customer_name", "currency"] if by_customer else ["company_code",
                                                                                         "currency"]
    header = [*lead, *labels, "ar_total", "past_due", "past_due_percent"]
    rows = []
    for row in report.customer_aging if by_customer else report.aging:
        keys = ([row.company_code, row.customer, report.customer_names.get(row.customer or "", ""),
                 row.currency] if by_customer else [row.company_code, row.currency])
        rows.append([*keys, *(_m(b, row.currency) for b in row.buckets), _m(row.total, row.currency),
                     _m(row.past_due, row.currency), ratio(row.past_due_percent, 2)])
    return header, rows


def _dso_sheet(report: KpiReport) -> SheetSpec:
    header = ["company_code", "currency", "ar_total", "current_ar", "credit_sales", "period_start",
              "period_end", "period_days", "dso_simple", "dso_countback", "countback_exhausted",
              "best_possible_dso", "average_days_delinquent", "cei_start", "begin_ar", "cei_credit_sales",
              "cei_percent"]
    rows = [[r.company_code, r.currency, _m(r.ar_total, r.currency), _m(r.current_ar, r.currency),
             _m(r.credit_sales, r.currency), r.period_start, report.as_of, r.period_days,
             ratio(r.dso_simple), ratio(r.countback.days if r.countback else None),
             r.countback.exhausted if r.countback else None, ratio(r.best_possible_dso),
             ratio(r.average_days_delinquent), r.cei_start, _m(r.begin_ar, r.currency),
             _m(r.cei_sales, r.currency), ratio(r.cei_percent, 2)]
            for r in report.dso]
    return header, rows


def _trend_sheet(report: KpiReport) -> SheetSpec:
    header = ["company_code", "currency", "month_end", "ar_total", "credit_sales", "dso_simple",
              "dso_countback"]
    return header, [[p.company_code, p.currency, p.month_end, _m(p.ar_total, p.currency),
                     _m(p.credit_sales, p.currency), ratio(p.dso_simple), ratio(p.dso_countback)]
                    for p in report.trend]


def _reserve_sheet(report: KpiReport) -> SheetSpec:
    header = ["company_code", "currency", "bucket", "balance", "rate", "reserve"]
    rows: list[list[Any]] = []
    for row in report.reserves:
        for label, balance, rate, amount in zip(report.bucket_labels, row.buckets, row.rates,
                                                row.by_bucket, strict=True):
            rows.append([row.company_code, row.currency, label, _m(balance, row.currency), rate,
                         _m(amount, row.currency)])
        rows.append([row.company_code, row.currency, "total", _m(sum(row.buckets, Decimal(0)), row.currency),
                     None, _m(row.total, row.currency)])
    return header, rows


def _blocked_sheet(report: KpiReport) -> SheetSpec:
    header = ["company_code", "currency", "blocked_count", "blocked_value", "blocked_days_average",
              "blocked_days_max", "released_by_credit_rep_count", "released_by_credit_rep_value",
              "released_otherwise_count", "released_otherwise_value", "days_to_release_average",
              "days_to_release_median", "days_to_release_max"]
    return header, [[r.company_code, r.currency, r.blocked_count, _m(r.blocked_value, r.currency),
                     ratio(r.blocked_days_average), ratio(r.blocked_days_max), r.overrides_count,
                     _m(r.overrides_value, r.currency), r.other_releases_count,
                     _m(r.other_releases_value, r.currency), ratio(r.days_to_release_average),
                     ratio(r.days_to_release_median), ratio(r.days_to_release_max)]
                    for r in report.blocked]


def _disputes_sheet(report: KpiReport, *, by: str) -> SheetSpec:
    rows = report.disputes_by_age if by == "age" else report.disputes_by_reason
    header = ["currency", "days_open" if by == "age" else "reason", "count", "amount"]
    return header, [[r.currency, r.label, r.count, _m(r.amount, r.currency)] for r in rows]


def _recoveries_sheet(report: KpiReport) -> SheetSpec:
    header = ["run_id", "currency", "claims", "claimed", "recovered", "rate_percent", "rejected_claims",
              "rejected_claimed"]
    if report.recovery_run is None:
        return header, [["no recoveries run yet", None, None, None, None, None, None, None]]
    run = report.recovery_run.run_id
    return header, [[run, r.currency, r.claims, _m(r.claimed, r.currency), _m(r.recovered, r.currency),
                     ratio(r.rate_percent, 2), r.rejected_claims, _m(r.rejected_claimed, r.currency)]
                    for r in report.recoveries]


def _history_sheet(report: KpiReport) -> SheetSpec:
    header = ["run_at", "as_of", "company_code", "currency", "ar_total", "past_due_percent", "dso_simple",
              "dso_countback"]
    return header, [[s.run_at.replace(tzinfo=None), s.as_of, s.company_code, s.currency,
                     _m(s.ar_total, s.currency), ratio(s.past_due_percent, 2), ratio(s.dso_simple),
                     ratio(s.dso_countback)] for s in report.history]


def _broken_sheet(report: KpiReport) -> SheetSpec:
    header = ["company_code", "customer", "name", "collector", "currency", "promised", "paid", "shortfall",
              "due_date", "days_broken", "level"]
    return header, [[b.company_code, b.customer, report.name_of(b.customer), b.collector, b.currency,
                     _m(b.promised, b.currency), _m(b.paid, b.currency), _m(b.shortfall, b.currency),
                     b.due_on, b.days_broken, b.level] for b in report.collections.broken]


def _broken_summary_sheet(report: KpiReport) -> SheetSpec:
    c = report.collections
    header = ["currency", "group", "label", "count", "amount", "due", "kept", "kept_percent"]
    rows: list[list[Any]] = [[r.currency, "days broken", r.label, r.count, _m(r.amount, r.currency),
                              None, None, None] for r in c.broken_by_age]
    rows += [[r.currency, "collector", r.label, r.count, _m(r.amount, r.currency), None, None, None]
             for r in c.broken_by_collector]
    rows += [[k.currency, "kept rate", "promises due", None, None, k.due, k.kept, ratio(k.percent, 2)]
             for k in c.kept_rates]
    return header, rows


def worklist_sheet(report: KpiReport, collector: str | None = None) -> SheetSpec:
    """The collections worklist (one collector's, when given), ranked per company code."""
    labels = report.bucket_labels[1:]
    header = ["company_code", "rank", "score", "customer", "name", "collector", "currency", "overdue",
              *labels, "oldest_days_past_due", "broken_promises", "risk_class", "dunning_level",
              "blocked_orders", "blocked_value", "next_action"]
    return header, [[w.company_code, w.rank, w.score, w.customer, report.name_of(w.customer), w.collector,
                     w.currency, _m(w.overdue, w.currency), *(_m(v, w.currency) for v in w.overdue_buckets),
                     w.oldest_days, w.broken_promises, w.risk_class, w.dunning_level, w.blocked_orders,
                     _m(w.blocked_value, w.currency), w.next_action]
                    for w in report.collections.worklist if collector is None or w.collector == collector]


def _exposure_sheet(report: KpiReport) -> SheetSpec:
    header = ["segment", "currency", "customers", "limit", "exposure", "utilisation_percent", "over_limit"]
    return header, [[e.segment, e.currency, e.customers, _m(e.limit, e.currency), _m(e.exposure, e.currency),
                     ratio(e.utilisation_percent, 2), e.over_limit] for e in report.collections.exposure]


def _over_limit_sheet(report: KpiReport) -> SheetSpec:
    header = ["segment", "customer", "name", "currency", "limit", "open_ar", "blocked_value", "exposure"]
    return header, [[o.segment, o.customer, report.name_of(o.customer), o.currency, _m(o.limit, o.currency),
                     _m(o.open_ar, o.currency), _m(o.blocked_value, o.currency), _m(o.exposure, o.currency)]
                    for o in report.collections.over_limit]


def _expiring_sheet(report: KpiReport) -> SheetSpec:
    header = ["segment", "customer", "name", "currency", "limit", "valid_to", "days_left"]
    return header, [[e.segment, e.customer, report.name_of(e.customer), e.currency, _m(e.limit, e.currency),
                     e.valid_to, e.days_left] for e in report.collections.expiring]


def _top_debtors_sheet(report: KpiReport) -> SheetSpec:
    header = ["company_code", "rank", "customer", "name", "collector", "currency", "overdue", "ar_total",
              "oldest_days_past_due"]
    return header, [[t.company_code, t.rank, t.customer, report.name_of(t.customer), t.collector, t.currency,
                     _m(t.overdue, t.currency), _m(t.ar_total, t.currency), t.oldest_days]
                    for t in report.collections.top_debtors]


def _overrides_sheet(report: KpiReport) -> SheetSpec:
    header = ["approver", "currency", "releases", "value"]
    return header, [[o.approver, o.currency, o.releases, _m(o.value, o.currency)]
                    for o in report.collections.overrides]


def workbook_sheets(report: KpiReport) -> dict[str, SheetSpec]:
    """Every sheet of the workbook, by title."""
    return {
        "summary": _summary_sheet(report),
        "aging": _aging_sheet(report, by_customer=False),
        "aging_by_customer": _aging_sheet(report, by_customer=True),
        "dso_cei": _dso_sheet(report),
        "dso_trend": _trend_sheet(report),
        "bad_debt_reserve": _reserve_sheet(report),
        "blocked_orders": _blocked_sheet(report),
        "disputes_by_age": _disputes_sheet(report, by="age"),
        "disputes_by_reason": _disputes_sheet(report, by="reason"),
        "recoveries": _recoveries_sheet(report),
        "broken_promises": _broken_sheet(report),
        "broken_promises_summary": _broken_summary_sheet(report),
        "worklist": worklist_sheet(report),
        "credit_exposure": _exposure_sheet(report),
        "over_limit": _over_limit_sheet(report),
        "limits_expiring": _expiring_sheet(report),
        "top_debtors": _top_debtors_sheet(report),
        "overrides_by_approver": _overrides_sheet(report),
        "history": _history_sheet(report),
        "notes": (["note"], [[note] for note in report.notes]),
    }


def _cell(sheet: Any, value: Any, number_format: str | None) -> Any:
    cell = WriteOnlyCell(sheet, value=xlsx_value(value))
    if number_format is not None and value is not None:
        cell.number_format = number_format
    return cell


PERCENT_NUMBER_FORMAT = '0.00"%"'
"""Percentages stored as numbers of percent (80.4) shown with a % sign, like fractions (0.05) in
``0.0%``: one look for every percentage."""

PERCENT_HEADERS = frozenset({"past_due_percent", "cei_percent", "rate_percent", "utilisation_percent",
                             "kept_percent"})

def _formats(header: Sequence[str], money: set[str]) -> list[str | None]:
    result: list[str | None] = []
    for name in header:
        if name in money:
            result.append(MONEY_FORMAT)
        elif name == "rate":
            result.append("0.0%")
        elif name in PERCENT_HEADERS:
            result.append(PERCENT_NUMBER_FORMAT)
        elif name in RATIO_HEADERS:
            result.append(RATIO_FORMAT)
        elif name in DATE_HEADERS:
            result.append(DATE_FORMAT)
        else:
            result.append(None)
    return result


DATE_FORMAT = "yyyy-mm-dd"
DATE_HEADERS = frozenset({"period_start", "period_end", "cei_start", "month_end", "as_of", "due_date",
                          "valid_to"})


def _widths(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[int]:
    return column_widths(header, rows[:2000])


def _row_formats(header: Sequence[str], row: Sequence[Any], formats: list[str | None]) -> list[str | None]:
    if "currency" not in header:
        return formats
    currency = row[list(header).index("currency")]
    shown = money_format(str(currency)) if currency else MONEY_FORMAT
    return [shown if f == MONEY_FORMAT else f for f in formats]


def write_workbook(report: KpiReport, target: Path) -> Path:
    """Write ``kpis.xlsx`` atomically: readable headers, widths to content, frozen header row
    with a filter on every sheet, money in its currency's decimals, percentages with a % sign.

    A write-only workbook streams rows, so a sheet of tens of thousands of customers stays fast.
    """
    return write_sheets(workbook_sheets(report), report.bucket_labels, target)


def write_sheets(sheets: dict[str, SheetSpec], bucket_names: Sequence[str], target: Path) -> Path:
    """Write sheets in the workbook's look (see :func:`write_workbook`) atomically to ``target``."""
    money = set(MONEY_HEADERS) | set(bucket_names)
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, (header, listed) in sheets.items():
        rows = list(listed)
        sheet = workbook.create_sheet(title=title[:31])
        sheet.freeze_panes = "A2"
        print_to_page_width(sheet)
        for index, width in enumerate(_widths(header, rows), start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(len(rows), 0) + 1}"
        heads = []
        for name in header:
            cell = WriteOnlyCell(sheet, value=human_header(name))
            cell.font = bold
            heads.append(cell)
        sheet.append(heads)
        formats = _formats(header, money)
        for row in rows:
            shown = _row_formats(header, row, formats)
            sheet.append([_cell(sheet, value, fmt) for value, fmt in zip(row, shown, strict=True)])
    with atomic_path(target) as temp:
        buffer = io.BytesIO()
        workbook.save(buffer)
        temp.write_bytes(buffer.getvalue())
    return target
