"""Replay transports: serve recorded SAP answers, so tests and the demo need no SAP."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sapbridge.errors import ProtocolError
from sapbridge.transport.base import HttpResponse
from sapbridge.transport.keys import REPLAYED_TOKEN, http_key, read_http_fixture, read_rfc_fixture

__all__ = ["ReplayHttpConnection", "ReplayRfcConnection"]


def _where(root: Path) -> str:
    try:
        return str(root.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(root)


class ReplayHttpConnection:
    """An HttpConnection answering from ``<root>/odata``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            msg = f"no recordings at {_where(self.root)} (record them with --record)"
            raise ProtocolError(msg)

    def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                params: Mapping[str, str] | None = None, data: bytes | str | None = None,
                timeout: float | None = None) -> HttpResponse:
        recorded = read_http_fixture(self.root, method, url, params)
        if recorded is None:
            if {k.lower(): v for k, v in (headers or {}).items()}.get("x-csrf-token", "").lower() == "fetch":
                return HttpResponse(200, b"", {"x-csrf-token": REPLAYED_TOKEN}, url)
            key = http_key(method, url, params)
            msg = f"no recording for {key} in {_where(self.root)}; re-record with --record"
            raise ProtocolError(msg)
        status, recorded_headers, body = recorded
        return HttpResponse(status, body, recorded_headers, url)


class ReplayRfcConnection:
    """An RfcConnection answering from ``<root>/rfc``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def call(self, function: str, **params: Any) -> dict[str, Any]:
        result = read_rfc_fixture(self.root, function, params)
        if result is None:
            msg = f"no recording for RFC {function} with these parameters in {_where(self.root)}"
            raise ProtocolError(msg)
        return result

    def close(self) -> None:
        """Nothing to release."""
