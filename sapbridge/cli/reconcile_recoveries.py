"""``sapbridge reconcile recoveries``: dispute cases versus the recovery provider's claims."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from sapbridge.cli.context import AppContext
from sapbridge.cli.output import ISO_DATE, echo_json, print_table
from sapbridge.reconcile.recoveries import CATEGORIES, NEEDS_REVIEW

__all__ = ["SUBCOMMANDS", "recoveries"]


@click.command()
@click.option("--claims", "claims", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="The recovery provider's claims (CSV or XLSX).")
@click.option("--disputes", "disputes", type=click.Path(dir_okay=False, path_type=Path),
              help="Dispute cases from a file instead of the store's disputes table.")
@click.option("--system", "system", help="Configured system (default: [defaults] system, else demo).")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for a CSV per category and recoveries.xlsx (replaced on success).")
@click.option("--as-of", "as_of", type=ISO_DATE,
              help="Key date for the age of unclaimed cases (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
def recoveries(claims: Path, disputes: Path | None, system: str | None, out: Path,
               as_of: date | None, as_json: bool) -> None:
    """Reconcile dispute cases with post-audit recovery claims: nothing paid or recovered twice.

    \b
    Example:
      sapbridge sync all --system demo
      sapbridge reconcile recoveries --claims fixtures/samples/claims-demo.csv --out out/recoveries
      sapbridge reconcile recoveries --claims claims.xlsx --disputes cases.csv --out out/rec --json
    """
    app = click.get_current_context().find_object(AppContext)
    assert app is not None
    result = app.bridge.reconcile_recoveries(claims, out, system=system, disputes=disputes,
                                             as_of=as_of)
    if as_json:
        echo_json(result.summary)
        return
    categories = result.summary["categories"]
    print_table(
        f"recoveries {result.summary['system']} as of {result.summary['as_of']} "
        f"({result.needs_review} rows need review; files in {result.out})",
        ["category", "owner", "rows", "review", "amounts"],
        [[name, categories[name]["owner"], categories[name]["rows"],
          "yes" if name in NEEDS_REVIEW else "",
          _amounts(name, categories[name]["currencies"])]
         for name in CATEGORIES],
    )


def _amounts(category: str, currencies: dict[str, dict[str, str]]) -> str:
    """Claimed amounts per currency (the cases' deductions for cases nobody claimed)."""
    field = "disputed_amount" if category == "dispute_without_claim" else "claim_amount"
    return ", ".join(f"{currency} {values[field]}" for currency, values in currencies.items())


SUBCOMMANDS = [recoveries]
