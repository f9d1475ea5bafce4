"""What every command shares: settings, the store, the acting user, the run id, output mode."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from sapbridge.config import Settings, load_settings
from sapbridge.logs import configure_logging, new_run_id
from sapbridge.push.identity import os_login
from sapbridge.store import Store, open_store

__all__ = ["AppContext"]


@dataclass
class AppContext:
    """Lazily opened resources of one CLI invocation."""

    config_path: str | None = None
    db_url: str | None = None
    debug: bool = False
    log_json: bool = False
    actor_override: str | None = None
    run_id: str = field(default_factory=new_run_id)
    _settings: Settings | None = None
    _store: Store | None = None

    def __post_init__(self) -> None:
        unattended = not sys.stderr.isatty()
        configure_logging(json_lines=self.log_json or unattended,
                          level="DEBUG" if self.debug else "INFO", run_id=self.run_id)

    @property
    def settings(self) -> Settings:
        """The validated settings (read on first use)."""
        if self._settings is None:
            self._settings = load_settings(self.config_path, store_url=self.db_url)
        return self._settings

    @property
    def store(self) -> Store:
        """The opened, migrated store (opened on first use)."""
        if self._store is None:
            self._store = open_store(self.settings.store_url)
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
        """True on a terminal: progress bars and tables; False when scheduled."""
        return sys.stderr.isatty()

    def close(self) -> None:
        """Release the store's connections."""
        if self._store is not None:
            self._store.dispose()
