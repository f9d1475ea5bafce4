"""``kpis.html``: one self-contained page (inline CSS and SVG, no script, no network)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from html import escape
from typing import Any

from sapbridge.kpi.report import KpiReport, ratio
from sapbridge.kpi.svg import bar_chart, line_chart
from sapbridge.money import ZERO, quantize

__all__ = ["WORKLIST_NOTE", "render_html", "worklist_table"]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1100px;color:#222;
 padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:2px solid #1f5fa8;padding-bottom:.2em}
h3{margin:1.2em 0 .3em}
table{border-collapse:collapse;margin:.5em 0 1em}th,td{padding:.3em .6em;border:1px solid #ddd}
th{background:#f4f6f9;text-align:left;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:flex;flex-wrap:wrap;gap:1.5em}.note{color:#555;font-size:.9em}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:.8em;margin:.6em 0 1.2em}
.tile{border:1px solid #dde3ea;border-radius:8px;padding:.7em .9em;background:#fafbfd}
.tile .k{font-size:.8em;color:#555;text-transform:uppercase;letter-spacing:.03em}
.tile .v{font-size:1.5em;font-weight:650;margin:.15em 0;font-variant-numeric:tabular-nums}
.tile .d{font-size:.85em;color:#555}.up{color:#a4231b}.down{color:#2e7d32}
.group{font-weight:600;margin-top:.8em}
dl.glossary dt{font-weight:600;margin-top:.6em}dl.glossary dd{margin:.1em 0 0 1.2em;color:#333}
@page{size:A4 landscape;margin:12mm}
@media print{body{margin:0;max-width:none}section{break-after:page}section:last-of-type{break-after:auto}
 h2{margin-top:0}.charts{gap:.8em}a{color:inherit;text-decoration:none}}
"""

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


def _money(amount: Decimal, currency: str) -> Decimal:
    return quantize(amount, currency)


def _signed(value: Decimal, unit: str) -> str:
    sign = "+" if value > 0 else ("−" if value < 0 else "±")
    return f"{sign}{abs(value):,f}{unit}"


def _previous_month_end(report: KpiReport) -> dict[tuple[str, str], Any]:
    """The latest trend point before the as-of day, per company code and currency."""
    found: dict[tuple[str, str], Any] = {}
    for point in sorted(report.trend, key=lambda p: p.month_end):
        if point.month_end < report.as_of:
            found[(point.company_code, point.currency)] = point
    return found


def _tile(label: str, value: str, change: str = "", trend: str = "") -> str:
    changed = f'<div class="d {trend}">{escape(change)}</div>' if change else '<div class="d">&nbsp;</div>'
    return (f'<div class="tile"><div class="k">{escape(label)}</div>'
            f'<div class="v">{escape(value)}</div>{changed}</div>')


def _tiles(report: KpiReport) -> str:
    previous = _previous_month_end(report)
    groups = []
    for row, d, reserve in report.headline():
        before = previous.get((row.company_code, row.currency))
        since = f" vs {before.month_end:%d %b}" if before else ""
        ar_change, ar_trend, dso_change, dso_trend = "", "", "", ""
        if before is not None and before.ar_total:
            pct = ratio((row.total - before.ar_total) / before.ar_total * 100) or ZERO
            ar_change, ar_trend = _signed(pct, "%") + since, "up" if pct > 0 else "down"
        if before is not None and before.dso_simple is not None and d.dso_simple is not None:
            days = ratio(d.dso_simple - before.dso_simple) or ZERO
            dso_change, dso_trend = _signed(days, " days") + since, "up" if days > 0 else "down"
        dso = ratio(d.dso_simple)
        cei = ratio(d.cei_percent)
        past_due = ratio(row.past_due_percent)
        tiles = [
            _tile(f"AR ({row.currency})", f"{_money(row.total, row.currency):,f}", ar_change, ar_trend),
            _tile("Past due", f"{past_due:f}%" if past_due is not None else "–",
                  f"{_money(row.past_due, row.currency):,f} {row.currency} overdue"),
            _tile("DSO", f"{dso:f} days" if dso is not None else "–", dso_change, dso_trend),
            _tile("CEI", f"{cei:f}%" if cei is not None else "–",
                  f"collected of what was collectible, last {report.config.cei_months} month(s)"),
            _tile(f"Bad-debt reserve ({row.currency})", f"{_money(reserve, row.currency):,f}"),
        ]
        group = f"Company code {row.company_code} · {row.currency}"
        groups.append(f'<div class="group">{escape(group)}</div><div class="tiles">{"".join(tiles)}</div>')
    return "".join(groups)


