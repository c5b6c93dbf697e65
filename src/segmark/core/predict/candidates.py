"""The candidate classifiers, each a scikit-learn pipeline with its own input encoding.

Every candidate starts from the same encoding, fitted inside each training fold (no leakage): numbers
through a signed log (counts and money are heavy-tailed), the median for missing values with a
was-missing indicator, and standard scaling; categories one-hot with rare values pooled and unseen
ones ignored. Then:

- ``tree``: a decision tree (depth 6): readable, the weakest usually;
- ``logistic``: logistic regression (L2);
- ``svm``: an RBF-kernel SVM through a Nyström approximation, the hinge loss minimised by stochastic
  gradient descent (linear cost in users, so it runs at a million users), its scores calibrated into
  probabilities by Platt scaling on internal folds;
- ``mlp``: a small neural network (two hidden layers, early stopping);
- ``hgb``: histogram gradient boosting (scikit-learn's LightGBM-style trees; LightGBM itself did not
  earn its install: same algorithm, and scikit-learn's is already a dependency).

Class imbalance is handled where it matters for a campaign: splits keep the positive rate, the
decision threshold is the one that maximises F1 (``evaluation.choose_threshold``), and ranking is
judged by ROC-AUC and PR-AUC. Classes are not reweighted, which would inflate the probabilities that
tags and audiences read (``churn_probability > 0.7``); the calibration curve is stored to check them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

MISSING = "(missing)"


def signed_log(x: np.ndarray) -> np.ndarray:
    """sign(x) * log(1 + |x|): tames heavy tails, keeps order and sign."""
    x = np.asarray(x, dtype=float)
    return np.sign(x) * np.log1p(np.abs(x))


def encoder(numeric: Sequence[str], categorical: Sequence[str]) -> ColumnTransformer:
    """The shared input encoding (see the module docstring)."""
    parts = []
    if numeric:
        parts.append(("num", Pipeline([
            ("log", FunctionTransformer(signed_log, feature_names_out="one-to-one")),
            ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
            ("scale", StandardScaler()),
        ]), list(numeric)))
    if categorical:
        parts.append(("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=0.005,
                                           max_categories=30, sparse_output=False), list(categorical)))
    return ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False)


def _tree(seed: int) -> ClassifierMixin:
    return DecisionTreeClassifier(max_depth=6, min_samples_leaf=20, random_state=seed)


def _logistic(seed: int) -> ClassifierMixin:
    return LogisticRegression(C=1.0, max_iter=2000)


def _svm(seed: int) -> ClassifierMixin:
    kernel_svm = Pipeline([("kernel", Nystroem(n_components=100, random_state=seed)),
                           ("svm", SGDClassifier(loss="hinge", alpha=1e-4, max_iter=500, tol=1e-3, random_state=seed))])
    return CalibratedClassifierCV(kernel_svm, method="sigmoid", cv=3)


def _mlp(seed: int) -> ClassifierMixin:
    return MLPClassifier(hidden_layer_sizes=(32, 16), alpha=1e-3, batch_size=512, early_stopping=True, max_iter=200,
                         n_iter_no_change=10, random_state=seed)


def _hgb(seed: int) -> ClassifierMixin:
    return HistGradientBoostingClassifier(learning_rate=0.1, max_iter=200, max_leaf_nodes=31,
                                          min_samples_leaf=20, l2_regularization=1.0, early_stopping=True,
                                          validation_fraction=0.1, n_iter_no_change=20, random_state=seed)


CLASSIFIERS: dict[str, Callable[[int], ClassifierMixin]] = {
    "tree": _tree, "logistic": _logistic, "svm": _svm, "mlp": _mlp, "hgb": _hgb,
}
"""Candidate name -> factory of its classifier (given a random seed)."""

ENSEMBLE = "ensemble"
"""The soft-voting ensemble of the best candidates (averaged probabilities)."""


def make_candidate(name: str, numeric: Sequence[str], categorical: Sequence[str], seed: int = 0) -> Pipeline:
    """The named candidate: encoding then classifier, unfitted."""
    if name not in CLASSIFIERS:
        raise ValueError(f"unknown model {name!r}: choose from {', '.join(CLASSIFIERS)}")
    return Pipeline([("encode", encoder(numeric, categorical)), ("model", CLASSIFIERS[name](seed))])


class SoftVote:
    """Fitted members' probabilities averaged (scikit-learn's soft voting, over already-fitted members)."""

    def __init__(self, members: dict[str, Pipeline]) -> None:
        self.members = members

    def predict_proba(self, X) -> np.ndarray:
        return np.mean([m.predict_proba(X) for m in self.members.values()], axis=0)
