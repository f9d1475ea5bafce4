"""The README's main job, end to end on the demo system: every step runs with the real modules."""

from __future__ import annotations

import csv
import shutil
from datetime import UTC, datetime
from pathlib import Path

from devtools.demo.data import generate
from sapbridge.audit import log as audit_log
from sapbridge.config import load_settings, project_root
from sapbridge.jobs import load_job, run_job


def _nightly_in(tmp_path):
    root = project_root()
    (tmp_path / "jobs").mkdir()
    shutil.copy(root / "jobs" / "nightly.toml", tmp_path / "jobs" / "nightly.toml")
    shutil.copytree(root / "fixtures" / "samples", tmp_path / "fixtures" / "samples")
    return load_job(tmp_path / "jobs" / "nightly.toml")


def test_nightly_job_syncs_reconciles_and_reports_with_work_to_review(sqlite_store, tmp_path):
    result = run_job(sqlite_store, load_settings(None), _nightly_in(tmp_path), actor="scheduler")

    assert [(s.kind, s.status) for s in result.steps] == [
        ("sync", "succeeded"), ("reconcile_cash", "succeeded"),
        ("reconcile_recoveries", "succeeded"), ("kpis", "succeeded")]
    assert result.status == "review"
    assert result.exit_code == 3
    sync, cash, recoveries, kpis = result.steps
    assert sync.counts["datasets"] == 9  # seven objects: customers fill three datasets
    company = generate(1)
    assert sync.counts["read"] > len(company.open_items) + len(company.cleared_items)  # and master data
    assert cash.counts["payments"] == 21
    assert cash.needs_review == cash.counts["needs_review"] > 0
    assert recoveries.counts["as_of"] == "2026-11-20", "a replay system reconciles on its key date"

    day = datetime.now(UTC).date().isoformat()
    out = tmp_path / "out" / day
    with (out / "cash" / "matches.csv").open(newline="") as handle:
        matched = list(csv.DictReader(handle))
    assert len(matched) == cash.counts["matches"]
    assert {"matches.csv", "suggestions.csv", "exceptions.csv", "cash.xlsx"} <= {
        p.name for p in (out / "cash").iterdir()}
    assert (out / "recoveries" / "recoveries.xlsx").is_file()
    assert {p.name for p in (out / "kpis").iterdir()} == {"kpis.xlsx", "kpis.html"}
    assert kpis.counts["recovery_run_id"] == recoveries.counts["run_id"]
    assert kpis.counts["as_of"] == "2026-11-20"
    assert {k for k in kpis.counts if k.startswith("ar_")} == {"ar_1000_EUR", "ar_2000_USD", "ar_3000_JPY"}
    assert sorted(Path(f).name for f in kpis.counts["files"]) == ["kpis.html", "kpis.xlsx"]

    actions = [e.action for e in audit_log.query(sqlite_store.engine)]
    for action in ("job_run", "sync_run", "reconcile_cash", "reconcile_recoveries"):
        assert action in actions
    assert audit_log.verify(sqlite_store.engine).ok
