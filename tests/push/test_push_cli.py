"""The push and audit commands end to end (fake SAP behind the connect hook)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import update

from sapbridge.audit.tables import audit_log
from sapbridge.cli import EXIT_REFUSED, main
from sapbridge.store import open_store

from .conftest import LIMIT_HEADER, LOGIN, seed_sap, seed_store, write_config, write_csv
from .fakes import FakeOData, FakeRfc, FakeSapState

PRD = """
[defaults]
system = "PRD"

[systems.PRD]
odata_url = "https://s4.example.com"
"""


@pytest.fixture
def env(tmp_path, monkeypatch):
    config_path = write_config(tmp_path, PRD)
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    store = open_store(db)
    seed_store(store.engine)
    store.dispose()
    sap = FakeSapState(tmp_path / "sap.json")
    seed_sap(sap)
    monkeypatch.setattr("sapbridge.push.sap.connect",
                        lambda system: (FakeOData(sap), FakeRfc(sap)))
    return {"base": ["--config", str(config_path), "--db", db], "sap": sap, "tmp": tmp_path,
            "db": db}


def run(env, capsys, *args: str) -> tuple[int, str, str]:
    try:
        main([*env["base"], *args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_request_approve_plan_apply_and_audit(env, capsys, monkeypatch):
    path = write_csv(env["tmp"] / "l.csv", LIMIT_HEADER,
                     "0010000001,1000,55000.00,EUR,,review")
    code, out, _ = run(env, capsys, "--as", "alice", "push", "limits", str(path), "--system",
                       "demo", "--json")
    assert code == 1  # no credit segments in system demo
    code, out, _ = run(env, capsys, "--as", "alice", "push", "limits", str(path), "--json")
    assert code == 0, out
    batch_id = json.loads(out)["batch_id"]

    code, _, err = run(env, capsys, "--as", "alice", "push", "plan", batch_id, "--apply")
    assert code == EXIT_REFUSED
    assert "only approved batches" in err

    code, _, err = run(env, capsys, "approve", batch_id, "--as", "alice")
    assert code == EXIT_REFUSED
    assert "may not approve" in err

    code, out, _ = run(env, capsys, "approve", batch_id, "--as", "bob")
    assert code == 0
    assert "status approved" in out

    code, out, _ = run(env, capsys, "--as", "bob", "push", "plan", batch_id)
    assert code == 0
    assert "credit_limit=50000.00" in out
    assert "-> credit_limit=55000.00" in out
    assert env["sap"].load()["patches"] == []

    code, out, _ = run(env, capsys, "--as", "bob", "push", "plan", batch_id, "--apply", "--json")
    assert code == 0
    assert json.loads(out)["counts"] == {"applied": 1}

    code, out, _ = run(env, capsys, "push", "status", batch_id, "--json")
    assert json.loads(out)[0]["row_states"] == {"done": 1}

    code, out, _ = run(env, capsys, "audit", "verify", "--json")
    assert code == 0
    assert json.loads(out)["ok"] is True

    code, out, _ = run(env, capsys, "audit", "list", "--action", "refused", "--json")
    refusals = [json.loads(line) for line in out.splitlines()]
    assert [r["detail"]["control"] for r in refusals] == ["validation", "approval",
                                                          "segregation"]

    code, out, _ = run(env, capsys, "audit", "show", "2")
    assert json.loads(out)["action"] == "imported"

    target = env["tmp"] / "evidence.csv"
    code, out, _ = run(env, capsys, "audit", "export", "--format", "csv", "-o", str(target),
                       "--batch", batch_id)
    assert code == 0
    assert target.read_text(encoding="utf-8").count("\n") > 5

    store = open_store(env["db"])
    with store.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(actor="mallory"))
    store.dispose()
    code, _, err = run(env, capsys, "audit", "verify")
    assert code == 1
    assert "BROKEN at entry 3" in err


def test_reject_needs_configured_user(env, capsys):
    path = write_csv(env["tmp"] / "l.csv", LIMIT_HEADER, "0010000001,1000,1.00,EUR,,x")
    _, out, _ = run(env, capsys, "--as", "alice", "push", "limits", str(path), "--json")
    batch_id = json.loads(out)["batch_id"]
    code, _, err = run(env, capsys, "reject", batch_id, "--as", "mallory", "--reason", "x")
    assert code == EXIT_REFUSED
    assert "not a configured user" in err
    code, out, _ = run(env, capsys, "audit", "list", "--action", "refused", "--json")
    refusal = json.loads(out.splitlines()[-1])
    assert (refusal["actor"], refusal["detail"]["control"]) == ("mallory", "identity")
    code, out, _ = run(env, capsys, "reject", batch_id, "--as", "carol", "--reason", "no")
    assert code == 0
    assert "rejected by carol" in out


def test_os_identity_mode_binds_as_to_the_login(env, capsys):
    config = Path(env["base"][1])
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace(f'roles = ["controller"]\nos_user = "{LOGIN}"',
                                   'roles = ["controller"]\nos_user = "someone-else"'),
                      encoding="utf-8")
    path = write_csv(env["tmp"] / "l.csv", LIMIT_HEADER, "0010000001,1000,1.00,EUR,,x")
    code, out, _ = run(env, capsys, "--as", "alice", "push", "limits", str(path), "--json")
    assert code == 0
    batch_id = json.loads(out)["batch_id"]
    code, _, err = run(env, capsys, "approve", batch_id, "--as", "carol")
    assert code == EXIT_REFUSED
    assert f"OS user {LOGIN} may not act as carol" in err
    code, _, err = run(env, capsys, "approve", batch_id)
    assert code == EXIT_REFUSED
    assert "maps to several users" in err
    code, out, _ = run(env, capsys, "approve", batch_id, "--as", "bob")
    assert code == 0
    assert "approved by bob" in out
