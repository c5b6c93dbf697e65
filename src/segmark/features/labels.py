"""What people call a feature column, in either language, from the catalogue's labels.

A build stores each column's name, template and Chinese label (``feature_columns``); the English
label is the catalogue's, filled in the same way: the window from the name (``views_90d`` ->
"views, last 90 days"), the category from the stored Chinese label, which holds its value as the
items table names it ("share of interest in 女装", not ``cat_share__nv_zhuang``). Columns the
catalogue does not know (custom SQL features) keep their names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from segmark.features.catalog import FeatureColumn, families


def _catalogue() -> dict[str, FeatureColumn]:
    return {c.name: c for f in families() for c in f.columns}


def _values(template: str, text: str) -> dict[str, str]:
    """The ``{W}`` / ``{category}`` values that turn ``template`` into ``text`` (empty when it does not)."""
    pattern = re.escape(template).replace(r"\{W\}", r"(?P<W>\d+)").replace(r"\{category\}", r"(?P<category>.+)")
    m = re.fullmatch(pattern, text)
    return {k: v for k, v in m.groupdict().items() if v is not None} if m else {}


def feature_label(name: str, lang: str, template: str | None = None, label_zh: str | None = None) -> str:
    """One column's label in ``lang``; its name when the catalogue has none."""
    if lang == "zh":
        return label_zh or name
    entry = _catalogue().get(template or name)
    if entry is None or not entry.label_en:
        return name
    values = _values(entry.name, name)
    if "{category}" in entry.name and label_zh:
        values.update(_values(entry.label_zh, label_zh))
    label = entry.label_en
    for key, value in values.items():
        label = label.replace("{" + key + "}", value)
    return label if "{" not in label else name


def feature_labels(rows: Iterable[tuple[str, str | None, str | None]], lang: str) -> dict[str, str]:
    """``{name: label}`` for ``(name, template, label_zh)`` rows of a build's ``feature_columns``."""
    return {name: feature_label(name, lang, template, label_zh) for name, template, label_zh in rows}


LOWER_IS_BETTER = frozenset({"recency_days", "recency_visit_days", "ipi_mean_days", "cart_abandonment_rate",
                             "refund_rate"})
"""Columns where a segment below the average is doing well (a recent last visit, few refunds): a
marketer reads their lift the other way round, and the report colours it so."""


def relabel(text: str, labels: dict[str, str]) -> str:
    """``text`` (a rule such as "aov unknown and sessions_90d <= 0") with every column name in
    ``labels`` replaced by its label, whole names only."""
    names = sorted((n for n, label in labels.items() if label and label != n), key=len, reverse=True)
    if not names or not text:
        return text
    pattern = re.compile(r"(?<!\w)(" + "|".join(map(re.escape, names)) + r")(?!\w)")
    return pattern.sub(lambda m: labels[m.group(1)], text)
