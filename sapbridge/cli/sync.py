"""``sapbridge sync``: pull SAP objects into the store."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from sapbridge.cli.context import AppContext
from sapbridge.cli.output import echo_json, print_table, progress_bars
from sapbridge.sync.engine import ALL_OBJECTS

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
@click.option("--allow-mass-clear", is_flag=True,
              help="Clear even when a snapshot would clear more than --max-clear-share of a partition.")
@click.option("--max-clear-share", type=click.FloatRange(0, 1), metavar="SHARE",
              help="Largest share of a partition's open items one snapshot may clear (default 0.5).")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@click.pass_obj
def sync(app: AppContext, objects: tuple[str, ...], system: str | None,
         company_codes: tuple[str, ...], full: bool, route: str | None, record_dir: Path | None,
         allow_mass_clear: bool, max_clear_share: float | None, as_json: bool) -> None:
    """Sync AR open items, credit segments, blocked orders, disputes and customers into the store.

    \b
    Example:
      sapbridge sync all --system demo
      sapbridge sync open_items --system PRD --company-code 1000 --full
      sapbridge sync customers --system QAS --record fixtures/qas
    """
    with progress_bars(app.interactive and not as_json) as progress:
        summary = app.bridge.sync(objects or ("all",), system=system, company_codes=company_codes,
                                  full=full, route=route, record_dir=record_dir, progress=progress,
                                  allow_mass_clear=allow_mass_clear, max_clear_share=max_clear_share,
                                  run_id=app.run_id)
    if as_json:
        echo_json(summary.as_dict())
        return
    print_table(
        f"sync {summary.system}: {summary.status} (run {summary.run_id[:8]})",
        ["dataset", "route", "mode", "read", "inserted", "updated", "unchanged", "cleared", "skipped",
         "seconds"],
        [[d.dataset, d.route, d.mode, d.read, d.inserted, d.updated, d.unchanged, d.cleared, d.skipped,
          d.seconds] for d in summary.datasets],
        optional=("route", "skipped", "seconds"),
    )


@click.command("sync-history")
@click.option("--system", "system", help="Only runs of this system.")
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True, help="How many runs.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable runs.")
@click.pass_obj
def sync_history_command(app: AppContext, system: str | None, limit: int, as_json: bool) -> None:
    """Recent sync runs, newest first; a run whose process died shows as interrupted.

    \b
    Example:
      sapbridge sync-history --system demo
    """
    runs = app.bridge.sync_history(system=system, limit=limit)
    if as_json:
        echo_json([{**asdict(r), "started_at": r.started_at.isoformat(),
                    "finished_at": r.finished_at.isoformat() if r.finished_at else None} for r in runs])
        return
    print_table("sync runs", ["run", "system", "status", "started", "finished", "rows", "error"],
                [[r.run_id, r.system, r.status, f"{r.started_at:%Y-%m-%d %H:%M:%S}",
                  f"{r.finished_at:%Y-%m-%d %H:%M:%S}" if r.finished_at else "", r.rows or 0, r.error or ""]
                 for r in runs])


COMMANDS = [sync, sync_history_command]
