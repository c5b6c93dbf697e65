"""Preprocessing that suits each feature, as one scikit-learn pipeline fitted and kept with the model.

Numeric features, in order:

1. **fill** (:class:`FeatureFiller`): a missing value means something different per feature, so
   the fill is a rule per name (:data:`FILL_RULES`): "days since last purchase" is missing for a
   user who never bought, which is *worse* than the largest observed value, not typical; a rate
   over zero carts is filled with 0; a price level without purchases with 1 (typical); anything
   else with the median.
2. **log scale** (:class:`TailLog`): ``sign(x) * log1p(|x|)`` for counts, money, durations in
   days and the price level (:data:`LOG_RULES`, by name), whose differences are relative: 30 days
   against 1,000 is a newcomer against a regular, 1,000 against 1,500 is nothing; one order
   against none is a buyer against a browser, 51 against 50 is the same customer. Rates and
   shares stay linear. A feature no rule names is logged when its skewness exceeds
   ``skew_threshold`` (a heavy right tail), so a few big values do not become a segment alone.
3. **robust scaling** (:class:`SpreadScaler`): centre on the median, divide by the interquartile
   range; when the IQR is zero (zero-inflated counts: most users have no orders) by the standard
   deviation instead, and a constant feature by 1.

Categorical features are one-hot encoded (rare levels pooled as infrequent), or kept as text for
k-prototypes. PCA is optional and runs last.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder
from sklearn.utils.validation import check_is_fitted, validate_data

FillRule = str | float

FILL_RULES: dict[str, FillRule] = {
    "recency_days": "max",
    "recency_visit_days": "max",
    "ipi_mean_days": "max",
    "ipi_std_days": 0.0,
    "aov": 0.0,
    "price_level": 1.0,
    "view_to_cart_rate": 0.0,
    "cart_to_purchase_rate": 0.0,
    "cart_abandonment_rate": 0.0,
    "refund_rate": 0.0,
    "top_category_share": 0.0,
    "category_entropy": 0.0,
    "trend_30d": 1.0,
    "spend_share__*": 0.0,  # no purchases: nothing spent in the category
}
"""How a missing value is filled, by feature name or ``*`` pattern; other numeric features use the median."""

LOG_RULES: tuple[tuple[str, bool], ...] = (
    ("*_rate", False),
    ("*_share", False),
    ("cat_share__*", False),
    ("spend_share__*", False),
    ("category_entropy", False),
    ("*_days", True),
    ("frequency", True),
    ("monetary", True),
    ("aov", True),
    ("price_level", True),
    ("views_*d", True),
    ("searches_*d", True),
    ("carts_*d", True),
    ("favs_*d", True),
    ("purchases_*d", True),
    ("orders_*d", True),
    ("spend_*d", True),
    ("active_days_*d", True),
    ("sessions_*d", True),
)
"""Whether a feature is taken on a log scale, by name pattern (first match wins); features no
pattern names are decided by their skewness."""

UNKNOWN = "unknown"


def log_rule(name: str, rules: Sequence[tuple[str, bool]] = LOG_RULES) -> bool | None:
    """True/False when a rule names the feature, None when its skewness decides."""
    for pattern, take_log in rules:
        if fnmatch.fnmatchcase(name, pattern):
            return take_log
    return None


def _fill_value(values: np.ndarray, rule: FillRule) -> float:
    finite = values[~np.isnan(values)]
    if isinstance(rule, int | float):
        return float(rule)
    if finite.size == 0:
        return 0.0
    if rule == "max":
        return float(finite.max())
    if rule == "min":
        return float(finite.min())
    if rule == "median":
        return float(np.median(finite))
    raise ValueError(f"unknown fill rule {rule!r}")


def _fill_rule(name: str, rules: Mapping[str, FillRule], default: FillRule) -> FillRule:
    """The rule for a feature: its own name first, then the first ``*`` pattern that matches it."""
    if name in rules:
        return rules[name]
    return next((rule for pattern, rule in rules.items() if "*" in pattern and fnmatch.fnmatchcase(name, pattern)),
                default)


class FeatureFiller(TransformerMixin, BaseEstimator):
    """Fill missing values by a rule per feature name (see :data:`FILL_RULES`)."""

    def __init__(self, rules: Mapping[str, FillRule] | None = None, default: FillRule = "median") -> None:
        self.rules = rules
        self.default = default

    def fit(self, X, y=None):
        names = list(X.columns) if isinstance(X, pd.DataFrame) else None
        A = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
        rules = FILL_RULES if self.rules is None else self.rules
        names = names or [f"x{i}" for i in range(A.shape[1])]
        self.fill_values_ = np.array(
            [_fill_value(A[:, j], _fill_rule(name, rules, self.default)) for j, name in enumerate(names)]
        )
        return self

    def transform(self, X):
        check_is_fitted(self)
        A = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False, copy=True)
        rows, cols = np.nonzero(np.isnan(A))
        A[rows, cols] = self.fill_values_[cols]
        return A

    def get_feature_names_out(self, input_features=None):
        return np.asarray(getattr(self, "feature_names_in_", input_features), dtype=object)


STATS_ROWS = 200_000
"""Rows (evenly spaced) on which a feature's skewness and quartiles are measured: a subset this
large gives the same decisions and scales as all rows, at a fraction of the time on millions."""


def _spaced(A: np.ndarray) -> np.ndarray:
    """At most STATS_ROWS evenly spaced rows of ``A`` (all of them when it is smaller)."""
    return A[:: max(1, A.shape[0] // STATS_ROWS)]


def skewness(A: np.ndarray) -> np.ndarray:
    """Sample skewness per column; 0 for a (nearly) constant column, whose skew means nothing."""
    mean = A.mean(axis=0)
    dev = A - mean
    var = (dev**2).mean(axis=0)
    flat = var <= (1e-9 * np.maximum(np.abs(mean), 1.0)) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        skew = (dev**3).mean(axis=0) / var**1.5
    return np.where(flat, 0.0, np.nan_to_num(skew, nan=0.0))


def signed_log1p(x: np.ndarray) -> np.ndarray:
    """``sign(x) * log1p(|x|)``: a log that keeps order and zero and accepts negative amounts."""
    out = np.log1p(np.abs(x))
    return np.copysign(out, x, out=out)


class TailLog(TransformerMixin, BaseEstimator):
    """Log-transform the columns :data:`LOG_RULES` names, and unnamed ones whose skewness exceeds
    ``skew_threshold`` (decided at fit). ``columns`` gives the feature names the rules look up
    (the pipeline passes arrays)."""

    def __init__(self, skew_threshold: float = 1.0, columns: Sequence[str] | None = None,
                 rules: Sequence[tuple[str, bool]] | None = None) -> None:
        self.skew_threshold = skew_threshold
        self.columns = columns
        self.rules = rules

    def fit(self, X, y=None):
        A = validate_data(self, X, dtype=np.float64)
        names = list(self.columns) if self.columns is not None else [None] * A.shape[1]
        rules = LOG_RULES if self.rules is None else self.rules
        decided = [log_rule(name, rules) if name is not None else None for name in names]
        # skewness only where no rule decides
        undecided = [j for j, rule in enumerate(decided) if rule is None]
        skew = np.full(A.shape[1], np.nan)
        if undecided:
            skew[undecided] = skewness(_spaced(A)[:, undecided])
        self.skewness_ = skew
        chosen = [j for j, rule in enumerate(decided) if rule or (rule is None and skew[j] > self.skew_threshold)]
        self.log_columns_ = np.array(chosen, dtype=np.int64)
        return self

    def transform(self, X):
        check_is_fitted(self)
        A = validate_data(self, X, dtype=np.float64, reset=False, copy=True)
        if self.log_columns_.size:
            A[:, self.log_columns_] = signed_log1p(A[:, self.log_columns_])
        return A

    def get_feature_names_out(self, input_features=None):
        return np.asarray(getattr(self, "feature_names_in_", input_features), dtype=object)


class SpreadScaler(TransformerMixin, BaseEstimator):
    """Robust scaling: (x - median) / IQR, falling back to the standard deviation when the IQR is 0.

    scikit-learn's ``RobustScaler`` leaves a zero-IQR feature unscaled, which lets a zero-inflated
    feature (most users without orders) dominate the distances; this fallback keeps every feature
    on a comparable spread.
    """

    def fit(self, X, y=None):
        A = _spaced(validate_data(self, X, dtype=np.float64))
        q25, self.center_, q75 = np.percentile(A, [25, 50, 75], axis=0)
        iqr = q75 - q25
        std = A.std(axis=0)
        scale = np.where(iqr > 0, iqr, std)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        return self

    def transform(self, X):
        check_is_fitted(self)
        A = validate_data(self, X, dtype=np.float64, reset=False)
        return (A - self.center_) / self.scale_

    def get_feature_names_out(self, input_features=None):
        return np.asarray(getattr(self, "feature_names_in_", input_features), dtype=object)


def _as_text(X) -> np.ndarray:
    """Categories as Python strings, missing ones as 'unknown' (works for object and string dtypes)."""
    frame = pd.DataFrame(X)
    out = frame.astype(object).where(frame.notna(), UNKNOWN)
    return out.astype(str).to_numpy(dtype=object)


def numeric_pipeline(columns: Sequence[str], skew_threshold: float = 1.0,
                     fill_rules: Mapping[str, FillRule] | None = None) -> Pipeline:
    return Pipeline([
        ("fill", FeatureFiller(rules=fill_rules)),
        ("log", TailLog(skew_threshold=skew_threshold, columns=tuple(columns))),
        ("scale", SpreadScaler()),
    ])


def make_preprocessor(numeric: Sequence[str], categorical: Sequence[str] = (), *,
                      encoding: str = "onehot", pca: int | float | None = None,
                      skew_threshold: float = 1.0, random_state: int = 0,
                      fill_rules: Mapping[str, FillRule] | None = None) -> Pipeline:
    """The preprocessing pipeline for a DataFrame with these columns.

    ``encoding="onehot"`` gives a float matrix (every method); ``"text"`` keeps the categorical
    columns last, as strings, for k-prototypes (and ignores ``pca``).
    """
    if not numeric and not categorical:
        raise ValueError("no features to cluster on")
    parts = []
    if numeric:
        parts.append(("num", numeric_pipeline(numeric, skew_threshold, fill_rules), list(numeric)))
    if categorical:
        text = FunctionTransformer(_as_text, feature_names_out="one-to-one")
        if encoding == "onehot":
            cat = Pipeline([
                ("text", text),
                ("onehot", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=0.01,
                                         max_categories=20, sparse_output=False)),
            ])
        elif encoding == "text":
            cat = Pipeline([("text", text)])
        else:
            raise ValueError(f"unknown encoding {encoding!r}")
        parts.append(("cat", cat, list(categorical)))
    columns = ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0,
                                verbose_feature_names_out=False)
    steps: list[tuple[str, object]] = [("columns", columns)]
    if pca is not None and encoding == "onehot":
        steps.append(("pca", PCA(n_components=pca, random_state=random_state)))
    return Pipeline(steps)


def split_columns(frame: pd.DataFrame, features: Sequence[str]) -> tuple[list[str], list[str]]:
    """(numeric, categorical) names among ``features``, by dtype; booleans count as numeric."""
    numeric, categorical = [], []
    for name in features:
        dtype = frame[name].dtype
        if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
            numeric.append(name)
        else:
            categorical.append(name)
    return numeric, categorical
