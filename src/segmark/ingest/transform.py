"""The SQL that turns one chunk of source rows into canonical rows, each good or with a reason.

Pure: from a table spec, a mapping and the chunk's columns, build one SELECT over a relation named
``_chunk``. The chunk's source columns are renamed to internal positional names (``c0``, ``c1``...)
beside ``_line``, so no source column — ``_line``, ``USER_ID`` beside ``user_id``, an empty
header — can collide with another or with segmark's own columns. Every output row carries either
the canonical, typed values or the first problem found (``_reason``, ``_column``, ``_value``), so
one pass both validates and converts, and nothing is dropped. Validation order and reason codes are
in ``REASONS``.

The SQL is shared SQL (DuckDB's dialect, transpilable to Spark SQL with SQLGlot); the two things
engines do differently — a 64/128-bit hash in the engine's key type, and parsing text with
user-given strptime formats — come from the engine (``store.base.EngineFunctions``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import pyarrow as pa

from segmark.errors import ConfigError, InputError, MissingColumnsError
from segmark.ingest.chunk_facts import ENDS, NO_CONTROLS, NO_NULL_ID, NO_ZONE, FactFinder, Facts
from segmark.ingest.expressions import render_expression
from segmark.ingest.mapping import DEFAULT_EVENT_TYPES, Mapping, absolute_format, repeated_names
from segmark.schema import EVENT_TYPES, EVENTS, Column, TableSpec
from segmark.sql import ident as q
from segmark.sql import literal as lit
from segmark.store.base import EngineFunctions

REASONS: dict[str, str] = {
    "malformed_row": "the row does not split into the file's columns",
    "unclosed_quote": "a quoted value opens on this line and never closes (the next lines were read on)",
    "invalid_encoding": "bytes that are not text in the file's encoding (the byte offset is the value)",
    "missing_user_id": "empty user id",
    "missing_item_id": "empty item id",
    "invalid_id": "an id with control characters (C0, C1, line separators) or longer than 512 characters",
    "missing_event_type": "empty event type",
    "unknown_event_type": "event type not in the vocabulary (add it to the mapping's [event_types])",
    "missing_ts": "empty timestamp",
    "ambiguous_ts_zone": "a time-zone abbreviation that names several zones (CST, IST, BST...): use an offset",
    "unparseable_ts": "timestamp not understood (set [ts] unit or format in the mapping)",
    "ts_out_of_range": "timestamp outside the accepted range (settings: ingest.min_ts, max_future_days)",
    "non_numeric_price": "price is not a number",
    "non_numeric_quantity": "quantity is not a number",
    "non_numeric_amount": "amount is not a number",
    "ambiguous_number": "a number whose separators can be read two ways (12,50; 1.234,5): set [read] decimal",
    "non_finite_number": "NaN, infinity or a number too large for a double",
    "negative_price": "price below zero",
    "negative_quantity": "quantity below zero (set rules.refund_if_negative if these are refunds)",
    "negative_amount": "amount below zero (set rules.refund_if_negative if these are refunds)",
    "unparseable_date": "date not understood",
    "date_out_of_range": "a signup date outside ingest.min_ts..now, or a birth date before 1900 or in the future",
    "invalid_age": "age is not a whole number between 0 and 120",
}
"""Every quarantine reason code with its explanation, in the order rows are checked."""


_GENDER = {
    "female": ("f", "female", "woman", "w", "女", "女性", "女士"),
    "male": ("m", "male", "man", "男", "男性", "先生"),
}
_WS = (" \t\r\n\x0b\x0c\x85\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
       "\u200b\u200c\u200d\u2028\u2029\u202f\u205f\u2060\u3000\ufeff")
"""Trimmed from both ends of every value: every Unicode blank (NBSP, em and ideographic spaces...) and
the invisible zero-width characters and BOM, so an id made of them is missing and ``u1\u200b`` is ``u1``."""
_NULL_IDS = ("\\N", "NULL", "null", "NaN", "nan", "None", "none", "N/A", "n/a")
"""Ids written this way are missing ids (database dumps and pandas exports), never users."""
_NULL_ID_STARTS = sorted({ord(n[0]) for n in _NULL_IDS})
"""Their first characters' codes: a cheap test that spares almost every id the list."""
_MAX_DOUBLE = "1.7976931348623157e308"
_CURRENCY = "[¥￥$€£]"
_AMBIGUOUS_ZONES = ("CST", "IST", "BST", "AST", "GST", "SST", "ECT", "CDT", "ADT", "MST")
"""Abbreviations that name more than one zone (China/Central/Cuba Standard Time...)."""
_ZONE_OFFSETS = {
    "Z": "+00:00", "UTC": "+00:00", "GMT": "+00:00", "UT": "+00:00",
    "EST": "-05:00", "EDT": "-04:00", "MDT": "-06:00", "PST": "-08:00", "PDT": "-07:00",
    "AKST": "-09:00", "AKDT": "-08:00", "HST": "-10:00",
    "WET": "+00:00", "WEST": "+01:00", "CET": "+01:00", "CEST": "+02:00", "EET": "+02:00", "EEST": "+03:00",
    "MSK": "+03:00", "PKT": "+05:00", "WIB": "+07:00", "ICT": "+07:00", "HKT": "+08:00", "SGT": "+08:00",
    "PHT": "+08:00", "AWST": "+08:00", "KST": "+09:00", "JST": "+09:00", "ACST": "+09:30",
    "AEST": "+10:00", "AEDT": "+11:00", "NZST": "+12:00", "NZDT": "+13:00",
}
"""Abbreviations that name one offset (winter and summer forms are distinct abbreviations)."""


