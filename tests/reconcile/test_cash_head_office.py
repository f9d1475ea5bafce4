"""Head office and alternative payers: synced from A_CustomerCompany / KNB1, and the payer's
search widened to the accounts it pays for (and only those)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import inspect, select, text

from devtools.demo.data import generate
from sapbridge.config import load_settings
from sapbridge.reconcile.cash import CashConfig, match_payments
from sapbridge.reconcile.cash.inputs import load_customers
from sapbridge.reconcile.cash.model import CustomerRecord, OpenItem, Payment
from sapbridge.reconcile.cash.tables import PAYER_COLUMNS, _add_payer_columns
from sapbridge.store.schema import customer_companies
from sapbridge.sync.service import sync_system

HQ, NORTH, SOUTH, OTHER = "0000100001", "0000100002", "0000100003", "0000100004"
HQ_IBAN, OTHER_IBAN = "DE02120300000000202051", "GB29NWBK60161331926819"


def _customers(pays_for: tuple[str, ...] = (NORTH, SOUTH)) -> list[CustomerRecord]:
    return [
        CustomerRecord(HQ, "Acme Holding AG", (HQ_IBAN,), pays_for),
        CustomerRecord(NORTH, "Acme North GmbH"),
        CustomerRecord(SOUTH, "Acme South GmbH"),
        CustomerRecord(OTHER, "Bolt Hardware Inc.", (OTHER_IBAN,)),
    ]


def _item(document: str, amount: str, customer: str, day: int = 1) -> OpenItem:
    return OpenItem(
        "1000",
        customer,
        "2026",
        document,
        "001",
        "",
        "",
        date(2026, 9, day),
        date(2026, 10, day),
        Decimal(amount),
        "EUR",
    )


ITEMS = [
    _item("0090000001", "1200.00", NORTH),
    _item("0090000002", "345.67", SOUTH, 2),
    _item("0090000003", "80.00", SOUTH, 3),
    _item("0090000004", "999.00", OTHER),
]


def _pay(payment_id: str, amount: str, remittance: str = "", account: str = HQ_IBAN) -> Payment:
    return Payment(payment_id, date(2026, 11, 21), Decimal(amount), "EUR", "", account, "", remittance)


def _match(payments, customers=None):
    result = match_payments(payments, ITEMS, customers or _customers(), CashConfig(), [])
    return result, sorted((m.payment_id, m.document, m.rule, str(m.confidence)) for m in result.matches)


def test_head_office_paying_a_branch_invoice_by_reference_is_the_payer_agreeing():
    result, matches = _match([_pay("P1", "1200.00", "INV 90000001")])
    assert matches == [("P1", "0090000001", "reference", "0.99")]
    assert not result.exceptions


def test_without_the_relation_the_same_payment_is_a_question():
    result, matches = _match([_pay("P1", "1200.00", "INV 90000001")], _customers(pays_for=()))
    assert matches == []
    assert [e.category for e in result.exceptions] == ["ambiguous"]


def test_head_office_paying_by_amount_searches_its_branches():
    _, matches = _match([_pay("P1", "345.67")])
    assert matches == [("P1", "0090000002", "exact_amount", "0.97")]


def test_head_office_paying_invoices_of_two_branches_in_one_amount():
    _, matches = _match([_pay("P1", "1280.00")])
    assert [m[:3] for m in matches] == [
        ("P1", "0090000001", "combination"),
        ("P1", "0090000003", "combination"),
    ]


def test_a_payer_that_is_not_the_head_office_gets_nothing_of_the_branches():
    result, matches = _match(
        [_pay("P1", "345.67", account=OTHER_IBAN), _pay("P2", "1200.00", "INV 90000001", account=OTHER_IBAN)]
    )
    assert matches == []
    assert {e.payment_id: e.category for e in result.exceptions} == {"P1": "unapplied", "P2": "ambiguous"}


def test_a_branch_paying_does_not_reach_its_head_office_or_sister_branch():
    records = [*_customers(), CustomerRecord(NORTH, "Acme North GmbH", ("DE44500105175407324931",))]
    _result, matches = _match([_pay("P1", "345.67", account="DE44500105175407324931")], records[1:])
    assert matches == []


def _sync(store, route=None):
    return sync_system(
        load_settings(None),
        store,
        system="demo",
        objects=["customers"],
        route=route,
        run_id=str(uuid.uuid4()),
        actor="tester",
    )


@pytest.mark.parametrize("route", ["odata", "rfc"])
def test_sync_reads_head_office_and_alternative_payer_over_both_routes(store, route):
    _sync(store, route)
    company = generate(1)
    expected = {
        (c.number, c.head_office or None, c.alternative_payer or None)
        for c in company.customers
        if c.head_office or c.alternative_payer
    }
    k = customer_companies.c
    with store.engine.connect() as conn:
        found = {
            tuple(r)
            for r in conn.execute(
                select(k.customer, k.head_office, k.alternative_payer).where(
                    (k.head_office.is_not(None)) | (k.alternative_payer.is_not(None))
                )
            )
        }
    assert found == expected
    assert len(expected) == 5
    records = {r.customer: r for r in load_customers(store, "demo", None)}
    for customer, head, payer in expected:
        assert customer in records[head or payer].pays_for


def test_migration_adds_the_payer_columns_to_an_older_store(store):
    with store.engine.begin() as conn:
        for name in PAYER_COLUMNS:
            conn.execute(text(f"ALTER TABLE customer_companies DROP COLUMN {name}"))
    with store.engine.begin() as conn:
        _add_payer_columns(conn)
        _add_payer_columns(conn)  # idempotent: a second run changes nothing
    columns = {c["name"] for c in inspect(store.engine).get_columns("customer_companies")}
    assert set(PAYER_COLUMNS) <= columns


def test_customers_file_may_name_head_office_and_alternative_payer(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text(
        "customer,name,account,head_office,alternative_payer\n"
        f"{HQ},Acme Holding AG,{HQ_IBAN},,\n{NORTH},Acme North,,100001,\n{SOUTH},Acme South,,,{HQ}\n"
    )
    records = {r.customer: r for r in load_customers(None, "demo", path)}
    assert records[HQ].pays_for == (NORTH, SOUTH)
    old = tmp_path / "old.csv"
    old.write_text(f"customer,name,account\n{HQ},Acme Holding AG,{HQ_IBAN}\n")
    assert load_customers(None, "demo", old)[0].pays_for == ()


def test_head_office_pays_a_branch_invoice_from_a_bank_file_against_the_synced_demo(store, tmp_path):
    from sapbridge.reconcile.cash import run_cash

    _sync(store)
    sync_system(load_settings(None), store, system="demo", objects=["open_items"], run_id=str(uuid.uuid4()),
                actor="tester")
    company = generate(1)
    branch, invoice = next((c, i) for c in company.customers if c.head_office
                           for i in company.open_items if i.customer == c.number and i.amount > 0)
    head = next(c for c in company.customers if c.number == branch.head_office)
    bank = tmp_path / "bank.csv"
    bank.write_text("payment_id,value_date,amount,currency,payer_name,payer_account,customer,remittance\n"
                    f"HQ1,2026-11-21,{invoice.amount},{invoice.currency},{head.name},{head.ibans[0]},,"
                    f"INV {invoice.document.lstrip('0')}\n")
    result = run_cash(store, load_settings(None), system="demo", payments=bank, out=tmp_path / "out")
    assert result.result is not None
    assert [(m.document, m.rule, str(m.confidence)) for m in result.result.matches] == [
        (invoice.document, "reference", "0.99")]
    assert result.result.payers["HQ1"].customer == head.number
