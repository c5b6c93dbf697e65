"""Inputs that give the label away: a column that is the label, or tells every label apart.

A users table often still holds the outcome a label file was made from (iFood's ``Response``), or a
column written after it (a response date, filled in for responders only). Left in, such a column is
the model: ROC-AUC 1.000 out of fold and nothing learned that holds on the next campaign. An input
leaks when, over the training rows:

- ``identical``: its values are the label (or its complement), 0/1, true/false or yes/no alike;
- ``separates``: a number whose every positive lies on one side of every negative (single-input
  ROC-AUC 1.0), or a category with a handful of values each holding one outcome only;
- ``blank_separates``: it is blank exactly for one outcome (a date filled in for responders only).

"Over the training rows" with both outcomes among the rows that have a value, and those rows at least
half of all. With fewer than ``MIN_MINORITY`` rows of the rarer outcome a random column separates by
chance too often to tell, and nothing is flagged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

MIN_MINORITY = 3
"""The rarer outcome needs this many rows before a perfect separation is taken as a leak (with 2 of
50, a random number puts them at its top with probability 1 in 600)."""
MAX_LEAK_CATEGORIES = 10
"""A category separates the label only with at most this many values (more and purity is chance)."""
LEAK_REASONS = ("identical", "separates", "blank_separates")


def _present(s: pd.Series) -> np.ndarray:
    blank = s.isna()
    if s.dtype == object:
        blank |= s.astype(str).str.strip().isin(["", "None", "nan"])
    return ~blank.to_numpy()


def _leak(s: pd.Series, y: np.ndarray) -> str | None:
    present = _present(s)
    if 0 < present.sum() < len(y) and (np.array_equal(present, y == 1) or np.array_equal(present, y == 0)):
        return "blank_separates"
    if present.sum() < 0.5 * len(y):
        return None
    yp = y[present]
    if len(np.unique(yp)) < 2 or min(yp.sum(), len(yp) - yp.sum()) < MIN_MINORITY:
        return None
    values = s[present]
    numbers = pd.to_numeric(values, errors="coerce") if values.dtype == object else values
    if pd.api.types.is_numeric_dtype(numbers) and numbers.notna().all():
        v = numbers.to_numpy(dtype=float)
        if np.array_equal(v, yp) or np.array_equal(v, 1 - yp):
            return "identical"
        pos, neg = v[yp == 1], v[yp == 0]
        return "separates" if pos.min() > neg.max() or pos.max() < neg.min() else None
    text = values.astype(str).str.strip()
    if text.nunique() > MAX_LEAK_CATEGORIES:
        return None
    pure = pd.Series(yp, index=text.index).groupby(text).nunique().max() == 1
    if not pure:
        return None
    return "identical" if text.nunique() == 2 else "separates"


def label_leaks(X: pd.DataFrame, y: np.ndarray, columns: Sequence[str]) -> dict[str, str]:
    """The ``columns`` of ``X`` that give the 0/1 labels ``y`` away, each with its reason
    (``LEAK_REASONS``, see the module docstring); columns absent from ``X`` are skipped."""
    y = np.asarray(y).astype(np.int64)
    if len(y) != len(X):
        raise ValueError("X and y must have the same rows")
    out = {}
    for c in columns:
        if c in X.columns:
            reason = _leak(X[c].reset_index(drop=True), y)
            if reason is not None:
                out[c] = reason
    return out
