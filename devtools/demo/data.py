"""A seeded, SAP-shaped demo company: customers, open and cleared items, credit segments, orders,
disputes and promises to pay.

Customers pay by habit (:mod:`devtools.demo.history`), so the demo has eleven months of payment
history behind it and reads like a healthy book: past due around a quarter, DSO in the forties.

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

from devtools.demo.disputes import Dispute
from devtools.demo.disputes import disputes as demo_disputes
from devtools.demo.history import Habit, Invoice, demo_amount, habit_of, invoices, numbered, open_on, paid_by
from devtools.demo.promises import PROMISE_CODES, Promise, later_promises
from devtools.demo.promises import promises as promises_to_pay
from sapbridge.money import quantize

__all__ = ["AS_OF", "CLERKS", "COMPANY_CODES", "PROMISE_CODES", "DemoCompany", "Dispute", "Promise",
           "generate"]

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
    clearing_date: date | None = None
    clearing_document: str = ""


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
    rejection_status: str = ""
    """OverallSDDocumentRejectionSts: C when every item is rejected (VKM1 reject), else blank."""


CLERKS = ("01", "02", "03")
"""Accounting clerks (KNB1-BUSAB) the demo's customers are spread over: the collectors."""


@dataclass
class DemoCompany:
    """Everything SAP would hold at one moment."""

    as_of: date
    customers: list[Customer] = field(default_factory=list)
    open_items: list[OpenItem] = field(default_factory=list)
    cleared_items: list[OpenItem] = field(default_factory=list)
    """Items paid within the history (:data:`~devtools.demo.history.HISTORY_DAYS`), with clearing date."""
    segments: list[CreditSegment] = field(default_factory=list)
    orders: list[SalesOrder] = field(default_factory=list)
    disputes: list[Dispute] = field(default_factory=list)
    promises: list[Promise] = field(default_factory=list)


def _iban(rng: random.Random, country: str) -> str:
    bban = "".join(rng.choice("0123456789") for _ in range(18 if country == "DE" else 14))
    digits = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    check = 98 - int(digits) % 97
    return f"{country}{check:02d}{bban}"


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


def _universe(rng: random.Random, people: list[Customer], habits: dict[str, Habit],
              per_month: int, until: date) -> list[Invoice]:
    """Every item of every customer over the history up to ``until``, numbered in posting order."""
    items: list[Invoice] = []
    for customer in people:
        for code in customer.company_codes:
            items += invoices(rng, customer=customer.number, company_code=code,
                              currency=COMPANY_CODES[code][0], terms=customer.terms,
                              net_days=_TERMS[customer.terms], habit=habits[customer.number],
                              per_month=rng.randint(max(1, per_month - 1), per_month + 1), until=until)
    return numbered(items, 90000000)


