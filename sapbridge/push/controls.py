"""Refusals by a control, and the rule that every refusal is in the audit log."""

from __future__ import annotations

import os
from typing import Any, NoReturn

from sqlalchemy.engine import Engine

from sapbridge.audit.log import record
from sapbridge.errors import ControlError

__all__ = ["EXIT_REFUSED", "FAILPOINT_ENV", "RefusedError", "failpoint", "refuse"]

EXIT_REFUSED = 5
"""Exit code when a control refused the action."""

FAILPOINT_ENV = "SAPBRIDGE_FAILPOINT"
"""Test hook: the named failpoint kills the process on the spot (crash tests only)."""


class RefusedError(ControlError):
    """A control refused the action; the CLI exits with code 2."""

    exit_code = EXIT_REFUSED

    def __init__(self, message: str, *, control: str, **attrs: Any) -> None:
        super().__init__(message, control=control, **attrs)


def refuse(
    engine: Engine,
    message: str,
    *,
    control: str,
    attempted: str,
    actor: str,
    run_id: str,
    batch_id: str | None = None,
    row_no: int | None = None,
    detail: dict[str, Any] | None = None,
) -> NoReturn:
    """Record the refusal in its own committed transaction, then raise :class:`RefusedError`."""
    with engine.begin() as conn:
        record(conn, action="refused", actor=actor, run_id=run_id, batch_id=batch_id,
               row_no=row_no, message=message,
               detail={"control": control, "attempted": attempted, **(detail or {})})
    raise RefusedError(message, control=control, batch_id=batch_id)


_hits: dict[str, int] = {}


def failpoint(name: str) -> None:
    """Die abruptly (as a power cut would) when ``SAPBRIDGE_FAILPOINT`` names this point.

    ``name:N`` dies on the N-th time the point is reached (default: the first).
    """
    wanted = os.environ.get(FAILPOINT_ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] == int(nth or 1):
        os._exit(137)
