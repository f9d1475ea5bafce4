"""``sapbridge report kpis``: output, JSON, and one-line errors."""

from __future__ import annotations

import json

import pytest

from sapbridge.cli import main
from sapbridge.store import open_store

from .conftest import seed
from .test_run_outputs import CONFIG


@pytest.fixture
def base(tmp_path):
    config = tmp_path / "sapbridge.toml"
    config.write_text(CONFIG, encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    store = open_store(db)
    seed(store)
    store.dispose()
    return ["--config", str(config), "--db", db, "report", "kpis", "--system", "T"]


def _fails(argv, capsys):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    return err


def test_json_summary(base, tmp_path, capsys):
    main([*base, "--out", str(tmp_path / "out"), "--json", "--company-code", "1000"])
    summary = json.loads(capsys.readouterr().out)
    assert [r["ar_total"] for r in summary["receivables"]] == ["15290.00"]
    assert (tmp_path / "out" / "kpis.xlsx").is_file()


def test_human_summary(base, tmp_path, capsys):
    main([*base, "--out", str(tmp_path / "out"), "--as-of", "2026-02-28"])
    out = capsys.readouterr().out
    assert "as of 2026-02-28" in out
    assert "1000 EUR: AR 20000.00" in out


def test_bad_as_of_is_one_line(base, tmp_path, capsys):
    err = _fails([*base, "--out", str(tmp_path / "out"), "--as-of", "2026-13-01"], capsys)
    assert err == "error: --as-of: not a date: '2026-13-01' (use YYYY-MM-DD)"
    assert not (tmp_path / "out").exists()


def test_unknown_company_code_is_one_line(base, tmp_path, capsys):
    err = _fails([*base, "--out", str(tmp_path / "out"), "--company-code", "1000",
                  "--company-code", "ZZ99"], capsys)
    assert err == "error: unknown company code(s) ZZ99 for system T (known: 1000, 2000, 3000)"


def test_bad_kpi_config_is_one_line(base, tmp_path, capsys):
    config = tmp_path / "sapbridge.toml"
    config.write_text(CONFIG + 'reserve_rates = ["0.1"]\n', encoding="utf-8")
    err = _fails([*base, "--out", str(tmp_path / "out")], capsys)
    assert err.startswith("error: config [kpi] reserve_rates:")
