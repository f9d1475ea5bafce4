"""Shared output helpers: JSON summaries, tables, and progress bars on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click
import orjson
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

__all__ = ["echo_json", "print_table", "progress_bars"]


def echo_json(data: Any) -> None:
    """Print a machine-readable summary (Decimals and dates as strings)."""
    click.echo(orjson.dumps(data, default=str, option=orjson.OPT_INDENT_2).decode())


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A readable table on stdout."""
    table = Table(title=title)
    for header in headers:
        table.add_column(header, justify="right" if header in {"read", "inserted", "updated",
                                                                "cleared", "skipped", "seconds"}
                         else "left")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    Console().print(table)


@contextmanager
def progress_bars(enabled: bool) -> Iterator[Callable[[str], Callable[[int, int | None], None]] | None]:
    """Per-dataset progress bars on a terminal; nothing when unattended."""
    if not enabled:
        yield None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=Console(file=sys.stderr), transient=False) as bars:

        def factory(dataset: str) -> Callable[[int, int | None], None]:
            task = bars.add_task(dataset, total=None)

            def advance(rows: int, total: int | None) -> None:
                if total is not None:
                    bars.update(task, total=total)
                bars.advance(task, rows)

            return advance

        yield factory
