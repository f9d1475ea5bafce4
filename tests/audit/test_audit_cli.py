"""``sapbridge audit`` and the audit settings end to end, each command its own process."""

from __future__ import annotations

import json
import os
import pwd
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text

from sapbridge.audit.auditlog import AuditLog
from sapbridge.audit.log import record
from sapbridge.audit.tables import audit_log
from sapbridge.cli import main
from sapbridge.config import project_root
from sapbridge.logs import configure_logging
from sapbridge.store import open_store

KEY_ENV = "OTC_AUDIT_SECRET"
BANK_FILE = project_root() / "fixtures" / "samples" / "bank-demo.camt053.xml"
REAL_LOGIN = pwd.getpwuid(os.getuid()).pw_name
JOB = """\
name = "small"
system = "demo"
[[steps]]
kind = "sync"
objects = "open_items"
mode = "full"
"""


def _config(tmp_path: Path, extra: str = "") -> Path:
    config = tmp_path / "sapbridge.toml"
    config.write_text(f'[audit]\nkey_env = "{KEY_ENV}"\nanchors = "{tmp_path / "anchors"}"\n'
                      f"{extra}", encoding="utf-8")
    return config


def _sapbridge(tmp_path: Path, url: str, *args: str,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith("SAPBRIDGE_") and k != KEY_ENV}
    environ.update({KEY_ENV: "team-secret"} if env is None else env)
    return subprocess.run(
        [sys.executable, "-m", "sapbridge", "--config", str(tmp_path / "sapbridge.toml"),
         "--db", url, *args], cwd=tmp_path, env=environ, capture_output=True, text=True,
        timeout=120, check=False)


def _ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stderr[-800:]
    return result


def test_renamed_key_env_reaches_sync_reconcile_and_job_runs(store, tmp_path) -> None:
    _config(tmp_path)
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "small.toml").write_text(JOB, encoding="utf-8")
    _ok(_sapbridge(tmp_path, store.url, "sync", "all", "--system", "demo"))
    _ok(_sapbridge(tmp_path, store.url, "reconcile", "cash", "--payments", str(BANK_FILE),
                   "--out", str(tmp_path / "cash")))
    _ok(_sapbridge(tmp_path, store.url, "job", "--jobs-dir", str(tmp_path / "jobs"), "run",
                   "small"))
    with store.engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.action, audit_log.c.alg)).all()
    assert {action for action, _ in rows} >= {"sync_run", "reconcile_cash", "job_run"}
    assert {alg for _, alg in rows} == {"hmac-sha256"}
    verified = _ok(_sapbridge(tmp_path, store.url, "audit", "verify", "--require-key"))
    assert "audit log intact" in verified.stdout
    without_key = _sapbridge(tmp_path, store.url, "audit", "verify", env={})
    assert without_key.returncode == 1
    assert f"set {KEY_ENV}" in without_key.stderr
    anchors = (tmp_path / "anchors" / "audit-anchors.jsonl").read_text().splitlines()
    assert len(anchors) >= 3  # every command that appended left an anchor behind it


def test_entry_records_the_real_os_login_whatever_the_environment(sqlite_store, tmp_path) -> None:
    _config(tmp_path)
    env = {KEY_ENV: "k", "LOGNAME": "bob", "USER": "bob", "USERNAME": "bob",
           "SAPBRIDGE_USER": "bob"}
    _ok(_sapbridge(tmp_path, sqlite_store.url, "sync", "open_items", "--system", "demo",
                   env=env))
    shown = json.loads(_ok(_sapbridge(tmp_path, sqlite_store.url, "audit", "show", "1",
                                      env=env)).stdout)
    assert shown["actor"] == REAL_LOGIN  # the environment names nobody
    assert shown["os_login"] == REAL_LOGIN != "bob"
    assert shown["host"] == socket.gethostname()


def test_anchor_command_needs_an_anchor_dir(sqlite_store, tmp_path) -> None:
    (tmp_path / "sapbridge.toml").write_text("[audit]\n", encoding="utf-8")
    result = _sapbridge(tmp_path, sqlite_store.url, "audit", "anchor")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        'error: no anchor directory configured: set [audit] anchors = "DIR" in the config']


def test_unknown_audit_setting_is_one_line(sqlite_store, tmp_path) -> None:
    (tmp_path / "sapbridge.toml").write_text('[audit]\nanchor = "x"\n', encoding="utf-8")
    result = _sapbridge(tmp_path, sqlite_store.url, "audit", "verify")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'sapbridge.toml'}: [audit] has unknown key(s): anchor (did you mean anchors?)"]


