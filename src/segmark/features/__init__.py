"""The feature catalog: one SQL definition file per family, composed into one query.

Families (``rfm``, ``activity``, ``funnel``, ``preference``, ``time``, ``attributes``) are SQL files
in this package whose headers document each column (meaning, unit, Chinese label) and whose bodies
compute them from the shared relations of ``base.sql``. ``compose`` turns them, the settings and
the user-defined features of ``segmark.toml`` into one query in DuckDB's dialect, which SQLGlot
transpiles for other engines (Spark). The store runs it; ``segmark.pipeline.features`` keeps the
result per run.
"""

from segmark.features.catalog import FAMILY_FILES, KINDS, Family, FeatureColumn, families, relation_docs
from segmark.features.compose import (
    BuildParams,
    FeatureQuery,
    category_columns,
    compose,
    expected_columns,
    top_categories_sql,
)
from segmark.features.custom import custom_columns, parse_expression

__all__ = [
    "FAMILY_FILES",
    "KINDS",
    "BuildParams",
    "Family",
    "FeatureColumn",
    "FeatureQuery",
    "category_columns",
    "compose",
    "custom_columns",
    "expected_columns",
    "families",
    "parse_expression",
    "relation_docs",
    "top_categories_sql",
]
