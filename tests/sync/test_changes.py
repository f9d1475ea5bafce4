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


def test_resync_writes_only_what_changed_with_exact_counts(store):
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


def test_digest_collision_between_keys_never_loses_a_row_or_clears_a_seen_one(store, monkeypatch):
    """Every row gets the same digest, by construction: rows are still told apart by key."""
    import sapbridge.sync.pages as pages
    import sapbridge.sync.resync as resync

    for module in (pages, resync):  # every place a page's digests are taken
        monkeypatch.setattr(module, "raw_digests", lambda raws, seed: [42] * len(raws))
    gateway = Gateway([item(1), item(2)])
    sync(store, gateway, "r1")
    gateway.items = [item(1), item(2), item(3)]
    counts = sync(store, gateway, "r2")
    assert (counts["inserted"], counts["unchanged"]) == (1, 2), "a new row hidden by another's digest"
    gateway.items = [item(1)]
    counts = sync(store, gateway, "r3")
    rows = stored(store)
    assert rows["0000000001"].status == "open"
    # The two unseen rows share the seen row's digest: clearing fails open (keeps them) rather
    # than risking a false clearing; a real 63-bit collision is about 1 in 10^18 per pair.
    assert counts["cleared"] == 0
    assert {rows["0000000002"].status, rows["0000000003"].status} == {"open"}


def test_key_hash_collision_between_keys_never_skips_a_changed_or_new_row(store, monkeypatch):
    """Every key hashes alike, by construction: a row is then never taken as unchanged, so
    changed and new rows are all written and nothing unseen is lost or wrongly kept."""
    import numpy as np

    import sapbridge.sync.known as known
    import sapbridge.sync.resync as resync

    for module in (known, resync):  # the stored rows' key hashes and the read rows'
        monkeypatch.setattr(module, "key_hashes", lambda texts: np.full(len(texts), 7, dtype=np.int64))
    gateway = Gateway([item(1), item(2), item(3)])
    sync(store, gateway, "r1")
    gateway.items = [item(1, "9.99"), item(2), item(4)]
    counts = sync(store, gateway, "r2")
    assert (counts["read"], counts["inserted"], counts["unchanged"]) == (3, 1, 0)
    assert counts["updated"] == 2, "rows not told apart by key hash are rewritten, not skipped"
    rows = stored(store)
    assert rows["0000000001"].amount == Decimal("9.99")
    assert rows["0000000004"].status == "open"
    # Row 3 shares its key hash with rows seen, so it counts as seen: clearing fails open.
    assert counts["cleared"] == 0
    assert rows["0000000003"].status == "open"


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
