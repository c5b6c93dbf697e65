"""User-defined features: SQL aggregate expressions declared in ``segmark.toml``.

    [features.custom.big_basket_share]
    sql = "avg(CASE WHEN amount > 100 THEN 1 ELSE 0 END) FILTER (WHERE event_type = 'purchase')"
    description = "Share of purchase lines above 100"
    unit = "ratio"

The expression is evaluated per user over the relation ``ev`` (the user's events before as_of; see
docs/features.md for its columns) and becomes a ``number`` column next to the built-in ones. Here
it is checked for shape (one expression, no statement, no subquery); the pipeline then binds it
against the store so that an unknown column or a non-aggregate is reported before the build.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import sqlglot
from sqlglot import exp

from segmark.config import CustomFeature
from segmark.errors import ConfigError
from segmark.features.catalog import FeatureColumn

_FORBIDDEN = (exp.Query, exp.Subquery, exp.Window, exp.Command, exp.DDL, exp.DML)


def custom_columns(custom: Mapping[str, CustomFeature], taken: Iterable[str]) -> list[FeatureColumn]:
    """The catalog entries of the user-defined features; ``ConfigError`` names a bad one."""
    taken_lower = {name.lower() for name in taken}
    columns = []
    for name, spec in custom.items():
        where = f"features.custom.{name}"
        if name.lower() in taken_lower:
            raise ConfigError(f"{where}: the name is already a feature; choose another")
        taken_lower.add(name.lower())
        parse_expression(spec.sql, where)
        columns.append(FeatureColumn(
            name=name, family="custom", kind="number", unit=spec.unit, label_zh=spec.label_zh,
            description=spec.description or f"User-defined: {spec.sql}",
        ))
    return columns


def parse_expression(sql: str, where: str) -> exp.Expression:
    """One SQL expression (DuckDB dialect), or ``ConfigError`` saying what is wrong with it."""
    try:
        parsed = sqlglot.parse(sql, read="duckdb")
    except sqlglot.errors.SqlglotError as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(f"{where}: not a valid SQL expression ({first})") from None
    if len(parsed) != 1 or parsed[0] is None:
        raise ConfigError(f"{where}: give exactly one SQL expression, without ';'")
    tree = parsed[0]
    bad = [node for node in tree.walk() if isinstance(node, _FORBIDDEN)]
    if bad:
        raise ConfigError(
            f"{where}: must be one aggregate expression over the user's events, such as "
            f"sum(amount) FILTER (WHERE event_type = 'purchase'); found {bad[0].key.upper()}"
        )
    return tree


def custom_section_sql(name: str, sql: str) -> str:
    """The section that computes one user-defined feature, per user over ``ev``.

    Built from the parsed expression, not by pasting text, so the expression cannot reach
    outside its own column.
    """
    tree = parse_expression(sql, f"features.custom.{name}")
    column = exp.alias_(exp.paren(tree, copy=False), exp.to_identifier(name, quoted=True))
    return exp.select("user_id", column).from_("ev").group_by("user_id").sql("duckdb")
