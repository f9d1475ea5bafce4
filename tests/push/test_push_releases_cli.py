"""``sapbridge push releases`` end to end (fake SAP behind the connect hook)."""

from __future__ import annotations

import json

import pytest

from sapbridge.cli import EXIT_REFUSED
from sapbridge.store import open_store

from .conftest import write_config, write_csv
from .fakes import FakeOData, FakeRfc, FakeSapState
from .test_push_cli import PRD, run
from .test_push_releases import HEADER, seed_orders, seed_sap_orders


@pytest.fixture
def env(tmp_path, monkeypatch):
    config_path = write_config(tmp_path, PRD)
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    store = open_store(db)
    seed_orders(store.engine)
    store.dispose()
    sap = FakeSapState(tmp_path / "sap.json")
    seed_sap_orders(sap)
    monkeypatch.setattr("sapbridge.push.sap.connect",
                        lambda system: (FakeOData(sap), FakeRfc(sap)))
    return {"base": ["--config", str(config_path), "--db", db], "sap": sap, "tmp": tmp_path}


def test_request_shows_exposure_then_approve_plan_apply(env, capsys):
    path = write_csv(env["tmp"] / "r.csv", HEADER, "10000001,release,customer paid,")
    code, out, err = run(env, capsys, "--as", "alice", "push", "releases", str(path))
    assert code == 0, err
    batch_id = out.split()[1].rstrip(":")
    assert "1 releases row(s), total 17681.07 EUR" in out
    assert ("order 0010000001 release 17681.07 EUR  customer 0000100007: exposure if released"
            " 20681.07 vs limit 20000.00, 681.07 over") in out
    code, out, _ = run(env, capsys, "--as", "alice", "approve", batch_id)
    assert code == EXIT_REFUSED
    code, out, _ = run(env, capsys, "--as", "bob", "approve", batch_id)
    assert code == 0
    assert "exposure if released 20681.07 vs limit 20000.00" in out
    code, out, _ = run(env, capsys, "--as", "carol", "approve", batch_id)
    assert "status approved" in out
    code, out, _ = run(env, capsys, "--as", "bob", "push", "plan", batch_id)
    assert "order 0010000001" in out
    assert "change" in out
    assert "over_limit_by=681.07" in out
    code, out, _ = run(env, capsys, "--as", "bob", "push", "plan", batch_id, "--apply", "--json")
    assert code == 0
    assert json.loads(out)["counts"] == {"applied": 1}
    assert env["sap"].order("10000001")["TotalCreditCheckStatus"] == "D"


def test_bad_rows_give_one_line_each_and_exit_1(env, capsys):
    path = write_csv(env["tmp"] / "r.csv", HEADER, "99999999,release,x,",
                     "10000002,release,y,")
    code, _, err = run(env, capsys, "--as", "alice", "push", "releases", str(path))
    assert code == 1
    assert "Traceback" not in err
    assert "row 2: no sales order 99999999 in system PRD" in err
    assert "row 3: sales order 0010000002 is not credit-blocked now" in err


def test_release_beyond_authority_exits_refused(env, capsys):
    path = write_csv(env["tmp"] / "r.csv", HEADER, "10000003,release,big,")
    _, out, _ = run(env, capsys, "--as", "alice", "push", "releases", str(path), "--json")
    batch_id = json.loads(out)["batch_id"]
    code, _, err = run(env, capsys, "--as", "bob", "approve", batch_id)
    assert code == EXIT_REFUSED
    assert "largest order value 30000.00 EUR" in err
