"""Recommendation speed at scale: fit, and top-10 for every user, beside the plain ways, same data.

    python -m benchmarks.recommend [--users 1000000] [--interactions 10000000] [--items 100000]
                                   [--seed 0] [--naive-users 5000] [--implicit-users 0]

The data: generated interactions of ``--users`` users on ``--items`` items (Zipf popularity; each
user leans to one of 200 tastes, 70% of their events), 80% views, 12% carts, 8% purchases, built
into the interaction matrix exactly as ``recommend build`` does (``interaction_matrix``).

Rows (each stage is timed once; the machine is shared, so read the ratios):

- ``matrix``: events frame -> the weighted user x item matrix, id map included.
- ``item-knn fit`` / ``top-10 all users``: pruned cosine neighbours (K=20, implicit's
  ``all_pairs_knn``), then every user scored in batches of 20,000 by one sparse product and a
  vectorised top-k. Beside it: implicit's own ``recommend`` over all users (its Python loop per
  user), and a naive SciPy cosine (full, unpruned item-item cosine through the users: X_b Xn' Xn,
  then ``argpartition``), timed on ``--naive-users`` users and scaled to all users, as marked.
- ``als fit`` / ``top-10 all users``: implicit's ALS (64 factors, 15 iterations); our exact scoring
  pruned by item norms (``core/recommend/mips.py``: items in decreasing length, scored in blocks until
  no item left can enter a user's list) beside implicit's brute-force ``recommend`` (every item
  scored, its multi-threaded top-k) and beside the previous way, candidate generation (each user's
  50 best items by the history's pruned cosine neighbours plus the 100 most popular, ranked by the
  factors). ``recall of the exact top-10`` is the share of implicit's brute-force top-10 that a list
  holds (first 10,000 users); ``items scored per user`` is the pruning's work, out of the catalogue.
- peak RSS: the process's resident peak after the stage (it only grows).

Target: top-10 for all users of the 1M-user, 10M-interaction set in at most 30 s.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp
from rich.console import Console
from rich.table import Table

from segmark.core.recommend import ALSRecommender, ItemKNNRecommender, interaction_matrix
from segmark.core.recommend.factors import history_scores
from segmark.core.recommend.topk import dense_topk, sparse_topk

TASTES = 200


def generate(n_users: int, n_interactions: int, n_items: int, seed: int) -> pd.DataFrame:
    """Interaction rows (user_id, item_id, event_type, n) with planted tastes and Zipf popularity."""
    rng = np.random.default_rng(seed)
    users = rng.integers(0, n_users, n_interactions)
    taste = users % TASTES
    pop = 1.0 / np.arange(1, n_items + 1) ** 0.9
    pop /= pop.sum()
    anywhere = rng.choice(n_items, size=n_interactions, p=pop)
    per_taste = n_items // TASTES
    local = rng.zipf(1.6, n_interactions) % per_taste
    own = taste * per_taste + local
    items = np.where(rng.random(n_interactions) < 0.7, own, anywhere)
    kinds = np.array(["view", "cart", "purchase"])[np.searchsorted([0.8, 0.92], rng.random(n_interactions))]
    frame = pd.DataFrame({"user_id": users, "item_id": items, "event_type": kinds})
    frame = frame.groupby(["user_id", "item_id", "event_type"], sort=False).size().rename("n").reset_index()
    frame["user_id"] = "u" + frame["user_id"].astype(str)
    frame["item_id"] = "i" + frame["item_id"].astype(str)
    return frame


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def clock(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def naive_cosine_top10(X: sp.csr_matrix, users: np.ndarray, batch: int = 500) -> np.ndarray:
    """Unpruned item-item cosine, the textbook SciPy way: scores = X_u (Xn' Xn), liked items removed."""
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=0)).ravel())
    Xn = sp.csr_matrix(X @ sp.diags(1.0 / np.maximum(norms, 1e-12)))
    XnT = sp.csr_matrix(Xn.T)
    out = []
    for lo in range(0, len(users), batch):
        rows = X[users[lo:lo + batch]]
        scores = (rows @ XnT @ Xn).toarray()
        scores[rows.toarray() > 0] = -np.inf
        out.append(dense_topk(scores.astype(np.float32), 10)[0])
    return np.vstack(out)


