"""Requests and approvals at the same moment in real processes (issue 8.4), on both stores."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select, text

from sapbridge.audit.log import query, verify
from sapbridge.push.controls import EXIT_REFUSED
from sapbridge.push.state import load_batch
from sapbridge.push.tables import push_approvals, push_batches

from .conftest import WRITEOFF_HEADER, write_csv
from .helpers import limit_batch

RUNNER = Path(__file__).with_name("race_runner.py")
PROCESSES = 5
ROUNDS = 2


def _race(store, config_path: Path, *runs: tuple[str, ...]) -> list[tuple[int, str]]:
    """One runner per ``runs`` entry, all released at once; (exit code, line) of each."""
    procs = [subprocess.Popen([sys.executable, str(RUNNER), args[0], store.url,
                               str(config_path), *args[1:]],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for args in runs]
    for proc in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode in {0, 2}, err
        results.append((proc.returncode, out.strip()))
    return results


def test_one_item_is_requested_once_however_many_request_at_once(seeded, config_path,
                                                                 tmp_path):
    for round_no in range(1, ROUNDS + 1):
        path = write_csv(tmp_path / f"wo{round_no}.csv", WRITEOFF_HEADER,
                         f"1000,0010000001,2026,009000000{round_no},001,120.00,EUR,SMALL,x")
        results = _race(seeded, config_path, *[("import", str(path))] * PROCESSES)
        winners = [line for code, line in results if code == 0]
        losers = [line for code, line in results if code == EXIT_REFUSED]
        assert len(winners) == 1, results
        batch_id = winners[0].split()[1]
        # who lost before validating sees the amount already requested, who lost while
        # storing sees the claim: one line either way
        assert all(line.endswith((f"is already requested in batch {batch_id} (one live batch"
                                  " per item)", "already requested in other batches is above"
                                  " the open amount 120.00 EUR")) for line in losers), results
    with seeded.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(push_batches)).scalar() == ROUNDS
        assert conn.execute(text("SELECT count(*) FROM push_claims")).scalar() == ROUNDS
    assert len(list(query(seeded.engine, action="imported"))) == ROUNDS
    refusals = list(query(seeded.engine, action="refused"))
    assert len(refusals) == ROUNDS * (PROCESSES - 1)
    assert verify(seeded.engine).ok


def test_one_user_approves_once_however_many_runs_at_once(seeded, push_config, config_path,
                                                          tmp_path):
    for _ in range(2):
        # 30000 increase: within bob's authority, above 10000 so two approvers are needed
        batch = limit_batch(seeded.engine, push_config, tmp_path,
                            "0010000001,1000,80000.00,EUR,,growth")
        results = _race(seeded, config_path,
                        *[("approve", batch.batch_id, "bob")] * PROCESSES)
        assert sorted(code for code, _ in results) == [0] + [2] * (PROCESSES - 1), results
        assert all(line == f"refused bob already decided on batch {batch.batch_id}"
                   for code, line in results if code == EXIT_REFUSED), results
        with seeded.engine.connect() as conn:
            approvers = conn.execute(select(push_approvals.c.user).where(
                push_approvals.c.batch_id == batch.batch_id)).scalars().all()
            assert approvers == ["bob"]
            assert load_batch(conn, batch.batch_id).status == "requested"
        approved = list(query(seeded.engine, action="approved", batch_id=batch.batch_id))
        assert [e.actor for e in approved] == ["bob"]
    assert verify(seeded.engine).ok


def test_two_approvers_at_once_both_count(seeded, push_config, config_path, tmp_path):
    for _ in range(2):
        batch = limit_batch(seeded.engine, push_config, tmp_path,
                            "0010000001,1000,80000.00,EUR,,growth")
        results = _race(seeded, config_path, ("approve", batch.batch_id, "bob"),
                        ("approve", batch.batch_id, "carol"))
        assert [code for code, _ in results] == [0, 0], results
        with seeded.engine.connect() as conn:
            assert load_batch(conn, batch.batch_id).status == "approved"
