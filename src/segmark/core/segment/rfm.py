"""RFM scores by quantile and the standard named RFM scheme, with the scheme kept as data.

Scores. Only buyers (``frequency > 0`` with a known recency) are scored; each of R, F and M is
``1 + floor(scale * w / n)`` where ``n`` is the number of buyers and ``w`` the number of buyers with
a strictly *worse* value (larger recency; fewer orders; lower net spend). So:

- with distinct values and ``n`` a multiple of ``scale``, every score holds exactly ``n / scale``
  buyers (the usual quintiles or terciles);
- tied values always share one score: the score of the worst position of their block. Frequency
  is heavily tied (most buyers order once), so every one-time buyer gets F=1, never a score that
  depends on row order, and a higher score may be empty;
- users without a purchase get R=F=M=0 and the segment ``no_purchase``: they are not part of the
  quantiles, so a shop with many browsers does not push its buyers' scores up;
- an axis on which all buyers are equal (net spend 0 everywhere when the source has no prices)
  scores 1 for everyone; :func:`flat_axes` finds it and :func:`ignore_axes` drops the rules'
  ranges on it, so the scheme still separates Champions from Loyal by R and F alone.

Segments. A scheme is an ordered list of :class:`RFMRule` (inclusive score ranges on R, F and M);
the first rule that matches a buyer wins, and a buyer no rule matches is ``other``. The default
schemes (one per scale) cover every cell of the score grid, which the tests check. A workspace
replaces the scheme with ``[[segment.rfm_rules]]`` tables in ``segmark.toml``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

NO_PURCHASE = ("no_purchase", "No purchase yet", "未购买用户")
OTHER = ("other", "Other", "其他")
SCALES = (3, 5)


@dataclass(frozen=True)
class RFMRule:
    """One named segment: inclusive score ranges; ``None`` means any score."""

    key: str
    name: str
    name_zh: str
    r: tuple[int, int] | None = None
    f: tuple[int, int] | None = None
    m: tuple[int, int] | None = None

    def matches(self, r: np.ndarray, f: np.ndarray, m: np.ndarray) -> np.ndarray:
        hit = np.ones(len(r), dtype=bool)
        for scores, bounds in ((r, self.r), (f, self.f), (m, self.m)):
            if bounds is not None:
                hit &= (scores >= bounds[0]) & (scores <= bounds[1])
        return hit


def _rule(key: str, name: str, zh: str, r: tuple[int, int], f: tuple[int, int],
          m: tuple[int, int] | None = None) -> RFMRule:
    return RFMRule(key, name, zh, r, f, m)


RFM_RULES_5: tuple[RFMRule, ...] = (
    _rule("champions", "Champions", "冠军用户", (4, 5), (4, 5), (4, 5)),
    _rule("loyal", "Loyal", "忠诚用户", (3, 5), (4, 5)),
    _rule("cant_lose_them", "Can't Lose Them", "重要挽留用户", (1, 2), (4, 5), (4, 5)),
    _rule("at_risk", "At Risk", "流失风险用户", (1, 2), (3, 5)),
    _rule("potential_loyalist", "Potential Loyalist", "潜在忠诚用户", (4, 5), (2, 3)),
    _rule("new", "New", "新客户", (5, 5), (1, 1)),
    _rule("promising", "Promising", "有潜力用户", (4, 4), (1, 1)),
    _rule("need_attention", "Need Attention", "需要关注用户", (3, 3), (3, 3)),
    _rule("about_to_sleep", "About To Sleep", "即将沉睡用户", (3, 3), (1, 2)),
    _rule("hibernating", "Hibernating", "休眠用户", (2, 2), (1, 2)),
    _rule("lost", "Lost", "已流失用户", (1, 1), (1, 2)),
)
"""The standard eleven-segment scheme on the R x F grid of the 5-point scale (M separates Champions
from Loyal and Can't Lose Them from At Risk). Order matters: first match wins."""

RFM_RULES_3: tuple[RFMRule, ...] = (
    _rule("champions", "Champions", "冠军用户", (3, 3), (3, 3), (3, 3)),
    _rule("loyal", "Loyal", "忠诚用户", (2, 3), (3, 3)),
    _rule("cant_lose_them", "Can't Lose Them", "重要挽留用户", (1, 1), (3, 3), (3, 3)),
    _rule("at_risk", "At Risk", "流失风险用户", (1, 1), (2, 3)),
    _rule("potential_loyalist", "Potential Loyalist", "潜在忠诚用户", (3, 3), (2, 2)),
    _rule("need_attention", "Need Attention", "需要关注用户", (2, 2), (2, 2)),
    _rule("new", "New", "新客户", (3, 3), (1, 1)),
    _rule("about_to_sleep", "About To Sleep", "即将沉睡用户", (2, 2), (1, 1)),
    _rule("lost", "Lost", "已流失用户", (1, 1), (1, 1)),
)
"""The same scheme on the 3-point scale, whose 3 x 3 grid has room for nine of the eleven names
(Promising joins New and Hibernating joins Lost)."""


def default_rfm_rules(scale: int = 5) -> tuple[RFMRule, ...]:
    """The standard scheme for a 5- or 3-point scale."""
    if scale not in SCALES:
        raise ValueError(f"scale must be 3 or 5, not {scale}")
    return RFM_RULES_5 if scale == 5 else RFM_RULES_3


def slug(name: str) -> str:
    """A stable key from a display name: 'Can't Lose Them' -> 'cant_lose_them'."""
    key = re.sub(r"[^0-9a-z]+", "_", name.lower().replace("'", "")).strip("_")
    return key or name


def parse_rfm_rules(rules: Sequence[Mapping[str, Any]], scale: int) -> tuple[RFMRule, ...]:
    """Build a scheme from settings data (``{name, name_zh, r, f, m}`` per rule), checked against
    ``scale``; raises ``ValueError`` naming the bad rule."""
    parsed = []
    for i, spec in enumerate(rules, 1):
        unknown = set(spec) - {"key", "name", "name_zh", "r", "f", "m"}
        if unknown:
            raise ValueError(f"rfm rule {i}: unknown keys {sorted(unknown)}")
        name = str(spec.get("name") or "").strip()
        if not name:
            raise ValueError(f"rfm rule {i}: 'name' is required")
        bounds: dict[str, tuple[int, int] | None] = {}
        for axis in ("r", "f", "m"):
            value = spec.get(axis)
            if value is None:
                bounds[axis] = None
                continue
            if (not isinstance(value, Sequence) or len(value) != 2
                    or not all(isinstance(v, int) for v in value)):
                raise ValueError(f"rfm rule {name!r}: {axis} must be [low, high] integers")
            lo, hi = int(value[0]), int(value[1])
            if not 1 <= lo <= hi <= scale:
                raise ValueError(f"rfm rule {name!r}: {axis}={[lo, hi]} is outside 1..{scale}")
            bounds[axis] = (lo, hi)
        key = str(spec.get("key") or slug(name))
        parsed.append(RFMRule(key, name, str(spec.get("name_zh") or name), **bounds))
    keys = [r.key for r in parsed]
    if len(set(keys)) != len(keys) or {NO_PURCHASE[0], OTHER[0]} & set(keys):
        raise ValueError("rfm rules need distinct names, other than 'no_purchase' and 'other'")
    if not parsed:
        raise ValueError("rfm rules: the list is empty")
    return tuple(parsed)


def _thresholds(values: np.ndarray, scale: int, *, higher_is_better: bool) -> np.ndarray:
    """Cut values t_2..t_scale such that score(v) = 1 + #{s: v beyond t_s}.

    ``count(worse than v) >= c_s`` with ``c_s = ceil(n (s - 1) / scale)`` holds exactly when v is
    beyond the c_s-th worst value, so these cuts reproduce the quantile score for any new value.
    """
    n = len(values)
    worst_first = np.sort(values) if higher_is_better else np.sort(values)[::-1]
    c = -(-n * np.arange(1, scale) // scale)  # ceil(n (s - 1) / scale) for s = 2..scale
    return worst_first[c - 1]


@dataclass(frozen=True)
class RFMScorer:
    """Quantile cut points learnt from one population of buyers, to score other users the same
    way (``segmark segments assign``): a user is scored against the population the segmentation
    was made from, not against the new users."""

    scale: int
    recency_cuts: np.ndarray
    frequency_cuts: np.ndarray
    monetary_cuts: np.ndarray
    columns: tuple[str, str, str] = ("recency_days", "frequency", "monetary")

    @classmethod
    def fit(cls, features: pd.DataFrame, *, recency: str = "recency_days", frequency: str = "frequency",
            monetary: str = "monetary", scale: int = 5) -> RFMScorer:
        rec, freq, mon, buyer = _columns(features, recency, frequency, monetary, scale)
        if not buyer.any():
            empty = np.array([], dtype=float)
            return cls(scale, empty, empty, empty, (recency, frequency, monetary))
        return cls(scale,
                   _thresholds(rec[buyer], scale, higher_is_better=False),
                   _thresholds(freq[buyer], scale, higher_is_better=True),
                   _thresholds(mon[buyer], scale, higher_is_better=True),
                   (recency, frequency, monetary))

    def transform(self, features: pd.DataFrame) -> pd.DataFrame:
        """R, F and M scores (0 without a purchase) for the rows of ``features``."""
        rec, freq, mon, buyer = _columns(features, *self.columns, self.scale)
        out = np.zeros((len(features), 3), dtype=np.int64)
        if buyer.any() and self.recency_cuts.size:
            out[buyer, 0] = 1 + (rec[buyer, None] < self.recency_cuts[None, :]).sum(axis=1)
            out[buyer, 1] = 1 + (freq[buyer, None] > self.frequency_cuts[None, :]).sum(axis=1)
            out[buyer, 2] = 1 + (mon[buyer, None] > self.monetary_cuts[None, :]).sum(axis=1)
        return pd.DataFrame(out, index=features.index, columns=["r_score", "f_score", "m_score"])


def _columns(features: pd.DataFrame, recency: str, frequency: str, monetary: str,
             scale: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if scale not in SCALES:
        raise ValueError(f"scale must be 3 or 5, not {scale}")
    missing = [c for c in (recency, frequency, monetary) if c not in features.columns]
    if missing:
        raise KeyError(f"rfm needs the feature columns {missing}")
    rec = pd.to_numeric(features[recency], errors="coerce").to_numpy(dtype=float)
    freq = pd.to_numeric(features[frequency], errors="coerce").fillna(0).to_numpy(dtype=float)
    mon = pd.to_numeric(features[monetary], errors="coerce").fillna(0).to_numpy(dtype=float)
    return rec, freq, mon, (freq > 0) & ~np.isnan(rec)


def rfm_scores(features: pd.DataFrame, *, recency: str = "recency_days", frequency: str = "frequency",
               monetary: str = "monetary", scale: int = 5) -> pd.DataFrame:
    """R, F and M scores per user (same index as ``features``); 0 for users without a purchase.

    The buyers' own quantile cut points scored back onto them: ``RFMScorer.fit(...).transform``.
    """
    scorer = RFMScorer.fit(features, recency=recency, frequency=frequency, monetary=monetary, scale=scale)
    return scorer.transform(features)


def rfm_segments(scores: pd.DataFrame, rules: Sequence[RFMRule] | None = None, *,
                 scale: int = 5) -> pd.DataFrame:
    """Name each scored user by the first matching rule.

    Returns the scores plus ``rfm_cell`` (e.g. "545"; "000" without a purchase), ``segment`` (the
    rule's key), ``name`` and ``name_zh``.
    """
    rules = tuple(rules) if rules is not None else default_rfm_rules(scale)
    r, f, m = (scores[c].to_numpy() for c in ("r_score", "f_score", "m_score"))
    n = len(scores)
    choice = np.full(n, -1, dtype=np.int64)
    for i, rule in enumerate(rules):
        choice[(choice == -1) & rule.matches(r, f, m)] = i
    keys = np.array([rule.key for rule in rules] + [OTHER[0], NO_PURCHASE[0]], dtype=object)
    names = np.array([rule.name for rule in rules] + [OTHER[1], NO_PURCHASE[1]], dtype=object)
    names_zh = np.array([rule.name_zh for rule in rules] + [OTHER[2], NO_PURCHASE[2]], dtype=object)
    choice[choice == -1] = len(rules)
    choice[r == 0] = len(rules) + 1
    out = scores.copy()
    out["rfm_cell"] = pd.Series(r * 100 + f * 10 + m, index=scores.index).astype(str).str.zfill(3)
    out["segment"] = keys[choice]
    out["name"] = names[choice]
    out["name_zh"] = names_zh[choice]
    return out


def flat_axes(features: pd.DataFrame, *, recency: str = "recency_days", frequency: str = "frequency",
              monetary: str = "monetary") -> list[str]:
    """The axes ("r", "f", "m") on which every buyer has the same value: they carry no information
    (a source without prices has net spend 0 for everyone), so every buyer scores 1 on them."""
    rec, freq, mon, buyer = _columns(features, recency, frequency, monetary, 5)
    return [axis for axis, values in (("r", rec), ("f", freq), ("m", mon))
            if buyer.any() and np.unique(values[buyer]).size == 1]


def ignore_axes(rules: Sequence[RFMRule], axes: Sequence[str]) -> tuple[RFMRule, ...]:
    """The rules with their ranges on ``axes`` dropped (so Champions can exist without prices)."""
    return tuple(replace(r, **{a: None for a in axes}) for r in rules)


def rfm_catalog(rules: Sequence[RFMRule]) -> list[tuple[str, str, str]]:
    """(key, name, name_zh) of every segment a scheme can produce, in display order."""
    return [(r.key, r.name, r.name_zh) for r in rules] + [OTHER, NO_PURCHASE]
