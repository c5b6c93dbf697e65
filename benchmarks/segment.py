"""Segmentation speed at scale: automatic selection beside one plain k-means fit, same data.

    python -m benchmarks.segment [--users 1000000] [--seed 0] [--repeat 3] [--demo-users 50000]
    python -m benchmarks.segment --family [--six-seeds 0-11] [--family-seeds 0-35] [--jobs 2]

``--family`` scores the default segmentation on shops it was not designed on (see
:mod:`benchmarks.segment_family`) and on the demo shop (``--demo-users``, 5,000 by default there),
and skips the speed table unless ``--users`` is given.

The data: a generated feature table (the default behavioural features) of six planted shopper
types that overlap at the edges. Rows of the table:

- ``auto``: ``SegmentModel()`` — preprocessing, selection on a 5,000-row sample (every method and
  k, silhouette gain, stability), the winner refitted on all rows, every user labelled. The plain
  way beside it is **one** ``KMeans(n_clusters=k).fit`` with scikit-learn's defaults on the same
  preprocessed matrix, k being the winner's; the target is a ratio of at most 10.
- ``kmeans``: ``SegmentModel("kmeans", k)`` beside ``StandardScaler`` + ``KMeans`` on the raw
  table (missing values filled with 0, the usual notebook way).
- ``hdbscan`` and ``agglomerative``: fitted on the sample and every other user assigned by a
  5-nearest-neighbour vote. The plain way, fitting all rows, is quadratic in time (HDBSCAN) or
  memory (Ward: n(n-1)/2 distances, 4 TB at 1M rows), so it is timed on 20,000 rows and shown as
  such.

Times are the median of ``--repeat`` runs (the machine is shared); ARI is against the planted type.

With ``--demo-users N`` it also makes the demo shop of N users (events, not features), ingests it,
builds its features and runs the default automatic segmentation exactly as ``segmark segment
cluster`` does, and prints the adjusted Rand index against the generator's truth file (target:
at least 0.8).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table
from sklearn.cluster import HDBSCAN, AgglomerativeClustering, KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from benchmarks.common import timed
from segmark.core.segment import SegmentModel

TYPES = np.array(["loyal_high_spender", "bargain_hunter", "window_shopper", "cart_abandoner", "lapsed",
                  "newcomer"])
SHARES = (0.10, 0.18, 0.25, 0.15, 0.20, 0.12)


def planted_features(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """A table of the default behavioural features for ``n`` users of six planted types (type
    medians close to the demo shop's), and each user's type."""
    rng = np.random.default_rng(seed)
    t = rng.choice(len(TYPES), size=n, p=SHARES)

    def pick(*per_type: np.ndarray) -> np.ndarray:
        return np.choose(t, per_type)

    pois, expo, unif, beta, logn = rng.poisson, rng.exponential, rng.uniform, rng.beta, rng.lognormal
    freq = pick(pois(11, n) + 2, pois(5, n) + 1, (unif(size=n) < 0.05).astype(int), pois(1.5, n),
                pois(2, n) + 1, (unif(size=n) < 0.6).astype(int)).astype(float)
    aov = pick(logn(np.log(700), 0.4, n), logn(np.log(190), 0.4, n), logn(np.log(140), 0.5, n),
               logn(np.log(200), 0.4, n), logn(np.log(280), 0.4, n), logn(np.log(150), 0.5, n))
    has_carts = pick(np.ones(n), np.ones(n), unif(size=n) < 0.3, np.ones(n), np.ones(n), unif(size=n) < 0.8) > 0
    price = pick(rng.normal(1.9, 0.3, n), rng.normal(0.55, 0.1, n), rng.normal(1.0, 0.3, n),
                 rng.normal(1.25, 0.3, n), rng.normal(1.3, 0.3, n), rng.normal(1.0, 0.3, n))
    table = pd.DataFrame({
        "recency_visit_days": pick(expo(10, n), expo(19, n), expo(37, n), expo(24, n), unif(135, 365, n),
                                   expo(10, n)).round(1),
        "tenure_days": pick(unif(400, 2500, n), unif(180, 2000, n), unif(180, 2000, n), unif(180, 2000, n),
                            unif(400, 2500, n), unif(1, 60, n)).round(),
        "frequency": freq,
        "monetary": freq * aov,
        "aov": np.where(freq > 0, aov, np.nan),
        "sessions_90d": pick(pois(6, n), pois(4, n), pois(2, n), pois(3, n), np.zeros(n, dtype=int),
                             pois(2, n) + 1).astype(float),
        "view_to_cart_rate": pick(beta(33, 67, n), beta(3, 7, n), beta(1, 30, n), beta(5.5, 4.5, n),
                                  beta(2.7, 7.3, n), beta(2.7, 7.3, n)),
        "cart_to_purchase_rate": np.where(has_carts, pick(beta(7, 3, n), beta(6, 4, n), beta(1, 9, n),
                                                          beta(1, 8, n), beta(6, 4, n), beta(3, 2, n)), np.nan),
        "price_level": np.where(freq > 0, np.clip(price, 0.05, None), np.nan),
    }, index=pd.Index(np.char.add("u", np.arange(n).astype(str)), name="user_id"))
    return table, TYPES[t]


def demo_ari(n_users: int, seeds: list[int]) -> Table:
    """The default automatic segmentation on the demo shop against its planted types."""
    from segmark.demo import generate_shop, write_shop
    from segmark.pipeline.features import build_features
    from segmark.pipeline.ingest import ingest_file
    from segmark.pipeline.segments import members, run_cluster
    from segmark.workspace import init_workspace, open_workspace

    table = Table(title=f"default automatic segmentation of the demo shop ({n_users:,} users)")
    for col in ("seed", "chosen", "segments (names)", "seconds", "ARI vs planted types"):
        table.add_column(col, justify="right" if col in ("seed", "seconds", "ARI vs planted types") else "left",
                         overflow="fold")
    for seed in seeds:
        with tempfile.TemporaryDirectory() as tmp:
            paths = write_shop(generate_shop(n_users=n_users, seed=seed), Path(tmp) / "shop")
            with open_workspace(init_workspace(Path(tmp) / "ws")) as ws:
                for kind in ("users", "items", "events"):
                    ingest_file(ws, kind, paths[kind])
                build_features(ws)
                start = time.perf_counter()
                result = run_cluster(ws)
                seconds = time.perf_counter() - start
                got = members(ws.store, result.segmentation.segmentation_id)
            truth = pd.read_csv(paths["truth"], dtype=str).set_index("user_id")["behaviour_type"]
            ari = adjusted_rand_score(truth.reindex(got.index), got["segment_id"])
        seg = result.segmentation
        table.add_row(str(seed), f"{seg.method} ({seg.n_segments})", ", ".join(result.segments["name"]),
                      f"{seconds:.1f}", f"{ari:.3f}")
    return table


def seed_range(text: str) -> list[int]:
    """``"0-5"`` or ``"0,3,7"`` as a list of seeds."""
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=None, help="speed table size (default 1,000,000; "
                        "none with --family)")
    parser.add_argument("--family", action="store_true", help="ARI of the default on the evaluation shops")
    parser.add_argument("--six-seeds", default="0-11", help="seeds of the six-type shop, e.g. 0-5 or 0,3")
    parser.add_argument("--six-users", type=int, default=4000)
    parser.add_argument("--family-seeds", default="0-35", help="seeds (shops) of the family")
    parser.add_argument("--family-users", type=int, default=4000)
    parser.add_argument("--jobs", type=int, default=2, help="shops built and segmented at a time")
    parser.add_argument("--per-shop", action="store_true", help="also print every shop's row")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--demo-users", type=int, default=0, help="also score the demo shop of this size")
    parser.add_argument("--demo-seeds", default="0", help="comma-separated generator seeds for --demo-users")
    args = parser.parse_args(argv)
    console = Console(width=160)
    if args.family:
        from benchmarks.segment_family import run_family, seed_table, summary_table

        plan = [("six_types", s, args.six_users) for s in seed_range(args.six_seeds)]
        plan += [("family", s, args.family_users) for s in seed_range(args.family_seeds)]
        start = time.perf_counter()
        scores = run_family(plan, args.jobs)
        if args.per_shop:
            console.print(seed_table(scores))
        console.print(summary_table(scores))
        console.print(f"{len(plan)} shops in {time.perf_counter() - start:.0f} s ({args.jobs} at a time)")
        args.demo_users = args.demo_users or 5000
        args.users = args.users or 0
    if args.demo_users:
        console.print(demo_ari(args.demo_users, [int(s) for s in args.demo_seeds.split(",")]))
    if args.users is None:
        args.users = 1_000_000
    if args.users <= 0:
        return
    features, truth = planted_features(args.users, args.seed)
    console.print(f"{len(features):,} users x {features.shape[1]} features, {len(TYPES)} planted types")

    t_auto, auto = timed(lambda: SegmentModel(random_state=args.seed).fit(features), args.repeat)
    k = auto.n_clusters_
    Z = auto.transform_features(features)
    t_one, _ = timed(lambda: KMeans(n_clusters=k, random_state=args.seed).fit(Z), args.repeat)

    t_km, km = timed(lambda: SegmentModel("kmeans", k, random_state=args.seed).fit(features), args.repeat)
    raw = StandardScaler().fit_transform(features.fillna(0.0))
    t_plain_km, plain_km = timed(lambda: KMeans(n_clusters=k, random_state=args.seed).fit(raw), args.repeat)

    t_hdb, hdb = timed(lambda: SegmentModel("hdbscan", random_state=args.seed).fit(features), 1)
    t_agg, agg = timed(lambda: SegmentModel("agglomerative", k, random_state=args.seed).fit(features), 1)
    small = Z[:20_000]
    t_plain_hdb, _ = timed(lambda: HDBSCAN(min_cluster_size=400, min_samples=10, copy=True).fit(small), 1)
    t_plain_agg, _ = timed(lambda: AgglomerativeClustering(n_clusters=k).fit(small), 1)

    table = Table(title=f"segmentation of {len(features):,} users (seconds, median of {args.repeat})")
    for col in ("task", "segmark", "plain way", "plain", "ratio", "ARI"):
        table.add_column(col, justify="left" if col in ("task", "plain way") else "right")

    def ari(model: SegmentModel) -> str:
        return f"{adjusted_rand_score(truth, model.labels_):.3f}"

    table.add_row(f"auto selection -> {auto.method_} k={k}", f"{t_auto:.1f}", f"one KMeans(k={k}) fit",
                  f"{t_one:.1f}", f"{t_auto / t_one:.1f}x", ari(auto))
    table.add_row(f"kmeans k={k}", f"{t_km:.1f}", "StandardScaler + KMeans", f"{t_plain_km:.1f}",
                  f"{t_km / t_plain_km:.1f}x",
                  f"{ari(km)} / {adjusted_rand_score(truth, plain_km.labels_):.3f}")
    table.add_row("hdbscan (sample + assign)", f"{t_hdb:.1f}", "HDBSCAN on 20,000 rows only",
                  f"{t_plain_hdb:.1f}", "-", ari(hdb))
    table.add_row(f"agglomerative k={k} (sample + assign)", f"{t_agg:.1f}", "Ward on 20,000 rows only",
                  f"{t_plain_agg:.1f}", "-", ari(agg))
    console.print(table)
    console.print(f"selection: {auto.selection_.reason}")
    verdict = "meets" if t_auto / t_one <= 10 else "MISSES"
    console.print(f"automatic selection costs {t_auto / t_one:.1f}x one KMeans fit: {verdict} the 10x target")


if __name__ == "__main__":
    main()
