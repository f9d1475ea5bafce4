"""Quality on seeded realistic data with known truth, beside the greedy oldest-first baseline."""

from __future__ import annotations

import pytest

from devtools.cash.baseline import greedy_baseline
from devtools.cash.synthetic import KINDS, generate, pairs_of, score
from sapbridge.reconcile.cash import CashConfig, match_payments


@pytest.fixture(scope="module")
def scenario():
    return generate(seed=20261123, customers=400, items_per_customer=12, payments=3000)


def test_generator_is_seeded_and_has_every_kind(scenario):
    again = generate(seed=20261123, customers=400, items_per_customer=12, payments=3000)
    assert again.payments == scenario.payments
    assert again.truth == scenario.truth
    assert set(scenario.kinds.values()) == set(KINDS)
    assert {p.currency for p in scenario.payments} == {"EUR", "USD", "JPY"}
    assert any(not p.customer for p in scenario.payments)
    assert any(i.amount < 0 for i in scenario.open_items)


def test_realistic_profile_meets_recall_and_precision_targets(scenario):
    result = match_payments(scenario.payments, scenario.open_items, scenario.customers, CashConfig(), [])
    ours = score(pairs_of(result.matches), scenario.truth)
    assert ours.recall >= 0.95
    assert ours.precision >= 0.995


def test_rules_beat_the_greedy_baseline(scenario):
    result = match_payments(scenario.payments, scenario.open_items, scenario.customers, CashConfig(), [])
    ours = score(pairs_of(result.matches), scenario.truth)
    base = score(greedy_baseline(scenario.payments, scenario.open_items, scenario.customers), scenario.truth)
    assert ours.precision > base.precision + 0.1
    assert ours.recall > base.recall


def test_clean_profile_is_matched_completely():
    clean = generate(seed=5, customers=50, items_per_customer=6, payments=200, profile="clean")
    result = match_payments(clean.payments, clean.open_items, clean.customers, CashConfig(), [])
    assert pairs_of(result.matches) == clean.truth
    assert not result.exceptions
    assert not result.suggestions
