"""The features step: compose the catalog's query, run it in the store, keep the result per run.

``build_features`` resolves ``as_of`` (given, or the day after the last event on the shop's
calendar — never the wall clock), finds the shop's top categories, composes one query from the
definition files and writes table ``features_run_<run_id>`` together with the run's catalog, all
in one transaction. ``load_features`` is how every later step (segments, tags, predictions) reads
a build.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from segmark.errors import ConfigError, InputError, NotFoundError, NotReadyError, StoreError
from segmark.features.catalog import FeatureColumn
from segmark.features.compose import BuildParams, FeatureQuery, compose, top_categories_sql
from segmark.features.custom import custom_section_sql
from segmark.features.labels import feature_label
from segmark.features.summary import summary_frame, summary_sql, top_value_sql
from segmark.localtime import from_text
from segmark.store.base import Capability, Store, require, utc_now
from segmark.workspace import Workspace

STEP = "features"


@dataclass(frozen=True)
class FeatureRun:
    """One feature build: which run, as of when, and what its table holds."""

    run_id: int
    as_of: datetime
    """UTC (naive): the build counts only events strictly before it."""
    windows: tuple[int, ...]
    created_at: datetime
    as_of_local: datetime
    """The same instant on the shop's wall clock (``time.timezone``)."""
    timezone: str
    table_name: str
    n_users: int
    n_events: int
    columns: tuple[FeatureColumn, ...] = ()

    def column(self, name: str) -> FeatureColumn:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def parse_as_of(value: str | date | datetime, timezone: str) -> datetime:
    """A cutoff in UTC (naive) from a date or a local date-time on the shop's clock.

    A date means the start of that day in ``timezone``; a naive date-time is local; an aware
    one is converted.
    """
    if isinstance(value, str):
        text = value.strip()
        try:
            value = from_text(text)
        except ValueError:
            raise InputError(f"as-of {text!r} is not a date (YYYY-MM-DD) or date-time "
                             "(YYYY-MM-DDTHH:MM)") from None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return value.astimezone(UTC).replace(tzinfo=None)


def default_as_of(store: Store, timezone: str) -> datetime:
    """The start of the day after the last event, on the shop's calendar, in UTC."""
    last = store.scalar("SELECT max(ts) FROM events")
    if last is None:
        raise NotReadyError("no events in the store: run `segmark ingest events FILE` first")
    local_day = last.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone)).date()
    return parse_as_of(local_day + timedelta(days=1), timezone)


def plan_features(ws: Workspace, as_of: str | date | datetime | None = None,
                  windows: list[int] | None = None) -> tuple[BuildParams, FeatureQuery]:
    """The parameters and the composed query of a build, without running it."""
    settings = ws.settings
    tz = settings.time.timezone
    cutoff = parse_as_of(as_of, tz) if as_of is not None else default_as_of(ws.store, tz)
    if windows is not None and (not windows or any(w <= 0 for w in windows)):
        raise ConfigError("windows: give positive day counts, e.g. 7,30,90,365")
    top: list[str] = []
    if settings.features.top_categories:
        top = [r[0] for r in ws.store.query_rows(top_categories_sql(cutoff, settings.features.top_categories))]
    start = ws.store.scalar("SELECT min(ts) FROM events WHERE ts < ?", [cutoff])
    params = BuildParams.from_settings(settings.features, as_of=cutoff, timezone=tz, lang=settings.lang,
                                       top_categories=top, windows=windows, data_start=start)
    query = compose(params)
    _check_custom(ws.store, params, query)
    return params, query


def _check_custom(store: Store, params: BuildParams, query: FeatureQuery) -> None:
    """Bind each user-defined feature against the store; a bad one is a ConfigError naming it."""
    for name, spec in params.custom.items():
        probe = (f"WITH ev AS ({query.relations['ev']} LIMIT 0) "
                 + custom_section_sql(name, spec.sql))
        try:
            store.query_rows(probe)
        except StoreError as exc:
            first = str(exc).splitlines()[0]
            hint = (" (it must aggregate the user's events, e.g. sum(...), count(...), avg(...))"
                    if "GROUP BY" in str(exc) else "")
            raise ConfigError(f"features.custom.{name}: {first}{hint}") from None


def build_features(ws: Workspace, as_of: str | date | datetime | None = None,
                   windows: list[int] | None = None) -> FeatureRun:
    """Compute and store the feature table as of ``as_of``; returns the new run."""
    started = utc_now()
    params, query = plan_features(ws, as_of, windows)
    store = ws.store
    run_id = store.next_run_id()
    table = f"features_run_{run_id}"
    run_params = {"windows": list(params.windows), "timezone": params.timezone,
                  "session_gap_minutes": params.session_gap_minutes,
                  "top_categories": list(params.top_categories), "lang": params.lang,
                  "custom": {k: v.sql for k, v in params.custom.items()}}
    try:
        with store.atomic():
            n_users = store.create_table_as(table, query.sql)
            n_events = int(store.scalar(
                "SELECT count(*) FROM events WHERE user_id IS NOT NULL AND ts < ?", [params.as_of]))
            created = utc_now()
            store.execute(
                "INSERT INTO feature_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, params.as_of, params.as_of_local, params.timezone, json.dumps(list(params.windows)),
                 table, n_users, n_events, json.dumps(run_params, ensure_ascii=False), query.sql, created],
            )
            store.insert("feature_columns", pd.DataFrame(
                [[run_id, i, c.name, c.family, c.kind, c.unit, c.label_zh, c.description, c.template]
                 for i, c in enumerate(query.columns, start=1)],
                columns=["run_id", "position", "name", "family", "kind", "unit", "label_zh", "description",
                         "template"]))
            store.record_run(run_id, STEP, "ok", started_at=started, as_of=params.as_of,
                             params=run_params, metrics={"users": n_users, "events": n_events,
                                                         "columns": len(query.columns)})
    except (Exception, KeyboardInterrupt) as exc:
        store.record_run(run_id, STEP, "failed", started_at=started, as_of=params.as_of,
                         params=run_params, message=str(exc) or type(exc).__name__)
        raise
    return FeatureRun(run_id, params.as_of, params.windows, created, params.as_of_local, params.timezone,
                      table, n_users, n_events, query.columns)


