"""``sapbridge reconcile cash`` and ``cash-confirm``: cash application and learning from approvals."""

from __future__ import annotations

from pathlib import Path

import click

from sapbridge.bankfiles import FORMATS
from sapbridge.cli.context import AppContext
from sapbridge.cli.output import echo_json, print_table
from sapbridge.reconcile.cash import confirm_matches, load_config, run_cash

__all__ = ["SUBCOMMANDS", "cash", "cash_confirm"]


def _app() -> AppContext:
    app = click.get_current_context().find_object(AppContext)
    if app is None:  # pragma: no cover - always set by the top-level group
        raise click.UsageError("run through the sapbridge command")
    return app


@click.command("cash")
@click.option("--payments", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Bank file: camt.053/054 XML, MT940, BAI2, or CSV/XLSX.")
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)),
              help="Bank file format (default: detected from the content).")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for matches.csv, suggestions.csv, exceptions.csv and cash.xlsx.")
@click.option("--system", help="System whose open items and customers are used (default: demo).")
@click.option("--open-items", type=click.Path(dir_okay=False, path_type=Path),
              help="Open items CSV/XLSX instead of the store.")
@click.option("--customers", type=click.Path(dir_okay=False, path_type=Path),
              help="Customers CSV/XLSX (customer,name,account) instead of the store.")
@click.option("--advices", type=click.Path(dir_okay=False, path_type=Path),
              help="Remittance advices CSV/XLSX received apart from the payments (REMADV/820, e-mail).")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
def cash(payments: Path, fmt: str | None, out: Path, system: str | None, open_items: Path | None,
         customers: Path | None, advices: Path | None, as_json: bool) -> None:
    """Match incoming payments to open items; write what to apply, suggest and look at.

    \b
    Example:
      sapbridge sync all --system demo
      sapbridge reconcile cash --payments fixtures/samples/bank-demo.camt053.xml --out out/cash
      sapbridge reconcile cash --payments bank.csv --open-items items.xlsx --out out/cash --json
      sapbridge reconcile cash --payments bank.xml --advices advices.csv --out out/cash
    """
    app = _app()
    name = app.settings.system(system).name
    result = run_cash(app.store, app.settings, system=name, payments=payments, out=out, fmt=fmt,
                      open_items=open_items, customers=customers, advices=advices, actor=app.actor)
    if as_json:
        echo_json(result.summary)
        return
    s = result.summary
    print_table(f"cash {name} (run {result.run_id})", ["figure", "value"], [
        ["payments", s["payments"]], ["auto-matched", s["auto_matched_payments"]],
        ["auto-match rate", s["auto_match_rate"]], ["suggested", s["suggested_payments"]],
        ["exceptions", ", ".join(f"{k} {v}" for k, v in s["exceptions"].items()) or "none"],
        ["needs review", result.needs_review],
        *([["advices linked", f"{s['advices']['linked']} of {s['advices']['given']}"]] if "advices" in s else []),
        ["written to", str(out)],
    ])


@click.command("cash-confirm")
@click.option("--matches", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="A matches.csv or suggestions.csv a person approved.")
@click.option("--system", help="System the matches belong to (default: demo).")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
def cash_confirm(matches: Path, system: str | None, as_json: bool) -> None:
    """Remember who paid for whom, and how customers write references, from approved matches.

    \b
    Example:
      sapbridge reconcile cash-confirm --matches out/cash/suggestions.csv
    """
    app = _app()
    name = app.settings.system(system).name
    min_length = load_config(app.settings.section("cash")).reference_min_length
    outcome = confirm_matches(app.store, system=name, matches=matches, actor=app.actor, min_length=min_length)
    summary = {"rows": outcome.rows, "found": outcome.found, "habits_learned": outcome.habits_learned,
               "reference_habits_learned": outcome.reference_habits_learned}
    if as_json:
        echo_json(summary)
        return
    print_table(f"cash-confirm {name}", ["figure", "value"], [[k, v] for k, v in summary.items()])


SUBCOMMANDS = [cash, cash_confirm]
