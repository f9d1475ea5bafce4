"""A seeded generator of cash-application test data with known truth, and its scoring.

The ``realistic`` profile mixes what a cash applier sees in a month: single invoice payments with
noisy remittance text (prefixes, dropped or added leading zeros, separators, OCR confusions,
amounts with thousand separators), missing customer numbers, unknown or new payer accounts,
misspelt payer names, combined payments (with credit memos), short pays, bank fees within
tolerance, instalments, duplicates, overpayments, unknown payers, in EUR, USD and JPY. The
``clean`` profile has no noise (every payment names its invoice and customer).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from sapbridge.bankfiles.payment import Payment
from sapbridge.money import quantize
from sapbridge.reconcile.cash.model import Application, CustomerRecord, ItemKey, OpenItem

__all__ = ["KINDS", "Scenario", "Score", "generate", "score", "with_reference_habits"]

AS_OF = date(2026, 11, 20)
_CURRENCIES = (("1000", "EUR", 0.6), ("2000", "USD", 0.3), ("3000", "JPY", 0.1))
_A = ["Nordic", "Alpine", "Atlas", "Harbor", "Summit", "Metro", "Delta", "Pioneer", "Orion", "Cedar",
      "Falcon", "Granite", "Beacon", "Sterling", "Evergreen", "Horizon", "Keystone", "Maple", "Riverside",
      "Sakura", "Quantum", "Vertex", "Lumen", "Polar", "Crescent", "Meridian", "Aurora", "Cobalt",
      "Juniper", "Willow", "Redwood", "Silver", "Golden", "Northern", "Eastern", "Pacific", "Baltic",
      "Rhine", "Danube", "Alder"]
_B = ["Retail", "Foods", "Markets", "Supply", "Wholesale", "Stores", "Trading", "Logistics",
      "Distribution", "Pharmacy", "Grocers", "Hardware", "Textiles", "Electronics", "Beverages",
      "Bakeries", "Outfitters", "Motors", "Paper", "Chemicals", "Furniture", "Optics", "Tools",
      "Garden", "Pet Supplies", "Sports", "Books", "Dairy", "Seafood", "Cosmetics"]
_C = ["GmbH", "Inc.", "LLC", "AG", "Ltd.", "K.K.", "Co.", "SE", "S.A.", "B.V."]
_CITIES = ["Berlin", "Hamburg", "Munich", "Boston", "Austin", "Denver", "Osaka", "Kobe", "Leeds",
           "Lyon", "Graz", "Basel", "Turin", "Porto", "Ghent", "Malmo"]
_OCR = {"0": "O", "1": "I", "5": "S", "8": "B"}

KINDS = {
    "single": 50, "no_reference": 10, "combined": 12, "short_pay": 6, "bank_fee": 5,
    "instalments": 3, "duplicate": 2, "overpay": 2, "unknown_payer": 3, "credit_netted": 4,
    "wrong_reference": 1,
}
"""Payment kinds of the realistic profile and their weights (percent)."""


@dataclass
class Scenario:
    """Generated inputs and the truth: which payment pays which items."""

    payments: list[Payment] = field(default_factory=list)
    open_items: list[OpenItem] = field(default_factory=list)
    customers: list[CustomerRecord] = field(default_factory=list)
    truth: set[tuple[str, ItemKey]] = field(default_factory=set)
    kinds: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Score:
    """Pair-level quality of auto-applied matches against the truth."""

    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def recall(self) -> float:
        """Share of true payment-item pairs that were auto-matched."""
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def precision(self) -> float:
        """Share of auto-matched pairs that are true."""
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0


def score(pairs: set[tuple[str, ItemKey]], truth: set[tuple[str, ItemKey]]) -> Score:
    """Compare predicted (payment, item) pairs with the truth."""
    return Score(len(truth), len(pairs), len(pairs & truth))


def pairs_of(applications: list[Application]) -> set[tuple[str, ItemKey]]:
    """(payment_id, item key) pairs of applications."""
    return {(a.payment_id, a.key) for a in applications}


def _iban(rng: random.Random) -> str:
    return "DE" + "".join(rng.choice("0123456789") for _ in range(20))


def _amount(rng: random.Random, currency: str) -> Decimal:
    value = Decimal(str(round(min(max(rng.lognormvariate(7.2, 1.1), 20.0), 90000.0), 2)))
    return quantize(value * 150 if currency == "JPY" else value, currency)


class _Builder:
    def __init__(self, rng: random.Random, noise: bool) -> None:
        self.rng = rng
        self.noise = noise
        self.scenario = Scenario()
        self.accounts: dict[str, list[str]] = {}
        self.names: dict[str, str] = {}
        self.open_by_customer: dict[str, list[OpenItem]] = {}
        self.serial = 0

    def customers(self, count: int, items_per_customer: int) -> None:
        rng = self.rng
        for index in range(count):
            number = f"{200001 + index:010d}"
            code, currency = rng.choices([(c, k) for c, k, _ in _CURRENCIES],
                                         weights=[w for _, _, w in _CURRENCIES])[0]
            name = f"{rng.choice(_A)} {rng.choice(_B)} {rng.choice(_CITIES)} {rng.choice(_C)}"
            self.names[number] = name
            self.accounts[number] = [_iban(rng) for _ in range(rng.choice((1, 1, 1, 2)))]
            self.scenario.customers.append(CustomerRecord(number, name, tuple(self.accounts[number])))
            self.open_by_customer[number] = [self._item(number, code, currency)
                                             for _ in range(rng.randint(1, 2 * items_per_customer - 1))]

    def _item(self, customer: str, code: str, currency: str) -> OpenItem:
        rng = self.rng
        self.serial += 1
        posted = AS_OF - timedelta(days=rng.randint(0, 120))
        amount = _amount(rng, currency)
        if rng.random() < 0.07:
            amount = -quantize(amount / 4, currency)
        item = OpenItem(code, customer, str(posted.year), f"{90000000 + self.serial:010d}", "001",
                        f"{4000000 + self.serial * 7:09d}", f"PO{rng.randint(100000, 999999)}", posted,
                        posted + timedelta(days=rng.choice((14, 30, 45, 60))), amount, currency)
        self.scenario.open_items.append(item)
        return item

    def reference_text(self, item: OpenItem) -> str:
        rng = self.rng
        number = rng.choice((item.reference, item.reference, item.document))
        if not self.noise:
            return number
        if rng.random() < 0.5:
            number = number.lstrip("0")
        if rng.random() < 0.15:
            cut = rng.randint(3, len(number) - 3)
            number = number[:cut] + rng.choice("- /.") + number[cut:]
        if rng.random() < 0.12:
            position = rng.randrange(len(number))
            number = number[:position] + _OCR.get(number[position], number[position]) + number[position + 1:]
        prefix = rng.choice(("", "", "INV ", "INV-", "RI ", "Rechnung ", "Inv.# ", "invoice no. ", "RE "))
        return prefix + number

    def amount_text(self, amount: Decimal) -> str:
        whole, _, cents = f"{amount:,.2f}".partition(".")
        return self.rng.choice((f"{whole.replace(',', '.')},{cents}", f"{whole.replace(',', ' ')},{cents}",
                                f"{whole},{cents}".replace(",", "X").replace("X", ",", 1), f"{amount}"))

    def payer_fields(self, customer: str) -> tuple[str, str, str]:
        rng = self.rng
        if not self.noise:
            return customer, self.accounts[customer][0], self.names[customer]
        number = customer if rng.random() < 0.45 else ""
        account = rng.choice(self.accounts[customer]) if rng.random() < 0.7 else _iban(rng)
        name = self.names[customer]
        roll = rng.random()
        if roll < 0.25:
            name = name.upper()
        elif roll < 0.40:
            position = rng.randrange(2, len(name) - 1)
            name = name[:position] + name[position + 1:]
        elif roll < 0.50:
            name = " ".join(name.split()[:-1])
        elif roll < 0.55:
            name = ""
        return number, account, name

    def take(self, count: int, *, credit: int = 0) -> list[OpenItem] | None:
        """``count`` open invoices (and ``credit`` credit memos) of one random customer, removed."""
        rng = self.rng
        for _ in range(50):
            customer = rng.choice(self.scenario.customers).customer
            pool = self.open_by_customer[customer]
            invoices = [i for i in pool if i.amount > 0]
            credits = [i for i in pool if i.amount < 0]
            if len(invoices) >= count and len(credits) >= credit:
                chosen = rng.sample(invoices, count) + rng.sample(credits, credit)
                if credit and sum(i.amount for i in chosen) <= 0:
                    continue
                for item in chosen:
                    pool.remove(item)
                return chosen
        return None

    def pay(self, kind: str, items: list[OpenItem], amount: Decimal, remittance: str,
            *, truth: bool = True, payer: tuple[str, str, str] | None = None, days: int = 0) -> Payment:
        scenario = self.scenario
        number, account, name = payer or self.payer_fields(items[0].customer)
        payment = Payment(f"P{len(scenario.payments) + 1:07d}", AS_OF + timedelta(days=days), amount,
                          items[0].currency if items else "EUR", name, account, number, remittance)
        scenario.payments.append(payment)
        scenario.kinds[payment.payment_id] = kind
        if truth:
            scenario.truth |= {(payment.payment_id, i.key) for i in items}
        return payment

    def words(self, refs: list[str], amount: Decimal | None = None) -> str:
        rng = self.rng
        parts = list(refs)
        if self.noise and amount is not None and rng.random() < 0.3:
            parts.append(self.amount_text(amount))
        if self.noise and rng.random() < 0.4:
            parts.insert(0, rng.choice(("Payment", "Zahlung", "PMT", "Settlement of", "Paid:")))
        return rng.choice((" ", ", ", " / ", "; ")).join(parts)


def _single(b: _Builder, kind: str) -> None:
    rng = b.rng
    items = b.take(1)
    if items is None:
        return
    item = items[0]
    currency = item.currency
    tol_cap = Decimal(500) if currency == "JPY" else Decimal("5.00")
    ref = b.reference_text(item)
    if kind == "single":
        payment = b.pay(kind, items, item.amount, b.words([ref], item.amount), days=rng.randint(0, 3))
        return
    if kind == "duplicate":
        payment = b.pay("single", items, item.amount, b.words([ref]), days=0)
        b.pay(kind, [], payment.amount, payment.remittance, truth=False, days=2,
              payer=(payment.customer, payment.payer_account, payment.payer_name))
        b.scenario.payments[-1] = Payment(b.scenario.payments[-1].payment_id, AS_OF + timedelta(days=2),
                                          payment.amount, currency, payment.payer_name,
                                          payment.payer_account, payment.customer, payment.remittance)
    elif kind == "no_reference":
        b.pay(kind, items, item.amount, rng.choice(("", "Payment thank you", "Zahlung", "monthly payment")))
    elif kind == "short_pay":
        paid = quantize(item.amount * Decimal(rng.randint(60, 97)) / 100, currency)
        b.pay(kind, items, paid, b.words([ref, rng.choice(("deduction", "damaged goods", "price diff", ""))]))
    elif kind == "bank_fee":
        fee = quantize(min(tol_cap * Decimal(rng.randint(5, 95)) / 100, item.amount * Decimal("0.004")),
                       currency)
        with_ref = rng.random() < 0.7
        b.pay(kind, items, item.amount - fee, b.words([ref] if with_ref else []))
    elif kind == "overpay":
        extra = quantize(item.amount * Decimal(rng.randint(5, 20)) / 100, currency)
        b.pay(kind, items, item.amount + extra, b.words([ref]))
    elif kind == "instalments":
        first = quantize(item.amount * Decimal(rng.randint(30, 70)) / 100, currency)
        payer = b.payer_fields(item.customer)
        b.pay(kind, items, first, b.words([ref, "1st instalment"]), payer=payer)
        b.pay(kind, items, item.amount - first, b.words([b.reference_text(item), "final instalment"]),
              payer=payer, days=2)


def _several(b: _Builder, kind: str) -> None:
    rng = b.rng
    credit = 1 if kind == "credit_netted" else 0
    items = b.take(rng.randint(1, 2) if credit else rng.randint(2, 4), credit=credit)
    if items is None:
        return
    total = sum((i.amount for i in items), Decimal(0))
    mode = rng.random()
    refs = ([b.reference_text(i) for i in items] if mode < 0.75 or not b.noise
            else [b.reference_text(i) for i in items[:-1]] if mode < 0.9 else [])
    b.pay(kind, items, total, b.words(refs, total))


def _wrong_reference(b: _Builder) -> None:
    items = b.take(2)
    if items is None:
        return
    paid, named = items
    b.open_by_customer[named.customer].append(named)
    b.pay("wrong_reference", [paid], paid.amount, b.words([b.reference_text(named)]))


def _unknown(b: _Builder) -> None:
    rng = b.rng
    currency = rng.choice(("EUR", "USD"))
    name = f"{rng.choice(_A)} {rng.choice(_CITIES)} Holdings"
    b.pay("unknown_payer", [], _amount(rng, currency), rng.choice(("", "payment", "ref 2026-11")),
          truth=False, payer=("", _iban(rng), name))
    last = b.scenario.payments[-1]
    b.scenario.payments[-1] = Payment(last.payment_id, last.value_date, last.amount, currency,
                                      last.payer_name, last.payer_account, "", last.remittance)


def generate(*, seed: int = 7, customers: int = 300, items_per_customer: int = 12, payments: int = 2000,
             profile: str = "realistic") -> Scenario:
    """A scenario of ``payments`` payments against about ``customers * items_per_customer`` items."""
    if profile not in {"realistic", "clean"}:
        msg = f"unknown profile {profile!r} (realistic or clean)"
        raise ValueError(msg)
    rng = random.Random(seed)
    builder = _Builder(rng, noise=profile == "realistic")
    builder.customers(customers, items_per_customer)
    kinds = list(KINDS) if profile == "realistic" else ["single"]
    weights = [KINDS[k] for k in kinds]
    attempts = 0
    while len(builder.scenario.payments) < payments and attempts < payments * 3:
        attempts += 1
        kind = rng.choices(kinds, weights=weights)[0]
        if kind in {"combined", "credit_netted"}:
            _several(builder, kind)
        elif kind == "wrong_reference":
            _wrong_reference(builder)
        elif kind == "unknown_payer":
            _unknown(builder)
        else:
            _single(builder, kind)
    return builder.scenario


def with_reference_habits(scenario: Scenario, *, share: float = 0.2, seed: int = 7) -> Scenario:
    """The scenario with ``share`` of its customers writing references their own way.

    Half of those customers quote their PO (the item's assignment, ``PO 123456``), the other
    half the last four digits of our document (``Inv 0123``), in every payment of one item they
    make. Payments, items and truth are otherwise unchanged.
    """
    rng = random.Random(seed)
    habit_of = {c.customer: rng.choice(("po", "last4")) for c in scenario.customers if rng.random() < share}
    items = {i.key: i for i in scenario.open_items}
    paid: dict[str, list[OpenItem]] = {}
    for payment_id, key in scenario.truth:
        paid.setdefault(payment_id, []).append(items[key])
    payments = []
    for payment in scenario.payments:
        named = paid.get(payment.payment_id, [])
        habit = habit_of.get(named[0].customer) if len(named) == 1 else None
        if habit == "po":
            payment = replace(payment, remittance=f"PO {named[0].assignment.removeprefix('PO')}")
        elif habit == "last4":
            payment = replace(payment, remittance=f"Inv {named[0].document[-4:]}")
        payments.append(payment)
    return Scenario(payments, scenario.open_items, scenario.customers, scenario.truth, scenario.kinds)
