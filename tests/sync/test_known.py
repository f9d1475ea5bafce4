"""The stored rows' key hashes and digests a resync compares with, in memory."""

from __future__ import annotations

import numpy as np

from sapbridge.sync.known import KnownRows, key_hashes, key_texts


def known(keys, digests):
    return KnownRows.build([(key_texts(keys), np.array(digests, dtype=np.int64))])


def test_a_row_is_unchanged_only_with_its_own_key_and_digest():
    stored = known([("1000", "A"), ("1000", "B"), ("2000", "A")], [11, 22, -1])
    read = key_hashes(key_texts([("1000", "B"), ("1000", "A"), ("2000", "A"), ("3000", "A")]))
    at, found = stored.find(read)
    same = stored.unchanged(at, found, np.array([22, 99, 33, 11], dtype=np.int64))
    # same digest; another digest; a stored row without digest; a key the store lacks
    assert same.tolist() == [True, False, False, False]


def test_a_key_hash_two_stored_keys_share_is_never_unchanged_and_both_count_as_seen(monkeypatch):
    import sapbridge.sync.known as module

    real = module.key_hashes
    collide = {"1\x1fA", "1\x1fB"}  # these two keys hash alike, by construction
    monkeypatch.setattr(module, "key_hashes", lambda texts: np.array(
        [7 if text in collide else int(real([text])[0]) for text in texts], dtype=np.int64))
    stored = known([("1", "A"), ("1", "B"), ("1", "C")], [5, 6, 8])
    read = module.key_hashes(key_texts([("1", "A")]))
    at, found = stored.find(read)
    assert found.all()
    assert not stored.unchanged(at, found, np.array([5], dtype=np.int64)).any()
    seen = np.zeros(len(stored), dtype=bool)
    seen[stored.seen_positions(read)] = True
    digests, missing = stored.unseen(seen)
    assert (digests.tolist(), missing) == ([8], 0), "both keys of the shared hash count as seen"


def test_unseen_rows_without_a_digest_are_counted_apart():
    stored = known([("1",), ("2",), ("3",)], [4, -1, 6])
    seen = np.zeros(3, dtype=bool)
    seen[stored.seen_positions(key_hashes(key_texts([("3",)])))] = True
    digests, missing = stored.unseen(seen)
    assert (digests.tolist(), missing) == ([4], 1)
