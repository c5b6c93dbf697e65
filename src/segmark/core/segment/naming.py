"""Human-readable segment names in English and Chinese, generated from what sets a segment apart.

Names come from **archetypes** kept as data (:data:`ARCHETYPES`): each lists the features that
mark it and the direction (+1 higher than everyone, -1 lower). A segment's score for an archetype
is the weighted mean of ``direction * effect`` over the marking features present (effects from
:func:`segmark.core.segment.profile.feature_profile`, in standard deviations); an archetype is
only considered when at least one of its main features (weight 1) is in the table. Archetypes are
matched to segments one-to-one, maximising the total score (Hungarian assignment), and a match
counts only when its score is at least :data:`MIN_SCORE`. A further segment that fits an archetype
already taken (two kinds of newcomers) gets the archetype's name qualified by its strongest other
difference ("Newcomers (quick repurchase)" / "新用户（复购快）"). A segment with no archetype gets a
descriptive name from its two strongest effects ("High views & low orders" / "浏览多、订单少用户");
with none strong enough it is "Typical users" / "普通用户". Names are unique within a
segmentation (a repeated name gets " 2", " 3"...). Users override any name in settings
(:func:`apply_name_overrides`).

Given the segments' plain figures (``facts``, :func:`segmark.core.segment.claims.segment_facts`), a
name is only given when what it claims holds on them (:mod:`segmark.core.segment.claims`): an
archetype's requirements and the purity of its marking features, and for a descriptive term the
segment's mean and median on the named side of the shop's. A segment whose effects point at an
archetype that its figures do not bear out gets a descriptive name instead.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from segmark.core.segment.claims import SegmentFacts, claims_hold, term_holds
from segmark.core.segment.rfm import slug

MIN_SCORE = 0.5
"""An archetype names a segment only if its marking features differ by half a standard deviation
on average, in the expected directions."""
MIN_EFFECT = 0.3
"""Effects smaller than this are not mentioned in descriptive names."""


@dataclass(frozen=True)
class Archetype:
    key: str
    name: str
    name_zh: str
    signals: tuple[tuple[str, int, float], ...]
    """(feature or pattern with *, direction, weight)."""

    @property
    def primary(self) -> tuple[tuple[str, int], ...]:
        """The marking features (weight 1) and their directions."""
        return tuple((p, d) for p, d, w in self.signals if w >= 1.0)

    def holds(self, segment: object, facts: SegmentFacts | None) -> bool:
        """Whether the segment's own figures bear the name out (always, without figures)."""
        return facts is None or claims_hold(self.key, self.primary, segment, facts)


ARCHETYPES: tuple[Archetype, ...] = (
    Archetype("high_value_loyal", "High-value loyal", "高价值忠诚用户",
              (("frequency", 1, 1.0), ("monetary", 1, 1.0), ("recency_days", -1, 0.5),
               ("orders_*d", 1, 0.5))),
    Archetype("cart_abandoners", "Cart abandoners", "加购未买用户",
              (("cart_abandonment_rate", 1, 1.0), ("carts_*d", 1, 1.0), ("cart_to_purchase_rate", -1, 0.5))),
    Archetype("window_shoppers", "Window shoppers", "只逛不买用户",
              (("views_*d", 1, 1.0), ("view_to_cart_rate", -1, 0.5), ("carts_*d", -1, 0.5),
               ("frequency", -1, 0.5))),
    Archetype("bargain_hunters", "Bargain hunters", "价格敏感用户",
              (("price_level", -1, 1.0), ("low_price_share", 1, 1.0))),
    Archetype("lapsed", "Lapsed", "流失用户",
              (("recency_visit_days", 1, 1.0), ("active_days_*d", -1, 0.5), ("sessions_*d", -1, 0.5))),
    Archetype("newcomers", "Newcomers", "新用户", (("tenure_days", -1, 1.0),)),
    Archetype("premium_buyers", "Premium buyers", "高端消费用户",
              (("price_level", 1, 1.0), ("aov", 1, 1.0))),
)

