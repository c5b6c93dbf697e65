"""Small matrices for the recommender tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmark.core.recommend import Interactions, interaction_matrix


def blocks(n_users: int = 60, n_items: int = 40, seed: int = 0) -> tuple[Interactions, np.ndarray, np.ndarray]:
    """Two planted tastes: users of group g view and buy mostly items of group g (90% of events).
    Returns the matrices, each user's group and each item's group."""
    rng = np.random.default_rng(seed)
    user_group = np.arange(n_users) % 2
    item_group = np.arange(n_items) % 2
    records = []
    for u in range(n_users):
        for _ in range(8):
            g = user_group[u] if rng.random() < 0.9 else 1 - user_group[u]
            item = rng.choice(np.flatnonzero(item_group == g))
            kind = "purchase" if rng.random() < 0.3 else "view"
            records.append((f"u{u:03d}", f"i{item:03d}", kind, 1, float(rng.integers(0, 30))))
    rows = pd.DataFrame(records, columns=["user_id", "item_id", "event_type", "n", "age_days"])
    users = pd.Index([f"u{u:03d}" for u in range(n_users)])
    items = pd.Index([f"i{i:03d}" for i in range(n_items)])
    cats = {f"i{i:03d}": ("rice" if item_group[i] == 0 else "tv") for i in range(n_items)}
    m = interaction_matrix(rows, users=users, items=items, item_category=cats)
    seg = {u: ("a" if user_group[i] == 0 else "b") for i, u in enumerate(users)}
    return m.with_segments(seg), user_group, item_group


@pytest.fixture(scope="module")
def planted() -> tuple[Interactions, np.ndarray, np.ndarray]:
    return blocks()
