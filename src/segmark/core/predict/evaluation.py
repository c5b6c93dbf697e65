"""How good a probability is, as plain dicts: ranking (ROC-AUC, PR-AUC), the decision at a chosen
threshold (precision, recall, F1, confusion matrix), calibration (Brier score and curve) and what
a campaign gets from it (lift and cumulative gain by decile).

Kept apart from the models (implicit's ``evaluation``, scikit-learn's ``metrics``): every model and
every baseline is judged by the same ``evaluate``, on predictions it did not see in training.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

THRESHOLD_RULE = "max_f1"
"""The threshold is the probability that maximises F1 on out-of-fold predictions of the training data."""

HEADLINE = ("roc_auc", "pr_auc", "precision", "recall", "f1", "brier", "threshold")
"""The figures ``predict train --json`` and ``predict show --json`` carry at the top level."""


def deciles(values: np.ndarray) -> np.ndarray:
    """1..10 by rank, 10 for the highest values (NaN lowest); tied values share a decile."""
    v = np.asarray(values, float)
    n = len(v)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    ranks = pd.Series(np.where(np.isnan(v), -np.inf, v)).rank(method="min").to_numpy()
    return np.minimum(10, 1 + ((ranks - 1) * 10 // n)).astype(np.int64)


def choose_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The probability that maximises F1 (class imbalance: never the blind 0.5)."""
    y, p = np.asarray(y), np.asarray(p, float)
    if y.min() == y.max():
        return 0.5
    precision, recall, thresholds = precision_recall_curve(y, p)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    best = int(np.argmax(f1[:-1])) if len(thresholds) else 0
    return float(thresholds[best]) if len(thresholds) else 0.5


def calibration_curve(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Mean predicted probability against the observed rate in equal-count bins."""
    order = np.argsort(p, kind="stable")
    out = []
    for part in np.array_split(order, min(bins, len(order))):
        if len(part):
            out.append({"predicted": float(p[part].mean()), "observed": float(y[part].mean()), "n": len(part)})
    return out


def lift_table(y: np.ndarray, p: np.ndarray) -> list[dict[str, float]]:
    """Per decile (10 = highest scores first): users, positives, rate, lift over the base rate and the
    cumulative share of all positives reached by targeting down to that decile (gain)."""
    d = deciles(p)
    total, base = max(float(y.sum()), 1.0), float(y.mean()) if len(y) else 0.0
    rows, reached = [], 0.0
    for k in range(10, 0, -1):
        mask = d == k
        n = int(mask.sum())
        pos = float(y[mask].sum())
        reached += pos
        rate = pos / n if n else 0.0
        rows.append({"decile": k, "users": n, "positives": int(pos), "rate": rate,
                     "lift": rate / base if base > 0 else 0.0, "cumulative_gain": reached / total})
    return rows


def curves(y: np.ndarray, p: np.ndarray, points: int = 50) -> dict[str, list[list[float]]]:
    """The ROC curve (false and true positive rates) and the precision-recall curve, each thinned to
    about ``points`` points for the report."""
    fpr, tpr, _ = roc_curve(y, p)
    precision, recall, _ = precision_recall_curve(y, p)

    def thin(a: np.ndarray, b: np.ndarray) -> list[list[float]]:
        keep = np.unique(np.linspace(0, len(a) - 1, min(points, len(a))).round().astype(int))
        return [[round(float(a[i]), 4), round(float(b[i]), 4)] for i in keep]

    return {"roc": thin(fpr, tpr), "pr": thin(recall, precision)}


def evaluate(y: np.ndarray, p: np.ndarray, threshold: float | None = None) -> dict[str, Any]:
    """Every figure of one set of predictions; ``threshold`` as chosen on training data, else max F1 here."""
    y = np.asarray(y).astype(int)
    p = np.clip(np.asarray(p, float), 0.0, 1.0)
    if len(y) == 0:
        raise ValueError("no predictions to evaluate")
    both = 0 < y.sum() < len(y)
    t = choose_threshold(y, p) if threshold is None else float(threshold)
    pred = p >= t
    tp = int((pred & (y == 1)).sum())
    fp = int((pred & (y == 0)).sum())
    fn = int((~pred & (y == 1)).sum())
    tn = int((~pred & (y == 0)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "roc_auc": float(roc_auc_score(y, p)) if both else None,
        "pr_auc": float(average_precision_score(y, p)) if both else None,
        "precision": precision, "recall": recall, "f1": f1,
        "brier": float(brier_score_loss(y, p)),
        "threshold": t, "threshold_rule": THRESHOLD_RULE,
        "n": len(y), "positives": int(y.sum()), "base_rate": float(y.mean()),
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
        "calibration": calibration_curve(y, p),
        "lift": lift_table(y, p),
        "top_decile_lift": lift_table(y, p)[0]["lift"],
        "curves": curves(y, p) if both else None,
    }


def headline(figures: dict[str, Any]) -> dict[str, Any]:
    """The top-level figures of an evaluation (``HEADLINE``)."""
    return {k: figures.get(k) for k in HEADLINE}
