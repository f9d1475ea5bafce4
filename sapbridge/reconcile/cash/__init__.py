"""Cash application: match incoming payments to open items, the way a cash applier would.

``run_cash`` is the entry point for the CLI and the jobs runner; ``match_payments`` is the pure
core.
"""

from __future__ import annotations

from sapbridge.reconcile.cash.config import CashConfig, load_config
from sapbridge.reconcile.cash.learning import confirm_matches
from sapbridge.reconcile.cash.matcher import match_payments
from sapbridge.reconcile.cash.model import CashResult
from sapbridge.reconcile.cash.reference_habits import ReferenceHabit
from sapbridge.reconcile.cash.service import CashRunResult, run_cash

__all__ = ["CashConfig", "CashResult", "CashRunResult", "ReferenceHabit", "confirm_matches", "load_config",
           "match_payments", "run_cash"]
