"""The committed demo bank statements against the synced DEMO store give a sensible result."""

from __future__ import annotations

import uuid

from devtools.cash.demo_sample import write_samples
from sapbridge.config import load_settings, project_root
from sapbridge.reconcile.cash import run_cash
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


def test_demo_advices_split_the_short_pays_by_their_reasons(sqlite_store, tmp_path):
    """The README's advice command: two advices linked (by payment reference, by amount/payer/date),
    their deductions short pays with the advice's reason, one advice waiting for its money."""
    settings = load_settings(None)
    sync_system(settings, sqlite_store, system="demo", objects=["all"], run_id=str(uuid.uuid4()), actor="t")
    result = run_cash(sqlite_store, settings, system="demo", payments=SAMPLES / "bank-demo.csv",
                      out=tmp_path / "cash", advices=SAMPLES / "advices-demo.csv")
    assert result.result is not None
    assert [(a.advice_id, a.payment_id, a.linked_by) for a in result.result.advices] == [
        ("A-1001", "DEMO0011", "payment_reference"), ("A-1002", "DEMO0012", "amount_payer_date"),
        ("A-1003", "", "")]
    reasons = {e.payment_id: e.proposed_action for e in result.result.exceptions if e.category == "short_pay"}
    assert "reason: DMG" in reasons["DEMO0011"]
    assert "reason: PRC" in reasons["DEMO0012"]