@dataclass(frozen=True)
class Context:
    """What the SQL needs besides the mapping: the shop's zone and the accepted ranges."""

    timezone: str
    min_ts: datetime
    max_ts: datetime
    now: datetime


def internal_name(position: int) -> str:
    """The chunk's name for the source column at ``position``: never a source column's own name."""
    return f"c{position}"


def _first(value: str, fallback: str) -> str:
    """``coalesce(value, fallback)`` that computes ``fallback`` only where ``value`` is NULL: the
    engine's coalesce evaluates every argument on every row, and the fallbacks here (currency signs,
    separators, other date layouts) are regular expressions that almost no row needs."""
    return f"CASE WHEN {value} IS NOT NULL THEN {value} ELSE {fallback} END"


def _list(values: Sequence[str]) -> str:
    return "[" + ", ".join(lit(v) for v in values) + "]"


def resolve_columns(spec: TableSpec, mapping: Mapping, available: Sequence[str],
                    where: str, *, require: bool = True) -> dict[str, str]:
    """Source column for each canonical column found; with ``require``, raises before anything is
    written when a required one is missing. Returns {canonical: source column}. A name given to two
    columns is refused: no mapping can tell them apart."""
    dupes = repeated_names(available)
    if dupes:
        raise InputError(f"{where}: repeated column names {dupes}; rename one of each, nothing was written")
    lower: dict[str, str] = {}
    for c in available:
        lower.setdefault(c.lower(), c)
    found: dict[str, str] = {}
    for col in spec.columns:
        if col.name in mapping.expressions or col.name in mapping.constants:
            continue
        for cand in mapping.candidates(col.name):
            if cand in available:
                found[col.name] = cand
                break
            if cand.lower() in lower:
                found[col.name] = lower[cand.lower()]
                break
    missing = [c for c in spec.required
               if c not in found and c not in mapping.expressions and c not in mapping.constants]
    if missing and require:
        wanted = ", ".join(f"{m} (from {' or '.join(mapping.candidates(m))})" for m in missing)
        shown = ", ".join(repr(c) if not c.strip() else c for c in available)
        raise MissingColumnsError(
            f"{where}: required column(s) missing: {wanted}. Columns in the file: {shown}. "
            "Rename them with a mapping file (--mapping MAP.toml, [columns]) — nothing was written."
        )
    return found


# -- types a canonical column can be read from --------------------------------------------------------


def _is_string(t: pa.DataType | None) -> bool:
    return t is None or pa.types.is_string(t) or pa.types.is_large_string(t)


def _is_number(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)


def check_types(spec: TableSpec, found: dict[str, str], types: dict[str, pa.DataType], where: str) -> None:
    """A typed column (Parquet, a frame, a database) that cannot hold what its canonical column means
    is refused before anything is written, naming the file and the column."""
    for col in spec.columns:
        src = found.get(col.name)
        t = types.get(src) if src is not None else None
        if t is None or _is_string(t) or pa.types.is_null(t):
            continue
        ok = {
            "id": _is_number(t) and not pa.types.is_decimal(t),
            "text": _is_number(t) or pa.types.is_boolean(t),
            "event_type": False,
            "number": _is_number(t),
            "integer": _is_number(t),
            "timestamp": pa.types.is_timestamp(t) or pa.types.is_date(t) or _is_number(t),
            "date": pa.types.is_timestamp(t) or pa.types.is_date(t),
        }[col.kind]
        if pa.types.is_decimal(t) and col.kind == "id":
            ok = t.scale == 0
        if not ok:
            what = {"timestamp": "a date-time (or unix time)", "date": "a date", "number": "a number",
                    "integer": "a whole number", "id": "text or a whole number", "text": "text",
                    "event_type": "text"}[col.kind]
            raise InputError(f"{where}: column {src!r} ({col.name}) holds {t} values, where {col.name} needs "
                             f"{what}; convert it, or map another column")


# -- per-kind expressions ---------------------------------------------------------------------------


def _plain_end(code: str) -> str:
    """A character code that ``_WS`` cannot hold: printable ASCII, or past U+3000 other than the BOM."""
    return f"({code} BETWEEN 33 AND 126 OR ({code} > 12288 AND {code} <> 65279))"


