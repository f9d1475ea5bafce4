"""Typed OData V2 literals and ``$filter`` expressions, quoted so values cannot change a query.

    >>> eq("Customer", "O'Neil")
    "Customer eq 'O''Neil'"
    >>> and_(eq("CompanyCode", "1000"), ge("LastChangeDateTime", datetime(2026, 1, 1, tzinfo=UTC)))
    "CompanyCode eq '1000' and LastChangeDateTime ge datetimeoffset'2026-01-01T00:00:00Z'"
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import quote

from sapbridge.errors import MappingError
from sapbridge.mapping import ODataRoute

__all__ = ["and_", "encode_key", "eq", "ge", "gt", "in_", "le", "literal", "lt", "ne", "odata_filter", "or_"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*$")


def _field(name: str) -> str:
    if not _IDENTIFIER.match(name):
        msg = f"not an OData property name: {name!r}"
        raise MappingError(msg)
    return name


def _datetime_text(value: datetime) -> str:
    fraction = f".{value.microsecond:06d}".rstrip("0") if value.microsecond else ""
    return value.strftime("%Y-%m-%dT%H:%M:%S") + fraction


def literal(value: object, edm_type: str | None = None) -> str:
    """An OData V2 URI literal for a value, by its Edm type or (without one) its Python type."""
    kind = edm_type or _infer(value)
    if value is None:
        return "null"
    if kind == "Edm.String":
        return "'" + str(value).replace("'", "''") + "'"
    if kind == "Edm.Boolean":
        return "true" if value else "false"
    if kind in {"Edm.Int16", "Edm.Int32", "Edm.Byte", "Edm.SByte"}:
        return str(int(str(value)))
    if kind == "Edm.Int64":
        return f"{int(str(value))}L"
    if kind in {"Edm.Decimal", "Edm.Double"}:
        number = Decimal(str(value))
        return f"{number}M" if kind == "Edm.Decimal" else f"{number}d"
    if kind == "Edm.Guid":
        return f"guid'{uuid.UUID(str(value))}'"
    if kind == "Edm.DateTime":
        stamp = value if isinstance(value, datetime) else datetime.combine(value, datetime.min.time())  # type: ignore[arg-type]
        if stamp.tzinfo is not None:
            stamp = stamp.astimezone(UTC).replace(tzinfo=None)
        return f"datetime'{_datetime_text(stamp)}'"
    if kind == "Edm.DateTimeOffset":
        if not isinstance(value, datetime) or value.tzinfo is None:
            msg = f"Edm.DateTimeOffset needs a timezone-aware datetime, not {value!r}"
            raise MappingError(msg)
        return f"datetimeoffset'{_datetime_text(value.astimezone(UTC))}Z'"
    msg = f"unsupported Edm type {kind}"
    raise MappingError(msg)


def _infer(value: object) -> str:
    if isinstance(value, bool):
        return "Edm.Boolean"
    if isinstance(value, int):
        return "Edm.Int32"
    if isinstance(value, Decimal):
        return "Edm.Decimal"
    if isinstance(value, datetime):
        return "Edm.DateTimeOffset" if value.tzinfo else "Edm.DateTime"
    if isinstance(value, date):
        return "Edm.DateTime"
    if isinstance(value, float):
        msg = "refusing float in a filter; use Decimal"
        raise MappingError(msg)
    return "Edm.String"


def _compare(op: str, field: str, value: object, edm_type: str | None) -> str:
    return f"{_field(field)} {op} {literal(value, edm_type)}"


def eq(field: str, value: object, edm_type: str | None = None) -> str:
    """``field eq value``."""
    return _compare("eq", field, value, edm_type)


def ne(field: str, value: object, edm_type: str | None = None) -> str:
    """``field ne value``."""
    return _compare("ne", field, value, edm_type)


def ge(field: str, value: object, edm_type: str | None = None) -> str:
    """``field ge value``."""
    return _compare("ge", field, value, edm_type)


def gt(field: str, value: object, edm_type: str | None = None) -> str:
    """``field gt value``."""
    return _compare("gt", field, value, edm_type)


def le(field: str, value: object, edm_type: str | None = None) -> str:
    """``field le value``."""
    return _compare("le", field, value, edm_type)


def lt(field: str, value: object, edm_type: str | None = None) -> str:
    """``field lt value``."""
    return _compare("lt", field, value, edm_type)


def _group(clauses: Iterable[str], joiner: str) -> str:
    parts = [c for c in clauses if c]
    if not parts:
        msg = f"{joiner} needs at least one clause"
        raise MappingError(msg)
    return f" {joiner} ".join(f"({p})" if " or " in p and not p.startswith("(") else p for p in parts)


def and_(*clauses: str) -> str:
    """Clauses joined by ``and`` (or-groups parenthesised)."""
    return _group(clauses, "and")


def or_(*clauses: str) -> str:
    """Clauses joined by ``or``, in parentheses."""
    return f"({_group(clauses, 'or')})"


def in_(field: str, values: Iterable[object], edm_type: str | None = None) -> str:
    """``(field eq a or field eq b ...)``: V2 has no ``in`` operator."""
    return or_(*(eq(field, value, edm_type) for value in values))


def encode_key(keys: Mapping[str, object], types: Mapping[str, str] | None = None) -> str:
    """A key predicate ``(A='1',B='2')`` with typed, quoted and percent-encoded values."""
    parts = [f"{_field(name)}={literal(value, (types or {}).get(name))}" for name, value in keys.items()]
    return quote("(" + ",".join(parts) + ")", safe="()=,'")


_COMPARISONS = {"eq": eq, "ne": ne, "ge": ge, "gt": gt, "le": le, "lt": lt}
"""The mapping filter operators other than ``in``, by name."""


def odata_filter(route: ODataRoute, partition: str | None, since: datetime | None) -> str | None:
    """The ``$filter`` of a read: the mapping's clauses, the partition and the change bookmark.

    An incremental read drops the mapping's own clauses: a row that left the filtered state
    (an order released from its credit block) must still be read to be updated.
    """
    clauses: list[str] = []
    if since is None:
        for field, op, value in route.filter:
            if op == "in":
                clauses.append(in_(field, list(value)))
            else:
                clauses.append(_COMPARISONS[op](field, value))
    if partition is not None and route.partition_field:
        clauses.append(eq(route.partition_field, partition))
    if since is not None:
        clauses.append(ge(route.incremental_field, since, route.incremental_type))
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else and_(*clauses)
