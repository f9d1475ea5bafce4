"""Each Bridge use case on the demo system, and one push orchestration behind the CLI and the job step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from push.conftest import LIMIT_HEADER, seed_sap, seed_store, write_config, write_csv
from push.fakes import FakeOData, FakeRfc, FakeSapState

from sapbridge.app import Bridge
from sapbridge.cli import main
from sapbridge.config import load_settings, project_root
from sapbridge.errors import ReconciliationError
from sapbridge.jobs.definition import load_job
from sapbridge.jobs.runner import run_job

SAMPLES = project_root() / "fixtures" / "samples"


@pytest.fixture
def demo(tmp_path: Path):
    settings = load_settings(None, store_url=f"sqlite:///{tmp_path / 'demo.db'}")
    with Bridge.open(settings, actor="ops") as bridge:
        yield bridge


def test_cash_is_refused_before_anything_is_synced(demo: Bridge, tmp_path: Path) -> None:
    with pytest.raises(ReconciliationError, match="no open items for system demo"):
        demo.reconcile_cash(SAMPLES / "bank-demo.camt053.xml", tmp_path / "cash")


def test_every_use_case_runs_on_the_demo_system(demo: Bridge, tmp_path: Path) -> None:
    summary = demo.sync()
    assert summary.status == "ok"
    assert sum(d.inserted for d in summary.datasets) > 0
    again = demo.sync()
    assert [run.run_id for run in demo.sync_history()] == [again.run_id, summary.run_id]
    assert again.datasets
    assert all(d.inserted == 0 for d in again.datasets)

    cash = demo.reconcile_cash(SAMPLES / "bank-demo.camt053.xml", tmp_path / "cash")
    assert cash.summary["payments"] > 0
    assert (tmp_path / "cash" / "matches.csv").is_file()

    recoveries = demo.reconcile_recoveries(SAMPLES / "claims-demo.csv", tmp_path / "rec")
    assert recoveries.summary["system"] == "demo"
    assert sum(c["rows"] for c in recoveries.summary["categories"].values()) > 0

    kpis = demo.kpi_report(tmp_path / "kpis")
    assert {row["company_code"] for row in kpis.summary["receivables"]} >= {"1000"}
    assert (tmp_path / "kpis" / "kpis.xlsx").is_file()

    worklist = demo.worklist(tmp_path / "worklist")
    assert worklist.rows
    assert worklist.rows[0]["rank"] == 1

    verified = demo.audit_verify()
    assert verified.ok
    assert verified.checked > 0
    written = demo.audit_export(tmp_path / "audit.jsonl", fmt="jsonl")
    assert written == verified.checked
    entries = list(demo.audit_entries(actor="ops"))
    assert entries
    assert demo.audit_entry(entries[0].seq) == entries[0]
    assert demo.cash_habits() == []
    assert demo.push_status() == []
    assert demo.push_plan_approved().plans == ()


PRD = '[defaults]\nsystem = "PRD"\n[systems.PRD]\nodata_url = "https://s4.example.com"\n'


@pytest.fixture
def prd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store):
    config = write_config(tmp_path, PRD)
    settings = load_settings(config, store_url=store.url)
    seed_store(store.engine)
    sap = FakeSapState(tmp_path / "sap.json")
    seed_sap(sap)
    monkeypatch.setattr("sapbridge.push.sap.connect", lambda system: (FakeOData(sap), FakeRfc(sap)))
    return config, settings, sap


def test_the_cli_and_the_job_step_plan_a_batch_the_same_way(prd, store, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    config, settings, sap = prd
    bridge = Bridge.open(settings, actor="alice")
    requested = bridge.push_request("limits", write_csv(tmp_path / "l.csv", LIMIT_HEADER,
                                                        "0010000001,1000,45000.00,EUR,,review",
                                                        "0010000002,1000,40000.00,EUR,,downgrade"))
    assert requested.requester == "alice"
    batch_id = requested.batch.batch_id
    decided = bridge.push_approve(batch_id, as_user="bob")
    assert (decided.approver, decided.decision.status) == ("bob", "approved")
    sap.set_limit("0010000002", "1000", "47000.00")  # SAP changed since the request: stale

    direct = bridge.push_plan(batch_id)
    bridge.close()
    main(["--config", str(config), "--db", store.url, "--as", "carol", "push", "plan", batch_id, "--json"])
    shown = json.loads(capsys.readouterr().out)
    job = load_job(write_job(tmp_path, "[[steps]]\nkind = \"push_plan\"\n"), settings)
    stepped = run_job(store, settings, job, actor="carol").steps[0]

    verdicts = sorted(row["verdict"] for row in shown["rows"])
    assert verdicts == sorted(row.verdict for row in direct.rows) == ["change", "stale"]
    assert stepped.counts == {"batches": 1, "rows": 2, "change": 1, "stale": 1}
    assert stepped.needs_review == 1
    assert sap.load()["patches"] == []  # planning never writes to SAP


def write_job(tmp_path: Path, steps: str) -> Path:
    path = tmp_path / "jobs" / "plan.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(f'name = "plan"\nsystem = "PRD"\n{steps}', encoding="utf-8")
    return path
