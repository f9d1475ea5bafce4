"""Every component section is read when the Bridge opens: a misspelt key fails at start, in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from sapbridge.app import Bridge, read_components
from sapbridge.cli import main
from sapbridge.config import load_settings
from sapbridge.errors import ConfigError

USERS = '[authority.clerk]\nrequest = true\n[users.alice]\nroles = ["clerk"]\n'

MISSPELT = [
    ('[kpi]\ndso_month = 3\n', "[kpi] has unknown key(s): dso_month (did you mean dso_months?)"),
    ('[authority.clerk]\nreqest = true\n', "[authority.clerk] has unknown key(s): reqest (did you mean request?)"),
    ('[authority.clerk]\nrequest = true\n[users.alice]\nrole = ["clerk"]\n',
     "[users.alice] has unknown key(s): role (did you mean roles?)"),
    ('[push]\nidentiy = "os"\n', "[push] has unknown key(s): identiy (did you mean identity?)"),
    ('[push.reason_codes.SMALL]\ngl_account = "880000"\ntxt = "x"\n',
     "[push.reason_codes.SMALL] has unknown key(s): txt (did you mean text?)"),
    ('[airflow]\nretry = 3\n', "[airflow] has unknown key(s): retry (did you mean retries?)"),
    ('[airflow.pools.PRD]\nname = "sap"\nslot = 2\n', "[airflow.pools] PRD has unknown key(s): slot (did you mean slots?)"),
    ('[jobs]\ndirs = "jobs"\n', "[jobs] has unknown key(s): dirs (did you mean dir?)"),
    ('[cash]\nauto_treshold = "0.9"\n', "[cash] has unknown key(s): auto_treshold (did you mean auto_threshold?)"),
    ('[recoveries]\nwindw_days = 9\n', "[recoveries] has unknown key(s): windw_days (did you mean window_days?)"),
    ('[audit]\nanchor = "a"\n', "[audit] has unknown key(s): anchor (did you mean anchors?)"),
]


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sapbridge.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "expected"), MISSPELT, ids=[t.split("]")[0][1:] for t, _ in MISSPELT])
def test_a_misspelt_key_in_any_section_fails_when_the_bridge_opens(tmp_path: Path, text: str,
                                                                    expected: str) -> None:
    settings = load_settings(_config(tmp_path, text), store_url=f"sqlite:///{tmp_path / 'b.db'}")
    with pytest.raises(ConfigError) as caught:
        Bridge.open(settings, actor="ops")
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "b.db").exists()  # refused before the store is opened


@pytest.mark.parametrize(("text", "expected"), MISSPELT[:1] + MISSPELT[5:6])
def test_every_command_refuses_the_typo_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    text: str, expected: str) -> None:
    config = _config(tmp_path, text)
    with pytest.raises(SystemExit) as exited:  # sync-history never reads [kpi] or [airflow] itself
        main(["--config", str(config), "--db", f"sqlite:///{tmp_path / 'c.db'}", "sync-history"])
    assert exited.value.code == 1
    err = capsys.readouterr().err.strip()
    assert expected in err
    assert len(err.splitlines()) == 1


def test_correct_sections_are_typed(tmp_path: Path) -> None:
    text = (USERS + '[kpi]\ndso_months = 4\n[airflow]\nretries = 5\n[jobs]\ndir = "myjobs"\n'
            '[cash]\nauto_threshold = "0.95"\n[recoveries]\nwindow_days = 30\n')
    parts = read_components(load_settings(_config(tmp_path, text)))
    assert parts.kpi.dso_months == 4
    assert parts.airflow.retries == 5
    assert parts.jobs.dir == tmp_path / "myjobs"
    assert str(parts.cash.auto_threshold) == "0.95"
    assert parts.recoveries.window_days == 30
    assert parts.push.authority.users["alice"].roles == ("clerk",)
