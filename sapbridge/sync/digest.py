"""Row digests: a fast 128-bit fingerprint of what SAP said about a row, stored beside the row.

A resync looks each row read up by its digest among the partition's stored rows and writes
only rows whose digest no stored row has, so an unchanged row costs a hash, not a write (nor
even a conversion). The 128 bits are stored as two signed 63-bit BIGINTs, ``row_digest`` and
``row_check``: telling a changed row for an unchanged one would take a 126-bit collision
(about 1 in 10^25 for a million rows read against a million stored). Two kinds, never mixed up
because the seed differs:

* the raw digest of an OData entity's JSON bytes, taken before any conversion, so an unchanged
  row is not even converted;
* the canonical digest of a converted row (RFC, or any source that yields dicts).

The seed covers the dataset, the route, the field specs and :data:`DIGEST_VERSION`: a changed
mapping (or conversion code, when the version is raised) makes every digest differ, so every
row is rewritten once. Digests are xxh3-128, each half shifted to 63 bits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import orjson
import xxhash

__all__ = ["DIGEST_VERSION", "Digests", "canonical_digests", "digest_seed", "no_digests", "raw_digests"]

DIGEST_VERSION = 2
"""Raise when a conversion changes what a stored row would hold for the same SAP data."""

Digests = np.ndarray[Any, Any]
"""One row per digest: ``[row_digest, row_check]``, int64, never negative."""


def digest_seed(dataset: str, route: str, fields: Sequence[Any], *, raw: bool) -> int:
    """The seed of one dataset's digests over one route, in one storage form."""
    spec = repr((DIGEST_VERSION, dataset, route, "raw" if raw else "canonical", tuple(fields)))
    return xxhash.xxh3_64_intdigest(spec.encode())


def _pairs(hashes: bytes) -> Digests:
    halves = np.frombuffer(hashes, dtype=np.uint64).reshape(-1, 2) >> np.uint64(1)
    return halves.astype(np.int64)


def no_digests() -> Digests:
    """An empty set of digests."""
    return np.empty((0, 2), dtype=np.int64)


def raw_digests(raws: Iterable[bytes | memoryview | Any], seed: int) -> Digests:
    """Digests of raw entity bytes (anything with the buffer protocol, e.g. ``msgspec.Raw``)."""
    digest = xxhash.xxh3_128_digest
    return _pairs(b"".join([digest(raw, seed) for raw in raws]))


def canonical_digests(rows: Iterable[tuple[Any, ...]], seed: int) -> Digests:
    """Digests of converted rows (Decimals and dates as their text)."""
    digest, dumps = xxhash.xxh3_128_digest, orjson.dumps
    return _pairs(b"".join([digest(dumps(row, default=str), seed) for row in rows]))
