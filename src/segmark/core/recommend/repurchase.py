"""Whether an item a user already bought may be recommended to them again.

People buy rice, cat food and face cream again; nobody buys the same television twice a month. The
repeat rate of a category is the share of (user, item) pairs bought in it that were bought again on
another day. ``--repurchase auto`` allows re-recommending bought items in categories whose rate is
at least ``min_rate`` and excludes them elsewhere; a category with fewer than ``min_pairs`` bought
pairs (too few to measure) and items without a category take the shop-wide rate. ``allow`` and
``exclude`` decide for every item at once. Items a user only viewed, favourited or carted are never
excluded: in a shop they are the likeliest next purchases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

Mode = Literal["auto", "allow", "exclude"]
MODES: tuple[str, ...] = ("auto", "allow", "exclude")

MIN_RATE = 0.02
"""Repeat rate from which bought items may come back: one bought pair in fifty bought again on
another day. A slot given to a bought item pays when that item is bought again more often than the
collaborative filter's next candidate is taken, and in shop logs that is a few in a thousand per
slot (precision@10 of 0.02-0.03): a category rebought at 2% of its pairs over the log clears it,
electronics (1% and below) do not."""
MIN_PAIRS = 30
"""Bought pairs a category needs before its own rate is trusted."""


@dataclass(frozen=True)
class RepurchasePolicy:
    """The decision per item, and the figures it was made from."""

    mode: str
    allowed: np.ndarray
    """True where a user's bought item may be recommended to them again, by dense item index."""
    rates: pd.DataFrame
    """One row per category (``None`` = the whole shop): pairs, repeated, rate, allowed, source."""
    shop_rate: float
    min_rate: float

    @property
    def any_allowed(self) -> bool:
        return bool(self.allowed.any())

    def summary(self) -> dict[str, object]:
        rows = self.rates[self.rates["category"].notna()]
        return {"mode": self.mode, "shop_rate": round(self.shop_rate, 4), "min_rate": self.min_rate,
                "items_allowed": int(self.allowed.sum()), "items": len(self.allowed),
                "categories_allowed": int(rows["allowed"].sum()), "categories": len(rows)}


def repeat_rates(purchase_days: sp.csr_matrix, item_category: np.ndarray, *,
                 min_pairs: int = MIN_PAIRS) -> tuple[pd.DataFrame, float]:
    """Repeat rate per category from each pair's number of distinct purchase days, and the shop's.

    Returns rows ``category, pairs, repeated, rate, source`` (``source``: ``category`` when the
    category's own pairs decide, ``shop`` when it has fewer than ``min_pairs``) and the shop rate."""
    m = sp.csr_matrix(purchase_days)
    items = m.indices
    repeated = m.data >= 2
    pairs_total = len(items)
    shop = float(repeated.sum() / pairs_total) if pairs_total else 0.0
    cats = pd.Series(item_category[items] if len(items) else [], dtype=object)
    frame = pd.DataFrame({"category": cats.to_numpy(), "repeated": repeated})
    frame = frame[frame["category"].notna()]
    by = frame.groupby("category", sort=True)["repeated"].agg(["size", "sum"]).reset_index()
    by.columns = ["category", "pairs", "repeated"]
    by["rate"] = np.where(by["pairs"] >= min_pairs, by["repeated"] / by["pairs"].clip(lower=1), shop)
    by["source"] = np.where(by["pairs"] >= min_pairs, "category", "shop")
    shop_row = pd.DataFrame([{"category": None, "pairs": pairs_total, "repeated": int(repeated.sum()),
                              "rate": shop, "source": "shop"}])
    return pd.concat([shop_row, by], ignore_index=True), shop


def repurchase_policy(mode: str, purchase_days: sp.csr_matrix, item_category: np.ndarray, *,
                      min_rate: float = MIN_RATE, min_pairs: int = MIN_PAIRS) -> RepurchasePolicy:
    """The policy for ``mode`` (auto, allow or exclude) over the items of ``purchase_days``."""
    if mode not in MODES:
        raise ValueError(f"unknown repurchase mode {mode!r}: auto, allow or exclude")
    rates, shop = repeat_rates(purchase_days, item_category, min_pairs=min_pairs)
    n_items = purchase_days.shape[1]
    if mode == "allow":
        allowed = np.ones(n_items, dtype=bool)
        rates["allowed"] = True
    elif mode == "exclude":
        allowed = np.zeros(n_items, dtype=bool)
        rates["allowed"] = False
    else:
        rates["allowed"] = rates["rate"] >= min_rate
        by_cat = dict(zip(rates["category"].iloc[1:], rates["allowed"].iloc[1:], strict=True))
        shop_allowed = shop >= min_rate
        allowed = np.array([by_cat.get(c, shop_allowed) if c is not None else shop_allowed
                            for c in item_category], dtype=bool) if n_items else np.zeros(0, dtype=bool)
    return RepurchasePolicy(mode, allowed, rates, shop, min_rate)
