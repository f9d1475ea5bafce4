"""Reading claims and dispute files, and the [recoveries] config: values and one-line errors."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook

from sapbridge.errors import ConfigError, InputError
from sapbridge.reconcile.recoveries import RecoveriesConfig
from sapbridge.reconcile.recoveries.inputs import read_claims, read_disputes

HEADER = "claim_id,customer,claim_date,reference,amount,currency,status,recovered_amount,recovered_on,reason\n"
CASES = ("case_id,company_code,customer,status,reason,original_amount,disputed_amount,paid_amount,"
         "credited_amount,written_off_amount,currency,invoice_reference,created_on,closed_on\n")


def write(tmp_path, text, name="claims.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_claim_lines_with_one_id_add_up_to_one_claim(tmp_path):
    path = write(tmp_path, HEADER
                 + "PA-1,100001,2026-05-02,INV-0090012345,\"1,200.50\",eur,claimed,,,post-audit\n"
                 + "PA-2,0000100002,01.06.2026,RI 90012346,99.99,USD,rejected,,,\n"
                 + "PA-1,100001,2026-04-30,9OO12347,300.00,EUR,recovered,300.00,2026-07-01,\n")
    claims = {c.claim_id: c for c in read_claims(path)}
    first = claims["PA-1"]
    assert first.customer == "0000100001"
    assert first.amount == Decimal("1500.50")
    assert first.recovered_amount == Decimal("300.00")
    assert first.currency == "EUR"
    assert first.status == "recovered"
    assert first.claim_date == date(2026, 4, 30)
    assert first.recovered_on == date(2026, 7, 1)
    assert first.references == ("90012345", "90012347")
    assert claims["PA-2"].claim_date == date(2026, 6, 1)
    assert claims["PA-2"].status == "rejected"


def test_claims_read_from_xlsx(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(["PA-9", 100001, date(2026, 5, 2), "INV 90012345", 1234.5, "EUR", "claimed", None, None, ""])
    path = tmp_path / "claims.xlsx"
    workbook.save(path)
    (claim,) = read_claims(path)
    assert claim.customer == "0000100001"
    assert claim.amount == Decimal("1234.5")
    assert claim.claim_date == date(2026, 5, 2)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "claims.csv: empty file (no header row)"),
        (HEADER, "claims.csv: no data rows"),
        ("claim_id,customer,claim_date,reference,currency,status\nPA-1,1,2026-01-01,1,EUR,claimed\n",
         "claims.csv, row 1: missing column(s): amount"),
        (HEADER + "PA-1,1,2026-01-01,R1,12x.00,EUR,claimed,,,\n",
         "claims.csv, row 2: amount: not an amount: '12x.00'"),
        (HEADER + "PA-1,1,2026-01-01,R1,NaN,EUR,claimed,,,\n",
         "claims.csv, row 2: amount: not an amount: 'NaN'"),
        (HEADER + "PA-1,1,2026-01-01,R1,10,EUR,claimed,,,\n\nPA-2,1,2026-01-01,R1,10,EUR,paid,,,\n",
         "claims.csv, row 4: unknown status 'paid' (use claimed, recovered, rejected)"),
        (HEADER + "PA-1,1,2026-01-01,R1,10,EUR,claimed,,,\nPA-1,1,2026-01-01,R2,10,USD,claimed,,,\n",
         "claims.csv, row 3: claim PA-1 mixes currencies: EUR on row 2, USD here"),
        (HEADER + "PA-1,1,2026-01-01,R1,10,EUR,recovered,,,\n",
         "claims.csv, row 2: recovered_amount is empty for a recovered claim"),
        (HEADER + "PA-1,1,2026-13-01,R1,10,EUR,claimed,,,\n",
         "claims.csv, row 2: claim_date: not a date: '2026-13-01' (use YYYY-MM-DD)"),
        (HEADER + "PA-1,1,2026-01-01,R1,10,EURO,claimed,,,\n",
         "claims.csv, row 2: currency: not an ISO currency code: 'EURO'"),
        (HEADER + "PA-1,,2026-01-01,R1,10,EUR,claimed,,,\n", "claims.csv, row 2: customer is empty"),
        (HEADER + "PA-1,1,2026-01-01,R1,-10,EUR,claimed,,,\n",
         "claims.csv, row 2: claim PA-1: amount must be positive, not -10"),
    ],
)
def test_bad_claims_files_fail_with_one_line_naming_file_row_and_problem(tmp_path, body, message):
    path = write(tmp_path, body)
    with pytest.raises(InputError) as caught:
        read_claims(path)
    assert str(caught.value) == f"{tmp_path}/{message}"
    assert "\n" not in str(caught.value)


def test_missing_claims_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_claims(tmp_path / "nope.csv")


def test_disputes_file_values_and_statuses(tmp_path):
    path = write(tmp_path, CASES
                 + "700001,1000,100001,10,PA1,5000,500.00,0,0,0,EUR,0090012345,2026-01-05,\n"
                 + "700002,1000,100001,closed,QTY,5000,100,,100,,EUR,0090012346,2026-01-05,2026-02-01\n",
                 name="cases.csv")
    first, second = read_disputes(path, RecoveriesConfig())
    assert (first.case_id, first.customer, first.closed, first.disputed_amount) == (
        "700001", "0000100001", False, Decimal("500.00"))
    assert first.created_on == date(2026, 1, 5)
    assert first.closed_on is None
    assert second.closed
    assert second.credited_amount == Decimal("100")
    assert second.paid_amount == Decimal("0")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("700001,1000,100001,99,PA1,5000,500,0,0,0,EUR,1,2026-01-05,",
         "cases.csv, row 2: unknown status '99' (known: 10, 20, 30, CLOSED, OPEN)"),
        ("700001,1000,100001,10,PA1,5000,abc,0,0,0,EUR,1,2026-01-05,",
         "cases.csv, row 2: disputed_amount: not an amount: 'abc'"),
        ("700001,1000,100001,10,PA1,5000,500,0,0,0,EUR,1,2026-01-05,\n"
         "700001,1000,100001,10,PA1,5000,500,0,0,0,EUR,1,2026-01-05,",
         "cases.csv, row 3: case 700001 appears twice (first on row 2)"),
    ],
)
def test_bad_disputes_files_fail_with_one_line(tmp_path, row, message):
    path = write(tmp_path, CASES + row + "\n", name="cases.csv")
    with pytest.raises(InputError) as caught:
        read_disputes(path, RecoveriesConfig())
    assert str(caught.value) == f"{tmp_path}/{message}"


def test_config_section_is_validated():
    config = RecoveriesConfig.from_section({"window_days": 30, "tolerance_percent": "1",
                                            "closed_statuses": ["30", "40"]})
    assert config.window_days == 30
    assert config.tolerance(Decimal("1000")) == Decimal("10")
    assert config.closed_statuses == frozenset({"30", "40"})
    with pytest.raises(ConfigError, match=r"unknown key\(s\): windw_days \(did you mean window_days\?\)"):
        RecoveriesConfig.from_section({"windw_days": 3})
    with pytest.raises(ConfigError, match="tolerance_amount: not an amount"):
        RecoveriesConfig.from_section({"tolerance_amount": "lots"})
    with pytest.raises(ConfigError, match="tolerance_percent must be between 0 and 50"):
        RecoveriesConfig.from_section({"tolerance_percent": "60"})
    with pytest.raises(ConfigError, match="both open and closed: 30"):
        RecoveriesConfig.from_section({"open_statuses": ["10", "30"]})
    with pytest.raises(ConfigError, match="dispute_team must be 1 to 20 characters"):
        RecoveriesConfig.from_section({"dispute_team": "x" * 21})


def test_a_plain_csv_export_reads_column_wise_and_round_trips(tmp_path, monkeypatch):
    from devtools.recoveries.synthetic import generate, write_files
    from sapbridge.reconcile.recoveries import inputs

    data = generate(disputes=300, claims=60, seed=4)
    _claims, disputes = write_files(data, tmp_path)

    def row_by_row(*_args):
        raise AssertionError("the plain file should not need the row-by-row reader")

    with monkeypatch.context() as patch:
        patch.setattr(inputs, "_dispute", row_by_row)
        assert read_disputes(disputes, RecoveriesConfig()) == data.disputes
    monkeypatch.setattr(inputs, "_plain_disputes", lambda *_args: None)
    assert read_disputes(disputes, RecoveriesConfig()) == data.disputes


def test_values_the_fast_path_leaves_alone_are_read_row_by_row(tmp_path):
    path = write(tmp_path, CASES
                 + "700001,1000,100001,10,PA1,\"5.000,00\",\"1.234,50\",,,,eur,1,05.01.2026,\n"
                 + "700002,1000,100001,30,PA1,5000,100,0,0,0,EUR,2, 2026-01-05 ,20260201\n",
                 name="cases.csv")
    first, second = read_disputes(path, RecoveriesConfig())
    assert first.disputed_amount == Decimal("1234.50")
    assert first.original_amount == Decimal("5000.00")
    assert first.currency == "EUR"
    assert first.created_on == date(2026, 1, 5)
    assert second.created_on == date(2026, 1, 5)
    assert second.closed_on == date(2026, 2, 1)


def test_a_plain_claims_csv_reads_column_wise_and_round_trips(tmp_path, monkeypatch):
    from devtools.recoveries.synthetic import generate, write_files
    from sapbridge.reconcile.recoveries import inputs

    data = generate(disputes=300, claims=80, seed=6)
    claims, _disputes = write_files(data, tmp_path)

    def row_by_row(*_args):
        raise AssertionError("the plain file should not need the row-by-row reader")

    with monkeypatch.context() as patch:
        patch.setattr(inputs, "_add_claim_line", row_by_row)
        assert read_claims(claims) == data.claims
    monkeypatch.setattr(inputs, "_plain_claims", lambda *_args: None)
    assert read_claims(claims) == data.claims


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-inf", "sNaN"])
def test_non_finite_amounts_in_a_plain_file_are_refused_with_their_row(tmp_path, amount):
    path = write(tmp_path, CASES + "700001,1000,100001,10,PA1,5000,500,0,0,0,EUR,1,2026-01-05,\n"
                 + f"700002,1000,100001,10,PA1,5000,{amount},0,0,0,EUR,2,2026-01-05,\n", name="cases.csv")
    with pytest.raises(InputError) as caught:
        read_disputes(path, RecoveriesConfig())
    assert str(caught.value) == f"{path}, row 3: disputed_amount: not an amount: {amount!r}"


def test_rows_with_extra_cells_blank_lines_and_short_rows_are_read(tmp_path):
    path = write(tmp_path, "claim_id,customer,claim_date,amount,currency,status,note\n"
                 + "PA-1,1,2026-01-01,10,EUR,claimed,a,b,c\n"
                 + " ,,\n"
                 + "PA-2,1,2026-01-02,20,EUR,claimed\n")
    first, second = read_claims(path)
    assert (first.claim_id, first.amount, first.references) == ("PA-1", Decimal("10"), ())
    assert (second.claim_id, second.claim_date) == ("PA-2", date(2026, 1, 2))


def test_a_file_that_is_not_utf8_is_read_as_windows_1252(tmp_path):
    path = tmp_path / "claims.csv"
    path.write_bytes(HEADER.encode() + "PA-1,1,2026-01-01,R\xe9f,10,EUR,claimed,,,\n".encode("cp1252"))
    (claim,) = read_claims(path)
    assert claim.reference_text == "R\xe9f"
    path.write_bytes(HEADER.encode() + b"PA-1,1,2026-01-01,R\x81f,10,EUR,claimed,,,\n")
    with pytest.raises(InputError, match=r"claims.csv: neither UTF-8 nor Windows-1252 text \(byte \d+\)"):
        read_claims(path)


def test_rows_running_on_past_the_header_do_not_shift_columns(tmp_path):
    path = write(tmp_path, "claim_id,customer,claim_date,amount,currency,status\n"
                 + "PA-1,1,2026-01-01,10,EUR,claimed,extra\n"
                 + "PA-2,2,2026-01-02,20,USD,rejected\n")
    first, second = read_claims(path)
    assert (first.customer, first.amount, first.currency) == ("0000000001", Decimal("10"), "EUR")
    assert (second.customer, second.amount, second.status) == ("0000000002", Decimal("20"), "rejected")
