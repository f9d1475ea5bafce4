"""Generated payments for the groups issue 14 closes, laid over a base scenario's unpaid items.

Each builder returns a :class:`Group`: extra payments (read back from real bank files where the
group is about bank formats), extra open items and customers where it needs them, advices, and
the truth. Builders are seeded and draw from the items no base payment pays, so a group is
measured amid the base month's noise. Used by ``bench_cash.py`` only.
"""

from __future__ import annotations

import random
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from devtools.cash.synthetic import AS_OF, Scenario
from sapbridge.bankfiles import read_payments
from sapbridge.money import quantize
from sapbridge.reconcile.cash.advices import Advice, AdviceLine
from sapbridge.reconcile.cash.model import CustomerRecord, ItemKey, OpenItem, Payment

__all__ = ["Group", "advices_group", "ambiguous_group", "head_office_group", "unpaid_by_customer",
           "wrapped_group"]

Truth = set[tuple[str, ItemKey]]


@dataclass
class Group:
    """What a group adds to the base scenario, and which of its cases are which."""

    name: str
    payments: list[Payment] = field(default_factory=list)
    items: list[OpenItem] = field(default_factory=list)
    customers: dict[str, CustomerRecord] = field(default_factory=dict)
    advices: list[Advice] = field(default_factory=list)
    truth: Truth = field(default_factory=set)
    kinds: dict[str, str] = field(default_factory=dict)


def unpaid_by_customer(scenario: Scenario) -> dict[str, list[OpenItem]]:
    """Open invoices (positive) no base payment pays, per customer, oldest due first."""
    paid = {key for _, key in scenario.truth}
    found: dict[str, list[OpenItem]] = defaultdict(list)
    for item in scenario.open_items:
        if item.key not in paid and item.amount > 0:
            found[item.customer].append(item)
    for items in found.values():
        items.sort(key=lambda i: (i.due_date, i.document))
    return found


def _take(rng: random.Random, pool: dict[str, list[OpenItem]], count: int, currencies: set[str],
          ) -> list[OpenItem] | None:
    customers = [c for c, items in pool.items() if len(items) >= count and items[0].currency in currencies]
    if not customers:
        return None
    customer = rng.choice(customers)
    chosen = rng.sample(pool[customer], count)
    for item in chosen:
        pool[customer].remove(item)
    return chosen


def _account(scenario: Scenario, customer: str) -> str:
    return next(c.accounts[0] for c in scenario.customers if c.customer == customer)


# -- wrapped references, through each bank format's own files ------------------------------------

def _grouped(number: str, rng: random.Random) -> str:
    digits = number.lstrip("0")
    style = rng.choice(("space4", "dash", "space3", "pairs"))
    if style == "space4":
        return f"{digits[:4]} {digits[4:]}"
    if style == "dash":
        return f"INV {digits[:4]}-{digits[4:]}"
    if style == "space3":
        return " ".join(digits[i:i + 3] for i in range(0, len(digits), 3))
    return " ".join(digits[i:i + 2] for i in range(0, len(digits), 2))


def _padded_text(rng: random.Random, refs: list[str], width: int) -> str:
    """Remittance text where a reference straddles a ``width`` boundary."""
    lead = "Payment for our order as agreed, invoices "
    text = lead
    for ref in refs:
        cut = rng.randint(2, len(ref) - 2)
        boundary = (len(text) // width + 1) * width
        text += " " * max(0, boundary - cut - len(text))
        text += ref + " "
    return text.rstrip()


def _camt(payments: list[tuple[str, Decimal, str, str, str]], currency: str) -> str:
    entries = []
    for pid, amount, name, account, text in payments:
        parts = [text[i:i + 140] for i in range(0, len(text), 140)]
        ustrd = "".join(f"<Ustrd>{p}</Ustrd>" for p in parts)
        entries.append(
            f'<Ntry><Amt Ccy="{currency}">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
            f"<ValDt><Dt>{AS_OF.isoformat()}</Dt></ValDt><AcctSvcrRef>{pid}</AcctSvcrRef><NtryDtls><TxDtls>"
            f"<RltdPties><Dbtr><Nm>{name}</Nm></Dbtr><DbtrAcct><Id><IBAN>{account}</IBAN></Id></DbtrAcct>"
            f"</RltdPties><RmtInf>{ustrd}</RmtInf></TxDtls></NtryDtls></Ntry>")
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
            "<GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2026-11-21T06:00:00</CreDtTm></GrpHdr>"
            f"<Stmt><Id>S</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>{currency}</Ccy></Acct>"
            + "".join(entries) + "</Stmt></BkToCstmrStmt></Document>")


