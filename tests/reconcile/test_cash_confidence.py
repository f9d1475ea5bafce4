"""The cash rules' confidences live in one documented table, not scattered through the rules."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

from sapbridge.reconcile.cash import rules
from sapbridge.reconcile.cash.rules import CONFIDENCE


def test_no_rule_function_holds_a_confidence_literal() -> None:
    tree = ast.parse(Path(rules.__file__).read_text(encoding="utf-8"))
    literals = [f"line {node.lineno}" for fn in tree.body if isinstance(fn, ast.FunctionDef)
                for node in ast.walk(fn)
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in {"C", "Decimal"} and any(isinstance(a, ast.Constant) for a in node.args)]
    assert not literals


def test_every_confidence_is_a_probability_and_agreeing_is_never_less_sure() -> None:
    for name, confidence in CONFIDENCE.items():
        assert Decimal(0) < confidence.otherwise <= confidence.agrees <= Decimal(1), name
    assert CONFIDENCE["reference"].of(True) == Decimal("0.99")
    assert CONFIDENCE["reference"].of(False) == Decimal("0.95")
