"""Mapping ``[expressions]`` are untrusted input: parsed, checked against an allow-list, re-written.

A mapping file (and later the API) may carry SQL expressions such as
``try_cast(dollar_value AS DOUBLE) / nullif(try_cast(number_of_cds AS DOUBLE), 0)``. Pasted into
the validating SELECT, such text could read files (``read_csv('/etc/passwd')``), close the
statement and run others, attach databases or change settings. So each expression is parsed with
SQLGlot into a tree and every node must be on an allow-list: literals, the file's own columns,
arithmetic, comparison and logical operators, CASE, casts to scalar types, and scalar functions
known to be pure (string, number, date and conditional functions). Anything else — a subquery, a
table function, a statement, an aggregate or window, a function SQLGlot does not know, a
parameter, a column the file does not have — is refused with the offending node named. The SQL
that runs is generated from the checked tree (identifiers quoted, the file's columns renamed to
the chunk's internal names), never the text as written.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from segmark.errors import ConfigError

DIALECT = "duckdb"

# Node types that are pure structure or scalar operators.
ALLOWED_NODES: tuple[type[exp.Expression], ...] = (
    exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.Neg, exp.Not, exp.Column, exp.Identifier,
    exp.Add, exp.Sub, exp.Mul, exp.Div, exp.IntDiv, exp.Mod, exp.Pow, exp.DPipe,
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ,
    exp.And, exp.Or, exp.Is, exp.In, exp.Between, exp.Like, exp.ILike,
    exp.Case, exp.If, exp.Coalesce, exp.Nullif, exp.Cast, exp.TryCast, exp.DataType, exp.DataTypeParam,
    exp.Tuple, exp.Interval, exp.Var,
    exp.BitwiseAnd, exp.BitwiseOr, exp.BitwiseXor, exp.BitwiseNot,
)

# Scalar functions SQLGlot models that are pure functions of their arguments.
ALLOWED_FUNCS: tuple[type[exp.Expression], ...] = tuple(
    f for f in (getattr(exp, name, None) for name in (
        "Abs", "Ceil", "Floor", "Round", "Sqrt", "Exp", "Ln", "Log", "Sign", "Greatest", "Least",
        "Lower", "Upper", "Trim", "Length", "Substring", "Left", "Right", "Concat", "ConcatWs",
        "StrPosition", "Replace", "Reverse", "Repeat", "Pad", "Initcap", "SplitPart", "StartsWith",
        "EndsWith", "Contains", "RegexpReplace", "RegexpExtract", "RegexpLike", "RegexpILike",
        "Translate", "Chr", "Unicode", "ToChar", "Md5", "SHA", "SHA2", "Lpad", "Rpad",
        "StrToTime", "StrToDate", "TimeToStr", "DateAdd", "DateSub", "DateDiff", "DateTrunc",
        "TimestampAdd", "TimestampSub", "TimestampDiff", "TimestampTrunc", "Extract", "Year", "Month",
        "Day", "DayOfWeek", "DayOfYear", "Quarter", "Week", "UnixToTime", "TimeToUnix", "TsOrDsToDate",
        "TsOrDsToTimestamp", "ToDays", "TimeStrToTime", "TimeStrToDate", "DateStrToDate", "MakeInterval",
        "TimestampFromParts", "DateFromParts", "IsNan", "IsInf", "Stuff",
    )) if f is not None
)

# Names (lower case) that SQLGlot keeps as anonymous functions but that are pure DuckDB scalars.
ALLOWED_ANONYMOUS: frozenset[str] = frozenset({
    "nullif", "ltrim", "rtrim", "strip_accents", "ascii", "instr", "position", "printf", "format",
    "regexp_matches", "regexp_full_match", "try_strptime", "strptime", "epoch", "epoch_ms", "make_date",
    "make_timestamp", "to_timestamp", "isfinite", "isinf", "isnan", "trunc", "ceiling", "power", "pow",
    "mod", "least", "greatest", "lcase", "ucase", "len", "length_grapheme",
})

LINE_FUNCTION = "source_line"
"""``source_line()``: the row's line number in its file (the header is line 1). For sources whose rows
have no id of their own (a sessions table): ``user_id = "'S' || lpad(CAST(source_line() AS VARCHAR), 5,
'0')"``. It reads the chunk's own line column, which no source column can name."""

