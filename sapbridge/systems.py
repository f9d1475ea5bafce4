"""What ``sapbridge systems list`` and ``systems test`` report: the configured systems and whether
each answers, step by step, so an admin sees exactly which layer fails.

A live system is checked in the order a request travels: configuration (URL, password variable),
DNS, TCP, TLS, then a logon that reads each mapped OData service's ``$metadata``, and an RFC ping
when RFC parameters are configured. A replay system is checked for its recordings instead. Each
check stops the ones that depend on it (no TCP check after DNS failed).
"""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Callable, Generator, Iterable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from sapbridge.config import Settings, SystemConfig
from sapbridge.errors import ConfigError, SapAuthError, SapBridgeError, SapHttpError
from sapbridge.mapping import ODataRoute, RfcRoute, mappings_for

__all__ = ["Check", "Probe", "SystemInfo", "check_system", "describe_systems"]

OK, FAILED, SKIPPED = "ok", "failed", "skipped"


@dataclass(frozen=True, slots=True)
class Check:
    """One step of a system test: ``status`` is ok, failed or skipped."""

    name: str
    status: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        """The check as plain data, for ``--json``."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class SystemInfo:
    """One row of ``systems list``; never holds a password, only the variable's name."""

    name: str
    kind: str
    odata_url: str
    client: str
    user: str
    rfc: str
    password_env: str
    password_set: bool
    description: str

    def as_dict(self) -> dict[str, Any]:
        """The row as plain data, for ``--json``."""
        return asdict(self)


def _rfc_target(system: SystemConfig) -> str:
    rfc = system.rfc
    if rfc.get("mshost"):
        return f"{rfc['mshost']} group {rfc.get('group', 'PUBLIC')}"
    if rfc.get("ashost"):
        return f"{rfc['ashost']} sysnr {rfc.get('sysnr', '00')}"
    return ""


def describe_systems(settings: Settings) -> list[SystemInfo]:
    """Every configured system (the built-in demo included), by name."""
    return [
        SystemInfo(name=s.name, kind=s.kind, odata_url=s.odata_url, client=s.client, user=s.user,
                   rfc=_rfc_target(s), password_env=s.password_env,
                   password_set=bool(s.password_env and os.environ.get(s.password_env)),
                   description=s.description)
        for s in sorted(settings.systems.values(), key=lambda s: s.name)
    ]


@dataclass
class Probe:
    """The network seams of a system test (tests replace them; defaults use the real network)."""

    resolve: Callable[[str, int], list[Any]] = socket.getaddrinfo
    connect: Callable[[tuple[str, int], float], socket.socket] = socket.create_connection
    open_odata: Callable[[SystemConfig], Any] | None = None
    open_rfc: Callable[[SystemConfig], Any] | None = None


def _routes(settings: Settings, system: SystemConfig) -> tuple[list[str], list[str]]:
    """The OData services and RFC functions the mappings would use on this system."""
    services: list[str] = []
    functions: list[str] = []
    for mapping in mappings_for(settings, system.name).values():
        for route in (mapping.odata, mapping.rfc):
            if isinstance(route, ODataRoute) and route.service not in services:
                services.append(route.service)
            if isinstance(route, RfcRoute):
                name = route.function or "RFC_READ_TABLE"
                if name not in functions:
                    functions.append(name)
    return services, functions


def check_system(settings: Settings, name: str, probe: Probe | None = None) -> list[Check]:
    """Check one system step by step; the list ends at the first failure a later step needs."""
    system = settings.system(name)
    probe = probe or Probe()
    services, functions = _routes(settings, system)
    if system.is_replay:
        return list(_replay_checks(system, services, functions, probe))
    return list(_live_checks(system, services, probe))


def _replay_checks(system: SystemConfig, services: list[str], functions: list[str],
                   probe: Probe) -> Iterable[Check]:
    root = system.fixtures_dir()
    if not root.is_dir():
        yield Check("fixtures", FAILED, f"no recordings at {root}; record them with --record")
        return
    recorded = sum(1 for _ in root.rglob("*.json"))
    yield Check("fixtures", OK, f"{recorded} recorded responses in {root}")
    yield from _metadata_checks(system, services, probe)
    rfc_dir = root / "rfc"
    for function in functions:
        if (rfc_dir / function).is_dir():
            yield Check(f"rfc {function}", OK, "recorded calls present")
        else:
            yield Check(f"rfc {function}", SKIPPED, "no recorded calls (OData route only)")


