"""Signed approvals with real SSH keys (issue 8.1): sign, store, re-verify, refuse forgeries."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from sapbridge.audit.log import query, record
from sapbridge.cli import main
from sapbridge.config import load_settings
from sapbridge.push.approval import approve, check_approved
from sapbridge.push.authority import load_push_config
from sapbridge.push.controls import RefusedError
from sapbridge.push.plan import plan_batch
from sapbridge.push.signatures import verify_audit_approvals
from sapbridge.push.tables import push_approvals, push_batches

from .conftest import write_config
from .helpers import limit_batch

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None,
                                reason="ssh-keygen (openssh-client) is not installed")

README = Path(__file__).resolve().parents[2] / "README.md"


def _keypair(directory: Path, name: str) -> tuple[Path, str]:
    key = directory / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)],
                   check=True)
    return key, (directory / f"{name}.pub").read_text(encoding="utf-8").strip()


@pytest.fixture
def keys(tmp_path):
    directory = tmp_path / "keys"
    directory.mkdir()
    return {name: _keypair(directory, name) for name in ("bob", "carol", "mallory")}


def _signed_config(tmp_path: Path, keys, *, identity: str = "declared", bob_key: str = "bob",
                   extra: str = "") -> Path:
    """Config with bob's key inline and carol's in an allowed-signers file."""
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f'carol namespaces="sapbridge-approval" {keys["carol"][1]}\n',
                       encoding="utf-8")
    config = write_config(tmp_path, extra)
    text = config.read_text(encoding="utf-8").replace('identity = "os"',
                                                      f'identity = "{identity}"')
    text = text.replace('roles = ["credit_manager"]\n',
                        f'roles = ["credit_manager"]\nsigning_key = "{keys["bob"][1]}"\n'
                        f'signing_key_file = "{keys[bob_key][0]}"\n', 1)
    text = text.replace('roles = ["controller"]\n',
                        f'roles = ["controller"]\nsigning_key = "{allowed}"\n'
                        f'signing_key_file = "{keys["carol"][0]}"\n', 1)
    config.write_text(text, encoding="utf-8")
    return config


def _load(config: Path):
    return load_push_config(load_settings(config))


def _refusals(engine) -> list[tuple[str, str]]:
    return [(e.actor, e.detail["control"]) for e in query(engine, action="refused")]


def test_signed_approval_is_stored_audited_and_reverified(seeded, tmp_path, keys, odata):
    config = _load(_signed_config(tmp_path, keys))
    batch = limit_batch(seeded.engine, config, tmp_path)
    decision = approve(seeded.engine, batch.batch_id, approver="bob", config=config,
                       run_id="r")
    assert decision.status == "approved"
    with seeded.engine.connect() as conn:
        stored = conn.execute(select(push_approvals.c.signature)).scalar_one()
    entry = next(query(seeded.engine, action="approved"))
    assert stored.startswith("-----BEGIN SSH SIGNATURE-----")
    assert entry.detail["signature"] == stored
    assert (entry.detail["requester"], entry.detail["content_hash"]) == ("alice",
                                                                          batch.content_hash)
    assert check_approved(seeded.engine, batch.batch_id, actor="bob", config=config,
                          run_id="r").batch_id == batch.batch_id
    plan_batch(seeded.engine, batch.batch_id, odata=odata, actor="bob", run_id="r",
               config=config)
    assert verify_audit_approvals(seeded.engine, config) == []


def test_wrong_key_is_refused_and_audited(seeded, tmp_path, keys):
    config = _load(_signed_config(tmp_path, keys, bob_key="mallory"))
    batch = limit_batch(seeded.engine, config, tmp_path)
    with pytest.raises(RefusedError, match="does not verify with bob's signing_key"):
        approve(seeded.engine, batch.batch_id, approver="bob", config=config, run_id="r")
    assert _refusals(seeded.engine) == [("bob", "signature")]
    assert list(query(seeded.engine, action="approved")) == []


def test_missing_signature_where_required_is_refused(seeded, tmp_path, keys, monkeypatch):
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    config = _load(_signed_config(tmp_path, keys))
    bob = replace(config.authority.users["bob"], signing_key_file=None)
    config = replace(config, authority=replace(config.authority,
                                               users={**config.authority.users, "bob": bob}))
    batch = limit_batch(seeded.engine, config, tmp_path)
    with pytest.raises(RefusedError, match="must be signed by bob"):
        approve(seeded.engine, batch.batch_id, approver="bob", config=config, run_id="r")
    with pytest.raises(RefusedError, match="dave, who has no signing_key in the config"):
        approve(seeded.engine, batch.batch_id, approver="dave", config=config, run_id="r")
    assert _refusals(seeded.engine) == [("bob", "signature"), ("dave", "signature")]


def test_role_can_require_signatures_in_os_mode(seeded, tmp_path, keys, monkeypatch):
    extra_off = _signed_config(tmp_path, keys, identity="os")
    text = extra_off.read_text(encoding="utf-8").replace(
        'max_writeoff_batch = "100000"', 'max_writeoff_batch = "100000"\nrequire_signature = true')
    text = text.replace(f'signing_key_file = "{keys["carol"][0]}"\n', "")
    extra_off.write_text(text, encoding="utf-8")
    config = _load(extra_off)
    big = limit_batch(seeded.engine, config, tmp_path, "0010000001,1000,80000.00,EUR,,growth")
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    with pytest.raises(RefusedError, match="must be signed by carol"):
        approve(seeded.engine, big.batch_id, approver="carol", config=config, run_id="r")
    approve(seeded.engine, big.batch_id, approver="carol", config=config, run_id="r",
            sign_key=str(keys["carol"][0]))
    unsigned_role = replace(config.authority.users["bob"], signing_key_file=None)
    config = replace(config, authority=replace(config.authority, users={
        **config.authority.users, "bob": unsigned_role}))
    assert approve(seeded.engine, big.batch_id, approver="bob", config=config,
                   run_id="r").status == "approved"
    signed = [bool(e.detail.get("signature")) for e in query(seeded.engine, action="approved")]
    assert signed == [True, False]


def _forge_approval(engine, batch_id: str, approver: str, content_hash: str,
                    signature: str | None) -> None:
    """What a store writer without an audit key can do: append an entry and set the status."""
    detail = {"content_hash": content_hash, "requester": "alice", "approver": approver}
    if signature:
        detail["signature"] = signature
    with engine.begin() as conn:
        conn.execute(insert(push_approvals).values(
            batch_id=batch_id, user=approver, decision="approved", content_hash=content_hash,
            at=next(query(engine, batch_id=batch_id)).at, signature=signature))
        conn.execute(update(push_batches).where(push_batches.c.batch_id == batch_id)
                     .values(status="approved"))
        record(conn, action="approved", actor=approver, run_id="forged", batch_id=batch_id,
               detail=detail)


def test_signature_over_another_batch_is_refused(seeded, tmp_path, keys, odata, capsys):
    config_path = _signed_config(tmp_path, keys)
    config = _load(config_path)
    first = limit_batch(seeded.engine, config, tmp_path)
    second = limit_batch(seeded.engine, config, tmp_path,
                         "0010000003,1000,51000.00,EUR,,other")
    approve(seeded.engine, first.batch_id, approver="bob", config=config, run_id="r")
    stolen = next(query(seeded.engine, action="approved")).detail["signature"]
    _forge_approval(seeded.engine, second.batch_id, "bob", second.content_hash, stolen)
    with pytest.raises(RefusedError, match="bob: signature does not verify"):
        check_approved(seeded.engine, second.batch_id, actor="bob", config=config, run_id="r")
    with pytest.raises(RefusedError, match="signature does not verify"):
        plan_batch(seeded.engine, second.batch_id, odata=odata, actor="bob", run_id="r",
                   config=config)
    assert _refusals(seeded.engine) == [("bob", "signature"), ("bob", "signature")]
    problems = verify_audit_approvals(seeded.engine, config)
    assert [(p.batch_id, p.approver) for p in problems] == [(second.batch_id, "bob")]
    try:
        main(["--config", str(config_path), "--db", seeded.url, "audit", "verify"])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == 1
    assert f"(batch {second.batch_id}, bob): signature does not verify" in err


def test_unsigned_forged_approval_in_declared_mode_is_refused(seeded, tmp_path, keys):
    config = _load(_signed_config(tmp_path, keys))
    batch = limit_batch(seeded.engine, config, tmp_path)
    _forge_approval(seeded.engine, batch.batch_id, "bob", batch.content_hash, None)
    with pytest.raises(RefusedError, match="not signed, the config requires a signature"):
        check_approved(seeded.engine, batch.batch_id, actor="bob", config=config, run_id="r")
    assert [p.reason for p in verify_audit_approvals(seeded.engine, config)] == [
        "unsigned, but the config requires a signature"]


@pytest.mark.skipif(shutil.which("ssh-agent") is None, reason="ssh-agent is not installed")
def test_signing_through_ssh_agent(seeded, tmp_path, keys, monkeypatch):
    agent = subprocess.run(["ssh-agent", "-s"], capture_output=True, text=True, check=True)
    found = dict(re.findall(r"(SSH_AUTH_SOCK|SSH_AGENT_PID)=([^;]+);", agent.stdout))
    try:
        monkeypatch.setenv("SSH_AUTH_SOCK", found["SSH_AUTH_SOCK"])
        subprocess.run(["ssh-add", "-q", str(keys["bob"][0])], check=True,
                       capture_output=True)
        config = _load(_signed_config(tmp_path, keys))
        bob = replace(config.authority.users["bob"], signing_key_file=None)
        config = replace(config, authority=replace(config.authority,
                                                   users={**config.authority.users, "bob": bob}))
        batch = limit_batch(seeded.engine, config, tmp_path)
        assert approve(seeded.engine, batch.batch_id, approver="bob", config=config,
                       run_id="r").status == "approved"
    finally:
        subprocess.run(["kill", found["SSH_AGENT_PID"]], check=False)


def _readme_block() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- verify-approval -->\n```sh\n(.*?)```", text, re.S)
    assert match, "README lost its approval-verification block"
    return match.group(1)


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_readme_command_verifies_an_approval_with_ssh_keygen_alone(sqlite_store, tmp_path,
                                                                   keys):
    from .conftest import seed_store

    seed_store(sqlite_store.engine)
    config_path = _signed_config(tmp_path, keys)
    config = _load(config_path)
    batch = limit_batch(sqlite_store.engine, config, tmp_path)
    approve(sqlite_store.engine, batch.batch_id, approver="bob", config=config, run_id="r")
    shutil.copy(keys["bob"][0].with_suffix(".pub"), tmp_path / "bob.pub")
    block = _readme_block()
    assert block.startswith("B=")
    script = re.sub(r"^B=\S+", f"B={batch.batch_id}", block)
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}",
           "SAPBRIDGE_CONFIG": str(config_path), "SAPBRIDGE_DB": sqlite_store.url}
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert 'Good "sapbridge-approval" signature for bob' in run.stdout + run.stderr
    (tmp_path / "approval.msg").write_text("sapbridge-approval batch=X\n", encoding="utf-8")
    tampered = subprocess.run(["bash", "-c", script.splitlines()[-1]], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=60, check=False)
    assert tampered.returncode != 0
