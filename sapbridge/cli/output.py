"""Shared output helpers: JSON summaries, tables, and progress bars on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

import click
import orjson
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sapbridge.errors import InputError

__all__ = ["ISO_DATE", "IsoDate", "RunningTotal", "echo_json", "print_table", "progress_bars"]


def echo_json(data: Any) -> None:
    """Print a machine-readable summary (Decimals and dates as strings)."""
    click.echo(orjson.dumps(data, default=str, option=orjson.OPT_INDENT_2).decode())


_NUMERIC_HEADERS = frozenset({"read", "inserted", "updated", "cleared", "skipped", "seconds", "review",
                              "steps", "duration", "attempts", "#", "value"})


def _needed_width(headers: Sequence[str], texts: Sequence[Sequence[str]]) -> int:
    widths = [max([len(h), *(len(r[i]) for r in texts if i < len(r))]) for i, h in enumerate(headers)]
    return sum(widths) + 3 * len(widths) + 1


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], *,
                optional: Sequence[str] = ()) -> None:
    """A readable table on stdout, at any width and when piped: nothing is cut off with "…".

    The first column (what a row is) and the short numeric columns are kept whole; other columns
    fold onto further lines. When even that does not fit, the ``optional`` columns are left out
    (the ``--json`` output has everything).
    """
    console = Console()
    names = list(headers)
    texts = [["" if v is None else str(v) for v in row] for row in rows]
    for name in reversed(optional):
        if _needed_width(names, texts) <= console.width or name not in names:
            continue
        index = names.index(name)
        names.pop(index)
        texts = [r[:index] + r[index + 1:] for r in texts]
    table = Table(title=title)
    for index, header in enumerate(names):
        whole = index == 0 or header in _NUMERIC_HEADERS
        longest = max([len(header), *(len(r[index]) for r in texts if index < len(r))])
        table.add_column(header, justify="right" if header in _NUMERIC_HEADERS else "left",
                         no_wrap=whole, min_width=longest if whole else None, overflow="fold")
    for row in texts:
        table.add_row(*row)
    console.print(table)


class IsoDate(click.ParamType):
    """A ``YYYY-MM-DD`` option: a bad value is one line and exit 1, like every other bad input."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            option = param.opts[0] if param is not None and param.opts else "date"
            msg = f"{option}: not a date: {value!r} (use YYYY-MM-DD)"
            raise InputError(msg) from None


ISO_DATE = IsoDate()


class RunningTotal:
    """The expected total of a dataset read in partitions (one per company code, say).

    Each page reports its partition's total, so a plain "latest total" shrinks back to one
    company code's count while the rows read keep adding up (``149/42``). A reported total
    after the current partition is complete starts the next partition; the bar's total is the
    finished partitions' rows plus the current partition's total.
    """

    def __init__(self) -> None:
        self.done_before = 0
        self.in_partition = 0
        self.partition_total: int | None = None

    def add(self, rows: int, total: int | None) -> int | None:
        """Count one page; return the total to show (None while unknown)."""
        if total is not None and (self.partition_total is None or self.in_partition >= self.partition_total):
            self.done_before += self.in_partition
            self.in_partition = 0
            self.partition_total = total
        self.in_partition += rows
        if self.partition_total is None:
            return None
        return self.done_before + max(self.partition_total, self.in_partition)


@contextmanager
def progress_bars(enabled: bool) -> Iterator[Callable[[str], Callable[[int, int | None], None]] | None]:
    """Per-dataset progress bars on a terminal; nothing when unattended."""
    if not enabled:
        yield None
        return
    with Progress(TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=Console(file=sys.stderr), transient=False) as bars:

        def factory(dataset: str) -> Callable[[int, int | None], None]:
            task = bars.add_task(dataset, total=None)
            running = RunningTotal()

            def advance(rows: int, total: int | None) -> None:
                shown = running.add(rows, total)
                if shown is not None:
                    bars.update(task, total=shown)
                bars.advance(task, rows)

            return advance

        yield factory
