"""A seeded generator of realistic claims and dispute cases whose right answer is known.

Every category is planted on purpose: recoveries on closed, open and written-off cases, claims
in progress and rejected, amount mismatches, duplicates (a second claim on a case, a claim on a
credited case, two claims for one unknown deduction), claims for deductions nobody opened a case
for, and old post-audit cases nobody claimed. References are written the untidy ways providers
write them (prefixes, separators, OCR letters, missing leading zeros), amounts carry noise
within tolerance, and customers trade in EUR, USD, GBP and JPY. Tests and the benchmark use it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sapbridge.money import ZERO, quantize
from sapbridge.reconcile.recoveries.config import RecoveriesConfig
from sapbridge.reconcile.recoveries.inputs import CLAIM_COLUMNS, DISPUTE_COLUMNS, claim_references
from sapbridge.reconcile.recoveries.model import Category, Claim, ClaimStatus, Dispute
from sapbridge.tabular import write_csv

__all__ = ["AS_OF", "MIX", "SyntheticData", "generate", "noisy_reference", "write_files"]

AS_OF = date(2026, 11, 20)
"""The key date the synthetic data is built for."""

MIX: dict[str, int] = {
    "recovered_closed": 14,
    "recovered_open_dispute": 10,
    "recovered_after_writeoff": 9,
    "amount_mismatch": 8,
    "duplicate_pair": 6,
    "credited_case": 4,
    "orphan_pair": 3,
    "claim_without_dispute": 8,
    "open_claim": 26,
    "rejected_claim": 9,
}
"""Weights of the planted claim kinds (a pair plants two claims)."""

_CURRENCIES = ("EUR", "EUR", "USD", "USD", "GBP", "JPY")
_POST_AUDIT = ("PA1", "PA2")
_OTHER_REASONS = ("PRC", "QTY", "DMG", "PRM")


@dataclass
class SyntheticData:
    """Claims and cases plus the category each claim, and each unclaimed case, must get."""

    as_of: date
    claims: list[Claim] = field(default_factory=list)
    disputes: list[Dispute] = field(default_factory=list)
    claim_truth: dict[str, Category] = field(default_factory=dict)
    case_truth: dict[str, Category] = field(default_factory=dict)
    """Cases expected as ``dispute_without_claim``; every other unclaimed case gets no row."""
    customer_text: dict[str, str] = field(default_factory=dict)
    """How the provider writes each claim's customer (leading zeros often dropped)."""


def noisy_reference(reference: str, rng: random.Random) -> str:
    """``reference`` written one of the ways it arrives on a claim; it normalises back."""
    digits = reference.lstrip("0")
    style = rng.randrange(7)
    if style == 0:
        return f"INV-{reference}"
    if style == 1:
        return f"RI {digits}"
    if style == 2:
        return f"inv {digits[:4]}-{digits[4:]}"
    if style == 3:
        return digits.replace("0", "O", 1)
    if style == 4:
        return f"REF#{digits[:3]}.{digits[3:]}"
    return digits if style == 5 else reference


class _Builder:
    def __init__(self, rng: random.Random, as_of: date, customers: int) -> None:
        self.rng = rng
        self.as_of = as_of
        self.data = SyntheticData(as_of=as_of)
        self.customers = [(f"{200000 + i:010d}", rng.choice(_CURRENCIES)) for i in range(customers)]
        self.orphan_serial = 0

    def amount(self, currency: str) -> Decimal:
        cents = int(self.rng.lognormvariate(7, 1.1) * 100)
        value = max(Decimal(cents).scaleb(-2), Decimal(120))
        return quantize(value * 150 if currency == "JPY" else value, currency)

    def case(self, *, status: str = "open", reason: str | None = None, age: int | None = None,
             paid: bool = False, credited: bool = False, written_off: bool = False) -> Dispute:
        rng = self.rng
        customer, currency = rng.choice(self.customers)
        position = len(self.data.disputes)
        disputed = self.amount(currency)
        created = self.as_of - timedelta(days=rng.randint(1, 500) if age is None else age)
        closed = status == "closed"
        case = Dispute(
            case_id=f"{position + 1:012d}", company_code="1000", customer=customer, closed=closed,
            case_status="30" if closed else rng.choice(("10", "20")),
            reason=reason or rng.choice(_POST_AUDIT + _OTHER_REASONS),
            original_amount=disputed * rng.choice((1, 2, 4, 10)), disputed_amount=disputed,
            paid_amount=disputed if paid else ZERO, credited_amount=disputed if credited else ZERO,
            written_off_amount=disputed if written_off else ZERO, currency=currency,
            invoice_reference=f"{90000000 + position:010d}", created_on=created,
            closed_on=min(self.as_of, created + timedelta(days=rng.randint(5, 60))) if closed else None,
        )
        self.data.disputes.append(case)
        return case

    def claim(self, truth: Category, case: Dispute | None, status: ClaimStatus, *,
              amount: Decimal | None = None, reference: str | None = None,
              customer: str | None = None, currency: str | None = None,
              claimed_on: date | None = None) -> Claim:
        rng = self.rng
        number = f"CLM-{len(self.data.claims) + 1:08d}"
        if case is not None:
            currency = case.currency
            customer = case.customer
            amount = self.noise(case.disputed_amount, currency) if amount is None else amount
            reference = noisy_reference(case.invoice_reference, rng) if reference is None else reference
            earliest = case.created_on or self.as_of
        else:
            earliest = self.as_of - timedelta(days=400)
        assert amount is not None
        assert currency is not None
        assert customer is not None
        assert reference
        when = claimed_on or min(self.as_of, earliest + timedelta(days=rng.randint(1, 30)))
        recovered = amount if status == "recovered" else ZERO
        recovered_on = None
        if status == "recovered":
            recovered_on = min(self.as_of, when + timedelta(days=rng.randint(1, 20)))
        claim = Claim(number, customer, when, claim_references(reference), reference, amount,
                      currency, status, recovered, recovered_on, "post-audit claim")
        self.data.claims.append(claim)
        self.data.claim_truth[number] = truth
        self.data.customer_text[number] = customer.lstrip("0") if rng.random() < 0.5 else customer
        return claim

    def noise(self, amount: Decimal, currency: str) -> Decimal:
        """An amount within tolerance of ``amount`` (most claims agree to the cent)."""
        if self.rng.random() < 0.75:
            return amount
        step = Decimal(1) if currency == "JPY" else Decimal("0.01")
        return amount + step * self.rng.choice((-50, -7, -1, 1, 3, 60))

    def orphan(self) -> tuple[str, str, str]:
        self.orphan_serial += 1
        customer = f"{800000 + self.orphan_serial:010d}"
        return customer, self.rng.choice(_CURRENCIES), f"{50000000 + self.orphan_serial:010d}"