def _headline(report: KpiReport) -> str:
    rows = []
    for row, d, reserve in report.headline():
        rows.append([row.company_code, row.currency, _money(row.total, row.currency),
                     ratio(row.past_due_percent, 2), ratio(d.dso_simple),
                     ratio(d.countback.days if d.countback else None), ratio(d.best_possible_dso),
                     ratio(d.average_days_delinquent), ratio(d.cei_percent, 2),
                     _money(reserve, row.currency)])
    return _tiles(report) + _table(
        ["company code", "currency", "AR", "past due %", "DSO (days)", "countback DSO (days)",
         "best possible DSO (days)", "average days delinquent (ADD)", "CEI %", "bad-debt reserve"], rows)


def _aging_section(report: KpiReport) -> str:
    labels = report.bucket_labels
    charts = "".join(bar_chart(f"Aging, company code {r.company_code}", r.currency, labels,
                               [_money(b, r.currency) for b in r.buckets]) for r in report.aging)
    rows = [[r.company_code, r.currency, *(_money(b, r.currency) for b in r.buckets),
             _money(r.total, r.currency), ratio(r.past_due_percent, 2)] for r in report.aging]
    return (f'<p class="note">Open AR by days past the net due date on {report.as_of:%d %B %Y}.</p>'
            f'<div class="charts">{charts}</div>'
            + _table(["company code", "currency", *labels, "total", "past due %"], rows))


def _trend_section(report: KpiReport) -> str:
    by_group: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for point in report.trend:
        by_group[(point.company_code, point.currency)].append(point)
    now = {(r.company_code, r.currency): r for r in report.dso}
    charts = []
    for (code, currency), points in sorted(by_group.items()):
        labels = [f"{p.month_end:%d %b}" for p in points]
        simple: list[Decimal | None] = [p.dso_simple for p in points]
        countback: list[Decimal | None] = [p.dso_countback for p in points]
        current = now.get((code, currency))
        if current is not None and all(p.month_end < report.as_of for p in points):
            labels.append(f"{report.as_of:%d %b}")
            simple.append(current.dso_simple)
            countback.append(current.countback.days if current.countback else None)
        if len(labels) < 2:
            continue
        charts.append(line_chart(f"DSO, company code {code} ({currency})", "days", labels,
                                 {"simple DSO": simple, "countback DSO": countback}))
    rows = [[p.company_code, p.currency, p.month_end.isoformat(), _money(p.ar_total, p.currency),
             _money(p.credit_sales, p.currency), ratio(p.dso_simple), ratio(p.dso_countback)]
            for p in report.trend]
    return (f'<p class="note">Month-ends and the report date ({report.as_of:%d %b %Y}).</p>'
            f'<div class="charts">{"".join(charts)}</div>'
            + _table(["company code", "currency", "month end", "AR", "credit sales", "DSO (days)",
                      "countback DSO (days)"], rows) + _history_section(report))


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
        charts.append(line_chart(f"DSO by report date, {code} ({currency})", "days",
                                 [f"{d:%d %b}" for d in days],
                                 {"simple DSO": [by_day[d][0] for d in days],
                                  "countback DSO": [by_day[d][1] for d in days]}))
    return f'<div class="charts">{"".join(charts)}</div>' if charts else ""


def _history_section(report: KpiReport) -> str:
    if not report.history:
        return '<p class="note">No earlier report runs are stored yet; later runs will show them here.</p>'
    rows = [[s.run_at.strftime("%Y-%m-%d %H:%M"), s.as_of.isoformat(), s.company_code, s.currency,
             _money(s.ar_total, s.currency), ratio(s.past_due_percent, 2), ratio(s.dso_simple),
             ratio(s.dso_countback)] for s in report.history]
    return "<h3>Earlier report runs</h3>" + _runs_chart(report) + _table(
        ["run at (UTC)", "as of", "company code", "currency", "AR", "past due %", "DSO (days)",
         "countback DSO (days)"], rows)


