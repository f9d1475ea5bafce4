"""Amounts in push batch files follow the one rule for user amounts: nothing odd reaches SAP."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from sapbridge.cli import main
from sapbridge.push.tables import push_batches, push_rows
from sapbridge.store import open_store

from .conftest import LIMIT_HEADER, WRITEOFF_HEADER, seed_store, write_config, write_csv


@pytest.fixture
def env(tmp_path):
    config = write_config(tmp_path, '\n[defaults]\nsystem = "PRD"\n\n[systems.PRD]\nodata_url = "https://s4.example.com"\n')
    db = f"sqlite:///{tmp_path / 'push.db'}"
    store = open_store(db)
    seed_store(store.engine)
    store.dispose()
    return {"base": ["--config", str(config), "--db", db, "--as", "alice"], "tmp": tmp_path, "db": db}


def _run(env, capsys, *args: str) -> tuple[int, str, str]:
    try:
        main([*env["base"], *args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _batches(env) -> int:
    store = open_store(env["db"])
    with store.engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(push_batches)).scalar()
    store.dispose()
    return int(count or 0)


@pytest.mark.parametrize(("limit", "problem"), [
    ("1.06e5", "new_limit: not an amount: '1.06e5' is in exponent form; write 106000"),
    ("1.06E+5", "new_limit: not an amount: '1.06E+5' is in exponent form; write 106000"),
    ("NaN", "new_limit: not an amount: 'NaN'"),
    ("Infinity", "new_limit: not an amount: 'Infinity'"),
    ("1" * 30, f"new_limit: not an amount: '{'1' * 30}' has 30 digits before the point (at most 18)"),
])
def test_a_limit_in_exponent_or_non_finite_form_is_refused_and_nothing_stored(env, capsys, limit, problem):
    path = write_csv(env["tmp"] / "l.csv", LIMIT_HEADER, f"0010000001,1000,{limit},EUR,,review")
    code, _, err = _run(env, capsys, "push", "limits", str(path), "--json")
    assert code != 0
    assert "Traceback" not in err
    assert f"{path}, row 2: {problem}" in err
    assert _batches(env) == 0


def test_a_grouped_limit_is_stored_and_sent_as_plain_digits(env, capsys):
    path = write_csv(env["tmp"] / "l.csv", LIMIT_HEADER, '0010000001,1000,"55,000.00",EUR,,review')
    code, _, err = _run(env, capsys, "push", "limits", str(path), "--json")
    assert code == 0, err
    store = open_store(env["db"])
    with store.engine.connect() as conn:
        target = json.loads(conn.execute(select(push_rows.c.target_json)).scalar_one())
    store.dispose()
    assert target["new_limit"] == "55000.00"


def test_a_negative_zero_write_off_is_refused_as_not_positive(env, capsys):
    path = write_csv(env["tmp"] / "w.csv", WRITEOFF_HEADER, "1000,0010000001,2026,0090000001,001,-0,EUR,SMALL,x")
    code, _, err = _run(env, capsys, "push", "write-offs", str(path), "--json")
    assert code != 0
    assert "amount must be positive" in err
    assert _batches(env) == 0
