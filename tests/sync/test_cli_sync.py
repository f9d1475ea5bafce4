"""The sync commands as a user runs them: counts of a resync, guards' options, run history."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

from devtools.demo.data import generate

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SAPBRIDGE_")}
    environ["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "sapbridge", *args], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=120, check=False)


def test_a_resync_of_the_demo_writes_nothing_and_history_lists_both_runs(store, tmp_path):
    url = store.engine.url.render_as_string(hide_password=False)
    first = run_cli("--db", url, "sync", "open_items", "--system", "demo", "--json", cwd=ROOT)
    assert first.returncode == 0, first.stderr
    again = run_cli("--db", url, "sync", "open_items", "--system", "demo", "--json",
                    "--max-clear-share", "0.1", cwd=ROOT)
    assert again.returncode == 0, again.stderr
    counts = orjson.loads(again.stdout)["datasets"][0]
    assert counts["read"] == counts["unchanged"] == len(generate(1).open_items)
    assert (counts["inserted"], counts["updated"], counts["cleared"]) == (0, 0, 0)
    history = run_cli("--db", url, "sync-history", "--system", "demo", "--json", cwd=ROOT)
    runs = orjson.loads(history.stdout)
    assert [r["status"] for r in runs] == ["ok", "ok"]
    assert runs[0]["run_id"] == orjson.loads(again.stdout)["run_id"]


def test_a_bad_clear_share_is_one_line(tmp_path):
    done = run_cli("--db", f"sqlite:///{tmp_path / 'x.db'}", "sync", "open_items", "--max-clear-share", "2",
                   cwd=ROOT)
    assert done.returncode != 0
    assert "--max-clear-share" in done.stderr
    assert "Traceback" not in done.stderr
