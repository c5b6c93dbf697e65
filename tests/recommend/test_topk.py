"""Vectorised top-k against a full sort, row by row."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from segmark.core.recommend import dense_topk, sparse_topk


def _reference(m: sp.csr_matrix, k: int) -> list[list[tuple[int, float]]]:
    out = []
    for r in range(m.shape[0]):
        row = m.getrow(r)
        pairs = sorted(zip(row.indices.tolist(), row.data.tolist(), strict=True), key=lambda p: (-p[1], p[0]))
        out.append(pairs[:k])
    return out


def test_sparse_topk_matches_a_full_sort_on_rows_of_every_length() -> None:
    rng = np.random.default_rng(3)
    lengths = [0, 1, 3, 10, 11, 25, 80, 400]
    rows, cols, vals = [], [], []
    for r, n in enumerate(lengths * 3):
        c = rng.choice(2000, size=n, replace=False)
        rows += [r] * n
        cols += c.tolist()
        vals += rng.random(n).round(2).tolist()  # rounded: ties happen
    m = sp.csr_matrix((vals, (rows, cols)), shape=(len(lengths) * 3, 2000), dtype=np.float32)
    ids, scores = sparse_topk(m, 10)
    for r, expected in enumerate(_reference(m, 10)):
        got = [(int(i), float(s)) for i, s in zip(ids[r], scores[r], strict=True) if i >= 0]
        assert [s for _, s in got] == [s for _, s in expected]
        # equal scores are listed by item index, as in the reference
        assert [i for i, _ in got] == [i for i, _ in expected]
        assert (ids[r][len(got):] == -1).all() and np.isneginf(scores[r][len(got):]).all()


def test_dense_topk_skips_excluded_items() -> None:
    block = np.array([[0.1, 0.9, -np.inf, 0.5], [-np.inf, -np.inf, -np.inf, 0.2]], dtype=np.float32)
    ids, scores = dense_topk(block, 3)
    assert ids.tolist() == [[1, 3, 0], [3, -1, -1]]
    np.testing.assert_allclose(scores[0], [0.9, 0.5, 0.1])