def _trimmed(x: str, clean: bool = False) -> str:
    """The value without the blanks of ``_WS`` at either end, NULL when nothing is left. Trimming a
    set of 30 characters costs per character of the value; almost every value starts and ends with a
    character outside the set, so that cheap test comes first (twenty times faster on ids). A
    ``clean`` column (no value has a blank at either end: ``chunk_facts.ENDS``) is not trimmed."""
    if clean:
        return f"nullif({x}, '')"
    ends = f"{_plain_end(f'ascii({x})')} AND {_plain_end(f'ascii(substr({x}, -1, 1))')}"
    return f"CASE WHEN {ends} THEN {x} ELSE nullif(trim({x}, {lit(_WS)}), '') END"


def _text(x: str, t: pa.DataType | None, kind: str, facts: frozenset[str] = frozenset()) -> str:
    if _is_string(t):
        value = _trimmed(x, ENDS in facts)
        if kind == "id" and not {ENDS, NO_NULL_ID} <= facts:
            starts = ", ".join(str(c) for c in _NULL_ID_STARTS)
            return (f"CASE WHEN ascii({value}) IN ({starts}) AND {value} IN ({', '.join(lit(n) for n in _NULL_IDS)}) "
                    f"THEN NULL ELSE {value} END")
        return value
    if kind == "id" and t is not None and pa.types.is_floating(t):
        # ids exported as floats (17850.0) read back as the integers they are; NaN is a missing id
        return (f"CASE WHEN NOT (abs({x}) <= {_MAX_DOUBLE}) THEN NULL "
                f"WHEN {x} = floor({x}) AND abs({x}) < 9e15 THEN CAST(CAST({x} AS BIGINT) AS VARCHAR) "
                f"ELSE CAST({x} AS VARCHAR) END")
    if t is not None and pa.types.is_boolean(t):
        return f"CASE WHEN {x} THEN 'true' WHEN NOT {x} THEN 'false' END"
    return _trimmed(f"CAST({x} AS VARCHAR)")


def _strip_currency(v: str) -> str:
    """The text without a leading currency sign (the sign of the number kept): -¥5 is -5."""
    sign = f"CASE WHEN starts_with({v}, '-') THEN '-' WHEN starts_with({v}, '+') THEN '+' ELSE '' END"
    # one sign only: --5 and +-5 are no numbers (else -5, a refund under refund_if_negative)
    return f"({sign} || trim(regexp_replace(regexp_replace({v}, '^[+-]', ''), '^{_CURRENCY}', '')))"


def _number(v: str, t: pa.DataType | None, decimal: str, pre: dict[str, str]) -> str:
    """A number from text: plain numbers first (the cheap path for every row, read once in ``pre``),
    then currency signs and thousands separators in groups of three; anything that reads two ways is
    NULL."""
    if t is not None and _is_number(t):
        return f"CAST({v} AS DOUBLE)"
    bare = _strip_currency(v)
    if decimal == ".":
        grouped = f"regexp_full_match({bare}, '[+-]?[0-9]{{1,3}}(,[0-9]{{3}})+(\\.[0-9]+)?')"
        plain = f"regexp_full_match({bare}, '[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)')"
        # the engine's cast is lenient in two ways a number in a file is not: '+-5' is -5, '1_0' is 10
        quick = f"_plain_{v}"
        pre[quick] = f"CASE WHEN strpos({v}, '_') = 0 AND NOT starts_with({v}, '+-') THEN TRY_CAST({v} AS DOUBLE) END"
        return _first(quick, f"CASE WHEN {grouped} THEN TRY_CAST(replace({bare}, ',', '') AS DOUBLE) "
                             f"WHEN {plain} THEN TRY_CAST({bare} AS DOUBLE) END")
    # decimal comma: 1.299,00 / 1 299,00 / 1299,5 / 1299; a dot that is no thousands separator is ambiguous
    grouped = f"regexp_full_match({bare}, '[+-]?[0-9]{{1,3}}([. \u00a0][0-9]{{3}})*(,[0-9]+)?')"
    plain = f"regexp_full_match({bare}, '[+-]?[0-9]+(,[0-9]+)?([eE][+-]?[0-9]+)?')"
    special = f"lower({v}) IN ('nan', 'inf', '+inf', '-inf', 'infinity', '+infinity', '-infinity')"
    normal = f"replace(replace(replace(replace({bare}, '.', ''), ' ', ''), '\u00a0', ''), ',', '.')"
    return (f"CASE WHEN {grouped} OR {plain} THEN TRY_CAST({normal} AS DOUBLE) "
            f"WHEN {special} THEN TRY_CAST({v} AS DOUBLE) END")


def _ambiguous_number(v: str) -> str:
    """Text made of digits and separators that no reading accepted (12,50 with a decimal point)."""
    shape = f"regexp_full_match({_strip_currency(v)}, '[+-]?[0-9][0-9., \u00a0]*[0-9]')"
    return f"{shape} AND ({v} LIKE '%,%' OR {v} LIKE '%.%')"


def _local_to_utc(x: str, tz: str) -> str:
    """A local date-time of zone ``tz`` as UTC. The cast (free here) shows other engines that the
    operand is a local date-time (``dialect.to_target``: Spark's ``to_utc_timestamp``)."""
    if tz == "UTC":
        return x
    return f"(CAST(({x}) AS TIMESTAMP) AT TIME ZONE {lit(tz)}) AT TIME ZONE 'UTC'"


