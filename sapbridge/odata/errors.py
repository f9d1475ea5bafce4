"""Turning SAP Gateway answers into our exceptions (the singer-sdk ``validate_response`` rule).

429 and 5xx are retriable; 401 and 403 are logon/authorisation failures; 412 means the ETag is
stale; other 4xx are fatal. SAP's error payloads become one readable line with their code and
details. A 403 asking for a CSRF token is reported separately so the client can re-fetch once.
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import orjson

from sapbridge.errors import (
    PreconditionFailedError,
    ProtocolError,
    RetriableError,
    SapAuthError,
    SapHttpError,
)
from sapbridge.logs import get_logger
from sapbridge.transport.base import ResponseLike

__all__ = ["csrf_required", "parse_json", "raise_for_response", "retry_after", "sap_error_text"]

log = get_logger(__name__)


def _header(response: ResponseLike, name: str) -> str:
    for key, value in response.headers.items():
        if key.lower() == name:
            return str(value)
    return ""


def where(response: ResponseLike) -> str:
    """The request's host and path, without query (which may carry values) or credentials."""
    parts = urlsplit(response.url)
    host = parts.hostname or ""
    return f"{host}{parts.path}"


def csrf_required(response: ResponseLike) -> bool:
    """True when SAP refused a change for want of a (valid) CSRF token."""
    return response.status_code == 403 and _header(response, "x-csrf-token").lower() == "required"


def retry_after(response: ResponseLike) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or HTTP date), if any."""
    value = _header(response, "retry-after").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _xml_error(text: str) -> tuple[str, str, list[str]]:
    code = re.search(r"<(?:\w+:)?code>([^<]*)</", text)
    message = re.search(r"<(?:\w+:)?message[^>]*>([^<]*)</", text)
    return (code.group(1) if code else "", message.group(1) if message else "", [])


def sap_error_text(response: ResponseLike) -> tuple[str, str, list[str]]:
    """(code, message, details) from an OData V2 error body (JSON or XML), best effort."""
    body = response.content or b""
    try:
        payload: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        text = body.decode("utf-8", errors="replace")
        if "<" in text:
            return _xml_error(text)
        return "", text.strip()[:200], []
    error = payload.get("error", {}) if isinstance(payload, dict) else {}
    message = error.get("message", "")
    if isinstance(message, dict):
        message = message.get("value", "")
    inner = error.get("innererror", {}) or {}
    details = [str(d.get("message", "")) for d in inner.get("errordetails", []) or []
               if isinstance(d, dict) and d.get("message") and d.get("message") != message]
    return str(error.get("code", "")), str(message), details


def _describe(response: ResponseLike) -> tuple[str, str, list[str]]:
    code, message, details = sap_error_text(response)
    text = f"SAP {response.status_code}"
    text += f" {code}" if code else ""
    text += f": {message}" if message else ""
    if details:
        text += f" (details: {'; '.join(details[:3])})"
    return text + f" [{where(response)}]", code, details


def raise_for_response(response: ResponseLike, *, user: str = "") -> None:
    """Raise the matching exception for a non-2xx answer or an error ``sap-message``."""
    status = response.status_code
    if 200 <= status < 300:
        _check_sap_message(response)
        return
    text, code, details = _describe(response)
    if status == 401:
        who = f" for user {user}" if user else ""
        host = urlsplit(response.url).hostname
        msg = f"SAP logon refused (401){who} on {host}; check user and password_env"
        raise SapAuthError(msg, status=status)
    if status == 403 and csrf_required(response):
        msg = (f"{text}: SAP asked for a CSRF token (x-csrf-token: Required) on a request that "
               "carries none; on a read this is a gateway or proxy rule, not a missing authorisation")
        raise SapAuthError(msg, status=status)
    if status == 403:
        raise SapAuthError(f"{text} (missing authorisation?)", status=status)
    if status == 412:
        raise PreconditionFailedError(text, status=status, code=code, details=details)
    if status == 429 or status >= 500:
        raise RetriableError(text, retry_after=retry_after(response), status=status)
    raise SapHttpError(text, status=status, code=code, details=details)


def _check_sap_message(response: ResponseLike) -> None:
    raw = _header(response, "sap-message")
    if not raw:
        return
    try:
        message = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return
    severity = str(message.get("severity", "")).lower()
    text = str(message.get("message", ""))
    if severity == "error":
        raise SapHttpError(f"SAP error message: {text} [{where(response)}]", status=response.status_code,
                           code=str(message.get("code", "")))
    if text:
        log.warning("sap_message", severity=severity, message=text, where=where(response))


def parse_json(response: ResponseLike) -> Any:
    """The JSON body of a successful answer, or ProtocolError naming where it broke."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        msg = f"malformed JSON from SAP at {where(response)}: {exc}"
        raise ProtocolError(msg) from None
