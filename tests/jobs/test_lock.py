"""The job lease: one holder at a time, taken over only from a dead process or an expired lease."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from sapbridge.leases.lock import Acquired, Heartbeat, LockHolder, acquire, current_holder, release
from sapbridge.leases.tables import job_locks


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def plant(store, *, run_id: str, host: str, pid: int, expires_in: timedelta) -> None:
    now = datetime.now(UTC)
    with store.engine.begin() as conn:
        conn.execute(insert(job_locks).values(job="nightly", run_id=run_id, host=host, pid=pid,
                                              heartbeat_at=now - timedelta(seconds=5),
                                              expires_at=now + expires_in))


def lock_row(store):
    with store.engine.connect() as conn:
        return conn.execute(select(job_locks)).first()


def test_free_lease_is_taken_and_a_second_run_is_refused(store):
    assert acquire(store.engine, "nightly", "r1") == Acquired(None)
    refused = acquire(store.engine, "nightly", "r2")
    assert isinstance(refused, LockHolder)
    assert (refused.run_id, refused.host, refused.pid) == ("r1", socket.gethostname(), os.getpid())
    assert acquire(store.engine, "other-job", "r2") == Acquired(None)  # leases are per job
    release(store.engine, "nightly", "r2")  # not the holder: nothing happens
    assert lock_row(store).run_id == "r1"
    release(store.engine, "nightly", "r1")
    assert lock_row(store).job == "other-job"
    assert acquire(store.engine, "nightly", "r2") == Acquired(None)


def test_lease_of_a_dead_process_on_this_host_is_taken_over_at_once(store):
    pid = dead_pid()
    plant(store, run_id="dead", host=socket.gethostname(), pid=pid, expires_in=timedelta(hours=1))
    assert current_holder(store.engine, "nightly") is None
    taken = acquire(store.engine, "nightly", "mine")
    assert isinstance(taken, Acquired)
    assert taken.taken_from is not None
    assert (taken.taken_from.run_id, taken.taken_from.pid) == ("dead", pid)
    row = lock_row(store)
    assert (row.run_id, row.pid) == ("mine", os.getpid())


def test_live_process_on_this_host_keeps_its_lease_even_when_expired(store):
    plant(store, run_id="alive", host=socket.gethostname(), pid=os.getppid(), expires_in=timedelta(minutes=-30))
    holder = acquire(store.engine, "nightly", "mine")
    assert isinstance(holder, LockHolder)
    assert holder.run_id == "alive"


def test_holder_on_another_host_keeps_the_lease_until_it_expires(store):
    plant(store, run_id="remote", host="other-host.invalid", pid=1, expires_in=timedelta(minutes=2))
    holder = acquire(store.engine, "nightly", "mine")
    assert isinstance(holder, LockHolder)
    assert "run remote on other-host.invalid (pid 1)" in holder.describe()
    with store.engine.begin() as conn:
        conn.execute(job_locks.update().values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    taken = acquire(store.engine, "nightly", "mine")
    assert isinstance(taken, Acquired)
    assert taken.taken_from is not None
    assert taken.taken_from.host == "other-host.invalid"


def test_same_run_id_from_another_live_process_is_still_refused(store):
    plant(store, run_id="r1", host="other-host.invalid", pid=os.getpid(), expires_in=timedelta(minutes=2))
    assert isinstance(acquire(store.engine, "nightly", "r1"), LockHolder)


def test_heartbeat_renews_the_lease_and_notices_when_it_is_lost(store):
    assert isinstance(acquire(store.engine, "nightly", "r1", lease=timedelta(seconds=30)), Acquired)
    first = lock_row(store).expires_at
    with Heartbeat(store.engine, "nightly", "r1", interval=timedelta(seconds=0.05),
                   lease=timedelta(seconds=30)) as beat:
        deadline = time.monotonic() + 5
        while lock_row(store).expires_at == first and time.monotonic() < deadline:
            time.sleep(0.02)
        assert lock_row(store).expires_at > first
        with store.engine.begin() as conn:
            conn.execute(job_locks.update().values(run_id="thief"))
        while not beat.lost and time.monotonic() < deadline:
            time.sleep(0.02)
        assert beat.lost
