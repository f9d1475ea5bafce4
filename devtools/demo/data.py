"""A seeded, SAP-shaped demo company: customers, open items, credit segments, orders, disputes.

The same universe is produced at two moments: ``stage=1`` (the demo recording) and ``stage=2``
(a later recording where some items were cleared, new ones posted, orders released and cases
closed), so incremental sync and clearing are exercised on replay. Records are canonical Python
values; :mod:`devtools.demo.shapes` renders them in OData JSON and RFC shapes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sapbridge.money import quantize

__all__ = ["AS_OF", "CLERKS", "COMPANY_CODES", "PROMISE_CODES", "DemoCompany", "Promise", "generate"]

AS_OF = date(2026, 11, 20)
"""The demo's key date: stage 1 is 'today' on this date, stage 2 one week later."""

COMPANY_CODES = {"1000": ("EUR", "DE"), "2000": ("USD", "US"), "3000": ("JPY", "JP")}
"""Company code -> (currency, country)."""

_NAME_A = ["Nordic", "Alpine", "Atlas", "Harbor", "Summit", "Metro", "Delta", "Pioneer", "Orion",
           "Cedar", "Falcon", "Granite", "Beacon", "Sterling", "Evergreen", "Horizon", "Keystone",
           "Maple", "Riverside", "Sakura"]
_NAME_B = ["Retail", "Foods", "Markets", "Supply", "Wholesale", "Stores", "Trading", "Logistics",
           "Distribution", "Pharmacy", "Grocers", "Hardware"]
_NAME_C = ["GmbH", "Inc.", "LLC", "AG", "Ltd.", "K.K.", "Co.", "SE"]
_TERMS = {"NT30": 30, "NT45": 45, "NT60": 60, "Z014": 14}
_REASONS = ["PA1", "PA2", "PRC", "QTY", "DMG", "PRM"]
"""Dispute reasons: PA1/PA2 are post-audit deductions; the rest ordinary deductions."""


@dataclass(frozen=True)
class Customer:
    number: str
    name: str
    country: str
    company_codes: tuple[str, ...]
    terms: str
    ibans: tuple[str, ...]
    posting_blocked: bool = False
    head_office: str = ""
    alternative_payer: str = ""
    clerk: str = "01"


@dataclass(frozen=True)
class OpenItem:
    company_code: str
    fiscal_year: str
    document: str
    item: str
    customer: str
    doc_type: str
    posting_date: date
    baseline_date: date
    net_days: int
    amount: Decimal
    currency: str
    reference: str
    assignment: str
    billing_document: str
    terms: str
    dunning_level: str = "0"


@dataclass(frozen=True)
class CreditSegment:
    customer: str
    segment: str
    limit: Decimal
    currency: str
    valid_to: date | None
    changed_on: date
    blocked: bool
    block_reason: str
    critical: bool
    risk_class: str
    check_rule: str
    score: str


@dataclass(frozen=True)
class SalesOrder:
    number: str
    sold_to: str
    sales_org: str
    order_type: str
    credit_status: str
    block_status: str
    net_amount: Decimal
    currency: str
    created_on: date
    changed_at: datetime
    delivery_block: str = ""


@dataclass(frozen=True)
class Dispute:
    case_id: str
    guid: str
    company_code: str
    customer: str
    status: str
    reason: str
    coordinator: str
    original: Decimal
    disputed: Decimal
    paid: Decimal
    credited: Decimal
    written_off: Decimal
    currency: str
    invoice_reference: str
    created_on: date
    closed_on: date | None
    changed_at: datetime


@dataclass(frozen=True)
class Promise:
    guid: str
    company_code: str
    customer: str
    promised: Decimal
    paid: Decimal
    currency: str
    due_on: date
    made_on: date
    state: str
    level: int


PROMISE_CODES = {"open": "O", "kept": "K", "partially_kept": "P", "broken": "B", "withdrawn": "W"}
"""Canonical promise state -> the demo SAP's single-letter code (as mappings/promises.toml reads them)."""

CLERKS = ("01", "02", "03")
"""Accounting clerks (KNB1-BUSAB) the demo's customers are spread over: the collectors."""


@dataclass
class DemoCompany:
    """Everything SAP would hold at one moment."""

    as_of: date
    customers: list[Customer] = field(default_factory=list)
    open_items: list[OpenItem] = field(default_factory=list)
    segments: list[CreditSegment] = field(default_factory=list)
    orders: list[SalesOrder] = field(default_factory=list)
    disputes: list[Dispute] = field(default_factory=list)
    promises: list[Promise] = field(default_factory=list)


