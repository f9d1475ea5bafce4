"""What the store holds for one partition before a snapshot resync, as compact arrays in memory.

A resync looks each row read up by its digest among the partition's open rows, read once as
arrays: each row's id in its table (SQLite's ``rowid``; PostgreSQL clears by digest and has
none) and its two digest halves (32 bytes a row with the sort: 32 MB for a million). A row read is unchanged
when exactly one stored open row has its 126-bit digest; anything else (no stored row has it,
or two do) is written, which is always safe. Stored rows no digest found are the ones a
snapshot may clear: the writer clears those the sync did not write (see
:meth:`sapbridge.sync.writer.DatasetWriter.clear_rows`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sapbridge.sync.digest import Digests

__all__ = ["KnownRows", "StoredRows"]

Array = np.ndarray[Any, Any]

StoredRows = tuple[Array, Digests]
"""Row ids and their ``[row_digest, row_check]`` (-1 where a row has none), as read."""


@dataclass(frozen=True)
class KnownRows:
    """The stored open rows of one partition, sorted by digest; picklable for the worker.

    Cleared rows are left out: a row read again after it was cleared is written (reopened).
    """

    ids: Array
    digests: Array
    checks: Array
    comparable: Array
    """Whether a read row may match this stored row: it has a digest no other stored row has."""

    @classmethod
    def build(cls, chunks: Iterable[StoredRows]) -> KnownRows:
        """From chunks of (row ids, digests) of the open rows, as the store returns them."""
        parts = list(chunks)
        ids = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, dtype=np.int64)
        pairs = np.concatenate([p[1] for p in parts]) if parts else np.empty((0, 2), dtype=np.int64)
        order = np.argsort(pairs[:, 0])  # rows sharing a digest are never matched: any order
        ids, digests, checks = ids[order], pairs[order, 0], pairs[order, 1]
        comparable = (digests >= 0) & (checks >= 0)
        if len(digests) > 1:
            repeats = digests[1:] == digests[:-1]
            comparable[1:] &= ~repeats
            comparable[:-1] &= ~repeats
        return cls(ids, digests, checks, comparable)

    def __len__(self) -> int:
        return len(self.ids)

    def match(self, read: Digests) -> tuple[Array, Array]:
        """For each row read: the position of the stored row with its digest, and whether there
        is exactly one (the row is unchanged)."""
        if not len(self.ids):
            return np.zeros(len(read), dtype=np.int64), np.zeros(len(read), dtype=bool)
        at = np.minimum(np.searchsorted(self.digests, read[:, 0]), len(self.ids) - 1)
        same = (self.digests[at] == read[:, 0]) & (self.checks[at] == read[:, 1]) & self.comparable[at]
        return at, np.asarray(same)

    def unseen(self, seen: Array) -> StoredRows:
        """Ids and digests of the stored open rows no row read matched."""
        rest = ~seen
        return self.ids[rest], np.column_stack((self.digests[rest], self.checks[rest]))
