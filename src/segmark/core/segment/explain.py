"""Why: a surrogate decision tree that restates a segmentation as readable rules, with its fidelity.

The tree is fitted on the *original* feature values (days, orders, money; categories as
``city = 北京`` indicators), so its rules read in the units a marketer knows, and it predicts the
segment labels. Fidelity is the share of held-out users (30% of the sample) for which the tree
agrees with the segmentation: a high fidelity means the rules are a faithful summary; a low one
says the segments are not axis-aligned and the rules are only a sketch. Missing values are
routed by the tree itself (scikit-learn >= 1.3), and a rule says "or unknown" where it applies
to them.

Thresholds are shown as the data allow: on an integer-valued feature "orders <= 0.5" is written
"frequency <= 0" and "> 0.5" as ">= 1".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier

from segmark.core.segment._random import stream
from segmark.numbers import significant

MAX_LEVELS = 8
"""Most frequent levels of a categorical feature given their own indicator in the tree."""


@dataclass
class Condition:
    """All the constraints a path puts on one tree input."""

    column: str
    low: float | None = None      # value > low
    high: float | None = None     # value <= high
    missing: bool | None = None   # True: unknown values follow this path too


@dataclass
class SegmentRule:
    segment: int | str
    text: str
    text_zh: str
    users: int
    precision: float
    coverage: float


@dataclass
class Surrogate:
    """A fitted surrogate tree and the rules read from it."""

    tree: DecisionTreeClassifier
    columns: list[str]
    numeric: list[str]
    levels: dict[str, list[str]]
    integer_columns: set[str]
    missing_columns: set[str]
    fidelity: float
    rules: list[SegmentRule] = field(default_factory=list)
    labels_zh: dict[str, str] = field(default_factory=dict)

    def rules_for(self, segment: int) -> list[SegmentRule]:
        return [r for r in self.rules if r.segment == segment]

    def inputs(self, features: pd.DataFrame) -> pd.DataFrame:
        return tree_inputs(features, self.numeric, self.levels)

    def explain(self, row: pd.DataFrame) -> dict[str, Any]:
        """The rule this user's path satisfies and the segment the tree gives it."""
        x = self.inputs(row)
        path = self.tree.decision_path(x.to_numpy(dtype=np.float64)).indices
        conds = _path_conditions(self.tree, self.columns, path, x.iloc[0].to_numpy(dtype=float))
        leaf = path[-1]
        value = self.tree.tree_.value[leaf][0]
        text, text_zh = render(conds, self.integer_columns, self.missing_columns, self.labels_zh)
        return {"rule": text, "rule_zh": text_zh,
                "tree_segment": int(self.tree.classes_[int(np.argmax(value))]),
                "leaf_purity": float(value.max() / value.sum())}


def tree_inputs(features: pd.DataFrame, numeric: Sequence[str], levels: dict[str, list[str]]) -> pd.DataFrame:
    """Numeric columns as floats (NaN kept) and one indicator per known level of each category."""
    out = {c: pd.to_numeric(features[c], errors="coerce").astype(float) for c in numeric}
    for col, values in levels.items():
        text = features[col].astype(object)
        for v in values:
            out[f"{col} = {v}"] = (text == v).astype(float)
    return pd.DataFrame(out, index=features.index)


def _levels(features: pd.DataFrame, categorical: Sequence[str]) -> dict[str, list[str]]:
    return {c: [str(v) for v in features[c].dropna().astype(str).value_counts().index[:MAX_LEVELS]]
            for c in categorical}


def _path_conditions(tree: DecisionTreeClassifier, columns: list[str], path: Sequence[int],
                     x: np.ndarray | None = None) -> list[Condition]:
    t = tree.tree_
    conds: dict[str, Condition] = {}
    for parent, child in pairwise(path):
        col = columns[t.feature[parent]]
        thr = float(t.threshold[parent])
        cond = conds.setdefault(col, Condition(col))
        went_left = child == t.children_left[parent]
        if went_left:
            cond.high = thr if cond.high is None else min(cond.high, thr)
        else:
            cond.low = thr if cond.low is None else max(cond.low, thr)
        nan_left = bool(t.missing_go_to_left[parent])
        follows = nan_left == went_left
        cond.missing = follows if cond.missing is None else (cond.missing and follows)
    return list(conds.values())


def _fmt(v: float, integer: bool, side: str) -> str:
    if integer:
        return str(int(np.floor(v)) if side == "high" else int(np.floor(v)) + 1)
    return significant(v, grouping=False)


