"""Large inputs read a chunk at a time, repeated values kept once: the same records, and the same
one-line errors naming the right rows, as a file read whole."""

from __future__ import annotations

from decimal import Decimal

import pytest

from devtools.recoveries.synthetic import generate, write_files
from sapbridge.errors import InputError
from sapbridge.money import ZERO
from sapbridge.reconcile.cash.inputs import load_open_items
from sapbridge.reconcile.recoveries import RecoveriesConfig, inputs, rows
from sapbridge.reconcile.recoveries.inputs import read_claims, read_disputes

CASES = ("case_id,company_code,customer,status,reason,original_amount,disputed_amount,paid_amount,"
         "credited_amount,written_off_amount,currency,invoice_reference,created_on,closed_on\n")
CONFIG = RecoveriesConfig()


def _case(number: int, amount: str = "500", currency: str = "EUR") -> str:
    return (f"{700000 + number},1000,100001,10,PA1,5000,\"{amount}\",0,0,0,{currency},{number},"
            "2026-01-05,\n")


def _write(tmp_path, text: str):
    path = tmp_path / "cases.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def chunks_of(monkeypatch):
    def set_size(size: int) -> None:
        monkeypatch.setattr(rows, "CHUNK_ROWS", size)
    return set_size


@pytest.mark.parametrize("size", [1, 7, 1000])
def test_files_read_in_chunks_give_the_records_written(tmp_path, chunks_of, monkeypatch, size):
    data = generate(disputes=300, claims=80, seed=8)
    claims, disputes = write_files(data, tmp_path)
    chunks_of(size)
    assert read_disputes(disputes, CONFIG) == data.disputes
    assert read_claims(claims) == data.claims
    monkeypatch.setattr(inputs, "_plain_disputes", lambda *_args: None)
    monkeypatch.setattr(inputs, "_plain_claims", lambda *_args: None)
    assert read_disputes(disputes, CONFIG) == data.disputes
    assert read_claims(claims) == data.claims


def test_a_case_repeated_in_a_later_chunk_is_refused_naming_both_rows(tmp_path, chunks_of):
    chunks_of(2)
    path = _write(tmp_path, CASES + _case(1) + _case(2) + _case(3) + _case(1))
    with pytest.raises(InputError, match=r"row 5: case 700001 appears twice \(first on row 2\)"):
        read_disputes(path, CONFIG)


def test_a_value_needing_care_in_the_last_chunk_leaves_every_row_read_the_same(tmp_path, chunks_of):
    chunks_of(2)
    plain = "".join(_case(number) for number in range(1, 6))
    cases = read_disputes(_write(tmp_path, CASES + plain + _case(6, amount="1.234,50")), CONFIG)
    assert [case.disputed_amount for case in cases] == [Decimal(500)] * 5 + [Decimal("1234.50")]
    assert cases[:5] == read_disputes(_write(tmp_path, CASES + plain), CONFIG)


def test_blank_rows_across_chunks_keep_the_row_numbers_of_errors(tmp_path, chunks_of):
    chunks_of(3)
    text = CASES + _case(1) + "\n" + _case(2) + _case(3) + ",,,\n" + _case(4, currency="EURO")
    with pytest.raises(InputError, match=r"row 7: currency: not an ISO currency code: 'EURO'"):
        read_disputes(_write(tmp_path, text), CONFIG)


def test_a_file_of_blank_rows_has_no_data_rows(tmp_path, chunks_of):
    chunks_of(2)
    with pytest.raises(InputError, match="no data rows"):
        read_disputes(_write(tmp_path, CASES + "\n,,,\n\n"), CONFIG)


def test_repeated_codes_dates_and_zero_amounts_are_one_object_each(tmp_path):
    data = generate(disputes=300, claims=80, seed=8)
    _claims, disputes = write_files(data, tmp_path)
    cases = read_disputes(disputes, CONFIG)
    for field in ("company_code", "customer", "case_status", "reason", "currency", "created_on"):
        values = [getattr(case, field) for case in cases]
        assert len({id(value) for value in values}) == len(set(values)), field
    zeros = [case.paid_amount for case in cases if case.paid_amount == ZERO]
    assert len(zeros) > 100
    assert len({id(zero) for zero in zeros}) == 1


def test_open_items_share_their_repeated_codes_and_dates(tmp_path):
    lines = [f"1000,0000100001,2026,{90000000 + n},001,{4711 + n},PO{n},2026-09-0{n % 3 + 1},"
             f"2026-10-01,{n}.00,EUR" for n in range(30)]
    path = tmp_path / "items.csv"
    path.write_text("company_code,customer,fiscal_year,document,item,reference,assignment,posting_date,"
                    "due_date,amount,currency\n" + "\n".join(lines) + "\n")
    items = load_open_items(None, "demo", path)
    assert [item.document for item in items] == [str(90000000 + n) for n in range(30)]
    for field in ("company_code", "customer", "fiscal_year", "item", "currency", "posting_date",
                  "due_date"):
        values = [getattr(item, field) for item in items]
        assert len({id(value) for value in values}) == len(set(values)), field
