"""The I/O seam: one method per backend, so tests and replay can stand in for SAP.

``HttpConnection.request`` has the shape pyodata's ``Service`` expects of its connection (it calls
``request(method, url, headers=, params=, data=)`` and reads ``url``, ``headers``,
``status_code`` and ``content``); ``RfcConnection.call`` has the shape of
``pyrfc.Connection.call(function, **params)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = ["HttpConnection", "HttpResponse", "ResponseLike", "RfcConnection"]


@runtime_checkable
class ResponseLike(Protocol):
    """What callers read of an HTTP response."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def content(self) -> bytes: ...

    @property
    def url(self) -> str: ...


@dataclass(slots=True)
class HttpResponse:
    """A plain response, as replay and tests build them."""

    status_code: int
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    url: str = ""

    @property
    def text(self) -> str:
        """The body as text."""
        return self.content.decode("utf-8", errors="replace")


class HttpConnection(Protocol):
    """Sends one HTTP request; the live one is a ``requests.Session``, tests pass fakes."""

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        data: bytes | str | None = None,
        timeout: float | None = None,
    ) -> ResponseLike: ...


class RfcConnection(Protocol):
    """Calls one remote-enabled function module; the live one wraps ``pyrfc.Connection``."""

    def call(self, function: str, **params: Any) -> dict[str, Any]: ...

    def close(self) -> None: ...
