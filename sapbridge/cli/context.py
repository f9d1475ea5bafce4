"""What every command shares: settings, the store, the acting user, the run id, output mode."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from sapbridge.audit.auditlog import AuditLog
from sapbridge.cli.audit_anchor import anchor_after_command
from sapbridge.cli.config_check import check_sections
from sapbridge.config import Settings, load_settings
from sapbridge.errors import ConfigError
from sapbridge.logs import configure_logging, console_level, new_run_id, redact
from sapbridge.push.identity import os_login
from sapbridge.store import Store, open_store

__all__ = ["AppContext", "check_store_url"]


_POSTGRES_WITHOUT_DRIVER = ("postgres://", "postgresql://", "postgres+psycopg://")


def check_store_url(url: str) -> None:
    """Catch the usual store URL typos with what was typed and what was meant."""
    shown = redact(url)
    if "://" not in url:
        msg = f"store URL {shown!r} is not a URL; for a SQLite file write sqlite:///{url}"
        raise ConfigError(msg)
    for prefix in _POSTGRES_WITHOUT_DRIVER:
        if url.startswith(prefix):
            meant = "postgresql+psycopg://" + url[len(prefix):]
            msg = f"store URL {shown!r}: PostgreSQL needs the psycopg driver named: {redact(meant)}"
            raise ConfigError(msg)


@dataclass
class AppContext:
    """Lazily opened resources of one CLI invocation."""

    config_path: str | None = None
    db_url: str | None = None
    debug: bool = False
    log_json: bool = False
    verbose: bool = False
    quiet: bool = False
    log_file: Path | None = None
    actor_override: str | None = None
    run_id: str = field(default_factory=new_run_id)
    _settings: Settings | None = None
    _store: Store | None = None

    def __post_init__(self) -> None:
        self.configure_logs()

    def configure_logs(self) -> None:
        """(Re)configure logging from the output options; again when one comes after the command."""
        unattended = not sys.stderr.isatty()
        structured = self.log_json or unattended or self.log_file is not None
        level = ("DEBUG" if self.debug else "INFO") if structured and not self.quiet else \
            console_level(verbose=self.verbose, quiet=self.quiet, debug=self.debug)
        configure_logging(json_lines=self.log_json or unattended, level=level, run_id=self.run_id,
                          file=self.log_file)

    @property
    def settings(self) -> Settings:
        """The validated settings (read on first use)."""
        if self._settings is None:
            settings = load_settings(self.config_path, store_url=self.db_url)
            check_sections(settings)
            self._settings = settings
        return self._settings

    @property
    def store(self) -> Store:
        """The opened, migrated store (opened on first use)."""
        if self._store is None:
            url = self.settings.store_url
            check_store_url(url)
            self._store = open_store(url, audit=AuditLog.from_settings(self.settings))
        return self._store

    @property
    def actor(self) -> str:
        """Who is acting: ``--as USER`` if given, else the OS login of the real user id
        (never an environment variable; the push commands also check ``--as``)."""
        if self.actor_override:
            return self.actor_override
        return os_login()

    @property
    def interactive(self) -> bool:
        """True on a terminal (and not ``-q``): progress bars; False when scheduled."""
        return sys.stderr.isatty() and not self.quiet

    def close(self) -> None:
        """Anchor the audit head outside the store (when configured); release connections."""
        if self._store is not None:
            anchor_after_command(self._store)
            self._store.dispose()