def _absolute(x: str) -> str:
    return f"({x}) AT TIME ZONE 'UTC'"


def _zoned(v: str) -> str:
    """Cheap test for a trailing zone designator (Z, +08, -05:00, +0800, PST, Asia/Shanghai): a time
    (a colon) and, at the end, a letter or a sign three, five or six characters back. One regular
    expression anchored at the end costs less than the five string functions it replaces."""
    return f"(strpos({v}, ':') > 0 AND regexp_matches({v}, '([A-Za-z]|[+-]..|[+-]....|[+-].....)$'))"


def _zone_token(v: str) -> str:
    return f"upper(regexp_extract({v}, '\\s([A-Za-z]{{1,5}})$', 1))"


def _with_zone(v: str) -> str:
    """A zoned text as UTC: offsets and IANA names by the engine's parser, abbreviations from a table
    of unambiguous ones; an ambiguous abbreviation is NULL."""
    tok = _zone_token(v)
    whens = " ".join(f"WHEN {lit(a)} THEN {lit(o)}" for a, o in _ZONE_OFFSETS.items())
    spaced = f"replace(replace({v}, ' +', '+'), ' -', '-')"
    head = f"rtrim(left({v}, length({v}) - length({tok})))"

    def part(i: int) -> str:
        return f"regexp_extract({v}, '([+-])([0-9]{{2}}):?([0-9]{{2}})?$', {i})"

    minutes = (f"(CASE WHEN {part(1)} = '-' THEN -1 ELSE 1 END * (TRY_CAST({part(2)} AS INTEGER) * 60 "
               f"+ coalesce(TRY_CAST(nullif({part(3)}, '') AS INTEGER), 0)))")
    return (f"CASE WHEN {tok} = '' AND NOT ({minutes} BETWEEN -720 AND 840) THEN NULL "  # -12:00 to +14:00
            f"WHEN {tok} = '' THEN {_absolute(f'TRY_CAST({spaced} AS TIMESTAMPTZ)')} "
            f"WHEN {tok} IN ({', '.join(lit(a) for a in _AMBIGUOUS_ZONES)}) THEN NULL "
            f"ELSE {_absolute(f'TRY_CAST({head} || (CASE {tok} {whens} END) AS TIMESTAMPTZ)')} END")


def _layouts(v: str, kind: Literal["timestamp", "date"]) -> str:
    """Local layouts other than ISO, normalised to ISO text: 2024/03/01 10:00, 2024.03.01,
    2024年03月01日 10:00, 20240301100000, 20240301."""
    slashed = f"replace(translate({v}, '/.年月', '----'), '日', '')"
    compact = (f"CASE WHEN regexp_full_match({v}, '[0-9]{{14}}') THEN substr({v}, 1, 4) || '-' || substr({v}, 5, 2) "
               f"|| '-' || substr({v}, 7, 2) || ' ' || substr({v}, 9, 2) || ':' || substr({v}, 11, 2) || ':' "
               f"|| substr({v}, 13, 2) WHEN regexp_full_match({v}, '[0-9]{{8}}') THEN substr({v}, 1, 4) || '-' "
               f"|| substr({v}, 5, 2) || '-' || substr({v}, 7, 2) END")
    target = "TIMESTAMP" if kind == "timestamp" else "DATE"
    return f"coalesce(TRY_CAST({compact} AS {target}), TRY_CAST({slashed} AS {target}))"


def _timestamp(v: str, t: pa.DataType | None, mapping: Mapping, ctx: Context, fn: EngineFunctions,
               pre: dict[str, str], zone_free: bool = False) -> str:
    """The timestamp in UTC. Readings used more than once are added to ``pre`` (name: expression),
    computed once per row in a layer before this one; ``zone_free`` texts (``chunk_facts.NO_ZONE``)
    are not tested for a zone designator."""
    tz = mapping.ts.timezone or ctx.timezone
    unit = mapping.ts.unit
    if t is not None and pa.types.is_timestamp(t):
        if t.tz:
            return _absolute(f"CAST({v} AS TIMESTAMPTZ)")
        return _local_to_utc(f"CAST({v} AS TIMESTAMP)", tz)
    if t is not None and pa.types.is_date(t):
        return _local_to_utc(f"CAST({v} AS TIMESTAMP)", tz)
    if t is not None and _is_number(t):
        return _epoch(f"CAST({v} AS DOUBLE)", unit)
    if unit:
        return _epoch(f"TRY_CAST({v} AS DOUBLE)", unit)
    formats = mapping.ts.formats()
    if formats:
        absolute = {absolute_format(f) for f in formats}
        if len(absolute) > 1:
            raise ConfigError(f"mapping {mapping.name}: [ts] format mixes formats with and without %z/%Z; "
                              "give one kind")
        parsed = fn.strptime_sql(v, formats)
        return _absolute(parsed) if absolute.pop() else _local_to_utc(parsed, tz)
    # No unit, no format: unix seconds or milliseconds (by magnitude; 14 digits are YYYYMMDDHHMMSS, not
    # unix time), text with a zone, then local date-times. Cheap tests first: this runs on every row.
    number, plain = f"_unix_{v}", f"_local_{v}"
    pre[number] = f"CASE WHEN strpos({v}, ':') = 0 THEN TRY_CAST({v} AS DOUBLE) END"  # a failing cast is dear
    pre[plain] = f"TRY_CAST({v} AS TIMESTAMP)"
    local = _first(plain, _layouts(v, "timestamp"))
    zoned = "" if zone_free else f"WHEN {_zoned(v)} THEN {_with_zone(v)} "
    return (
        f"CASE WHEN abs({number}) >= 1e8 AND abs({number}) < 1e13 THEN {_epoch(number, None)} "
        f"{zoned}ELSE {_local_to_utc(local, tz)} END"
    )