FEATURE_TERMS: dict[str, tuple[str, str, str, str]] = {
    # feature: (english high, english low, chinese high, chinese low)
    "frequency": ("many orders", "few orders", "订单多", "订单少"),
    "monetary": ("high spend", "low spend", "消费高", "消费低"),
    "aov": ("large baskets", "small baskets", "客单价高", "客单价低"),
    "recency_days": ("long since last purchase", "recent purchase", "久未购买", "近期购买"),
    "recency_visit_days": ("long absent", "recently active", "久未访问", "近期活跃"),
    "tenure_days": ("long-standing", "recently joined", "老用户", "新近注册"),
    "ipi_mean_days": ("slow repurchase", "quick repurchase", "复购慢", "复购快"),
    "ipi_std_days": ("irregular repurchase", "regular repurchase", "复购不规律", "复购规律"),
    "top_category_share": ("one favourite category", "spread over categories", "专注单一品类", "品类分散"),
    "preferred_hour": ("late-hour shoppers", "early-hour shoppers", "偏晚购物", "偏早购物"),
    "views": ("many views", "few views", "浏览多", "浏览少"),
    "searches": ("many searches", "few searches", "搜索多", "搜索少"),
    "carts": ("many carts", "few carts", "加购多", "加购少"),
    "carted_items": ("many items carted", "few items carted", "加购商品多", "加购商品少"),
    "favs": ("many favourites", "few favourites", "收藏多", "收藏少"),
    "purchases": ("many purchases", "few purchases", "购买多", "购买少"),
    "orders": ("many orders", "few orders", "订单多", "订单少"),
    "spend": ("high spend", "low spend", "消费高", "消费低"),
    "active_days": ("many active days", "few active days", "活跃天数多", "活跃天数少"),
    "sessions": ("many visits", "few visits", "访问多", "访问少"),
    "active_week_share": ("back most weeks", "seldom back", "每周常来", "偶尔光顾"),
    "views_per_session": ("deep browsing", "short visits", "每次浏览多", "每次浏览少"),
    "view_to_cart_rate": ("high view-to-cart", "low view-to-cart", "加购转化高", "加购转化低"),
    "cart_to_purchase_rate": ("high cart-to-purchase", "low cart-to-purchase", "购买转化高", "购买转化低"),
    "cart_abandonment_rate": ("high cart abandonment", "low cart abandonment", "弃购率高", "弃购率低"),
    "refund_rate": ("many refunds", "few refunds", "退款多", "退款少"),
    "price_level": ("premium prices", "low prices", "偏好高价", "偏好低价"),
    "low_price_share": ("low-price items", "few low-price items", "低价商品多", "低价商品少"),
    "category_entropy": ("broad tastes", "narrow tastes", "品类广", "品类集中"),
    "weekend_share": ("weekend shoppers", "weekday shoppers", "周末购物", "工作日购物"),
    "trend_30d": ("rising activity", "falling activity", "活跃上升", "活跃下降"),
    "age": ("older", "younger", "年龄偏大", "年龄偏小"),
}
TYPICAL = ("typical", "Typical users", "普通用户")

CONCEPTS = {"carted_items": "carts", "orders": "frequency", "purchases": "frequency", "spend": "monetary",
            "active_days": "sessions", "recency_days": "recency_visit_days",
            "cart_abandonment_rate": "cart_to_purchase_rate"}
"""Features that say the same thing (orders in a window, purchase lines, all orders; the bought and
the abandoned share of carted items): a descriptive name mentions each concept once."""


def _base(feature: str) -> str:
    """'views_30d' and 'views_total' -> 'views'; other names unchanged."""
    head, _, tail = feature.rpartition("_")
    return head if head and (tail == "total" or (tail.endswith("d") and tail[:-1].isdigit())) else feature


def concept(feature: str) -> str:
    """What a feature measures, whatever its window: 'orders_30d' and 'frequency' -> 'frequency'."""
    return CONCEPTS.get(_base(feature), _base(feature))


def _term(feature: str, direction: int) -> tuple[str, str]:
    terms = FEATURE_TERMS.get(feature) or FEATURE_TERMS.get(_base(feature))
    if terms is None:
        return (f"high {feature}", f"{feature}高") if direction > 0 else (f"low {feature}", f"{feature}低")
    return (terms[0], terms[2]) if direction > 0 else (terms[1], terms[3])


def _has_terms(feature: str) -> bool:
    return feature in FEATURE_TERMS or _base(feature) in FEATURE_TERMS


def archetype_scores(effects: pd.DataFrame, archetypes: Sequence[Archetype] = ARCHETYPES) -> pd.DataFrame:
    """Segments x archetypes score table (NaN where too few marking features are present)."""
    scores = pd.DataFrame(index=effects.index, columns=[a.key for a in archetypes], dtype=float)
    for arch in archetypes:
        total = np.zeros(len(effects))
        weight = np.zeros(len(effects))
        primary = False
        for pattern, direction, w in arch.signals:
            cols = [c for c in effects.columns if fnmatch.fnmatchcase(c, pattern)]
            if not cols:
                continue
            primary |= w >= 1.0
            e = effects[cols].mean(axis=1, skipna=True).to_numpy(dtype=float)
            ok = ~np.isnan(e)
            total[ok] += direction * w * e[ok]
            weight[ok] += w
        if not primary:
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            scores[arch.key] = np.where(weight > 0, total / weight, np.nan)
    return scores


def describe(effects_row: pd.Series, top: int = 2, facts: SegmentFacts | None = None) -> tuple[str, str] | None:
    """A descriptive name from the strongest effects, or None when nothing stands out. With
    ``facts``, a term is only used when it is true of the segment (:func:`term_holds`)."""
    row = effects_row.dropna()
    row = row[row.abs() >= MIN_EFFECT]
    if facts is not None:
        seg = effects_row.name
        row = row[[term_holds(f, int(np.sign(v)), seg, facts) for f, v in row.items()]]
    if row.empty:
        return None
    seen: set[str] = set()
    en, zh = [], []
    # Features with words first: a column name (a category's share, a base count) is spelt only
    # where nothing with words stands out, as with a user's own --features.
    ranked = row.abs().sort_values(ascending=False).index
    worded = [f for f in ranked if _has_terms(f)]
    for feature in worded or list(ranked):
        t_en, t_zh = _term(feature, int(np.sign(row[feature])))
        what = concept(feature)
        if what in seen:
            continue
        seen.add(what)
        en.append(t_en)
        zh.append(t_zh)
        if len(en) == top:
            break
    name = " & ".join(en)
    zh_name = "、".join(zh)
    if not zh_name.endswith("用户"):  # "老用户" is already a kind of user
        zh_name += "用户"
    return name[0].upper() + name[1:], zh_name


