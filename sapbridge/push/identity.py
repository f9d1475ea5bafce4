"""Establish who is acting, and log a refused identity like any other refusal."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from sapbridge.push.authority import PushConfig, resolve_actor
from sapbridge.push.controls import RefusedError, refuse

__all__ = ["identify"]


def identify(engine: Engine, config: PushConfig, *, declared: str | None, os_login: str,
             run_id: str, attempted: str) -> str:
    """The configured user acting now (see :func:`resolve_actor`); refusals are audited."""
    try:
        return resolve_actor(config, declared, os_login)
    except RefusedError as exc:
        refuse(engine, exc.message, control="identity", attempted=attempted,
               actor=declared or os_login, run_id=run_id,
               detail={"os_user": os_login, "declared": declared})