def _zone_free(facts: frozenset[str]) -> bool:
    """Whether the trimmed texts are known to hold no zone: facts are of the untrimmed text, which
    is the trimmed one only when no value has a blank at either end."""
    return {ENDS, NO_ZONE} <= facts


def _epoch(num: str, unit: str | None) -> str:
    """Unix time to UTC; magnitudes are clamped so absurd values fail the range check, not the query."""
    if unit is None:
        # integers without a declared unit: milliseconds when too large to be seconds
        clamped = f"least(greatest({num}, -1e14), 1e14)"
        micros = f"CASE WHEN abs({num}) >= 1e11 THEN {clamped} * 1e3 ELSE {num} * 1e6 END"
        return f"make_timestamp(CAST({micros} AS BIGINT))"
    factor, bound = {"s": ("1e6", "1e11"), "ms": ("1e3", "1e14"), "us": ("1", "1e17")}[unit]
    return f"make_timestamp(CAST(least(greatest({num}, -{bound}), {bound}) * {factor} AS BIGINT))"


def _date(v: str, t: pa.DataType | None) -> str:
    if t is not None and (pa.types.is_timestamp(t) or pa.types.is_date(t)):
        return f"CAST({v} AS DATE)"
    return _first(f"TRY_CAST({v} AS DATE)", _layouts(v, "date"))


def _translate(v: str, table: dict[str, str]) -> str:
    if not table:
        return v
    whens = " ".join(f"WHEN {lit(k)} THEN {lit(val)}" for k, val in table.items())
    return f"CASE {v} {whens} ELSE {v} END"


def _gender(v: str) -> str:
    whens = " ".join(
        f"WHEN lower({v}) IN ({', '.join(lit(a) for a in aliases)}) THEN {lit(canon)}"
        for canon, aliases in _GENDER.items()
    )
    return f"CASE {whens} ELSE {v} END"


# -- the plan ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    condition: str
    reason: str
    column: str
    value: str


def _source_expr(col: Column, mapping: Mapping, found: dict[str, str],
                 positions: dict[str, int], types: dict[str, pa.DataType]) -> tuple[str | None, pa.DataType | None]:
    """The raw expression for a canonical column and its Arrow type (None: text or unknown)."""
    if col.name in mapping.expressions:
        where = f"mapping {mapping.name}: [expressions] {col.name}"
        lower = {name.lower(): name for name in positions}

        def column(name: str) -> str | None:
            source = name if name in positions else lower.get(name.lower())
            return None if source is None else internal_name(positions[source])

        sql = render_expression(mapping.expression(col.name), column, where)
        # the result's type is unknown here: read it as text, like a CSV field
        return f"CAST(({sql}) AS VARCHAR)", None
    if col.name in mapping.constants:
        return lit(str(mapping.constants[col.name])), None
    src = found.get(col.name)
    if src is None or src not in positions:
        return None, None
    return q(internal_name(positions[src])), types[src]


def fact_finder(spec: TableSpec, mapping: Mapping, found: dict[str, str]) -> FactFinder:
    """What looks in a chunk for the facts that let ``plan_sql`` leave tests out (``chunk_facts``):
    for each source column, those worth looking for given its kind."""
    wanted: dict[str, set[str]] = {}
    for col in spec.columns:
        src = found.get(col.name)
        if src is None or col.name in mapping.expressions or col.name in mapping.constants:
            continue
        facts = {ENDS}
        if col.kind == "id":
            facts |= {NO_NULL_ID, NO_CONTROLS}
        elif col.kind == "timestamp":
            facts.add(NO_ZONE)
        wanted.setdefault(src, set()).update(facts)
    return FactFinder(wanted, _WS, _NULL_IDS)


