"""The committed demo bank statements against the synced DEMO store give a sensible result."""

from __future__ import annotations

import uuid

from sapbridge.config import load_settings, project_root
from sapbridge.reconcile.cash import run_cash
from sapbridge.reconcile.cash.demo_sample import write_samples
from sapbridge.sync.service import sync_system

SAMPLES = project_root() / "fixtures" / "samples"


def test_committed_samples_are_what_the_script_writes(tmp_path):
    for path in write_samples(tmp_path):
        assert path.read_bytes() == (SAMPLES / path.name).read_bytes()


def test_demo_camt_statement_against_the_synced_demo_store(sqlite_store, tmp_path):
    settings = load_settings(None)
    sync_system(settings, sqlite_store, system="demo", objects=["all"], run_id=str(uuid.uuid4()), actor="t")
    result = run_cash(sqlite_store, settings, system="demo", payments=SAMPLES / "bank-demo.camt053.xml",
                      out=tmp_path / "cash")
    assert result.result is not None
    auto = {m.payment_id for m in result.result.matches}
    categories = {(e.payment_id, e.category) for e in result.result.exceptions}
    assert len(auto) == 19
    assert ("DEMO9001", "over_pay") in categories
    assert ("DEMO0020", "unapplied") in categories
    assert {p for p, c in categories if c == "short_pay"} == {"DEMO0011", "DEMO0012", "DEMO0013"}
    combined = [m for m in result.result.matches if m.payment_id == "DEMO0017"]
    assert len(combined) == 3
    assert any(m.applied_amount < 0 for m in combined)