def _dunning_level(invoice: Invoice) -> str:
    """Dunning runs every 30 days after the due date, up to level 3 (as of the demo's key date)."""
    overdue = (AS_OF - invoice.due_on).days
    return "0" if overdue <= 0 else str(min(3, 1 + overdue // 30))


def _as_item(invoice: Invoice, rng: random.Random, cleared: bool) -> OpenItem:
    billing = f"{int(invoice.document) + 10000000:010d}"
    return OpenItem(
        company_code=invoice.company_code, fiscal_year=str(invoice.posting_date.year),
        document=invoice.document, item="001", customer=invoice.customer,
        doc_type=invoice.doc_type, posting_date=invoice.posting_date,
        baseline_date=invoice.posting_date, net_days=invoice.net_days, amount=invoice.amount,
        currency=invoice.currency, reference=billing[2:], assignment=f"PO{rng.randint(100000, 999999)}",
        billing_document=billing, terms=invoice.terms, dunning_level=_dunning_level(invoice),
        clearing_date=invoice.paid_on if cleared else None,
        clearing_document=invoice.clearing_document if cleared else "",
    )


def _items_at(universe: list[Invoice], day: date, seed: int) -> tuple[list[OpenItem], list[OpenItem]]:
    """Open and cleared items as SAP shows them at ``day`` (assignments seeded per document)."""
    def item(invoice: Invoice, cleared: bool) -> OpenItem:
        return _as_item(invoice, random.Random(f"{seed}/{invoice.company_code}/{invoice.document}"), cleared)
    return ([item(i, False) for i in open_on(universe, day)],
            [item(i, True) for i in paid_by(universe, day)])


_OVER_LIMIT_SHARE = 0.1
"""About one credit segment in ten has a limit below the customer's exposure."""


def _nice_limit(value: Decimal, currency: str, *, up: bool) -> Decimal:
    """A limit in whole 5,000s (×150 in JPY), at least 10,000, rounded up or down."""
    step = Decimal(5000) * (150 if currency == "JPY" else 1)
    steps = (value / step).to_integral_value(rounding="ROUND_CEILING" if up else "ROUND_FLOOR")
    return quantize(max(steps * step, step * 2), currency)


def _segments(rng: random.Random, customers: list[Customer], habits: dict[str, Habit],
              exposure: dict[tuple[str, str], Decimal]) -> list[CreditSegment]:
    """Limits set with headroom over each customer's exposure; a few below it (over limit)."""
    result = []
    for customer in customers:
        habit = habits[customer.number]
        risk_class, score = rng.choice(habit.risk_classes), str(rng.randint(100, 900))
        for code in customer.company_codes:
            currency = COMPANY_CODES[code][0]
            blocked = rng.random() < 0.03
            used = exposure.get((customer.number, code), Decimal(0))
            over = rng.random() < _OVER_LIMIT_SHARE and used > 0
            target = used * Decimal(str(rng.uniform(0.55, 0.9) if over else rng.uniform(1.4, 3.0)))
            result.append(CreditSegment(
                customer=customer.number, segment=code,
                limit=_nice_limit(target, currency, up=not over), currency=currency,
                valid_to=None if rng.random() < 0.6 else AS_OF + timedelta(days=rng.randint(30, 400)),
                changed_on=AS_OF - timedelta(days=rng.randint(1, 700)), blocked=blocked,
                block_reason="01" if blocked else "", critical=habit.name == "chronic" and rng.random() < 0.5,
                risk_class=risk_class, check_rule="01", score=score,
            ))
    return result


def _exposure(items: list[OpenItem], orders: list[SalesOrder]) -> dict[tuple[str, str], Decimal]:
    """Open AR plus blocked order value per (customer, company code)."""
    result: dict[tuple[str, str], Decimal] = {}
    for item in items:
        key = (item.customer, item.company_code)
        result[key] = result.get(key, Decimal(0)) + item.amount
    for order in orders:
        if order.credit_status == "B":
            key = (order.sold_to, order.sales_org)
            result[key] = result.get(key, Decimal(0)) + order.net_amount
    return result


_WALK_ORDERS = {0: "17500.00", 3: "19000.00", 15: "52500.00"}
"""Orders the README's release walk uses (10000001, 10000004, 10000016): credit-blocked orders of
company code 1000 with these values (EUR), whatever the draws; 10000016 is above the demo
approver's authority."""


_REJECTED_ORDER = 9
"""Order 10000010 was rejected in VKM1 before the demo's key date: still credit status B (SAP
leaves it), every item rejected (OverallSDDocumentRejectionSts C), so it is no longer waiting."""


def _order_status(rng: random.Random, habit: Habit) -> str:
    """Late payers' orders block more often (the credit check sees their overdue items)."""
    blocked = {"prompt": 3, "average": 8, "slow": 25, "chronic": 55}[habit.name]
    return rng.choices(("A", "B", "D"), weights=(100 - blocked, blocked, 6))[0]


def _orders(rng: random.Random, customers: list[Customer], habits: dict[str, Habit],
            count: int) -> list[SalesOrder]:
    result = []
    in_1000 = [c for c in customers if c.company_codes[0] == "1000"]
    for index in range(count):
        walk = _WALK_ORDERS.get(index)
        customer = in_1000[index % len(in_1000)] if walk else rng.choice(customers)
        code = customer.company_codes[0]
        currency = COMPANY_CODES[code][0]
        created = AS_OF - timedelta(days=rng.randint(0, 60))
        status = "B" if walk or index == _REJECTED_ORDER else _order_status(rng, habits[customer.number])
        changed = datetime(created.year, created.month, created.day, 8, tzinfo=UTC) + timedelta(
            minutes=rng.randint(0, 60 * 24 * max(1, (AS_OF - created).days)))
        amount = demo_amount(rng, currency, 500, 80000)
        result.append(SalesOrder(
            number=f"{10000001 + index:010d}", sold_to=customer.number, sales_org=code,
            order_type="OR", credit_status=status, block_status="B" if status == "B" else "",
            net_amount=Decimal(walk) if walk else amount, currency=currency, created_on=created,
            changed_at=min(changed, datetime(AS_OF.year, AS_OF.month, AS_OF.day, 6, tzinfo=UTC)),
            delivery_block="01" if status == "B" else "",
            rejection_status="C" if index == _REJECTED_ORDER else "",
        ))
    return result


def _rejected_in_the_week(orders: list[SalesOrder], moment: datetime) -> list[SalesOrder]:
    """The first order still waiting after the walk's orders is rejected during the week."""
    at = next(at for at, o in enumerate(orders)
              if at > max(_WALK_ORDERS) and o.credit_status == "B" and not o.rejection_status)
    result = list(orders)
    result[at] = replace(orders[at], rejection_status="C", changed_at=moment - timedelta(hours=3))
    return result


def _later(company: DemoCompany, universe: list[Invoice], rng: random.Random, seed: int) -> DemoCompany:
    """The same company a week later: payments cleared items, new invoices, releases, closures."""
    later_as_of = company.as_of + timedelta(days=7)
    moment = datetime(later_as_of.year, later_as_of.month, later_as_of.day, 5, tzinfo=UTC)
    open_items, cleared_items = _items_at(universe, later_as_of, seed)
    orders = []
    for order in company.orders:
        if order.credit_status == "B" and not order.rejection_status and rng.random() < 0.4:
            order = replace(order, credit_status=rng.choice(("A", "D")), block_status="",
                            delivery_block="", changed_at=moment - timedelta(hours=rng.randint(1, 90)))
        elif order.credit_status == "A" and rng.random() < 0.05:
            order = replace(order, credit_status="B", block_status="B", delivery_block="01",
                            changed_at=moment - timedelta(hours=rng.randint(1, 90)))
        orders.append(order)
    orders = _rejected_in_the_week(orders, moment)
    disputes = []
    for case in company.disputes:
        if case.closed_on is None and rng.random() < 0.2:
            case = replace(case, status="30", credited=case.disputed, closed_on=later_as_of,
                           changed_at=moment - timedelta(hours=rng.randint(1, 90)))
        disputes.append(case)
    segments = [replace(s, limit=s.limit * 2, changed_on=later_as_of) if rng.random() < 0.05 else s
                for s in company.segments]
    return DemoCompany(as_of=later_as_of, customers=company.customers, open_items=open_items,
                       cleared_items=cleared_items, segments=segments, orders=orders, disputes=disputes,
                       promises=later_promises(company.promises, later_as_of, random.Random(7)))


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


def _with_expiring_limits(segments: list[CreditSegment]) -> list[CreditSegment]:
    """Every twelfth credit limit runs out within the next four weeks (no draws), so the credit
    exposure report has limits to renew."""
    return [replace(s, valid_to=AS_OF + timedelta(days=3 + at % 25)) if at % 12 == 5 else s
            for at, s in enumerate(segments)]


def _with_clerks(people: list[Customer]) -> list[Customer]:
    """Each customer's accounting clerk (the collector), in turn over :data:`CLERKS` (no draws)."""
    return [replace(c, clerk=CLERKS[at % len(CLERKS)]) for at, c in enumerate(people)]


def generate(stage: int = 1, *, seed: int = 20261120, customers: int = 120,
             invoices_per_month: int = 2, orders: int = 360, disputes: int = 60,
             promises: int = 60) -> DemoCompany:
    """The demo company at ``stage`` 1 (the demo recording) or 2 (one week later)."""
    rng = random.Random(seed)
    people = _customers(rng, customers)
    habits = {c.number: habit_of(rng) for c in people}
    universe = _universe(rng, people, habits, invoices_per_month, AS_OF + timedelta(days=7))
    open_items, cleared_items = _items_at(universe, AS_OF, seed)
    people = _with_clerks(_with_payers(people))
    sales_orders = _orders(rng, people, habits, orders)
    company = DemoCompany(as_of=AS_OF, customers=people, open_items=open_items, cleared_items=cleared_items,
                          orders=sales_orders,
                          promises=promises_to_pay(random.Random(seed + 2), open_items, promises, AS_OF))
    company.segments = _with_expiring_limits(_segments(rng, people, habits,
                                                       _exposure(open_items, sales_orders)))
    company.disputes = demo_disputes(rng, open_items, cleared_items, habits, disputes, AS_OF)
    return company if stage == 1 else _later(company, universe, random.Random(seed + 1), seed)
