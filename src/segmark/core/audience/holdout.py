"""A reproducible control group, stratified by segment.

Within each stratum users are ordered by a keyed hash of their id (SipHash under a key derived from
the seed), and the first ``round(fraction * n)`` of them — with largest-remainder rounding so that
the whole control group is ``round(fraction * N)`` — are the control. The draw depends only on the
seed, the ids and their strata: not on row order, and a user's place does not move when others
join or leave, so re-creating an audience with the same seed gives the same groups.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _key(seed: int) -> str:
    return f"segmark{int(seed) % 10**9:09d}"[:16]  # pandas wants a 16-character key


def hash_order(user_ids: pd.Series | np.ndarray, seed: int) -> np.ndarray:
    """A 64-bit keyed hash per id (the same id and seed always give the same value)."""
    ids = pd.Series(np.asarray(user_ids, dtype=object)).astype(str)
    return pd.util.hash_pandas_object(ids, index=False, hash_key=_key(seed)).to_numpy()


def control_counts(sizes: np.ndarray, fraction: float) -> np.ndarray:
    """Control users per stratum: ``fraction`` of each, rounded so the total is ``round(fraction * sum)``."""
    sizes = np.asarray(sizes, dtype=np.int64)
    exact = sizes * fraction
    base = np.floor(exact).astype(np.int64)
    short = round(float(sizes.sum()) * fraction) - int(base.sum())
    if short > 0:
        order = np.lexsort((np.arange(len(sizes)), -(exact - base)))  # largest remainder, ties by position
        base[order[:short]] += 1
    return np.minimum(base, sizes)


def stratified_holdout(user_ids: pd.Series | np.ndarray, strata: pd.Series | np.ndarray, fraction: float,
                       seed: int = 0) -> np.ndarray:
    """A boolean array, True for users drawn into the control group.

    ``strata`` (e.g. segment keys; missing values are a stratum of their own) has one entry per id.
    ``fraction`` is the share held out, in [0, 1).
    """
    if not 0 <= fraction < 1:
        raise ValueError(f"the holdout fraction must be at least 0 and below 1, not {fraction}")
    ids = np.asarray(user_ids, dtype=object)
    n = len(ids)
    control = np.zeros(n, dtype=bool)
    if n == 0 or fraction == 0:
        return control
    labels = pd.Series(np.asarray(strata, dtype=object)).fillna("\0none").astype(str).to_numpy()
    codes, uniques = pd.factorize(labels, sort=True)
    h = hash_order(ids, seed)
    order = np.lexsort((ids.astype(str), h, codes))  # by stratum, then hash (ids break the rare tie)
    sizes = np.bincount(codes, minlength=len(uniques))
    take = control_counts(sizes, fraction)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.arange(n) - np.repeat(starts, sizes)
    chosen = rank < np.repeat(take, sizes)
    control[order] = chosen
    return control
