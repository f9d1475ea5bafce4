"""``sapbridge reconcile cash``, ``cash-confirm`` and ``habits``: cash application, learning from
approvals, and forgetting what was learned wrongly."""

from __future__ import annotations

from pathlib import Path

import click

from sapbridge.bankfiles import FORMATS
from sapbridge.cli.context import AppContext
from sapbridge.cli.output import echo_json, print_table
from sapbridge.reconcile.cash.habit_admin import HABIT_COLUMNS

__all__ = ["SUBCOMMANDS", "cash", "cash_confirm", "habits"]


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
    result = app.bridge.reconcile_cash(payments, out, system=name, fmt=fmt, open_items=open_items,
                                       customers=customers, advices=advices)
    if as_json:
        echo_json(result.summary)
        return
    s = result.summary
    print_table(f"cash {name} (run {result.run_id})", ["figure", "value"], [
        ["payments", s["payments"]], ["auto-matched", s["auto_matched_payments"]],
        ["auto-match rate", s["auto_match_rate"]], ["suggested", s["suggested_payments"]],
        ["exceptions", ", ".join(f"{k} {v}" for k, v in s["exceptions"].items()) or "none"],
        ["needs review", result.needs_review],
        *([["advices linked", f"{s['advices']['linked']} of {s['advices']['given']}"]]
          if "advices" in s else []),
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
    outcome = app.bridge.confirm_cash(matches, system=name)
    summary = {"rows": outcome.rows, "found": outcome.found, "habits_learned": outcome.habits_learned,
               "reference_habits_learned": outcome.reference_habits_learned}
    if as_json:
        echo_json(summary)
        return
    print_table(f"cash-confirm {name}", ["figure", "value"], [[k, v] for k, v in summary.items()])


@click.group("habits")
def habits() -> None:
    """List or forget the habits cash-confirm learned (payer accounts and names, reference habits).

    \b
    Example:
      sapbridge reconcile habits list --system demo
      sapbridge reconcile habits forget --customer 100001 --field document --pattern last:4
    """


@habits.command("list")
@click.option("--system", help="System whose habits to list (default: demo).")
@click.option("--customer", help="Only this customer's habits.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable rows.")
def habits_list(system: str | None, customer: str | None, as_json: bool) -> None:
    """Show learned habits with their confirmations and who confirmed them last.

    \b
    Example:
      sapbridge reconcile habits list --customer 100001
    """
    app = _app()
    name = app.settings.system(system).name
    rows = app.bridge.cash_habits(system=name, customer=customer)
    if as_json:
        echo_json([dict(zip(HABIT_COLUMNS, h.row(), strict=True)) for h in rows])
        return
    print_table(f"habits {name}", list(HABIT_COLUMNS), [list(h.row()) for h in rows])


@habits.command("forget")
@click.option("--system", help="System the habit belongs to (default: demo).")
@click.option("--customer", required=True, help="Customer whose habit to forget.")
@click.option("--field", help="Reference habit: the field (reference, document, assignment, "
                              "billing_document, payment_order).")
@click.option("--pattern", help="Reference habit: the pattern (digits, last:4, affix:P|S, oldest_first ...).")
@click.option("--payer-key", help="Payer habit: the account or name key as listed.")
@click.option("--all", "everything", is_flag=True, help="Every habit of the customer.")
def habits_forget(system: str | None, customer: str, field: str | None, pattern: str | None,
                  payer_key: str | None, everything: bool) -> None:
    """Forget a habit learned from a wrong confirmation (recorded in the audit log).

    \b
    Example:
      sapbridge reconcile habits forget --customer 100001 --field document --pattern last:4
    """
    app = _app()
    name = app.settings.system(system).name
    gone = app.bridge.forget_cash_habits(customer, system=name, field=field, pattern=pattern,
                                         payer_key=payer_key, everything=everything)
    print_table(f"forgotten {name}", list(HABIT_COLUMNS), [list(h.row()) for h in gone])


SUBCOMMANDS = [cash, cash_confirm, habits]
