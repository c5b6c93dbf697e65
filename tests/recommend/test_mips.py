"""Norm-pruned top-n (core/recommend/mips.py) against the brute force it replaces: every item scored
with a plain product and a full sort, on factors whose lengths are as unequal as a model's are."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from segmark.core.recommend import ALSRecommender, interaction_matrix
from segmark.core.recommend.mips import NormIndex, block_top


def brute_force(users: np.ndarray, items: np.ndarray, n: int, exclude: sp.csr_matrix | None) -> list[set[int]]:
    scores = users.astype(np.float64) @ items.T.astype(np.float64)
    if exclude is not None:
        scores[exclude.toarray() != 0] = -np.inf
    out = []
    for row in scores:
        order = np.argsort(-row, kind="stable")
        out.append({int(i) for i in order[:n] if np.isfinite(row[i])})
    return out


def factors(n_users: int, n_items: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Item lengths spread over four orders of magnitude (popular items long, the tail short)."""
    rng = np.random.default_rng(seed)
    users = rng.normal(size=(n_users, dim)).astype(np.float32)
    lengths = 10.0 ** rng.uniform(-3, 1, n_items)
    items = (rng.normal(size=(n_items, dim)) * lengths[:, None]).astype(np.float32)
    return users, items


@pytest.mark.parametrize("n", [1, 10, 37])
def test_pruned_top_n_is_the_brute_force_top_n(n: int) -> None:
    users, items = factors(300, 3000, 8, seed=n)
    exclude = sp.random(300, 3000, density=0.01, format="csr", random_state=2, dtype=np.float32)
    exclude.data[:] = 1
    # small blocks and groups so the search goes through several blocks and merges
    found = NormIndex(items).top_n(users, n, exclude, first_block=64, users_at_once=70)
    expected = brute_force(users, items, n, exclude)
    assert [set(map(int, row[row >= 0])) for row in found.ids] == expected
    rows = np.arange(300)[:, None]
    exact = users @ items.T
    assert np.allclose(found.scores, exact[rows, np.maximum(found.ids, 0)], rtol=1e-4, atol=1e-5)
    # the pruning scored a fraction of the catalogue (users x items would be 900,000)
    assert found.scored < 0.5 * 300 * 3000


def test_equal_lengths_still_give_the_exact_lists() -> None:
    """No pruning is possible when every item is as long as the rest: the search scores every block."""
    rng = np.random.default_rng(0)
    users = rng.normal(size=(50, 4)).astype(np.float32)
    items = rng.normal(size=(500, 4)).astype(np.float32)
    items /= np.linalg.norm(items, axis=1, keepdims=True)
    found = NormIndex(items).top_n(users, 5, None, first_block=32)
    assert [set(map(int, row)) for row in found.ids] == brute_force(users, items, 5, None)


def test_fewer_items_left_than_asked_are_padded() -> None:
    users = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    items = np.array([[3.0, 0.0], [0.0, 2.0], [1.0, 1.0]], dtype=np.float32)
    exclude = sp.csr_matrix(np.array([[1, 0, 0], [0, 1, 1]], dtype=np.float32))
    found = NormIndex(items).top_n(users, 3, exclude)
    # user 0: item 2 (1.0), item 1 (0.0); user 1: only item 0 is left (0.0)
    got = [sorted(zip(row_ids[row_ids >= 0], row_s[row_ids >= 0], strict=True)) for row_ids, row_s in
           zip(found.ids, found.scores, strict=True)]
    assert got == [[(1, 0.0), (2, 1.0)], [(0, 0.0)]]
    assert (np.sort(found.ids, axis=1)[:, 0] == -1).all()


def test_block_top_finds_the_largest_through_chunk_maxima() -> None:
    rng = np.random.default_rng(3)
    block = rng.normal(size=(40, 1024)).astype(np.float32)
    cols, vals = block_top(block, 10)
    expected = np.sort(np.argsort(-block, axis=1)[:, :10], axis=1)
    assert (np.sort(cols, axis=1) == expected).all()
    assert np.allclose(np.sort(vals, axis=1), np.sort(np.take_along_axis(block, expected, axis=1), axis=1))


def test_als_pruned_lists_equal_the_exact_ones() -> None:
    """ALS at scale (pruned) lists what ALS scoring every item lists, history excluded or not."""
    rng = np.random.default_rng(5)
    n_users, n_items = 400, 600
    pop = 1.0 / np.arange(1, n_items + 1)
    pop /= pop.sum()
    users = rng.integers(0, n_users, 6000)
    items = rng.choice(n_items, 6000, p=pop)
    rows = np.unique(np.stack([users, items], axis=1), axis=0)
    kinds = np.array(["view", "purchase"])[rng.integers(0, 2, len(rows))]
    events = pd.DataFrame({"user_id": [f"u{u}" for u in rows[:, 0]], "item_id": [f"i{i}" for i in rows[:, 1]],
                           "event_type": kinds, "n": 1})
    m = interaction_matrix(events)
    exact = ALSRecommender(factors=8, iterations=10).fit(m)
    pruned = ALSRecommender(factors=8, iterations=10, exact_limit=1).fit(m)
    assert exact.exact_ and not pruned.exact_
    assert np.array_equal(exact.item_factors_, pruned.item_factors_)
    everyone = np.arange(m.shape[0])
    for exclude in (m.weights, None):
        lists, _ = exact.recommend(everyone, m, 10, exclude=exclude)
        found, _ = pruned.recommend(everyone, m, 10, exclude=exclude)
        assert np.array_equal(lists, found)  # the same items in the same order
