"""What a segment's name claims, checked on the segment's own numbers against the shop's.

A name is a claim: "Premium buyers" says the segment's baskets are bigger than the shop's and that
it brings more than its share of revenue; "Newcomers" that its users joined recently. Effects (see
:mod:`segmark.core.segment.profile`) rank the candidate names, but an effect is a difference of
log means in standard deviations, and a cluster of one-time buyers who last bought 491 days ago can
score high on "large baskets" while holding 4.9 % of users and 4.3 % of revenue. So each archetype
also lists :class:`Requirement` s (:data:`REQUIREMENTS`) that must hold on plain figures a marketer
can check, and every marking feature (weight 1) must be **pure** enough: at least
:data:`MIN_PURITY` of the segment's users with a value lie on the named side of the shop's median.

The figures are in :class:`SegmentFacts` (:func:`segment_facts`): per segment and numeric feature
the median, mean, number of users with a value and the shares above and below the shop's median;
per segment the user share and revenue share. Revenue is *unknown* (NaN), never 0, when the data
carry no prices (:func:`revenue_known`): a shop whose purchase events have no amounts has no
premium buyers and no high spenders, only unknown spend.

A descriptive term ("few orders", "long absent") is a claim too (:func:`term_holds`): the
segment's mean lies on the named side of the shop's mean and its median not on the other side,
over enough users (:data:`MIN_SUPPORT`, :data:`MIN_SUPPORT_SHARE`).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_PURITY = 0.8
"""Share of a segment's users (with a value) that must lie on the named side of the shop's median of
every marking feature. Half a type and half typical users (half of whom fall on either side by
chance) make 75 %: a segment half of whose users buy cheap is not "Bargain hunters"."""
MIN_SUPPORT = 10
"""Fewest users with a value of a feature for the feature to say anything about a segment (every
user, in a segment smaller than this)."""
MIN_SUPPORT_SHARE = 0.2
"""Smallest share of a segment's users with a value of a feature for the feature to describe the
segment (a median over 1 of 38 users describes one user)."""

MONEY_FEATURES = ("monetary", "aov", "spend_*d", "price_level", "low_price_share", "refund_rate", "clv*",
                  "expected_spend")
"""Features measured in money (or relative to prices): unknown when the data carry no prices."""


@dataclass(frozen=True)
class Requirement:
    """One condition on a segment's own figures.

    ``kind`` is ``"above"`` (the segment's median of ``feature`` exceeds ``factor`` times the shop's),
    ``"below"`` (is under ``factor`` times the shop's), ``"at_most"`` (does not exceed the shop's)
    or ``"revenue"`` (its revenue share exceeds its user share). ``feature`` may be a pattern
    (``carts_*d``: the widest window present). A requirement on a feature the table lacks is
    skipped, unless ``required``; a revenue requirement with unknown revenue fails when
    ``required`` and is skipped otherwise.
    """

    kind: str
    feature: str = ""
    factor: float = 1.0
    required: bool = False
    minimum: float | None = None
    """For "above": the segment's median must also reach this (days absent that count as lapsed
    whatever the shop's rhythm)."""

    def describe(self) -> str:
        if self.kind == "revenue":
            return "revenue share > user share"
        if self.kind == "at_most":
            return f"median {self.feature} <= shop median"
        op = ">" if self.kind == "above" else "<"
        scale = "" if self.factor == 1.0 else f"{self.factor:g} x "
        floor = "" if self.minimum is None else f" and >= {self.minimum:g}"
        return f"median {self.feature} {op} {scale}shop median{floor}"


LAPSED_DAYS = 14.0
"""Fewest days since the last visit (segment median) for "Lapsed" / "long absent": over a nine-day
history, users last seen 0.9 days ago against the shop's 0.5 are not lapsed."""

REQUIREMENTS: dict[str, tuple[Requirement, ...]] = {
    "high_value_loyal": (Requirement("above", "frequency", required=True), Requirement("revenue", required=True),
                         Requirement("above", "monetary"), Requirement("at_most", "recency_days")),
    "premium_buyers": (Requirement("revenue", required=True), Requirement("above", "aov", required=True),
                       Requirement("above", "price_level")),
    "newcomers": (Requirement("below", "tenure_days", 0.5, required=True),),
    "lapsed": (Requirement("above", "recency_visit_days", 1.5, required=True, minimum=LAPSED_DAYS),),
    "cart_abandoners": (Requirement("above", "carts_*d", required=True), Requirement("above", "cart_abandonment_rate")),
    "window_shoppers": (Requirement("above", "views_*d", required=True), Requirement("at_most", "frequency")),
    "bargain_hunters": (Requirement("below", "price_level"), Requirement("above", "low_price_share")),
}
"""Archetype key -> what its segment's own figures must show. "Well below" and "well above" are
half and one and a half times the shop's median: a segment of non-buyers with a median tenure of
165 days in a shop whose median is 176 are not newcomers. "High-value" and "Premium" need known
revenue."""

