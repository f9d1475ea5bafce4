"""sapbridge.frames: DataFrames of the synced tables and of every report, money exact by default."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from sapbridge import frames
from sapbridge.config import load_settings
from sapbridge.errors import InputError
from sapbridge.kpi import run_kpi_report
from sapbridge.store.schema import open_items
from sapbridge.sync.service import sync_system


@pytest.fixture
def synced_store(store, tmp_path):
    settings = load_settings(None, store_url=f"sqlite:///{tmp_path / 'unused.db'}")
    sync_system(settings, store, system="demo", objects=["all"], run_id=str(uuid.uuid4()), actor="t")
    return store, settings


def test_synced_tables_keep_money_exact_and_keys_as_text(synced_store):
    store, _ = synced_store
    items = frames.synced(store, "open_items", system="demo")
    with store.engine.connect() as conn:
        expected = conn.execute(select(func.count()).select_from(open_items)).scalar_one()
    assert len(items) == expected
    assert all(isinstance(v, Decimal) for v in items["amount"])
    eur = items[items["currency"] == "EUR"]["amount"].sum()
    assert isinstance(eur, Decimal)
    assert eur == sum((v for v in items[items["currency"] == "EUR"]["amount"]), Decimal(0))
    assert items["customer"].str.startswith("0000").all()


def test_the_float_view_is_opt_in_and_for_plotting_only(synced_store):
    store, _ = synced_store
    floats = frames.synced(store, "credit_segments", floats=True)
    assert floats["credit_limit"].dtype == float
    exact = frames.synced(store, "credit_segments")
    assert exact["credit_limit"].dtype == object


def test_every_kpi_sheet_is_a_frame(synced_store, tmp_path):
    store, settings = synced_store
    result = run_kpi_report(store, settings, system="demo", out=tmp_path / "kpis", as_of=None,
                            company_codes=None)
    sheets = frames.kpis(result.report)
    assert {"summary", "aging", "aging_by_customer", "dso_trend", "notes"} <= set(sheets)
    summary = sheets["summary"]
    assert set(summary["currency"]) == {"EUR", "USD", "JPY"}
    assert all(isinstance(v, Decimal) for v in summary["ar_total"])


def test_a_report_folder_reads_amounts_exactly_and_refuses_an_empty_folder(tmp_path):
    folder = tmp_path / "cash"
    folder.mkdir()
    (folder / "matches.csv").write_text(
        "payment_id,document,applied_amount,currency,confidence\nP1,0090000001,0.10,EUR,0.99\n"
        "P2,0090000002,0.20,EUR,0.97\n", encoding="utf-8")
    matches = frames.report_folder(folder)["matches"]
    assert matches["applied_amount"].sum() == Decimal("0.30")  # 0.1 + 0.2 exactly
    assert list(matches["document"]) == ["0090000001", "0090000002"]
    with pytest.raises(InputError, match="no CSV files"):
        frames.report_folder(tmp_path / "nothing-here")


def test_an_unknown_dataset_names_the_known_ones(synced_store):
    with pytest.raises(InputError, match=r"known: .*open_items"):
        frames.synced(synced_store[0], "open_itemz")
