"""Labels without leakage: what a user did after a cut, never before it.

For a cut T (a feature build's as_of) and a horizon h, the label window is [T, T + h): events at or
after T and before T + h, the same "strictly before" rule the features use, so features read
``ts < T`` and labels ``T <= ts < T + h`` and no event is on both sides.

- ``propensity``: the user purchased in the window (1) or not (0); every user known at T.
- ``churn``: a past buyer (an order before T) who did not purchase in the window (1); only past buyers.
- ``response``: the outcome of a campaign, given (a users-table column or a ``user_id,label`` file).

Training stacks several cuts (rolling origins): T_k = as_of - h - k * step for k = 0, 1, ..., so
every label window ends by ``as_of``, the scoring date, and scores made as of ``as_of`` can be
checked against what happened after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from segmark.core.predict.attributes import FLAG_VALUES

TARGETS = ("churn", "propensity", "response")
LOG_TARGETS = ("churn", "propensity")
"""Targets whose labels come from the event log."""


def rolling_origins(as_of: datetime, horizon_days: int, *, data_start: datetime, n_origins: int = 3,
                    step_days: int | None = None, min_history_days: int = 30) -> list[datetime]:
    """The cuts to train on, oldest first: windows [T, T + h) that end by ``as_of``, each cut with at
    least ``min_history_days`` of data before it."""
    if horizon_days <= 0:
        raise ValueError("the horizon must be a positive number of days")
    step = timedelta(days=step_days or horizon_days)
    first = as_of - timedelta(days=horizon_days)
    earliest = data_start + timedelta(days=min_history_days)
    out = []
    for k in range(max(n_origins, 1)):
        t = first - k * step
        if t < earliest:
            break
        out.append(t)
    return sorted(out)


def log_labels(target: str, users: pd.Index, frequency: pd.Series, buyers: Iterable[str]) -> pd.Series:
    """0/1 labels at one cut from who bought in its window: ``users`` known at the cut, their orders
    before it (``frequency``) and the ``buyers`` in the window. Churn keeps past buyers only."""
    bought = pd.Series(users.isin(pd.Index(list(buyers))), index=users)
    if target == "propensity":
        return bought.astype(np.int64)
    if target == "churn":
        past = frequency.reindex(users).fillna(0) > 0
        return (~bought[past]).astype(np.int64)
    raise ValueError(f"labels of {target!r} do not come from the event log")


class LabelError(ValueError):
    """A label that is not 0/1, true/false or yes/no; carries where it is."""

    def __init__(self, message: str, index: list[object]) -> None:
        super().__init__(message)
        self.index = index


def parse_labels(values: pd.Series) -> pd.Series:
    """0/1, true/false, yes/no (any case) as int 0/1; missing values are dropped by the caller.

    Raises ``LabelError`` listing the first values that are none of these (their index kept)."""
    text = values.astype(str).str.strip().str.lower()
    present = values.notna() & (text != "") & (text != "nan") & (text != "none")
    mapped = text[present].map(FLAG_VALUES)
    bad = mapped[mapped.isna()]
    if len(bad):
        shown = ", ".join(repr(values.loc[i]) for i in bad.index[:3])
        raise LabelError(f"labels must be 0/1, true/false or yes/no; found {shown}", list(bad.index[:3]))
    out = mapped.astype(np.int64)
    if out.nunique() < 2:
        raise LabelError(f"every label is {int(out.iloc[0]) if len(out) else 'missing'}: a model needs both "
                         "outcomes", [])
    return out
