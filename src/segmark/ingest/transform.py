"""The SQL that turns one chunk of source rows into canonical rows, each good or with a reason.

Pure: from a table spec, a mapping and the chunk's column types, build one SELECT over a relation
named ``_chunk`` (the source columns plus ``_line``). Every output row carries either the canonical,
typed values or the first problem found (``_reason``, ``_column``, ``_value``), so one pass both
validates and converts, and nothing is dropped. Validation order and reason codes are in
``REASONS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from segmark.errors import ConfigError, MissingColumnsError
from segmark.ingest.mapping import DEFAULT_EVENT_TYPES, Mapping
from segmark.schema import EVENT_TYPES, EVENTS, Column, TableSpec
from segmark.sql import ident as q
from segmark.sql import literal as lit

REASONS: dict[str, str] = {
    "malformed_row": "the row does not split into the file's columns",
    "missing_user_id": "empty user id",
    "missing_item_id": "empty item id",
    "missing_event_type": "empty event type",
    "unknown_event_type": "event type not in the vocabulary (add it to the mapping's [event_types])",
    "missing_ts": "empty timestamp",
    "unparseable_ts": "timestamp not understood (set [ts] unit or format in the mapping)",
    "ts_out_of_range": "timestamp outside the accepted range (settings: ingest.min_ts, max_future_days)",
    "non_numeric_price": "price is not a number",
    "negative_price": "price below zero",
    "non_numeric_quantity": "quantity is not a number",
    "negative_quantity": "quantity below zero (set rules.refund_if_negative if these are refunds)",
    "non_numeric_amount": "amount is not a number",
    "negative_amount": "amount below zero (set rules.refund_if_negative if these are refunds)",
    "unparseable_date": "date not understood",
    "invalid_age": "age is not a whole number between 0 and 120",
}
"""Every quarantine reason code with its explanation, in the order rows are checked."""

_GENDER = {
    "female": ("f", "female", "woman", "w", "女", "女性", "女士"),
    "male": ("m", "male", "man", "男", "男性", "先生"),
}
_SRC = "src__"  # prefix of the source columns carried through the plan for the raw row
_DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日"]
_TS_FORMATS = ["%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y%m%d%H%M%S",
               "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M"]


@dataclass(frozen=True)
class Context:
    """What the SQL needs besides the mapping: zone, accepted range and the file's identity."""

    timezone: str
    min_ts: datetime
    max_ts: datetime
    content_hash: str


def _list(values: list[str]) -> str:
    return "[" + ", ".join(lit(v) for v in values) + "]"


def resolve_columns(spec: TableSpec, mapping: Mapping, available: list[str],
                    where: str, *, require: bool = True) -> dict[str, str]:
    """Source column for each canonical column found; with ``require``, raises before anything is
    written when a required one is missing. Returns {canonical: source column}."""
    lower = {c.lower(): c for c in available}
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
        raise MissingColumnsError(
            f"{where}: required column(s) missing: {wanted}. Columns in the file: {', '.join(available)}. "
            "Rename them with a mapping file (--mapping MAP.toml, [columns]) — nothing was written."
        )
    return found


# -- per-kind expressions ------------------------------------------------------------------------


def _is_string(t: pa.DataType | None) -> bool:
    return t is None or pa.types.is_string(t) or pa.types.is_large_string(t)


def _text(x: str, t: pa.DataType | None, kind: str) -> str:
    if _is_string(t):
        return f"nullif(trim({x}), '')"
    if kind == "id" and t is not None and pa.types.is_floating(t):
        # ids exported as floats (17850.0) read back as the integers they are
        return (f"CASE WHEN {x} = floor({x}) AND abs({x}) < 9e15 THEN CAST(CAST({x} AS BIGINT) AS VARCHAR) "
                f"ELSE CAST({x} AS VARCHAR) END")
    return f"nullif(trim(CAST({x} AS VARCHAR)), '')"


