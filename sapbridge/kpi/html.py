"""``kpis.html``: one self-contained page (inline CSS and SVG, no script, no network)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from html import escape
from typing import Any

from sapbridge.kpi.report import KpiReport, ratio
from sapbridge.money import ZERO, quantize

__all__ = ["render_html"]

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.5em}h2{margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0 1em}th,td{padding:.25em .6em;border:1px solid #ddd}
th{background:#f4f4f4;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:flex;flex-wrap:wrap;gap:1.5em}.note{color:#555;font-size:.9em}
svg text{font-size:11px;fill:#333}
"""
_BAR_COLOURS = ["#4c9a2a", "#f2c744", "#f29544", "#e0603a", "#b3261e"]


def _cell(value: Any) -> str:
    if value is None:
        return '<td class="n">–</td>'
    if isinstance(value, int | Decimal):
        return f'<td class="n">{escape(_number(value))}</td>'
    return f"<td>{escape(str(value))}</td>"


def _number(value: int | Decimal) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    if not rows:
        return '<p class="note">none</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _bar_chart(title: str, labels: Sequence[str], values: Sequence[Decimal]) -> str:
    """Vertical bars of (signed) amounts, scaled to the largest absolute value."""
    width, height, top, bottom = 360, 200, 24, 36
    highest = max([ZERO, *values])
    scale = (highest - min([ZERO, *values])) or Decimal(1)
    plot = height - top - bottom
    zero_y = top + plot * float(highest / scale)
    slot = width / len(labels)
    parts = [f'<text x="{width / 2:.0f}" y="14" text-anchor="middle">{escape(title)}</text>']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        size = float(abs(value) / scale) * plot
        y = zero_y - size if value >= 0 else zero_y
        x = i * slot + slot * 0.15
        colour = _BAR_COLOURS[min(i, len(_BAR_COLOURS) - 1)]
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{size:.1f}" '
                     f'fill="{colour}"><title>{escape(label)}: {escape(_number(value))}</title></rect>')
        parts.append(f'<text x="{x + slot * 0.35:.1f}" y="{height - 20}" text-anchor="middle">'
                     f"{escape(label)}</text>")
    parts.append(f'<line x1="0" y1="{zero_y:.1f}" x2="{width}" y2="{zero_y:.1f}" stroke="#999"/>')
    return (f'<svg width="{width}" height="{height}" '
            f'role="img" aria-label="{escape(title)}">{"".join(parts)}</svg>')


def _line_chart(title: str, labels: Sequence[str], series: dict[str, Sequence[Decimal | None]]) -> str:
    """One polyline per series over the same x labels; gaps where a value is missing."""
    width, height, left, top, bottom = 420, 220, 40, 24, 40
    known = [v for values in series.values() for v in values if v is not None]
    high = max(known, default=Decimal(1)) or Decimal(1)
    plot_w, plot_h = width - left - 10, height - top - bottom
    step = plot_w / max(len(labels) - 1, 1)
    parts = [f'<text x="{width / 2:.0f}" y="14" text-anchor="middle">{escape(title)}</text>',
             f'<text x="4" y="{top + 8}">{escape(_number(ratio(high) or ZERO))}</text>',
             f'<text x="4" y="{top + plot_h + 4}">0</text>',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" stroke="#999"/>']
    for i, label in enumerate(labels):
        parts.append(f'<text x="{left + i * step:.1f}" y="{height - 22}" text-anchor="middle">'
                     f"{escape(label)}</text>")
    for n, (name, values) in enumerate(series.items()):
        colour = ("#1f5fa8", "#c0392b", "#27ae60")[n % 3]
        points = [(left + i * step, top + plot_h - float(max(v, ZERO) / high) * plot_h)
                  for i, v in enumerate(values) if v is not None]
        if points:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
            parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in points]
        parts.append(f'<text x="{left + n * 130}" y="{height - 4}" fill="{colour}">■ {escape(name)}</text>')
    return (f'<svg width="{width}" height="{height}" '
            f'role="img" aria-label="{escape(title)}">{"".join(parts)}</svg>')