def list_feature_runs(store: Store) -> list[FeatureRun]:
    """Every stored build, newest first."""
    rows = store.query_rows(
        "SELECT run_id, as_of, windows, created_at, as_of_local, timezone, table_name, n_users, n_events "
        "FROM feature_runs ORDER BY run_id DESC"
    )
    return [FeatureRun(r[0], r[1], tuple(json.loads(r[2])), r[3], r[4], r[5], r[6], r[7], r[8]) for r in rows]


def column_labels(store: Store, run_id: int, lang: str) -> dict[str, str]:
    """Every column of build ``run_id`` with its label in ``lang`` (the catalogue's, in English
    and Chinese alike; a column without one keeps its name)."""
    try:
        run = get_feature_run(store, run_id)
    except (NotReadyError, NotFoundError):  # a build dropped since: names as they are
        return {}
    return {c.name: feature_label(c.name, lang, c.template, c.label_zh) for c in run.columns}


def get_feature_run(store: Store, run_id: int | None = None) -> FeatureRun:
    """One build with its catalog: ``run_id``, or the latest when None."""
    if not store.table_exists("feature_runs"):
        raise NotReadyError("this workspace has no feature tables yet: run `segmark features build`")
    where = "WHERE run_id = ?" if run_id is not None else "ORDER BY run_id DESC LIMIT 1"
    rows = store.query_rows(
        "SELECT run_id, as_of, windows, created_at, as_of_local, timezone, table_name, n_users, n_events "
        f"FROM feature_runs {where}", [run_id] if run_id is not None else None)
    if not rows:
        if run_id is not None:
            raise NotFoundError(f"no feature build with run id {run_id}: see `segmark features runs` "
                                "(or sm.load_features without run_id for the latest)")
        raise NotReadyError("no feature build yet: run `segmark features build`")
    r = rows[0]
    cols = tuple(
        FeatureColumn(name, family, kind, unit or "", label or "", desc or "", template or "")
        for name, family, kind, unit, label, desc, template in store.query_rows(
            "SELECT name, family, kind, unit, label_zh, description, template FROM feature_columns "
            "WHERE run_id = ? ORDER BY position", [r[0]])
    )
    return FeatureRun(r[0], r[1], tuple(json.loads(r[2])), r[3], r[4], r[5], r[6], r[7], r[8], cols)


def load_features(store: Store, run_id: int | None = None) -> tuple[FeatureRun, pd.DataFrame]:
    """A build's feature table: indexed by user_id, one column per feature, in catalog order.

    Counts are int64, other numbers float64 (NaN when undefined), labels strings with None
    when unknown.
    """
    run = get_feature_run(store, run_id)
    df = store.query_df(f"SELECT * FROM {run.table_name} ORDER BY user_id")
    df["user_id"] = df["user_id"].astype(object)
    for c in run.columns:
        if c.kind == "text":
            df[c.name] = df[c.name].astype(object).where(df[c.name].notna(), None)
    return run, df.set_index("user_id")


def user_features(store: Store, user_id: str, run_id: int | None = None) -> tuple[FeatureRun, dict[str, Any]]:
    """One user's features in a build, by column name."""
    run = get_feature_run(store, run_id)
    df = store.query_df(f"SELECT * FROM {run.table_name} WHERE user_id = ?", [user_id])
    if df.empty:
        raise NotFoundError(f"user {user_id!r} is not in feature build {run.run_id} (as of {run.as_of_local})")
    row = df.iloc[0].to_dict()
    row.pop("user_id")
    return run, {k: (None if _missing(v) else v) for k, v in row.items()}


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def export_features(store: Store, path: Path | str, run_id: int | None = None,
                    fmt: str | None = None) -> tuple[FeatureRun, Path]:
    """Write a build's table to CSV (UTF-8, with header) or Parquet; the format follows the suffix."""
    run = get_feature_run(store, run_id)
    out = Path(path)
    fmt = (fmt or out.suffix.lstrip(".")).lower()
    fmt = {"pq": "parquet"}.get(fmt, fmt)
    if fmt not in ("csv", "parquet"):
        raise InputError(f"cannot tell the export format from {out.name!r}: use a .csv or .parquet "
                         "name, or fmt='csv' / fmt='parquet'")
    require(store, Capability.EXPORT_CSV if fmt == "csv" else Capability.EXPORT_PARQUET, f"export {fmt} files")
    out.parent.mkdir(parents=True, exist_ok=True)
    store.export(f"SELECT * FROM {run.table_name} ORDER BY user_id", out, fmt)  # type: ignore[arg-type]
    return run, out


def describe_features(store: Store, run_id: int | None = None) -> tuple[FeatureRun, pd.DataFrame]:
    """The build's catalog with each feature's distribution (one row per feature)."""
    run = get_feature_run(store, run_id)
    row = store.query_arrow(summary_sql(run.table_name, run.columns)).to_pylist()[0]
    tops: dict[str, tuple[Any, int]] = {}
    for c in run.columns:
        if not c.numeric:
            found = store.query_rows(top_value_sql(run.table_name, c))
            if found:
                tops[c.name] = (found[0][0], int(found[0][1]))
    return run, summary_frame(run.columns, row, tops)