def _number(v: str, t: pa.DataType | None) -> str:
    if t is not None and (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)):
        return f"CAST({v} AS DOUBLE)"
    # plain numbers first; only the rest may carry a currency sign or thousands separators: "¥1,299.00"
    return (f"coalesce(TRY_CAST({v} AS DOUBLE), "
            f"TRY_CAST(replace(regexp_replace({v}, '^[¥￥$€£]\\s*', ''), ',', '') AS DOUBLE))")


def _local_to_utc(x: str, tz: str) -> str:
    if tz == "UTC":
        return x
    return f"timezone('UTC', timezone({lit(tz)}, {x}))"


def _timestamp(v: str, t: pa.DataType | None, mapping: Mapping, ctx: Context) -> str:
    tz = mapping.ts.timezone or ctx.timezone
    unit = mapping.ts.unit
    if t is not None and pa.types.is_timestamp(t):
        if t.tz:
            return f"timezone('UTC', CAST({v} AS TIMESTAMPTZ))"
        return _local_to_utc(f"CAST({v} AS TIMESTAMP)", tz)
    if t is not None and pa.types.is_date(t):
        return _local_to_utc(f"CAST({v} AS TIMESTAMP)", tz)
    if t is not None and (pa.types.is_integer(t) or pa.types.is_floating(t)):
        return _epoch(f"CAST({v} AS DOUBLE)", unit)
    if unit:
        return _epoch(f"TRY_CAST({v} AS DOUBLE)", unit)
    if mapping.ts.format:
        fmts = mapping.ts.format if isinstance(mapping.ts.format, list) else [mapping.ts.format]
        return _local_to_utc(f"try_strptime({v}, {_list(fmts)})", tz)
    # No unit, no format: unix seconds or milliseconds (by magnitude; 14 digits are YYYYMMDDHHMMSS, not
    # unix time), ISO with an offset, then
    # local date-times (ISO and a few common layouts). Cheap tests first: this runs on every row.
    number = f"TRY_CAST({v} AS DOUBLE)"
    has_offset = (f"(length({v}) > 16 AND (right({v}, 1) IN ('Z', 'z') OR substr({v}, -6, 1) IN ('+', '-') "
                  f"OR substr({v}, -5, 1) IN ('+', '-')))")
    local = f"coalesce(TRY_CAST({v} AS TIMESTAMP), try_strptime({v}, {_list(_TS_FORMATS)}))"
    return (
        f"CASE WHEN abs({number}) >= 1e8 AND abs({number}) < 1e13 THEN {_epoch(number, None)} "
        f"WHEN {has_offset} THEN timezone('UTC', TRY_CAST({v} AS TIMESTAMPTZ)) "
        f"ELSE {_local_to_utc(local, tz)} END"
    )


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
    return f"CAST(coalesce(TRY_CAST({v} AS DATE), try_strptime({v}, {_list(_DATE_FORMATS)})) AS DATE)"


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


# -- the plan -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    condition: str
    reason: str
    column: str
    value: str


def _source_expr(col: Column, mapping: Mapping, found: dict[str, str],
                 types: dict[str, pa.DataType]) -> tuple[str | None, pa.DataType | None]:
    """The raw expression for a canonical column and its Arrow type (None: text or unknown)."""
    if col.name in mapping.expressions:
        # the result's type is unknown here: read it as text, like a CSV field
        return f"CAST(({mapping.expressions[col.name]}) AS VARCHAR)", None
    if col.name in mapping.constants:
        return lit(mapping.constants[col.name]), None
    src = found.get(col.name)
    if src is None or src not in types:
        return None, None
    return q(src), types[src]


