"""``sapbridge report worklist``: the collections worklist on its own, for the daily run."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from sapbridge.cli.context import AppContext
from sapbridge.cli.output import ISO_DATE, echo_json

__all__ = ["SUBCOMMANDS", "worklist"]


@click.command()
@click.option("--system", "system", help="Configured system (default: [defaults] system, else demo).")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="Directory for worklist.xlsx and worklist.csv (worklist-COLLECTOR.* with --collector).")
@click.option("--collector", "collector", metavar="X",
              help="Only this collector's customers (the accounting clerk, KNB1-BUSAB).")
@click.option("--as-of", "as_of", type=ISO_DATE,
              help="Report date (default: the system's key date, e.g. the demo's, else today).")
@click.option("--company-code", "company_codes", multiple=True, metavar="CC",
              help="Company code(s) (default: every one in the store).")
@click.option("--json", "as_json", is_flag=True, help="Print the worklist rows as JSON.")
def worklist(system: str | None, out: Path, collector: str | None, as_of: date | None,
             company_codes: tuple[str, ...], as_json: bool) -> None:
    """Every customer with overdue items, ranked by score, with the next action.

    \b
    Example:
      sapbridge report worklist --system demo --out out/worklist
      sapbridge report worklist --out out/worklist --collector 02 --json
    """
    app = click.get_current_context().find_object(AppContext)
    assert app is not None
    name = app.settings.system(system).name
    result = app.bridge.worklist(out, system=name, collector=collector, as_of=as_of,
                                 company_codes=company_codes or None)
    if as_json:
        echo_json({"system": name, "as_of": result.report.as_of.isoformat(), "collector": collector,
                   "files": [str(p) for p in result.files], "worklist": result.rows})
        return
    whose = f" of collector {collector}" if collector else ""
    click.echo(f"Worklist{whose} of {name} as of {result.report.as_of}: {len(result.rows)} customers, "
               f"written to {', '.join(str(p) for p in result.files)}")
    for row in result.rows[:5]:
        click.echo(f"  {row['company_code']} #{row['rank']} {row['customer']} {row['name']}: score "
                   f"{row['score']}, overdue {row['overdue']} {row['currency']} -> {row['next_action']}")


SUBCOMMANDS = [worklist]
