"""Walking the chain: the first entry that was edited, deleted, inserted, reordered or downgraded.

Rules, beyond each hash matching its entry and each ``prev_hash`` the entry before:

* with a key configured every entry must be keyed: a chain rebuilt as plain SHA-256 by someone
  without the key is a break wherever the unkeyed entry sits;
* a keyed entry without a configured key cannot be checked, and is reported as such;
* once an entry in the current form (which records OS login and host) appears, no later entry
  may be in the older form (a downgrade that would drop those fields from the hash).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sapbridge.audit.chain import (
    ALG_HMAC,
    ALGORITHMS,
    FIELDS_V1,
    FIELDS_V2,
    FORM_CURRENT,
    GENESIS_HASH,
    entry_hash,
    utc_iso,
)
from sapbridge.audit.rows import ReadRow, entry_number

__all__ = ["ChainWalk", "VerifyResult", "hashed_fields", "walk_chain"]


def hashed_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """The fields an entry's hash covers, in the form the entry was written in."""
    names = FIELDS_V1 if row.get("form") is None else FIELDS_V2
    fields = {name: row.get(name) for name in names}
    fields["at"] = utc_iso(row["at"])
    return fields


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of a verification: ``first_broken_id`` is the seq of the first bad entry.

    ``notes`` are findings that do not break the chain (e.g. an anchor with no timestamp token).
    """

    ok: bool
    checked: int
    first_broken_id: int | None = None
    reason: str = ""
    head_hash: str = GENESIS_HASH
    notes: tuple[str, ...] = ()
    anchors_checked: int = 0


@dataclass(frozen=True, slots=True)
class ChainWalk:
    """What the walk saw: entries checked, the last hash, the first break, anchored hashes."""

    checked: int
    last_hash: str
    broken_at: int | None
    reason: str
    seen: dict[int, str]


def _entry_problem(row: Mapping[str, Any], expected_seq: int, prev_hash: str,
                   key: bytes | None, key_env: str, new_form_seen: bool) -> str:
    if row["seq"] != expected_seq:
        return f"expected entry {expected_seq} next, found {row['seq']} (deleted or inserted)"
    if row["prev_hash"] != prev_hash:
        return "prev_hash does not match the previous entry (deleted, inserted or reordered)"
    if row["alg"] not in ALGORITHMS:
        return f"unknown hash algorithm {row['alg']!r} (edited)"
    if row["form"] not in (None, FORM_CURRENT):
        return f"unknown canonical form {row['form']!r} (edited)"
    if row["form"] is None and new_form_seen:
        return "entry is in the old form (no OS login or host) after entries in the new form"
    if row["alg"] == ALG_HMAC and key is None:
        return f"entry is keyed (HMAC); set {key_env} to verify it"
    if row["alg"] != ALG_HMAC and key is not None:
        return ("entry is not keyed (plain SHA-256) although an audit key is configured: "
                "rebuilt without the key, or written by a process that lacked it")
    _, digest = entry_hash(hashed_fields(row), key=key if row["alg"] == ALG_HMAC else None)
    if digest != row["hash"]:
        return "hash does not match the entry's content (edited)"
    return ""


def walk_chain(rows: Iterable[ReadRow], *, key: bytes | None, key_env: str,
               remember: frozenset[int] = frozenset()) -> ChainWalk:
    """Check rows in ``seq`` order; keep the hashes of the entries named in ``remember``."""
    prev_hash, checked, new_form_seen = GENESIS_HASH, 0, False
    seen: dict[int, str] = {}
    for row, problem in rows:
        expected = checked + 1
        if problem:
            broken = min(entry_number(row, expected), expected)
            return ChainWalk(checked, prev_hash, broken, f"{problem} (type-edited)", seen)
        problem = _entry_problem(row, expected, prev_hash, key, key_env, new_form_seen)
        if problem:
            broken = min(int(row["seq"]), expected)  # a gap names the missing entry
            return ChainWalk(checked, prev_hash, broken, problem, seen)
        new_form_seen = new_form_seen or row["form"] is not None
        prev_hash = str(row["hash"])
        checked += 1
        if checked in remember:
            seen[checked] = prev_hash
    return ChainWalk(checked, prev_hash, None, "", seen)
