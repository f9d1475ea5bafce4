"""Bounded subset search: which few open items of one customer add up to a payment?

Credit memos (negative amounts) take part. Sizes 1 to 4 are searched with sorted lookups
(size 3 and 4 via pairs), so a customer with ``n`` candidates costs about ``n^2 log n``,
never the full ``2^n``. Solutions are returned exact-sum first, then fewer items first.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from itertools import combinations

__all__ = ["find_combinations", "find_subset"]


def _in_range(values: list[int], low: int, high: int) -> range:
    return range(bisect_left(values, low), bisect_right(values, high))


def _sizes_1_2(amounts: Sequence[int], target: int, tol: int) -> Iterator[tuple[int, ...]]:
    singles = sorted((a, i) for i, a in enumerate(amounts))
    values = [a for a, _ in singles]
    for value, i in singles:
        if abs(value - target) <= tol:
            yield (i,)
    for i, a in enumerate(amounts):
        for k in _in_range(values, target - tol - a, target + tol - a):
            j = singles[k][1]
            if j > i:
                yield (i, j)


def _sizes_3_4(amounts: Sequence[int], target: int, tol: int, max_items: int) -> Iterator[tuple[int, ...]]:
    n = len(amounts)
    singles = sorted((a, i) for i, a in enumerate(amounts))
    values = [a for a, _ in singles]
    pairs = sorted((amounts[i] + amounts[j], i, j) for i in range(n) for j in range(i + 1, n))
    pair_values = [p[0] for p in pairs]
    for pair_sum, i, j in pairs:
        for k in _in_range(values, target - tol - pair_sum, target + tol - pair_sum):
            third = singles[k][1]
            if third > j:
                yield (i, j, third)
    if max_items < 4:
        return
    for pair_sum, i, j in pairs:
        for k in _in_range(pair_values, target - tol - pair_sum, target + tol - pair_sum):
            _, left, right = pairs[k]
            if left > j:
                yield (i, j, left, right)


def find_combinations(amounts: Sequence[int], target: int, tol: int, max_items: int,
                      limit: int = 3) -> list[tuple[int, ...]]:
    """Up to ``limit`` sets of positions in ``amounts`` summing to ``target`` within ``tol``.

    Exact sums come first, then fewer items; positions inside a set are ascending.
    """
    found: list[tuple[int, ...]] = []
    exact: list[tuple[int, ...]] = []
    generators = [_sizes_1_2(amounts, target, tol)]
    if max_items >= 3:
        generators.append(_sizes_3_4(amounts, target, tol, max_items))
    for generator in generators:
        for combo in generator:
            if len(combo) > max_items:
                continue
            total = sum(amounts[i] for i in combo)
            (exact if total == target else found).append(combo)
            if len(exact) >= limit:
                return exact[:limit]
        if exact:
            break
    ranked = exact + sorted(found, key=lambda c: (abs(sum(amounts[i] for i in c) - target), len(c)))
    return ranked[:limit]


def find_subset(amounts: Sequence[int], target: int, tol: int, *,
                max_size: int = 12) -> list[tuple[int, ...]]:
    """Every subset (as positions) of a short list summing to ``target`` within ``tol``, at most 3.

    Used on the few items a remittance names; lists longer than ``max_size`` are not searched.
    """
    if len(amounts) > max_size:
        return []
    found = []
    for size in range(1, len(amounts)):
        for combo in combinations(range(len(amounts)), size):
            if abs(sum(amounts[i] for i in combo) - target) <= tol:
                found.append(combo)
                if len(found) >= 3:
                    return found
    return found