TERM_REQUIREMENTS: dict[tuple[str, int], Requirement] = {
    ("tenure_days", -1): REQUIREMENTS["newcomers"][0],
    ("recency_visit_days", 1): REQUIREMENTS["lapsed"][0],
    ("recency_days", 1): Requirement("above", "recency_days", 1.5, required=True, minimum=LAPSED_DAYS),
}
"""Descriptive terms that say what an archetype says ("recently joined", "long absent") and must meet
its requirement."""
MIN_TERM_CHANGE = 0.15
"""Smallest difference between a segment's mean and the shop's, relative to the shop's, for any
other descriptive term: 4 % more days as a customer is not "long-standing". The same bar applies to
the figures "what sets it apart" lists (median 529 days as a customer against the shop's 503 is
no difference a reader can use)."""

MIN_LISTED_EFFECT = 0.2
"""Smallest effect (in the shop's standard deviations, Cohen's "small") a feature needs to be listed
among what sets a segment apart: below it the segment and the shop overlap almost entirely."""

IMPLIED: dict[str, tuple[str, ...]] = {
    "no_purchase": ("frequency", "monetary", "aov", "recency_days", "orders_*", "purchases_*", "spend_*",
                    "cart_to_purchase_rate", "cart_abandonment_rate", "refund_rate", "ipi_*", "top_spend_category*"),
}
"""Features (patterns) a fixed segment's own definition settles, by its key: users with no purchase
have no orders, spend or bought share of their carts, so "monetary 0 against the shop's 309" is its
definition restated, not something that sets it apart."""


def implied_by(key: str | None, feature: str) -> bool:
    """Whether segment ``key``'s definition settles ``feature`` (see :data:`IMPLIED`)."""
    return any(fnmatch.fnmatchcase(feature, p) for p in IMPLIED.get(key or "", ()))


STEADY: dict[str, float] = {"trend_*": 1.0}
"""Features whose value means something by itself: a trend of 1 is steady activity, so a segment is
"falling" only with a median below 1 and "rising" only above it, whatever the shop's (over a nine-day
history every user's 30-day trend is above 1, and the segment with the lowest was "falling")."""

NOMINAL = ("preferred_weekday",)
"""Numbers that are codes for categories (1 = Monday ... 7 = Sunday): their means and medians compare
nothing, so they get no effect (``weekend_share`` measures the weekday habit)."""


def window(name: str) -> int:
    """'views_90d' -> 90; 0 for a name without a window."""
    head, _, tail = name.rpartition("_")
    return int(tail[:-1]) if head and tail.endswith("d") and tail[:-1].isdigit() else 0


def resolve(pattern: str, columns: Sequence[str]) -> str | None:
    """The column a pattern names: itself, or the widest-window match of ``carts_*d``."""
    if "*" not in pattern:
        return pattern if pattern in columns else None
    found = [c for c in columns if fnmatch.fnmatchcase(c, pattern)]
    return max(found, key=window) if found else None


def is_nominal(feature: str) -> bool:
    """Whether a numeric feature is a code for a category (:data:`NOMINAL`)."""
    return feature in NOMINAL


def is_money(feature: str) -> bool:
    return any(fnmatch.fnmatchcase(feature, p) for p in MONEY_FEATURES)


def revenue_known(features: pd.DataFrame, *, frequency: str = "frequency", amount: str = "aov",
                  revenue: str = "monetary") -> bool:
    """Whether the data carry prices: some buyer has a known order value (or, without an order-value
    column, some user a non-zero net spend). Without prices every spend is 0 and means nothing. With
    no buyer at all, nobody has spent anything: known, as the feature build says (``shop_amounts``). A
    table with neither column (attributes only) says nothing against prices: True."""
    if amount in features.columns:
        values = pd.to_numeric(features[amount], errors="coerce")
        if frequency in features.columns:
            buyers = pd.to_numeric(features[frequency], errors="coerce").fillna(0) > 0
            if not buyers.any():
                return True
            values = values[buyers]
        return bool(values.notna().any())
    if revenue in features.columns:
        return bool(pd.to_numeric(features[revenue], errors="coerce").fillna(0).ne(0).any())
    return True


