"""Checks that stop a sync before it writes something wrong: pure functions that raise.

* a read that returned fewer (or more) rows than SAP said it had (``$inlinecount``);
* a snapshot that would clear more than a share of a partition's open items (a gateway that
  ended paging early, or a filter that silently narrowed, looks exactly like mass clearing);
* a value longer than its column: SQLite would store it, PostgreSQL would refuse it; both now
  refuse it the same way, before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, Table

from sapbridge.errors import ControlError, MappingError, ProtocolError

__all__ = ["ClearPolicy", "check_clear_share", "check_count", "check_lengths", "column_widths"]


@dataclass(frozen=True, slots=True)
class ClearPolicy:
    """How much of a partition one snapshot may clear without ``--allow-mass-clear``."""

    max_share: float = 0.5
    min_rows: int = 10
    """Clearing this many items or fewer is never refused (a small partition's normal day)."""
    allow: bool = False


def check_count(where: str, read: int, total: int | None) -> None:
    """Refuse a read whose row count differs from the count SAP reported for it."""
    if total is not None and read != total:
        msg = (f"{where}: SAP reported {total:,} rows ($inlinecount) but paging returned {read:,}; "
               "the read is incomplete (gateway page limit, or data changed while paging), so "
               "nothing was written or cleared; sync again")
        raise ProtocolError(msg)


def check_clear_share(where: str, *, to_clear: int, open_before: int, read: int,
                      policy: ClearPolicy) -> None:
    """Refuse a snapshot that would clear more than the policy's share of the open items."""
    if policy.allow or to_clear <= policy.min_rows or open_before == 0:
        return
    share = to_clear / open_before
    if share > policy.max_share:
        msg = (f"{where}: this snapshot would clear {to_clear:,} of {open_before:,} open items "
               f"({share:.0%}, more than {policy.max_share:.0%}) after reading {read:,} rows from "
               "SAP; a read cut short or a narrowed filter looks like this. Nothing was written. "
               "If SAP really cleared them, sync again with --allow-mass-clear")
        raise ControlError(msg, to_clear=to_clear, open_before=open_before)


def column_widths(table: Table, columns: Sequence[str]) -> list[tuple[int, str, int]]:
    """(position, column, width) of each bounded text column among ``columns``."""
    widths = []
    for position, name in enumerate(columns):
        kind = table.c[name].type
        if isinstance(kind, String) and kind.length:
            widths.append((position, name, int(kind.length)))
    return widths


def check_lengths(dataset: str, rows: Sequence[tuple[Any, ...]], widths: Sequence[tuple[int, str, int]],
                  key_at: Sequence[int]) -> None:
    """Refuse rows with a text value longer than its column, naming dataset, field, key, length."""
    if not rows or not widths:
        return
    columns = list(zip(*rows, strict=True))
    for position, name, width in widths:
        values = [v for v in columns[position] if v.__class__ is str]
        if max(map(len, values), default=0) <= width:
            continue
        row = next(r for r in rows if r[position].__class__ is str and len(r[position]) > width)
        key = ", ".join(str(row[i]) for i in key_at)
        msg = (f"{dataset}: field {name} of key ({key}) is {len(row[position])} characters "
               f"({row[position]!r}), the column holds {width}; nothing was written "
               "(adjust the mapping's conversion for this site)")
        raise MappingError(msg)
