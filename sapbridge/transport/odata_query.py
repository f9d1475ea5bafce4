"""OData V2 query options evaluated over rows in memory: the subset of ``$filter`` sapbridge sends
(eq/ne/ge/gt/le/lt joined by and/or, parentheses, string/number/boolean/datetime literals) and
``$select``/``$expand`` projection. Used by stand-ins for SAP (the simulated demo SAP, tests).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["alpha", "compile_filter", "project"]

_TOKEN = re.compile(
    r"\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<str>'(?:[^']|'')*')|(?P<typed>(?:datetimeoffset|datetime|guid)'[^']*')"
    r"|(?P<num>-?\d+(?:\.\d+)?M?)|(?P<word>[A-Za-z_][\w/]*))"
)
_OPS = {"eq", "ne", "ge", "gt", "le", "lt"}


def _literal(kind: str, text: str) -> Any:
    if kind == "str":
        return text[1:-1].replace("''", "'")
    if kind == "typed":
        prefix, _, rest = text.partition("'")
        value = rest[:-1]
        return ("ts", value.replace("Z", "")[:19]) if prefix.startswith("datetime") else value
    if kind == "num":
        return text.rstrip("M")
    return {"true": True, "false": False, "null": None}.get(text, text)


def _comparable(value: Any) -> Any:
    if isinstance(value, str):
        match = re.match(r"^/Date\((-?\d+)", value)
        if match:
            stamp = datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
            return ("ts", stamp.strftime("%Y-%m-%dT%H:%M:%S"))
    return value


def alpha(value: Any) -> Any:
    """A digits-only key as SAP's ALPHA conversion exit compares it (``0000100001`` = ``100001``)."""
    if isinstance(value, str) and value.isdigit():
        return value.lstrip("0") or "0"
    return value


def compile_filter(text: str) -> Callable[[Mapping[str, Any]], bool]:
    """A predicate for the ``$filter`` subset sapbridge sends (raises ValueError otherwise)."""
    tokens = [(m.lastgroup, m.group(m.lastgroup or "")) for m in _TOKEN.finditer(text) if m.lastgroup]
    position = 0

    def peek() -> tuple[str | None, str]:
        return tokens[position] if position < len(tokens) else (None, "")

    def take() -> tuple[str | None, str]:
        nonlocal position
        position += 1
        return tokens[position - 1]

    def comparison() -> Callable[[Mapping[str, Any]], bool]:
        kind, value = take()
        if kind == "lp":
            inner = disjunction()
            take()
            return inner
        field = value
        _, op = take()
        if op not in _OPS:
            msg = f"unsupported operator {op!r}"
            raise ValueError(msg)
        literal_kind, literal_text = take()
        expected = _literal(literal_kind or "", literal_text)

        def test(row: Mapping[str, Any]) -> bool:
            actual = _comparable(row.get(field))
            if op == "eq":
                return bool(alpha(actual) == alpha(expected) or (actual is None and expected == ""))
            if op == "ne":
                return bool(alpha(actual) != alpha(expected) and not (actual is None and expected == ""))
            if actual is None:
                return False
            outcome: bool = {"ge": actual >= expected, "gt": actual > expected,
                             "le": actual <= expected, "lt": actual < expected}[op]
            return outcome

        return test

    def conjunction() -> Callable[[Mapping[str, Any]], bool]:
        parts = [comparison()]
        while peek() == ("word", "and"):
            take()
            parts.append(comparison())
        return lambda row: all(p(row) for p in parts)

    def disjunction() -> Callable[[Mapping[str, Any]], bool]:
        parts = [conjunction()]
        while peek() == ("word", "or"):
            take()
            parts.append(conjunction())
        return lambda row: any(p(row) for p in parts)

    predicate = disjunction()
    if position != len(tokens):
        msg = f"cannot parse $filter near token {position}: {text!r}"
        raise ValueError(msg)
    return predicate


def project(row: Mapping[str, Any], select: list[str], expand: list[str]) -> dict[str, Any]:
    top = [s for s in select if "/" not in s] or [k for k in row if not k.startswith("__")]
    result: dict[str, Any] = {k: row.get(k) for k in top}
    for nav in expand:
        wanted = [s.split("/", 1)[1] for s in select if s.startswith(nav + "/")]
        value = row.get(nav)
        if isinstance(value, dict) and "results" in value:
            result[nav] = {"results": [{k: v for k, v in r.items() if not wanted or k in wanted}
                                       for r in value["results"]]}
        elif isinstance(value, dict):
            result[nav] = {k: v for k, v in value.items() if not wanted or k in wanted}
    for key, value in row.items():
        if isinstance(value, dict) and key not in expand and key in top:
            result[key] = {"__deferred": {"uri": f"{key}"}}
    return result