def _percent_text(rate: Decimal) -> str:
    text = f"{rate * 100:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _reserve_section(report: KpiReport) -> str:
    labels = report.bucket_labels
    pairs = zip(labels, report.config.reserve_rates, strict=True)
    rates = ", ".join(f"{label} {_percent_text(rate)}%" for label, rate in pairs)
    rows = [[r.company_code, r.currency, *(_money(v, r.currency) for v in r.by_bucket),
             _money(r.total, r.currency)] for r in report.reserves]
    return f'<p class="note">Reserve rate per aging bucket: {escape(rates)}.</p>' + _table(
        ["company code", "currency", *labels, "reserve"], rows)


def _blocked_section(report: KpiReport) -> str:
    rows = [[r.company_code, r.currency, r.blocked_count, _money(r.blocked_value, r.currency),
             ratio(r.blocked_days_average), r.overrides_count, _money(r.overrides_value, r.currency),
             r.other_releases_count, ratio(r.days_to_release_average), ratio(r.days_to_release_median),
             ratio(r.days_to_release_max)] for r in report.blocked]
    window = report.config.release_window_days
    return (f'<p class="note">Sales orders on credit block at the end of {report.as_of:%d %b %Y}; releases '
            f"within the {window} days before. Released by a credit rep = credit status D (an override in "
            "VKM1); otherwise released by an automatic re-check.</p>"
            + _table(["company code", "currency", "blocked orders", "blocked value", "average days blocked",
                      "released by credit rep", "value released by rep", "released otherwise",
                      "average days to release", "median days to release", "longest days to release"], rows))


def _disputes_section(report: KpiReport) -> str:
    age = [[r.currency, r.label, r.count, _money(r.amount, r.currency)] for r in report.disputes_by_age]
    reason = [[r.currency, r.label, r.count, _money(r.amount, r.currency)] for r in report.disputes_by_reason]
    return ("<h3>Open cases by days open</h3>" + _table(["currency", "days open", "cases", "disputed"], age)
            + "<h3>Open cases by reason code</h3>"
            + '<p class="note">Reason codes are the FSCM dispute case reasons of the system '
              "(SAP customizing); their texts are not read from SAP.</p>"
            + _table(["currency", "reason code", "cases", "disputed"], reason))


def _recoveries_section(report: KpiReport) -> str:
    if report.recovery_run is None:
        return '<p class="note">No recoveries run yet.</p>'
    rows = [[r.currency, r.claims, _money(r.claimed, r.currency), _money(r.recovered, r.currency),
             ratio(r.rate_percent, 2), r.rejected_claims] for r in report.recoveries]
    finished = report.recovery_run.finished_at.strftime("%d %b %Y %H:%M UTC")
    return (f'<p class="note">From the recoveries reconciliation of {escape(finished)}; rejected claims '
            "count as claimed and not recovered.</p>"
            + _table(["currency", "claims", "claimed", "recovered", "recovery rate %", "rejected claims"],
                     rows))


def _broken_section(report: KpiReport) -> str:
    c = report.collections
    kept = [[k.currency, k.due, k.kept, ratio(k.percent, 2)] for k in c.kept_rates]
    age = [[r.currency, r.label, r.count, _money(r.amount, r.currency)] for r in c.broken_by_age]
    who = [[r.currency, r.label, r.count, _money(r.amount, r.currency)] for r in c.broken_by_collector]
    rows = [[b.company_code, b.customer, report.name_of(b.customer), b.collector, b.currency,
             _money(b.promised, b.currency), _money(b.paid, b.currency), _money(b.shortfall, b.currency),
             b.due_on.isoformat() if b.due_on else None, b.days_broken, b.level] for b in c.broken]
    return ('<p class="note">Promises to pay of FSCM Collections Management in state broken; the shortfall '
            "is promised less paid. Kept rate: kept promises over promises due by the report date (kept, "
            "partially kept or broken; open and withdrawn ones are not due).</p>"
            + "<h3>Kept rate</h3>" + _table(["currency", "promises due", "kept", "kept %"], kept)
            + "<h3>By days broken</h3>" + _table(["currency", "days broken", "promises", "shortfall"], age)
            + "<h3>By collector</h3>" + _table(["currency", "collector", "promises", "shortfall"], who)
            + "<h3>Broken promises</h3>"
            + _table(["company code", "customer", "name", "collector", "currency", "promised", "paid",
                      "shortfall", "due date", "days broken", "level"], rows))


