"""Settings from ``sapbridge.toml`` (path from ``--config`` or ``SAPBRIDGE_CONFIG``).

Passwords never sit in the file: a system names the environment variable that holds its password
(``password_env``). Sections owned by other components (``[push]``, ``[users]``, ``[reconcile]``,
``[kpi]``...) are kept as plain dicts and validated by the component that reads them.

Example::

    [store]
    url = "sqlite:///sapbridge.db"

    [defaults]
    system = "PRD"

    [systems.PRD]
    odata_url = "https://s4.example.com"
    client = "100"
    user = "OTC_BATCH"
    password_env = "SAPBRIDGE_PRD_PASSWORD"
    verify_tls = true
    timeout = 60
    page_size = 5000

    [systems.PRD.rfc]
    ashost = "s4app1.example.com"
    sysnr = "00"
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sapbridge.errors import ConfigError

__all__ = [
    "DEMO_SYSTEM",
    "Settings",
    "SystemConfig",
    "demo_state_path",
    "load_settings",
    "project_root",
]

DEMO_SYSTEM = "demo"
"""The built-in system that replays the committed ``fixtures/``."""

_SYSTEM_KEYS = {
    "kind", "odata_url", "client", "user", "password_env", "verify_tls", "timeout",
    "connect_timeout", "page_size", "language", "max_attempts", "rfc", "services", "routes",
    "fixtures", "description", "company_codes", "key_date", "sap_state",
}
_URL_SECRETS = {"sap-password", "sap-user", "password", "passwd", "pwd", "token", "apikey", "api_key"}
"""Query parameters that would put a logon in a system URL (SAP accepts ``sap-password``)."""
_RFC_KEYS = {"ashost", "sysnr", "client", "mshost", "msserv", "sysid", "group", "saprouter", "lang"}


def project_root() -> Path:
    """The checkout that holds ``mappings/``, ``fixtures/`` and ``jobs/``.

    ``SAPBRIDGE_HOME`` wins; otherwise the folder above the installed package (an editable
    install or a checkout), falling back to the working directory.
    """
    home = os.environ.get("SAPBRIDGE_HOME")
    if home:
        return Path(home)
    candidate = Path(__file__).resolve().parents[1]
    if (candidate / "mappings").is_dir():
        return candidate
    return Path.cwd()


@dataclass(frozen=True, slots=True)
class SystemConfig:
    """One SAP system (DEV, QAS, PRD) or the replaying demo system."""

    name: str
    kind: str = "sap"
    odata_url: str = ""
    client: str = ""
    user: str = ""
    password_env: str = ""
    verify_tls: bool | str = True
    timeout: float = 60.0
    connect_timeout: float = 10.0
    page_size: int = 5000
    language: str = "EN"
    max_attempts: int = 5
    rfc: dict[str, str] = field(default_factory=dict)
    services: dict[str, str] = field(default_factory=dict)
    routes: dict[str, str] = field(default_factory=dict)
    fixtures: str = ""
    description: str = ""
    company_codes: tuple[str, ...] = ()
    key_date: str = ""
    sap_state: str = ""
    """A replay system with a state file is a simulated SAP: it answers any read of its recorded
    data and keeps changes (credit limits, postings) in this file between commands."""

    @property
    def is_replay(self) -> bool:
        """True when the system replays recorded fixtures instead of calling SAP."""
        return self.kind == "replay"

    def password(self) -> str:
        """The password from the environment variable the config names."""
        if not self.password_env:
            msg = f"system {self.name}: no password_env configured"
            raise ConfigError(msg)
        value = os.environ.get(self.password_env)
        if not value:
            msg = f"system {self.name}: environment variable {self.password_env} is not set"
            raise ConfigError(msg)
        return value

    def rfc_key_date(self) -> date | None:
        """The key date for RFC reads: fixed for a replay system (so recordings match), else today."""
        return date.fromisoformat(self.key_date) if self.key_date else None

    def business_date(self) -> date:
        """The day the system's data stands for: a replay system's key date, else today (UTC)."""
        return self.rfc_key_date() or datetime.now(UTC).date()

    def service_path(self, service: str) -> str:
        """URL path of an OData service, ``/sap/opu/odata/sap/<SERVICE>`` unless overridden."""
        return self.services.get(service, f"/sap/opu/odata/sap/{service}")

    def fixtures_dir(self) -> Path:
        """Where a replay system reads (and ``--record`` writes) its fixtures."""
        if self.fixtures:
            path = Path(self.fixtures)
            return path if path.is_absolute() else project_root() / path
        return project_root() / "fixtures" / self.name


def demo_state_path(store_url: str) -> Path:
    """Where the demo's simulated SAP keeps its state: beside a SQLite store file, else in the cwd."""
    prefix = "sqlite:///"
    if store_url.startswith(prefix) and store_url[len(prefix):] not in ("", ":memory:"):
        store_file = Path(store_url[len(prefix):].split("?", 1)[0])
        return store_file.with_name(store_file.name + ".demo-sap.json")
    return Path("sapbridge-demo-sap.json")