def _iban(rng: random.Random, country: str) -> str:
    bban = "".join(rng.choice("0123456789") for _ in range(18 if country == "DE" else 14))
    digits = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    check = 98 - int(digits) % 97
    return f"{country}{check:02d}{bban}"


def _amount(rng: random.Random, currency: str, low: int, high: int) -> Decimal:
    value = Decimal(str(round(rng.lognormvariate(0, 0.8) * (low + high) / 4, 2)))
    value = min(max(value, Decimal(low)), Decimal(high))
    if currency == "JPY":
        value *= 150
    return quantize(value, currency)


def _customers(rng: random.Random, count: int) -> list[Customer]:
    result = []
    for index in range(count):
        number = f"{100001 + index:010d}"
        home = rng.choice(list(COMPANY_CODES))
        codes = (home,) if rng.random() < 0.7 else tuple(sorted({home, rng.choice(list(COMPANY_CODES))}))
        country = COMPANY_CODES[home][1]
        name = f"{rng.choice(_NAME_A)} {rng.choice(_NAME_B)} {rng.choice(_NAME_C)}"
        ibans = tuple(_iban(rng, "DE" if country == "DE" else "GB") for _ in range(rng.choice((1, 1, 2))))
        result.append(Customer(number, name, country, codes, rng.choice(list(_TERMS)), ibans,
                               posting_blocked=rng.random() < 0.03))
    return result


