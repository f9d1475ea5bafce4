"""Settings of the recoveries reconciliation, from section ``[recoveries]`` of sapbridge.toml.

Example::

    [recoveries]
    post_audit_reasons = ["PA1", "PA2"]   # dispute reason codes of post-audit deductions
    window_days = 90                      # such a case older than this with no claim is reported
    tolerance_amount = "1.00"             # claim and case amounts agree within the larger of
    tolerance_percent = "0.5"             #   this absolute amount and this percent of the case
    open_statuses = ["10", "20", "open"]  # case statuses meaning open ...
    closed_statuses = ["30", "closed"]    #   ... and closed (anything else is refused)
    dispute_team = "Dispute team"         # owner names written on every row (max 20 characters)
    recovery_provider = "Recovery provider"
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sapbridge.config import unknown_keys
from sapbridge.errors import ConfigError
from sapbridge.money import D

__all__ = ["OWNER_MAX_LENGTH", "RecoveriesConfig"]

OWNER_MAX_LENGTH = 20
"""Owner names are stored in ``recovery_claims.owner`` (20 characters)."""

_KEYS = {"post_audit_reasons", "window_days", "tolerance_amount", "tolerance_percent",
         "open_statuses", "closed_statuses", "dispute_team", "recovery_provider"}


@dataclass(frozen=True, slots=True)
class RecoveriesConfig:
    """Validated ``[recoveries]`` settings; the defaults fit the demo system."""

    post_audit_reasons: frozenset[str] = frozenset({"PA1", "PA2"})
    window_days: int = 90
    tolerance_amount: Decimal = Decimal("1.00")
    tolerance_percent: Decimal = Decimal("0.5")
    open_statuses: frozenset[str] = frozenset({"10", "20", "OPEN"})
    closed_statuses: frozenset[str] = frozenset({"30", "CLOSED"})
    dispute_team: str = "Dispute team"
    recovery_provider: str = "Recovery provider"

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> RecoveriesConfig:
        """Validate a raw ``[recoveries]`` table; unknown keys and bad values are ConfigErrors."""
        unknown = unknown_keys(section, _KEYS, "[recoveries]")
        if unknown is not None:
            raise unknown
        default = cls()
        try:
            config = cls(
                post_audit_reasons=_codes(section, "post_audit_reasons", default.post_audit_reasons),
                window_days=int(section.get("window_days", default.window_days)),
                tolerance_amount=_amount(section, "tolerance_amount", default.tolerance_amount),
                tolerance_percent=_amount(section, "tolerance_percent", default.tolerance_percent),
                open_statuses=_codes(section, "open_statuses", default.open_statuses),
                closed_statuses=_codes(section, "closed_statuses", default.closed_statuses),
                dispute_team=str(section.get("dispute_team", default.dispute_team)).strip(),
                recovery_provider=str(section.get("recovery_provider", default.recovery_provider)).strip(),
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"[recoveries]: {exc}") from exc
        config.check()
        return config

    def check(self) -> None:
        """Refuse settings that cannot work (negative window or tolerance, overlapping statuses)."""
        if self.window_days < 0:
            raise ConfigError("[recoveries] window_days must not be negative")
        if self.tolerance_amount < 0 or not 0 <= self.tolerance_percent <= 50:
            raise ConfigError("[recoveries] tolerance_amount must not be negative and "
                              "tolerance_percent must be between 0 and 50")
        overlap = self.open_statuses & self.closed_statuses
        if overlap:
            raise ConfigError(f"[recoveries] statuses both open and closed: {', '.join(sorted(overlap))}")
        for key, name in (("dispute_team", self.dispute_team),
                          ("recovery_provider", self.recovery_provider)):
            if not name or len(name) > OWNER_MAX_LENGTH:
                raise ConfigError(f"[recoveries] {key} must be 1 to {OWNER_MAX_LENGTH} characters")

    def tolerance(self, amount: Decimal) -> Decimal:
        """How far a claim may differ from a case of ``amount`` and still agree."""
        return max(self.tolerance_amount, abs(amount) * self.tolerance_percent / 100)

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe settings, recorded with each run."""
        return {
            "post_audit_reasons": sorted(self.post_audit_reasons),
            "window_days": self.window_days,
            "tolerance_amount": str(self.tolerance_amount),
            "tolerance_percent": str(self.tolerance_percent),
            "open_statuses": sorted(self.open_statuses),
            "closed_statuses": sorted(self.closed_statuses),
            "dispute_team": self.dispute_team,
            "recovery_provider": self.recovery_provider,
        }


def _codes(section: dict[str, Any], key: str, default: frozenset[str]) -> frozenset[str]:
    value = section.get(key)
    if value is None:
        return default
    if isinstance(value, str) or not isinstance(value, list):
        raise ValueError(f"{key} must be a list of strings")
    return frozenset(str(code).strip().upper() for code in value)


def _amount(section: dict[str, Any], key: str, default: Decimal) -> Decimal:
    value = section.get(key)
    if value is None:
        return default
    if isinstance(value, float):
        value = repr(value)
    try:
        return D(value)
    except ValueError:
        raise ValueError(f"{key}: not an amount: {value!r}") from None
