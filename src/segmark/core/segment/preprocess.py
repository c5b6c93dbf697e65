"""Preprocessing that suits each feature, as one scikit-learn pipeline fitted and kept with the model.

Numeric features, in order:

1. **shrink** (:class:`~segmark.core.segment.shrink.RateShrinker`): funnel rates whose base count
   is in the table (carts per view, bought share of carted items, share of weeks active) are
   pulled toward the shop's rate by how little evidence they rest on, so two views and one cart
   is not a 50% carter; a user without the base gets the shop's rate.
2. **fill** (:class:`FeatureFiller`): a missing value means something different per feature, so
   the fill is a rule per name (:data:`FILL_RULES`): "days since last purchase" is missing for a
   user who never bought, which is *worse* than the largest observed value, not typical. A value
   that is undefined rather than bad (the order value or price level of a non-buyer, a rate over
   nothing) is left for the scaler, which puts it at the centre of the observed values: not
   having bought is already said by the number of orders, and saying it again through every
   measure of a basket would weigh one fact several times.
3. **log scale** (:class:`TailLog`): ``sign(x) * log1p(|x|)`` for counts, money, durations in
   days and the price level (:data:`LOG_RULES`, by name), whose differences are relative: 30 days
   against 1,000 is a newcomer against a regular, 1,000 against 1,500 is nothing; one order
   against none is a buyer against a browser, 51 against 50 is the same customer. Rates and
   shares stay linear. A feature no rule names is logged when its skewness exceeds
   ``skew_threshold`` (a heavy right tail), so a few big values do not become a segment alone.
4. **scaling** (:class:`SpreadScaler`): centre on the median and divide by the spread, both
   measured on the *observed* values only, then put every value left missing at the centre.
   Measured with the fills included, a feature missing for most users (the order value of a shop
   where most users never buy) would have a spread near zero, and its buyers would be blown far
   apart. The spread is the standard deviation (``spread="std"``, the default of the pipeline:
   after the log, the tails that made robust scales preferable are tamed, and every feature gets
   the same total variance) or the interquartile range falling back to the standard deviation
   (``"iqr"``).

Categorical features are one-hot encoded (rare levels pooled as infrequent), or kept as text for
k-prototypes. PCA is optional and runs last.
"""

from __future__ import annotations

import fnmatch
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder
from sklearn.utils.validation import check_is_fitted, validate_data

from segmark.core.segment.shrink import RATE_BASES, RateShrinker

FillRule = str | float

CENTRE = "centre"
"""Fill rule: leave the value missing for :class:`SpreadScaler`, which puts it at the centre of
the observed values (after the log: their median) without letting it narrow their spread."""

FILL_RULES: dict[str, FillRule] = {
    "recency_days": "max",
    "recency_visit_days": "max",
    "ipi_mean_days": "max",
    "ipi_std_days": 0.0,
    "trend_30d": 1.0,
    "spend_share__*": 0.0,  # no purchases: nothing spent in the category
    "active_week_share": 0.0,  # no events: active in no week
}
"""How a missing value is filled, by feature name or ``*`` pattern; other numeric features (an
order value, a price level or a rate without a base) are left at the centre (:data:`CENTRE`)."""

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
    if rule == CENTRE:
        return float("nan")
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
    """Fill missing values by a rule per feature name (see :data:`FILL_RULES`); values whose rule
    is :data:`CENTRE` stay missing for the scaler."""

    def __init__(self, rules: Mapping[str, FillRule] | None = None, default: FillRule = CENTRE) -> None:
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
        A[rows, cols] = self.fill_values_[cols]  # CENTRE columns: NaN stays NaN
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
    """Sample skewness per column over its observed values; 0 for a (nearly) constant column,
    whose skew means nothing."""
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column: mean of nothing
        mean = np.nanmean(A, axis=0)
        dev = A - mean
        var = np.nanmean(dev**2, axis=0)
        flat = ~(var > (1e-9 * np.maximum(np.abs(mean), 1.0)) ** 2)
        skew = np.nanmean(dev**3, axis=0) / var**1.5
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
        A = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
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
        A = validate_data(self, X, dtype=np.float64, reset=False, copy=True, ensure_all_finite="allow-nan")
        if self.log_columns_.size:
            A[:, self.log_columns_] = signed_log1p(A[:, self.log_columns_])
        return A

    def get_feature_names_out(self, input_features=None):
        return np.asarray(getattr(self, "feature_names_in_", input_features), dtype=object)


