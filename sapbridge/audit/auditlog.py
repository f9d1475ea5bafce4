"""The audit log as an object: its key, its anchors and its TSA, built once from the settings.

Components append with ``record(conn, ...)`` inside the transaction that makes the change. The
:class:`AuditLog` that ``record`` uses travels with the store's engine (an execution option set by
:func:`sapbridge.store.open_store`), so every connection of a store opened from the settings
writes with the configured key; there is no module-level key to forget to set.

Appends take the head row with an ``UPDATE`` first: PostgreSQL row-locks it and SQLite takes its
write lock (the store's busy timeout makes other writers wait), so concurrent writers queue up
instead of forking the chain.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from sapbridge.audit.anchors import Anchor, AnchorDir, AnchorLine
from sapbridge.audit.chain import ALG_HMAC, ALG_SHA256, FORM_CURRENT, canonical_json, entry_hash
from sapbridge.audit.origin import Origin
from sapbridge.audit.rows import entry_select, read_rows
from sapbridge.audit.tables import HEAD_ID, audit_head, audit_log
from sapbridge.audit.verify import ChainWalk, VerifyResult, hashed_fields, walk_chain
from sapbridge.config import Settings, unknown_keys
from sapbridge.errors import AuditError, ConfigError

if TYPE_CHECKING:  # imported when a TSA is configured: it brings requests and cryptography
    from sapbridge.audit.timestamp import Timestamper

__all__ = ["DEFAULT_KEY_ENV", "EXECUTION_OPTION", "AnchorOutcome", "AuditLog"]

DEFAULT_KEY_ENV = "SAPBRIDGE_AUDIT_KEY"
"""Environment variable holding the HMAC key (``[audit] key_env`` in the config can rename it)."""

EXECUTION_OPTION = "sapbridge_audit_log"
"""The engine execution option that carries a store's :class:`AuditLog`."""

_ACTION_RE = re.compile(r"^[a-z][a-z_]{0,19}$")
_SETTINGS_KEYS = {"key_env", "anchors", "tsa_url", "tsa_ca_file", "tsa_timeout"}


