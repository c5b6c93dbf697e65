"""A simulated campaign with a planted true lift, for the sample shop (pure: frames in, frames out).

Each member converts in the campaign window with their own baseline probability, plus ``lift``
(absolute) when treated; a converter makes one purchase at a uniformly drawn time of the window,
of a price drawn from a log-normal. The true average effect on conversion is exactly ``lift``
whatever the baselines (as long as baseline + lift stays within [0, 1]), so a readout's interval
can be checked against it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd


def baseline_from_features(features: pd.DataFrame, *, floor: float = 0.02, per_order: float = 0.03,
                           cap: float = 0.6) -> np.ndarray:
    """A plausible baseline per user: more recent orders, more likely to buy again."""
    orders = features["orders_90d"].fillna(0).to_numpy(dtype=float) if "orders_90d" in features else 0.0
    return np.clip(floor + per_order * orders, 0.0, cap)


def simulate_outcomes(baseline: np.ndarray, treated: np.ndarray, lift: float,
                      rng: np.random.Generator) -> np.ndarray:
    """Who converts: Bernoulli(baseline + lift * treated)."""
    p = np.clip(np.asarray(baseline, dtype=float) + lift * np.asarray(treated, dtype=bool), 0.0, 1.0)
    return rng.random(len(p)) < p


def simulate_campaign(members: pd.DataFrame, baseline: np.ndarray, *, lift: float, since: datetime, days: int = 14,
                      seed: int = 0, mean_price: float = 120.0) -> pd.DataFrame:
    """Purchase events of the campaign window for ``members`` (columns user_id, group or arm):
    one per converter, in canonical event columns, ``ts`` as UTC text."""
    rng = np.random.default_rng(seed)
    arm = members["group"] if "group" in members else members["arm"]
    treated = (arm == "treatment").to_numpy()
    converted = simulate_outcomes(baseline, treated, lift, rng)
    users = members["user_id"].to_numpy()[converted]
    offsets = rng.uniform(0, days * 86400, size=len(users))
    ts = [since + timedelta(seconds=float(s)) for s in offsets]
    price = np.round(rng.lognormal(np.log(mean_price), 0.5, size=len(users)), 2)
    return pd.DataFrame({"user_id": users, "event_type": "purchase",
                         "ts": [t.strftime("%Y-%m-%d %H:%M:%S") for t in ts],
                         "item_id": [f"CAMPAIGN{i % 7}" for i in range(len(users))], "category": "campaign",
                         "price": price, "quantity": 1,
                         "order_id": [f"CMP{seed}-{i}" for i in range(len(users))]})
