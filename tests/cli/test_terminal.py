"""What a person at a terminal (or a script) sees: bars and a summary, one-line errors, modes."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import click
import pytest

from devtools.demo.data import generate
from sapbridge.cli import cli
from sapbridge.cli.output import RunningTotal

ROOT = Path(__file__).resolve().parents[2]
BANK = ROOT / "fixtures" / "samples" / "bank-demo.camt053.xml"
CLAIMS = ROOT / "fixtures" / "samples" / "claims-demo.csv"


def environ() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAPBRIDGE_")}
    env["COLUMNS"] = "100"
    return env


def run(*args: str, cwd: Path, umask: int | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sapbridge", *args], cwd=cwd, env=environ(),
                          capture_output=True, text=True, timeout=120, check=False,
                          preexec_fn=(lambda: os.umask(umask)) if umask is not None else None)


def run_on_terminal(*args: str, cwd: Path) -> tuple[int, str]:
    """Run with stderr on a pseudo-terminal (as a person sees it); returns (exit code, stderr)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "sapbridge", *args], cwd=cwd, env=environ(),
                               stdout=subprocess.DEVNULL, stderr=follower, stdin=subprocess.DEVNULL)
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return process.wait(60), b"".join(chunks).decode(errors="replace")


def test_a_total_read_in_partitions_adds_up_instead_of_restarting_per_company_code():
    running = RunningTotal()
    shown = [running.add(rows, total) for rows, total in [(42, 42), (30, 50), (20, 50), (57, 57)]]
    assert shown == [42, 92, 92, 149]
    assert running.done_before + running.in_partition == 149


def test_a_total_is_never_below_what_was_read_and_unknown_totals_stay_unknown():
    running = RunningTotal()
    assert running.add(10, None) is None
    grown = RunningTotal()
    assert grown.add(5, 3) == 5


def test_sync_on_a_terminal_shows_bars_with_true_totals_and_no_log_lines(tmp_path):
    code, seen = run_on_terminal("sync", "all", "--system", "demo", cwd=tmp_path)
    assert code == 0, seen
    assert "customer_companies" in seen
    assert "149/149" in seen
    company = generate(1)
    assert f"{len(company.open_items)}/{len(company.open_items)}" in seen
    assert f"{len(company.cleared_items)}/{len(company.cleared_items)}" in seen
    assert "dataset_synced" not in seen
    assert "{" not in seen  # no Python dicts or JSON log lines above the bars


def test_verbose_shows_the_log_and_quiet_shows_no_bars(tmp_path):
    code, seen = run_on_terminal("-v", "sync", "customers", "--system", "demo", cwd=tmp_path)
    assert code == 0
    assert "dataset_synced" in seen
    code, seen = run_on_terminal("-q", "sync", "customers", "--system", "demo", cwd=tmp_path)
    assert code == 0
    assert "149/149" not in seen
    assert "dataset_synced" not in seen


def test_log_file_keeps_every_line_as_json(tmp_path):
    log = tmp_path / "sapbridge.log"
    code, seen = run_on_terminal("--log-file", str(log), "sync", "customers", "--system", "demo", cwd=tmp_path)
    assert code == 0
    assert "dataset_synced" not in seen
    lines = log.read_text(encoding="utf-8").splitlines()
    assert any('"event": "dataset_synced"' in line for line in lines)


def test_unattended_logs_stay_json(tmp_path):
    result = run("sync", "customers", "--system", "demo", cwd=tmp_path)
    assert result.returncode == 0
    assert '"event": "dataset_synced"' in result.stderr


def test_cash_on_an_empty_store_says_to_sync_first(tmp_path):
    result = run("reconcile", "cash", "--payments", str(BANK), "--out", "out/cash", cwd=tmp_path)
    assert result.returncode == 1
    assert "run 'sapbridge sync open_items --system demo' first" in result.stderr
    assert not (tmp_path / "out" / "cash").exists()


@pytest.mark.parametrize(("typed", "suggested"), [
    ("x.db", "sqlite:///x.db"),
    ("postgres://otc@db/sapbridge", "postgresql+psycopg://otc@db/sapbridge"),
    ("postgresql://otc:S3cret@db/sapbridge", "postgresql+psycopg://otc:***@db/sapbridge"),
])
def test_a_store_url_typo_echoes_what_was_typed_and_suggests_the_fix(tmp_path, typed, suggested):
    result = run("--db", typed, "sync", "customers", "--system", "demo", cwd=tmp_path)
    assert result.returncode == 1
    assert suggested in result.stderr
    assert "S3cret" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", [
    ["report", "kpis", "--out", "out/k"],
    ["reconcile", "recoveries", "--claims", str(CLAIMS), "--out", "out/r"],
])
def test_a_bad_as_of_is_one_line_and_exit_1_everywhere(tmp_path, command):
    result = run(*command, "--as-of", "2026-13-01", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: --as-of: not a date: '2026-13-01' (use YYYY-MM-DD)"


def _commands(group: click.Group, prefix: str = "sapbridge") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = [(prefix, group)]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix} {name}")
        else:
            found.append((f"{prefix} {name}", command))
    return found


@pytest.mark.parametrize(("name", "command"), _commands(cli), ids=[n for n, _ in _commands(cli)])
def test_every_command_has_an_example_block(name, command):
    assert "Example:" in (command.help or ""), f"{name} has no Example: block"


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_every_output_folder_follows_the_umask(tmp_path, umask):
    assert run("sync", "all", "--system", "demo", cwd=tmp_path).returncode == 0
    for args in (["reconcile", "cash", "--payments", str(BANK), "--out", "out/cash"],
                 ["reconcile", "recoveries", "--claims", str(CLAIMS), "--out", "out/recoveries"],
                 ["report", "kpis", "--out", "out/kpis"]):
        result = run(*args, cwd=tmp_path, umask=umask)
        assert result.returncode in (0, 3), result.stderr
    for folder in ("cash", "recoveries", "kpis"):
        path = tmp_path / "out" / folder
        assert path.stat().st_mode & 0o777 == 0o777 & ~umask, folder
        assert {p.stat().st_mode & 0o777 for p in path.iterdir()} == {0o666 & ~umask}, folder


@pytest.mark.parametrize("columns", ["80", "60"])
def test_tables_fold_or_drop_optional_columns_instead_of_cutting_values(tmp_path, columns):
    env = environ() | {"COLUMNS": columns}
    done = subprocess.run([sys.executable, "-m", "sapbridge", "sync", "all", "--system", "demo"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0
    assert "…" not in done.stdout
    assert "customer_bank_accounts" in done.stdout
    assert str(len(generate(1).cleared_items)) in done.stdout  # the widest count, whole
    listed = subprocess.run([sys.executable, "-m", "sapbridge", "systems", "list"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert "…" not in listed.stdout
