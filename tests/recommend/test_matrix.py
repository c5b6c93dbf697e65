"""The interaction matrix on events whose matrices are worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmark.core.recommend import interaction_matrix


def _rows(records: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(records, columns=["user_id", "item_id", "event_type", "n", "age_days"])


def test_weights_refunds_and_id_map() -> None:
    rows = _rows([
        ("u2", "b", "view", 3, 0),        # 3 views -> 3 x 1
        ("u2", "b", "cart", 1, 0),        # + 3
        ("u1", "a", "purchase", 2, 0),    # 2 purchases -> 2 x 5
        ("u1", "a", "refund", 1, 0),      # one taken back -> 5 left, 1 purchase left
        ("u1", "c", "purchase", 1, 0),
        ("u1", "c", "refund", 1, 0),      # refunded in full: gone from every matrix
        ("u3", "a", "search", 4, 0),      # no weight: ignored (u3 is still in the id map)
        ("u3", "b", "fav", 1, 0),         # 2
    ])
    m = interaction_matrix(rows)
    assert list(m.ids.users) == ["u1", "u2", "u3"] and list(m.ids.items) == ["a", "b", "c"]
    expected = np.array([[5, 0, 0], [0, 6, 0], [0, 2, 0]], dtype=np.float32)
    np.testing.assert_array_equal(m.weights.toarray(), expected)
    np.testing.assert_array_equal(m.purchases.toarray(), [[1, 0, 0], [0, 0, 0], [0, 0, 0]])
    assert m.weights.nnz == 3  # no explicit zeros left where the refund cancelled the purchase
    assert m.ids.user_index(["u3", "zz"]).tolist() == [2, -1]
    assert m.ids.item_ids(np.array([2, -1])).tolist() == ["c", None]


def test_time_decay_halves_at_the_half_life() -> None:
    rows = _rows([("u", "a", "view", 1, 0), ("u", "b", "view", 1, 30), ("u", "c", "view", 1, 60)])
    m = interaction_matrix(rows, weights={"view": 4.0}, half_life_days=30)
    np.testing.assert_allclose(m.weights.toarray(), [[4.0, 2.0, 1.0]])
    # without decay every view counts 4
    np.testing.assert_allclose(interaction_matrix(rows, weights={"view": 4.0}).weights.toarray(), [[4, 4, 4]])


def test_repeat_signal_and_purchase_days() -> None:
    rows = _rows([
        ("u", "a", "purchase", 1, 0), ("u", "a", "purchase", 1, 90), ("u", "a", "purchase", 2, 90),
        ("u", "b", "purchase", 1, 180),
    ])
    m = interaction_matrix(rows, repeat_half_life_days=90)
    # a: 1 today + 3 ninety days ago at half weight = 2.5; b: one purchase two half-lives ago = 0.25
    np.testing.assert_allclose(m.repeat.toarray(), [[2.5, 0.25]])
    np.testing.assert_array_equal(m.purchase_days.toarray(), [[2, 1]])
    np.testing.assert_array_equal(m.purchases.toarray(), [[4, 1]])


def test_fixed_id_map_ignores_outsiders_and_keeps_empty_users() -> None:
    rows = _rows([("u1", "a", "view", 1, 0), ("u9", "a", "view", 1, 0), ("u1", "zz", "view", 1, 0)])
    m = interaction_matrix(rows, users=pd.Index(["u1", "u2"]), items=pd.Index(["a"]))
    assert m.shape == (2, 1)
    np.testing.assert_array_equal(m.weights.toarray(), [[1], [0]])


def test_negative_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        interaction_matrix(_rows([("u", "a", "view", 1, 0)]), weights={"view": -1.0})


def test_categories_and_segments_follow_the_id_map() -> None:
    rows = _rows([("u2", "b", "view", 1, 0), ("u1", "a", "view", 1, 0)])
    m = interaction_matrix(rows, item_category={"a": "rice", "zz": "tv"}).with_segments({"u2": "loyal"})
    assert m.item_category.tolist() == ["rice", None]
    assert m.user_segment.tolist() == [None, "loyal"]
    part = m.rows(np.array([1]))
    assert part.user_segment.tolist() == ["loyal"] and list(part.ids.users) == ["u2"]