def previous_candidates_top10(als: ALSRecommender, X: sp.csr_matrix, neighbours: sp.csr_matrix,
                              batch: int = 20_000) -> np.ndarray:
    """The previous way (candidate generation): each user's 50 best items through the history's
    cosine neighbours plus the 100 most popular, ranked by the factors, history removed."""
    popular = np.argsort(-np.bincount(X.indices, minlength=X.shape[1]), kind="stable")[:100]
    U, V = als.user_factors_, als.item_factors_
    out = []
    for lo in range(0, X.shape[0], batch):
        rows = X[lo:lo + batch]
        reach, _ = sparse_topk(sp.csr_matrix(rows @ neighbours), 50 + int(np.diff(rows.indptr).max(initial=0)))
        cand = np.concatenate([reach, np.broadcast_to(popular, (rows.shape[0], len(popular)))], axis=1)
        r = np.repeat(np.arange(rows.shape[0]), cand.shape[1]).reshape(cand.shape)
        ok = cand >= 0
        pattern = sp.csr_matrix((np.ones(ok.sum(), dtype=np.float32), (r[ok], cand[ok])), shape=rows.shape)
        pattern.data[:] = 1
        pr = np.repeat(np.arange(rows.shape[0]), np.diff(pattern.indptr))
        pattern.data = history_scores(U, V, lo + pr, pattern.indices)
        pattern = sp.csr_matrix(pattern - pattern.multiply(rows.astype(bool)))
        pattern.eliminate_zeros()
        out.append(sparse_topk(pattern, 10)[0])
    return np.vstack(out)


