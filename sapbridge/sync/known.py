"""What the store holds for one partition before a snapshot resync, as compact arrays in memory.

A resync compares each row read with the stored row of the same key. Instead of asking the
store for every page, the partition's open rows are read once as arrays: a 63-bit hash of each
row's key and its digest (24 bytes a row with the comparison array: 24 MB for a million).
A row read is unchanged only when its key hash names exactly one stored open row and that row's
digest equals the read row's digest; anything else (a new key, another digest, a cleared row,
a key hash two stored keys share) is written, which is always safe. Mistaking a changed row for
an unchanged one would take a key-hash collision and a digest collision at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xxhash

__all__ = ["KEY_SEPARATOR", "KnownRows", "key_hashes", "key_texts"]

KEY_SEPARATOR = "\x1f"
"""Joins a key's columns into one text (the unit separator never occurs in SAP keys)."""

_NONE = -1
"""The digest of a stored row that cannot match any row read (digests are never negative)."""

Array = np.ndarray[Any, Any]


def key_texts(keys: Iterable[Sequence[Any]]) -> list[str]:
    """Each key's columns as one text, as the store's key expression builds it."""
    join = KEY_SEPARATOR.join
    return [join(map(str, key)) for key in keys]


def key_hashes(texts: Sequence[str]) -> Array:
    """63-bit hashes of key texts (see :func:`key_texts`)."""
    digest = xxhash.xxh3_64_intdigest
    return np.fromiter((digest(text.encode()) >> 1 for text in texts), dtype=np.int64, count=len(texts))


@dataclass(frozen=True)
class KnownRows:
    """The stored open rows of one partition, sorted by key hash; picklable for the worker.

    Cleared rows are left out: a row read again after it was cleared is written (reopened).
    """

    keys: Array
    digests: Array
    """Stored digest, or -1 for a row without one."""
    comparable: Array
    """The digest a read row must have to be unchanged: -1 when no row can be (no digest, or
    a key hash shared by two stored keys)."""

    @classmethod
    def build(cls, chunks: Iterable[tuple[Sequence[str], Array]]) -> KnownRows:
        """From chunks of (key texts, digests or -1) of the open rows, as the store returns them."""
        keys, digests = [], []
        for texts, chunk_digests in chunks:
            keys.append(key_hashes(texts))
            digests.append(chunk_digests)
        if not keys:
            empty = np.empty(0, dtype=np.int64)
            return cls(empty, empty, empty)
        key_array = np.concatenate(keys)
        order = np.argsort(key_array)
        key_array, digest_array = key_array[order], np.concatenate(digests)[order]
        shared = np.zeros(len(key_array), dtype=bool)
        if len(key_array) > 1:
            repeats = key_array[1:] == key_array[:-1]
            shared[1:] |= repeats
            shared[:-1] |= repeats
        return cls(key_array, digest_array, np.where(shared, _NONE, digest_array))

    def __len__(self) -> int:
        return len(self.keys)

    def find(self, hashes: Array) -> tuple[Array, Array]:
        """For each key hash read: its position among the stored rows, and whether it is there."""
        if not len(self.keys):
            return np.zeros(len(hashes), dtype=np.int64), np.zeros(len(hashes), dtype=bool)
        at = np.minimum(np.searchsorted(self.keys, hashes), len(self.keys) - 1)
        return at, self.keys[at] == hashes

    def unchanged(self, at: Array, found: Array, digests: Array) -> Array:
        """Which rows read (found at ``at``) equal their stored open row."""
        if not len(self.keys):
            return np.zeros(len(digests), dtype=bool)
        comparable = self.comparable[at]
        return np.asarray(found & (comparable == digests) & (comparable != _NONE))

    def seen_positions(self, hashes: Array) -> Array:
        """Every stored row whose key hash is one of these (all of them where a hash is shared)."""
        if not len(self.keys):
            return np.empty(0, dtype=np.int64)
        left = np.searchsorted(self.keys, hashes, side="left")
        right = np.searchsorted(self.keys, hashes, side="right")
        spans = right - left
        if not spans.any():
            return np.empty(0, dtype=np.int64)
        if int(spans.max()) == 1:
            return np.asarray(left[spans == 1])
        return np.concatenate([np.arange(a, b) for a, b in zip(left, right, strict=True) if b > a])

    def unseen(self, seen: Array) -> tuple[Array, int]:
        """Digests of the open rows not seen, and how many open rows not seen have no digest."""
        digests = self.digests[~seen]
        has_digest = digests != _NONE
        return digests[has_digest], int((~has_digest).sum())
