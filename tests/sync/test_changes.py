"""Change detection: a resync writes only new and changed rows, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select, update

from sapbridge.mapping import load_mappings
from sapbridge.store.schema import open_items
from sapbridge.sync import SyncRequest, run_sync

from .gateway import Gateway, item, odata_sources

MAPPINGS = load_mappings("mappings")


def sync(store, gateway, run, **options):
    request = SyncRequest(system="T", objects=["open_items"], company_codes=["1000"], **options)
    summary = run_sync(store, MAPPINGS, request, odata_sources(gateway), run_id=run, actor="tester")
    d = summary.datasets[0]
    return {"read": d.read, "inserted": d.inserted, "updated": d.updated, "unchanged": d.unchanged,
            "cleared": d.cleared}


def stored(store):
    with store.engine.connect() as conn:
        return {r.document: r for r in conn.execute(select(open_items))}


@pytest.mark.parametrize("staged", [False, True], ids=["per-row", "staged"])
def test_resync_writes_only_what_changed_with_exact_counts(store, monkeypatch, staged):
    """``staged``: PostgreSQL upserts every page through its COPY stage (SQLite never does)."""
    import sapbridge.sync.writer as writer

    monkeypatch.setattr(writer, "_STAGED_MIN_ROWS", 1 if staged else 10**9)
    gateway = Gateway([item(i) for i in range(1, 9)])
    assert sync(store, gateway, "r1") == {"read": 8, "inserted": 8, "updated": 0, "unchanged": 0, "cleared": 0}
    gateway.items[2] = item(3, "55.00")
    del gateway.items[5]
    gateway.items.append(item(30))
    counts = sync(store, gateway, "r2")
    assert counts == {"read": 8, "inserted": 1, "updated": 1, "unchanged": 6, "cleared": 1}
    rows = stored(store)
    assert rows["0000000003"].amount == Decimal("55.00")
    assert rows["0000000003"].last_seen_run == "r2"
    assert rows["0000000030"].status == "open"
    assert rows["0000000006"].status == "cleared"
    unchanged = [rows[f"{i:010d}"] for i in (1, 2, 4, 5, 7, 8)]
    assert {r.last_seen_run for r in unchanged} == {"r1"}, "an unchanged row was rewritten"


def test_a_row_changed_back_and_forth_is_written_each_time(store):
    gateway = Gateway([item(1), item(2)])
    sync(store, gateway, "r1")
    for run, amount in [("r2", "1.00"), ("r3", "100.00"), ("r4", "1.00")]:
        gateway.items[0] = item(1, amount)
        assert sync(store, gateway, run)["updated"] == 1
        assert stored(store)["0000000001"].amount == Decimal(amount)
    assert sync(store, gateway, "r5")["unchanged"] == 2


def test_a_cleared_row_that_comes_back_unchanged_is_reopened(store):
    gateway = Gateway([item(1), item(2)])
    sync(store, gateway, "r1")
    gateway.items = [item(1)]
    assert sync(store, gateway, "r2")["cleared"] == 1
    gateway.items = [item(1), item(2)]
    assert sync(store, gateway, "r3") == {"read": 2, "inserted": 0, "updated": 1, "unchanged": 1, "cleared": 0}
    assert stored(store)["0000000002"].status == "open"
    assert stored(store)["0000000002"].cleared_at is None


def test_an_edited_stored_row_is_repaired_by_the_next_sync(store):
    """A row edited in the table behind sync's back no longer matches its digest only if the
    digest is changed too; editing the digest (or clearing it) makes sync rewrite the row."""
    gateway = Gateway([item(1)])
    sync(store, gateway, "r1")
    with store.engine.begin() as conn:
        conn.execute(update(open_items).values(amount=Decimal("0.01"), row_digest=None))
    assert sync(store, gateway, "r2")["updated"] == 1
    assert stored(store)["0000000001"].amount == Decimal("100.00")


def test_rows_sharing_a_digest_are_all_written_and_unseen_ones_still_cleared(store, monkeypatch):
    """Every row gets the same digest, by construction: no stored row can then be matched, so
    every row read is written (none skipped as unchanged) and only rows not read are cleared."""
    import numpy as np

    import sapbridge.sync.pages as pages
    import sapbridge.sync.resync as resync

    for module in (pages, resync):  # every place a page's digests are taken
        monkeypatch.setattr(module, "raw_digests", lambda raws, seed: np.full((len(raws), 2), 42))
    gateway = Gateway([item(1), item(2)])
    sync(store, gateway, "r1")
    gateway.items = [item(1, "5.00"), item(2), item(3)]
    counts = sync(store, gateway, "r2")
    assert counts == {"read": 3, "inserted": 1, "updated": 2, "unchanged": 0, "cleared": 0}
    assert stored(store)["0000000001"].amount == Decimal("5.00")
    gateway.items = [item(1)]
    counts = sync(store, gateway, "r3")
    rows = stored(store)
    assert (counts["updated"], counts["cleared"]) == (1, 2)
    assert [rows[f"{i:010d}"].status for i in (1, 2, 3)] == ["open", "cleared", "cleared"]


def test_a_row_is_unchanged_only_when_both_halves_of_its_digest_match(store, monkeypatch):
    """The first half of every digest names only the row's key, by construction, so a changed
    row keeps its first half: the second half alone tells it changed, and it is written."""
    import orjson
    import xxhash

    import sapbridge.sync.resync as resync

    real = resync.raw_digests

    def first_half_by_key(raws, seed):
        pairs = real(raws, seed)
        pairs[:, 0] = [xxhash.xxh3_64_intdigest(orjson.loads(bytes(raw))["AccountingDocument"].encode()) >> 1
                       for raw in raws]
        return pairs

    monkeypatch.setattr(resync, "raw_digests", first_half_by_key)
    gateway = Gateway([item(i) for i in range(1, 5)])
    sync(store, gateway, "r1")
    with store.engine.connect() as conn:
        halves = {r.document: r.row_digest for r in conn.execute(select(open_items))}
    gateway.items[1] = item(2, "77.00")
    counts = sync(store, gateway, "r2")
    assert counts == {"read": 4, "inserted": 0, "updated": 1, "unchanged": 3, "cleared": 0}
    rows = stored(store)
    assert rows["0000000002"].amount == Decimal("77.00")
    assert rows["0000000002"].row_digest == halves["0000000002"], "the construction kept the first half"
    assert rows["0000000002"].row_check is not None


def test_a_stale_row_id_never_clears_another_row(store):
    """Clearing names rows by id and digest (SQLite) or by digest (PostgreSQL): a row is cleared
    only with its own digest, so an id that now holds another row is left alone."""
    from datetime import UTC, datetime

    from sapbridge.sync.writer import DatasetWriter

    gateway = Gateway([item(1), item(2)])
    sync(store, gateway, "r1")
    columns = MAPPINGS["open_items"].columns(MAPPINGS["open_items"].odata)
    with store.engine.begin() as conn:
        writer = DatasetWriter(conn, open_items, columns, system="T", run_id="r9", now=datetime.now(UTC))
        ids, digests = next(writer.stored_rows(("company_code", "1000")))
        scope = ("company_code", "1000")
        assert writer.clear_rows(scope, ids, digests + 1) == 0, "a row was cleared without its digest"
        if store.dialect == "sqlite":
            assert writer.clear_rows(scope, ids, digests[::-1].copy()) == 0, "an id took another's digest"
        assert writer.clear_rows(scope, ids[:1], digests[:1]) == 1
    assert sorted(r.status for r in stored(store).values()) == ["cleared", "open"]


def test_a_mapping_change_rewrites_every_row_once(store, monkeypatch):
    gateway = Gateway([item(1), item(2)])
    sync(store, gateway, "r1")
    import sapbridge.sync.digest as digest

    monkeypatch.setattr(digest, "DIGEST_VERSION", digest.DIGEST_VERSION + 1)
    assert sync(store, gateway, "r2")["updated"] == 2
    assert sync(store, gateway, "r3")["unchanged"] == 2


@pytest.mark.parametrize("worker_min_rows", [1, 10_000])
def test_worker_process_and_in_process_conversion_store_the_same(store, worker_min_rows):
    gateway = Gateway([item(i, f"{i}.50") for i in range(1, 12)])
    assert sync(store, gateway, "r1", worker_min_rows=worker_min_rows)["inserted"] == 11
    gateway.items[0] = item(1, "9.99")
    assert sync(store, gateway, "r2", worker_min_rows=worker_min_rows)["updated"] == 1
    rows = stored(store)
    assert rows["0000000001"].amount == Decimal("9.99")
    assert rows["0000000011"].amount == Decimal("11.50")
    assert rows["0000000011"].customer == "0000100001"


def test_pages_split_between_the_worker_and_this_process_give_exact_counts(store, monkeypatch):
    """When the worker falls behind, the writer's process takes pages itself: the partition's
    seen rows are then the union of both sides', and nothing is counted twice or lost."""
    from itertools import count

    from sapbridge.sync.rows import PageConverter

    turns = count()
    monkeypatch.setattr(PageConverter, "in_worker", lambda self, rows: next(turns) % 2 == 0)
    gateway = Gateway([item(i) for i in range(1, 14)])
    assert sync(store, gateway, "r1")["inserted"] == 13
    gateway.items[0] = item(1, "7.00")
    gateway.items[12] = item(13, "8.00")
    del gateway.items[6]
    gateway.items.append(item(40))
    counts = sync(store, gateway, "r2")
    assert counts == {"read": 13, "inserted": 1, "updated": 2, "unchanged": 10, "cleared": 1}
    rows = stored(store)
    assert (rows["0000000001"].amount, rows["0000000013"].amount) == (Decimal("7.00"), Decimal("8.00"))
    assert rows["0000000007"].status == "cleared"
    assert {r.last_seen_run for d, r in rows.items() if d not in {"0000000001", "0000000013",
                                                                   "0000000040", "0000000007"}} == {"r1"}


@pytest.mark.postgres
def test_a_first_load_never_waits_on_another_sync_for_its_statistics(pg_store):
    """Another transaction holding the table's ANALYZE lock (a partition loading beside this one)
    must not hold this first load up: it commits without the statistics, and with its rows."""
    import threading
    import time

    from sqlalchemy import text

    with pg_store.engine.connect() as other:
        other.execute(text("LOCK TABLE open_items IN SHARE UPDATE EXCLUSIVE MODE"))
        done: dict[str, object] = {}
        worker = threading.Thread(target=lambda: done.update(counts=sync(pg_store, Gateway([item(1), item(2)]),
                                                                         "r1")))
        started = time.monotonic()
        worker.start()
        worker.join(timeout=30)
        assert not worker.is_alive(), "the first load waited for the other transaction's lock"
        assert time.monotonic() - started < 20
        other.rollback()
    assert done["counts"]["inserted"] == 2
    assert sorted(stored(pg_store)) == ["0000000001", "0000000002"]
