"""Paging through an entity set: client windows of ``$top``/``$skip``, server ``__next`` inside.

The client asks for windows of ``page_size`` rows. A server whose own page limit is smaller
answers part of a window with a ``__next`` link, which is followed; when a window is complete and
full, the next window starts at ``$skip`` = rows read so far. A short window ends the read.
A pure state machine: :meth:`Pager.advance` takes a decoded page and says what to request next.

:func:`decode_raw_page` decodes a page for a sync: each entity stays its raw JSON bytes
(``msgspec.Raw``), so a sync can fingerprint a row before, or instead of, converting it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import msgspec

from sapbridge.errors import ProtocolError

__all__ = ["NextRequest", "Page", "Pager", "decode_raw_page", "rebase_next_link"]


class _RawCollection(msgspec.Struct):
    results: list[msgspec.Raw]
    count: str | int | None = msgspec.field(default=None, name="__count")
    next: str | None = msgspec.field(default=None, name="__next")


class _RawBody(msgspec.Struct):
    d: _RawCollection


_RAW_DECODER = msgspec.json.Decoder(_RawBody)


def decode_raw_page(content: bytes, fallback: Any) -> Any:
    """A collection body whose ``d.results`` are raw entity bytes; other shapes go to ``fallback``.

    ``fallback`` (the client's ordinary decoder) gets any body that is not a V2 collection, so
    the error it raises says what SAP sent (an error payload, malformed JSON).
    """
    try:
        body = _RAW_DECODER.decode(content)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return fallback()
    data: dict[str, Any] = {"results": body.d.results}
    if body.d.count is not None:
        data["__count"] = body.d.count
    if body.d.next:
        data["__next"] = body.d.next
    return {"d": data}


@dataclass(frozen=True, slots=True)
class Page:
    """One page of raw entities, with the server's total (``$inlinecount``) if asked."""

    rows: list[dict[str, Any]]
    total: int | None
    url: str


@dataclass(frozen=True, slots=True)
class NextRequest:
    """The URL path and query parameters of the next page request."""

    path: str
    params: dict[str, str]


def rebase_next_link(link: str) -> NextRequest:
    """A ``__next`` link reduced to its path and query, to be sent to the configured host.

    SAP behind a web dispatcher or proxy writes its own internal host into ``__next``; the
    client follows it on the host it was configured with.
    """
    parts = urlsplit(link)
    return NextRequest(path=parts.path, params=dict(parse_qsl(parts.query, keep_blank_values=True)))


@dataclass
class Pager:
    """Decides the next request from the page just read."""

    path: str
    params: dict[str, str]
    page_size: int
    fetched: int = 0
    window: int = 0
    total: int | None = None
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = field(default_factory=set)

    def first(self) -> NextRequest:
        """The first request: ``$top`` of a page, ``$skip`` 0."""
        params = {**self.params, "$top": str(self.page_size), "$skip": "0"}
        return self._remember(NextRequest(self.path, params))

    def advance(self, body: Mapping[str, Any]) -> tuple[Page, NextRequest | None]:
        """The page in ``body`` (``{"d": {...}}``) and the request after it, or None at the end."""
        data = body.get("d") if isinstance(body, Mapping) else None
        if isinstance(data, list):
            data = {"results": data}
        if not isinstance(data, Mapping) or not isinstance(data.get("results"), list):
            said = _sap_said(body)
            msg = (f"SAP answered {said} at {self.path}" if said else
                   f"unexpected OData collection shape at {self.path} (no d.results)")
            raise ProtocolError(msg)
        rows = data["results"]
        if "__count" in data:
            self.total = int(str(data["__count"]))
        self.fetched += len(rows)
        self.window += len(rows)
        page = Page(rows=rows, total=self.total, url=self.path)
        link = data.get("__next")
        if link:
            return page, self._remember(rebase_next_link(str(link)))
        if self.window < self.page_size or (self.total is not None and self.fetched >= self.total):
            return page, None
        self.window = 0
        params = {**self.params, "$top": str(self.page_size), "$skip": str(self.fetched)}
        return page, self._remember(NextRequest(self.path, params))

    def _remember(self, request: NextRequest) -> NextRequest:
        key = (request.path, tuple(sorted(request.params.items())))
        if key in self.seen:
            msg = f"Loop detected in pagination at {request.path}: the same page was requested twice"
            raise ProtocolError(msg)
        self.seen.add(key)
        return request


def _sap_said(body: Any) -> str:
    """SAP's own error text from an ``{"error": ...}`` body sent with a success status, if any."""
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        return ""
    message = error.get("message", "")
    if isinstance(message, Mapping):
        message = message.get("value", "")
    code = str(error.get("code", ""))
    return f"an error instead of rows: {code + ': ' if code else ''}{message}".strip()
