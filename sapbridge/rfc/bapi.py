"""BAPI RETURN handling: BAPIRET2 and the older BAPIRETURN, as a structure or a table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sapbridge.errors import SapBusinessError

__all__ = ["errors_in", "raise_for_return", "return_messages"]

_FAILING = {"E", "A"}


def return_messages(result: Mapping[str, Any], key: str = "RETURN") -> list[dict[str, Any]]:
    """RETURN rows with a message type (a structure counts as one row; blanks are dropped)."""
    value = result.get(key)
    rows = [value] if isinstance(value, Mapping) else list(value or [])
    return [dict(row) for row in rows if str(row.get("TYPE", "")).strip()]


def errors_in(result: Mapping[str, Any], key: str = "RETURN") -> list[dict[str, Any]]:
    """RETURN rows of type E (error) or A (abort)."""
    return [row for row in return_messages(result, key) if str(row["TYPE"]).strip() in _FAILING]


def _describe(row: Mapping[str, Any]) -> str:
    code = " ".join(str(row.get(k, "")).strip() for k in ("ID", "NUMBER") if str(row.get(k, "")).strip())
    code = code or str(row.get("CODE", "")).strip()
    message = str(row.get("MESSAGE", "")).strip()
    return f"{row.get('TYPE')} {code}: {message}".replace("  ", " ")


def raise_for_return(function: str, result: Mapping[str, Any], key: str = "RETURN") -> None:
    """Raise SapBusinessError when RETURN holds an E or A row (W, S and I pass)."""
    errors = errors_in(result, key)
    if not errors:
        return
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    msg = f"{function} failed: {_describe(errors[0])}{more}"
    raise SapBusinessError(msg, function=function, messages=errors)
