"""Compose the family definitions into one query that yields the whole feature table.

Pure: parameters in, SQL text out. Each family file is a Jinja template whose body is a series of
``-- section: NAME`` SELECTs, each producing ``user_id`` and some of the family's columns. A
section reads one of three things:

- a shared relation of ``base.sql`` (or the ``users`` table) as ``SELECT user_id, <expressions>
  FROM rel [GROUP BY user_id]`` — every such section over the same relation, from every family
  and every user-defined feature, is fused into a single SELECT, so the events are scanned and
  grouped once however many families read them;
- ``features`` — the joined per-user values: its expressions (ratios of other columns, labels)
  are computed in the final projection;
- anything else (joins, filters, subqueries) — kept as its own CTE.

Columns whose name starts with ``_`` are intermediate values for a later expression and do not
reach the table. The result is checked against the headers: every declared column is produced
exactly once, and nothing undeclared is.

The text is DuckDB's dialect; ``FeatureQuery.to_dialect("spark")`` transpiles it with SQLGlot,
which is how the same definitions run on a cluster engine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import jinja2
import sqlglot
from sqlglot import exp

from segmark.config import DEFAULT_AGE_BANDS, AgeBand, CustomFeature, FeatureSettings
from segmark.features.catalog import FeatureColumn, base_template, families
from segmark.features.custom import custom_columns, custom_section_sql
from segmark.sql import ident, literal

DIALECT = "duckdb"
DERIVED_SOURCE = "features"
"""The relation name a section reads to compute from the other columns of the same user."""

WEEKDAY_BANDS: dict[str, dict[str, str]] = {
    "en": {"weekday": "weekday", "weekend": "weekend"},
    "zh": {"weekday": "工作日", "weekend": "周末"},
}
"""The values of ``preferred_weekday_band`` in each workspace language."""

_SECTION = re.compile(r"^--\s*section:\s*(\w+)\s*$", re.MULTILINE)
_RELATION = re.compile(r"^--\s*relation:\s*(\w+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class BuildParams:
    """Everything the feature query depends on; ``as_of`` is naive UTC, events strictly before it."""

    as_of: datetime
    timezone: str = "UTC"
    windows: tuple[int, ...] = (7, 30, 90, 365)
    session_gap_minutes: int = 30
    top_categories: tuple[str, ...] = ()
    """Category values that get a share column, most active first."""
    age_bands: tuple[AgeBand, ...] = DEFAULT_AGE_BANDS
    lang: str = "en"
    custom: Mapping[str, CustomFeature] = field(default_factory=dict)
    data_start: datetime | None = None
    """The earliest event (UTC): local times need the zone's offsets from here to as_of only."""

    @classmethod
    def from_settings(cls, settings: FeatureSettings, *, as_of: datetime, timezone: str, lang: str,
                      top_categories: Sequence[str] = (), windows: Sequence[int] | None = None,
                      data_start: datetime | None = None) -> BuildParams:
        return cls(
            as_of=as_of, timezone=timezone,
            windows=tuple(sorted(set(windows or settings.windows))),
            session_gap_minutes=settings.session_gap_minutes,
            top_categories=tuple(top_categories), age_bands=tuple(settings.age_bands),
            lang=lang, custom=dict(settings.custom), data_start=data_start,
        )

    @property
    def as_of_local(self) -> datetime:
        """as_of on the shop's wall clock (naive)."""
        return self.as_of.replace(tzinfo=UTC).astimezone(ZoneInfo(self.timezone)).replace(tzinfo=None)


@dataclass(frozen=True)
class FeatureQuery:
    """The composed query and the catalog of the columns it yields, in table order."""

    sql: str
    columns: tuple[FeatureColumn, ...]
    relations: Mapping[str, str]
    """Each shared relation's SELECT (DuckDB dialect), by name."""

    def to_dialect(self, dialect: str) -> str:
        """The query in another engine's SQL dialect (e.g. ``"spark"``).

        DuckDB's ``NOT MATERIALIZED`` hint is dropped: other engines plan shared CTEs themselves.
        """
        tree = sqlglot.parse_one(self.sql, read=DIALECT)
        for cte in tree.find_all(exp.CTE):
            cte.set("materialized", None)
        return tree.sql(dialect=dialect, unsupported_level=sqlglot.ErrorLevel.RAISE)


