from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from sapbridge.bankfiles import detect_format, read_payments
from sapbridge.errors import InputError

CAMT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
 <BkToCstmrStmt>
  <Stmt><Id>STMT-1</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
   <Ntry><Amt Ccy="EUR">1234.56</Amt><CdtDbtInd>CRDT</CdtDbtInd><ValDt><Dt>2026-11-21</Dt></ValDt>
    <AcctSvcrRef>BANK-1</AcctSvcrRef>
    <NtryDtls><TxDtls><RltdPties><Dbtr><Nm>Nordic Foods GmbH</Nm></Dbtr>
     <DbtrAcct><Id><IBAN>DE02120300000000202051</IBAN></Id></DbtrAcct></RltdPties>
     <RmtInf><Ustrd>INV 90012345</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
   <Ntry><Amt Ccy="EUR">99.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><ValDt><Dt>2026-11-21</Dt></ValDt></Ntry>
   <Ntry><Amt Ccy="EUR">300.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-11-22</Dt></BookgDt>
    <NtryDtls>
     <TxDtls><Refs><EndToEndId>E2E-A</EndToEndId></Refs><Amt Ccy="EUR">100.00</Amt>
      <RmtInf><Strd><CdtrRefInf><Ref>RF18539007547034</Ref></CdtrRefInf></Strd></RmtInf></TxDtls>
     <TxDtls><Refs><EndToEndId>E2E-B</EndToEndId></Refs><Amt Ccy="EUR">200.00</Amt></TxDtls>
    </NtryDtls></Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>
"""

MT940 = """:20:STARTUMSE
:25:10020030/1234567
:28C:00001/001
:60F:C261120EUR1000,00
:61:2611211121C1234,56NTRFNONREF//BANKREF1
:86:166?00SEPA-GUTSCHRIFT?20EREF+E2E-1?21SVWZ+INV 90012345?32NORDIC FOODS GMBH?31DE89370400440532013000
:61:2611211121D50,00NTRFNONREF
:86:Bank fee
:62F:C261121EUR2184,56
"""

BAI2 = """01,BANKID,CUSTID,261121,0600,1,,,2/
02,CUSTID,BANKID,1,261120,,USD,2/
03,123456789,USD,010,100000,,/
16,115,150000,0,REF1,CHK1001,ACME RETAIL INC / 987654 / INV 90012345/
16,475,2500,0,REF2,,outgoing check/
49,252500,4/
98,252500,1,6/
99,252500,1,8/
"""

CSV = """payment_id,value_date,amount,currency,payer_name,payer_account,customer,remittance
P1,2026-11-21,"1.234,56",EUR,Nordic Foods,DE02 1203 0000 0000 2020 51,,INV 90012345
P2,21.11.2026,500,JPY,,,0000100001,
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_camt053_reads_credits_only_and_splits_batch_entries(tmp_path):
    payments = read_payments(_write(tmp_path, "s.xml", CAMT))
    assert [p.payment_id for p in payments] == ["BANK-1", "E2E-A", "E2E-B"]
    first = payments[0]
    assert first.amount == Decimal("1234.56")
    assert first.currency == "EUR"
    assert first.payer_name == "Nordic Foods GmbH"
    assert first.payer_account == "DE02120300000000202051"
    assert first.remittance == "INV 90012345"
    assert first.value_date == date(2026, 11, 21)
    assert payments[1].remittance == "RF18539007547034"
    assert [p.amount for p in payments[1:]] == [Decimal("100.00"), Decimal("200.00")]
    assert payments[2].value_date == date(2026, 11, 22)


def test_camt054_is_detected_and_read(tmp_path):
    text = CAMT.replace("camt.053.001.02", "camt.054.001.02").replace("BkToCstmrStmt", "BkToCstmrDbtCdtNtfctn")
    text = text.replace("<Stmt>", "<Ntfctn>").replace("</Stmt>", "</Ntfctn>")
    path = _write(tmp_path, "n.xml", text)
    assert detect_format(path) == "camt054"
    assert len(read_payments(path)) == 3


def test_camt_mixed_currency_is_an_input_error_with_line(tmp_path):
    path = _write(tmp_path, "s.xml", CAMT.replace('<Amt Ccy="EUR">1234.56', '<Amt Ccy="USD">1234.56'))
    with pytest.raises(InputError, match=r"s\.xml, row 5: mixed currencies"):
        read_payments(path)


