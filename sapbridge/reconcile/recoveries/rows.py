"""The data rows of a claims or cases file (CSV or XLSX), a chunk of columns at a time.

A million-row file read whole holds every cell of every row as a Python string at once (about
1.9 GB for a million cases); read in chunks, only one chunk's cells are alive beside the records
already built from the chunks before.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

from sapbridge.errors import InputError
from sapbridge.tabular import _raw_rows

__all__ = ["CHUNK_ROWS", "Chunk", "FileRows"]

CHUNK_ROWS = 20_000
"""Rows per chunk: large enough that per-chunk work is negligible, small enough to stay cheap."""

T = TypeVar("T")

Chunk = tuple[list[int], dict[str, list[Any]]]
"""Row numbers (the header is row 1), and each column's values in those rows."""


class FileRows:
    """The data rows of one file, with their row numbers, for the columns a reader knows."""

    def __init__(self, path: Path, columns: Sequence[str], required: Sequence[str]) -> None:
        self.path = path
        self.columns = columns
        self.required = required
        self.names: list[str] = []
        self.text_only = path.suffix.lower() not in {".xlsx", ".xlsm"}
        """True for CSV: every value is a string (XLSX cells may be numbers or dates)."""

    def fail(self, problem: str, row: int | None = None) -> InputError:
        return InputError(problem, path=str(self.path), row=row)

    def chunks(self) -> Iterator[Chunk]:
        """Every data row, :data:`CHUNK_ROWS` at a time (blank rows left out; absent columns empty)."""
        size = CHUNK_ROWS
        raw = _raw_rows(self.path)
        header = self._read(lambda: next(raw, None))
        if header is None:
            raise self.fail("empty file (no header row)")
        indices = self._header(header)
        width = max(indices) + 1
        first, found = 2, False
        while rows := self._read(lambda: list(islice(raw, size))):
            count = len(rows)
            if self._rectangular(rows, width):
                numbers = list(range(first, first + count))
            else:
                numbers, rows = self._tidy(rows, width, first)
            first += count
            if rows:
                found = True
                yield numbers, self._columns(rows, indices, len(numbers))
        if not found:
            raise self.fail("no data rows")

    def _read(self, read: Callable[[], T]) -> T:
        try:
            return read()
        except (UnicodeDecodeError, csv.Error) as exc:
            raise self.fail(f"unreadable: {exc}") from None

    def _columns(self, rows: list[list[Any]], indices: list[int], count: int) -> dict[str, list[Any]]:
        columns = list(zip(*rows, strict=False))  # rows may run on past the last column we read
        blank = [""] * count
        table = {name: list(columns[index]) for name, index in zip(self.names, indices, strict=True)}
        return {name: table.get(name, blank) for name in self.columns}

    def _header(self, header: list[Any]) -> list[int]:
        positions = {str(name).strip().lower(): i for i, name in enumerate(header)}
        missing = [name for name in self.required if name not in positions]
        if missing:
            raise self.fail(f"missing column(s): {', '.join(missing)}", row=1)
        self.names = [name for name in self.columns if name in positions]
        return [positions[name] for name in self.names]

    def _rectangular(self, rows: list[list[Any]], width: int) -> bool:
        """True when every row is wide enough and none is blank (checked without a Python loop)."""
        if not rows or not self.text_only or min(map(len, rows)) < width:
            return False
        return all(map(str.strip, map(itemgetter(0), rows)))

    @staticmethod
    def _tidy(rows: list[list[Any]], width: int, first: int) -> tuple[list[int], list[list[Any]]]:
        """Rows without the blank ones, padded to ``width``, with their row numbers."""
        numbers: list[int] = []
        kept: list[list[Any]] = []
        for number, cells in enumerate(rows, start=first):
            if _blank(cells):
                continue
            numbers.append(number)
            kept.append(cells if len(cells) >= width else [*cells, *([""] * (width - len(cells)))])
        return numbers, kept


def _blank(cells: Sequence[Any]) -> bool:
    return not any(cell is not None and str(cell).strip() for cell in cells)
