"""What a simulated SAP remembers between commands: changed and created entities, document numbers.

One JSON file, changed under an exclusive lock (two processes at once see each other's changes,
never half of one) and replaced atomically (a process killed mid-write leaves the previous state).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from sapbridge.errors import ConfigError
from sapbridge.transport.keys import write_atomic

__all__ = ["FIRST_DOCUMENT", "SapState"]

FIRST_DOCUMENT = 1400000001
"""The first accounting document number the simulated SAP gives out."""


def _empty() -> dict[str, Any]:
    return {"entities": {}, "next_document": FIRST_DOCUMENT}


class SapState:
    """The state file of one simulated SAP system."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def read(self) -> dict[str, Any]:
        """The current state (empty when nothing was changed yet)."""
        try:
            data: dict[str, Any] = orjson.loads(self.path.read_bytes())
        except FileNotFoundError:
            return _empty()
        except orjson.JSONDecodeError as exc:
            msg = f"simulated SAP state {self.path} is not valid JSON ({exc}); delete it to start over"
            raise ConfigError(msg) from None
        return data

    @contextmanager
    def changing(self) -> Iterator[dict[str, Any]]:
        """The state to change in place; written back when the block ends without an error."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.with_name(self.path.name + ".lock").open("a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = self.read()
            yield data
            write_atomic(self.path, orjson.dumps(data, option=orjson.OPT_INDENT_2))

    def changes(self, service: str, entity_set: str) -> dict[str, dict[str, Any]]:
        """Changed or created entities of one entity set: key text -> fields."""
        found: dict[str, dict[str, Any]] = self.read()["entities"].get(f"{service}/{entity_set}", {})
        return found
