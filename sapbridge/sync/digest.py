"""Row digests: a fast 64-bit fingerprint of what SAP said about a row, stored beside the row.

A resync compares the digest of each row read with the stored one and writes only rows whose
digest differs, so an unchanged row costs a hash, not a write. Two kinds, never mixed up
because the seed differs:

* the raw digest of an OData entity's JSON bytes, taken before any conversion, so an unchanged
  row is not even converted;
* the canonical digest of a converted row (RFC, or any source that yields dicts).

The seed covers the dataset, the route, the field specs and :data:`DIGEST_VERSION`: a changed
mapping (or conversion code, when the version is raised) makes every digest differ, so every
row is rewritten once. Digests are xxh3-64 shifted to 63 bits to fit a signed BIGINT.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
import xxhash

__all__ = ["DIGEST_VERSION", "canonical_digests", "digest_seed", "raw_digests"]

DIGEST_VERSION = 1
"""Raise when a conversion changes what a stored row would hold for the same SAP data."""


def digest_seed(dataset: str, route: str, fields: Sequence[Any], *, raw: bool) -> int:
    """The seed of one dataset's digests over one route, in one storage form."""
    spec = repr((DIGEST_VERSION, dataset, route, "raw" if raw else "canonical", tuple(fields)))
    return xxhash.xxh3_64_intdigest(spec.encode())


def raw_digests(raws: Iterable[bytes | memoryview | Any], seed: int) -> list[int]:
    """Digests of raw entity bytes (anything with the buffer protocol, e.g. ``msgspec.Raw``)."""
    digest = xxhash.xxh3_64_intdigest
    return [digest(raw, seed) >> 1 for raw in raws]


def canonical_digests(rows: Iterable[tuple[Any, ...]], seed: int) -> list[int]:
    """Digests of converted rows (Decimals and dates as their text)."""
    digest, dumps = xxhash.xxh3_64_intdigest, orjson.dumps
    return [digest(dumps(row, default=str), seed) >> 1 for row in rows]