# What each refused node is, in words, for the message.
_WHAT: list[tuple[type[exp.Expression], str]] = [
    (exp.Subquery, "a subquery"), (exp.Select, "a SELECT"), (exp.Query, "a query"),
    (exp.Table, "a table reference"), (exp.Star, "*"), (exp.Placeholder, "a parameter"),
    (exp.Parameter, "a parameter"), (exp.Window, "a window function"), (exp.AggFunc, "an aggregate function"),
    (exp.Command, "a statement"), (exp.Use, "a statement"), (exp.Attach, "ATTACH"), (exp.Copy, "COPY"),
    (exp.Insert, "INSERT"), (exp.Delete, "DELETE"), (exp.Update, "UPDATE"), (exp.Drop, "DROP"),
    (exp.Create, "CREATE"), (exp.Set, "SET"), (exp.Pragma, "PRAGMA"), (exp.Exists, "EXISTS"),
    (exp.Lambda, "a lambda"), (exp.Dot, "a qualified name"),
]


def describe_node(node: exp.Expression) -> str:
    for kind, words in _WHAT:
        if isinstance(node, kind):
            return words
    if isinstance(node, exp.Anonymous):
        return f"function {node.name}()"
    if isinstance(node, exp.Func):
        return f"function {node.sql_name().lower()}()"
    return f"{type(node).__name__}"


def parse_expression(text: str, where: str) -> exp.Expression:
    """The expression's tree after the allow-list check (columns are not resolved yet).

    ``where`` names it in errors (``mapping m: [expressions] price``).
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{where}: an expression must be non-empty SQL text")
    try:
        trees = [t for t in sqlglot.parse(text, read=DIALECT) if t is not None]
    except SqlglotError as exc:
        raise ConfigError(f"{where}: not a valid SQL expression ({str(exc).splitlines()[0]})") from None
    if len(trees) != 1:
        raise ConfigError(f"{where}: one expression expected, found {len(trees)} statements")
    tree = trees[0]
    for node in tree.walk():
        if isinstance(node, ALLOWED_NODES):
            if isinstance(node, exp.Column) and node.table:
                raise ConfigError(f"{where}: refused {node.sql(dialect=DIALECT)!r}: only the file's own "
                                  "columns, without a table name, may be used")
            if isinstance(node, exp.DataType) and not _scalar_type(node):
                raise ConfigError(f"{where}: refused the type {node.sql(dialect=DIALECT)}: only scalar types")
            continue
        if isinstance(node, ALLOWED_FUNCS) and not isinstance(node, exp.AggFunc):
            continue
        if isinstance(node, exp.Anonymous) and node.name.lower() in ALLOWED_ANONYMOUS:
            continue
        if isinstance(node, exp.Anonymous) and node.name.lower() == LINE_FUNCTION and not node.expressions:
            continue
        raise ConfigError(f"{where}: refused {describe_node(node)} in {text.strip()!r}: an expression may only "
                          "use the file's columns, literals, operators, CASE, casts and scalar functions")
    return tree


def _scalar_type(node: exp.DataType) -> bool:
    return not node.expressions or (all(isinstance(e, exp.DataTypeParam | exp.DataType) and (
        not isinstance(e, exp.DataType) or _scalar_type(e)) for e in node.expressions) and node.this not in (
        exp.DataType.Type.STRUCT, exp.DataType.Type.MAP, exp.DataType.Type.ARRAY, exp.DataType.Type.LIST))


def columns_of(tree: exp.Expression) -> list[str]:
    """The column names an expression reads, in order of appearance."""
    return list(dict.fromkeys(c.name for c in tree.find_all(exp.Column)))


def render_expression(tree: exp.Expression, column: Callable[[str], str | None], where: str) -> str:
    """SQL for the checked tree with each column replaced by ``column(name)`` (the chunk's internal
    name); a column the file does not have is an error naming it."""
    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and node.name.lower() == LINE_FUNCTION:
            return exp.column("_line")
        if isinstance(node, exp.Column):
            target = column(node.name)
            if target is None:
                raise ConfigError(f"{where}: the file has no column {node.name!r}")
            return exp.column(target, quoted=True)
        return node

    return tree.copy().transform(swap).sql(dialect=DIALECT)