def worklist_table(report: KpiReport, collector: str | None = None) -> str:
    """The worklist as an HTML table (one collector's, when given)."""
    labels = report.bucket_labels[1:]
    rows = [[w.company_code, w.rank, w.score, w.customer, report.name_of(w.customer), w.collector, w.currency,
             _money(w.overdue, w.currency), *(_money(v, w.currency) for v in w.overdue_buckets),
             w.oldest_days, w.broken_promises, w.risk_class or None, w.dunning_level, w.blocked_orders,
             w.next_action]
            for w in report.collections.worklist if collector is None or w.collector == collector]
    return _table(["company code", "rank", "score", "customer", "name", "collector", "currency", "overdue",
                   *labels, "oldest days past due", "broken promises", "risk class", "dunning level",
                   "blocked orders", "next action"], rows)


WORKLIST_NOTE = (
    "Every customer with an overdue balance, ranked per company code by a score of 0-100: overdue "
    "amount weighted by bucket (later buckets weigh more) against the largest in the company code, up "
    "to 40; days past due of the oldest item, up to 15; 10 per broken promise, up to 20; risk class "
    "A 0, B 3, C 6, D 10; 3 per dunning level, up to 9; 6 with orders waiting on a credit block. The "
    "collector is the accounting clerk of the customer's company code data (KNB1-BUSAB).")


def _worklist_section(report: KpiReport) -> str:
    return f'<p class="note">{escape(WORKLIST_NOTE)}</p>' + worklist_table(report)


def _exposure_section(report: KpiReport) -> str:
    c = report.collections
    seg = [[e.segment, e.currency, e.customers, _money(e.limit, e.currency), _money(e.exposure, e.currency),
            ratio(e.utilisation_percent, 2), e.over_limit] for e in c.exposure]
    over = [[o.segment, o.customer, report.name_of(o.customer), o.currency, _money(o.limit, o.currency),
             _money(o.open_ar, o.currency), _money(o.blocked_value, o.currency),
             _money(o.exposure, o.currency)] for o in c.over_limit]
    expiring = [[e.segment, e.customer, report.name_of(e.customer), e.currency, _money(e.limit, e.currency),
                 e.valid_to.isoformat(), e.days_left] for e in c.expiring]
    days = report.config.limit_expiry_days
    return ('<p class="note">Exposure = open AR plus the value of orders waiting on a credit block, in the '
            "company codes of the credit segment.</p>"
            + _table(["segment", "currency", "customers", "limits", "exposure", "utilisation %",
                      "over limit"], seg)
            + "<h3>Customers over their limit</h3>"
            + _table(["segment", "customer", "name", "currency", "limit", "open AR", "blocked orders",
                      "exposure"], over)
            + f"<h3>Limits expiring within {days} days</h3>"
            + _table(["segment", "customer", "name", "currency", "limit", "valid to", "days left"], expiring))


def _debtors_section(report: KpiReport) -> str:
    c = report.collections
    top = [[t.company_code, t.rank, t.customer, report.name_of(t.customer), t.collector, t.currency,
            _money(t.overdue, t.currency), _money(t.ar_total, t.currency), t.oldest_days]
           for t in c.top_debtors]
    overrides = [[o.approver, o.currency, o.releases, _money(o.value, o.currency)] for o in c.overrides]
    return (f"<h3>Top {report.config.top_debtors} debtors by overdue amount</h3>"
            + _table(["company code", "rank", "customer", "name", "collector", "currency", "overdue", "AR",
                      "oldest days past due"], top)
            + "<h3>Blocked-order overrides by approver</h3>"
            + '<p class="note">Orders released from a credit block through sapbridge push batches '
              "(kind releases), per approver who approved the batch.</p>"
            + _table(["approver", "currency", "releases", "value"], overrides))


