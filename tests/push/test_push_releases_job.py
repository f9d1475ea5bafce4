"""The job step ``push_plan`` plans approved release batches and flags stale orders."""

from __future__ import annotations

import textwrap

from sapbridge.config import load_settings
from sapbridge.jobs.definition import load_job
from sapbridge.jobs.runner import run_job
from sapbridge.push.authority import load_push_config

from .conftest import write_config
from .fakes import FakeOData, FakeRfc, FakeSapState
from .test_push_cli import PRD
from .test_push_releases import _approved, seed_orders, seed_sap_orders

JOB = """
name = "plan-releases"
system = "PRD"
[[steps]]
kind = "push_plan"
kinds = ["releases"]
"""


def test_job_step_plans_release_batches_and_flags_an_order_released_meanwhile(
        store, tmp_path, monkeypatch):
    settings = load_settings(write_config(tmp_path, PRD))
    config = load_push_config(settings)
    seed_orders(store.engine)
    sap = FakeSapState(tmp_path / "sap.json")
    seed_sap_orders(sap)
    monkeypatch.setattr("sapbridge.push.sap.connect",
                        lambda system: (FakeOData(sap), FakeRfc(sap)))
    _approved(store.engine, config, tmp_path)
    sap.change_order("10000001", TotalCreditCheckStatus="D")  # released by someone in VKM1
    path = tmp_path / "jobs" / "plan.toml"
    path.parent.mkdir()
    path.write_text(textwrap.dedent(JOB), encoding="utf-8")
    result = run_job(store, settings, load_job(path, settings), actor="carol", run_id="job")
    assert (result.status, result.exit_code) == ("review", 3)
    assert result.steps[0].counts == {"batches": 1, "rows": 2, "change": 1, "stale": 1}
    assert "posts" not in sap.load()  # a plan never calls SAP's release
