"""The stored rows' digests a resync looks the rows read up in, in memory."""

from __future__ import annotations

import numpy as np

from sapbridge.sync.known import KnownRows


def known(ids, pairs):
    return KnownRows.build([(np.array(ids, dtype=np.int64), np.array(pairs, dtype=np.int64).reshape(-1, 2))])


def read(*pairs):
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def test_a_row_is_unchanged_only_when_one_stored_row_has_both_halves_of_its_digest():
    stored = known([10, 11, 12], [(22, 5), (11, 6), (-1, -1)])
    at, same = stored.match(read((11, 6), (22, 9), (33, 1), (-1, -1), (7, 7)))
    # both halves; the first half only; unknown; a stored row without digest; unknown
    assert same.tolist() == [True, False, False, False, False]
    assert stored.ids[at[0]] == 11


def test_a_digest_two_stored_rows_share_matches_neither_and_leaves_both_unseen():
    stored = known([1, 2, 3], [(5, 1), (5, 2), (8, 3)])
    at, same = stored.match(read((5, 1), (5, 2), (8, 3)))
    assert same.tolist() == [False, False, True]
    seen = np.zeros(len(stored), dtype=bool)
    seen[at[same]] = True
    ids, digests = stored.unseen(seen)
    assert sorted(ids.tolist()) == [1, 2]
    assert sorted(map(tuple, digests.tolist())) == [(5, 1), (5, 2)]


def test_unseen_rows_keep_their_ids_and_digests_together():
    stored = known([30, 10, 20], [(9, 1), (3, 1), (6, 1)])
    seen = np.zeros(3, dtype=bool)
    _, same = stored.match(read((6, 1)))
    assert same.all()
    seen[stored.match(read((6, 1)))[0]] = True
    ids, digests = stored.unseen(seen)
    assert dict(zip(ids.tolist(), map(tuple, digests.tolist()), strict=True)) == {10: (3, 1), 30: (9, 1)}


def test_an_empty_partition_matches_nothing():
    stored = KnownRows.build([])
    _, same = stored.match(read((1, 1)))
    assert not same.any()
    assert len(stored.unseen(np.zeros(0, dtype=bool))[0]) == 0