def revenue_by_segment(features: pd.DataFrame, seg: pd.Series, index: pd.Index,
                       revenue: str = "monetary") -> tuple[pd.Series, pd.Series]:
    """Net revenue of each segment in ``index`` (negative balances count as 0: a refund cannot
    make a segment hold less than nothing) and its share of the shop's; every share is 0 when
    nobody spent anything. For shops whose revenue is known (:func:`revenue_known`)."""
    money = pd.to_numeric(features[revenue], errors="coerce").fillna(0.0).clip(lower=0.0)
    rev = money.groupby(seg).sum().reindex(index, fill_value=0.0).astype(float)
    total = float(money.sum())
    return rev, rev / total if total > 0 else rev * 0.0


@dataclass
class SegmentFacts:
    """The plain figures names are checked on (index: segment; columns: numeric features)."""

    size: pd.Series
    share: pd.Series
    revenue_share: pd.Series
    """NaN everywhere when revenue is unknown; 0 everywhere when it is known and nobody spent anything."""
    median: pd.DataFrame
    mean: pd.DataFrame
    known: pd.DataFrame
    """Users with a value."""
    above: pd.DataFrame
    """Share of the users with a value that lie above the shop's median."""
    below: pd.DataFrame
    overall_median: pd.Series
    overall_mean: pd.Series
    revenue_known: bool
    overall_min: pd.Series | None = None
    overall_max: pd.Series | None = None

    def constant(self, feature: str) -> bool:
        """Every user with a value has the same one (or nobody has one)."""
        lo = None if self.overall_min is None else self.overall_min[feature]
        hi = None if self.overall_max is None else self.overall_max[feature]
        return lo is None or hi is None or bool(pd.isna(lo) or pd.isna(hi) or lo == hi)

    def supported(self, segment: object, feature: str) -> bool:
        """Enough of the segment's users have a value of ``feature`` for it to describe them."""
        return bool(supported(float(self.known.at[segment, feature]), float(self.size[segment])))


def supported(known: float | np.ndarray, size: float | np.ndarray) -> bool | np.ndarray:
    """Whether ``known`` users with a value, of ``size``, are enough to describe a segment."""
    return (known >= np.minimum(MIN_SUPPORT, size)) & (known >= MIN_SUPPORT_SHARE * size) & (known > 0)


def segment_facts(features: pd.DataFrame, labels: pd.Series | np.ndarray, *, revenue: str = "monetary",
                  columns: Sequence[str] | None = None) -> SegmentFacts:
    """Every segment's plain figures (exact, over all users). Money features are NaN when the data
    carry no prices."""
    seg = labels.reindex(features.index) if isinstance(labels, pd.Series) else pd.Series(
        np.asarray(labels), index=features.index)
    if columns is None:
        columns = [c for c in features.columns if pd.api.types.is_numeric_dtype(features[c])
                   and not pd.api.types.is_bool_dtype(features[c])]
    num = features[list(columns)].astype(np.float64)
    known_prices = revenue_known(features)
    if not known_prices:
        num = num.assign(**{c: np.nan for c in num.columns if is_money(c)})
    grouped = num.groupby(seg, sort=True)
    overall_median = num.median()
    lo, hi = num.min(), num.max()
    # Where the shop's median is the largest (smallest) value, nobody can be above (below) it: a
    # shop most of whose carters abandon every cart has a median abandonment of 1. There the named
    # side includes the median.
    # A user at the shop's median counts half on either side (a buyer with the median two orders is
    # neither above nor below), fully where the median is the largest (smallest) value. Series
    # against frame: compared column by column.
    at_median = num.eq(overall_median).astype(float)
    above = num.gt(overall_median).astype(float) + at_median * np.where(overall_median.eq(hi), 1.0, 0.5)
    below = num.lt(overall_median).astype(float) + at_median * np.where(overall_median.eq(lo), 1.0, 0.5)
    size = seg.value_counts().sort_index()
    if known_prices and revenue in features.columns:
        revenue_share = revenue_by_segment(features, seg, size.index, revenue)[1]
    else:
        revenue_share = pd.Series(np.nan, index=size.index)
    return SegmentFacts(
        size=size, share=size / len(seg), revenue_share=revenue_share.astype(float),
        median=grouped.median(), mean=grouped.mean(), known=grouped.count(),
        above=above.where(num.notna()).groupby(seg, sort=True).mean(),
        below=below.where(num.notna()).groupby(seg, sort=True).mean(),
        overall_median=overall_median, overall_mean=num.mean(), revenue_known=known_prices,
        overall_min=lo, overall_max=hi)


@dataclass(frozen=True)
class Check:
    """One requirement checked on one segment, with the figures it compared."""

    text: str
    holds: bool
    value: float
    reference: float


