"""The ``[cash]`` section of sapbridge.toml: rule order, thresholds and tolerances.

Example::

    [cash]
    rules = ["many_to_one", "reference", "reference_habit", "exact_amount", "combination", "amount_only"]
    auto_threshold = "0.90"        # confidence at or above which a match is auto-applied
    max_combination_items = 4      # one payment for at most this many items
    max_combination_candidates = 20  # oldest untouched items of the customer searched
    name_threshold = 90            # rapidfuzz WRatio for payer-name identification
    reference_min_length = 6       # shorter normalised tokens are ignored
    allow_partial = true           # apply a short payment to a referenced invoice
    advice_window_days = 10        # an advice and a payment linked by amount and payer: days apart

    [cash.tolerance]               # like an SAP tolerance group: the smaller limit wins
    percent = "0.5"                # of the payment amount
    default = "5.00"               # absolute limit in any currency not listed
    [cash.tolerance.amounts]
    JPY = "500"
    EUR = "5.00"

Amounts are read as Decimal from strings (TOML floats are refused to keep money exact).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sapbridge.config import unknown_keys
from sapbridge.errors import ConfigError
from sapbridge.money import D, to_minor_units

__all__ = ["RULES", "CashConfig", "Tolerance", "load_config"]

RULES = ("many_to_one", "reference", "reference_habit", "exact_amount", "combination", "amount_only")
"""Every rule the matcher knows, in the default order."""

_KEYS = {"rules", "auto_threshold", "max_combination_items", "max_combination_candidates",
         "name_threshold", "reference_min_length", "allow_partial", "tolerance", "advice_window_days"}


@dataclass(frozen=True, slots=True)
class Tolerance:
    """Payment differences accepted without an exception (SAP tolerance group style)."""

    percent: Decimal = Decimal("0.5")
    default: Decimal = Decimal("5.00")
    amounts: dict[str, Decimal] = field(default_factory=lambda: {"JPY": Decimal(500)})

    def allowed_minor(self, amount_minor: int, currency: str) -> int:
        """The accepted difference in minor units for a payment of ``amount_minor``."""
        absolute = to_minor_units(self.amounts.get(currency, self.default), currency)
        relative = int(abs(amount_minor) * self.percent / 100)
        return min(absolute, relative)


@dataclass(frozen=True, slots=True)
class CashConfig:
    """Validated matcher settings; defaults suit a typical AR department."""

    rules: tuple[str, ...] = RULES
    auto_threshold: Decimal = Decimal("0.90")
    max_combination_items: int = 4
    max_combination_candidates: int = 20
    name_threshold: int = 90
    reference_min_length: int = 6
    allow_partial: bool = True
    tolerance: Tolerance = field(default_factory=Tolerance)
    advice_window_days: int = 10


def _money(value: Any, where: str) -> Decimal:
    if isinstance(value, float):
        msg = f"[cash] {where}: write amounts as strings (\"5.00\"), not floats"
        raise ConfigError(msg)
    try:
        return D(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[cash] {where}: {exc}") from None


def _tolerance(raw: Any) -> Tolerance:
    if not isinstance(raw, dict):
        raise ConfigError("[cash.tolerance] must be a table")
    unknown = set(raw) - {"percent", "default", "amounts"}
    if unknown:
        raise ConfigError(f"[cash.tolerance] unknown key(s): {', '.join(sorted(unknown))}")
    base = Tolerance()
    amounts = raw.get("amounts", base.amounts)
    if not isinstance(amounts, dict):
        raise ConfigError("[cash.tolerance.amounts] must be a table of currency = amount")
    return Tolerance(
        percent=_money(raw.get("percent", base.percent), "tolerance.percent"),
        default=_money(raw.get("default", base.default), "tolerance.default"),
        amounts={str(k).upper(): _money(v, f"tolerance.amounts.{k}") for k, v in amounts.items()},
    )


def _int(raw: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = raw.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigError(f"[cash] {key} must be an integer from {low} to {high}, got {value!r}")
    return value


def load_config(raw: dict[str, Any]) -> CashConfig:
    """A :class:`CashConfig` from the raw ``[cash]`` section, or a ConfigError naming the key."""
    unknown = unknown_keys(raw, _KEYS, "[cash]")
    if unknown is not None:
        raise unknown
    rules = tuple(raw.get("rules", RULES))
    bad = [r for r in rules if r not in RULES]
    if bad or not rules:
        raise ConfigError(f"[cash] rules: unknown {bad} (choose from {', '.join(RULES)})")
    threshold = _money(raw.get("auto_threshold", "0.90"), "auto_threshold")
    if not Decimal(0) < threshold <= Decimal(1):
        raise ConfigError("[cash] auto_threshold must be above 0 and at most 1")
    allow_partial = raw.get("allow_partial", True)
    if not isinstance(allow_partial, bool):
        raise ConfigError("[cash] allow_partial must be true or false")
    return CashConfig(
        rules=rules, auto_threshold=threshold,
        max_combination_items=_int(raw, "max_combination_items", 4, 1, 6),
        max_combination_candidates=_int(raw, "max_combination_candidates", 20, 1, 40),
        name_threshold=_int(raw, "name_threshold", 90, 50, 100),
        reference_min_length=_int(raw, "reference_min_length", 6, 3, 20),
        allow_partial=allow_partial,
        tolerance=_tolerance(raw.get("tolerance", {})),
        advice_window_days=_int(raw, "advice_window_days", 10, 0, 90),
    )
