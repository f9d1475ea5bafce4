"""Canonical serialisation and hashing of audit entries.

Each entry's hash covers its own fields (including ``seq`` and ``prev_hash``) serialised as
canonical JSON: keys sorted, no whitespace, UTF-8, Decimals as strings, times as UTC ISO 8601
with microseconds. With a secret key the hash is an HMAC-SHA256, so someone who can write to the
store but does not hold the key cannot recompute a consistent chain after an edit.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

__all__ = [
    "ALG_HMAC",
    "ALG_SHA256",
    "GENESIS_HASH",
    "canonical_json",
    "entry_hash",
    "to_jsonable",
    "utc_iso",
]

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first entry."""

ALG_SHA256 = "sha256"
"""Plain SHA-256: detects accidental and careless edits."""

ALG_HMAC = "hmac-sha256"
"""HMAC-SHA256 keyed with a secret from the environment: detects deliberate edits too."""


def utc_iso(value: datetime) -> str:
    """A timestamp as UTC ISO 8601 with microseconds; naive values are taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def to_jsonable(value: Any) -> Any:
    """Turn Decimals, dates and nested containers into plain JSON values (money as strings)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [to_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, float):
        msg = f"refusing float {value!r} in an audit entry; use Decimal"
        raise TypeError(msg)
    return value


def canonical_json(value: Any) -> str:
    """The one serialisation that hashes are computed over."""
    return json.dumps(
        to_jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def entry_hash(fields: Mapping[str, Any], *, key: bytes | None) -> tuple[str, str]:
    """``(algorithm, hex digest)`` of an entry's fields; keyed when ``key`` is given."""
    payload = canonical_json(fields).encode("utf-8")
    if key:
        return ALG_HMAC, hmac.new(key, payload, hashlib.sha256).hexdigest()
    return ALG_SHA256, hashlib.sha256(payload).hexdigest()
