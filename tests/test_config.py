"""The config file is checked when it loads: unknown keys, relative paths, mapping search path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sapbridge.config import load_settings, packaged_mappings_dir
from sapbridge.errors import ConfigError, MappingError
from sapbridge.mapping import mappings_for
from sapbridge.sync.engine import ALL_OBJECTS
from sapbridge.sync.service import enabled_objects

QAS = '[systems.QAS]\nkind = "replay"\nodata_url = "https://qas.example.com"\n'


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site" / "sapbridge.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "expected"), [
    ('[defaults]\nmapping = "dir"\n', r"\[defaults\] has unknown key\(s\): mapping \(did you mean mappings\?\)"),
    ('[store]\nurls = "sqlite://"\n', r"\[store\] has unknown key\(s\): urls \(did you mean url\?\)"),
    (QAS + "page_sise = 10\n", r"\[systems.QAS\] has unknown key\(s\): page_sise \(did you mean page_size\?\)"),
    ('[recoveris]\nx = 1\n', r"unknown key\(s\): recoveris \(did you mean recoveries\?\)"),
    ('[audit]\nanchor = "a"\n', None),
])
def test_unknown_keys_are_refused_with_a_did_you_mean(tmp_path: Path, text: str, expected: str | None) -> None:
    path = _config(tmp_path, text)
    if expected is None:  # [audit] is read by the audit log: refused there, with the same hint
        from sapbridge.audit.auditlog import AuditLog

        with pytest.raises(ConfigError, match=r"anchor \(did you mean anchors\?\)"):
            AuditLog.from_settings(load_settings(path))
        return
    with pytest.raises(ConfigError, match=expected) as caught:
        load_settings(path)
    assert str(path) in str(caught.value)


def test_paths_are_relative_to_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = _config(tmp_path, '[defaults]\nmappings = "maps"\n[jobs]\ndir = "jobs"\n'
                   + QAS + 'fixtures = "rec/qas"\nsap_state = "qas.json"\nverify_tls = "ca.pem"\n')
    settings = load_settings(path)
    site = path.parent
    qas = settings.system("QAS")
    assert qas.fixtures_dir() == site / "rec" / "qas"
    assert qas.sap_state == str(site / "qas.json")
    assert qas.verify_tls == str(site / "ca.pem")
    assert settings.mapping_dirs == (site / "maps",)
    assert settings.resolve("x/y") == site / "x" / "y"
    from sapbridge.jobs.definition import jobs_dir

    assert jobs_dir(settings) == site / "jobs"


def test_a_site_folder_overrides_one_dataset_and_keeps_the_others(tmp_path: Path) -> None:
    maps = tmp_path / "site" / "maps"
    maps.mkdir(parents=True)
    packaged = (packaged_mappings_dir() / "disputes.toml").read_text(encoding="utf-8")
    (maps / "disputes.toml").write_text(packaged.replace("page_size", "# page_size", 1)
                                        .replace('entity_set = "', 'entity_set = "ZSite', 1), encoding="utf-8")
    settings = load_settings(_config(tmp_path, '[defaults]\nmappings = ["maps"]\n'))
    mappings = mappings_for(settings)
    assert len(mappings) == len(list(packaged_mappings_dir().glob("*.toml")))
    assert mappings["disputes"].odata is not None
    assert mappings["disputes"].odata.entity_set.startswith("ZSite")
    assert not mappings["open_items"].odata or not mappings["open_items"].odata.entity_set.startswith("ZSite")


def test_a_system_folder_comes_before_the_defaults(tmp_path: Path) -> None:
    for folder, prefix in (("common", "ZCommon"), ("qas", "ZQas")):
        d = tmp_path / "site" / folder
        d.mkdir(parents=True)
        packaged = (packaged_mappings_dir() / "disputes.toml").read_text(encoding="utf-8")
        (d / "disputes.toml").write_text(packaged.replace('entity_set = "', f'entity_set = "{prefix}', 1),
                                         encoding="utf-8")
    settings = load_settings(_config(tmp_path, '[defaults]\nmappings = "common"\n' + QAS + 'mappings = ["qas"]\n'))
    disputes = mappings_for(settings, "QAS")["disputes"].odata
    assert disputes is not None
    assert disputes.entity_set.startswith("ZQas")
    demo = mappings_for(settings, "demo")["disputes"].odata
    assert demo is not None
    assert demo.entity_set.startswith("ZCommon")


def test_a_missing_site_folder_is_named(tmp_path: Path) -> None:
    settings = load_settings(_config(tmp_path, '[defaults]\nmappings = "nowhere"\n'))
    with pytest.raises(MappingError, match="nowhere"):
        mappings_for(settings)


def test_a_switched_off_dataset_is_left_out(tmp_path: Path) -> None:
    settings = load_settings(_config(tmp_path, QAS + 'disabled_datasets = ["disputes", "credit_segments"]\n'))
    qas = settings.system("QAS")
    assert "disputes" not in mappings_for(settings, "QAS")
    assert enabled_objects(qas, ["all"]) == [o for o in ALL_OBJECTS if o not in {"disputes", "credit_segments"}]
    with pytest.raises(ConfigError, match="QAS has disputes switched off"):
        enabled_objects(qas, ["disputes"])


def test_switching_off_an_unknown_dataset_is_refused(tmp_path: Path) -> None:
    settings = load_settings(_config(tmp_path, QAS + 'disabled_datasets = ["dispute"]\n'))
    with pytest.raises(MappingError, match=r"unknown dataset.*dispute"):
        mappings_for(settings, "QAS")


def test_sync_all_and_systems_test_pass_on_a_site_without_disputes_or_credit(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from sapbridge.cli import cli

    fixtures = packaged_mappings_dir().parent / "fixtures" / "demo"
    path = _config(tmp_path, '[systems.site]\nkind = "replay"\nodata_url = "https://demo.sapbridge.invalid"\n'
                   'client = "100"\nuser = "DEMO"\npage_size = 1000\ncompany_codes = ["1000"]\n'
                   f'key_date = "2026-11-20"\nfixtures = "{fixtures}"\nsap_state = "sap.json"\n'
                   'disabled_datasets = ["disputes", "credit_segments"]\n')
    db = f"sqlite:///{tmp_path / 's.db'}"
    synced = CliRunner().invoke(cli, ["sync", "all", "--system", "site", "--json", "--config", str(path), "--db", db])
    assert synced.exit_code == 0, synced.output
    datasets = [d["dataset"] for d in json.loads(synced.stdout)["datasets"]]
    assert "open_items" in datasets
    assert "disputes" not in datasets
    assert "credit_segments" not in datasets
    tested = CliRunner().invoke(cli, ["systems", "test", "site", "--config", str(path)])
    assert tested.exit_code == 0, tested.output
    assert "API_CRDTMBUSINESSPARTNER" not in tested.output
    assert "ZFSCM_DISPUTE_SRV" not in tested.output


@pytest.mark.parametrize(("section", "expected"), [
    ('[kpi]\nnot_a_kpi_key = 1\n', "not_a_kpi_key"),
    ('[cash]\nrule = ["reference"]\n', r"rule \(did you mean rules\?\)"),
    ('[recoveries]\nwindow_day = 3\n', r"window_day \(did you mean window_days\?\)"),
    ('[users.alice]\nroles = ["nobody"]\n', "unknown role"),
])
def test_any_command_refuses_a_broken_component_section_at_start(tmp_path: Path, section: str,
                                                                 expected: str) -> None:
    from click.testing import CliRunner

    from sapbridge.cli import cli

    path = _config(tmp_path, section)
    result = CliRunner().invoke(cli, ["--config", str(path), "systems", "list"])
    assert result.exit_code != 0
    assert isinstance(result.exception, ConfigError)
    assert re.search(expected, str(result.exception))
