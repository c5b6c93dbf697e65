"""Time-based splits of interaction rows (``user_id, item_id, event_type, day, n``): train on the
past, hold out what came after, never the other way round. ``day`` is the shop's calendar day (the
pipeline reads it in ``time.timezone``), so "the last N days" start at the shop's midnight.

- ``holdout_days_split``: everything before a cut-off day trains; purchases on or after it are held
  out (the shop's last N days).
- ``last_order_split``: each buyer's last order -- the purchases of their last purchase day -- is
  held out, and only what that user did before it trains for them (other users' rows up to their
  own cut-off stay: the usual leave-last-out protocol).

Each returns the training rows with ``age_days`` (days before the row's cut-off, for decay) and the
held-out purchases (``user_id, item_id``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def data_span_days(days: pd.Series) -> int:
    """Days from the 1st percentile of the rows' days to the last: a few stray old events (clock
    errors, test orders) do not stretch the span."""
    d = pd.to_datetime(pd.Series(days)).dt.normalize()
    start = d.quantile(0.01, interpolation="lower")
    return int((d.max() - start).days + 1)


def default_holdout_days(days: pd.Series) -> int:
    """A tenth of the data's span (``data_span_days``), at least 1 and at most 28: a recent window that
    still holds enough purchases to measure, whatever the log's length."""
    return int(min(28, max(1, round(data_span_days(days) / 10))))


def _days(rows: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(rows["day"]).dt.normalize()


def with_age(rows: pd.DataFrame, cutoff: pd.Timestamp | pd.Series) -> pd.DataFrame:
    """``rows`` with ``age_days`` = whole days from the row's day to ``cutoff`` (the day after the last
    training day; a Series gives one cut-off per row)."""
    days = _days(rows)
    age = (pd.to_datetime(cutoff) - days).dt.days if isinstance(cutoff, pd.Series) else (
        pd.Timestamp(cutoff) - days).dt.days
    return rows.assign(age_days=np.maximum(age.to_numpy(dtype=np.float64) - 1.0, 0.0))


def held_out(rows: pd.DataFrame) -> pd.DataFrame:
    """Distinct (user, item) purchases of some rows."""
    bought = rows[(rows["event_type"] == "purchase") & rows["user_id"].notna() & rows["item_id"].notna()]
    return bought[["user_id", "item_id"]].astype(str).drop_duplicates().reset_index(drop=True)


def holdout_days_split(rows: pd.DataFrame, cutoff: pd.Timestamp,
                       end: pd.Timestamp | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train on days before ``cutoff``; hold out purchases from ``cutoff`` up to (not including) ``end``."""
    days = _days(rows)
    cutoff = pd.Timestamp(cutoff).normalize()
    train = with_age(rows[days < cutoff], cutoff)
    later = days >= cutoff
    if end is not None:
        later &= days < pd.Timestamp(end).normalize()
    return train.reset_index(drop=True), held_out(rows[later])


def last_order_split(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out each buyer's last purchase day; each user trains on their rows before it."""
    days = _days(rows)
    purchase = rows["event_type"] == "purchase"
    last = days[purchase].groupby(rows.loc[purchase, "user_id"]).max()
    end = days.max() + pd.Timedelta(days=1) if len(days) else pd.Timestamp(0)
    cut = rows["user_id"].map(last).fillna(end)
    cut = pd.to_datetime(cut)
    before = days < cut
    test_rows = rows[(days == cut) & purchase]
    train = with_age(rows[before], cut[before])
    return train.reset_index(drop=True), held_out(test_rows)
