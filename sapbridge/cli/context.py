"""What every command shares: settings, the store, the acting user, the run id, output mode."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from sapbridge.app import Bridge, Components, read_components
from sapbridge.cli.audit_anchor import anchor_after_command
from sapbridge.config import Settings, load_settings
from sapbridge.logs import configure_logging, console_level, new_run_id
from sapbridge.push.identity import os_login
from sapbridge.store import Store

__all__ = ["AppContext"]


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
    _components: Components | None = None
    _bridge: Bridge | None = None

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
        """The settings, every component section checked (read on first use)."""
        if self._settings is None:
            settings = load_settings(self.config_path, store_url=self.db_url)
            self._components = read_components(settings)
            self._settings = settings
        return self._settings

    @property
    def bridge(self) -> Bridge:
        """The application object over the opened, migrated store (opened on first use)."""
        if self._bridge is None:
            settings = self.settings
            self._bridge = Bridge.open(settings, actor=self.actor_override, run_id=self.run_id,
                                       components=self._components)
        return self._bridge

    @property
    def store(self) -> Store:
        """The Bridge's store."""
        return self.bridge.store

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
        if self._bridge is not None:
            anchor_after_command(self._bridge)
            self._bridge.close()
