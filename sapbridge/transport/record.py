"""Recording transports: pass calls through to SAP and keep the answers as fixtures.

Credentials, cookies, Authorization and CSRF tokens never reach the files: only safe response
headers are kept, the token is replaced by a constant, and fields named like passwords or tokens
are masked in RFC parameters and results.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sapbridge.transport.base import HttpConnection, ResponseLike, RfcConnection
from sapbridge.transport.keys import write_http_fixture, write_rfc_fixture

__all__ = ["RecordingHttpConnection", "RecordingRfcConnection"]


class RecordingHttpConnection:
    """Wraps a live HttpConnection and records every exchange under ``root``."""

    def __init__(self, inner: HttpConnection, root: Path) -> None:
        self.inner = inner
        self.root = Path(root)

    def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                params: Mapping[str, str] | None = None, data: bytes | str | None = None,
                timeout: float | None = None) -> ResponseLike:
        response = self.inner.request(method, url, headers=headers, params=params, data=data,
                                      timeout=timeout)
        write_http_fixture(self.root, method, url, params, response.status_code,
                           dict(response.headers), response.content)
        return response


class RecordingRfcConnection:
    """Wraps a live RfcConnection and records every call under ``root``."""

    def __init__(self, inner: RfcConnection, root: Path) -> None:
        self.inner = inner
        self.root = Path(root)

    def call(self, function: str, **params: Any) -> dict[str, Any]:
        result = self.inner.call(function, **params)
        write_rfc_fixture(self.root, function, params, result)
        return result

    def close(self) -> None:
        """Close the wrapped connection."""
        self.inner.close()
