"""Column types that keep money exact on every backend, and the one rule for their SQLite storage
form (the bulk writer hands converted values straight to the driver, so they must match)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["Money", "UtcDateTime", "sqlite_storage_form"]


class Money(TypeDecorator[Decimal]):
    """A Decimal column: NUMERIC(28, 6) on PostgreSQL, exact TEXT on SQLite (no float detour)."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(28, 6, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            msg = "money must be Decimal, not float"
            raise TypeError(msg)
        return str(value) if dialect.name == "sqlite" else Decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite keeps no offset, so we restore it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            msg = f"timestamps must be timezone-aware datetimes, not {value!r}"
            raise TypeError(msg)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stamp: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def sqlite_storage_form(value: Any) -> Any:
    """What :class:`Money`, :class:`UtcDateTime` and SQLAlchemy's ``Date`` store on SQLite.

    Decimals as their exact text, timestamps as naive UTC ``YYYY-MM-DD HH:MM:SS.ffffff``, dates
    as ISO text; text, numbers and None as they are.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            msg = f"timestamps must be timezone-aware datetimes, not {value!r}"
            raise TypeError(msg)
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