def _json_or_none(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else canonical_json(value)


@dataclass(frozen=True, slots=True)
class AnchorOutcome:
    """What :meth:`AuditLog.anchor` did: the anchor written, its token, or why the TSA failed."""

    anchor: Anchor | None
    token: Path | None = None
    tsa_error: str = ""


@dataclass(frozen=True, slots=True)
class AuditLog:
    """How this process writes and checks the audit log."""

    key: bytes | None = field(default=None, repr=False)
    key_env: str = DEFAULT_KEY_ENV
    anchors: AnchorDir | None = None
    timestamper: Timestamper | None = None
    origin: Origin = field(default_factory=Origin.current)

    @classmethod
    def from_environment(cls, key_env: str = DEFAULT_KEY_ENV, **kwargs: Any) -> AuditLog:
        """The key read once from ``key_env``; unset means a plain SHA-256 chain."""
        value = os.environ.get(key_env)
        return cls(key=value.encode("utf-8") if value else None, key_env=key_env, **kwargs)

    @classmethod
    def from_settings(cls, settings: Settings) -> AuditLog:
        """Built from ``[audit]``: ``key_env``, ``anchors``, ``tsa_url``, ``tsa_ca_file``."""
        section = settings.section("audit")
        where = f"{settings.path or 'config'}: [audit]"
        unknown = unknown_keys(section, _SETTINGS_KEYS, where)
        if unknown is not None:
            raise unknown
        anchors = AnchorDir(settings.resolve(str(section["anchors"]))) if section.get("anchors") else None
        timestamper = None
        if section.get("tsa_url"):
            if anchors is None:
                msg = f"{where} tsa_url timestamps anchors: set anchors = \"DIR\" too"
                raise ConfigError(msg)
            from sapbridge.audit.timestamp import Timestamper

            try:
                timeout = float(section.get("tsa_timeout", 10))
            except (TypeError, ValueError):
                msg = f"{where} tsa_timeout must be a number of seconds"
                raise ConfigError(msg) from None
            ca = section.get("tsa_ca_file")
            timestamper = Timestamper(str(section["tsa_url"]), settings.resolve(str(ca)) if ca else None,
                                      timeout)
        return cls.from_environment(str(section.get("key_env") or DEFAULT_KEY_ENV),
                                    anchors=anchors, timestamper=timestamper)

    def bind(self, engine: Engine) -> Engine:
        """An engine (same pool) whose connections append with this audit log."""
        return engine.execution_options(**{EXECUTION_OPTION: self})

    @staticmethod
    def of(bind: Connection | Engine) -> AuditLog:
        """The audit log a store's engine or connection carries; a store opened without one
        writes with the key of ``SAPBRIDGE_AUDIT_KEY`` (a plain chain when unset)."""
        options = bind.get_execution_options()
        if EXECUTION_OPTION not in options:
            return AuditLog.from_environment()
        found = options[EXECUTION_OPTION]
        if not isinstance(found, AuditLog):
            msg = "this engine carries no audit log: open the store with sapbridge.store.open_store"
            raise AuditError(msg)
        return found

    def with_key(self, key: bytes | None) -> AuditLog:
        """The same log checked or written with another key."""
        return replace(self, key=key)

    def record(
        self,
        conn: Connection,
        *,
        action: str,
        actor: str,
        run_id: str,
        batch_id: str | None = None,
        row_no: int | None = None,
        customer: str | None = None,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
        sap_document: str | None = None,
        message: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> int:
        """Append one entry inside the caller's transaction; return its sequence number."""
        if not _ACTION_RE.match(action):
            msg = f"audit action must be a short lowercase name, not {action!r}"
            raise AuditError(msg)
        if not actor:
            msg = f"audit entry {action!r} needs an actor"
            raise AuditError(msg)
        head = conn.execute(
            update(audit_head)
            .where(audit_head.c.id == HEAD_ID)
            .values(seq=audit_head.c.seq + 1)
            .returning(audit_head.c.seq, audit_head.c.hash)
        ).first()
        if head is None:
            msg = "audit log head is missing; the store was not migrated or was tampered with"
            raise AuditError(msg)
        row: dict[str, Any] = {
            "seq": int(head.seq), "at": datetime.now(UTC), "action": action, "actor": actor,
            "run_id": run_id, "batch_id": batch_id, "row_no": row_no, "customer": customer,
            "before_json": _json_or_none(before), "after_json": _json_or_none(after),
            "sap_document": sap_document, "message": message,
            "detail_json": _json_or_none(detail), "prev_hash": str(head.hash),
            "alg": ALG_HMAC if self.key else ALG_SHA256, "os_login": self.origin.os_login,
            "host": self.origin.host, "form": FORM_CURRENT,
        }
        _, row["hash"] = entry_hash(hashed_fields(row), key=self.key)
        conn.execute(audit_log.insert().values(**row))
        conn.execute(update(audit_head).where(audit_head.c.id == HEAD_ID).values(hash=row["hash"]))
        return int(row["seq"])

    def verify(self, engine: Engine, *, require_key: bool = False) -> VerifyResult:
        """Walk the chain, compare its end with the head and with every anchor."""
        if require_key and self.key is None:
            reason = f"no audit key configured: set {self.key_env} (--require-key)"
            return VerifyResult(False, 0, None, reason)
        lines = self.anchors.read(self.key) if self.anchors else []
        anchored = frozenset(line.anchor.seq for line in lines if line.anchor)
        with engine.connect() as conn:
            head = conn.execute(select(audit_head).where(audit_head.c.id == HEAD_ID)) \
                .mappings().first()
            walk = walk_chain(read_rows(conn, entry_select().order_by(audit_log.c.seq)),
                              key=self.key, key_env=self.key_env, remember=anchored)
        broken = _chain_break(walk, head)
        if broken is not None:
            return broken
        return self._check_anchors(walk, lines)

    def _check_anchors(self, walk: ChainWalk, lines: list[AnchorLine]) -> VerifyResult:
        assert self.anchors is not None or not lines
        for line in lines:
            reason = _anchor_problem(self.anchors, line, walk) if self.anchors else ""
            if reason:
                first = min(line.anchor.seq, walk.checked + 1) if line.anchor else None
                return VerifyResult(False, walk.checked, first, reason, walk.last_hash,
                                    anchors_checked=len(lines))
        notes = self._anchor_notes(walk, lines)
        if isinstance(notes, VerifyResult):
            return notes
        return VerifyResult(True, walk.checked, None, "", walk.last_hash, notes, len(lines))

    def _anchor_notes(self, walk: ChainWalk,
                      lines: list[AnchorLine]) -> tuple[str, ...] | VerifyResult:
        if self.anchors is None:
            return ()
        from sapbridge.audit.timestamp import check_token

        ca_file = self.timestamper.ca_file if self.timestamper else None
        missing = 0
        for line in lines:
            assert line.anchor is not None
            token = self.anchors.load_token(line.anchor)
            if token is None:
                missing += 1
                continue
            problem = check_token(token, line.anchor.text.encode("utf-8"), ca_file=ca_file)
            if problem:
                reason = f"anchor {self.anchors.file} line {line.line_no}: {problem}"
                return VerifyResult(False, walk.checked, None, reason, walk.last_hash,
                                    anchors_checked=len(lines))
        notes: list[str] = []
        if not lines and walk.checked:
            notes.append(f"no anchors in {self.anchors.file} yet: run `sapbridge audit anchor`")
        if missing and self.timestamper is not None:
            notes.append(f"{missing} anchor(s) have no timestamp token (TSA unreachable then?)")
        return tuple(notes)

    def anchor(self, engine: Engine, *, only_if_moved: bool = False) -> AnchorOutcome | None:
        """Copy the head to the anchor file (and timestamp it); None when not configured.

        ``only_if_moved`` skips writing when the last anchor already names the current head.
        A TSA failure never fails the anchor: the outcome says why instead.
        """
        if self.anchors is None:
            return None
        with engine.connect() as conn:
            head = conn.execute(select(audit_head.c.seq, audit_head.c.hash)
                                .where(audit_head.c.id == HEAD_ID)).first()
        if head is None or int(head.seq) == 0:
            return AnchorOutcome(None)
        seq, head_hash = int(head.seq), str(head.hash)
        if only_if_moved:
            last = self.anchors.last(self.key)
            if last is not None and (last.seq, last.hash) == (seq, head_hash):
                return None
        written = self.anchors.append(seq, head_hash, datetime.now(UTC), self.key)
        if self.timestamper is None:
            return AnchorOutcome(written)
        try:
            token = self.timestamper.stamp(written.text.encode("utf-8"))
            return AnchorOutcome(written, self.anchors.save_token(written, token))
        except AuditError as exc:
            return AnchorOutcome(written, None, str(exc))


def _chain_break(walk: ChainWalk, head: Any) -> VerifyResult | None:
    """The chain's own findings, and its end compared with the head row."""
    checked, last = walk.checked, walk.last_hash
    if walk.broken_at is not None:
        return VerifyResult(False, checked, walk.broken_at, walk.reason, last)
    if head is None:
        return VerifyResult(False, checked, checked + 1, "audit head row is missing", last)
    head_seq = int(head["seq"])
    if head_seq > checked:
        reason = f"log ends at entry {checked} but its head says {head_seq} (entries deleted)"
        return VerifyResult(False, checked, checked + 1, reason, last)
    if head_seq < checked:
        reason = f"entries after {head_seq}, the head of the log, were added behind its back"
        return VerifyResult(False, checked, head_seq + 1, reason, last)
    if head["hash"] != last:
        reason = "last entry's hash differs from the head (last entry replaced)"
        return VerifyResult(False, checked, checked, reason, last)
    return None


def _anchor_problem(anchors: AnchorDir, line: AnchorLine, walk: ChainWalk) -> str:
    where = f"anchor {anchors.file} line {line.line_no}"
    if line.anchor is None:
        return f"{where}: {line.problem}"
    anchor = line.anchor
    if anchor.seq > walk.checked:
        return (f"{where} (written {anchor.at}) names entry {anchor.seq}, but the log ends at "
                f"entry {walk.checked}: entries were cut off the end (truncated)")
    if walk.seen.get(anchor.seq) != anchor.hash:
        return (f"{where} (written {anchor.at}): entry {anchor.seq} no longer has the hash it had "
                f"then: the chain was rewritten")
    return ""