def recall_of_exact(ours: np.ndarray, exact: np.ndarray, n: int = 10_000) -> float:
    """Share of the exact lists' items that ours hold, over the first ``n`` users."""
    pairs = zip(ours[:n], exact[:n], strict=False)
    return float(np.mean([len(set(a[a >= 0]) & set(b[b >= 0])) / max(1, (b >= 0).sum()) for a, b in pairs]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=10_000_000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--naive-users", type=int, default=5_000)
    parser.add_argument("--implicit-users", type=int, default=0,
                        help="users for implicit's own recommend (0: all users)")
    args = parser.parse_args()
    console = Console()
    rows: list[tuple[str, str, str, str, str]] = []

    t_gen, frame = clock(lambda: generate(args.users, args.interactions, args.items, args.seed))
    console.print(f"generated {len(frame):,} (user, item, type) rows from {args.interactions:,} interactions "
                  f"in {t_gen:.1f} s", highlight=False)
    t, m = clock(lambda: interaction_matrix(frame))
    frame = None  # free the rows before scoring
    n_users, n_items = m.shape
    X = m.weights
    rows.append(("matrix", f"{t:.1f}", "", "", f"{peak_mb():,.0f}"))
    everyone = np.arange(n_users)
    n_implicit = args.implicit_users or n_users

    # -- item-kNN ---------------------------------------------------------------------------------
    knn = ItemKNNRecommender(K=20)
    t_fit, _ = clock(lambda: knn.fit(m))
    rows.append(("item-knn fit (K=20)", f"{t_fit:.1f}", "", "", f"{peak_mb():,.0f}"))
    t_ours, (ids, _) = clock(lambda: knn.recommend(everyone, m, 10, exclude=X))
    from implicit.nearest_neighbours import ItemItemRecommender

    theirs = ItemItemRecommender(K=20)
    theirs.similarity = knn.similarity_.astype(np.float64)
    from implicit._nearest_neighbours import NearestNeighboursScorer

    theirs.scorer = NearestNeighboursScorer(theirs.similarity)
    sample = everyone[:n_implicit]
    t_imp, (imp_ids, _) = clock(lambda: theirs.recommend(sample, X[sample].astype(np.float64), N=10))
    t_imp_all = t_imp * n_users / len(sample)
    same = np.mean([len(set(a[a >= 0]) & set(b[b >= 0])) / max(1, (b >= 0).sum())
                    for a, b in zip(ids[:10_000], imp_ids[:10_000], strict=False)])
    mark = "" if len(sample) == n_users else f" (x{n_users / len(sample):.0f} from {len(sample):,} users)"
    rows.append(("item-knn top-10 all users", f"{t_ours:.1f}", f"implicit loop {t_imp_all:.1f}{mark}",
                 f"{t_imp_all / t_ours:.1f}x", f"{peak_mb():,.0f}"))
    rows.append(("  same lists as implicit's", f"{same:.1%}", "", "", ""))
    naive_users = everyone[np.linspace(0, n_users - 1, args.naive_users).astype(int)]
    t_naive, _ = clock(lambda: naive_cosine_top10(X, naive_users))
    t_naive_all = t_naive * n_users / len(naive_users)
    rows.append(("item-knn vs naive SciPy cosine", f"{t_fit + t_ours:.1f}",
                 f"naive {t_naive_all:,.0f} (x{n_users / len(naive_users):.0f} from {len(naive_users):,} users)",
                 f"{t_naive_all / (t_fit + t_ours):.0f}x", f"{peak_mb():,.0f}"))

    # -- ALS ----------------------------------------------------------------------------------------
    als = ALSRecommender(factors=64, iterations=15, exact_limit=0)
    t_fit, _ = clock(lambda: als.fit(m))
    rows.append(("als fit (64 factors, 15 it.) + norm index", f"{t_fit:.1f}", "", "", f"{peak_mb():,.0f}"))
    t_ours, (ids, _) = clock(lambda: als.recommend(everyone, m, 10, exclude=X))
    from implicit.cpu.als import AlternatingLeastSquares

    brute = AlternatingLeastSquares(factors=64)
    brute.user_factors, brute.item_factors = als.user_factors_, als.item_factors_
    t_imp, (exact, _) = clock(lambda: brute.recommend(sample, X[sample], N=10))
    t_imp_all = t_imp * n_users / len(sample)
    rows.append(("als top-10 all users (norm-pruned exact)", f"{t_ours:.1f}",
                 f"implicit brute force {t_imp_all:.1f}{mark}", f"{t_imp_all / t_ours:.1f}x", f"{peak_mb():,.0f}"))
    rows.append(("  recall of the exact top-10 (10,000 users)", f"{recall_of_exact(ids, exact):.1%}", "", "", ""))
    probe = everyone[: min(n_users, 20_000)]
    found = als.index_.top_n(als.user_factors_[probe], 10, X[probe])
    rows.append(("  items scored per user (first 20,000 users)", f"{found.scored / len(probe):,.0f}",
                 f"brute force {n_items:,}", f"{n_items * len(probe) / max(found.scored, 1):.0f}x", ""))
    t_prev, prev = clock(lambda: previous_candidates_top10(als, X, knn.similarity_))
    rows.append(("als top-10, previous way (kNN + popular candidates)", f"{t_ours:.1f}", f"previous {t_prev:.1f}",
                 f"{t_prev / t_ours:.1f}x", f"{peak_mb():,.0f}"))
    rows.append(("  recall of the exact top-10, previous way", f"{recall_of_exact(prev, exact):.1%}", "", "", ""))

    table = Table(title=f"recommendations: {n_users:,} users, {n_items:,} items, {X.nnz:,} user-item pairs "
                  f"({args.interactions:,} interactions)", title_justify="left")
    for col, justify in (("stage", "left"), ("segmark s", "right"), ("plain way s", "right"), ("ratio", "right"),
                         ("peak RSS MB", "right")):
        table.add_column(col, justify=justify)
    for r in rows:
        table.add_row(*r)
    console.print(table)


if __name__ == "__main__":
    main()
