"""Disputes versus post-audit recoveries: who owns each deduction, and what to do next.

``run_recoveries`` is the entry point the CLI and the jobs runner call; ``classify`` is the pure
core (claims, cases, config, as-of date -> :class:`RecoveriesResult`).
"""

from __future__ import annotations

from sapbridge.reconcile.recoveries.classify import classify
from sapbridge.reconcile.recoveries.config import RecoveriesConfig
from sapbridge.reconcile.recoveries.model import (
    CATEGORIES,
    NEEDS_REVIEW,
    Claim,
    Dispute,
    RecoveriesResult,
    ResultRow,
)
from sapbridge.reconcile.recoveries.run import RunResult, run_recoveries

__all__ = [
    "CATEGORIES",
    "NEEDS_REVIEW",
    "Claim",
    "Dispute",
    "RecoveriesConfig",
    "RecoveriesResult",
    "ResultRow",
    "RunResult",
    "classify",
    "run_recoveries",
]
