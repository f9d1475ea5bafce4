"""Establish who is acting, and log a refused identity like any other refusal."""

from __future__ import annotations

import os
import pwd

from sqlalchemy.engine import Engine

from sapbridge.push.authority import PushConfig, resolve_actor
from sapbridge.push.controls import RefusedError, refuse

__all__ = ["identify", "os_login"]


def os_login() -> str:
    """The login of the process's real user id, from the password database.

    Never from ``SAPBRIDGE_USER``, ``LOGNAME``, ``USER`` or ``USERNAME``: anyone can set those,
    so one OS account could otherwise request as one user and approve as another.
    """
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid{uid}"


def identify(engine: Engine, config: PushConfig, *, declared: str | None, os_login: str,
             run_id: str, attempted: str) -> str:
    """The configured user acting now (see :func:`resolve_actor`); refusals are audited."""
    try:
        return resolve_actor(config, declared, os_login)
    except RefusedError as exc:
        refuse(engine, exc.message, control="identity", attempted=attempted,
               actor=declared or os_login, run_id=run_id,
               detail={"os_user": os_login, "declared": declared})