def plan_sql(spec: TableSpec, mapping: Mapping, found: dict[str, str], columns: Sequence[str],
             types: dict[str, pa.DataType], ctx: Context, fn: EngineFunctions, *, relation: str = "_chunk",
             facts: Facts | None = None) -> str:
    """One SELECT over ``relation`` (``_line`` and the source columns under their internal names, in
    the order of ``columns``) giving canonical columns, ``_line``, ``_key`` (events) or
    ``attributes``/``_hash`` (users, items) and ``_reason``/``_column``/``_value``/``_raw``; a NULL
    ``_reason`` means the row is good. ``facts`` (by source column, ``chunk_facts``) are what this
    chunk's values were shown not to hold: the tests they make needless are left out."""
    positions = {name: i for i, name in enumerate(columns)}
    internal = [internal_name(i) for i in range(len(columns))]
    stage1: list[str] = ["_line", *(q(c) for c in internal)]
    if spec is not EVENTS:
        stage1.append(f"{attributes_sql(set(found.values()), columns, types)} AS _attributes")
    parsed: list[str] = ["_line", *(q(c) for c in internal)] + ([] if spec is EVENTS else ["_attributes"])
    checks: list[Check] = []
    present: set[str] = set()
    typed: dict[str, pa.DataType | None] = {}
    held: dict[str, frozenset[str]] = {}
    pre: dict[str, str] = {}  # readings computed once per row, in a layer between s1 and s2
    for col in spec.columns:
        expr, t = _source_expr(col, mapping, found, positions, types)
        typed[col.name] = t
        source = found.get(col.name)
        bare = source is not None and col.name not in mapping.expressions and col.name not in mapping.constants
        held[col.name] = (facts or {}).get(source or "", frozenset()) if bare else frozenset()
        v = f"v_{col.name}"
        if expr is None:
            stage1.append(f"CAST(NULL AS VARCHAR) AS {v}")
            sql_type = {"number": "DOUBLE", "integer": "DOUBLE", "timestamp": "TIMESTAMP",
                        "date": "DATE"}.get(col.kind, "VARCHAR")
            parsed.append(f"{v}, CAST(NULL AS {sql_type}) AS {col.name}")
            continue
        present.add(col.name)
        kind = col.kind
        if kind in ("id", "text", "event_type"):
            stage1.append(f"{_text(expr, t, kind, held[col.name])} AS {v}")
        elif _is_string(t):
            stage1.append(f"{_trimmed(expr, ENDS in held[col.name])} AS {v}")
        else:
            stage1.append(f"{expr} AS {v}")
        if kind == "id":
            parsed.append(f"{v}, {v} AS {col.name}")
        elif kind == "text":
            value = _translate(v, mapping.values.get(col.name, {}))
            if col.name == "gender":
                value = _gender(value)
            parsed.append(f"{v}, {value} AS {col.name}")
        elif kind == "event_type":
            parsed.append(f"{v}, coalesce(_vocab.t, lower({v})) AS {col.name}")
        elif kind in ("number", "integer"):
            parsed.append(f"{v}, {_number(v, t, mapping.read.decimal, pre)} AS {col.name}")
        elif kind == "timestamp":
            ts = _timestamp(v, t, mapping, ctx, fn, pre, _zone_free(held[col.name]))
            parsed.append(f"{v}, {ts} AS {col.name}")
        elif kind == "date":
            parsed.append(f"{v}, {_date(v, t)} AS {col.name}")
        else:  # pragma: no cover - the schema has no other kinds
            raise ConfigError(f"unknown column kind {kind}")

    rules = mapping.rules
    for col in spec.columns:
        v, name = f"v_{col.name}", col.name
        raw = f"CAST({v} AS VARCHAR)"
        guest_ok = spec is EVENTS and name == "user_id" and rules.guest_if_missing_user
        if col.required and col.kind == "id" and not guest_ok:
            checks.append(Check(f"{v} IS NULL", f"missing_{name}", name, "NULL"))
        if col.required and col.kind != "id":
            # also when a chunk lacks the column altogether (a JSON line without the key)
            checks.append(Check(f"{v} IS NULL", f"missing_{name}", name, "NULL"))
        if name not in present:
            continue
        if col.kind == "id" and NO_CONTROLS not in held[name]:
            controls = "[\\x00-\\x1f\\x7f-\\x9f\u2028\u2029]"  # C0, DEL, C1, line and paragraph separators
            checks.append(Check(f"(length({v}) > 512 OR regexp_matches({v}, '{controls}'))", "invalid_id", name, raw))
        elif col.kind == "event_type":
            checks.append(Check(f"{name} NOT IN ({', '.join(lit(e) for e in EVENT_TYPES)})",
                                "unknown_event_type", name, raw))
        elif col.kind == "timestamp":
            if _is_string(typed[name]) and not mapping.ts.unit and not mapping.ts.formats() \
                    and not _zone_free(held[name]):
                checks.append(Check(f"{name} IS NULL AND {_zoned(v)} AND {_zone_token(v)} IN "
                                    f"({', '.join(lit(a) for a in _AMBIGUOUS_ZONES)})", "ambiguous_ts_zone", name, raw))
            if mapping.ts.unit:
                checks.append(Check(f"TRY_CAST({v} AS DOUBLE) IS NULL", "unparseable_ts", name, raw))
            checks.append(Check(f"{name} IS NULL", "unparseable_ts", name, raw))
            checks.append(Check(
                f"{name} < CAST({lit(ctx.min_ts.isoformat(sep=' '))} AS TIMESTAMP) "
                f"OR {name} > CAST({lit(ctx.max_ts.isoformat(sep=' '))} AS TIMESTAMP)",
                "ts_out_of_range", name, raw))
        elif col.kind in ("number", "integer"):
            unread = f"{v} IS NOT NULL AND {name} IS NULL"
            if name == "age":
                checks.append(Check(unread, "invalid_age", name, raw))
                checks.append(Check(f"NOT (abs({name}) <= 120) OR {name} < 0 OR {name} <> floor({name})",
                                    "invalid_age", name, raw))
                continue
            if _is_string(typed[name]):
                checks.append(Check(f"{unread} AND {_ambiguous_number(v)}", "ambiguous_number", name, raw))
            checks.append(Check(unread, f"non_numeric_{name}", name, raw))
            checks.append(Check(f"NOT (abs({name}) <= {_MAX_DOUBLE})", "non_finite_number", name, raw))
            if name == "price" or not rules.refund_if_negative:
                checks.append(Check(f"{name} < 0", f"negative_{name}", name, raw))
        elif col.kind == "date":
            checks.append(Check(f"{v} IS NOT NULL AND {name} IS NULL", "unparseable_date", name, raw))
            low, high = ((ctx.min_ts.date(), ctx.max_ts.date()) if name != "birth_date"
                         else (datetime(1900, 1, 1).date(), ctx.now.date()))
            checks.append(Check(f"{name} < CAST({lit(low.isoformat())} AS DATE) OR "
                                f"{name} > CAST({lit(high.isoformat())} AS DATE)", "date_out_of_range", name, raw))

    # one pass over the conditions gives "reason|column"; the value is looked up from the column
    found_problem = ("CASE " + " ".join(f"WHEN {c.condition} THEN {lit(c.reason + '|' + c.column)}"
                                         for c in checks) + " END") if checks else "CAST(NULL AS VARCHAR)"
    values = {c.column: c.value for c in checks}
    value = ("CASE _column " + " ".join(f"WHEN {lit(k)} THEN {v}" for k, v in values.items()) + " END"
             if values else "CAST(NULL AS VARCHAR)")
    raw = (f"CAST({json_object_sql(list(zip(columns, internal, strict=True)))} AS VARCHAR)" if columns
           else "CAST(NULL AS VARCHAR)")

    vocab_join = ""
    if "event_type" in present:
        vocab = {**DEFAULT_EVENT_TYPES, **mapping.event_types}
        rows = ", ".join(f"({lit(k)}, {lit(t)})" for k, t in vocab.items())
        vocab_join = f" LEFT JOIN (VALUES {rows}) AS _vocab(k, t) ON lower(s1.v_event_type) = _vocab.k"
    layer = (f"s1 AS (SELECT *, {', '.join(f'{e} AS {n}' for n, e in pre.items())} FROM s0),\n" if pre else "")

    return (
        f"WITH {'s0' if pre else 's1'} AS (SELECT {', '.join(stage1)} FROM {q(relation)}),\n{layer}"
        f"s2 AS (SELECT {', '.join(parsed)} FROM s1{vocab_join}),\n"
        f"s3 AS (SELECT *, split_part(_problem, '|', 1) AS _reason, split_part(_problem, '|', 2) AS _column "
        f"FROM (SELECT *, {found_problem} AS _problem FROM s2) AS p),\n"
        f"s4 AS (SELECT *, CASE WHEN _reason <> '' THEN {value} END AS _value, "
        f"CASE WHEN _reason <> '' THEN {raw} END AS _raw FROM s3)\n"
        f"{_final_select(spec, mapping, fn, present)}"
    )


