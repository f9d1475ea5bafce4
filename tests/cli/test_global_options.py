"""Global options are taken where users type them: before or after the subcommand."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sapbridge.cli import GLOBAL_OPTIONS, cli


def _commands(group: click.Group, path: str = "") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in group.commands.items():
        found.append((f"{path}{name}", command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, f"{path}{name} "))
    return found


@pytest.mark.parametrize(("name", "command"), _commands(cli), ids=lambda v: v if isinstance(v, str) else "")
def test_every_command_takes_every_global_option(name: str, command: click.Command) -> None:
    offered = {opt for param in command.params for opt in getattr(param, "opts", ())}
    missing = [o.decls[0] for o in GLOBAL_OPTIONS if not offered.intersection(o.decls)]
    assert not missing, f"{name} lacks {missing}"


def test_db_after_the_subcommand_opens_that_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SAPBRIDGE_DB", raising=False)
    monkeypatch.delenv("SAPBRIDGE_CONFIG", raising=False)
    chosen = tmp_path / "x.db"
    result = CliRunner().invoke(cli, ["sync", "customers", "--system", "demo", "--db", f"sqlite:///{chosen}",
                                      "--json"])
    assert result.exit_code == 0, result.output
    assert chosen.is_file()
    assert not (tmp_path / "sapbridge.db").exists()


def test_option_after_the_command_wins_over_the_one_before(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    first, second = tmp_path / "first.db", tmp_path / "second.db"
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{first}", "sync", "customers", "--json",
                                      "--db", f"sqlite:///{second}"])
    assert result.exit_code == 0, result.output
    assert second.is_file()
    assert not first.exists()


def test_config_after_a_nested_subcommand_is_read(tmp_path: Path) -> None:
    config = tmp_path / "site.toml"
    config.write_text('[systems.QAS]\nodata_url = "https://qas.example.com"\npassword_env = "X"\n',
                      encoding="utf-8")
    result = CliRunner().invoke(cli, ["systems", "list", "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "QAS" in {row["name"] for row in json.loads(result.output)}


def test_as_after_push_limits_reaches_the_identity_check(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    limits = tmp_path / "limits.csv"
    limits.write_text("customer,segment,new_limit,currency\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["push", "limits", str(limits), "--as", "alice",
                                      "--db", f"sqlite:///{tmp_path / 's.db'}"])
    assert "No such option" not in result.output
    assert "alice" in str(result.exception) or "alice" in result.output


def test_a_subcommand_with_its_own_as_keeps_it() -> None:
    approve = cli.commands["approve"]
    as_params = [p for p in approve.params if "--as" in getattr(p, "opts", ())]
    assert len(as_params) == 1
    assert as_params[0].expose_value