def _live_checks(system: SystemConfig, services: list[str], probe: Probe) -> Iterable[Check]:
    parts = urlsplit(system.odata_url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        yield Check("config", FAILED, f"odata_url {system.odata_url!r} is not an http(s) URL")
        return
    try:
        system.password()
    except ConfigError as exc:
        yield Check("config", FAILED, str(exc))
        return
    yield Check("config", OK, f"user {system.user}, client {system.client or '(default)'}, "
                              f"password from {system.password_env}")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if not (yield from _network_checks(system, host, port, parts.scheme == "https", probe)):
        return
    yield from _metadata_checks(system, services, probe)
    if system.rfc:
        yield _rfc_ping(system, probe)


def _network_checks(system: SystemConfig, host: str, port: int, tls: bool,
                    probe: Probe) -> Generator[Check, None, bool]:
    """DNS, TCP and TLS checks; returns whether a request can get through."""
    try:
        addresses = probe.resolve(host, port)
    except OSError as exc:
        yield Check("dns", FAILED, f"cannot resolve {host}: {exc}")
        return False
    yield Check("dns", OK, f"{host} -> {addresses[0][4][0]}")
    try:
        sock = probe.connect((host, port), system.connect_timeout)
    except TimeoutError:
        yield Check("tcp", FAILED, f"no answer from {host}:{port} within {system.connect_timeout:g}s "
                                   "(firewall or wrong port?)")
        return False
    except OSError as exc:
        yield Check("tcp", FAILED, f"cannot connect to {host}:{port}: {exc.strerror or exc}")
        return False
    with sock:
        yield Check("tcp", OK, f"{host}:{port} accepts connections")
        if not tls:
            yield Check("tls", SKIPPED, "plain http: credentials would travel unencrypted")
            return True
        check = _tls_check(sock, host, system.verify_tls)
    yield check
    return check.status == OK


def _tls_check(sock: socket.socket, host: str, verify: bool | str) -> Check:
    context = ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
    if verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        with context.wrap_socket(sock, server_hostname=host) as wrapped:
            version = wrapped.version()
    except ssl.SSLCertVerificationError as exc:
        return Check("tls", FAILED, f"certificate of {host} not trusted: {exc.verify_message}; "
                                    "set verify_tls to the CA bundle path")
    except (ssl.SSLError, OSError) as exc:
        return Check("tls", FAILED, f"TLS handshake with {host} failed: {exc}")
    note = " (verification off)" if verify is False else ""
    return Check("tls", OK, f"{version}{note}")


def _metadata_checks(system: SystemConfig, services: list[str], probe: Probe) -> Iterable[Check]:
    from sapbridge.connect import open_odata

    opener = probe.open_odata or open_odata
    client = opener(system)
    for service in services:
        try:
            model = client.model(service)
            sets = len(list(model.schema.entity_sets))
        except SapAuthError as exc:
            yield Check(f"odata {service}", FAILED, f"logon or authorisation: {exc}")
            if getattr(exc, "status", None) == 401:
                return
            continue
        except SapHttpError as exc:
            missing = getattr(exc, "status", None) == 404
            hint = " (service not activated? see /IWFND/MAINT_SERVICE)" if missing else ""
            yield Check(f"odata {service}", FAILED, f"{exc}{hint}")
            continue
        except SapBridgeError as exc:
            yield Check(f"odata {service}", FAILED, str(exc))
            continue
        yield Check(f"odata {service}", OK, f"$metadata read, {sets} entity sets")


def _rfc_ping(system: SystemConfig, probe: Probe) -> Check:
    from sapbridge.connect import open_rfc

    opener = probe.open_rfc or open_rfc
    try:
        client = opener(system)
        try:
            client.ping()
        finally:
            client.close()
    except SapBridgeError as exc:
        return Check("rfc", FAILED, str(exc))
    return Check("rfc", OK, f"RFC_PING answered by {_rfc_target(system)}")
