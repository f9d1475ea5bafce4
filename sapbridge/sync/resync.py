"""A snapshot resync of one partition, page by page, told apart from the store in memory; and
the pages of a first load, converted where the resync's pages are.

Each page's raw entities go, as one JSON array, to where the partition's pages are handled (the
worker process for big pages, this process for small ones): there each row gets its digest,
is looked up among the partition's stored rows (:class:`KnownRows`, sent once with the first
page), and only rows no stored row matches are converted. The writer gets back the rows to
write and the digests of the unchanged ones; at the end, which stored rows were matched, so
the rest can be cleared.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np

from sapbridge.sync.digest import Digests, no_digests, raw_digests
from sapbridge.sync.known import KnownRows, StoredRows
from sapbridge.sync.rows import PageConverter, RowConversion

__all__ = ["PageResult", "ResyncSession", "load_page"]

_RAW_ENTITIES = msgspec.json.Decoder(list[msgspec.Raw])

Array = np.ndarray[Any, Any]


@dataclass(frozen=True, slots=True)
class PageResult:
    """A page told apart: the rows to write with their digests, and the unchanged rows' digests."""

    rows: list[tuple[Any, ...]]
    digests: Digests
    unchanged: Array
    """The ``row_digest`` of each row read unchanged."""


@dataclass(frozen=True, slots=True)
class _Start:
    """What a partition's first page carries: how to read its rows, and the stored rows."""

    conversion: RowConversion
    seed: int
    known: KnownRows


@dataclass
class _Partition:
    """The handling side's state for the partition in progress."""

    start: _Start
    seen: Array


def resync_page(state: dict[str, Any], payload: bytes, start: _Start | None) -> PageResult:
    """Tell a page's rows apart from the stored ones; convert only those to write."""
    if start is not None:
        state["resync"] = _Partition(start, np.zeros(len(start.known), dtype=bool))
    partition: _Partition = state["resync"]
    known, conversion = partition.start.known, partition.start.conversion
    raws = _RAW_ENTITIES.decode(payload)
    digests = raw_digests(raws, partition.start.seed)
    at, same = known.match(digests)
    partition.seen[at[same]] = True
    write = np.flatnonzero(~same)
    rows = conversion.json_rows(b"[" + b",".join([raws[i] for i in write]) + b"]") if len(write) else []
    return PageResult(rows, digests[write], digests[same, 0])


def load_page(_state: dict[str, Any], conversion: RowConversion, payload: bytes, seed: int
              ) -> PageResult:
    """A page of an empty partition: every row converted, with its digest."""
    digests = raw_digests(_RAW_ENTITIES.decode(payload), seed)
    return PageResult(conversion.json_rows(payload), digests, no_digests()[:, 0])


def seen_rows(state: dict[str, Any]) -> Array:
    """Which of the partition's stored rows a row read matched."""
    partition: _Partition = state.pop("resync")
    return partition.seen


class ResyncSession:
    """The writer's side of one partition's resync; pages are collected in submission order."""

    def __init__(self, converter: PageConverter, conversion: RowConversion, seed: int,
                 known: KnownRows) -> None:
        self.converter = converter
        self.start = _Start(conversion, seed, known)
        self.started: set[bool] = set()
        """Where pages went (True: the worker, False: this process), each side started once."""

    def submit(self, raws: Sequence[Any]) -> Callable[[], PageResult]:
        """Start handling a page of raw entities; the returned callable waits for its result."""
        in_worker = self.converter.in_worker(len(raws))
        start = None if in_worker in self.started else self.start
        self.started.add(in_worker)
        payload = b"[" + b",".join(raws) + b"]"
        return self.converter.call(resync_page, payload, start, in_worker=in_worker)

    def unseen(self) -> StoredRows:
        """After the last page: ids and digests of the stored open rows no row read matched."""
        seen = np.zeros(len(self.start.known), dtype=bool)
        for in_worker in sorted(self.started):
            seen |= self.converter.call(seen_rows, in_worker=in_worker)()
        return self.start.known.unseen(seen)
