"""Structured logs: JSON lines with the run id when unattended, readable lines on a terminal.

On a terminal a person sees progress and a summary, not the log: only warnings and errors
(``-v`` shows info, ``-q`` errors only); ``--log-file`` keeps every line as JSON in a file.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import structlog

__all__ = ["configure_logging", "console_level", "get_logger", "new_run_id", "redact"]

_SECRET_KEYS = re.compile(r"pass(wd|word)?|secret|token|cookie|authorization|api[_-]?key", re.I)
_URL_CREDENTIALS = re.compile(r"(?<=://)([^:/@\s]+):([^@/\s]+)@")


def new_run_id() -> str:
    """A fresh run id (UUID4), bound to every log line of one command run."""
    return str(uuid.uuid4())


def redact(value: Any, key: str = "") -> Any:
    """Mask secrets: values under secret-looking keys, and user:password@ in URLs."""
    if key and _SECRET_KEYS.search(key):
        return "***"
    if isinstance(value, str):
        return _URL_CREDENTIALS.sub(r"\1:***@", value)
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def _redact_processor(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Any:
    return {k: redact(v, k) for k, v in event.items()}


class _CurrentStderr:
    """Whatever ``sys.stderr`` is at the time of writing (a test runner or a CLI may swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class _AppendingFile:
    """A log file opened for each line (safe across processes, nothing held open)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, text: str) -> int:
        with self.path.open("a", encoding="utf-8") as out:
            return out.write(text)

    def flush(self) -> None:
        """Every write is flushed on close."""


def console_level(*, verbose: bool, quiet: bool, debug: bool) -> str:
    """What a person at a terminal sees: warnings and errors; -v adds info, -q leaves errors only."""
    if debug:
        return "DEBUG"
    if quiet:
        return "ERROR"
    return "INFO" if verbose else "WARNING"


def configure_logging(*, json_lines: bool, level: str = "INFO", run_id: str | None = None,
                      file: Path | None = None) -> None:
    """Send logs to stderr as JSON lines (unattended, ``--log-json``) or console lines, or as JSON
    lines to ``file`` (``--log-file``)."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json_lines or file is not None
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    target: Any = _AppendingFile(file) if file is not None else _CurrentStderr()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=target),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.clear_contextvars()
    if run_id:
        structlog.contextvars.bind_contextvars(run_id=run_id)


def get_logger(name: str) -> Any:
    """A structlog logger carrying the module name.

    It stays lazy: each call uses the configuration current at that moment, so a logger created
    at import time still follows the CLI's later ``configure_logging`` (e.g. ``--log-json``).
    """
    return _NamedLogger(name)


class _NamedLogger:
    """Binds ``logger=<name>`` at each call, on the configuration current at that moment."""

    def __init__(self, name: str) -> None:
        self._name = name

    def bind(self, **values: Any) -> Any:
        return structlog.get_logger().bind(logger=self._name, **values)

    def __getattr__(self, method: str) -> Any:
        return getattr(structlog.get_logger().bind(logger=self._name), method)


if not structlog.is_configured():
    configure_logging(json_lines=not sys.stderr.isatty())
