"""The k best entries of every row of a sparse score matrix, vectorised.

Scoring a batch of users gives a CSR matrix with a few hundred candidates per row; a Python loop per
user (implicit's batch path for neighbour models) is what makes recommending for a million users
slow. Here rows are grouped by their number of candidates into buckets whose widths at most double,
each bucket is padded into a dense block and ``argpartition`` works on whole blocks, so the cost is
proportional to the candidates, not to users times items. Equal scores are listed by item index.
"""

from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse as sp

PAD_ID = -1
PAD_SCORE = np.float32(-np.inf)


def empty_topk(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full((n, k), PAD_ID, dtype=np.int64), np.full((n, k), PAD_SCORE, dtype=np.float32)


def sparse_topk(scores: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Item indices and scores of each row's ``k`` highest stored entries, best first.

    Rows with fewer entries are padded with ``PAD_ID`` / ``-inf``."""
    scores = sp.csr_matrix(scores)
    n = scores.shape[0]
    ids, out = empty_topk(n, k)
    if k <= 0 or scores.nnz == 0:
        return ids, out
    scores.sort_indices()
    lens = np.diff(scores.indptr)
    upper = max(int(lens.max()), 1)
    edges = [0, k]
    while edges[-1] < upper:
        edges.append(edges[-1] * 2)
    for lo, hi in itertools.pairwise(edges):
        rows = np.flatnonzero((lens > lo) & (lens <= hi))
        if len(rows) == 0:
            continue
        width = int(lens[rows].max())
        starts = scores.indptr[rows].astype(np.int64)
        offsets = np.arange(width, dtype=np.int64)
        valid = offsets[None, :] < lens[rows][:, None]
        flat = np.where(valid, starts[:, None] + offsets[None, :], 0)
        block = np.where(valid, scores.data[flat], -np.inf)
        kk = min(k, width)
        if width > kk:
            # negate for a descending partition; the sort below orders what it kept
            part = np.argpartition(-block, kk - 1, axis=1)[:, :kk]
            # where equal scores straddle the k-th place the partition kept arbitrary ones: those
            # rows are sorted in full (score, then item: columns are in item order within a row)
            kth = np.take_along_axis(block, part, axis=1).min(axis=1)
            above = (block > kth[:, None]).sum(axis=1)
            tied = np.flatnonzero((block == kth[:, None]).sum(axis=1) > kk - above)
            if len(tied):
                part = part.copy()
                full = np.lexsort((np.broadcast_to(offsets, (len(tied), width)), -block[tied]), axis=1)
                part[tied] = full[:, :kk]
        else:
            part = np.broadcast_to(offsets, (len(rows), width))
        best = np.take_along_axis(block, part, axis=1)
        cols = np.take_along_axis(flat, part, axis=1)
        item = scores.indices[cols]
        # descending score, then ascending item index
        order = np.lexsort((item, -best), axis=1)
        best = np.take_along_axis(best, order, axis=1)
        item = np.take_along_axis(item, order, axis=1)
        valid_best = np.isfinite(best)
        ids[rows, :kk] = np.where(valid_best, item, PAD_ID)
        out[rows, :kk] = np.where(valid_best, best, PAD_SCORE)
    return ids, out


def dense_topk(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The same for a dense block (``-inf`` marks excluded items)."""
    n, m = scores.shape
    ids, out = empty_topk(n, k)
    kk = min(k, m)
    if kk == 0 or n == 0:
        return ids, out
    part = np.argpartition(-scores, kk - 1, axis=1)[:, :kk] if m > kk else np.broadcast_to(np.arange(m), (n, m))
    best = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -best), axis=1)
    best = np.take_along_axis(best, order, axis=1)
    item = np.take_along_axis(part, order, axis=1)
    finite = np.isfinite(best)
    ids[:, :kk] = np.where(finite, item, PAD_ID)
    out[:, :kk] = np.where(finite, best, PAD_SCORE).astype(np.float32)
    return ids, out
