"""References the bank broke up, read from each bank format's own wrapping, and only where the
joined form is an open item of the payer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from sapbridge.bankfiles import read_payments
from sapbridge.reconcile.cash import CashConfig, match_payments
from sapbridge.reconcile.cash.model import CustomerRecord, OpenItem, Payment
from sapbridge.reconcile.references import joined_candidates

ACME, BOLT = "0000100001", "0000100002"
ACME_IBAN = "DE02120300000000202051"
CUSTOMERS = [
    CustomerRecord(ACME, "Acme Retail GmbH", (ACME_IBAN,)),
    CustomerRecord(BOLT, "Bolt Hardware Inc.", ("GB29NWBK60161331926819",)),
]


def _item(
    document: str, amount: str, customer: str = ACME, reference: str = "", currency: str = "EUR", day: int = 1
) -> OpenItem:
    return OpenItem(
        "1000",
        customer,
        "2026",
        document,
        "001",
        reference,
        "",
        date(2026, 9, day),
        date(2026, 10, day),
        Decimal(amount),
        currency,
    )


ITEMS = [
    _item("0090017316", "500.00"),
    _item("0090017317", "300.00", day=2),
    _item("0090017318", "300.00", day=3),
]


def _matched(payments: list[Payment], items: list[OpenItem] = ITEMS) -> list[tuple[str, str, str]]:
    result = match_payments(payments, items, CUSTOMERS, CashConfig(), [])
    return sorted((m.payment_id, m.document, m.rule) for m in result.matches)


CAMT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-11-21T06:00:00</CreDtTm></GrpHdr>
<Stmt><Id>S1</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Ntry><Amt Ccy="EUR">800.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<ValDt><Dt>2026-11-21</Dt></ValDt><AcctSvcrRef>C1</AcctSvcrRef><NtryDtls><TxDtls>
<RltdPties><Dbtr><Nm>ACME RETAIL GMBH</Nm></Dbtr><DbtrAcct><Id><IBAN>{iban}</IBAN></Id></DbtrAcct></RltdPties>
<RmtInf><Ustrd>{first}</Ustrd><Ustrd>7316 and INV 90017317</Ustrd></RmtInf>
</TxDtls></NtryDtls></Ntry></Stmt></BkToCstmrStmt></Document>
"""


def test_camt_number_split_over_two_ustrd_elements(tmp_path: Path):
    first = (
        "Settlement of our account as agreed with your accounts receivable department, see the "
        "enclosed list, invoices INV 9001"
    )
    assert len(first) <= 140
    path = tmp_path / "bank.xml"
    path.write_text(CAMT.format(iban=ACME_IBAN, first=first))
    payments = read_payments(path)
    assert _matched(payments) == [("C1", "0090017316", "reference"), ("C1", "0090017317", "reference")]


MT940_STRUCTURED = """:20:STMT1
:25:DE89370400440532013000
:28C:1/1
:60F:C261120EUR0,00
:61:2611211121CR800,00NTRFNONREF//M1
:86:166?00GUTSCHRIFT?109310?20SVWZ+INV 9001?217316 RE 900173?2217 THANKS?32ACME RETAIL GMBH
?31{iban}
:61:2611211121CR300,00NTRFNONREF//M2
:86:166?00GUTSCHRIFT?109310?20SVWZ+RE 90017318?21BESTELLUNG 4711?32ACME RETAIL GMBH
?31{iban}
:62F:C261121EUR1100,00
"""


def test_mt940_subfields_split_numbers_and_end_words(tmp_path: Path):
    path = tmp_path / "bank.sta"
    path.write_text(MT940_STRUCTURED.format(iban=ACME_IBAN))
    payments = read_payments(path)
    assert [p.remittance for p in payments] == [
        "INV 9001 7316 RE 900173 17 THANKS",
        "RE 90017318 BESTELLUNG 4711",
    ]
    assert _matched(payments) == [
        ("M1", "0090017316", "reference"),
        ("M1", "0090017317", "reference"),
        ("M2", "0090017318", "reference"),
    ]


