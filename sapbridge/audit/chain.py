"""Canonical serialisation and hashing of audit entries.

Each entry's hash covers its own fields (including ``seq`` and ``prev_hash``) serialised as
canonical JSON: keys sorted, no whitespace, UTF-8, Decimals as strings, times as UTC ISO 8601
with microseconds. With a secret key the hash is an HMAC-SHA256, so someone who can write to the
store but does not hold the key cannot recompute a consistent chain after an edit.

The set of fields is versioned (the entry's ``form``): form 1, written before entries recorded
the OS login and host, covers :data:`FIELDS_V1`; form 2 adds ``os_login``, ``host`` and ``form``
itself. Old entries keep verifying in the form they were written in.
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
    "ALGORITHMS",
    "ALG_HMAC",
    "ALG_SHA256",
    "FIELDS_V1",
    "FIELDS_V2",
    "FORM_CURRENT",
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

ALGORITHMS = (ALG_SHA256, ALG_HMAC)
"""Every ``alg`` an entry may carry."""

FIELDS_V1 = (
    "seq", "at", "action", "actor", "run_id", "batch_id", "row_no", "customer", "before_json",
    "after_json", "sap_document", "message", "detail_json", "alg", "prev_hash",
)
"""Fields hashed in form 1 (entries written before the OS login and host were recorded)."""

FIELDS_V2 = (*FIELDS_V1, "os_login", "host", "form")
"""Fields hashed in form 2: who really ran the process, on which host, and the form itself."""

FORM_CURRENT = 2
"""The form new entries are written in."""


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
