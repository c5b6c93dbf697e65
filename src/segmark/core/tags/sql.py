"""SQL tags are untrusted input: parsed, checked against an allow-list, re-written.

A tag file's ``sql`` is a user's SELECT (``SELECT user_id, 'big' AS value FROM events WHERE ...``).
Run as written, such text could read files (``read_csv('/etc/passwd')``, ``FROM 'secrets.csv'``),
read the environment or the engine's settings (``getenv``, ``current_setting``), list the catalogue
(``duckdb_settings()``, ``information_schema``), attach databases or run other statements. So, as the
ingestion mapping's expressions are (``segmark.ingest.expressions``), it is parsed with SQLGlot and
every node must be on an allow-list:

- one query (SELECT, UNION/INTERSECT/EXCEPT, WITH): joins, subqueries, grouping, windows, ordering,
  inline VALUES;
- tables only by name, from the names the caller allows (the workspace's data tables: events, users,
  items, this build's ``features``, segments, scores...) or a CTE of the query that is in scope where
  it is named; no table functions, no file paths, no other schema or database;
- the scalar functions the mapping expressions allow (pure functions of their arguments), the usual
  aggregates (count, sum, avg, min, max, median, quantiles, stddev, string_agg...) and the ranking
  and offset window functions;
- no parameters (``?``, ``$1``), no recursive WITH (it can run without end), nothing that reads the
  clock, the session or a random source (``now()``, ``random()``, ``TABLESAMPLE``, and the bare names
  ``current_date``, ``user``, ``current_catalog``... that DuckDB reads as the session's values when
  no column has them, even quoted): a tag is computed as of its feature build, and ``{as_of}`` is
  that date.

Anything else is refused with the offending node named and its offset in the text. The SQL that runs
is generated from the checked tree (comments dropped, identifiers and strings quoted by SQLGlot),
with each ``{as_of}`` a bound parameter, never the text as written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.tokens import TokenType

from segmark.ingest.expressions import ALLOWED_ANONYMOUS, ALLOWED_FUNCS, ALLOWED_NODES, describe_node

DIALECT = "duckdb"
AS_OF = "{as_of}"
_AS_OF_COLUMN = "__segmark_tag_as_of__"
"""What ``{as_of}`` stands for while the text is parsed (a column name no table has)."""

_QUERY_NODES: tuple[type[exp.Expression], ...] = (
    exp.Select, exp.Union, exp.Intersect, exp.Except, exp.With, exp.CTE, exp.Subquery, exp.TableAlias,
    exp.From, exp.Join, exp.Where, exp.Group, exp.Having, exp.Order, exp.Ordered, exp.Limit, exp.Offset,
    exp.Distinct, exp.Star, exp.Alias, exp.Exists, exp.Filter, exp.Window, exp.WindowSpec, exp.IgnoreNulls,
    exp.RespectNulls, exp.Values,
)
"""The structure of a query: clauses, joins, subqueries, aliases, windows."""

_AGGREGATES: tuple[type[exp.Expression], ...] = tuple(
    f for f in (getattr(exp, name, None) for name in (
        "Count", "CountIf", "Sum", "Avg", "Min", "Max", "Median", "Mode", "First", "Last", "AnyValue", "ArgMax",
        "ArgMin", "Stddev", "StddevPop", "StddevSamp", "Variance", "VariancePop", "Corr", "CovarPop", "CovarSamp",
        "PercentileCont", "PercentileDisc", "Quantile", "ApproxQuantile", "ApproxDistinct", "GroupConcat",
        "LogicalAnd", "LogicalOr", "BitwiseAndAgg", "BitwiseOrAgg", "BitwiseXorAgg", "Skewness", "Kurtosis",
        "ArrayAgg",
        # window functions: ranking and offsets
        "RowNumber", "Rank", "DenseRank", "PercentRank", "CumeDist", "Ntile", "Lag", "Lead", "FirstValue",
        "LastValue", "NthValue",
    )) if f is not None
)
"""Aggregate and window functions: each a function of the rows it is given, nothing else."""

_ALLOWED = (*_QUERY_NODES, *ALLOWED_NODES, *ALLOWED_FUNCS, *_AGGREGATES)

SESSION_NAMES = frozenset({
    "current_catalog", "current_date", "current_schema", "current_role", "current_time", "current_timestamp",
    "current_user", "localtime", "localtimestamp", "session_user", "user",
})
"""Names DuckDB reads as the session's value (the clock, the user, the database file's name) when no
column of that name is found, quoted or not (``SELECT "current_date" FROM users``). Without a table
they are refused; a real column of that name is read qualified (``u."user"``)."""

_WHAT: list[tuple[type[exp.Expression], str]] = [
    (exp.Qualify, "QUALIFY (filter on the window in an outer query instead: it is not portable)"),
    (exp.TableSample, "TABLESAMPLE (a random sample)"), (exp.Lateral, "LATERAL"), (exp.Unnest, "UNNEST"),
    (exp.Rand, "function random()"), (exp.CurrentDate, "current_date"), (exp.CurrentTimestamp,
                                                                       "current_timestamp"),
    (exp.CurrentTime, "current_time"), (exp.HistoricalData, "a table's version (AT ...)"),
    (exp.RawString, "a dollar-quoted string (use '...')"), (exp.Into, "SELECT ... INTO"),
]


def _what(node: exp.Expression) -> str:
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):  # DuckDB's 'x'.f() is f('x')
        return f"{describe_node(node.expression)} (called as a method)"
    for kind, words in _WHAT:
        if isinstance(node, kind):
            return words
    return describe_node(node)


class TagSqlError(ValueError):
    """A tag's SQL that is refused, why, and where in the text (``offset``, 0-based, when known)."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.message, self.offset = message, offset


