"""``sapbridge sync``: pull SAP objects into the store."""

from __future__ import annotations

from pathlib import Path

import click

from sapbridge.cli.context import AppContext
from sapbridge.cli.output import echo_json, print_table, progress_bars
from sapbridge.sync.engine import ALL_OBJECTS
from sapbridge.sync.service import sync_system

__all__ = ["COMMANDS", "sync"]


@click.command()
@click.argument("objects", nargs=-1, type=click.Choice(["all", *ALL_OBJECTS]))
@click.option("--system", "system", help="Configured system (default: [defaults] system, else demo).")
@click.option("--company-code", "company_codes", multiple=True, metavar="CC",
              help="Company code(s) to sync (default: the system's company_codes).")
@click.option("--full", is_flag=True, help="Read everything again instead of changes since the bookmark.")
@click.option("--route", type=click.Choice(["odata", "rfc"]), help="Force one route for every object.")
@click.option("--record", "record_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Record SAP's responses into DIR as replayable fixtures (secrets removed).")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@click.pass_obj
def sync(app: AppContext, objects: tuple[str, ...], system: str | None,
         company_codes: tuple[str, ...], full: bool, route: str | None, record_dir: Path | None,
         as_json: bool) -> None:
    """Sync AR open items, credit segments, blocked orders, disputes and customers into the store.

    \b
    Example:
      sapbridge sync all --system demo
      sapbridge sync open_items --system PRD --company-code 1000 --full
      sapbridge sync customers --system QAS --record fixtures/qas
    """
    with progress_bars(app.interactive and not as_json) as progress:
        summary = sync_system(app.settings, app.store, system=system, objects=objects or ("all",),
                              company_codes=company_codes, full=full, route=route,
                              record_dir=record_dir, run_id=app.run_id, actor=app.actor,
                              progress=progress)
    if as_json:
        echo_json(summary.as_dict())
        return
    print_table(
        f"sync {summary.system}: {summary.status} (run {summary.run_id[:8]})",
        ["dataset", "route", "mode", "read", "inserted", "updated", "cleared", "skipped", "seconds"],
        [[d.dataset, d.route, d.mode, d.read, d.inserted, d.updated, d.cleared, d.skipped, d.seconds]
         for d in summary.datasets],
        optional=("route", "skipped", "seconds"),
    )


COMMANDS = [sync]