def _money(amount: Decimal, currency: str) -> Decimal:
    return quantize(amount, currency)


def _headline(report: KpiReport) -> str:
    rows = []
    for row, d, reserve in report.headline():
        rows.append([row.company_code, row.currency, _money(row.total, row.currency),
                     ratio(row.past_due_percent, 2), ratio(d.dso_simple),
                     ratio(d.countback.days if d.countback else None), ratio(d.best_possible_dso),
                     ratio(d.average_days_delinquent), ratio(d.cei_percent, 2),
                     _money(reserve, row.currency)])
    return _table(["company code", "currency", "AR", "past due %", "DSO", "countback DSO", "best DSO",
                   "ADD", "CEI %", "bad-debt reserve"], rows)


def _aging_section(report: KpiReport) -> str:
    labels = report.bucket_labels
    charts = "".join(_bar_chart(f"{r.company_code} {r.currency}", labels, r.buckets) for r in report.aging)
    rows = [[r.company_code, r.currency, *(_money(b, r.currency) for b in r.buckets),
             _money(r.total, r.currency), ratio(r.past_due_percent, 2)] for r in report.aging]
    return (f'<div class="charts">{charts}</div>'
            + _table(["company code", "currency", *labels, "total", "past due %"], rows))


def _trend_section(report: KpiReport) -> str:
    by_group: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for point in report.trend:
        by_group[(point.company_code, point.currency)].append(point)
    charts = []
    for (code, currency), points in sorted(by_group.items()):
        if len(points) < 2:
            continue
        labels = [p.month_end.strftime("%b %y") for p in points]
        charts.append(_line_chart(f"DSO {code} {currency}", labels, {
            "simple": [p.dso_simple for p in points], "countback": [p.dso_countback for p in points]}))
    rows = [[p.company_code, p.currency, p.month_end.isoformat(), _money(p.ar_total, p.currency),
             _money(p.credit_sales, p.currency), ratio(p.dso_simple), ratio(p.dso_countback)]
            for p in report.trend]
    return (f'<div class="charts">{"".join(charts)}</div>'
            + _table(["company code", "currency", "month end", "AR", "credit sales", "DSO",
                      "countback DSO"], rows) + _history_section(report))


def _runs_chart(report: KpiReport) -> str:
    """DSO by report date from the stored runs plus this one (latest run per date), per group."""
    latest: dict[tuple[str, str], dict[Any, tuple[Decimal | None, Decimal | None]]] = defaultdict(dict)
    for snap in sorted(report.history, key=lambda s: s.run_at):
        latest[(snap.company_code, snap.currency)][snap.as_of] = (snap.dso_simple, snap.dso_countback)
    for row in report.dso:
        latest[(row.company_code, row.currency)][report.as_of] = (
            row.dso_simple, row.countback.days if row.countback else None)
    charts = []
    for (code, currency), by_day in sorted(latest.items()):
        if len(by_day) < 2:
            continue
        days = sorted(by_day)
        charts.append(_line_chart(f"DSO by report date {code} {currency}", [d.isoformat() for d in days], {
            "simple": [by_day[d][0] for d in days], "countback": [by_day[d][1] for d in days]}))
    return f'<div class="charts">{"".join(charts)}</div>' if charts else ""


def _history_section(report: KpiReport) -> str:
    if not report.history:
        return '<p class="note">No earlier report runs are stored yet; later runs will show them here.</p>'
    rows = [[s.run_at.strftime("%Y-%m-%d %H:%M"), s.as_of.isoformat(), s.company_code, s.currency,
             _money(s.ar_total, s.currency), ratio(s.past_due_percent, 2), ratio(s.dso_simple),
             ratio(s.dso_countback)] for s in report.history]
    return "<h3>Earlier report runs</h3>" + _runs_chart(report) + _table(
        ["run at (UTC)", "as of", "company code", "currency", "AR", "past due %", "DSO", "countback DSO"],
        rows)