def test_malformed_xml_names_the_file(tmp_path):
    path = _write(tmp_path, "bad.xml", CAMT[:400])
    with pytest.raises(InputError, match=r"bad\.xml: not well-formed XML"):
        read_payments(path)


def test_mt940_credit_with_structured_details(tmp_path):
    path = _write(tmp_path, "s.sta", MT940)
    assert detect_format(path) == "mt940"
    (payment,) = read_payments(path)
    assert payment.payment_id == "BANKREF1"
    assert payment.amount == Decimal("1234.56")
    assert payment.payer_name == "NORDIC FOODS GMBH"
    assert payment.payer_account == "DE89370400440532013000"
    assert payment.remittance == "INV 90012345"
    assert payment.value_date == date(2026, 11, 21)


def test_mt940_with_unreadable_line_is_refused(tmp_path):
    path = _write(tmp_path, "s.sta", MT940.replace(":61:2611211121D50,00NTRFNONREF", ":61:garbage"))
    with pytest.raises(InputError, match=r"s\.sta, row 7: MT940 statement 1: :61: line not readable"):
        read_payments(path)


def test_bai2_lockbox_credit(tmp_path):
    path = _write(tmp_path, "l.bai", BAI2)
    assert detect_format(path) == "bai2"
    (payment,) = read_payments(path)
    assert payment.payment_id == "REF1"
    assert payment.amount == Decimal("1500.00")
    assert (payment.payer_name, payment.payer_account, payment.remittance) == ("ACME RETAIL INC", "987654",
                                                                                "INV 90012345")


def test_bai2_with_wrong_control_total_is_refused(tmp_path):
    path = _write(tmp_path, "l.bai", BAI2.replace("49,252500,4/", "49,252501,4/"))
    with pytest.raises(InputError, match=r"l\.bai: malformed BAI2"):
        read_payments(path)


def test_csv_amounts_dates_and_empty_optional_values(tmp_path):
    p1, p2 = read_payments(_write(tmp_path, "p.csv", CSV))
    assert p1.amount == Decimal("1234.56")
    assert p1.customer == ""
    assert p2.amount == Decimal(500)
    assert p2.currency == "JPY"
    assert p2.value_date == date(2026, 11, 21)
    assert p2.customer == "0000100001"
    assert p2.payer_name == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (CSV.replace(",remittance", ""), r"p\.csv, row 1: missing column\(s\): remittance"),
        (CSV.replace('"1.234,56"', "12x"), r"p\.csv, row 2: amount: not an amount"),
        (CSV.replace("JPY", "Yen!"), r"p\.csv, row 3: not a currency code: 'Yen!'"),
        (CSV.replace("P2,", "P1,"), r"p\.csv, row 3: payment_id 'P1' repeats row 2"),
    ],
)
def test_csv_errors_name_file_row_and_problem(tmp_path, text, message):
    with pytest.raises(InputError, match=message):
        read_payments(_write(tmp_path, "p.csv", text), "csv")


def test_empty_and_unknown_files(tmp_path):
    with pytest.raises(InputError, match=r"e\.txt: empty file"):
        read_payments(_write(tmp_path, "e.txt", ""))
    with pytest.raises(InputError, match=r"u\.txt: unknown bank file format"):
        read_payments(_write(tmp_path, "u.txt", "hello world\n"))


def test_quick_and_general_csv_readers_agree(tmp_path):
    from sapbridge.bankfiles.csvfile import _quick

    plain = _write(tmp_path, "plain.csv", CSV.replace('"1.234,56"', "1234.56").replace("21.11.2026", "2026-11-21"))
    quick = _quick(plain)
    assert quick is not None
    general = _write(tmp_path, "general.csv", CSV.replace("21.11.2026", "2026-11-21"))
    assert _quick(general) is None
    assert read_payments(general) == quick


def test_a_forced_encoding_reads_what_cp1252_would_garble(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(CSV.replace("Nordic Foods", "Łódź Spółka").encode("iso-8859-2"))
    assert read_payments(path)[0].payer_name != "Łódź Spółka"  # read as Windows-1252, with a warning
    assert read_payments(path, encoding="iso-8859-2")[0].payer_name == "Łódź Spółka"
    with pytest.raises(InputError, match=r"p\.csv: unknown encoding 'latin-99'"):
        read_payments(path, encoding="latin-99")