def _mt940(payments: list[tuple[str, Decimal, str, str, str]], currency: str) -> str:
    day = AS_OF.strftime("%y%m%d")
    lines = [":20:BENCH", ":25:DE89370400440532013000", ":28C:1/1", f":60F:C{day}{currency}0,00"]
    total = Decimal(0)
    for pid, amount, name, account, text in payments:
        total += amount
        lines.append(f":61:{day}{day[2:]}CR{str(amount).replace('.', ',')}NTRFNONREF//{pid}")
        purpose = "SVWZ+" + text
        chunks = [purpose[i:i + 27] for i in range(0, len(purpose), 27)][:10]
        body = "166?00GUTSCHRIFT?109310" + "".join(f"?{20 + n}{c}" for n, c in enumerate(chunks))
        body += f"?32{name[:27]}?31{account}"
        wrapped = [body[i:i + 65] for i in range(0, len(body), 65)]
        lines.append(":86:" + wrapped[0])
        lines += wrapped[1:]
    lines.append(f":62F:C{day}{currency}{str(total).replace('.', ',')}")
    return "\n".join(lines) + "\n"


def _bai2(payments: list[tuple[str, Decimal, str, str, str]], currency: str) -> str:
    day = AS_OF.strftime("%y%m%d")
    records, total = [f"03,123456789,{currency},010,0,,/"], 0
    for pid, amount, name, account, text in payments:
        cents = int(amount.scaleb(0 if currency == "JPY" else 2))
        total += cents
        full = f"16,195,{cents},0,{pid},,{name} / {account} / {text}"
        records.append(full[:80] + "/")
        rest = full[80:]
        while rest:
            records.append(f"88,{rest[:77]}/")
            rest = rest[77:]
    records.append(f"49,{total},{len(records) + 1}/")
    group = [f"02,CUST,BANK,1,{day},0800,{currency},2/", *records, f"98,{total},1,{len(records) + 2}/"]
    lines = [f"01,BANK,CUST,{day},0800,1,,,2/", *group, f"99,{total},1,{len(group) + 2}/"]
    return "\n".join(lines) + "\n"


def _csv(payments: list[tuple[str, Decimal, str, str, str]], currency: str) -> str:
    rows = ["payment_id,value_date,amount,currency,payer_name,payer_account,customer,remittance"]
    rows += [f'{pid},{AS_OF.isoformat()},{amount},{currency},"{name}",{account},,"{text}"'
             for pid, amount, name, account, text in payments]
    return "\n".join(rows) + "\n"


_FORMATS = {"camt053": (_camt, ".xml", 140), "mt940": (_mt940, ".sta", 27), "bai2": (_bai2, ".bai", 80),
            "csv": (_csv, ".csv", 0)}


def wrapped_group(scenario: Scenario, pool: dict[str, list[OpenItem]], seed: int, per_format: int = 150,
                  ) -> dict[str, Group]:
    """Per bank format, payments whose references the format's wrapping (or the customer's digit
    groups, in CSV) broke up, written as that format's file and read back with its parser."""
    rng = random.Random(seed * 31 + 1)
    names = {c.customer: c.name for c in scenario.customers}
    groups: dict[str, Group] = {}
    with tempfile.TemporaryDirectory() as temp:
        for fmt, (render, suffix, width) in _FORMATS.items():
            group = Group(f"wrapped {fmt}")
            rows: dict[str, list[tuple[str, Decimal, str, str, str]]] = defaultdict(list)
            for n in range(per_format):
                items = _take(rng, pool, rng.choice((1, 1, 2)), {"EUR", "USD"})
                if items is None:
                    break
                refs = [(i.document if rng.random() < 0.5 else i.reference).lstrip("0") for i in items]
                if width:
                    text = _padded_text(rng, refs, width)
                else:
                    text = "Payment " + ", ".join(_grouped(r, rng) for r in refs)
                pid = f"W{fmt[:2].upper()}{n:05d}"
                currency = items[0].currency
                amount = sum((i.amount for i in items), Decimal(0))
                rows[currency].append((pid, amount, names[items[0].customer].upper(),
                                       _account(scenario, items[0].customer), text))
                group.truth |= {(pid, i.key) for i in items}
            for currency, payments in rows.items():
                path = Path(temp) / f"{fmt}-{currency}{suffix}"
                path.write_text(render(payments, currency))
                group.payments += read_payments(path, fmt)
            groups[fmt] = group
    return groups


