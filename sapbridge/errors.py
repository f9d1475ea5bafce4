"""One exception tree for everything sapbridge raises, grouped by what the caller should do.

::

    SapBridgeError                      every error we raise; the CLI prints str(exc) as one line
    ├── ConfigError                     sapbridge.toml, environment, unknown system or user
    ├── MappingError                    a mapping file in mappings/ is malformed or names unknown fields
    ├── InputError                      a user-supplied file is malformed (names file, row, problem)
    ├── StoreError                      the local store is unreachable or inconsistent
    ├── TransportError                  talking to SAP failed
    │   ├── RetriableError              connection errors, timeouts, 429, 5xx: worth another attempt
    │   │   └── SapUnavailableError     retries exhausted or RFC communication failure
    │   └── FatalError                  retrying will not help
    │       ├── SapAuthError            logon refused (401, RFC LogonError)
    │       ├── SapHttpError            other 4xx, SAP error payloads (OData)
    │       │   └── PreconditionFailedError   412: the entity changed since it was read (ETag)
    │       ├── SapBusinessError        BAPI RETURN rows of type E/A
    │       └── ProtocolError           malformed JSON, unexpected shape, replay fixture missing
    ├── ReconciliationError             a reconciliation cannot run on the given inputs
    ├── ControlError                    a SOX control refused an action (approval, authority, state)
    ├── AuditError                      the audit log is broken or cannot be written
    └── JobError                        a job definition or run failed

Every exception keeps its inputs as attributes so that callers and logs can use them without
parsing the message; messages never contain secrets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "AuditError",
    "ConfigError",
    "ControlError",
    "FatalError",
    "InputError",
    "JobError",
    "MappingError",
    "PreconditionFailedError",
    "ProtocolError",
    "ReconciliationError",
    "RetriableError",
    "SapAuthError",
    "SapBridgeError",
    "SapBusinessError",
    "SapHttpError",
    "SapUnavailableError",
    "StoreError",
    "TransportError",
]


class SapBridgeError(Exception):
    """Base of every error sapbridge raises on purpose."""

    def __init__(self, message: str, **attrs: Any) -> None:
        super().__init__(message)
        self.message = message
        self.attrs = attrs
        for key, value in attrs.items():
            setattr(self, key, value)

    def __str__(self) -> str:
        return self.message


class ConfigError(SapBridgeError):
    """The configuration is missing, malformed or names something unknown."""


class MappingError(SapBridgeError):
    """A declarative field mapping is malformed or does not fit the data."""


class InputError(SapBridgeError):
    """A file given by the user cannot be read; the message names file, row and problem."""

    def __init__(self, message: str, *, path: str | None = None, row: int | None = None) -> None:
        where = ""
        if path is not None:
            where = f"{path}" + (f", row {row}" if row is not None else "") + ": "
        super().__init__(f"{where}{message}", path=path, row=row)


class StoreError(SapBridgeError):
    """The local store cannot be opened, migrated or written."""


class TransportError(SapBridgeError):
    """Talking to SAP failed."""


class RetriableError(TransportError):
    """A transient failure (connection, timeout, 429, 5xx); the call may be tried again."""

    def __init__(self, message: str, *, retry_after: float | None = None, **attrs: Any) -> None:
        super().__init__(message, retry_after=retry_after, **attrs)


class SapUnavailableError(RetriableError):
    """SAP could not be reached, or stayed unavailable after the allowed attempts."""


class FatalError(TransportError):
    """A failure that another attempt will not fix."""


class SapAuthError(FatalError):
    """SAP refused the logon (wrong user or password, locked user, missing authorisation)."""


class SapHttpError(FatalError):
    """SAP answered an HTTP error, usually with an OData error payload."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        details: Sequence[str] = (),
        **attrs: Any,
    ) -> None:
        super().__init__(message, status=status, code=code, details=list(details), **attrs)


class PreconditionFailedError(SapHttpError):
    """HTTP 412: the entity changed since its ETag was read; the change is stale."""


class SapBusinessError(FatalError):
    """A BAPI answered with RETURN rows of type E or A."""

    def __init__(self, message: str, *, function: str, messages: Sequence[dict[str, Any]]) -> None:
        super().__init__(message, function=function, messages=list(messages))


class ProtocolError(FatalError):
    """The answer did not have the expected shape (malformed JSON, missing keys, no fixture)."""


class ReconciliationError(SapBridgeError):
    """A reconciliation cannot run on the given inputs."""


class ControlError(SapBridgeError):
    """A control refused an action: approval, authority, batch state, staleness."""


class AuditError(SapBridgeError):
    """The audit log cannot be written or does not verify."""


class JobError(SapBridgeError):
    """A job definition is invalid or a job run failed."""
