"""Shared SQL: the one dialect steps write (DuckDB's), and the check that it ports to Spark SQL.

Steps pass SQL to the store as text. Written once, it must run on every engine: DuckDB runs it as
it is, a cluster engine transpiles it with SQLGlot. ``portability_problems`` says what in a
statement would not survive that: SQLGlot refusing to express it in Spark SQL, a function SQLGlot
does not know (it would pass through untranslated, and Spark would not have it), or a DuckDB-only
construct that transpiles into something that means another thing or nothing on Spark (``rowid``,
``information_schema``, ``GROUP BY ALL``, ``QUALIFY``, ``INSERT OR REPLACE``, sequences, ``hash``).

Engine-specific SQL (staging, publishing, sequences, COPY, catalog queries) lives inside the
engine's module and is not checked here. The test that traces a full run checks every statement
the steps issued (``DuckDBStore.tracing``).
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

SHARED_DIALECT = "duckdb"
"""The dialect steps write."""

TARGET_DIALECTS: tuple[str, ...] = ("spark",)
"""The dialects shared SQL must transpile to."""

PORTABLE_FUNCTIONS: frozenset[str] = frozenset()
"""Functions SQLGlot does not model that still mean the same on every engine (none so far)."""

DUCKDB_ONLY_FUNCTIONS: frozenset[str] = frozenset({
    "hash", "md5_number", "nextval", "currval", "struct_pack", "try_strptime",
})
"""Functions whose names SQLGlot may pass through but whose meaning (or existence) is DuckDB's alone."""


def portability_problems(sql: str, *, targets: tuple[str, ...] = TARGET_DIALECTS) -> list[str]:
    """What keeps ``sql`` (DuckDB dialect) from running on the other engines; empty when it ports."""
    try:
        trees = [t for t in sqlglot.parse(sql, read=SHARED_DIALECT) if t is not None]
    except SqlglotError as exc:
        return [f"SQLGlot cannot parse it: {str(exc).splitlines()[0]}"]
    problems: list[str] = []
    for tree in trees:
        problems += _duckdb_only(tree, sql)
        for target in targets:
            try:
                tree.sql(dialect=target, unsupported_level=ErrorLevel.RAISE)
            except SqlglotError as exc:
                problems.append(f"not expressible in {target}: {str(exc).splitlines()[0]}")
    return list(dict.fromkeys(problems))


def _duckdb_only(tree: exp.Expression, text: str) -> list[str]:
    out: list[str] = []
    for node in tree.walk():
        if isinstance(node, exp.Anonymous):
            name = str(node.this).lower()
            if name not in PORTABLE_FUNCTIONS:
                what = "DuckDB-only" if name in DUCKDB_ONLY_FUNCTIONS else "unknown to SQLGlot"
                out.append(f"function {name}() is {what}")
        elif isinstance(node, exp.Func) and node.sql_name().lower() in DUCKDB_ONLY_FUNCTIONS:
            out.append(f"function {node.sql_name().lower()}() is DuckDB-only")
        elif isinstance(node, exp.Column) and node.name.lower() == "rowid" and not node.table:
            out.append("rowid is DuckDB's storage order, not a column other engines have")
        elif isinstance(node, exp.Table) and (node.db or "").lower() == "information_schema":
            out.append("information_schema is engine-specific: use Store.table_exists/table_columns")
        elif isinstance(node, exp.Group) and node.args.get("all"):
            out.append("GROUP BY ALL: list the grouping columns")
        elif isinstance(node, exp.Order) and _order_by_all(node):
            out.append("ORDER BY ALL: list the ordering columns")
        elif isinstance(node, exp.Qualify):
            out.append("QUALIFY: filter a window in an outer query")
        elif isinstance(node, exp.Insert) and node.args.get("alternative"):
            out.append(f"INSERT OR {node.args['alternative']}: use Store.upsert")
    if "struct_pack" in text.lower():
        out.append("function struct_pack() is DuckDB-only")
    return out


def _order_by_all(node: exp.Order) -> bool:
    keys = node.expressions
    if len(keys) != 1:
        return False
    key = keys[0].this if isinstance(keys[0], exp.Ordered) else keys[0]
    return isinstance(key, exp.Var | exp.Column) and key.name.upper() == "ALL" and not getattr(key, "table", "")
