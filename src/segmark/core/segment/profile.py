"""Segment profiles: who is in each segment, what they are worth, and how they differ from everyone.

Two tables:

- :func:`segment_summary`, one row per segment: size, share of users, net revenue and share of
  revenue (net spend summed with negative balances counted as 0, so shares lie in [0, 1] and add
  up to 1), and the most common top categories with their share of the segment's users.
- :func:`feature_profile`, one row per segment and numeric feature: median and mean in the segment
  and over all users, the **lift** (segment mean / overall mean; a median lift would be 0/0 for
  the many activity counts whose median is 0) and the **effect** (difference of means in overall
  standard deviations, computed on ``sign(x) log(1 + |x|)`` so one big spender does not make a
  segment look "high spend"). Effects are what names and "why" texts are built from.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

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
    if revenue in features.columns:
        money = pd.to_numeric(features[revenue], errors="coerce").fillna(0.0).clip(lower=0.0)
        rev = money.groupby(seg).sum().reindex(out.index, fill_value=0.0)
        total = float(money.sum())
        out["revenue"] = rev.astype(float)
        out["revenue_share"] = rev / total if total > 0 else 0.0
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


def feature_profile(features: pd.DataFrame, labels: pd.Series | np.ndarray,
                    columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Long table: segment, feature, median, mean, overall_median, overall_mean, lift, effect."""
    seg = _labels(labels, features.index)
    if columns is None:
        columns = [c for c in features.columns if pd.api.types.is_numeric_dtype(features[c])
                   and not pd.api.types.is_bool_dtype(features[c])]
    num = features[list(columns)].apply(pd.to_numeric, errors="coerce").astype(float)
    grouped = num.groupby(seg)
    medians, means = grouped.median(), grouped.mean()
    logged = pd.DataFrame(signed_log1p(num.to_numpy()), index=num.index, columns=num.columns)
    log_means = logged.groupby(seg).mean()
    log_std = logged.std(ddof=0).replace(0.0, np.nan)
    effect = (log_means - logged.mean()) / log_std
    overall_mean, overall_median = num.mean(), num.median()
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = means / overall_mean.replace(0.0, np.nan)
    frames = {"median": medians, "mean": means, "lift": lift, "effect": effect}
    long = pd.concat({k: v.stack(future_stack=True) for k, v in frames.items()}, axis=1)
    long.index.names = ["segment", "feature"]
    long = long.reset_index()
    long["overall_median"] = long["feature"].map(overall_median)
    long["overall_mean"] = long["feature"].map(overall_mean)
    return long[["segment", "feature", "median", "mean", "overall_median", "overall_mean", "lift", "effect"]]


def effect_matrix(profile: pd.DataFrame) -> pd.DataFrame:
    """Segments x features table of effects, from :func:`feature_profile`'s long table."""
    return profile.pivot(index="segment", columns="feature", values="effect")
