"""Inputs that give the label away are found; honest inputs, however strong, are not."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmark.core.predict.leakage import label_leaks


def test_what_gives_the_label_away() -> None:
    rng = np.random.default_rng(0)
    n = 200
    y = (rng.random(n) < 0.2).astype(int)
    X = pd.DataFrame({
        "copy": y.astype(float),                                   # the label itself
        "flipped": 1.0 - y,                                        # its complement
        "as_text": np.where(y == 1, "accepted", "declined"),       # the outcome written as a category
        "amount": np.where(y == 1, 100 + rng.random(n), rng.random(n) * 99),  # every positive above every negative
        "responded_on": np.where(y == 1, 3.0, np.nan),             # a date filled in for responders only
        "strong": y * 2.0 + rng.normal(0, 1, n),                   # predictive, but overlapping
        "city": rng.choice(["a", "b", "c"], n),                    # unrelated category
        "mostly_blank": np.where(np.arange(n) < 20, y, np.nan),    # separates, but on 10% of the rows only
    })
    assert label_leaks(X, y, list(X.columns)) == {
        "copy": "identical", "flipped": "identical", "as_text": "identical", "amount": "separates",
        "responded_on": "blank_separates"}
    # only the columns asked about
    assert label_leaks(X, y, ["strong", "amount"]) == {"amount": "separates"}


def test_too_few_of_one_outcome_to_tell() -> None:
    # 2 positives of 50: an unrelated number puts them at its top 1 time in 600, so nothing is flagged
    y = np.zeros(50, dtype=int)
    y[[3, 7]] = 1
    X = pd.DataFrame({"v": np.arange(50.0)})
    X.loc[[3, 7], "v"] = [100.0, 101.0]
    assert label_leaks(X, y, ["v"]) == {}
    y[[10]] = 1  # 3 positives, all above every negative: a leak
    X.loc[10, "v"] = 102.0
    assert label_leaks(X, y, ["v"]) == {"v": "separates"}