def _demo_system(store_url: str) -> SystemConfig:
    return SystemConfig(
        name=DEMO_SYSTEM,
        kind="replay",
        odata_url="https://demo.sapbridge.invalid",
        client="100",
        user="DEMO",
        page_size=1000,
        company_codes=("1000", "2000", "3000"),
        key_date="2026-11-20",
        description="built-in demo: a simulated SAP over fixtures/demo (no SAP needed)",
        sap_state=str(demo_state_path(store_url)),
    )


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything read from the config file, validated once."""

    path: Path | None
    store_url: str
    default_system: str
    systems: dict[str, SystemConfig]
    mappings_dir: Path
    sections: dict[str, Any] = field(default_factory=dict)

    def system(self, name: str | None = None) -> SystemConfig:
        """A configured system by name (default: ``[defaults] system``, else ``demo``)."""
        wanted = name or self.default_system
        try:
            return self.systems[wanted]
        except KeyError:
            known = ", ".join(sorted(self.systems))
            msg = f"unknown system {wanted!r} (configured: {known})"
            raise ConfigError(msg) from None

    def section(self, name: str) -> dict[str, Any]:
        """A raw config section owned by another component (empty when absent)."""
        value = self.sections.get(name, {})
        if not isinstance(value, dict):
            msg = f"config section [{name}] must be a table"
            raise ConfigError(msg)
        return value


def _check_system_url(url: str, where: str) -> str:
    """``url`` without a trailing slash, if it is a plain http(s) URL without a logon in it.

    The message never repeats the URL, so a password typed into it is not echoed.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        msg = f"{where}: odata_url is not a valid URL"
        raise ConfigError(msg) from None
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        msg = (f"{where}: odata_url must not hold a user or password ('user:password@'); "
               "set user and password_env instead")
        raise ConfigError(msg)
    secrets = sorted({key for key, _ in parse_qsl(parts.query)} & _URL_SECRETS)
    if secrets:
        msg = f"{where}: odata_url must not hold {', '.join(secrets)}; set user and password_env instead"
        raise ConfigError(msg)
    if parts.scheme not in {"http", "https"} or not parts.hostname or port == 0:
        msg = f"{where}: odata_url must be http(s)://host[:port], e.g. https://s4.example.com"
        raise ConfigError(msg)
    return url.rstrip("/")


