"""One dataset's pages, from a batch read to the rows to write and the unchanged rows' digests.

A snapshot resync of OData rows is compared with the partition's stored rows in memory
(:mod:`sapbridge.sync.resync`); an incremental read, or rows read as dicts (RFC), asks the
store which rows differ, page by page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sapbridge.mapping import DatasetMapping
from sapbridge.sync.digest import Digests, canonical_digests, raw_digests
from sapbridge.sync.guards import ClearPolicy
from sapbridge.sync.known import KnownRows
from sapbridge.sync.resync import PageResult, ResyncSession, load_page
from sapbridge.sync.rows import KeyReader, PageConverter, RowConversion
from sapbridge.sync.sources import RowSource
from sapbridge.sync.writer import DatasetWriter

__all__ = ["DatasetWork", "Page", "dict_page", "raw_page", "resync_session"]


@dataclass
class DatasetWork:
    """One dataset's sync in progress: its writer, conversions and digest seeds."""

    mapping: DatasetMapping
    route_name: str
    writer: DatasetWriter
    source: RowSource
    conversion: RowConversion
    keys: KeyReader | None
    raw_seed: int
    row_seed: int
    converter: PageConverter
    policy: ClearPolicy


Page = Callable[[], PageResult]
"""A page read and told apart, its rows to write perhaps still being converted."""

_NO_DIGESTS = np.empty(0, dtype=np.int64)


def resync_session(work: DatasetWork, scope: tuple[str, str] | None) -> ResyncSession:
    """A snapshot resync of OData rows (raw pages): compared with the stored rows in memory."""
    known = KnownRows.build(work.writer.stored_rows(scope))
    return ResyncSession(work.converter, work.conversion, work.raw_seed, known)


def _unchanged(digests: Digests, write: Sequence[int]) -> np.ndarray[Any, Any]:
    rest = np.ones(len(digests), dtype=bool)
    rest[list(write)] = False
    return np.asarray(digests[rest, 0])


def _classified(work: DatasetWork, rows: list[tuple[Any, ...]], keys: Sequence[tuple[Any, ...]],
                digests: Digests) -> PageResult:
    """The rows to write (new, changed, or reopened) and the digests of the unchanged ones."""
    write = work.writer.to_write(keys, digests)
    return PageResult([rows[i] for i in write], digests[write], _unchanged(digests, write))


def raw_page(work: DatasetWork, raws: list[Any], *, bulk: bool) -> Page:
    if bulk:
        payload = b"[" + b",".join(raws) + b"]"
        return work.converter.call(load_page, work.conversion, payload, work.raw_seed,
                                   in_worker=work.converter.in_worker(len(raws)))
    digests = raw_digests(raws, work.raw_seed)
    if work.keys is None:
        rows = work.conversion.json_rows(b"[" + b",".join(raws) + b"]")
        keys = [tuple(row[i] for i in work.conversion.key_at) for row in rows]
        page = _classified(work, rows, keys, digests)
        return lambda: page
    write = work.writer.to_write(work.keys.keys(raws), digests)
    unchanged = _unchanged(digests, write)
    converted = work.converter.submit(work.conversion, [raws[i] for i in write])
    return lambda: PageResult(converted(), digests[write], unchanged)


def dict_page(work: DatasetWork, batch: Sequence[Mapping[str, Any]], *, bulk: bool) -> Page:
    rows = work.conversion.rows(batch)
    digests = canonical_digests(rows, work.row_seed)
    if bulk:
        return lambda: PageResult(rows, digests, _NO_DIGESTS)
    keys = [tuple(row[i] for i in work.conversion.key_at) for row in rows]
    page = _classified(work, rows, keys, digests)
    return lambda: page