MT940_LINES = """:20:STMT2
:25:DE89370400440532013000
:28C:1/1
:60F:C261120EUR0,00
:61:2611211121CR500,00NTRFNONREF//L1
:86:ACME RETAIL GMBH PAYMENT FOR OUR ORDER OF 2026-10-01 INVOICE 9001
7316 THANK YOU
:62F:C261121EUR500,00
"""


def test_mt940_unstructured_86_wrapped_at_the_line_end(tmp_path: Path):
    path = tmp_path / "bank.sta"
    path.write_text(MT940_LINES)
    payments = read_payments(path)
    assert _matched(payments) == [("L1", "0090017316", "reference")]


BAI2 = """01,BANK,CUST,261121,0800,1,,,2/
02,CUST,BANK,1,261121,0800,EUR,2/
03,123456789,EUR,010,0,,/
16,195,50000,0,B1,C1,ACME RETAIL GMBH / {iban} / PAYMENT INV 9001/
88,7316 THANK YOU/
49,50000,4/
98,50000,1,6/
99,50000,1,8/
"""


def test_bai2_continuation_record_splits_the_number(tmp_path: Path):
    path = tmp_path / "bank.bai"
    path.write_text(BAI2.format(iban=ACME_IBAN))
    payments = read_payments(path)
    assert payments[0].remittance == "PAYMENT INV 9001,7316 THANK YOU"
    assert _matched(payments) == [("B1", "0090017316", "reference")]


@pytest.mark.parametrize(
    "remittance", ["9001 7316", "INV 9001-7316", "90 01 73 16", "Rechnung 900 173 16, danke"]
)
def test_csv_grouped_digits(tmp_path: Path, remittance: str):
    path = tmp_path / "bank.csv"
    path.write_text(
        "payment_id,value_date,amount,currency,payer_name,payer_account,customer,remittance\n"
        f'P1,2026-11-21,500.00,EUR,,{ACME_IBAN},,"{remittance}"\n'
    )
    assert _matched(read_payments(path)) == [("P1", "0090017316", "reference")]


def test_a_joined_date_naming_another_customers_item_is_not_a_reference():
    """``2026 11 20`` joins to Bolt's reference 20261120; the payer is Acme, so the joined form
    is no reference of its items and the amount decides."""
    items = [_item("0090017316", "500.00"), _item("0090055555", "500.00", BOLT, reference="20261120")]
    payment = Payment(
        "P1", date(2026, 11, 21), Decimal("500.00"), "EUR", "", ACME_IBAN, "", "payment of 2026 11 20"
    )
    result = match_payments([payment], items, CUSTOMERS, CashConfig(), [])
    assert [(m.document, m.rule) for m in result.matches] == [("0090017316", "exact_amount")]
    assert not result.exceptions


def test_joined_pieces_of_an_unknown_payer_still_need_an_open_item():
    payment = Payment("P1", date(2026, 11, 21), Decimal("300.00"), "EUR", "Someone", "", "", "inv 9001 7317")
    assert _matched([payment]) == [("P1", "0090017317", "reference")]
    nothing = Payment("P2", date(2026, 11, 21), Decimal("300.00"), "EUR", "Someone", "", "", "inv 9001 7399")
    assert _matched([nothing]) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 of 2", []),
        ("part 1 of 2 INV 90017316", []),
        ("INV 9001 7316", ["90017316"]),
        ("INV 9001,7316 AND INV 90017317", ["90017316"]),
        ("paid EUR 1.234,56 for 9001 7316", ["90017316"]),
    ],
)
def test_joined_candidates(text: str, expected: list[str]):
    assert joined_candidates(text, min_length=6) == expected


def test_camt054_notification_wraps_like_camt053(tmp_path: Path):
    first = "Payment of invoices INV 9001"
    text = (CAMT.format(iban=ACME_IBAN, first=first)
            .replace("camt.053.001.08", "camt.054.001.08").replace("BkToCstmrStmt", "BkToCstmrDbtCdtNtfctn")
            .replace("<Stmt>", "<Ntfctn>").replace("</Stmt>", "</Ntfctn>"))
    path = tmp_path / "bank.xml"
    path.write_text(text)
    payments = read_payments(path)
    assert _matched(payments) == [("C1", "0090017316", "reference"), ("C1", "0090017317", "reference")]