class SpreadScaler(TransformerMixin, BaseEstimator):
    """Centre on the median and divide by the spread, both of the observed values; missing values
    are then put at the centre (0).

    ``spread="iqr"``: the interquartile range, falling back to the standard deviation when it is 0
    (scikit-learn's ``RobustScaler`` leaves a zero-IQR feature unscaled, which lets a zero-inflated
    feature, most users without orders, dominate the distances). ``spread="std"``: the standard
    deviation. A constant feature is divided by 1.
    """

    def __init__(self, spread: str = "iqr") -> None:
        self.spread = spread

    def fit(self, X, y=None):
        if self.spread not in ("iqr", "std"):
            raise ValueError(f"spread must be 'iqr' or 'std', not {self.spread!r}")
        A = _spaced(validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column
            q25, self.center_, q75 = np.nanpercentile(A, [25, 50, 75], axis=0)
            std = np.nanstd(A, axis=0)
        iqr = q75 - q25
        scale = std if self.spread == "std" else np.where(iqr > 0, iqr, std)
        self.center_ = np.nan_to_num(self.center_, nan=0.0)
        self.scale_ = np.where(np.nan_to_num(scale, nan=0.0) > 0, scale, 1.0)
        return self

    def transform(self, X):
        check_is_fitted(self)
        A = validate_data(self, X, dtype=np.float64, reset=False, ensure_all_finite="allow-nan")
        return np.nan_to_num((A - self.center_) / self.scale_, nan=0.0)

    def get_feature_names_out(self, input_features=None):
        return np.asarray(getattr(self, "feature_names_in_", input_features), dtype=object)


def _as_text(X) -> np.ndarray:
    """Categories as Python strings, missing ones as 'unknown' (works for object and string dtypes)."""
    frame = pd.DataFrame(X)
    out = frame.astype(object).where(frame.notna(), UNKNOWN)
    return out.astype(str).to_numpy(dtype=object)


def numeric_pipeline(columns: Sequence[str], skew_threshold: float = 1.0,
                     fill_rules: Mapping[str, FillRule] | None = None, *, bases: Sequence[str] = (),
                     spread: str = "std") -> Pipeline:
    """Shrink, fill, log and scale ``columns``; ``bases`` are extra count columns given only as the
    bases of rates (see :data:`~segmark.core.segment.shrink.RATE_BASES`), dropped after shrinking."""
    return Pipeline([
        ("shrink", RateShrinker(drop=tuple(bases))),
        ("fill", FeatureFiller(rules=fill_rules)),
        ("log", TailLog(skew_threshold=skew_threshold, columns=tuple(columns))),
        ("scale", SpreadScaler(spread=spread)),
    ])


def rate_bases(numeric: Sequence[str], available: Sequence[str]) -> list[str]:
    """Base counts to bring in for the rates among ``numeric`` (those in ``available`` and not
    already features themselves)."""
    wanted = [RATE_BASES[c] for c in numeric if c in RATE_BASES]
    return [b for b in dict.fromkeys(wanted) if b in set(available) and b not in set(numeric)]


def make_preprocessor(numeric: Sequence[str], categorical: Sequence[str] = (), *,
                      encoding: str = "onehot", pca: int | float | None = None,
                      skew_threshold: float = 1.0, random_state: int = 0,
                      fill_rules: Mapping[str, FillRule] | None = None, bases: Sequence[str] = (),
                      spread: str = "std") -> Pipeline:
    """The preprocessing pipeline for a DataFrame with these columns.

    ``encoding="onehot"`` gives a float matrix (every method); ``"text"`` keeps the categorical
    columns last, as strings, for k-prototypes (and ignores ``pca``). ``bases`` names count columns
    the frame also holds, read only to shrink the rates among ``numeric`` (:func:`rate_bases`).
    """
    if not numeric and not categorical:
        raise ValueError("no features to cluster on")
    parts = []
    if numeric:
        parts.append(("num", numeric_pipeline(numeric, skew_threshold, fill_rules, bases=bases, spread=spread),
                      [*numeric, *bases]))
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
