"""``sapbridge report kpis``: the monthly credit and collections figures as XLSX and HTML."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from sapbridge.cli.context import AppContext
from sapbridge.cli.output import ISO_DATE, echo_json

__all__ = ["SUBCOMMANDS", "kpis"]


@click.command()
@click.option("--system", "system", help="Configured system (default: [defaults] system, else demo).")
@click.option("--as-of", "as_of", type=ISO_DATE,
              help="Report date (default: the system's key date, e.g. the demo's, else today).")
@click.option("--company-code", "company_codes", multiple=True, metavar="CC",
              help="Company code(s) to report (default: every one in the store).")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for kpis.xlsx and kpis.html (replaced as a whole).")
@click.option("--json", "as_json", is_flag=True, help="Print the headline figures as JSON.")
def kpis(system: str | None, as_of: date | None, company_codes: tuple[str, ...], out: Path,
         as_json: bool) -> None:
    """Aging, DSO (simple, countback, best possible), ADD, CEI, reserve, blocked orders, disputes.

    \b
    Example:
      sapbridge report kpis --system demo --out out/kpis
      sapbridge report kpis --as-of 2026-10-31 --company-code 1000 --out out/oct --json
    """
    app = click.get_current_context().find_object(AppContext)
    assert app is not None
    day = as_of
    name = app.settings.system(system).name
    result = app.bridge.kpi_report(out, system=name, as_of=day, company_codes=company_codes or None)
    if as_json:
        echo_json(result.summary)
        return
    click.echo(f"KPI report of {name} as of {result.report.as_of} written to {out}")
    for row in result.summary["receivables"]:
        click.echo(f"  {row['company_code']} {row['currency']}: AR {row['ar_total']}, past due "
                   f"{row['past_due_percent']}%, DSO {row['dso_simple']}, countback {row['dso_countback']}, "
                   f"CEI {row['cei_percent']}%")


SUBCOMMANDS = [kpis]