# -- advices apart from the payment -------------------------------------------------------------

_REASONS = ("DMG", "PRC", "QTY", "PRM")


def advices_group(scenario: Scenario, pool: dict[str, list[OpenItem]], seed: int, count: int = 300) -> Group:
    """Payments of several invoices less deductions, without a usable remittance text, each with
    an advice (by payment reference or only amount, payer and date); a tenth of the advices are
    for money that has not arrived (their payment is not in the file)."""
    rng = random.Random(seed * 31 + 2)
    group = Group("advices")
    for n in range(count):
        items = _take(rng, pool, rng.randint(2, 4), {"EUR", "USD", "JPY"})
        if items is None:
            break
        currency, customer = items[0].currency, items[0].customer
        lines, paid_total = [], Decimal(0)
        for at, item in enumerate(items):
            share = Decimal(rng.randint(2, 10)) / 100 if at == 0 else Decimal(0)
            deduction = quantize(item.amount * share, currency)
            paid = item.amount - deduction
            paid_total += paid
            lines.append(AdviceLine(item.document.lstrip("0"), paid, deduction,
                                    rng.choice(_REASONS) if deduction else "", at + 2))
        pid = f"ADV-PAY{n:05d}"
        value_date = AS_OF + timedelta(days=rng.randint(0, 3))
        by_reference = rng.random() < 0.5
        advice = Advice(f"ADV{n:05d}", customer, pid if by_reference else "", paid_total, currency,
                        value_date - timedelta(days=rng.randint(0, 6)), tuple(lines), 2)
        group.advices.append(advice)
        if rng.random() < 0.1:
            continue  # the money is still to come
        group.payments.append(Payment(pid, value_date, paid_total, currency, "", _account(scenario, customer),
                                      "", rng.choice(("", "see advice", "REMADV"))))
        group.truth |= {(pid, i.key) for i in items}
    return group


# -- head office and alternative payers ---------------------------------------------------------

def head_office_group(scenario: Scenario, pool: dict[str, list[OpenItem]], seed: int, offices: int = 60,
                      ) -> Group:
    """New head-office customers (own accounts, no items of their own) each paying for two or
    three base customers: one payment per branch invoice or several, with or without reference."""
    rng = random.Random(seed * 31 + 3)
    group = Group("head office")
    branches = [c for c, items in pool.items() if len(items) >= 2]
    rng.shuffle(branches)
    serial = 0
    for n in range(offices):
        mine = [branches.pop() for _ in range(rng.randint(2, 3)) if branches]
        if not mine:
            break
        number = f"{900001 + n:010d}"
        iban = "DE" + "".join(rng.choice("0123456789") for _ in range(20))
        group.customers[number] = CustomerRecord(number, f"Holding {n} AG", (iban,), tuple(mine))
        for _ in range(rng.randint(2, 4)):
            branch_items = [i for b in mine for i in pool[b]]
            currencies = {i.currency for i in branch_items}
            if not branch_items:
                break
            currency = rng.choice(sorted(currencies))
            open_ = [i for i in branch_items if i.currency == currency]
            items = rng.sample(open_, min(len(open_), rng.choice((1, 1, 2))))
            for item in items:
                pool[item.customer].remove(item)
            serial += 1
            pid = f"HQ{serial:05d}"
            with_ref = rng.random() < 0.6
            text = " ".join(f"INV {i.document.lstrip('0')}" for i in items) if with_ref else "payment"
            group.payments.append(Payment(pid, AS_OF, sum((i.amount for i in items), Decimal(0)), currency,
                                          f"Holding {n} AG", iban, "", text))
            group.truth |= {(pid, i.key) for i in items}
            group.kinds[pid] = "reference" if with_ref else "amount"
    return group