def _final_select(spec: TableSpec, mapping: Mapping, fn: EngineFunctions, present: set[str]) -> str:
    """The SELECT over ``s4`` giving the output columns: rules applied (refunds, absolute values,
    amount), identity (events) or row hash (users, items)."""
    rules = mapping.rules
    cols = [c.name for c in spec.columns]
    out: dict[str, str] = {c: c for c in cols}
    common = ["_line", "nullif(_reason, '') AS _reason", "nullif(_column, '') AS _column", "_value", "_raw"]
    if spec is not EVENTS:
        # users and items: attributes hold every source column the mapping did not use
        select = [f"{expr} AS {name}" for name, expr in out.items()]
        parts = ", ".join(f"coalesce(CAST({c} AS VARCHAR), '')" for c in [*cols, "_attributes"])
        row_hash = fn.hash_sql(f"concat_ws(chr(31), {parts})", 64)
        return f"SELECT {', '.join([*select, '_attributes AS attributes', f'{row_hash} AS _hash', *common])} FROM s4"
    negative = "(coalesce(quantity, 0) < 0 OR coalesce(amount, 0) < 0)"
    refund_conditions = []
    if rules.refund_if_negative:
        refund_conditions.append(negative)
    if rules.refund_if_order_prefix:
        refund_conditions.append(f"starts_with(order_id, {lit(rules.refund_if_order_prefix)})")
    if refund_conditions:
        out["event_type"] = (f"CASE WHEN event_type = 'purchase' AND ({' OR '.join(refund_conditions)}) "
                             f"THEN 'refund' ELSE event_type END")
    out["quantity"] = "abs(quantity)" if rules.refund_if_negative else "quantity"
    amount = "abs(amount)" if rules.refund_if_negative else "amount"
    out["amount"] = f"coalesce({amount}, price * coalesce(abs(quantity), 1))"
    # Three layers: the stored values (after the rules); the identity's text over them; its hash.
    # The text is what migration 0010 recomputes from the events table: each stored value as
    # text, joined by U+001F. It is hashed once per row (the engine's hash over one text column,
    # the source's event id or the content chosen inside the text), and the costly parts are
    # written so that they are computed once: the price's text (a derived amount of one unit is
    # the price, bit for bit, so the same text) and a quantity of 1.
    values = [f"{expr} AS {name}" for name, expr in out.items()]
    tail = ["_line", "_reason", "_column", "_value", "_raw"]
    price_text = "coalesce(CAST(price AS VARCHAR), '')"

    def text(c: str) -> str:
        if c == "price":
            return "_price_text"
        if c == "quantity":  # the text of 1.0 is the engine's own (a constant, folded once)
            return "CASE WHEN quantity = 1 THEN CAST(CAST(1 AS DOUBLE) AS VARCHAR) " \
                   "ELSE coalesce(CAST(quantity AS VARCHAR), '') END"
        if c == "amount" and "amount" not in present:
            # amount = price * coalesce(abs(quantity), 1); x * 1 is x exactly (IEEE 754), so the
            # text is the price's wherever the stored quantity is absent or 1
            if "quantity" not in present:
                return "_price_text"
            return "CASE WHEN quantity IS NULL OR quantity = 1 THEN _price_text " \
                   "ELSE coalesce(CAST(amount AS VARCHAR), '') END"
        return f"coalesce(CAST({c} AS VARCHAR), '')"

    content = f"concat_ws(chr(31), {', '.join(text(c) for c in cols if c != 'event_id')})"
    if rules.identity == "line" or "event_id" not in present:
        key_text = content  # repeated lines are told apart by their occurrence number when published
    else:
        key_text = f"CASE WHEN event_id IS NOT NULL THEN 'id:' || event_id ELSE {content} END"
    return (f"SELECT {', '.join(cols)}, {fn.hash_sql('_key_text', 128)} AS _key, {', '.join(tail)} FROM ("
            f"SELECT {', '.join(cols)}, {', '.join(tail)}, {key_text} AS _key_text FROM ("
            f"SELECT {', '.join(values)}, {', '.join(common)}, {price_text} AS _price_text FROM s4) AS r) AS k")


