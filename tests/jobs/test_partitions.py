"""Sync partitions and their leases: overlapping syncs refused, all or none, dead holders taken over."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from sapbridge.config import load_settings
from sapbridge.leases.tables import job_locks
from sapbridge.mapping import mappings_for
from sapbridge.store.schema import sync_runs
from sapbridge.sync.partitions import Partition, PartitionBusyError, partition_leases, partitions_of
from sapbridge.sync.service import sync_system

from .test_lock import dead_pid


def _plant(store, lease: str, pid: int) -> None:
    now = datetime.now(UTC)
    with store.engine.begin() as conn:
        conn.execute(insert(job_locks).values(job=lease, run_id="other-run", host=socket.gethostname(),
                                              pid=pid, heartbeat_at=now, expires_at=now + timedelta(hours=1)))


def _leases(store) -> list[str]:
    with store.engine.connect() as conn:
        return sorted(conn.execute(select(job_locks.c.job)).scalars())


def test_objects_split_by_company_code_only_where_every_dataset_is_partitioned():
    mappings = mappings_for(load_settings(None))
    found = partitions_of(mappings, system="demo", objects=["all"], company_codes=["1000", "2000"])
    assert [p.label for p in found] == [
        "demo/customers/*", "demo/credit_segments/*", "demo/open_items/1000",
        "demo/open_items/2000", "demo/blocked_orders/*", "demo/disputes/*", "demo/promises/*"]
    assert partitions_of(mappings, system="demo", objects=["open_items"], company_codes=[]) == [
        Partition("demo", "open_items")]


def test_overlapping_leases_are_refused_all_or_none(store):
    one = [Partition("demo", "open_items", "1000"), Partition("demo", "open_items", "2000")]
    with partition_leases(store.engine, one, "run-a"):
        wanted = [Partition("demo", "credit_segments"), Partition("demo", "open_items", "2000")]
        busy = r"partition demo/open_items/2000 is already being synced: run run-a on .* \(pid \d+\)"
        with pytest.raises(PartitionBusyError, match=busy) as caught, \
                partition_leases(store.engine, wanted, "run-b"):
            pytest.fail("an overlapping sync ran")
        assert caught.value.exit_code == 4
        assert _leases(store) == ["sync:demo:open_items:1000", "sync:demo:open_items:2000"], \
            "the refused sync gave back the lease it had taken"
        with partition_leases(store.engine, [Partition("demo", "open_items", "3000")], "run-c"):
            assert len(_leases(store)) == 3  # a different partition runs beside
    assert _leases(store) == []


def test_sync_is_refused_while_a_live_process_syncs_its_partition(store):
    _plant(store, "sync:demo:open_items:2000", os.getppid())  # alive: the test runner's parent
    with pytest.raises(PartitionBusyError, match="demo/open_items/2000"):
        sync_system(load_settings(None), store, system="demo", objects=["open_items"],
                    company_codes=["1000", "2000"], full=True, run_id="refused", actor="test")
    with store.engine.connect() as conn:
        assert conn.execute(select(sync_runs)).first() is None, "nothing half-recorded"
    assert _leases(store) == ["sync:demo:open_items:2000"]


def test_partition_lease_of_a_killed_sync_is_taken_over(store):
    _plant(store, "sync:demo:open_items:2000", dead_pid())  # kill -9 left its lease behind
    summary = sync_system(load_settings(None), store, system="demo", objects=["open_items"],
                          company_codes=["2000"], full=True, run_id="after-crash", actor="test")
    assert summary.status == "ok"
    assert summary.rows > 0
    assert _leases(store) == []
