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
    "h": "MMM", "B": "MMMM", "j": "DDD", "-j": "D", "z": "[xxx][xx]", "Z": "z",
}
"""strptime directives with a Java ``DateTimeFormatter`` equivalent for parsing (Spark's patterns).
Spark refuses day names (E) in parsing patterns, so %a and %A have none. %z is ``+08:00`` or
``+0800`` (not ``Z``) in both."""
_VARIABLE_WIDTH = {"m": "M", "d": "d", "H": "H", "I": "h", "M": "m", "S": "s", "j": "D"}
"""strptime reads ``%m`` and the like as one or two digits (``1/3/2024``); Java's two-letter form
wants exactly two, its one-letter form one or more. The one-letter form is used where the next
thing is not a digit field (a separator or the end), so compact layouts (``%Y%m%d``) keep fixed widths."""
_NUMERIC = {"Y", "y", "m", "-m", "d", "-d", "e", "H", "-H", "I", "-I", "M", "-M", "S", "-S", "f", "j", "-j"}
TWO_DIGIT_YEAR_PIVOT = 2069
"""strptime's ``%y`` reads 69-99 as 1969-1999 and 00-68 as 2000-2068; Java's ``yy`` reads all as
2000-2099, so a parsed year from this one on is moved back a century (``to_target``)."""


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

    previous: str | None = None
    i = 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            code = fmt[i + 1: i + 3] if fmt[i + 1] == "-" else fmt[i + 1]
            if code == "%":
                literal.append("%")
                previous = None
            elif code in _JAVA_PATTERNS:
                flush()
                after = fmt[i + 1 + len(code):]
                nxt = (after[1:3] if after[1:2] == "-" else after[1:2]) if after.startswith("%") else None
                alone = nxt not in _NUMERIC and previous not in _NUMERIC  # no digit field beside it
                out.append(_VARIABLE_WIDTH[code] if code in _VARIABLE_WIDTH and alone else _JAVA_PATTERNS[code])
                previous = code
            else:
                raise ValueError(f"strptime directive %{code} in {fmt!r} has no Java date-time pattern")
            i += 1 + len(code)
        else:
            literal.append(fmt[i])
            previous = None
            i += 1
    flush()
    return "".join(out)


def _two_digit_years(call: exp.Expression) -> exp.Expression:
    """A parse with ``yy`` whose years follow strptime's pivot (``TWO_DIGIT_YEAR_PIVOT``)."""
    return exp.Case(ifs=[exp.If(this=exp.GTE(this=exp.Year(this=call.copy()),
                                             expression=exp.Literal.number(TWO_DIGIT_YEAR_PIVOT)),
                                true=exp.Sub(this=call.copy(), expression=exp.Interval(
                                    this=exp.Literal.string("100"), unit=exp.Var(this="YEAR"))))],
                    default=call)


def _is_naive(node: exp.Expression) -> bool:
    """An operand known to be a local date-time: a cast to TIMESTAMP, or a strptime parse."""
    node = node.unnest()
    if isinstance(node, exp.Cast | exp.TryCast):
        return node.to.this in (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ)
    return isinstance(node, exp.Anonymous) and str(node.this).lower() == "try_strptime"


def to_target(tree: exp.Expression, target: str) -> exp.Expression:
    """A copy of a shared-SQL tree with the ``TRANSLATED_FUNCTIONS`` rewritten for ``target``, ready
    to be generated in that dialect (what a cluster engine runs).

    Also, for Spark: ``local AT TIME ZONE zone`` on a local date-time (a cast to TIMESTAMP or a
    strptime parse) reads it as the zone's wall clock, which is Spark's ``to_utc_timestamp``; SQLGlot
    writes ``from_utc_timestamp`` for every ``AT TIME ZONE``, right only for an instant."""

    def local_zone(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.AtTimeZone) and _is_naive(node.this) and not _absolute_parse(node.this):
            return exp.Anonymous(this="to_utc_timestamp", expressions=[node.this.copy(), node.args["zone"].copy()])
        return node

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.RegexpFullMatch) and isinstance(node.expression, exp.Literal):
            # Spark has no regexp_full_match (SQLGlot passes it through): RLIKE anchored at both ends
            anchored = exp.Literal.string(f"^(?:{node.expression.this})$")
            return exp.RegexpLike(this=node.this.copy(), expression=anchored)
        if isinstance(node, exp.JSONObject) and all(isinstance(kv, exp.JSONKeyValue) for kv in node.expressions):
            # Spark has no json_object: to_json of a struct (SQLGlot writes DuckDB's form)
            fields = [x.copy() for kv in node.expressions for x in (kv.this, kv.expression)]
            return exp.Anonymous(this="to_json", expressions=[exp.Anonymous(this="named_struct", expressions=fields)])
        if isinstance(node, exp.Anonymous) and str(node.this).lower() == "try_strptime":
            text, formats = node.expressions[0], node.expressions[1]
            literals = formats.expressions if isinstance(formats, exp.Array) else [formats]
            if not literals or not all(isinstance(f, exp.Literal) and f.is_string for f in literals):
                raise ValueError("try_strptime needs literal formats to be translated")
            calls: list[exp.Expression] = []
            for f in literals:
                call = exp.Anonymous(this="try_to_timestamp",
                                     expressions=[text.copy(), exp.Literal.string(java_datetime_pattern(f.this))])
                calls.append(_two_digit_years(call) if "%y" in f.this else call)
            return calls[0] if len(calls) == 1 else exp.Coalesce(this=calls[0], expressions=calls[1:])
        return node

    if target != "spark":
        return tree.copy()
    return tree.copy().transform(local_zone).transform(rewrite)


def _absolute_parse(node: exp.Expression) -> bool:
    """A strptime parse with %z or %Z gives an instant, not a local date-time."""
    node = node.unnest()
    if not (isinstance(node, exp.Anonymous) and str(node.this).lower() == "try_strptime"):
        return False
    formats = node.expressions[1]
    literals = formats.expressions if isinstance(formats, exp.Array) else [formats]
    return any(isinstance(f, exp.Literal) and ("%z" in f.this or "%Z" in f.this) for f in literals)


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
