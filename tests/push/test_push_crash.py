"""Kill the apply process at many points, re-run it, and prove exactly-once and a whole log.

Each case runs the apply in a subprocess that dies (``os._exit``, no cleanup, like a power
cut) at a failpoint, then runs it again without one. After the re-run: every row is done, SAP
holds each change exactly once, every row has exactly one ``applied`` entry, and the audit chain
verifies.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from sapbridge.audit.log import query, verify
from sapbridge.push.approval import approve
from sapbridge.push.state import load_batch, load_rows
from sapbridge.store import open_store

from .conftest import seed_sap, seed_store
from .fakes import FakeSapState
from .helpers import limit_batch, writeoff_batch

RUNNER = Path(__file__).with_name("crash_runner.py")
REPO = Path(__file__).resolve().parents[2]

LIMIT_POINTS = [f"{p}:{n}" for p in ("limit_before_patch", "limit_after_patch",
                                     "settle_before_commit") for n in (1, 2)]
WRITEOFF_POINTS = [f"{p}:{n}" for p in ("writeoff_before_post",
                                        "writeoff_after_post_before_commit",
                                        "writeoff_after_commit", "settle_before_commit")
                   for n in (1, 3)]


def _run(db_url: str, sap: Path, config: Path, batch_id: str,
         failpoint: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAPBRIDGE_")}
    if failpoint:
        env["SAPBRIDGE_FAILPOINT"] = failpoint
    return subprocess.run([sys.executable, str(RUNNER), db_url, str(sap), str(config), batch_id],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
                          check=False)


def _prepare(tmp_path: Path, config_path: Path, push_config, kind: str):
    db_url = f"sqlite:///{tmp_path / 'crash.db'}"
    store = open_store(db_url)
    seed_store(store.engine)
    sap = FakeSapState(tmp_path / "sap.json")
    seed_sap(sap)
    make = limit_batch if kind == "limits" else writeoff_batch
    batch = make(store.engine, push_config, tmp_path)
    approve(store.engine, batch.batch_id, approver="bob", config=push_config, run_id="r")
    return store, db_url, sap, batch.batch_id


def _assert_exactly_once(store, sap: FakeSapState, batch_id: str, kind: str) -> None:
    with store.engine.connect() as conn:
        rows = load_rows(conn, batch_id)
        assert load_batch(conn, batch_id).status == "done"
    assert {r.state for r in rows} == {"done"}
    if kind == "limits":
        patched = Counter(p["keys"]["BusinessPartner"] for p in sap.load()["patches"])
        assert patched == Counter(r.customer for r in rows)
    else:
        assert sap.documents_by_reference() == {r.idem_key: 1 for r in rows}
    applied = Counter(e.row_no for e in query(store.engine, batch_id=batch_id, action="applied")
                      if e.row_no is not None)
    assert applied == {r.row_no: 1 for r in rows}
    verified = Counter(e.row_no for e in query(store.engine, batch_id=batch_id,
                                               action="verified"))
    assert verified == {r.row_no: 1 for r in rows}
    result = verify(store.engine)
    assert result.ok, result.reason


@pytest.mark.parametrize(("kind", "point"), [("limits", p) for p in LIMIT_POINTS]
                         + [("write-offs", p) for p in WRITEOFF_POINTS])
def test_crash_then_rerun_is_exactly_once(tmp_path, config_path, push_config, kind, point):
    store, db_url, sap, batch_id = _prepare(tmp_path, config_path, push_config, kind)
    store.dispose()
    crashed = _run(db_url, tmp_path / "sap.json", config_path, batch_id, point)
    assert crashed.returncode == 137, crashed.stderr
    rerun = _run(db_url, tmp_path / "sap.json", config_path, batch_id, None)
    assert rerun.returncode == 0, rerun.stderr
    _assert_exactly_once(store, sap, batch_id, kind)
    store.dispose()


def test_repeated_crashes_at_every_point_in_turn(tmp_path, config_path, push_config):
    store, db_url, sap, batch_id = _prepare(tmp_path, config_path, push_config, "write-offs")
    store.dispose()
    for point in ("writeoff_after_commit:1", "writeoff_after_post_before_commit:1",
                  "settle_before_commit:2"):
        assert _run(db_url, tmp_path / "sap.json", config_path, batch_id,
                    point).returncode == 137
    assert _run(db_url, tmp_path / "sap.json", config_path, batch_id, None).returncode == 0
    _assert_exactly_once(store, sap, batch_id, "write-offs")
    store.dispose()
