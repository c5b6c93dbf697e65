"""Customers' repeat-purchase summaries and lifetime value, in whole days as the BTYD literature counts.

A customer's purchases are grouped by day of the shop's calendar (several purchases on one day are
one transaction). With the observation ending on ``end_day`` (the last day included, the day before
``as_of``): ``x`` is the number of purchase days after the first, ``t_x`` the days from the first to
the last purchase day, ``T`` the days from the first purchase day to ``end_day``, and ``m`` the mean
value of the repeat days' purchases (the first day's value left out, as the Gamma-Gamma model is
fitted on repeat transactions). ``--as-of 1997-10-01`` on CDNOW gives ``end_day`` 1997-09-30 and
reproduces Fader, Hardie & Lee's 39-week calibration exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

UNITS: dict[str, float] = {"days": 1.0, "weeks": 7.0}
"""Days per time unit of the fitted parameters."""


def repeat_summary(per_user: pd.DataFrame, end_day: int, unit: str = "weeks") -> pd.DataFrame:
    """x, t_x, T (in ``unit``) and m per customer from ``first_day``, ``last_day`` (integer day
    numbers), ``x`` (purchase days after the first) and ``repeat_value`` (their total value).

    Customers whose first purchase is after ``end_day`` are left out (they were not yet customers).
    """
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    scale = UNITS[unit]
    df = per_user[per_user["first_day"] <= end_day]
    x = df["x"].to_numpy(dtype=float)
    out = pd.DataFrame({
        "x": x,
        "t_x": (df["last_day"].to_numpy(dtype=float) - df["first_day"].to_numpy(dtype=float)) / scale,
        "T": (end_day - df["first_day"].to_numpy(dtype=float)) / scale,
        "m": np.where(x > 0, df["repeat_value"].to_numpy(dtype=float) / np.maximum(x, 1), np.nan),
    }, index=df.index)
    return out


def discounted_value(expected_at: np.ndarray, steps_days: np.ndarray, spend: np.ndarray,
                     annual_rate: float) -> np.ndarray:
    """Lifetime value: expected purchases in each step times the expected spend of a purchase,
    each step discounted at ``annual_rate`` from its end.

    ``expected_at`` is (customers, steps): cumulative expected purchases at the end of each step,
    ``steps_days`` the steps' ends in days from now.
    """
    if annual_rate < 0:
        raise ValueError("the discount rate cannot be negative")
    increments = np.diff(np.concatenate([np.zeros((expected_at.shape[0], 1)), expected_at], axis=1), axis=1)
    factors = (1.0 + annual_rate) ** (-np.asarray(steps_days, float) / 365.0)
    return (increments * factors).sum(axis=1) * np.asarray(spend, float)

