"""Settings from ``sapbridge.toml`` (path from ``--config`` or ``SAPBRIDGE_CONFIG``).

Passwords never sit in the file: a system names the environment variable that holds its password
(``password_env``). Sections owned by other components (``[push]``, ``[users]``, ``[reconcile]``,
``[kpi]``...) are kept as plain dicts and validated by the component that reads them; a section
no component reads, and an unknown key in the sections read here, is refused with a did-you-mean.

Paths in the file (mappings, fixtures, sap_state, a CA bundle in verify_tls, and the paths of the
other sections) are relative to the folder of the config file, not the working directory.

Example::

    [store]
    url = "sqlite:///sapbridge.db"

    [defaults]
    system = "PRD"
    mappings = ["site-mappings"]          # searched first, then the packaged mappings/

    [systems.PRD]
    odata_url = "https://s4.example.com"
    client = "100"
    user = "OTC_BATCH"
    password_env = "SAPBRIDGE_PRD_PASSWORD"
    verify_tls = true
    timeout = 60
    page_size = 5000
    mappings = ["prd-mappings"]           # this system's overrides, before [defaults] mappings
    disabled_datasets = ["disputes"]      # no dispute management here: sync all skips it

    [systems.PRD.rfc]
    ashost = "s4app1.example.com"
    sysnr = "00"
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sapbridge.errors import ConfigError

__all__ = [
    "DEMO_SYSTEM",
    "SECTIONS",
    "Settings",
    "SystemConfig",
    "demo_state_path",
    "load_settings",
    "packaged_mappings_dir",
    "project_root",
    "refuse_unknown",
    "resolve_path",
    "unknown_keys",
]

DEMO_SYSTEM = "demo"
"""The built-in system that replays the committed ``fixtures/``."""

_SYSTEM_KEYS = {
    "kind", "odata_url", "client", "user", "password_env", "verify_tls", "timeout",
    "connect_timeout", "page_size", "language", "max_attempts", "rfc", "services", "routes",
    "fixtures", "description", "company_codes", "key_date", "sap_state", "mappings",
    "disabled_datasets",
}
_DEFAULTS_KEYS = {"system", "mappings"}
_STORE_KEYS = {"url"}
SECTIONS = (
    "store", "defaults", "systems", "users", "authority", "push", "audit", "cash", "recoveries",
    "kpi", "jobs", "airflow",
)
"""The top-level sections of ``sapbridge.toml``; any other is refused (a typo would be ignored)."""
_URL_SECRETS = {"sap-password", "sap-user", "password", "passwd", "pwd", "token", "apikey", "api_key"}
"""Query parameters that would put a logon in a system URL (SAP accepts ``sap-password``)."""
_RFC_KEYS = {"ashost", "sysnr", "client", "mshost", "msserv", "sysid", "group", "saprouter", "lang"}


def unknown_keys(given: Collection[str], known: Collection[str], where: str) -> ConfigError | None:
    """The error for keys in ``given`` that are not ``known``, with a did-you-mean; None if all known."""
    unknown = sorted(set(given) - set(known))
    if not unknown:
        return None
    hints = []
    for key in unknown:
        close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
        hints.append(f"{key} (did you mean {close[0]}?)" if close else key)
    return ConfigError(f"{where} has unknown key(s): {', '.join(hints)}")


def refuse_unknown(given: Collection[str], known: Collection[str], where: str) -> None:
    """Raise :func:`unknown_keys`'s error, if any: one line naming the section and each key."""
    error = unknown_keys(given, known, where)
    if error is not None:
        raise error


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
    mapping_dirs: tuple[Path, ...] = ()
    """Site mapping folders searched first for this system's datasets."""
    disabled_datasets: frozenset[str] = frozenset()
    """Datasets this system does not have (no credit management, no disputes): never read."""

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
            path = Path(self.fixtures)  # the config file's loader made it absolute
            return path if path.is_absolute() else project_root() / path
        return project_root() / "fixtures" / self.name


def resolve_path(path: str | Path, base: Path) -> Path:
    """``path`` with ``~`` expanded; a relative path is taken from ``base``."""
    expanded = Path(path).expanduser()
    return expanded if expanded.is_absolute() else base / expanded


def packaged_mappings_dir() -> Path:
    """The mappings shipped with sapbridge (the last folder of every mapping search path)."""
    return project_root() / "mappings"


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
    mapping_dirs: tuple[Path, ...] = ()
    """Site mapping folders (``[defaults] mappings``) searched before the packaged ones."""
    sections: dict[str, Any] = field(default_factory=dict)

    @property
    def base_dir(self) -> Path:
        """The folder relative paths in the config are read from: the config file's folder."""
        return self.path.parent if self.path else Path.cwd()

    def resolve(self, path: str | Path) -> Path:
        """A path from the config: ``~`` expanded, relative to the config file's folder."""
        return resolve_path(path, self.base_dir)

    def mapping_search_path(self, system: str | None = None) -> tuple[Path, ...]:
        """Where a system's dataset mappings are looked for, first match wins: the system's own
        folders, then ``[defaults] mappings``, then the packaged ``mappings/``."""
        return (*self.system(system).mapping_dirs, *self.mapping_dirs, packaged_mappings_dir())

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


