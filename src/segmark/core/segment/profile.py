"""Segment profiles: who is in each segment, what they are worth, and how they differ from everyone.

Two tables:

- :func:`segment_summary`, one row per segment: size, share of users, net revenue and share of
  revenue (net spend summed with negative balances counted as 0, so shares lie in [0, 1] and add
  up to 1; unknown, NaN, when the data carry no prices), and the most common top categories with
  their share of the segment's users.
- :func:`feature_profile`, one row per segment and numeric feature: median and mean in the segment
  and over all users, the **lift** (segment mean / overall mean; a median lift would be 0/0 for
  the many activity counts whose median is 0) and the **effect** (difference of means in overall
  standard deviations, computed on ``sign(x) log(1 + |x|)`` so one big spender does not make a
  segment look "high spend"; estimated on up to 200,000 users). Effects are what names and "why"
  texts are built from, so an effect is left out (NaN) where too few of the segment's users have
  a value (:func:`~segmark.core.segment.claims.supported`: 10 users, or all of a smaller segment,
  and a fifth of the segment): the repurchase interval
  of 1 of 38 users says nothing about the 38. Money features are unknown (NaN) throughout when the
  data carry no prices.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from segmark.core.segment.claims import is_money, is_nominal, revenue_by_segment, revenue_known, supported
from segmark.core.segment.preprocess import signed_log1p


def _labels(labels: pd.Series | np.ndarray, index: pd.Index) -> pd.Series:
    if isinstance(labels, pd.Series):
        return labels.reindex(index)
    return pd.Series(np.asarray(labels), index=index)


def segment_summary(features: pd.DataFrame, labels: pd.Series | np.ndarray, *, revenue: str = "monetary",
                    category: str = "top_category", top_n: int = 3) -> pd.DataFrame:
    """Size, share, revenue, revenue share and top categories per segment (index: segment)."""
    seg = _labels(labels, features.index)
    size = seg.value_counts().sort_index()
    out = pd.DataFrame({"size": size, "share": size / len(seg)})
    out.index.name = "segment"
    if revenue in features.columns and revenue_known(features, revenue=revenue):
        out["revenue"], out["revenue_share"] = revenue_by_segment(features, seg, out.index, revenue)
    else:
        out["revenue"] = np.nan
        out["revenue_share"] = np.nan
    tops: dict[object, list[tuple[str, float]]] = {s: [] for s in out.index}
    if category in features.columns:
        cats = features[category].astype(object).where(features[category].notna())
        counts = pd.crosstab(seg, cats)
        for s in out.index:
            if s in counts.index:
                row = counts.loc[s]
                row = row[row > 0].sort_values(ascending=False).head(top_n)
                tops[s] = [(str(c), float(v) / float(out.loc[s, "size"])) for c, v in row.items()]
    out["top_categories"] = pd.Series(tops)
    return out


TAIL = 0.995
"""Effects are computed on values clipped to the shop's 0.5th and 99.5th percentiles: the log
already tames big spenders, clipping keeps one extreme user from carrying a segment's mean."""

EFFECT_ROWS = 200_000
"""Users the effects are estimated on (every k-th user, so the same users each time): effects rank
and name segments, and a sample this size gives them to two decimals at a fraction of the cost."""


def feature_profile(features: pd.DataFrame, labels: pd.Series | np.ndarray,
                    columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Long table: segment, feature, median, mean, overall_median, overall_mean, lift, effect.

    Medians and means are exact; missing values are left out of them (a price level without
    purchases is no price level).
    """
    seg = _labels(labels, features.index)
    if columns is None:
        columns = [c for c in features.columns if pd.api.types.is_numeric_dtype(features[c])
                   and not pd.api.types.is_bool_dtype(features[c])]
    columns = list(columns)
    num = features[columns]
    if not all(pd.api.types.is_float_dtype(t) for t in num.dtypes):
        num = num.astype(np.float64)
    if not revenue_known(features):
        num = num.assign(**{c: np.nan for c in columns if is_money(c)})
    grouped = num.groupby(seg, sort=True)
    medians_df = grouped.median()
    segments = medians_df.index
    medians = medians_df.to_numpy(dtype=np.float64)
    means = grouped.mean().reindex(segments).to_numpy(dtype=np.float64)
    overall_median = num.median().to_numpy(dtype=np.float64)
    overall_mean = num.mean().to_numpy(dtype=np.float64)
    step = max(1, -(-len(num) // EFFECT_ROWS))
    sample = num.iloc[::step]
    logged = pd.DataFrame(signed_log1p(sample.to_numpy(dtype=np.float64, na_value=np.nan)), index=sample.index,
                          columns=columns)
    # a user or two far out (a refund rate of 57 among 48 users at 0) move no segment's effect
    logged = logged.clip(lower=logged.quantile(1 - TAIL), upper=logged.quantile(TAIL), axis=1)
    log_means = logged.groupby(seg.iloc[::step], sort=True).mean().reindex(segments).to_numpy(dtype=np.float64)
    log_sd = logged.std(ddof=0).to_numpy(dtype=np.float64)
    known = grouped.count().reindex(segments).to_numpy(dtype=np.float64)
    size = seg.value_counts().reindex(segments).to_numpy(dtype=np.float64)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        effect = (log_means - logged.mean().to_numpy(dtype=np.float64)) / np.where(log_sd > 0, log_sd, np.nan)
        effect = np.where(supported(known, size), effect, np.nan)
        effect[:, [is_nominal(c) for c in columns]] = np.nan
        lift = means / np.where(overall_mean != 0, overall_mean, np.nan)
    n_seg, n_feat = means.shape
    return pd.DataFrame({
        "segment": np.repeat(np.asarray(segments), n_feat),
        "feature": np.tile(np.asarray(columns, dtype=object), n_seg),
        "median": medians.ravel(), "mean": means.ravel(),
        "overall_median": np.tile(overall_median, n_seg), "overall_mean": np.tile(overall_mean, n_seg),
        "lift": lift.ravel(), "effect": effect.ravel(),
    })


def effect_matrix(profile: pd.DataFrame) -> pd.DataFrame:
    """Segments x features table of effects, from :func:`feature_profile`'s long table."""
    return profile.pivot(index="segment", columns="feature", values="effect")
