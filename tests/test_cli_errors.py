"""What a user sees when things go wrong: one line, exit 1, no traceback, and never a password."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SECRET = "Pa55-w0rd-never-shown"


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SAPBRIDGE_")}
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "sapbridge", *args], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=60, check=False)


def _live_config(tmp_path: Path, port: int) -> Path:
    config = tmp_path / "sapbridge.toml"
    config.write_text(f"""
[systems.QAS]
odata_url = "http://127.0.0.1:{port}"
user = "OTC_BATCH"
password_env = "QAS_PASSWORD"
connect_timeout = 1
max_attempts = 2
""")
    return config


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unknown_system_is_one_line_without_traceback(tmp_path) -> None:
    done = run_cli("--db", f"sqlite:///{tmp_path / 's.db'}", "sync", "all", "--system", "PRD", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "PRD" in done.stderr
    assert "Traceback" not in done.stderr


def test_unreachable_sap_names_the_host_and_leaks_no_password(tmp_path) -> None:
    config = _live_config(tmp_path, _closed_port())
    done = run_cli("--config", str(config), "--db", f"sqlite:///{tmp_path / 's.db'}", "--debug",
                   "--log-json", "sync", "customers", "--system", "QAS", cwd=tmp_path,
                   env={"QAS_PASSWORD": SECRET})
    assert done.returncode != 0
    assert "cannot connect to 127.0.0.1" in done.stderr
    assert SECRET not in done.stderr + done.stdout


def test_without_debug_the_same_failure_is_a_single_error_line(tmp_path) -> None:
    config = _live_config(tmp_path, _closed_port())
    done = run_cli("--config", str(config), "--db", f"sqlite:///{tmp_path / 's.db'}",
                   "sync", "customers", "--system", "QAS", cwd=tmp_path, env={"QAS_PASSWORD": SECRET})
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1
    assert "cannot connect to 127.0.0.1" in errors[0]
    assert "Traceback" not in done.stderr
    assert SECRET not in done.stderr + done.stdout


def test_unexpected_failure_is_one_line_and_debug_shows_the_traceback(tmp_path) -> None:
    bad_store = tmp_path / "not-a-dir" / "x" / "s.db"
    done = run_cli("--db", f"sqlite:///{bad_store}", "sync", "all", cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: ")
    debug = run_cli("--debug", "--db", f"sqlite:///{bad_store}", "sync", "all", cwd=tmp_path)
    assert "Traceback" in debug.stderr


def test_cli_py_from_the_checkout_is_the_installed_command(tmp_path) -> None:
    from sapbridge.config import project_root

    environ = {k: v for k, v in os.environ.items() if not k.startswith("SAPBRIDGE_")}
    done = subprocess.run([sys.executable, str(project_root() / "cli.py"), "--db",
                           f"sqlite:///{tmp_path / 's.db'}", "systems", "list", "--json"],
                          cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert '"name": "demo"' in done.stdout