def _unique(names: list[str], sep: str) -> list[str]:
    out, counts = [], {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
        out.append(n if counts[n] == 1 else f"{n}{sep}{counts[n]}")
    return out


def name_segments(effects: pd.DataFrame, *, archetypes: Sequence[Archetype] = ARCHETYPES,
                  min_score: float = MIN_SCORE, facts: SegmentFacts | None = None) -> pd.DataFrame:
    """Name every segment (rows of ``effects``, a segments x features effect table).

    With ``facts`` (the segments' own figures, same index) every name is checked against them
    (:mod:`segmark.core.segment.claims`); the pipeline always passes them.

    Returns columns key, name, name_zh, score (the archetype's score, NaN for descriptive names)
    and source ("archetype" or "description"); :func:`apply_name_overrides` applies the
    workspace's own names afterwards.
    """
    scores = archetype_scores(effects, archetypes)
    by_key = {a.key: a for a in archetypes}
    out = pd.DataFrame(index=effects.index, columns=["key", "name", "name_zh", "score", "source"],
                       dtype=object)
    if facts is not None:  # an archetype its figures do not bear out is no candidate
        ok = pd.DataFrame({a.key: [a.holds(seg, facts) for seg in scores.index] for a in archetypes
                           if a.key in scores.columns}, index=scores.index)
        scores = scores.where(ok.reindex(columns=scores.columns, fill_value=False))
    matrix = scores.fillna(-np.inf).to_numpy(dtype=float)
    if matrix.size:
        gain = np.where(matrix >= min_score, matrix, 0.0)
        rows, cols = linear_sum_assignment(-gain)
        for r, c in zip(rows, cols, strict=True):
            if gain[r, c] > 0:
                arch = by_key[scores.columns[c]]
                out.iloc[r] = [arch.key, arch.name, arch.name_zh, float(matrix[r, c]), "archetype"]
    for seg in out.index[out["key"].isna()]:
        best = scores.loc[seg].idxmax() if scores.loc[seg].notna().any() else None
        if best is not None and scores.loc[seg, best] >= min_score:
            # A second segment of an archetype already taken: the archetype, qualified by what
            # else sets this segment apart.
            arch = by_key[best]
            own = [p for p, _, _ in arch.signals]
            rest = effects.loc[seg][[c for c in effects.columns
                                     if not any(fnmatch.fnmatchcase(c, p) for p in own)]]
            qual = describe(rest, top=1, facts=facts)
            if qual is not None:
                out.loc[seg] = [f"{arch.key}_{slug(qual[0])}", f"{arch.name} ({qual[0].lower()})",
                                f"{arch.name_zh}（{qual[1].removesuffix('用户')}）", float(scores.loc[seg, best]),
                                "archetype"]
                continue
        desc = describe(effects.loc[seg], facts=facts)
        if desc is None:
            out.loc[seg] = [TYPICAL[0], TYPICAL[1], TYPICAL[2], np.nan, "description"]
        else:
            out.loc[seg] = [slug(desc[0]), desc[0], desc[1], np.nan, "description"]
    out["key"] = _unique(list(out["key"]), "_")
    out["name"] = _unique(list(out["name"]), " ")
    out["name_zh"] = _unique(list(out["name_zh"]), " ")
    return out


def apply_name_overrides(names: pd.DataFrame, overrides: Mapping[str, Mapping[str, str]], *, kind: str,
                         segmentation_id: int | None = None, source: str = "source") -> pd.DataFrame:
    """The names of a segmentation's segments with the workspace's own names applied.

    ``names`` is indexed by segment id with columns key, name, name_zh and ``source``. A segment
    is renamed by ``overrides["<segmentation id>:<segment id>"]`` (that one segmentation), else by
    ``overrides["<kind>:<key>"]`` (the same segment in every run, e.g. ``"rfm:champions"``); an
    override gives ``en``, ``zh`` or both, and the name it leaves out is kept. Returns a copy whose
    renamed segments have ``source`` "override". Names stay unique only if the overrides keep them so.
    """
    out = names.copy()
    for seg in out.index:
        refs = ([] if segmentation_id is None else [f"{segmentation_id}:{seg}"]) + [f"{kind}:{out.loc[seg, 'key']}"]
        ref = next((r for r in refs if r in overrides), None)
        if ref is None:
            continue
        o = overrides[ref]
        out.loc[seg, "name"] = o.get("en", out.loc[seg, "name"])
        out.loc[seg, "name_zh"] = o.get("zh", out.loc[seg, "name_zh"])
        out.loc[seg, source] = "override"
    return out