def _open_items(rng: random.Random, customers: list[Customer], per_customer: int) -> list[OpenItem]:
    items: list[OpenItem] = []
    serial = dict.fromkeys(COMPANY_CODES, 90000000)
    for customer in customers:
        for code in customer.company_codes:
            currency = COMPANY_CODES[code][0]
            for _ in range(rng.randint(per_customer // 2, per_customer * 3 // 2)):
                serial[code] += 1
                posted = AS_OF - timedelta(days=rng.randint(0, 200))
                is_credit = rng.random() < 0.08
                amount = _amount(rng, currency, 50, 25000)
                billing = f"{serial[code] + 10000000:010d}"
                items.append(OpenItem(
                    company_code=code, fiscal_year=str(posted.year), document=f"{serial[code]:010d}",
                    item="001", customer=customer.number, doc_type="DG" if is_credit else "RV",
                    posting_date=posted, baseline_date=posted, net_days=_TERMS[customer.terms],
                    amount=-amount if is_credit else amount, currency=currency,
                    reference=billing[2:], assignment=f"PO{rng.randint(100000, 999999)}",
                    billing_document=billing, terms=customer.terms,
                    dunning_level=str(min(3, max(0, (AS_OF - posted).days // 45))),
                ))
    return items


def _segments(rng: random.Random, customers: list[Customer]) -> list[CreditSegment]:
    result = []
    for customer in customers:
        risk_class, score = rng.choice(("A", "B", "C", "D")), str(rng.randint(100, 900))
        for code in customer.company_codes:
            currency = COMPANY_CODES[code][0]
            blocked = rng.random() < 0.05
            result.append(CreditSegment(
                customer=customer.number, segment=code,
                limit=quantize(Decimal(rng.choice((25, 50, 100, 250, 500))) * 1000
                               * (150 if currency == "JPY" else 1), currency),
                currency=currency,
                valid_to=None if rng.random() < 0.6 else AS_OF + timedelta(days=rng.randint(30, 400)),
                changed_on=AS_OF - timedelta(days=rng.randint(1, 700)), blocked=blocked,
                block_reason="01" if blocked else "", critical=rng.random() < 0.04,
                risk_class=risk_class, check_rule="01", score=score,
            ))
    return result


def _orders(rng: random.Random, customers: list[Customer], count: int) -> list[SalesOrder]:
    result = []
    for index in range(count):
        customer = rng.choice(customers)
        code = customer.company_codes[0]
        currency = COMPANY_CODES[code][0]
        created = AS_OF - timedelta(days=rng.randint(0, 60))
        status = rng.choices(("A", "B", "D"), weights=(60, 28, 12))[0]
        changed = datetime(created.year, created.month, created.day, 8, tzinfo=UTC) + timedelta(
            minutes=rng.randint(0, 60 * 24 * max(1, (AS_OF - created).days)))
        result.append(SalesOrder(
            number=f"{10000001 + index:010d}", sold_to=customer.number, sales_org=code,
            order_type="OR", credit_status=status, block_status="B" if status == "B" else "",
            net_amount=_amount(rng, currency, 500, 80000), currency=currency, created_on=created,
            changed_at=min(changed, datetime(AS_OF.year, AS_OF.month, AS_OF.day, 6, tzinfo=UTC)),
            delivery_block="01" if status == "B" else "",
        ))
    return result


def _disputes(rng: random.Random, items: list[OpenItem], count: int) -> list[Dispute]:
    result = []
    invoices = [i for i in items if i.amount > 0]
    for index in range(count):
        invoice = rng.choice(invoices)
        disputed = quantize(invoice.amount * Decimal(rng.choice(("0.05", "0.1", "0.25", "1"))),
                            invoice.currency)
        created = invoice.posting_date + timedelta(days=rng.randint(10, 90))
        created = min(created, AS_OF)
        closed = rng.random() < 0.3
        credited = disputed if closed and rng.random() < 0.5 else Decimal(0)
        written_off = disputed - credited if closed and not credited else Decimal(0)
        changed = datetime(created.year, created.month, created.day, 9, tzinfo=UTC)
        result.append(Dispute(
            case_id=f"{700001 + index:012d}", guid=f"{rng.getrandbits(128):032X}",
            company_code=invoice.company_code, customer=invoice.customer,
            status="30" if closed else rng.choice(("10", "20")), reason=rng.choice(_REASONS),
            coordinator=rng.choice(("AR_CLERK1", "AR_CLERK2", "AR_LEAD")), original=invoice.amount,
            disputed=disputed, paid=Decimal(0), credited=credited, written_off=written_off,
            currency=invoice.currency, invoice_reference=invoice.reference, created_on=created,
            closed_on=created + timedelta(days=rng.randint(5, 40)) if closed else None,
            changed_at=changed,
        ))
    return result


def _later(company: DemoCompany, rng: random.Random) -> DemoCompany:
    """The same company a week later: payments cleared items, new invoices, releases, closures."""
    later_as_of = company.as_of + timedelta(days=7)
    moment = datetime(later_as_of.year, later_as_of.month, later_as_of.day, 5, tzinfo=UTC)
    kept = [i for i in company.open_items if rng.random() >= 0.12]
    newest = max(int(i.document) for i in company.open_items)
    fresh = []
    for offset, template in enumerate(rng.sample(company.open_items, k=len(company.open_items) // 25)):
        fresh.append(replace(template, document=f"{newest + offset + 1:010d}",
                             posting_date=later_as_of - timedelta(days=rng.randint(0, 6)),
                             baseline_date=later_as_of - timedelta(days=rng.randint(0, 6)),
                             fiscal_year=str(later_as_of.year)))
    orders = []
    for order in company.orders:
        if order.credit_status == "B" and rng.random() < 0.4:
            order = replace(order, credit_status=rng.choice(("A", "D")), block_status="",
                            delivery_block="", changed_at=moment - timedelta(hours=rng.randint(1, 90)))
        elif order.credit_status == "A" and rng.random() < 0.05:
            order = replace(order, credit_status="B", block_status="B", delivery_block="01",
                            changed_at=moment - timedelta(hours=rng.randint(1, 90)))
        orders.append(order)
    disputes = []
    for case in company.disputes:
        if case.closed_on is None and rng.random() < 0.2:
            case = replace(case, status="30", credited=case.disputed, closed_on=later_as_of,
                           changed_at=moment - timedelta(hours=rng.randint(1, 90)))
        disputes.append(case)
    segments = [replace(s, limit=s.limit * 2, changed_on=later_as_of) if rng.random() < 0.05 else s
                for s in company.segments]
    return DemoCompany(as_of=later_as_of, customers=company.customers, open_items=kept + fresh,
                       segments=segments, orders=orders, disputes=disputes,
                       promises=_later_promises(company.promises, later_as_of, random.Random(7)))


_BRANCHES = 4
"""The last customers are branches paid by a head office (and one more by an alternative payer)."""


def _with_payers(people: list[Customer]) -> list[Customer]:
    """Branches (the last :data:`_BRANCHES` customers) paid by the first other customer of their
    home company code, and one customer with an alternative payer; no random draws, so the rest
    of the demo company stays as it was."""
    result = list(people)
    for at in range(len(people) - _BRANCHES, len(people)):
        branch = people[at]
        head = next(c for c in people if c.company_codes[0] == branch.company_codes[0] and c is not branch)
        result[at] = replace(branch, head_office=head.number)
    payer = next(c for c in people[1:] if c.company_codes[0] == people[0].company_codes[0])
    result[0] = replace(people[0], alternative_payer=payer.number)
    return result


def _promise_state(due_on: date, as_of: date, rng: random.Random, forced: str | None) -> str:
    if forced is not None:
        return forced
    if due_on > as_of:
        return rng.choices(("open", "withdrawn"), weights=(9, 1))[0]
    return rng.choices(("kept", "partially_kept", "broken", "withdrawn"), weights=(55, 15, 25, 5))[0]


def _promise_paid(state: str, promised: Decimal, currency: str, rng: random.Random) -> Decimal:
    if state == "kept":
        return promised
    if state == "partially_kept":
        return quantize(promised * Decimal(rng.choice(("0.25", "0.4", "0.5", "0.7"))), currency)
    if state == "broken" and rng.random() < 0.3:
        return quantize(promised * Decimal("0.1"), currency)
    return Decimal(0)


_FORCED_STATES = ("open", "kept", "partially_kept", "broken", "withdrawn")
"""The first promises take each state in turn, so every state is in the demo whatever the draws."""


def _promises(rng: random.Random, items: list[OpenItem], count: int) -> list[Promise]:
    """Promises on customers' overdue items: made when the item was overdue, due days later."""
    overdue = [i for i in items if i.amount > 0 and i.baseline_date + timedelta(days=i.net_days) < AS_OF]
    result = []
    for index in range(count):
        item = rng.choice(overdue)
        made = AS_OF - timedelta(days=rng.randint(2, 75))
        due = made + timedelta(days=rng.randint(5, 21))
        forced = _FORCED_STATES[index] if index < len(_FORCED_STATES) else None
        if forced == "open":
            due = AS_OF + timedelta(days=7)
        elif forced is not None and due > AS_OF:
            due = AS_OF - timedelta(days=3)
        state = _promise_state(due, AS_OF, rng, forced)
        promised = quantize(item.amount * Decimal(rng.choice(("0.5", "1", "1"))), item.currency)
        result.append(Promise(
            guid=f"{rng.getrandbits(128):032X}", company_code=item.company_code, customer=item.customer,
            promised=promised, paid=_promise_paid(state, promised, item.currency, rng),
            currency=item.currency, due_on=due, made_on=made, state=state,
            level=rng.choices((1, 2, 3), weights=(70, 22, 8))[0],
        ))
    return result


def _later_promises(promises: list[Promise], later_as_of: date, rng: random.Random) -> list[Promise]:
    """Open promises that fell due during the week are kept or broken; one new promise each week."""
    result = []
    for promise in promises:
        if promise.state == "open" and promise.due_on <= later_as_of:
            state = rng.choice(("kept", "broken"))
            promise = replace(promise, state=state,
                              paid=promise.promised if state == "kept" else Decimal(0))
        result.append(promise)
    return result


def _with_expiring_limits(segments: list[CreditSegment]) -> list[CreditSegment]:
    """Every twelfth credit limit runs out within the next four weeks (no draws), so the credit
    exposure report has limits to renew."""
    return [replace(s, valid_to=AS_OF + timedelta(days=3 + at % 25)) if at % 12 == 5 else s
            for at, s in enumerate(segments)]


def _with_clerks(people: list[Customer]) -> list[Customer]:
    """Each customer's accounting clerk (the collector), in turn over :data:`CLERKS` (no draws)."""
    return [replace(c, clerk=CLERKS[at % len(CLERKS)]) for at, c in enumerate(people)]


def generate(stage: int = 1, *, seed: int = 20261120, customers: int = 120,
             items_per_customer: int = 24, orders: int = 360, disputes: int = 160,
             promises: int = 60) -> DemoCompany:
    """The demo company at ``stage`` 1 (the demo recording) or 2 (one week later)."""
    rng = random.Random(seed)
    people = _customers(rng, customers)
    items = _open_items(rng, people, items_per_customer)
    people = _with_clerks(_with_payers(people))
    company = DemoCompany(as_of=AS_OF, customers=people, open_items=items,
                          segments=_with_expiring_limits(_segments(rng, people)),
                          orders=_orders(rng, people, orders),
                          disputes=_disputes(rng, items, disputes),
                          promises=_promises(random.Random(seed + 2), items, promises))
    return company if stage == 1 else _later(company, random.Random(seed + 1))