def category_columns(categories: Sequence[str], prefix: str = "cat_share__") -> list[tuple[str, str]]:
    """(column name, category value) for each top category: ``<prefix><lowercased, \\w only>``."""
    out: list[tuple[str, str]] = []
    used: set[str] = set()
    for value in categories:
        slug = re.sub(r"\W+", "_", str(value).strip().lower()).strip("_") or "blank"
        name, n = f"{prefix}{slug}", 2
        while name in used:
            name, n = f"{prefix}{slug}_{n}", n + 1
        used.add(name)
        out.append((name, value))
    return out


def expected_columns(params: BuildParams) -> list[FeatureColumn]:
    """The catalog for these parameters: templates expanded per window and top category."""
    columns: list[FeatureColumn] = []
    for family in families():
        for col in family.columns:
            if "{W}" in col.name:
                columns.extend(col.expand(W=w) for w in params.windows)
            elif "{category}" in col.name:
                if not col.name.endswith("{category}"):
                    raise ValueError(f"{col.family}.sql: {col.name}: {{category}} must end the column name")
                cats = category_columns(params.top_categories, prefix=col.name.removesuffix("{category}"))
                columns.extend(replace(col.expand(category=value), name=name) for name, value in cats)
            else:
                columns.append(col)
    columns.extend(custom_columns(params.custom, ["user_id", *(c.name for c in columns)]))
    return columns


def sql_string(value: object) -> str:
    """A SQL string literal."""
    return literal(str(value))


def _timestamp(value: datetime) -> str:
    return f"TIMESTAMP '{value.isoformat(sep=' ')}'"


def _epoch(value: datetime) -> float:
    """Seconds since 1970 of a naive timestamp read as UTC (for local times: wall-clock seconds)."""
    return value.replace(tzinfo=UTC).timestamp()


def utc_offsets(timezone: str, start: datetime, end: datetime) -> list[tuple[int, int]]:
    """The zone's UTC offsets over [start, end] (naive UTC): (from epoch second, offset seconds).

    The first entry starts at ``start``; one more for each change (daylight saving, a new law).
    Found by daily steps and bisection to the second, so no zone database is needed at query time.
    """
    zone = ZoneInfo(timezone)

    def offset(epoch: int) -> int:
        delta = datetime.fromtimestamp(epoch, zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    lo_t, hi_t = int(_epoch(start)), int(_epoch(end))
    changes = [(lo_t, offset(lo_t))]
    t = lo_t
    while t < hi_t:
        nxt = min(t + 86400, hi_t)
        if offset(nxt) != offset(t):
            lo, hi = t, nxt
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if offset(mid) == offset(lo) else (lo, mid)
            changes.append((hi, offset(hi)))
        t = nxt
    return changes


def local_epoch_sql(timezone: str, start: datetime | None, end: datetime, column: str = "ts") -> str:
    """Seconds since 1970 of ``column`` on the shop's wall clock, as plain arithmetic.

    ``epoch(ts) + offset``, the offset chosen by a CASE over the zone's changes in the data's
    span: no time-zone database at query time, the same on every engine, and far cheaper per row
    than a zone conversion.
    """
    t = f"epoch({column})"
    changes = utc_offsets(timezone, start or end, end)
    if len(changes) == 1:
        return t if changes[0][1] == 0 else f"({t} + {changes[0][1]})"
    whens = " ".join(f"WHEN {t} < {bound} THEN {offset}"
                     for (bound, _), (_, offset) in zip(changes[1:], changes, strict=False))
    return f"({t} + CASE {whens} ELSE {changes[-1][1]} END)"


def _context(params: BuildParams) -> dict[str, object]:
    local = params.as_of_local
    local_t = local_epoch_sql(params.timezone, params.data_start, params.as_of)
    return {
        "as_of_sql": _timestamp(params.as_of),
        "as_of_epoch": repr(_epoch(params.as_of)),
        "as_of_local_sql": _timestamp(local),
        "as_of_local_epoch": repr(_epoch(local)),
        "as_of_year": local.year,
        "as_of_month_day": local.month * 100 + local.day,
        "local_t": local_t,
        "session_gap_seconds": params.session_gap_minutes * 60,
        "windows": list(params.windows),
        "top_categories": category_columns(params.top_categories),
        "spend_categories": category_columns(params.top_categories, prefix="spend_share__"),
        "age_bands": [{"min": b.min, "label": b.zh if params.lang == "zh" else b.en}
                      for b in params.age_bands],
        "weekday_bands": WEEKDAY_BANDS["zh" if params.lang == "zh" else "en"],
    }


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False,
                             keep_trailing_newline=True)
    env.filters["sql_string"] = sql_string
    return env


