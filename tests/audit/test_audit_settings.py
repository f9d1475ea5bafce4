"""``[audit]`` settings become one AuditLog: key from the named variable, anchors, TSA."""

from __future__ import annotations

from pathlib import Path

import pytest

from sapbridge.audit.auditlog import AuditLog
from sapbridge.config import load_settings, project_root
from sapbridge.errors import ConfigError


def _settings(tmp_path: Path, body: str):
    config = tmp_path / "sapbridge.toml"
    config.write_text(body, encoding="utf-8")
    return load_settings(config)


def test_example_config_is_valid(monkeypatch) -> None:
    monkeypatch.setenv("SAPBRIDGE_AUDIT_KEY", "k")
    log = AuditLog.from_settings(load_settings(project_root() / "examples" / "sapbridge.toml"))
    assert log.key == b"k"


def test_renamed_key_env_and_anchors(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("OTC_KEY", "team")
    monkeypatch.setenv("SAPBRIDGE_AUDIT_KEY", "not this one")
    log = AuditLog.from_settings(_settings(
        tmp_path, '[audit]\nkey_env = "OTC_KEY"\nanchors = "a"\ntsa_url = "http://127.0.0.1:1/"\n'
                  'tsa_ca_file = "ca.pem"\ntsa_timeout = 3\n'))
    assert (log.key, log.key_env) == (b"team", "OTC_KEY")
    assert log.anchors is not None
    assert log.anchors.path == tmp_path / "a"  # relative to the config file, not the cwd
    assert log.timestamper.ca_file == tmp_path / "ca.pem"
    assert log.timestamper.timeout == 3.0


@pytest.mark.parametrize(("body", "says"), [
    ('[audit]\ntsa_url = "http://127.0.0.1:1/"\n', "set anchors"),
    ('[audit]\nanchors = "a"\ntsa_url = "http://x/"\ntsa_timeout = "soon"\n', "tsa_timeout"),
    ('[audit]\nkey = "inline-secret"\n', r"unknown key\(s\): key \(did you mean key_env\?\)"),
])
def test_bad_settings_are_one_clear_error(tmp_path, body, says) -> None:
    with pytest.raises(ConfigError, match=says) as caught:
        AuditLog.from_settings(_settings(tmp_path, body))
    assert "inline-secret" not in str(caught.value)