def _percent_text(rate: Decimal) -> str:
    text = f"{rate * 100:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _reserve_section(report: KpiReport) -> str:
    labels = report.bucket_labels
    pairs = zip(labels, report.config.reserve_rates, strict=True)
    rates = ", ".join(f"{label} {_percent_text(rate)}%" for label, rate in pairs)
    rows = [[r.company_code, r.currency, *(_money(v, r.currency) for v in r.by_bucket),
             _money(r.total, r.currency)] for r in report.reserves]
    return f'<p class="note">Rates: {escape(rates)}.</p>' + _table(
        ["company code", "currency", *labels, "reserve"], rows)


def _blocked_section(report: KpiReport) -> str:
    rows = [[r.company_code, r.currency, r.blocked_count, _money(r.blocked_value, r.currency),
             ratio(r.blocked_days_average), r.overrides_count, _money(r.overrides_value, r.currency),
             r.other_releases_count, ratio(r.days_to_release_average), ratio(r.days_to_release_median),
             ratio(r.days_to_release_max)] for r in report.blocked]
    window = report.config.release_window_days
    return (f'<p class="note">Blocked at the end of {report.as_of}; releases within the {window} days '
            "before. Released by a credit rep = credit status D (an override).</p>"
            + _table(["company code", "currency", "blocked", "blocked value", "avg days blocked",
                      "released by credit rep", "value released by rep", "released otherwise",
                      "avg days to release", "median days", "max days"], rows))


def _disputes_section(report: KpiReport) -> str:
    age = [[r.currency, r.label, r.count, _money(r.amount, r.currency)] for r in report.disputes_by_age]
    reason = [[r.currency, r.label, r.count, _money(r.amount, r.currency)] for r in report.disputes_by_reason]
    return ("<h3>Open cases by days open</h3>" + _table(["currency", "days open", "cases", "disputed"], age)
            + "<h3>Open cases by reason</h3>" + _table(["currency", "reason", "cases", "disputed"], reason))


def _recoveries_section(report: KpiReport) -> str:
    if report.recovery_run is None:
        return '<p class="note">No recoveries run yet.</p>'
    rows = [[r.currency, r.claims, _money(r.claimed, r.currency), _money(r.recovered, r.currency),
             ratio(r.rate_percent, 2), r.rejected_claims] for r in report.recoveries]
    return (f'<p class="note">From recoveries run {escape(report.recovery_run.run_id)} finished '
            f"{escape(report.recovery_run.finished_at.isoformat())}; rejected claims count as claimed "
            "and unrecovered.</p>"
            + _table(["currency", "claims", "claimed", "recovered", "recovery rate %", "rejected"], rows))


def render_html(report: KpiReport) -> str:
    """The whole page."""
    conventions = escape(", ".join(f"{k} = {v}" for k, v in report.config.as_dict().items()))
    notes = "".join(f"<li>{escape(n)}</li>" for n in report.notes)
    title = f"Credit and collections KPIs: {report.system} as of {report.as_of}"
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{_CSS}</style></head><body><h1>{escape(title)}</h1>"
        f'<p class="note">Company codes {escape(", ".join(report.company_codes))}; generated '
        f"{escape(report.generated_at.strftime('%Y-%m-%d %H:%M'))} UTC. Conventions: {conventions}.</p>"
        f"<h2>Headline</h2>{_headline(report)}"
        f"<h2>Aging</h2>{_aging_section(report)}"
        f"<h2>DSO trend</h2>{_trend_section(report)}"
        f"<h2>Bad-debt reserve</h2>{_reserve_section(report)}"
        f"<h2>Blocked orders</h2>{_blocked_section(report)}"
        f"<h2>Disputes</h2>{_disputes_section(report)}"
        f"<h2>Recoveries</h2>{_recoveries_section(report)}"
        f"<h2>Notes</h2><ul>{notes}</ul></body></html>"
    )