def _split(text: str, marker: re.Pattern[str]) -> list[tuple[str, str]]:
    """(name, body) for each ``-- section:`` / ``-- relation:`` block of a rendered file."""
    found = list(marker.finditer(text))
    return [(m.group(1), text[m.end(): found[i + 1].start() if i + 1 < len(found) else len(text)])
            for i, m in enumerate(found)]


@dataclass
class _Section:
    name: str
    family: str
    tree: exp.Select
    source: str | None
    grouped: bool

    @property
    def outputs(self) -> list[exp.Expression]:
        return [p for p in self.tree.selects if p.alias_or_name != "user_id"]


def _parse_section(name: str, family: str, sql: str) -> _Section:
    try:
        tree = sqlglot.parse_one(sql, read=DIALECT)
    except sqlglot.errors.SqlglotError as exc:
        raise ValueError(f"section {name} of {family}: {exc}") from None
    if not isinstance(tree, exp.Select):
        raise ValueError(f"section {name} of {family}: must be one SELECT")
    if "user_id" not in [p.alias_or_name for p in tree.selects]:
        raise ValueError(f"section {name} of {family}: must select user_id")
    for p in tree.selects:
        if p.alias_or_name != "user_id" and not isinstance(p, exp.Alias | exp.Column):
            raise ValueError(f"section {name} of {family}: name every column ({p.sql(DIALECT)})")
    return _Section(name, family, tree, *_shape(tree))


def _shape(tree: exp.Select) -> tuple[str | None, bool]:
    """(relation, grouped by user_id) when the section can be fused, else (None, False)."""
    source = tree.args.get("from_") or tree.args.get("from")
    table = source.this if source is not None else None
    extras = ("joins", "where", "having", "qualify", "with", "distinct", "order", "limit", "windows")
    if not isinstance(table, exp.Table) or table.args.get("alias") or any(tree.args.get(k) for k in extras):
        return None, False
    group = tree.args.get("group")
    if group is None:
        return table.name, False
    keys = group.expressions
    if len(keys) == 1 and isinstance(keys[0], exp.Column) and keys[0].name == "user_id":
        return table.name, True
    return None, False


def _final(column: FeatureColumn, expr: str) -> str:
    if column.kind == "count":
        return f"CAST(coalesce({expr}, 0) AS BIGINT)"
    if column.kind == "sum":  # unknown (NULL) for everyone when the shop's purchases carry no amounts
        return f"CASE WHEN s.amounts_known THEN CAST(coalesce({expr}, 0) AS DOUBLE) END"
    if column.kind == "number":
        return f"CAST({expr} AS DOUBLE)"
    return f"CAST({expr} AS VARCHAR)"