def plan_sql(spec: TableSpec, mapping: Mapping, found: dict[str, str],
             types: dict[str, pa.DataType], ctx: Context) -> str:
    """One SELECT over ``_chunk`` giving canonical columns, ``_line``, ``_key`` (events) or
    ``attributes``/``_hash`` (users, items) and ``_reason``/``_column``/``_value``; a NULL
    ``_reason`` means the row is good."""
    raw_cols = [c for c in types if c != "_line"]
    stage1: list[str] = ["_line"] + [f"{q(c)} AS {q(_SRC + c)}" for c in raw_cols]
    if spec is not EVENTS:
        stage1.append(f"{attributes_sql(set(found.values()), types)} AS _attributes")
    parsed: list[str] = ["_line", *(q(_SRC + c) for c in raw_cols)] + ([] if spec is EVENTS else ["_attributes"])
    checks: list[Check] = []
    present: set[str] = set()
    for col in spec.columns:
        expr, t = _source_expr(col, mapping, found, types)
        v = f"v_{col.name}"
        if expr is None:
            stage1.append(f"NULL::VARCHAR AS {v}")
            typed = {"number": "NULL::DOUBLE", "integer": "NULL::DOUBLE", "timestamp": "NULL::TIMESTAMP",
                     "date": "NULL::DATE"}.get(col.kind, "NULL::VARCHAR")
            parsed.append(f"{v}, {typed} AS {col.name}")
            continue
        present.add(col.name)
        kind = col.kind
        if kind in ("id", "text", "event_type"):
            stage1.append(f"{_text(expr, t, kind)} AS {v}")
        elif _is_string(t):
            stage1.append(f"nullif(trim({expr}), '') AS {v}")
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
            parsed.append(f"{v}, {_number(v, t)} AS {col.name}")
        elif kind == "timestamp":
            parsed.append(f"{v}, {_timestamp(v, t, mapping, ctx)} AS {col.name}")
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
        if col.kind == "event_type":
            checks.append(Check(f"{name} NOT IN ({', '.join(lit(e) for e in EVENT_TYPES)})",
                                "unknown_event_type", name, raw))
        elif col.kind == "timestamp":
            checks.append(Check(f"{name} IS NULL", "unparseable_ts", name, raw))
            checks.append(Check(
                f"{name} < {lit(ctx.min_ts.isoformat(sep=' '))}::TIMESTAMP "
                f"OR {name} > {lit(ctx.max_ts.isoformat(sep=' '))}::TIMESTAMP",
                "ts_out_of_range", name, raw))
        elif col.kind in ("number", "integer"):
            checks.append(Check(f"{v} IS NOT NULL AND {name} IS NULL",
                                "invalid_age" if name == "age" else f"non_numeric_{name}", name, raw))
            if name == "age":
                checks.append(Check(f"{name} < 0 OR {name} > 120 OR {name} <> floor({name})",
                                    "invalid_age", name, raw))
            elif name == "price" or not rules.refund_if_negative:
                checks.append(Check(f"{name} < 0", f"negative_{name}", name, raw))
        elif col.kind == "date":
            checks.append(Check(f"{v} IS NOT NULL AND {name} IS NULL", "unparseable_date", name, raw))

    # one pass over the conditions gives "reason|column"; the value is looked up from the column
    found_problem = ("CASE " + " ".join(f"WHEN {c.condition} THEN {lit(c.reason + '|' + c.column)}"
                                         for c in checks) + " END") if checks else "NULL::VARCHAR"
    values = {c.column: c.value for c in checks}
    value = ("CASE _column " + " ".join(f"WHEN {lit(k)} THEN {v}" for k, v in values.items()) + " END"
             if values else "NULL::VARCHAR")
    raw = ("to_json(struct_pack(" + ", ".join(f"{q(c)} := {q(_SRC + c)}" for c in raw_cols) + "))::VARCHAR"
           if raw_cols else "NULL::VARCHAR")

    vocab_join = ""
    if "event_type" in present:
        vocab = {**DEFAULT_EVENT_TYPES, **mapping.event_types}
        rows = ", ".join(f"({lit(k)}, {lit(t)})" for k, t in vocab.items())
        vocab_join = f" LEFT JOIN (VALUES {rows}) AS _vocab(k, t) ON lower(s1.v_event_type) = _vocab.k"

    final = _final_columns(spec, mapping, ctx)
    return (
        f"WITH s1 AS (SELECT {', '.join(stage1)} FROM _chunk),\n"
        f"s2 AS (SELECT {', '.join(parsed)} FROM s1{vocab_join}),\n"
        f"s3 AS (SELECT *, split_part(_problem, '|', 1) AS _reason, split_part(_problem, '|', 2) AS _column "
        f"FROM (SELECT *, {found_problem} AS _problem FROM s2)),\n"
        f"s4 AS (SELECT *, CASE WHEN _reason <> '' THEN {value} END AS _value, "
        f"CASE WHEN _reason <> '' THEN {raw} END AS _raw FROM s3)\n"
        f"SELECT {final} FROM s4"
    )


