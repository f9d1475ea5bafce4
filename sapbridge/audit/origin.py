"""Where an audit entry really comes from: the OS account and host running the process."""

from __future__ import annotations

import os
import pwd
import socket
from dataclasses import dataclass

__all__ = ["Origin"]


@dataclass(frozen=True, slots=True)
class Origin:
    """The OS login (from the real uid, never the environment) and the host name."""

    os_login: str
    host: str

    @classmethod
    def current(cls) -> Origin:
        """This process: ``LOGNAME``, ``USER`` and ``SAPBRIDGE_USER`` cannot change the answer."""
        uid = os.getuid()
        try:
            login = pwd.getpwuid(uid).pw_name
        except KeyError:  # a uid without a passwd entry (some containers)
            login = f"uid:{uid}"
        return cls(os_login=login[:64], host=socket.gethostname()[:255])