def compose(params: BuildParams) -> FeatureQuery:
    """The feature table as one query over ``events`` and ``users`` for these parameters."""
    env = _environment()
    context = _context(params)
    relations = {name: body.strip() for name, body in
                 _split(env.from_string(base_template()).render(context), _RELATION)}

    columns = expected_columns(params)  # checks the user-defined features first
    sections: list[_Section] = []
    for family in families():
        rendered = env.from_string(family.template).render(context)
        sections += [_parse_section(n, family.name, body) for n, body in _split(rendered, _SECTION)]
    for name, spec in params.custom.items():
        sections.append(_parse_section(f"custom_{name}", "custom", custom_section_sql(name, spec.sql)))

    _check_outputs(sections, columns)

    ctes: list[tuple[str, str]] = list(relations.items())
    joined_from: list[tuple[str, list[str]]] = []  # (cte, its output columns)
    derived: dict[str, str] = {}
    fused: dict[tuple[str, bool], list[_Section]] = {}
    for s in sections:
        if s.source == DERIVED_SOURCE:
            if s.grouped:
                raise ValueError(f"section {s.name}: a section over {DERIVED_SOURCE} cannot GROUP BY")
            derived.update({p.alias_or_name: p.unalias().sql(DIALECT) for p in s.outputs})
        elif s.source is not None:
            fused.setdefault((s.source, s.grouped), []).append(s)
        else:
            ctes.append((s.name, s.tree.sql(DIALECT)))
            joined_from.append((s.name, [p.alias_or_name for p in s.outputs]))
    for (source, grouped), group in fused.items():
        outputs = [p for s in group for p in s.outputs]
        body = ("SELECT user_id, " + ", ".join(p.sql(DIALECT) for p in outputs) + f" FROM {source}"
                + (" GROUP BY user_id" if grouped else ""))
        name = f"{source}_by_user" if grouped else f"{source}_per_user"
        ctes.append((name, body))
        joined_from.insert(0, (name, [p.alias_or_name for p in outputs]))

    # The users: those with events (the sections grouping ev) and those on file by as_of. A full
    # join rather than a union keeps ev_by_user read once, so it is never held in memory whole.
    base = [j for j in joined_from if j[0] == "ev_by_user"]
    if not base:
        raise ValueError("no section groups ev by user_id: the users with events come from it")
    others = [j for j in joined_from if j[0] != "ev_by_user"]
    select = ["coalesce(e.user_id, k.user_id) AS user_id"] + [f"e.{ident(c)} AS {ident(c)}" for c in base[0][1]]
    joins = ["FROM ev_by_user AS e FULL JOIN known_users AS k ON k.user_id = e.user_id"]
    for i, (cte, outs) in enumerate(others):
        select += [f"j{i}.{ident(c)} AS {ident(c)}" for c in outs]
        joins.append(f"LEFT JOIN {cte} AS j{i} ON j{i}.user_id = coalesce(e.user_id, k.user_id)")
    ctes.append(("joined", f"SELECT {', '.join(select)} " + " ".join(joins)))

    final = ["user_id"] + [
        f"{_final(c, derived.get(c.name, ident(c.name)))} AS {ident(c.name)}" for c in columns
    ]
    # ev is read by several sections; scanning the events again for each is cheaper than holding
    # all of them in memory (DuckDB would materialise a CTE read more than once).
    sql = ("WITH " + ",\n".join(f"{name} AS {'NOT MATERIALIZED ' if name == 'ev' else ''}(\n{body}\n)"
                                 for name, body in ctes)
           + "\nSELECT " + ",\n    ".join(final) + "\nFROM joined CROSS JOIN shop_amounts AS s")
    return FeatureQuery(sql=sql, columns=tuple(columns), relations=relations)


def _check_outputs(sections: list[_Section], columns: list[FeatureColumn]) -> None:
    """Every declared column produced once; nothing undeclared; intermediate names unique."""
    seen: dict[str, str] = {}
    for s in sections:
        for p in s.outputs:
            name = p.alias_or_name
            if name in seen:
                raise ValueError(f"column {name} is produced by both {seen[name]} and {s.name}")
            seen[name] = s.name
    produced = {n for n in seen if not n.startswith("_")}
    declared = {c.name for c in columns}
    if produced != declared:
        raise ValueError(
            f"definitions and headers disagree: undeclared {sorted(produced - declared)}, "
            f"not produced {sorted(declared - produced)}"
        )


def top_categories_sql(as_of: datetime, limit: int) -> str:
    """The shop's most active categories before as_of (by interest events), for the share columns."""
    return (
        "SELECT category FROM events "
        f"WHERE user_id IS NOT NULL AND ts < {_timestamp(as_of)} AND category IS NOT NULL "
        "AND event_type NOT IN ('refund', 'remove_cart') "
        f"GROUP BY category ORDER BY count(*) DESC, category LIMIT {int(limit)}"
    )
