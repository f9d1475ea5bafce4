"""RFC 3161 timestamps of anchors, against a local ``openssl ts`` responder."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from sapbridge.audit.anchors import AnchorDir
from sapbridge.audit.auditlog import AuditLog
from sapbridge.audit.log import record, verify
from sapbridge.audit.timestamp import Timestamper

from .tsa import LocalTsa, local_tsa, make_ca


@pytest.fixture(scope="module")
def tsa(tmp_path_factory) -> LocalTsa:
    with local_tsa(tmp_path_factory.mktemp("tsa")) as running:
        yield running


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/tsa"


def _log(tmp_path: Path, url: str, ca_file: Path | None) -> AuditLog:
    return AuditLog(key=b"k", anchors=AnchorDir(tmp_path / "anchors"),
                    timestamper=Timestamper(url, ca_file, timeout=5))


def _append(engine, n: int = 2) -> None:
    for i in range(n):
        with engine.begin() as conn:
            record(conn, action="applied", actor="bob", run_id=f"r{i}")


def test_anchor_is_timestamped_and_verifies_against_the_ca(sqlite_store, tmp_path, tsa) -> None:
    log = _log(tmp_path, tsa.url, tsa.ca_file)
    engine = log.bind(sqlite_store.engine)
    _append(engine)
    outcome = log.anchor(engine)
    assert outcome is not None
    assert outcome.tsa_error == ""
    assert outcome.token is not None
    assert outcome.token.parent == log.anchors.path
    result = verify(engine)
    assert result.ok, result.reason
    assert result.notes == ()


def test_token_of_another_anchor_is_detected(sqlite_store, tmp_path, tsa) -> None:
    log = _log(tmp_path, tsa.url, None)
    engine = log.bind(sqlite_store.engine)
    _append(engine)
    first = log.anchor(engine)
    _append(engine)
    second = log.anchor(engine)
    assert first
    assert second
    assert first.token
    assert second.token
    second.token.write_bytes(first.token.read_bytes())  # swap in a token for other data
    result = verify(engine)
    assert not result.ok
    assert "covers other data than the anchor line" in result.reason


def test_token_from_an_untrusted_tsa_fails_with_a_ca_file(sqlite_store, tmp_path, tsa) -> None:
    other_ca = make_ca(tmp_path / "other-ca", "someone else's CA")
    stamping = _log(tmp_path, tsa.url, tsa.ca_file)
    engine = stamping.bind(sqlite_store.engine)
    _append(engine)
    stamping.anchor(engine)
    assert verify(engine).ok
    checking = _log(tmp_path, tsa.url, other_ca).bind(sqlite_store.engine)
    result = verify(checking)
    assert not result.ok
    assert "does not verify against" in result.reason


def test_tsa_down_still_writes_the_anchor(sqlite_store, tmp_path) -> None:
    log = _log(tmp_path, _closed_port_url(), None)
    engine = log.bind(sqlite_store.engine)
    _append(engine)
    outcome = log.anchor(engine)
    assert outcome is not None
    assert outcome.anchor is not None
    assert outcome.token is None
    assert "did not answer" in outcome.tsa_error
    assert "\n" not in outcome.tsa_error
    result = verify(engine)
    assert result.ok
    assert any("no timestamp token" in note for note in result.notes)


def test_tsa_url_credentials_never_reach_messages(sqlite_store, tmp_path) -> None:
    url = _closed_port_url().replace("http://", "http://user:hunter2@") + "?token=abc"
    log = _log(tmp_path, url, None)
    engine = log.bind(sqlite_store.engine)
    _append(engine)
    outcome = log.anchor(engine)
    assert outcome is not None
    assert "hunter2" not in outcome.tsa_error
    assert "abc" not in outcome.tsa_error
