"""Identity is the OS login of the real user id, never an environment variable (issue 8.1)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sapbridge.audit.log import query
from sapbridge.config import load_settings
from sapbridge.push.authority import load_push_config
from sapbridge.push.controls import EXIT_REFUSED
from sapbridge.store import open_store

from .conftest import LOGIN, seed_store, write_config
from .helpers import limit_batch

ROOT = Path(__file__).resolve().parents[2]
SPOOFED = dict.fromkeys(("SAPBRIDGE_USER", "LOGNAME", "USER", "USERNAME"), "bob-login")


def test_os_login_comes_from_the_password_database(monkeypatch):
    import pwd

    from sapbridge.push.identity import os_login

    for name in SPOOFED:
        monkeypatch.setenv(name, "bob-login")
    assert os_login() == pwd.getpwuid(os.getuid()).pw_name == LOGIN


@pytest.fixture
def alice_batch(tmp_path):
    """A batch requested by alice (this login); bob is another OS account."""
    config = write_config(tmp_path)
    text = config.read_text(encoding="utf-8")
    for role, login in (('"credit_manager"]', "bob-login"), ('"controller"]', "carol-login"),
                        ('"ar_clerk", "credit_manager"]', "dave-login")):
        text = text.replace(f'{role}\nos_user = "{LOGIN}"', f'{role}\nos_user = "{login}"')
    config.write_text(text, encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'id.db'}"
    store = open_store(db)
    seed_store(store.engine)
    push_config = load_push_config(load_settings(config))
    batch = limit_batch(store.engine, push_config, tmp_path)
    store.dispose()
    return config, db, batch.batch_id


def _sapbridge(config: Path, db: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **SPOOFED, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "sapbridge", "--config", str(config),
                           "--db", db, *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_environment_cannot_make_one_login_act_as_another(alice_batch):
    config, db, batch_id = alice_batch
    done = _sapbridge(config, db, "--as", "bob", "approve", batch_id)
    assert done.returncode == EXIT_REFUSED, done.stdout + done.stderr
    assert f"OS user {LOGIN} may not act as bob" in done.stderr
    done = _sapbridge(config, db, "approve", batch_id)  # the login is alice's: her own batch
    assert done.returncode == EXIT_REFUSED
    assert "alice requested batch" in done.stderr
    store = open_store(db)
    refusals = [(e.actor, e.detail["control"]) for e in query(store.engine, action="refused")]
    approvals = list(query(store.engine, action="approved"))
    store.dispose()
    assert refusals == [("bob", "identity"), ("alice", "segregation")]
    assert approvals == []