def _final_columns(spec: TableSpec, mapping: Mapping, ctx: Context) -> str:
    """Output columns: rules applied (refunds, absolute values, amount), identity and row hash."""
    rules = mapping.rules
    cols = [c.name for c in spec.columns]
    out: dict[str, str] = {c: c for c in cols}
    common = ["_line", "nullif(_reason, '') AS _reason", "nullif(_column, '') AS _column", "_value", "_raw"]
    if spec is EVENTS:
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
        if rules.identity == "line":
            key = f"md5_number({lit(ctx.content_hash + ':')} || CAST(_line AS VARCHAR))"
        else:
            parts = ", ".join(f"coalesce(CAST({c} AS VARCHAR), '')" for c in cols if c != "event_id")
            key = (f"CASE WHEN event_id IS NOT NULL THEN md5_number('id:' || event_id) "
                   f"ELSE md5_number(concat_ws(chr(31), {parts})) END")
        select = [f"{expr} AS {name}" for name, expr in out.items()]
        return ", ".join([*select, f"{key} AS _key", *common])
    # users and items: attributes hold every source column the mapping did not use
    select = [f"{expr} AS {name}" for name, expr in out.items()]
    parts = ", ".join(f"coalesce(CAST({c} AS VARCHAR), '')" for c in [*cols, "_attributes"])
    return ", ".join([*select, "_attributes AS attributes", f"hash(concat_ws(chr(31), {parts})) AS _hash",
                      *common])


def attributes_sql(used: set[str], types: dict[str, pa.DataType]) -> str:
    """JSON of the source columns that are not canonical, for users and items."""
    extra = [c for c in types if c not in used and c != "_line"]
    if not extra:
        return "NULL::JSON"
    return "to_json(struct_pack(" + ", ".join(f"{q(c)} := {q(c)}" for c in extra) + "))"


# -- JSON lines -------------------------------------------------------------------------------------

JSON_OK = "coalesce(CASE WHEN json_valid(_json) THEN json_type(_json::JSON) = 'OBJECT' END, false)"
"""A line holding a JSON object (CASE, because AND does not stop DuckDB casting invalid text)."""
JSON_KEYS_SQL = f"SELECT DISTINCT unnest(json_keys(_json::JSON)) FROM _json_chunk WHERE {JSON_OK}"
"""The keys of this chunk's objects (chunks may differ: a key absent from one line is NULL there)."""
JSON_BAD_SQL = f"SELECT _line, _json FROM _json_chunk WHERE NOT ({JSON_OK}) ORDER BY _line"
"""Lines that are not JSON objects: quarantined as malformed rows."""


def json_columns_sql(keys: list[str]) -> str:
    """The chunk's objects as one text column per key, as a CSV file would give them: strings without
    quotes, numbers and booleans as written, nested values as JSON text. One parse per line."""
    if not keys:
        return f"SELECT _line FROM _json_chunk WHERE {JSON_OK}"
    paths = _list(["$." + json_key(k) for k in keys])
    cols = ", ".join(f"_v[{i}] AS {q(k)}" for i, k in enumerate(keys, start=1))
    return (f"SELECT _line, {cols} FROM (SELECT _line, json_extract_string(_json::JSON, {paths}) AS _v "
            f"FROM _json_chunk WHERE {JSON_OK})")


def json_key(key: str) -> str:
    """A key as a JSON path step: quoted, so keys with dots, spaces or Chinese work."""
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
