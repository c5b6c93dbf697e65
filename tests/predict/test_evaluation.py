"""Evaluation figures against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from segmark.core.predict.evaluation import choose_threshold, deciles, evaluate


def test_figures_of_a_small_ranking() -> None:
    y = np.array([1, 1, 0, 1, 0, 0, 0, 0])
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1])
    ev = evaluate(y, p, threshold=0.6)
    # pairs (positive, negative) ranked right: 5 + 5 + 4 of 3 x 5 = 14/15
    assert ev["roc_auc"] == pytest.approx(14 / 15)
    # average precision: (1/1 + 2/2 + 3/4) / 3
    assert ev["pr_auc"] == pytest.approx((1 + 1 + 0.75) / 3)
    assert ev["confusion"] == {"tp": 3, "fp": 1, "fn": 0, "tn": 4}
    assert (ev["precision"], ev["recall"]) == (0.75, 1.0)
    assert ev["f1"] == pytest.approx(2 * 0.75 / 1.75)
    assert ev["brier"] == pytest.approx(np.mean((p - y) ** 2))
    assert ev["base_rate"] == 3 / 8


def test_threshold_maximises_f1() -> None:
    y = np.array([1, 1, 0, 1, 0, 0, 0, 0])
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1])
    # F1 at 0.9: 0.5, 0.8: 0.8, 0.7: 0.667, 0.6: 0.857, 0.4: 0.75 -> 0.6
    assert choose_threshold(y, p) == pytest.approx(0.6)


def test_deciles_and_lift() -> None:
    p = np.arange(100) / 100.0
    d = deciles(p)
    assert (d[:10] == 1).all() and (d[90:] == 10).all() and np.bincount(d)[1:].tolist() == [10] * 10
    y = (p >= 0.9).astype(int)  # every positive in the top decile
    ev = evaluate(y, p)
    top = ev["lift"][0]
    assert top["decile"] == 10 and top["rate"] == 1.0 and top["lift"] == pytest.approx(10.0)
    assert top["cumulative_gain"] == 1.0
    assert [c["n"] for c in ev["calibration"]] == [10] * 10
    # ties share a decile
    assert len(set(deciles(np.ones(50)))) == 1