def _path_list(raw: Any, base: Path, where: str) -> tuple[Path, ...]:
    """``"dir"`` or ``["dir", ...]`` as paths relative to ``base``."""
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
        msg = f"{where} must be a folder or a list of folders"
        raise ConfigError(msg)
    return tuple(resolve_path(i, base) for i in items)


def _names(raw: Any, where: str) -> frozenset[str]:
    if not isinstance(raw, list) or not all(isinstance(i, str) for i in raw):
        msg = f"{where} must be a list of dataset names"
        raise ConfigError(msg)
    return frozenset(raw)


def _verify_tls(raw: Any, base: Path) -> bool | str:
    """``true``/``false``, or the path of a CA bundle (relative to the config file)."""
    return str(resolve_path(raw, base)) if isinstance(raw, str) else raw


def _optional_path(raw: Any, base: Path) -> str:
    return str(resolve_path(str(raw), base)) if raw else ""


def _parse_system(name: str, raw: Any, where: str, base: Path) -> SystemConfig:
    if not isinstance(raw, dict):
        msg = f"{where}: [systems.{name}] must be a table"
        raise ConfigError(msg)
    refuse_unknown(raw, _SYSTEM_KEYS, f"{where}: [systems.{name}]")
    if "password" in raw:
        msg = f"{where}: [systems.{name}] must not hold a password; use password_env"
        raise ConfigError(msg)
    rfc = raw.get("rfc", {})
    bad_rfc = set(rfc) - _RFC_KEYS - {"user", "passwd"}
    if "passwd" in rfc:
        msg = f"{where}: [systems.{name}.rfc] must not hold a password; use password_env"
        raise ConfigError(msg)
    if bad_rfc:
        refuse_unknown(rfc, _RFC_KEYS | {"user"}, f"{where}: [systems.{name}.rfc]")
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
            verify_tls=_verify_tls(raw.get("verify_tls", True), base),
            timeout=float(raw.get("timeout", 60)),
            connect_timeout=float(raw.get("connect_timeout", 10)),
            page_size=int(raw.get("page_size", 5000)),
            language=str(raw.get("language", "EN")),
            max_attempts=int(raw.get("max_attempts", 5)),
            rfc={k: str(v) for k, v in rfc.items()},
            services=dict(raw.get("services", {})),
            routes=dict(raw.get("routes", {})),
            fixtures=_optional_path(raw.get("fixtures"), base),
            description=str(raw.get("description", "")),
            company_codes=tuple(str(c) for c in raw.get("company_codes", ())),
            key_date=str(raw.get("key_date", "")),
            sap_state=_optional_path(raw.get("sap_state"), base),
            mapping_dirs=_path_list(raw.get("mappings", []), base, f"{where}: [systems.{name}] mappings"),
            disabled_datasets=_names(raw.get("disabled_datasets", []),
                                     f"{where}: [systems.{name}] disabled_datasets"),
        )
    except (TypeError, ValueError) as exc:
        msg = f"{where}: [systems.{name}]: {exc}"
        raise ConfigError(msg) from exc


def _table(raw: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        msg = f"{where}: [{name}] must be a table"
        raise ConfigError(msg)
    return value


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
    base = config_path.parent if config_path else Path.cwd()
    refuse_unknown(raw, SECTIONS, f"{where}: the file")
    store = _table(raw, "store", where)
    refuse_unknown(store, _STORE_KEYS, f"{where}: [store]")
    url = store_url or os.environ.get("SAPBRIDGE_DB") or store.get("url") or "sqlite:///sapbridge.db"
    systems = {DEMO_SYSTEM: _demo_system(str(url))}
    for name, body in _table(raw, "systems", where).items():
        systems[name] = _parse_system(name, body, where, base)
    defaults = _table(raw, "defaults", where)
    refuse_unknown(defaults, _DEFAULTS_KEYS, f"{where}: [defaults]")
    default_system = str(defaults.get("system", DEMO_SYSTEM))
    if default_system not in systems:
        msg = f"{where}: [defaults] system {default_system!r} is not configured"
        raise ConfigError(msg)
    mapping_dirs = _path_list(defaults.get("mappings", []), base, f"{where}: [defaults] mappings")
    sections = {k: v for k, v in raw.items() if k not in {"systems", "store", "defaults"}}
    return Settings(
        path=config_path,
        store_url=str(url),
        default_system=default_system,
        systems=systems,
        mapping_dirs=mapping_dirs,
        sections=sections,
    )
