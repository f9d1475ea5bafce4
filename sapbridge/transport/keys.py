"""How recordings are named and laid out on disk (shared by recording and replay).

HTTP: ``<root>/odata/<SERVICE>/<hash>.json`` (request, status, safe headers) beside
``<hash>.body`` (the exact bytes received, so large pages replay without re-serialising).
RFC: ``<root>/rfc/<FUNCTION>/<hash>.json`` (function, params, result). The hash is over a
canonical request key, so equal requests find the same recording.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import orjson

__all__ = [
    "SAFE_HEADERS",
    "VOLATILE_PARAMS",
    "http_fixture_path",
    "http_key",
    "read_http_fixture",
    "read_rfc_fixture",
    "rfc_fixture_path",
    "rfc_key",
    "write_atomic",
    "write_http_fixture",
    "write_rfc_fixture",
]

VOLATILE_PARAMS = frozenset({"sap-language", "sap-client"})
"""Query parameters that do not change the answer and stay out of the key."""

SAFE_HEADERS = frozenset({"content-type", "etag", "location", "sap-message", "retry-after",
                          "x-csrf-token", "dataserviceversion"})
"""Response headers kept in recordings; everything else (cookies above all) is dropped."""

REPLAYED_TOKEN = "replayed-token"  # noqa: S105 - a placeholder that replaces real tokens
_SECRET_WORDS = ("pass", "token", "secret", "cookie", "authorization")


def _query_items(url: str, params: Mapping[str, str] | None) -> list[tuple[str, str]]:
    items = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    items += [(str(k), str(v)) for k, v in (params or {}).items()]
    return sorted((k, v) for k, v in items if k not in VOLATILE_PARAMS)


def http_key(method: str, url: str, params: Mapping[str, str] | None = None) -> str:
    """``GET /path?sorted&query``: host, scheme and volatile parameters dropped."""
    path = unquote(urlsplit(url).path)
    query = urlencode(_query_items(url, params), quote_via=quote, safe="$',()/:*")
    return f"{method.upper()} {path}?{query}"


def _service_of(path: str) -> str:
    marker = "/sap/opu/odata/sap/"
    if marker in path:
        return path.split(marker, 1)[1].split("/", 1)[0] or "_root"
    return "_root"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:20]


def http_fixture_path(root: Path, method: str, url: str, params: Mapping[str, str] | None = None) -> Path:
    """Where the recording of an HTTP request lives."""
    key = http_key(method, url, params)
    return root / "odata" / _service_of(unquote(urlsplit(url).path)) / f"{_digest(key)}.json"


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file via a temporary name in the same folder and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        Path(name).replace(path)
    finally:
        Path(name).unlink(missing_ok=True)


def _safe_headers(headers: Mapping[str, str]) -> dict[str, str]:
    kept = {k.lower(): v for k, v in headers.items() if k.lower() in SAFE_HEADERS}
    if "x-csrf-token" in kept:
        kept["x-csrf-token"] = REPLAYED_TOKEN
    return kept


def write_http_fixture(root: Path, method: str, url: str, params: Mapping[str, str] | None,
                       status: int, headers: Mapping[str, str], body: bytes) -> Path:
    """Record one HTTP exchange (secrets stripped); returns the metadata file's path."""
    path = http_fixture_path(root, method, url, params)
    write_atomic(path.with_suffix(".body"), body)
    meta = {
        "request": {"method": method.upper(), "path": unquote(urlsplit(url).path),
                    "query": dict(_query_items(url, params))},
        "response": {"status": status, "headers": _safe_headers(headers),
                     "body_file": path.with_suffix(".body").name},
    }
    write_atomic(path, orjson.dumps(meta, option=orjson.OPT_INDENT_2))
    return path


def read_http_fixture(root: Path, method: str, url: str, params: Mapping[str, str] | None = None
                      ) -> tuple[int, dict[str, str], bytes] | None:
    """The recorded (status, headers, body) of a request, or None if it was never recorded."""
    path = http_fixture_path(root, method, url, params)
    try:
        meta = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    body = (path.parent / meta["response"]["body_file"]).read_bytes()
    return int(meta["response"]["status"]), dict(meta["response"]["headers"]), body


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def scrub(value: Any) -> Any:
    """Mask values under secret-looking names (PASSWD, token...) anywhere in a structure."""
    if isinstance(value, Mapping):
        return {k: "***" if any(w in str(k).lower() for w in _SECRET_WORDS) else scrub(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def rfc_key(function: str, params: Mapping[str, Any]) -> str:
    """``FUNCTION {canonical JSON of params}``: sorted keys, dates ISO, Decimals as text."""
    canonical = orjson.dumps(_plain(scrub(dict(params))), option=orjson.OPT_SORT_KEYS).decode()
    return f"{function} {canonical}"


def rfc_fixture_path(root: Path, function: str, params: Mapping[str, Any]) -> Path:
    """Where the recording of an RFC call lives."""
    return root / "rfc" / function.replace("/", "#") / f"{_digest(rfc_key(function, params))}.json"


def write_rfc_fixture(root: Path, function: str, params: Mapping[str, Any],
                      result: Mapping[str, Any]) -> Path:
    """Record one RFC call and its result, with secret-looking fields masked."""
    path = rfc_fixture_path(root, function, params)
    record = {"function": function, "params": _plain(scrub(dict(params))),
              "result": _plain(scrub(dict(result)))}
    write_atomic(path, orjson.dumps(record, option=orjson.OPT_INDENT_2))
    return path


def read_rfc_fixture(root: Path, function: str, params: Mapping[str, Any]) -> dict[str, Any] | None:
    """The recorded result of an RFC call, or None."""
    try:
        record = orjson.loads(rfc_fixture_path(root, function, params).read_bytes())
    except FileNotFoundError:
        return None
    result: dict[str, Any] = record["result"]
    return result
