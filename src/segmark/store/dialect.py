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
    "hash", "md5_number", "nextval", "currval", "struct_pack",
})
"""Functions whose names SQLGlot may pass through but whose meaning (or existence) is DuckDB's alone."""

TRANSLATED_FUNCTIONS: frozenset[str] = frozenset({"try_strptime"})
"""DuckDB functions SQLGlot does not model that ``to_target`` rewrites into each target's own:
``try_strptime(text, format | [formats])`` (the ingestion plan's ``[ts] format``, from
``DuckDBFunctions.strptime_sql``) becomes Spark's ``coalesce(try_to_timestamp(text, 'pattern'), ...)``
with each strptime format translated to a Java date-time pattern (``java_datetime_pattern``)."""

_JAVA_PATTERNS: dict[str, str] = {
    "Y": "yyyy", "y": "yy", "m": "MM", "-m": "M", "d": "dd", "-d": "d", "e": "d", "H": "HH", "-H": "H",
    "I": "hh", "-I": "h", "M": "mm", "-M": "m", "S": "ss", "-S": "s", "f": "SSSSSS", "p": "a", "b": "MMM",
    "h": "MMM", "B": "MMMM", "a": "EEE", "A": "EEEE", "j": "DDD", "-j": "D", "z": "XX", "Z": "z",
}
"""strptime directives with a Java ``DateTimeFormatter`` equivalent for parsing (Spark's patterns)."""


def java_datetime_pattern(fmt: str) -> str:
    """A strptime format as the Java date-time pattern that parses the same text (Spark's
    ``to_timestamp``); literal text is quoted. A ValueError names a directive with no equivalent
    (week numbers %U %W %V, %c %x %X, %u %w)."""
    out: list[str] = []
    literal: list[str] = []

    def flush() -> None:
        if literal:
            text = "".join(literal).replace("'", "''")
            out.append(text if all(not c.isalpha() for c in text) else f"'{text}'")
            literal.clear()

    i = 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            code = fmt[i + 1: i + 3] if fmt[i + 1] == "-" else fmt[i + 1]
            if code == "%":
                literal.append("%")
            elif code in _JAVA_PATTERNS:
                flush()
                out.append(_JAVA_PATTERNS[code])
            else:
                raise ValueError(f"strptime directive %{code} in {fmt!r} has no Java date-time pattern")
            i += 1 + len(code)
        else:
            literal.append(fmt[i])
            i += 1
    flush()
    return "".join(out)


def to_target(tree: exp.Expression, target: str) -> exp.Expression:
    """A copy of a shared-SQL tree with the ``TRANSLATED_FUNCTIONS`` rewritten for ``target``, ready
    to be generated in that dialect (what a cluster engine runs)."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and str(node.this).lower() == "try_strptime" and target == "spark":
            text, formats = node.expressions[0], node.expressions[1]
            literals = formats.expressions if isinstance(formats, exp.Array) else [formats]
            if not literals or not all(isinstance(f, exp.Literal) and f.is_string for f in literals):
                raise ValueError("try_strptime needs literal formats to be translated")
            calls = [exp.Anonymous(this="try_to_timestamp",
                                   expressions=[text.copy(), exp.Literal.string(java_datetime_pattern(f.this))])
                     for f in literals]
            return calls[0] if len(calls) == 1 else exp.Coalesce(this=calls[0], expressions=calls[1:])
        return node

    return tree.copy().transform(rewrite)


def transpile(sql: str, target: str = "spark") -> list[str]:
    """Shared SQL in ``target``'s dialect: SQLGlot's transpilation, with ``TRANSLATED_FUNCTIONS``
    rewritten. Raises SQLGlot's errors, or a ValueError for an untranslatable format."""
    trees = [t for t in sqlglot.parse(sql, read=SHARED_DIALECT) if t is not None]
    return [to_target(t, target).sql(dialect=target, unsupported_level=ErrorLevel.RAISE) for t in trees]


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
                to_target(tree, target).sql(dialect=target, unsupported_level=ErrorLevel.RAISE)
            except SqlglotError as exc:
                problems.append(f"not expressible in {target}: {str(exc).splitlines()[0]}")
            except ValueError as exc:
                problems.append(f"not translatable to {target}: {exc}")
    return list(dict.fromkeys(problems))


def _duckdb_only(tree: exp.Expression, text: str) -> list[str]:
    out: list[str] = []
    for node in tree.walk():
        if isinstance(node, exp.Anonymous):
            name = str(node.this).lower()
            if name not in PORTABLE_FUNCTIONS and name not in TRANSLATED_FUNCTIONS:
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