def json_object_sql(pairs: Sequence[tuple[str, str]]) -> str:
    """A JSON object of (key, internal column) pairs; keys are the source's names as written."""
    return "json_object(" + ", ".join(f"{lit(k)}, {q(c)}" for k, c in pairs) + ")"


def attributes_sql(used: set[str], columns: Sequence[str], types: dict[str, pa.DataType]) -> str:
    """JSON of the source columns that are not canonical, for users and items."""
    extra = [(c, internal_name(i)) for i, c in enumerate(columns) if c not in used]
    if not extra:
        return "CAST(NULL AS JSON)"
    return json_object_sql(extra)


# -- JSON lines -------------------------------------------------------------------------------------

JSON_PARSED = "TRY_CAST(_json AS JSON)"
JSON_OK = f"coalesce(json_type({JSON_PARSED}) = 'OBJECT', false)"
"""A line holding a JSON object."""
JSON_KEYS_SQL = f"SELECT DISTINCT unnest(json_keys({JSON_PARSED})) AS k FROM _json_chunk WHERE {JSON_OK}"
"""The keys of this chunk's objects (chunks may differ: a key absent from one line is NULL there)."""
JSON_BAD_SQL = f"SELECT _line, _json FROM _json_chunk WHERE NOT ({JSON_OK}) ORDER BY _line"
"""Lines that are not JSON objects: quarantined as malformed rows."""


def json_columns_sql(keys: Sequence[str]) -> str:
    """The chunk's objects as one text column per key (under the internal names, in the order of
    ``keys``), as a CSV file would give them: strings without quotes, numbers and booleans as
    written, nested values as JSON text. One parse per line."""
    if not keys:
        return f"SELECT _line FROM _json_chunk WHERE {JSON_OK}"
    paths = _list(["$." + json_key(k) for k in keys])
    cols = ", ".join(f"_v[{i + 1}] AS {q(internal_name(i))}" for i in range(len(keys)))
    return (f"SELECT _line, {cols} FROM (SELECT _line, json_extract_string({JSON_PARSED}, {paths}) AS _v "
            f"FROM _json_chunk WHERE {JSON_OK}) AS j")


def json_key(key: str) -> str:
    """A key as a JSON path step: quoted, so keys with dots, spaces or Chinese work."""
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
