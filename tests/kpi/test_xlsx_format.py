"""The KPI workbook as a person opens it: readable headers, widths, filters, currency formats."""

from __future__ import annotations

import uuid

import pytest
from openpyxl import load_workbook

from sapbridge.config import load_settings
from sapbridge.kpi import run_kpi_report
from sapbridge.kpi.xlsx import human_header, money_format
from sapbridge.sync.service import sync_system


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    from sapbridge.store import open_store

    folder = tmp_path_factory.mktemp("kpis")
    settings = load_settings(None, store_url=f"sqlite:///{folder / 's.db'}")
    store = open_store(settings.store_url)
    sync_system(settings, store, system="demo", objects=["all"], run_id=str(uuid.uuid4()), actor="t")
    run_kpi_report(store, settings, system="demo", out=folder / "out")
    store.dispose()
    return load_workbook(folder / "out" / "kpis.xlsx")


def test_headers_are_words_people_read():
    assert human_header("net_due_date") == "Net due date"
    assert human_header("ar_total") == "AR total"
    assert human_header("average_days_delinquent") == "Average days delinquent (ADD)"
    assert "CEI" in human_header("cei_percent")


def test_jpy_money_has_no_decimals_and_others_two():
    assert money_format("JPY") == "#,##0;[Red]-#,##0"
    assert money_format("EUR") == "#,##0.00;[Red]-#,##0.00"


def test_every_sheet_has_a_frozen_filtered_header_and_columns_wide_enough(book):
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref, sheet.title
        for cell in sheet[1]:
            width = sheet.column_dimensions[cell.column_letter].width
            assert width >= len(str(cell.value)), (sheet.title, cell.value)
            assert "_" not in str(cell.value), (sheet.title, cell.value)


def test_money_cells_use_their_currency_decimals(book):
    summary = book["summary"]
    header = [c.value for c in summary[1]]
    currency, total = header.index("Currency"), header.index("AR total")
    formats = {row[currency].value: row[total].number_format for row in summary.iter_rows(min_row=2)}
    assert formats["JPY"] == "#,##0;[Red]-#,##0"
    assert formats["EUR"] == "#,##0.00;[Red]-#,##0.00"


def test_percentages_all_show_a_percent_sign(book):
    summary = book["summary"]
    header = [c.value for c in summary[1]]
    cell = summary[2][header.index("Past due %")]
    assert "%" in cell.number_format
    reserve = book["bad_debt_reserve"]
    rate = [c.value for c in reserve[1]].index("Reserve rate")
    assert "%" in reserve[2][rate].number_format


def test_customer_names_stand_beside_the_numbers(book):
    sheet = book["aging_by_customer"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Company code", "Customer", "Customer name", "Currency"]
    names = [row[2].value for row in sheet.iter_rows(min_row=2, max_row=20)]
    assert all(names)
    assert "Beacon Wholesale AG" in {row[2].value for row in sheet.iter_rows(min_row=2)}
