"""Anchors: the chain's head, copied outside the store, so a cut-off tail cannot go unnoticed.

An anchor file is a JSON-lines file in ``[audit] anchors = "DIR"``, only ever appended to (opened
``O_APPEND``, each line written in one ``write`` and fsync'd, created ``0o640`` within the umask).
A line names an entry (``seq``), that entry's hash and the UTC time, with a MAC: HMAC-SHA256 with
the audit key when one is configured (an edited line then fails), plain SHA-256 otherwise (detects
corruption only). An anchor holds as long as the entry it names still exists with that hash.

What an anchor cannot do by itself: someone who can write the directory can delete the file or
lines of it. Keep the directory on another host or a WORM share, append-only (``chattr +a``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sapbridge.audit.chain import ALG_HMAC, ALGORITHMS, canonical_json, entry_hash, utc_iso
from sapbridge.errors import AuditError

__all__ = ["ANCHOR_FILE", "Anchor", "AnchorDir", "AnchorLine"]

ANCHOR_FILE = "audit-anchors.jsonl"
"""The anchor file's name inside the anchor directory."""

_FILE_MODE = 0o640
_DIR_MODE = 0o750
_TAIL_BYTES = 8192


@dataclass(frozen=True, slots=True)
class Anchor:
    """One anchor line: entry ``seq`` had hash ``hash`` at time ``at`` (``line_no`` 0: just written)."""

    line_no: int
    seq: int
    hash: str
    at: str
    text: str

    @property
    def digest(self) -> bytes:
        """SHA-256 of the line as written: what a TSA timestamps."""
        return hashlib.sha256(self.text.encode("utf-8")).digest()


@dataclass(frozen=True, slots=True)
class AnchorLine:
    """A line read back: the anchor, or why it cannot be trusted."""

    line_no: int
    anchor: Anchor | None
    problem: str = ""


def _body(seq: int, head_hash: str, at: str) -> dict[str, object]:
    return {"seq": seq, "hash": head_hash, "at": at}


def anchor_text(seq: int, head_hash: str, at: datetime, key: bytes | None) -> str:
    """The line for an anchor (without its newline)."""
    body = _body(seq, head_hash, utc_iso(at))
    alg, mac = entry_hash(body, key=key)
    return canonical_json({**body, "alg": alg, "mac": mac})


def _parse(line_no: int, text: str, key: bytes | None) -> AnchorLine:
    try:
        data = json.loads(text)
        seq, head_hash, at = int(data["seq"]), str(data["hash"]), str(data["at"])
        alg, mac = str(data["alg"]), str(data["mac"])
    except (ValueError, KeyError, TypeError):
        return AnchorLine(line_no, None, "not a valid anchor line (edited or corrupted)")
    if alg not in ALGORITHMS:
        return AnchorLine(line_no, None, f"unknown MAC algorithm {alg!r} (edited)")
    if alg == ALG_HMAC and key is None:
        return AnchorLine(line_no, None, "anchor is keyed (HMAC) but no audit key is configured")
    if alg != ALG_HMAC and key is not None:
        return AnchorLine(line_no, None, "anchor is not keyed although an audit key is configured")
    _, expected = entry_hash(_body(seq, head_hash, at), key=key)
    if not hmac.compare_digest(expected, mac):
        return AnchorLine(line_no, None, "MAC does not match the line (edited)")
    return AnchorLine(line_no, Anchor(line_no, seq, head_hash, at, text))


@dataclass(frozen=True, slots=True)
class AnchorDir:
    """The directory holding the anchor file and the anchors' timestamp tokens."""

    path: Path

    @property
    def file(self) -> Path:
        """The anchor file."""
        return self.path / ANCHOR_FILE

    def append(self, seq: int, head_hash: str, at: datetime, key: bytes | None) -> Anchor:
        """Append one anchor line, durably; return it."""
        text = anchor_text(seq, head_hash, at, key)
        try:
            self.path.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
            created = not self.file.exists()
            fd = os.open(self.file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, _FILE_MODE)
            try:
                os.write(fd, (text + "\n").encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                self._fsync_dir()
        except OSError as exc:
            msg = f"cannot write audit anchor to {self.file}: {exc.strerror or exc}"
            raise AuditError(msg) from exc
        return Anchor(0, seq, head_hash, utc_iso(at), text)

    def _fsync_dir(self) -> None:
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self, key: bytes | None) -> list[AnchorLine]:
        """Every line of the anchor file (none when it does not exist)."""
        try:
            raw = self.file.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            msg = f"cannot read audit anchors {self.file}: {exc.strerror or exc}"
            raise AuditError(msg) from exc
        lines: list[AnchorLine] = []
        for line_no, line in enumerate(raw.split(b"\n"), start=1):
            if not line:
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                lines.append(AnchorLine(line_no, None, "not UTF-8 text (corrupted)"))
                continue
            lines.append(_parse(line_no, text, key))
        return lines

    def last(self, key: bytes | None) -> Anchor | None:
        """The most recent valid anchor, reading only the end of the file."""
        try:
            with self.file.open("rb") as fh:
                size = fh.seek(0, os.SEEK_END)
                fh.seek(max(0, size - _TAIL_BYTES))
                tail = fh.read().decode("utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return None
        except OSError as exc:
            msg = f"cannot read audit anchors {self.file}: {exc.strerror or exc}"
            raise AuditError(msg) from exc
        for text in reversed(tail):
            parsed = _parse(0, text, key)
            if parsed.anchor is not None:
                return parsed.anchor
        return None

    def token_path(self, anchor: Anchor) -> Path:
        """Where the RFC 3161 token of an anchor is kept: next to the anchor file."""
        return self.path / f"audit-anchor-{anchor.seq}-{anchor.digest.hex()[:16]}.tsr"

    def save_token(self, anchor: Anchor, token: bytes) -> Path:
        """Store a timestamp token (never overwriting one)."""
        target = self.token_path(anchor)
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
            try:
                os.write(fd, token)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            msg = f"cannot store timestamp token {target}: {exc.strerror or exc}"
            raise AuditError(msg) from exc
        return target

    def load_token(self, anchor: Anchor) -> bytes | None:
        """The stored token of an anchor, or None."""
        try:
            return self.token_path(anchor).read_bytes()
        except FileNotFoundError:
            return None
