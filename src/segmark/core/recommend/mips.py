"""Each user's exact top-n items by inner product, without scoring the whole catalogue.

Length-based pruning (as in LEMP, Teflioudi, Gemulla & Mykytiuk 2015): ``u . v <= |u| |v|``, so with
the items in decreasing norm, once a user's n-th best score so far is at least ``|u|`` times the
largest norm not yet scored, no later item can enter the list and the user is settled. Factor models
give the items many users touch long vectors and the long tail short ones, so most users are settled
after the first block of about a thousand items out of a hundred thousand; the others go on, block
by block (each twice the last), until they are settled or the catalogue ends. The answer is therefore
exact (ties at the n-th place aside) whatever the data; only its cost depends on how unequal the norms
are, and ``NormIndex.top_n`` reports how many items it scored per user.

Blocks are scored by dense BLAS products of a bounded number of users at a time; the n best of a
block are found from chunk maxima first (the n chunks with the highest maxima hold the n best
entries), so choosing costs little beside the product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

FIRST_BLOCK = 1024
"""Items in the first block (the longest vectors); each later block is twice the one before."""

USERS_AT_ONCE = 4096
"""Users scored together: a 4,096 x 1,024 block of float32 scores is 16 MB."""

CHUNK = 16
"""Entries per chunk maximum when picking a block's best."""


@dataclass(frozen=True)
class Found:
    """Each user's best items (-1 / -inf padding where fewer exist), not in order, and the work done."""

    ids: np.ndarray
    scores: np.ndarray
    scored: int
    """Item scores computed in all (users x items they were compared with)."""


class NormIndex:
    """Item vectors sorted by decreasing norm, for ``top_n``."""

    def __init__(self, item_vectors: np.ndarray) -> None:
        vectors = np.asarray(item_vectors, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1)
        self.order = np.argsort(-norms, kind="stable")
        self.vectors = np.ascontiguousarray(vectors[self.order])
        self.norms = norms[self.order].astype(np.float32)
        self.position = np.empty(len(self.order), dtype=np.int64)
        self.position[self.order] = np.arange(len(self.order))

    @property
    def n_items(self) -> int:
        return len(self.order)

    def top_n(self, users: np.ndarray, n: int, exclude: sp.csr_matrix | None = None, *,
              first_block: int = FIRST_BLOCK, users_at_once: int = USERS_AT_ONCE) -> Found:
        """The ``n`` items of highest ``user . item`` for each row of ``users``, leaving out each row's
        ``exclude`` entries (a users x items matrix; its stored entries are the items left out)."""
        users = np.ascontiguousarray(users, dtype=np.float32)
        n_users = users.shape[0]
        ids = np.full((n_users, n), -1, dtype=np.int64)
        scores = np.full((n_users, n), -np.inf, dtype=np.float32)
        scored = 0
        if n <= 0 or n_users == 0 or self.n_items == 0:
            return Found(ids, scores, 0)
        exclude = None if exclude is None else sp.csr_matrix(exclude)
        for lo in range(0, n_users, users_at_once):
            hi = min(lo + users_at_once, n_users)
            part = None if exclude is None else exclude[lo:hi]
            pos, best, work = self._settle(users[lo:hi], n, part, first_block)
            ids[lo:hi] = np.where(pos >= 0, self.order[np.maximum(pos, 0)], -1)
            scores[lo:hi] = best
            scored += work
        return Found(ids, scores, scored)

    def _settle(self, users: np.ndarray, n: int, exclude: sp.csr_matrix | None,
                first_block: int) -> tuple[np.ndarray, np.ndarray, int]:
        """Positions (in norm order) and scores of the best ``n`` of a few thousand users."""
        n_users = users.shape[0]
        unorm = np.linalg.norm(users, axis=1)
        best_pos = np.full((n_users, n), -1, dtype=np.int64)
        best = np.full((n_users, n), -np.inf, dtype=np.float32)
        if exclude is not None and exclude.nnz:
            ex_row = np.repeat(np.arange(n_users), np.diff(exclude.indptr))
            ex_pos = self.position[exclude.indices]
        else:
            ex_row = ex_pos = np.empty(0, dtype=np.int64)
        active = np.arange(n_users)
        start, width, work = 0, max(first_block, n), 0
        while len(active) and start < self.n_items:
            stop = min(start + width, self.n_items)
            block = users[active] @ self.vectors[start:stop].T
            work += block.size
            if len(ex_row):
                slot = np.full(n_users, -1, dtype=np.int64)
                slot[active] = np.arange(len(active))
                hit = (ex_pos >= start) & (ex_pos < stop) & (slot[ex_row] >= 0)
                block[slot[ex_row[hit]], ex_pos[hit] - start] = -np.inf
            cols, vals = block_top(block, n)
            cols += start
            if start > 0:  # merge with what the earlier blocks kept
                cols = np.concatenate([best_pos[active], cols], axis=1)
                vals = np.concatenate([best[active], vals], axis=1)
                keep = np.argpartition(vals, vals.shape[1] - n, axis=1)[:, -n:]
                cols = np.take_along_axis(cols, keep, axis=1)
                vals = np.take_along_axis(vals, keep, axis=1)
            best_pos[active] = np.where(np.isfinite(vals), cols, -1)
            best[active] = vals
            start = stop
            bound = self.norms[start] if start < self.n_items else np.float32(0)
            # settled: nothing not yet scored can beat the n-th best (u . v <= |u| |v|)
            settled = best[active].min(axis=1) >= unorm[active] * bound
            active = active[~settled]
            width *= 2
        return best_pos, best, work


def block_top(block: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and values of each row's ``n`` largest entries of a dense block (any order;
    fewer columns than ``n``: all of them, padded with -inf)."""
    rows, width = block.shape
    if width <= n:
        cols = np.broadcast_to(np.arange(n), (rows, n)).copy()
        vals = np.full((rows, n), -np.inf, dtype=np.float32)
        vals[:, :width] = block
        cols[:, width:] = 0
        return cols, vals
    if width >= 4 * n * CHUNK and width % CHUNK == 0:
        chunks = width // CHUNK
        # chunk j holds columns j, j + chunks, j + 2 chunks, ...: its maximum is an element-wise
        # maximum of contiguous slices, which vectorises far better than a maximum along rows of 16
        maxima = block.reshape(rows, CHUNK, chunks).max(axis=1)
        # the n chunks with the highest maxima hold n entries at least that high: the n best are in them
        top_chunks = np.argpartition(maxima, chunks - n, axis=1)[:, -n:]
        cols = (top_chunks[:, :, None] + chunks * np.arange(CHUNK)).reshape(rows, n * CHUNK)
        vals = np.take_along_axis(block, cols, axis=1)
    else:
        cols = np.broadcast_to(np.arange(width), (rows, width))
        vals = block
    keep = np.argpartition(vals, vals.shape[1] - n, axis=1)[:, -n:]
    return np.take_along_axis(cols, keep, axis=1), np.take_along_axis(vals, keep, axis=1).astype(np.float32)
