"""Naive baselines a model must beat, judged on the same folds as the model.

Each is one number per user turned into a probability by a logistic regression on that number alone
(after a signed log, with missing values as their own level), fitted on the training folds only:

- ``recency``: days since the last purchase (for users who never bought, "never" is its own level);
- ``bgnbd``: BG/NBD's expected purchases in the horizon, from the purchase history before the cut;
- for a plain user table without an event log, ``best_single_input``: the one input column that
  ranks best on its own.
"""

from __future__ import annotations

from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from segmark.core.predict.candidates import signed_log

BASELINE_COLUMNS = {"recency": "recency_days", "bgnbd": "bgnbd_expected_purchases"}
"""Baseline name -> the column of the training frame it reads."""


def one_feature_baseline(column: str) -> Pipeline:
    """A logistic regression on one column (signed log, median fill plus a missing indicator)."""
    encode = Pipeline([("log", FunctionTransformer(signed_log)),
                       ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
                       ("scale", StandardScaler())])
    return Pipeline([("pick", ColumnTransformer([("x", encode, [column])], remainder="drop")),
                     ("model", LogisticRegression(max_iter=1000))])
