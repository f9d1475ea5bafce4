"""run_kpi_report end to end: files, workbook cells, the offline HTML, atomic output, snapshots."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from sapbridge.config import load_settings
from sapbridge.errors import InputError
from sapbridge.kpi import run_kpi_report
from sapbridge.kpi.xlsx import human_header
from sapbridge.tabular import MONEY_FORMAT

from .conftest import SYSTEM, seed_recoveries

CONFIG = f"""
[systems.{SYSTEM}]
kind = "replay"
key_date = "2026-03-31"
company_codes = ["1000", "2000", "3000"]

[kpi]
trend_months = 3
"""


@pytest.fixture
def settings(tmp_path):
    path = tmp_path / "sapbridge.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return load_settings(path, store_url="sqlite://")


def test_report_files_and_summary(seeded, settings, tmp_path):
    out = tmp_path / "report"
    result = run_kpi_report(seeded, settings, system=SYSTEM, out=out)
    assert sorted(p.name for p in out.iterdir()) == ["kpis.html", "kpis.xlsx"]
    summary = json.loads(json.dumps(result.summary))  # JSON-safe without a default hook
    assert summary["as_of"] == "2026-03-31"
    eur = summary["receivables"][0]
    assert (eur["company_code"], eur["currency"]) == ("1000", "EUR")
    assert eur["ar_total"] == "15290.00"
    assert eur["aging"] == {"current": "1790.00", "1-30": "1500.00", "31-60": "3000.00",
                            "61-90": "4000.00", "over 90": "5000.00"}
    assert eur["past_due_percent"] == "88.29"
    assert eur["cei_percent"] == "32.50"
    assert eur["bad_debt_reserve"] == "3892.90"
    assert eur["dso_simple"] == str(round(Decimal(15290) / Decimal(12790) * 90, 1))
    assert summary["recoveries"] == {"status": "no recoveries run yet"}
    assert summary["blocked_orders"][0]["blocked_count"] == 2


def test_recovery_rate_in_summary(seeded, settings, tmp_path):
    seed_recoveries(seeded)
    summary = run_kpi_report(seeded, settings, system=SYSTEM, out=tmp_path / "r").summary
    rows = {r["currency"]: r for r in summary["recoveries"]["by_currency"]}
    assert summary["recoveries"]["run_id"] == "new"
    assert rows["EUR"]["rate_percent"] == "53.33"
    assert rows["EUR"]["claimed"] == "1500.00"


def test_workbook_cells_are_numbers_with_money_format(seeded, settings, tmp_path):
    run_kpi_report(seeded, settings, system=SYSTEM, out=tmp_path / "r")
    book = load_workbook(tmp_path / "r" / "kpis.xlsx")
    assert {"summary", "aging", "dso_cei", "dso_trend", "bad_debt_reserve", "blocked_orders",
            "disputes_by_age", "disputes_by_reason", "recoveries"} <= set(book.sheetnames)
    aging = book["aging"]
    header = [c.value for c in aging[1]]
    eur = aging[2]
    total = eur[header.index(human_header("ar_total"))]
    assert isinstance(total.value, int | float)
    assert total.value == 15290
    assert total.number_format == MONEY_FORMAT
    over_90 = eur[header.index(human_header("over 90"))]
    assert over_90.value == 5000
    assert over_90.number_format == MONEY_FORMAT
    percent = eur[header.index(human_header("past_due_percent"))]
    assert isinstance(percent.value, int | float)
    assert percent.value == pytest.approx(88.29)
    assert percent.number_format != MONEY_FORMAT
    dso = book["dso_cei"]
    dso_header = [c.value for c in dso[1]]
    assert dso[2][dso_header.index(human_header("cei_percent"))].value == pytest.approx(32.5)


def test_html_is_offline_and_has_charts(seeded, settings, tmp_path):
    run_kpi_report(seeded, settings, system=SYSTEM, out=tmp_path / "r")
    page = (tmp_path / "r" / "kpis.html").read_text(encoding="utf-8")
    assert "http://" not in page
    assert "https://" not in page
    assert "<script" not in page
    assert page.count("<svg") >= 3  # aging bars for two groups, a DSO trend line
    assert "<polyline" in page
    assert "15,290.00" in page


def test_a_failed_write_leaves_nothing_behind(seeded, settings, tmp_path, monkeypatch):
    def broken(_report):
        raise RuntimeError("disk full")

    monkeypatch.setattr("sapbridge.kpi.outputs.render_html", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        run_kpi_report(seeded, settings, system=SYSTEM, out=tmp_path / "r")
    assert not (tmp_path / "r").exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".r")]


def test_a_report_dir_is_replaced_but_other_files_are_protected(seeded, settings, tmp_path):
    out = tmp_path / "r"
    run_kpi_report(seeded, settings, system=SYSTEM, out=out, as_of=date(2026, 2, 28))
    run_kpi_report(seeded, settings, system=SYSTEM, out=out)
    assert "report date 2026-03-31" in (out / "kpis.html").read_text(encoding="utf-8")
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="holds other files"):
        run_kpi_report(seeded, settings, system=SYSTEM, out=out)
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_each_run_is_remembered_for_the_trend(seeded, settings, tmp_path):
    first = run_kpi_report(seeded, settings, system=SYSTEM, out=tmp_path / "a", as_of=date(2026, 2, 28))
    assert first.report.history == []
    second = run_kpi_report(seeded, settings, system=SYSTEM, out=tmp_path / "b")
    earlier = [(s.as_of, s.company_code, s.ar_total) for s in second.report.history]
    assert (date(2026, 2, 28), "1000", Decimal(20000)) in earlier
    page = (tmp_path / "b" / "kpis.html").read_text(encoding="utf-8")
    assert "Earlier report runs" in page
    assert 'aria-label="DSO by report date, 1000 (EUR)"' in page


def test_unknown_company_code(seeded, settings, tmp_path):
    with pytest.raises(InputError, match=r"unknown company code\(s\) 9999 for system T \(known: 1000, 2000, 3000\)"):
        run_kpi_report(seeded, settings, system=SYSTEM, out=tmp_path / "r", company_codes=["9999"])
    assert not (tmp_path / "r").exists()


def test_company_code_filter(seeded, settings, tmp_path):
    summary = run_kpi_report(seeded, settings, system=SYSTEM, out=tmp_path / "r",
                             company_codes=["2000"]).summary
    assert [r["company_code"] for r in summary["receivables"]] == ["2000"]
    assert [r["company_code"] for r in summary["blocked_orders"]] == ["2000"]


def test_empty_store_says_to_sync_first(store, settings, tmp_path):
    with pytest.raises(InputError, match="no open items of system T in the store"):
        run_kpi_report(store, settings, system=SYSTEM, out=tmp_path / "r")


def test_future_as_of_is_refused(seeded, settings, tmp_path):
    with pytest.raises(InputError, match="in the future"):
        run_kpi_report(seeded, settings, system=SYSTEM, out=tmp_path / "r", as_of=date(2999, 1, 1))


def test_history_keeps_the_newest_run_per_report_date(seeded, settings, tmp_path):
    run_kpi_report(seeded, settings, system=SYSTEM, out=tmp_path / "a", as_of=date(2026, 2, 28))
    run_kpi_report(seeded, settings, system=SYSTEM, out=tmp_path / "a", as_of=date(2026, 2, 28))
    third = run_kpi_report(seeded, settings, system=SYSTEM, out=tmp_path / "a")
    keys = [(s.as_of, s.company_code) for s in third.report.history]
    assert keys == [(date(2026, 2, 28), "1000")]  # USD had no AR before 1 March