def check_requirement(req: Requirement, segment: object, facts: SegmentFacts) -> Check | None:
    """The requirement on this segment, or None when it does not apply (a feature the table lacks)."""
    if req.kind == "revenue":
        if not facts.revenue_known:
            return Check(req.describe() + " (revenue unknown)", False, np.nan, np.nan) if req.required else None
        value, ref = float(facts.revenue_share[segment]), float(facts.share[segment])
        return Check(req.describe(), bool(value > ref), value, ref)
    col = resolve(req.feature, list(facts.median.columns))
    if col is None:
        return Check(req.describe() + " (not in the table)", False, np.nan, np.nan) if req.required else None
    value, shop = float(facts.median.at[segment, col]), float(facts.overall_median[col])
    text = req.describe().replace(req.feature, col)
    if facts.constant(col):  # views of a shop that logs no views: 0 for everyone says nothing
        return Check(text + " (the same for every user)", False, value, shop) if req.required else None
    if not facts.supported(segment, col) or np.isnan(value) or np.isnan(shop):
        return Check(text + " (too few users with a value)", False, value, shop) if req.required else None
    top = facts.overall_max is not None and shop == float(facts.overall_max[col])
    bottom = facts.overall_min is not None and shop == float(facts.overall_min[col])
    if req.kind == "above":  # at the shop's largest value, reaching it is as high as one can be
        holds = (value >= shop if top and req.factor == 1.0 else value > req.factor * shop) and (
            req.minimum is None or value >= req.minimum)
    elif req.kind == "below":
        holds = value <= shop if bottom and req.factor == 1.0 else value < req.factor * shop
    else:
        holds = value <= shop
    return Check(text, bool(holds), value, req.factor * shop)


def purity(segment: object, feature: str, direction: int, facts: SegmentFacts) -> float:
    """Share of the segment's users with a value on the named side of the shop's median, those at the
    median counted half (fully where it is the shop's extreme value)."""
    table = facts.above if direction > 0 else facts.below
    return float(table.at[segment, feature])


def archetype_checks(key: str, primary: Sequence[tuple[str, int]], segment: object,
                     facts: SegmentFacts) -> list[Check]:
    """Every check an archetype's name must pass on this segment: its requirements, and the purity of
    each marking feature present (``primary``: (feature or pattern, direction))."""
    checks = [c for r in REQUIREMENTS.get(key, ()) if (c := check_requirement(r, segment, facts)) is not None]
    for pattern, direction in primary:
        col = resolve(pattern, list(facts.median.columns))
        if col is None or facts.constant(col) or not facts.supported(segment, col):
            continue
        share = purity(segment, col, direction, facts)
        side = "above" if direction > 0 else "below"
        checks.append(Check(f"share of users {side} the shop median of {col} >= {MIN_PURITY:.0%}",
                            bool(share >= MIN_PURITY), share, MIN_PURITY))
    return checks


def claims_hold(key: str, primary: Sequence[tuple[str, int]], segment: object, facts: SegmentFacts) -> bool:
    """Whether an archetype's name may be given to this segment: every check passes, and at least
    one of them looked at a marking feature or requirement that applies."""
    checks = archetype_checks(key, primary, segment, facts)
    return bool(checks) and all(c.holds for c in checks)


def term_holds(feature: str, direction: int, segment: object, facts: SegmentFacts) -> bool:
    """Whether "high <feature>" (direction +1) or "low <feature>" (-1) is true of the segment: enough
    users with a value, the mean on that side of the shop's mean by :data:`MIN_TERM_CHANGE` of it and
    the median not on the other (or the archetype's requirement, :data:`TERM_REQUIREMENTS`)."""
    if feature not in facts.median.columns or not facts.supported(segment, feature):
        return False
    req = TERM_REQUIREMENTS.get((feature, direction))
    if req is not None:
        check = check_requirement(req, segment, facts)
        return check is not None and check.holds
    mean, shop_mean = float(facts.mean.at[segment, feature]), float(facts.overall_mean[feature])
    median, shop_median = float(facts.median.at[segment, feature]), float(facts.overall_median[feature])
    if np.isnan(mean) or np.isnan(shop_mean) or np.isnan(median) or np.isnan(shop_median):
        return False
    change = direction * (mean - shop_mean)
    steady = next((v for pattern, v in STEADY.items() if fnmatch.fnmatchcase(feature, pattern)), None)
    if steady is not None and direction * (median - steady) <= 0:
        return False
    return bool(change > 0 and change >= MIN_TERM_CHANGE * abs(shop_mean) and direction * (median - shop_median) >= 0)