@dataclass(frozen=True)
class CheckedSql:
    """A tag's SQL after the check: the text to run and how many ``{as_of}`` parameters it takes."""

    sql: str
    n_params: int


def check_tag_sql(text: str, tables: Mapping[str, str]) -> CheckedSql:
    """The SQL to run for a tag's ``text``: re-generated from its checked tree, every ``{as_of}`` a
    ``CAST(? AS TIMESTAMP)`` parameter.

    ``tables`` maps each name the query may read (lower case) to the store's table it stands for
    (``{"events": "events", "features": "features_run_3"}``). A ``TagSqlError`` says what is refused.
    """
    if not isinstance(text, str) or not text.strip():
        raise TagSqlError("the SQL is empty: give a SELECT returning user_id (and optionally value and reason)")
    source = text.rstrip().rstrip(";").replace(AS_OF, _AS_OF_COLUMN)
    shift = _Offsets(text)
    try:
        trees = [t for t in sqlglot.parse(source, read=DIALECT) if t is not None]
    except ParseError as exc:
        detail = exc.errors[0] if exc.errors else {}
        line, col = detail.get("line"), detail.get("col")
        offset = _offset_of(source, line, col) if line and col else None
        raise TagSqlError(f"not valid SQL ({str(exc).splitlines()[0]})",
                          shift.back(offset) if offset is not None else None) from None
    except SqlglotError as exc:
        raise TagSqlError(f"not valid SQL ({str(exc).splitlines()[0]})") from None
    if len(trees) != 1:
        raise TagSqlError(f"one SELECT expected, found {len(trees)} statements"
                          + (" (a ';' ends the first)" if len(trees) > 1 else ""), shift.back(_semicolon(source)))
    tree = trees[0]
    if not isinstance(tree, exp.Query):
        raise TagSqlError(f"one SELECT expected, not {_what(tree)}", len(text) - len(text.lstrip()))
    for node in tree.walk():
        try:
            _check(node, tables)
        except TagSqlError as exc:
            at = _start(node) if not isinstance(node, exp.Placeholder) else _placeholder(source)
            raise TagSqlError(exc.message, shift.back(at)) from None
    count = 0

    def rewrite(node: exp.Expression) -> exp.Expression:
        nonlocal count
        if isinstance(node, exp.Column) and node.name == _AS_OF_COLUMN and not node.table:
            count += 1
            return exp.cast(exp.Placeholder(), exp.DataType.build("TIMESTAMP"))
        if isinstance(node, exp.Table) and not _cte_in_scope(node):
            target = tables[node.name.lower()]
            if target.lower() != node.name.lower():
                renamed = node.copy()
                renamed.set("this", exp.to_identifier(target))
                if not node.alias:
                    renamed.set("alias", exp.TableAlias(this=exp.to_identifier(node.name)))
                return renamed
        return node

    sql = tree.copy().transform(rewrite).sql(dialect=DIALECT, comments=False)
    return CheckedSql(sql, count)


def _check(node: exp.Expression, tables: Mapping[str, str]) -> None:
    if isinstance(node, exp.Table):
        _check_table(node, tables)
    elif isinstance(node, exp.With) and node.args.get("recursive"):
        raise TagSqlError("refused WITH RECURSIVE: a recursive query can run without end")
    elif isinstance(node, exp.Column) and node.name == _AS_OF_COLUMN and node.table:
        raise TagSqlError(f"write {AS_OF} on its own, not qualified by a table")
    elif isinstance(node, exp.Column) and not node.table and node.name.lower() in SESSION_NAMES:
        raise TagSqlError(f"refused {node.name} without a table: the engine reads it as the session's value (the "
                          f"clock, user or database) when no column has that name; write t.{node.name} for a "
                          f"column, or {AS_OF} for the build's date")
    elif isinstance(node, exp.Literal) and node.is_string and _AS_OF_COLUMN in node.this:
        raise TagSqlError(f"write {AS_OF} without quotes: it is a timestamp parameter, not text")
    elif isinstance(node, exp.Anonymous | exp.AnonymousAggFunc):  # functions SQLGlot does not model
        if node.name.lower() not in ALLOWED_ANONYMOUS:
            raise _refused(node)
    elif not isinstance(node, _ALLOWED):
        raise _refused(node)


