"""The distribution of each feature in one build, for ``segmark features describe``.

Pure: builds the SQL of one pass over a feature table and reshapes its one wide row into one row
per feature.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from segmark.features.catalog import FeatureColumn
from segmark.sql import ident

NUMERIC_STATS: tuple[str, ...] = ("mean", "std", "min", "p25", "median", "p75", "max")


def summary_sql(table: str, columns: Sequence[FeatureColumn]) -> str:
    """One row: per column its non-empty count, distinct count and, when numeric, moments and quartiles."""
    parts = ["count(*) AS n_rows"]
    for i, c in enumerate(columns):
        col = ident(c.name)
        parts += [f"count({col}) AS c{i}_count", f"approx_count_distinct({col}) AS c{i}_distinct"]
        if c.numeric:
            parts += [
                f"avg({col}) AS c{i}_mean", f"stddev_samp({col}) AS c{i}_std", f"min({col}) AS c{i}_min",
                f"quantile_cont({col}, 0.25) AS c{i}_p25", f"quantile_cont({col}, 0.5) AS c{i}_median",
                f"quantile_cont({col}, 0.75) AS c{i}_p75", f"max({col}) AS c{i}_max",
            ]
    return f"SELECT {', '.join(parts)} FROM {table}"


def top_value_sql(table: str, column: FeatureColumn) -> str:
    """The most common non-empty value of a text column and its count (ties: the smallest value)."""
    col = ident(column.name)
    return (f"SELECT {col}, count(*) AS n FROM {table} WHERE {col} IS NOT NULL "
            f"GROUP BY {col} ORDER BY n DESC, {col} LIMIT 1")


def summary_frame(columns: Sequence[FeatureColumn], row: dict[str, Any],
                  top_values: dict[str, tuple[Any, int]]) -> pd.DataFrame:
    """One row per feature: its catalog entry and its distribution in the build."""
    n_rows = int(row["n_rows"])
    records = []
    for i, c in enumerate(columns):
        count = int(row[f"c{i}_count"])
        rec: dict[str, Any] = {
            "name": c.name, "family": c.family, "kind": c.kind, "unit": c.unit,
            "label_zh": c.label_zh, "description": c.description,
            "count": count, "missing_share": (1 - count / n_rows) if n_rows else None,
            "distinct": int(row[f"c{i}_distinct"]),
        }
        for stat in NUMERIC_STATS:
            value = row.get(f"c{i}_{stat}") if c.numeric else None
            rec[stat] = float(value) if value is not None else None
        top = top_values.get(c.name)
        rec["top"] = top[0] if top else None
        rec["top_share"] = (top[1] / count) if top and count else None
        records.append(rec)
    return pd.DataFrame.from_records(records)