# -- ambiguous combinations ---------------------------------------------------------------------

_SIGNALS = ("due_date", "billing_run", "partial_digits", "habit", "none")
DEVIATION = 0.05
"""Share of ``due_date``, ``billing_run`` and ``habit`` customers that pay the other two this time
(the signal points at the wrong set): what the tie-break's precision is measured against."""


def ambiguous_group(scenario: Scenario, seed: int, count: int = 400) -> tuple[Group, Group]:
    """Customers with three invoices of one amount (a subscription, a standing order), paying two;
    a signal (shared due date, one billing run, partial digits, paying oldest first) tells which,
    or none does; :data:`DEVIATION` of the customers with a due date, billing run or habit signal
    pay the other two this time (kind ``<signal>_deviating``: the precision test).

    Returns the month-1 group (two single payments of the oldest item per ``habit`` customer, to
    be confirmed) and the month-2 group (the ambiguous payments).
    """
    rng = random.Random(seed * 31 + 4)
    month1, month2 = Group("ambiguous month 1"), Group("ambiguous")
    customers = [c for c in scenario.customers if c.accounts]
    rng.shuffle(customers)
    currency_of = {i.customer: (i.company_code, i.currency) for i in scenario.open_items}
    serial = 95000000
    for n, customer in enumerate(customers[:count]):
        if customer.customer not in currency_of:
            continue
        code, currency = currency_of[customer.customer]
        signal = _SIGNALS[n % len(_SIGNALS)]
        deviating = signal in {"due_date", "billing_run", "habit"} and rng.random() < DEVIATION
        amount = quantize(Decimal(rng.randint(200, 2000)) * (150 if currency == "JPY" else 1), currency)
        base = AS_OF - timedelta(days=90)
        posted = [base + timedelta(days=d) for d in (0, 10, 20)]
        due = [p + timedelta(days=30) for p in posted]
        if signal == "due_date":
            due[1] = due[0]
        if signal == "billing_run":
            posted[1] = posted[0]
        items = []
        for k in range(3):
            serial += 1
            items.append(OpenItem(code, customer.customer, "2026", f"{serial:010d}", "001", "", "", posted[k],
                                  due[k], amount, currency))
        month2.items += items
        paid = [items[1], items[2]] if deviating else [items[0], items[1]]
        if signal == "partial_digits":
            text = "invoices ..." + " ...".join(i.document[-3:] for i in paid)
        else:
            text = rng.choice(("", "monthly fee", "standing order"))
        pid = f"AMB{n:05d}"
        month2.payments.append(Payment(pid, AS_OF, amount * 2, currency, "", customer.accounts[0], "", text))
        month2.truth |= {(pid, i.key) for i in paid}
        month2.kinds[pid] = f"{signal}_deviating" if deviating else signal
        if signal == "habit":
            for m in range(2):
                serial += 1
                old = OpenItem(code, customer.customer, "2026", f"{serial:010d}", "001", "", "",
                               base - timedelta(days=60 - m), base - timedelta(days=30 - m),
                               quantize(Decimal(rng.randint(50, 150)) * (150 if currency == "JPY" else 1) + m,
                                        currency), currency)
                month1.items.append(old)
                mid = f"AMB{n:05d}-M1-{m}"
                month1.payments.append(Payment(mid, AS_OF - timedelta(days=40 - m), old.amount, currency, "",
                                               customer.accounts[0], "", ""))
                month1.truth.add((mid, old.key))
    return month1, month2


def with_month1_paid(month2: Group, month1: Group) -> Group:
    """Month 2 without the items month 1 paid (they were cleared)."""
    return replace(month2, items=[i for i in month2.items if i not in month1.items])