def _check_table(node: exp.Table, tables: Mapping[str, str]) -> None:
    if not isinstance(node.this, exp.Identifier):
        raise TagSqlError(f"refused {_what(node.this)} as a table: a tag's SQL reads the workspace's tables "
                          "by name, never files or table functions")
    if node.args.get("db") or node.args.get("catalog"):
        raise TagSqlError(f"refused the table {node.sql(dialect=DIALECT, comments=False)}: name a workspace "
                          "table without a schema or database")
    if _cte_in_scope(node) or node.name.lower() in tables:
        return
    readable = ", ".join(sorted(tables))
    raise TagSqlError(f"refused the table {node.name!r}: a tag's SQL may read {readable} (or its own WITH "
                      "queries), never files or other tables")


def _cte_in_scope(node: exp.Table) -> bool:
    """Whether the table names a CTE visible where it stands: one of an enclosing WITH's CTEs, and
    inside a CTE's own body only those defined before it (a name that is not in scope would be read
    from the store, or by DuckDB as a file)."""
    if node.args.get("db") or node.args.get("catalog"):
        return False
    name = node.name.lower()
    child: exp.Expression = node
    parent = node.parent
    while parent is not None:
        with_ = parent.args.get("with_") or parent.args.get("with")
        if isinstance(parent, exp.Query) and isinstance(with_, exp.With):
            ctes = list(with_.expressions)
            inside = _cte_index(ctes, node) if child is with_ else None
            visible = ctes if inside is None else ctes[:inside]
            if any(c.alias_or_name.lower() == name for c in visible):
                return True
        child, parent = parent, parent.parent
    return False


def _cte_index(ctes: list[exp.Expression], node: exp.Expression) -> int | None:
    """Which of ``ctes`` holds ``node``."""
    for i, cte in enumerate(ctes):
        if node is cte or any(n is node for n in cte.walk()):
            return i
    return None


def _start(node: exp.Expression) -> int | None:
    """The earliest offset SQLGlot recorded for the node or anything in it."""
    starts = [n.meta["start"] for n in node.walk() if "start" in n.meta]
    return min(starts) if starts else None


def _semicolon(text: str) -> int | None:
    """Where the first statement ends (the first ``;`` outside quotes and comments)."""
    try:
        tokens = sqlglot.tokenize(text, read=DIALECT)
    except SqlglotError:
        return None
    return next((t.start for t in tokens if t.token_type == TokenType.SEMICOLON), None)


def _placeholder(text: str) -> int | None:
    """Where the first parameter (``?``, ``$1``, ``$name``) is (SQLGlot keeps no position for one)."""
    try:
        tokens = sqlglot.tokenize(text, read=DIALECT)
    except SqlglotError:
        return None
    kinds = (TokenType.PLACEHOLDER, TokenType.PARAMETER)
    return next((t.start for t in tokens if t.token_type in kinds), None)


def _offset_of(text: str, line: int, col: int) -> int:
    """The 0-based offset of a 1-based line and column (SQLGlot's error position, the token's end)."""
    lines = text.split("\n")
    return min(sum(len(s) + 1 for s in lines[: line - 1]) + max(col - 1, 0), len(text))


class _Offsets:
    """Maps an offset in the parsed text (each ``{as_of}`` spelled as a longer column name) back to
    the text as written."""

    def __init__(self, text: str) -> None:
        self.at: list[int] = []
        i = text.find(AS_OF)
        while i >= 0:
            self.at.append(i)
            i = text.find(AS_OF, i + len(AS_OF))

    def back(self, offset: int | None) -> int | None:
        if offset is None:
            return None
        extra = len(_AS_OF_COLUMN) - len(AS_OF)
        out = offset
        for n, i in enumerate(self.at):
            parsed_at = i + n * extra
            if offset >= parsed_at + len(_AS_OF_COLUMN):
                out -= extra
            elif offset >= parsed_at:
                return i
        return out


def _refused(node: exp.Expression) -> TagSqlError:
    return TagSqlError(f"refused {_what(node)}: a tag's SQL may use the workspace's tables, joins, "
                       "aggregates, windows, CASE, casts and pure scalar functions, but nothing that reads "
                       f"files, settings, the clock or a random source (use {AS_OF} for the build's date)")
