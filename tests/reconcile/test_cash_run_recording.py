"""A cash run that fails after reading its inputs records nothing: no run row left unfinished."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from sapbridge.audit.tables import audit_log
from sapbridge.config import load_settings
from sapbridge.reconcile.cash import run_cash
from sapbridge.reconcile.tables import reconcile_runs

ITEMS = """company_code,customer,fiscal_year,document,item,reference,assignment,posting_date,due_date,amount,currency
1000,0000100001,2026,0090000001,001,4711,PO1,2026-09-01,2026-10-01,1000.00,EUR
"""
PAYMENTS = """payment_id,value_date,amount,currency,payer_name,payer_account,customer,remittance
P1,2026-11-21,1000.00,EUR,Acme,,0000100001,INV 4711
"""


def _counts(store) -> tuple[int, int, int]:
    with store.engine.connect() as conn:
        runs = conn.execute(select(func.count()).select_from(reconcile_runs)).scalar()
        open_runs = conn.execute(select(func.count()).select_from(reconcile_runs)
                                 .where(reconcile_runs.c.finished_at.is_(None))).scalar()
        entries = conn.execute(select(func.count()).select_from(audit_log)).scalar()
    return int(runs or 0), int(open_runs or 0), int(entries or 0)


def _run(store, tmp_path: Path):
    (tmp_path / "items.csv").write_text(ITEMS)
    (tmp_path / "bank.csv").write_text(PAYMENTS)
    return run_cash(store, load_settings(None), system="demo", payments=tmp_path / "bank.csv",
                    out=tmp_path / "out", open_items=tmp_path / "items.csv", actor="tester")


@pytest.mark.parametrize("stage", ["sapbridge.reconcile.cash.service.match_payments",
                                   "sapbridge.reconcile.cash.service.write_outputs"])
def test_a_run_failing_after_its_inputs_were_read_records_no_run(store, tmp_path, monkeypatch, stage):
    def fail(*_args, **_kwargs):
        raise ValueError("cannot convert NaN to integer")

    monkeypatch.setattr(stage, fail)
    with pytest.raises(ValueError, match="NaN"):
        _run(store, tmp_path)
    assert _counts(store) == (0, 0, 0)
    assert not (tmp_path / "out").exists()


def test_a_finished_run_has_its_start_and_finish_time(store, tmp_path):
    result = _run(store, tmp_path)
    with store.engine.connect() as conn:
        run = conn.execute(select(reconcile_runs)).one()
    assert run.run_id == result.run_id
    assert run.started_at <= run.finished_at
    assert _counts(store) == (1, 0, 1)