def render(conds: Sequence[Condition], integer_columns: set[str], missing_columns: set[str],
           labels_zh: Mapping[str, str] | None = None) -> tuple[str, str]:
    """English and Chinese text of a conjunction of conditions (``labels_zh`` names features in
    the Chinese text, e.g. frequency -> 购买次数)."""
    en, zh = [], []
    labels_zh = labels_zh or {}
    categories: dict[str, tuple[list[str], list[str]]] = {}  # column -> (levels it is, levels it is not)
    for c in conds:
        if " = " in c.column:
            name, _, level = c.column.partition(" = ")
            categories.setdefault(name, ([], []))[0 if c.low is not None else 1].append(level)
    for name, (is_, is_not) in categories.items():
        label = labels_zh.get(name, name)
        if is_:  # "= a" implies every "≠ b"
            en.append(f"{name} = {is_[0]}")
            zh.append(f"{label} 为 {is_[0]}")
        elif len(is_not) == 1:
            en.append(f"{name} ≠ {is_not[0]}")
            zh.append(f"{label} 不为 {is_not[0]}")
        else:
            en.append(f"{name} not in {{{', '.join(is_not)}}}")
            zh.append(f"{label} 不属于 {{{'、'.join(is_not)}}}")
    for c in conds:
        if " = " in c.column:
            continue
        label = labels_zh.get(c.column, c.column)
        integer = c.column in integer_columns
        unknown_too = bool(c.missing and c.column in missing_columns)
        if c.low is not None and np.isinf(c.low):
            # The tree's "unknown against every known value" cut has threshold +inf.
            en.append(f"{c.column} unknown")
            zh.append(f"{label} 未知")
            continue
        high = None if c.high is None or np.isinf(c.high) else c.high
        if c.low is None and high is None:
            if not unknown_too:
                en.append(f"{c.column} known")
                zh.append(f"{label} 已知")
            continue
        if c.low is not None and high is not None:
            if integer:
                lo, hi = _fmt(c.low, True, "low"), _fmt(high, True, "high")
                e = f"{c.column} = {lo}" if lo == hi else f"{lo} <= {c.column} <= {hi}"
            else:
                e = f"{_fmt(c.low, False, 'low')} < {c.column} <= {_fmt(high, False, 'high')}"
        elif high is not None:
            e = f"{c.column} <= {_fmt(high, integer, 'high')}"
        else:
            op = ">=" if integer else ">"
            e = f"{c.column} {op} {_fmt(c.low, integer, 'low')}"
        z = e.replace(c.column, label)
        if unknown_too:
            e, z = f"({e} or unknown)", f"（{z} 或未知）"
        en.append(e)
        zh.append(z)
    return (" and ".join(en) or "all users"), ("且".join(zh) or "所有用户")


def fit_surrogate(features: pd.DataFrame, labels: np.ndarray | pd.Series, *, numeric: Sequence[str],
                  categorical: Sequence[str] = (), max_depth: int = 5, min_leaf_share: float = 0.01,
                  sample_size: int = 50_000, holdout: float = 0.3, max_rules: int = 3,
                  random_state: int = 0, labels_zh: Mapping[str, str] | None = None) -> Surrogate:
    """Fit the surrogate tree on a sample of users and read off each segment's rules.

    A segment's rules are its leaves (leaves whose majority is the segment), largest coverage
    first, until they cover 80% of the segment's users in the sample or ``max_rules`` are listed.
    """
    y_all = np.asarray(labels)
    rng = stream(random_state, "surrogate")
    n = len(features)
    rows = np.arange(n) if n <= sample_size else np.sort(rng.choice(n, size=sample_size, replace=False))
    frame = features.iloc[rows]
    y = y_all[rows]
    levels = _levels(frame, categorical)
    X = tree_inputs(frame, numeric, levels)
    columns = list(X.columns)
    integer_columns = {c for c in numeric
                       if np.all(np.mod(X[c].dropna().to_numpy(), 1.0) == 0.0)}
    missing_columns = {c for c in numeric if X[c].isna().any()}
    test = rng.random(len(rows)) < holdout
    if test.all() or not test.any():
        test = np.zeros(len(rows), dtype=bool)
    A = X.to_numpy(dtype=np.float64)
    min_leaf = max(5, int(min_leaf_share * len(rows)))
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=min_leaf,
                                  random_state=random_state).fit(A[~test], y[~test])
    check = test if test.any() else ~test
    fidelity = float(np.mean(tree.predict(A[check]) == y[check]))

    # Rules: every leaf, with its users counted on the whole sample.
    leaves = tree.apply(A)
    t = tree.tree_
    rules: list[SegmentRule] = []
    seg_sizes = pd.Series(y).value_counts()
    leaf_ids = np.flatnonzero(t.children_left == -1)
    parent = {int(c): i for i in range(t.node_count)
              for c in (t.children_left[i], t.children_right[i]) if c >= 0}
    candidates = []
    for leaf in leaf_ids:
        members = leaves == leaf
        if not members.any():
            continue
        majority = pd.Series(y[members]).value_counts()
        seg = majority.index[0]
        node, path = int(leaf), [int(leaf)]
        while node in parent:
            node = parent[node]
            path.append(node)
        path.reverse()
        conds = _path_conditions(tree, columns, path)
        text, text_zh = render(conds, integer_columns, missing_columns, labels_zh)
        candidates.append(SegmentRule(_label(seg), text, text_zh, int(members.sum()),
                                      float(majority.iloc[0] / members.sum()),
                                      float(majority.iloc[0] / seg_sizes[seg])))
    for seg in sorted(seg_sizes.index):
        own = sorted((r for r in candidates if r.segment == _label(seg)), key=lambda r: -r.coverage)
        covered = 0.0
        for r in own[:max_rules]:
            rules.append(r)
            covered += r.coverage
            if covered >= 0.8:
                break
    return Surrogate(tree, columns, list(numeric), levels, integer_columns, missing_columns, fidelity, rules,
                     dict(labels_zh or {}))


def nearest_centres(distances: np.ndarray, top: int = 3) -> list[tuple[int, float]]:
    """(segment, distance) of the ``top`` nearest centres for one user, nearest first."""
    order = np.argsort(distances)[:top]
    return [(int(i), float(distances[i])) for i in order]


def _label(seg: object) -> object:
    """Integer labels as plain ints (NumPy ints do not serialise); any other label as it is."""
    return int(seg) if isinstance(seg, int | np.integer) else seg
