"""``systems list`` / ``systems test``: each failure kind is named, and nothing leaks the password."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from devtools.demo.shapes import metadata_xml
from sapbridge.cli import cli
from sapbridge.config import load_settings
from sapbridge.systems import FAILED, OK, SKIPPED, Probe, check_system, describe_systems

SECRET = "s3cr3t-Pa55"


class _Gateway(http.server.BaseHTTPRequestHandler):
    """A tiny gateway: every $metadata answers with the status the test sets."""

    status = 200

    def do_GET(self) -> None:
        service = self.path.split("/sap/opu/odata/sap/")[-1].split("/")[0]
        if self.status == 200:
            body = metadata_xml(service)
            self.send_response(200)
            self.send_header("content-type", "application/xml")
        else:
            body = b'{"error":{"code":"/IWFND/MED/170","message":{"lang":"en","value":"No service found"}}}'
            self.send_response(self.status)
            self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[tuple[int, type[_Gateway]]]:
    handler = type("Handler", (_Gateway,), {"status": 200})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], handler
    server.shutdown()
    server.server_close()


def _config(tmp_path: Path, url: str, *, rfc: bool = False) -> Path:
    path = tmp_path / "sapbridge.toml"
    text = f"""
[systems.QAS]
odata_url = "{url}"
client = "200"
user = "OTC_BATCH"
password_env = "QAS_PASSWORD"
connect_timeout = 2
max_attempts = 1
"""
    if rfc:
        text += '[systems.QAS.rfc]\nashost = "127.0.0.1"\nsysnr = "00"\n'
    path.write_text(text)
    return path


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _by_name(checks: list) -> dict[str, tuple[str, str]]:
    return {c.name: (c.status, c.detail) for c in checks}


def test_demo_system_checks_its_recordings() -> None:
    checks = check_system(load_settings(None), "demo", None)
    assert checks[0].name == "fixtures"
    assert all(c.status == OK for c in checks), checks
    assert any(c.name == "odata API_OPLACCTGDOCITEMCUBE_SRV" for c in checks)


def test_missing_password_variable_stops_before_the_network(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("QAS_PASSWORD", raising=False)
    settings = load_settings(_config(tmp_path, "https://s4.example.com"))
    calls: list[str] = []
    probe = Probe(resolve=lambda *a: calls.append("dns") or [])
    checks = check_system(settings, "QAS", probe)
    assert [(c.name, c.status) for c in checks] == [("config", FAILED)]
    assert "QAS_PASSWORD is not set" in checks[0].detail
    assert calls == []


def test_unresolvable_host_is_reported_as_dns(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("QAS_PASSWORD", SECRET)
    settings = load_settings(_config(tmp_path, "https://s4.nowhere.invalid"))

    def no_such_host(host: str, port: int) -> list:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    checks = check_system(settings, "QAS", Probe(resolve=no_such_host))
    assert [(c.name, c.status) for c in checks] == [("config", OK), ("dns", FAILED)]
    assert "cannot resolve s4.nowhere.invalid" in checks[1].detail


def test_refused_port_is_reported_as_tcp(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("QAS_PASSWORD", SECRET)
    port = _closed_port()
    settings = load_settings(_config(tmp_path, f"https://127.0.0.1:{port}"))
    checks = check_system(settings, "QAS", None)
    assert _by_name(checks)["tcp"][0] == FAILED
    assert f"127.0.0.1:{port}" in _by_name(checks)["tcp"][1]
    assert "tls" not in _by_name(checks)


def test_tls_handshake_failure_is_reported_as_tls(tmp_path, monkeypatch, gateway) -> None:
    monkeypatch.setenv("QAS_PASSWORD", SECRET)
    port, _handler = gateway
    settings = load_settings(_config(tmp_path, f"https://127.0.0.1:{port}"))
    checks = _by_name(check_system(settings, "QAS", None))
    assert checks["tcp"][0] == OK
    assert checks["tls"][0] == FAILED
    assert not any(name.startswith("odata") for name in checks)


def test_logon_refused_names_the_user_and_stops(tmp_path, monkeypatch, gateway) -> None:
    monkeypatch.setenv("QAS_PASSWORD", SECRET)
    port, handler = gateway
    handler.status = 401
    settings = load_settings(_config(tmp_path, f"http://127.0.0.1:{port}"))
    checks = check_system(settings, "QAS", None)
    odata = [c for c in checks if c.name.startswith("odata")]
    assert len(odata) == 1, "a refused logon is not retried for every service"
    assert odata[0].status == FAILED
    assert "401" in odata[0].detail
    assert _by_name(checks)["tls"][0] == SKIPPED
    assert all(SECRET not in c.detail for c in checks)


def test_inactive_service_hints_at_service_activation(tmp_path, monkeypatch, gateway) -> None:
    monkeypatch.setenv("QAS_PASSWORD", SECRET)
    port, handler = gateway
    handler.status = 404
    settings = load_settings(_config(tmp_path, f"http://127.0.0.1:{port}"))
    odata = [c for c in check_system(settings, "QAS", None) if c.name.startswith("odata")]
    assert len(odata) == 6  # one check per OData service the mappings name
    assert all(c.status == FAILED and "/IWFND/MAINT_SERVICE" in c.detail for c in odata)


def test_reachable_system_passes_and_rfc_without_sdk_says_how_to_install(tmp_path, monkeypatch,
                                                                         gateway) -> None:
    monkeypatch.setenv("QAS_PASSWORD", SECRET)
    port, _handler = gateway
    settings = load_settings(_config(tmp_path, f"http://127.0.0.1:{port}", rfc=True))
    checks = _by_name(check_system(settings, "QAS", None))
    assert all(status == OK for name, (status, _d) in checks.items() if name.startswith("odata"))
    assert checks["odata API_BUSINESS_PARTNER"][1] == "$metadata read, 5 entity sets"
    pytest.importorskip("sapbridge.rfc.live")
    try:
        import pyrfc  # noqa: F401
    except ImportError:
        assert checks["rfc"][0] == FAILED
        assert "sapbridge[rfc]" in checks["rfc"][1]


def test_list_shows_the_variable_name_never_the_password(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("QAS_PASSWORD", SECRET)
    settings = load_settings(_config(tmp_path, "https://s4.example.com", rfc=True))
    rows = {row.name: row for row in describe_systems(settings)}
    assert set(rows) == {"demo", "QAS"}
    assert rows["QAS"].password_set
    assert rows["QAS"].rfc == "127.0.0.1 sysnr 00"
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "sapbridge.toml"), "systems", "list",
                                      "--json"])
    assert result.exit_code == 0
    assert "QAS_PASSWORD" in result.output
    assert SECRET not in result.output


def test_cli_test_exits_1_with_one_line_naming_the_failed_check(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("QAS_PASSWORD", raising=False)
    config = _config(tmp_path, "https://s4.example.com")
    result = CliRunner().invoke(cli, ["--config", str(config), "systems", "test", "QAS"])
    assert result.exit_code == 1
    assert "system QAS: config failed: system QAS: environment variable QAS_PASSWORD is not set" \
        in result.stderr
