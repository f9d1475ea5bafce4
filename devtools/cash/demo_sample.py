"""Sample bank statements against the DEMO store: ``python -m devtools.cash.demo_sample DIR``.

Writes ``bank-demo.camt053.xml`` and ``bank-demo.csv`` with the same payments, built from
:mod:`devtools.demo.data` (stage 1, what ``sapbridge sync all --system demo`` loads): payments of
real demo open items with noisy remittance text, short pays, a bank fee, an overpayment,
combined payments (one netting a credit memo), payments without reference, a duplicate and one
unknown payer. Seeded, so the files are reproducible.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import click
from lxml import etree  # type: ignore[import-untyped]

from devtools.demo.data import AS_OF, Customer, OpenItem, generate
from sapbridge.money import quantize
from sapbridge.tabular import atomic_path, write_csv

__all__ = ["SamplePayment", "build_payments", "main", "write_camt053", "write_samples"]

CAMT_NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
_COLUMNS = ("payment_id", "value_date", "amount", "currency", "payer_name", "payer_account", "customer",
            "remittance")


@dataclass(frozen=True)
class SamplePayment:
    """A sample payment and what it is meant to show."""

    payment_id: str
    amount: Decimal
    currency: str
    payer_name: str
    payer_account: str
    customer: str
    remittance: str
    story: str


class _Picker:
    def __init__(self, rng: random.Random) -> None:
        company = generate(1)
        self.rng = rng
        self.customers = {c.number: c for c in company.customers if not c.posting_blocked}
        self.items: dict[str, list[OpenItem]] = {}
        for item in company.open_items:
            if item.customer in self.customers:
                self.items.setdefault(item.customer, []).append(item)
        self.serial = 0

    def take(self, invoices: int, credits: int = 0) -> tuple[Customer, list[OpenItem]]:
        while True:
            customer = self.rng.choice(sorted(self.items))
            pool = self.items[customer]
            if not pool:
                continue
            currency = self.rng.choice(pool).currency  # one payment, one currency
            positive = [i for i in pool if i.amount > 0 and i.currency == currency]
            negative = [i for i in pool if i.amount < 0 and i.currency == currency]
            if len(positive) >= invoices and len(negative) >= credits:
                chosen = self.rng.sample(positive, invoices) + self.rng.sample(negative, credits)
                if sum(i.amount for i in chosen) > 0:
                    for item in chosen:
                        pool.remove(item)
                    return self.customers[customer], chosen

    def payment(self, customer: Customer | None, amount: Decimal, currency: str, remittance: str,
                story: str, *, with_number: bool = False) -> SamplePayment:
        self.serial += 1
        name = customer.name.upper() if customer else "Unknown Trading Partners Ltd"
        account = customer.ibans[0] if customer else "GB29NWBK60161331926819"
        number = customer.number if customer and with_number else ""
        return SamplePayment(f"DEMO{self.serial:04d}", amount, currency, name, account, number, remittance,
                             story)


def build_payments(seed: int = 20261121) -> list[SamplePayment]:
    """The sample payments, each with a one-line story of what it shows."""
    pick = _Picker(random.Random(seed))
    out: list[SamplePayment] = []
    for n in range(10):
        customer, (item,) = pick.take(1)
        ref = rng_ref(pick.rng, item)
        out.append(pick.payment(customer, item.amount, item.currency, f"Payment {ref}", "single invoice",
                                with_number=n % 2 == 0))
    for _ in range(3):
        customer, (item,) = pick.take(1)
        paid = quantize(item.amount * Decimal("0.85"), item.currency)
        text = f"INV {item.billing_document} less damaged goods"
        out.append(pick.payment(customer, paid, item.currency, text, "short pay: dispute case proposed"))
    customer, (item,) = pick.take(1)
    fee = Decimal(300) if item.currency == "JPY" else Decimal("2.50")
    out.append(pick.payment(customer, item.amount - fee, item.currency, f"RI {item.billing_document}",
                            "bank fee within tolerance"))
    customer, (item,) = pick.take(1)
    extra = quantize(item.amount / 10, item.currency)
    out.append(pick.payment(customer, item.amount + extra, item.currency, f"Rechnung {item.billing_document}",
                            "overpayment: rest on account"))
    customer, items = pick.take(3)
    out.append(pick.payment(customer, sum((i.amount for i in items), Decimal(0)), items[0].currency,
                            " / ".join(f"INV-{i.billing_document}" for i in items),
                            "one payment, three invoices"))
    customer, items = pick.take(2, credits=1)
    out.append(pick.payment(customer, sum((i.amount for i in items), Decimal(0)), items[0].currency,
                            "invoices " + ", ".join(i.billing_document.lstrip("0") for i in items[:2]),
                            "two invoices net of a credit memo (not named)"))
    for _ in range(2):
        customer, (item,) = pick.take(1)
        out.append(pick.payment(customer, item.amount, item.currency, "Thank you",
                                "no reference: payer by IBAN"))
    first = out[0]
    out.append(SamplePayment("DEMO9001", first.amount, first.currency, first.payer_name, first.payer_account,
                             first.customer, first.remittance, "duplicate of DEMO0001"))
    out.append(pick.payment(None, Decimal("1234.56"), "EUR", "consulting fee", "unknown payer"))
    return out


def rng_ref(rng: random.Random, item: OpenItem) -> str:
    """A noisy reference as customers write it: billing document or document, with noise."""
    number = rng.choice((item.billing_document, item.billing_document.lstrip("0"), item.document))
    if rng.random() < 0.3:
        number = number.replace("0", "O", 1)
    return rng.choice(("INV ", "RI-", "Inv.# ", "")) + number


def write_camt053(path: Path, payments: list[SamplePayment]) -> None:
    """A camt.053.001.08 statement per currency holding the payments as credit entries."""
    def sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
        node = etree.SubElement(parent, f"{{{CAMT_NS}}}{tag}", **attrs)
        if text is not None:
            node.text = text
        return node

    root = etree.Element(f"{{{CAMT_NS}}}Document", nsmap={None: CAMT_NS})
    message = sub(root, "BkToCstmrStmt")
    header = sub(message, "GrpHdr")
    sub(header, "MsgId", "DEMO-STMT-20261121")
    sub(header, "CreDtTm", "2026-11-21T06:00:00")
    for currency in sorted({p.currency for p in payments}):
        statement = sub(message, "Stmt")
        sub(statement, "Id", f"DEMO-{currency}")
        account = sub(statement, "Acct")
        sub(sub(account, "Id"), "IBAN", "DE89370400440532013000")
        sub(account, "Ccy", currency)
        for payment in (p for p in payments if p.currency == currency):
            entry = sub(statement, "Ntry")
            sub(entry, "Amt", str(payment.amount), Ccy=currency)
            sub(entry, "CdtDbtInd", "CRDT")
            sub(sub(entry, "Sts"), "Cd", "BOOK")
            sub(sub(entry, "ValDt"), "Dt", (AS_OF + timedelta(days=1)).isoformat())
            sub(entry, "AcctSvcrRef", payment.payment_id)
            details = sub(sub(entry, "NtryDtls"), "TxDtls")
            parties = sub(details, "RltdPties")
            sub(sub(parties, "Dbtr"), "Nm", payment.payer_name)
            sub(sub(sub(parties, "DbtrAcct"), "Id"), "IBAN", payment.payer_account)
            sub(sub(details, "RmtInf"), "Ustrd", payment.remittance)
    with atomic_path(path) as temp:
        temp.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def write_samples(folder: Path) -> list[Path]:
    """Write both sample files into ``folder``."""
    payments = build_payments()
    camt = folder / "bank-demo.camt053.xml"
    write_camt053(camt, payments)
    value_date = AS_OF + timedelta(days=1)
    csv_path = write_csv(folder / "bank-demo.csv", _COLUMNS, [
        (p.payment_id, value_date, p.amount, p.currency, p.payer_name, p.payer_account, p.customer,
         p.remittance) for p in payments])
    return [camt, csv_path]


def main(argv: list[str] | None = None) -> None:
    """Command line: the target folder is the only argument (default: fixtures/samples)."""
    args = sys.argv[1:] if argv is None else argv
    for path in write_samples(Path(args[0] if args else "fixtures/samples")):
        click.echo(path)


if __name__ == "__main__":
    main()