def _plant(builder: _Builder, kind: str) -> int:
    """Plant one claim kind; returns how many claims it added."""
    rng = builder.rng
    plants: dict[str, Callable[[], int]] = {
        "recovered_closed": lambda: _one(builder, "recovered_closed",
                                         builder.case(status="closed", paid=True), "recovered"),
        "recovered_open_dispute": lambda: _one(builder, "recovered_open_dispute", builder.case(),
                                               "recovered"),
        "recovered_after_writeoff": lambda: _one(builder, "recovered_after_writeoff",
                                                 builder.case(status="closed", written_off=True),
                                                 "recovered"),
        "open_claim": lambda: _one(builder, "open_claim", builder.case(), "claimed"),
        "rejected_claim": lambda: _one(builder, "rejected_claim", builder.case(), "rejected"),
        "credited_case": lambda: _one(builder, "duplicate_claim",
                                      builder.case(status="closed", credited=True),
                                      rng.choice(("claimed", "recovered"))),
    }
    if kind in plants:
        return plants[kind]()
    if kind == "amount_mismatch":
        case = builder.case()
        factor = Decimal(rng.choice(("0.7", "0.85", "1.1", "1.25", "2")))
        builder.claim("amount_mismatch", case, "claimed",
                      amount=quantize(case.disputed_amount * factor, case.currency))
        return 1
    if kind == "duplicate_pair":
        case = builder.case()
        first = builder.claim("open_claim", case, "claimed")
        builder.claim("duplicate_claim", case, rng.choice(("claimed", "recovered")),
                      claimed_on=first.claim_date + timedelta(days=rng.randint(1, 90)))
        return 2
    customer, currency, reference = builder.orphan()
    amount = builder.amount(currency)
    first = builder.claim("claim_without_dispute", None, "claimed", amount=amount,
                          reference=noisy_reference(reference, rng), customer=customer, currency=currency)
    if kind == "orphan_pair":
        builder.claim("duplicate_claim", None, "claimed", amount=amount,
                      reference=noisy_reference(reference, rng), customer=customer, currency=currency,
                      claimed_on=first.claim_date + timedelta(days=rng.randint(1, 60)))
        return 2
    return 1


def _one(builder: _Builder, truth: Category, case: Dispute, status: ClaimStatus) -> int:
    builder.claim(truth, case, status)
    return 1


def generate(*, disputes: int, claims: int, seed: int = 1, as_of: date = AS_OF,
             config: RecoveriesConfig | None = None) -> SyntheticData:
    """About ``claims`` claims (planted per :data:`MIX`) against ``disputes`` cases.

    Cases spread over one customer per 200 cases (at least 20), each trading in one currency.
    Cases beyond those the claims need are background: any reason, open or closed, up to 500
    days old; the open post-audit ones older than the window are the unclaimed cases to report.
    """
    settings = config or RecoveriesConfig()
    rng = random.Random(seed)
    builder = _Builder(rng, as_of, customers=max(20, disputes // 200))
    kinds = list(MIX)
    weights = list(MIX.values())
    while len(builder.data.claims) < claims:
        _plant(builder, rng.choices(kinds, weights)[0])
    if len(builder.data.disputes) > disputes:
        msg = f"{claims} claims need at least {len(builder.data.disputes)} disputes"
        raise ValueError(msg)
    while len(builder.data.disputes) < disputes:
        case = builder.case(status=rng.choice(("open", "open", "closed")))
        age = (as_of - case.created_on).days if case.created_on else 0
        if (not case.closed and case.reason in settings.post_audit_reasons
                and age > settings.window_days):
            builder.data.case_truth[case.case_id] = "dispute_without_claim"
    rng.shuffle(builder.data.disputes)
    rng.shuffle(builder.data.claims)
    return builder.data


def write_files(data: SyntheticData, folder: Path) -> tuple[Path, Path]:
    """The data as a claims CSV and a disputes CSV, written as providers and exports write them."""
    claims = write_csv(folder / "claims.csv", CLAIM_COLUMNS, (
        [c.claim_id, data.customer_text.get(c.claim_id, c.customer), c.claim_date, c.reference_text,
         c.amount, c.currency, c.status, c.recovered_amount if c.status == "recovered" else "",
         c.recovered_on, c.reason]
        for c in data.claims))
    disputes = write_csv(folder / "disputes.csv", DISPUTE_COLUMNS, (
        [d.case_id, d.company_code, d.customer, d.case_status, d.reason, d.original_amount,
         d.disputed_amount, d.paid_amount, d.credited_amount, d.written_off_amount, d.currency,
         d.invoice_reference, d.created_on, d.closed_on]
        for d in data.disputes))
    return claims, disputes