def test_tsa_down_does_not_fail_the_business_command(sqlite_store, tmp_path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _config(tmp_path, f'tsa_url = "http://127.0.0.1:{port}/tsa"\ntsa_timeout = 2\n')
    synced = _ok(_sapbridge(tmp_path, sqlite_store.url, "sync", "open_items", "--system", "demo"))
    warnings = [line for line in synced.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [f"warning: audit anchor written but not timestamped: TSA "
                        f"http://127.0.0.1:{port}/tsa did not answer: ConnectionError"]
    assert (tmp_path / "anchors" / "audit-anchors.jsonl").read_text().count("\n") == 1
    anchored = _ok(_sapbridge(tmp_path, sqlite_store.url, "audit", "anchor"))
    assert "anchored entry 1" in anchored.stdout
    assert "not timestamped" in anchored.stderr


@pytest.fixture
def in_process(tmp_path, monkeypatch, capsys):
    """Run ``sapbridge --config ... ARGS`` in this process: ``(exit code, stdout, stderr)``."""
    monkeypatch.setenv(KEY_ENV, "team-secret")
    monkeypatch.chdir(tmp_path)

    def run(url: str, *args: str) -> tuple[int, str, str]:
        try:
            main(["--config", str(tmp_path / "sapbridge.toml"), "--db", url, *args])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    yield run
    configure_logging(json_lines=True)  # away from capsys's closed stream


@pytest.fixture
def audited(tmp_path) -> str:
    """A store with two entries keyed as the config says."""
    _config(tmp_path)
    url = f"sqlite:///{tmp_path / 'audited.db'}"
    store = open_store(url, audit=AuditLog(key=b"team-secret", key_env=KEY_ENV))
    try:
        for i in (1, 2):
            with store.engine.begin() as conn:
                record(conn, action="sync_run", actor="ops", run_id=f"r{i}",
                       detail={"read": i})
    finally:
        store.dispose()
    return url


def test_truncation_is_reported_by_verify_naming_the_anchor(audited, in_process) -> None:
    code, out, _ = in_process(audited, "audit", "anchor", "--json")
    assert code == 0
    assert json.loads(out)["seq"] == 2
    store = open_store(audited)
    try:
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
            conn.execute(text("UPDATE audit_head SET seq = 1, hash = "
                              "(SELECT hash FROM audit_log WHERE seq = 1)"))
    finally:
        store.dispose()
    code, _, err = in_process(audited, "audit", "verify")
    assert code == 1
    assert "BROKEN at entry 2" in err
    assert "audit-anchors.jsonl line 1" in err
    assert "truncated" in err


def test_export_into_a_missing_folder_is_one_line(audited, tmp_path, in_process) -> None:
    target = tmp_path / "missing" / "dir" / "a.xlsx"
    code, _, err = in_process(audited, "audit", "export", "-o", str(target))
    assert code == 1
    assert err.strip().splitlines() == [
        f"error: {target}: folder {target.parent} does not exist; create it or choose "
        f"another --output"]
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "jsonl"])
def test_export_format_follows_the_suffix(audited, tmp_path, in_process, suffix) -> None:
    target = tmp_path / f"evidence.{suffix}"
    code, out, err = in_process(audited, "audit", "export", "-o", str(target), "--json")
    assert code == 0, err
    assert json.loads(out) == {"written": 2, "path": str(target), "format": suffix}
    if suffix == "jsonl":
        assert json.loads(target.read_text().splitlines()[0])["seq"] == 1
    if suffix == "csv":
        assert target.read_text().startswith("seq,at,action")


def test_export_without_a_known_suffix_asks_for_format(audited, tmp_path, in_process) -> None:
    code, _, err = in_process(audited, "audit", "export", "-o", str(tmp_path / "a.txt"))
    assert code == 1
    assert "use --format (csv, xlsx, jsonl)" in err
    assert len(err.strip().splitlines()) == 1


def test_export_output_has_help_text(tmp_path) -> None:
    result = subprocess.run([sys.executable, "-m", "sapbridge", "audit", "export", "--help"],
                            capture_output=True, text=True, timeout=60, check=False)
    shown = " ".join(result.stdout.split())
    assert "-o, --output FILE File to write (its folder must exist)" in shown
    assert "(default: from the --output suffix)" in shown


@pytest.mark.parametrize(("column", "value", "says"), [
    ("at", "12345", "at holds 12345, not a timestamp"),
    ("at", "NULL", "at holds None, not a timestamp"),
    ("before_json", "'abc'", "before_json holds 'abc', not a JSON object"),
    ("row_no", "'seven'", "row_no holds 'seven', not a number"),
    ("actor", "NULL", "actor holds None, not text"),
])
def test_type_edited_row_is_a_break_naming_the_entry(audited, tmp_path, in_process, column,
                                                    value, says) -> None:
    store = open_store(audited)
    try:
        with store.engine.begin() as conn:  # SQLite keeps what it is given; drop NOT NULL too
            if value == "NULL":
                _drop_not_null(conn)
            conn.execute(text(f"UPDATE audit_log SET {column} = {value} WHERE seq = 2"))
    finally:
        store.dispose()
    code, _, verified = in_process(audited, "audit", "verify")
    assert code == 1
    assert verified.strip().splitlines()[-1].startswith(
        f"audit log BROKEN at entry 2: {says} (type-edited)")
    code, _, exported = in_process(audited, "audit", "export", "-o", str(tmp_path / "a.csv"))
    assert code == 1
    assert exported.strip().splitlines() == [
        f"error: audit log broken at entry 2: {says} (type-edited)"]
    assert not (tmp_path / "a.csv").exists()


def _drop_not_null(conn) -> None:
    """Rebuild audit_log without NOT NULL constraints, as someone with the file could."""
    columns = [row[1] for row in conn.execute(text("PRAGMA table_info(audit_log)"))]
    listed = ", ".join(columns)
    conn.execute(text(f"CREATE TABLE audit_copy AS SELECT {listed} FROM audit_log"))
    conn.execute(text("DROP TABLE audit_log"))
    conn.execute(text("ALTER TABLE audit_copy RENAME TO audit_log"))
