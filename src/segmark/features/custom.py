"""User-defined features: SQL aggregate expressions declared in ``segmark.toml``.

    [features.custom.big_basket_share]
    sql = "avg(CASE WHEN amount > 100 THEN 1 ELSE 0 END) FILTER (WHERE event_type = 'purchase')"
    description = "Share of purchase lines above 100"
    unit = "ratio"

The expression is evaluated per user over the relation ``ev`` (the user's events before as_of; see
docs/features.md for its columns) and becomes a ``number`` column next to the built-in ones. Here
it is checked for shape (one expression, no statement, no subquery) and for determinism: nothing
may read the wall clock (``now()``, ``current_date``, ``today()``, ...) or draw random values
(``random()``, ``uuid()``, ...), because a build must depend on as_of only. The pipeline then binds
it against the store so that an unknown column or a non-aggregate is reported before the build.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import sqlglot
from sqlglot import exp

from segmark.config import CustomFeature
from segmark.errors import ConfigError
from segmark.features.catalog import FeatureColumn

_FORBIDDEN = (exp.Query, exp.Subquery, exp.Window, exp.Command, exp.DDL, exp.DML)

_NOW_OR_RANDOM_NODES: tuple[type[exp.Expression], ...] = (
    exp.CurrentDate, exp.CurrentDatetime, exp.CurrentTime, exp.CurrentTimestamp, exp.CurrentTimestampLTZ,
    exp.Localtime, exp.Localtimestamp, exp.Systimestamp, exp.Rand, exp.Randn, exp.Randstr, exp.Uuid,
)
"""Expressions whose value comes from the clock or a random source, as SQLGlot parses them
(``today()`` and ``current_date()`` parse as CurrentDate, ``random()`` as Rand, ...)."""

_NOW_OR_RANDOM_FUNCTIONS = frozenset({
    "now", "today", "current_date", "current_time", "current_timestamp", "current_localtime",
    "current_localtimestamp", "get_current_time", "get_current_timestamp", "transaction_timestamp",
    "statement_timestamp", "localtime", "localtimestamp", "getdate",
    "random", "rand", "setseed", "uuid", "uuidv4", "uuidv7", "gen_random_uuid",
})
"""The same by name, for functions SQLGlot keeps as anonymous calls (DuckDB's ``now()``,
``get_current_timestamp()``, ``uuidv4()``, ...)."""


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
    clock = next((node for node in tree.walk() if _reads_now_or_random(node)), None)
    if clock is not None:
        raise ConfigError(
            f"{where}: {clock.sql('duckdb')} reads the clock or a random source, so the feature would change "
            "from one build to the next; features are computed from as_of only: use as_of-relative columns "
            "instead, such as age_d (days before as_of) or t and local_t (seconds)"
        )
    return tree


def _reads_now_or_random(node: exp.Expression) -> bool:
    if isinstance(node, _NOW_OR_RANDOM_NODES):
        return True
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        # DuckDB's age(ts) with one argument is the time from ts to now; age(a, b) is a - b
        return name in _NOW_OR_RANDOM_FUNCTIONS or (name == "age" and len(node.expressions) == 1)
    return False


def custom_section_sql(name: str, sql: str) -> str:
    """The section that computes one user-defined feature, per user over ``ev``.

    Built from the parsed expression, not by pasting text, so the expression cannot reach
    outside its own column.
    """
    tree = parse_expression(sql, f"features.custom.{name}")
    column = exp.alias_(exp.paren(tree, copy=False), exp.to_identifier(name, quoted=True))
    return exp.select("user_id", column).from_("ev").group_by("user_id").sql("duckdb")