_GLOSSARY = [
    ("AR (accounts receivable)", "What customers owe: open items posted on or before the report date "
     "and not settled by it, in company-code currency."),
    ("Past due %", "Share of AR whose net due date has passed."),
    ("DSO (days sales outstanding), in days",
     "AR divided by the credit sales of the last {dso_months} months, times the days in those months: "
     "how many days of sales are not yet collected."),
    ("Countback DSO, in days", "Days of the most recent credit sales, walking back month by month, that "
     "add up to today's AR; less distorted by a seasonal month than simple DSO."),
    ("Best possible DSO, in days", "The DSO if nothing were overdue: current (not yet due) AR over the same "
     "sales and days."),
    ("ADD (average days delinquent)", "DSO minus best possible DSO: the days customers pay late on average."),
    ("CEI (collection effectiveness index), %",
     "Of what could have been collected over the last {cei_months} month(s) (beginning AR plus credit "
     "sales), the share collected, leaving out what was not yet due. 100% collects everything collectible."),
    ("Bad-debt reserve", "Each aging bucket's balance times its reserve rate: the allowance for doubtful "
     "accounts this report proposes."),
    ("Recovery rate", "Recovered over claimed, per currency, over the claims of the latest recoveries "
     "reconciliation."),
]


def _glossary(report: KpiReport) -> str:
    cfg = report.config
    values = {"dso_months": cfg.dso_months, "cei_months": cfg.cei_months}
    items = "".join(f"<dt>{escape(term)}</dt><dd>{escape(text.format(**values))}</dd>"
                    for term, text in _GLOSSARY)
    return f'<dl class="glossary">{items}</dl>'


def _conventions(report: KpiReport) -> str:
    """The conventions in effect, in words."""
    cfg = report.config
    days = "actual calendar days" if cfg.month_days is None else f"{cfg.month_days}-day months"
    sales = "credit sales divided by the months" if cfg.cei_divide_by_months else "undivided credit sales"
    return (f"Aging buckets {', '.join(report.bucket_labels)} days past due. DSO over {cfg.dso_months} "
            f"months ({days}); countback up to {cfg.countback_months} months"
            f"{', net of the reserve' if cfg.countback_net_of_reserve else ''}; CEI over {cfg.cei_months} "
            f"month(s) with {sales}. Credit sales are invoices of document types "
            f"{', '.join(cfg.invoice_document_types)}. Blocked-order releases over the last "
            f"{cfg.release_window_days} days.")


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{escape(title)}</h2>{body}</section>'


def render_html(report: KpiReport) -> str:
    """The whole page: headline tiles, one section per KPI (one printed page each), glossary."""
    notes = "".join(f"<li>{escape(n)}</li>" for n in report.notes)
    title = f"Credit and collections: {report.system}, {report.as_of:%d %B %Y}"
    subtitle = (f"Company codes {', '.join(report.company_codes)} · report date {report.as_of.isoformat()} · "
                f"generated {report.generated_at:%d %b %Y %H:%M} UTC")
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{_CSS}</style></head><body>"
        + f'<section id="headline"><h1>{escape(title)}</h1><p class="note">{escape(subtitle)}</p>'
          f"{_headline(report)}</section>"
        + _section("aging", "Aging", _aging_section(report))
        + _section("dso", "DSO trend", _trend_section(report))
        + _section("reserve", "Bad-debt reserve", _reserve_section(report))
        + _section("blocked", "Blocked orders", _blocked_section(report))
        + _section("disputes", "Disputes", _disputes_section(report))
        + _section("recoveries", "Recoveries", _recoveries_section(report))
        + _section("broken-promises", "Broken promises", _broken_section(report))
        + _section("worklist", "Collections worklist", _worklist_section(report))
        + _section("exposure", "Credit exposure", _exposure_section(report))
        + _section("debtors", "Top debtors and overrides", _debtors_section(report))
        + _section("glossary", "Glossary and conventions",
                   _glossary(report) + f'<p class="note">{escape(_conventions(report))}</p>'
                   f"<h3>Notes</h3><ul>{notes}</ul>")
        + "</body></html>"
    )