def _parse_system(name: str, raw: Any, where: str) -> SystemConfig:
    if not isinstance(raw, dict):
        msg = f"{where}: [systems.{name}] must be a table"
        raise ConfigError(msg)
    unknown = set(raw) - _SYSTEM_KEYS
    if unknown:
        msg = f"{where}: [systems.{name}] has unknown keys: {', '.join(sorted(unknown))}"
        raise ConfigError(msg)
    if "password" in raw:
        msg = f"{where}: [systems.{name}] must not hold a password; use password_env"
        raise ConfigError(msg)
    rfc = raw.get("rfc", {})
    bad_rfc = set(rfc) - _RFC_KEYS - {"user", "passwd"}
    if "passwd" in rfc:
        msg = f"{where}: [systems.{name}.rfc] must not hold a password; use password_env"
        raise ConfigError(msg)
    if bad_rfc:
        msg = f"{where}: [systems.{name}.rfc] has unknown keys: {', '.join(sorted(bad_rfc))}"
        raise ConfigError(msg)
    kind = raw.get("kind", "sap")
    if kind not in {"sap", "replay"}:
        msg = f"{where}: [systems.{name}] kind must be 'sap' or 'replay', not {kind!r}"
        raise ConfigError(msg)
    if kind == "sap" and not raw.get("odata_url") and not rfc:
        msg = f"{where}: [systems.{name}] needs odata_url or an [rfc] table"
        raise ConfigError(msg)
    odata_url = str(raw.get("odata_url", ""))
    if odata_url:
        odata_url = _check_system_url(odata_url, f"{where}: [systems.{name}]")
    try:
        return SystemConfig(
            name=name,
            kind=kind,
            odata_url=odata_url,
            client=str(raw.get("client", rfc.get("client", ""))),
            user=str(raw.get("user", "")),
            password_env=str(raw.get("password_env", "")),
            verify_tls=raw.get("verify_tls", True),
            timeout=float(raw.get("timeout", 60)),
            connect_timeout=float(raw.get("connect_timeout", 10)),
            page_size=int(raw.get("page_size", 5000)),
            language=str(raw.get("language", "EN")),
            max_attempts=int(raw.get("max_attempts", 5)),
            rfc={k: str(v) for k, v in rfc.items()},
            services=dict(raw.get("services", {})),
            routes=dict(raw.get("routes", {})),
            fixtures=str(raw.get("fixtures", "")),
            description=str(raw.get("description", "")),
            company_codes=tuple(str(c) for c in raw.get("company_codes", ())),
            key_date=str(raw.get("key_date", "")),
            sap_state=str(raw.get("sap_state", "")),
        )
    except (TypeError, ValueError) as exc:
        msg = f"{where}: [systems.{name}]: {exc}"
        raise ConfigError(msg) from exc


def load_settings(path: str | Path | None = None, *, store_url: str | None = None) -> Settings:
    """Read the config file (``--config``, ``SAPBRIDGE_CONFIG``, ``./sapbridge.toml``, or none).

    Without a file, the settings hold only the built-in ``demo`` system and the SQLite default.
    ``store_url`` (``--db``) and ``SAPBRIDGE_DB`` override the file's ``[store] url``.
    """
    chosen = path or os.environ.get("SAPBRIDGE_CONFIG")
    if chosen is None and Path("sapbridge.toml").is_file():
        chosen = "sapbridge.toml"
    raw: dict[str, Any] = {}
    config_path: Path | None = None
    if chosen is not None:
        config_path = Path(chosen)
        try:
            raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            msg = f"config file not found: {config_path}"
            raise ConfigError(msg) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            msg = f"{config_path}: not valid TOML: {exc}"
            raise ConfigError(msg) from exc
    where = str(config_path) if config_path else "config"
    store = raw.get("store", {})
    url = store_url or os.environ.get("SAPBRIDGE_DB") or store.get("url") or "sqlite:///sapbridge.db"
    systems = {DEMO_SYSTEM: _demo_system(str(url))}
    for name, body in raw.get("systems", {}).items():
        systems[name] = _parse_system(name, body, where)
    defaults = raw.get("defaults", {})
    default_system = str(defaults.get("system", DEMO_SYSTEM))
    if default_system not in systems:
        msg = f"{where}: [defaults] system {default_system!r} is not configured"
        raise ConfigError(msg)
    mappings = defaults.get("mappings")
    mappings_dir = Path(mappings) if mappings else project_root() / "mappings"
    sections = {k: v for k, v in raw.items() if k not in {"systems", "store", "defaults"}}
    return Settings(
        path=config_path,
        store_url=str(url),
        default_system=default_system,
        systems=systems,
        mappings_dir=mappings_dir,
        sections=sections,
    )
