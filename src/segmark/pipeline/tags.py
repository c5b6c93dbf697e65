"""The tags step: read a tag file (or the shipped default), compute every tag for the users of a
feature build, and keep the run with its taxonomy, value counts and overlaps.

``apply_tags`` writes one run in one transaction: ``tag_runs`` (the taxonomy as applied, the ids of
the feature build, segmentations and scoring runs it read, the tags skipped and why),
``user_tags`` (one row per user and tag, with the rule or evidence behind it), ``tag_values`` and
``tag_overlap``. A tag whose inputs do not exist yet (a model not scored, no RFM segmentation) is
skipped and listed, not an error, so the default file works on any shop. ``list_tags`` and
``user_tags_of`` read a run back; the latter says why each tag applies.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from segmark.core.audience.expression import ExpressionError
from segmark.core.audience.plan import compile_expression
from segmark.core.tags import TagFile, TagFileError, TagSpec, behaviour_sql, parse_evidence, parse_tag_file
from segmark.core.tags.spec import Where, locate
from segmark.core.tags.sql import TagSqlError, check_tag_sql
from segmark.errors import ConfigError, InputError, NotFoundError, NotReadyError, StoreError
from segmark.pipeline.universe import Universe, from_clause, open_universe, tag_taxonomy
from segmark.sql import ident
from segmark.store.base import Store, utc_now
from segmark.text import Lang, catalogue, known, label, msg, reword
from segmark.workspace import Workspace

STEP = "tags apply"
DEFAULT_SOURCE = "default"


def default_tag_text() -> str:
    """The shipped tag file that works on any shop."""
    return (resources.files("segmark.defaults") / "tags.yaml").read_text(encoding="utf-8")


def read_tag_file(path: Path | str | None) -> tuple[TagFile, str, Path | None]:
    """The parsed tag file (the default when ``path`` is None), its text and its folder."""
    if path is None:
        text = default_tag_text()
        return _parse(text, "the default tag file"), text, None
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{p}: no such tag file") from None
    except UnicodeDecodeError:
        raise InputError(f"{p}: not UTF-8 text") from None
    return _parse(text, str(p)), text, p.parent


def _parse(text: str, source: str) -> TagFile:
    try:
        return parse_tag_file(text, source)
    except TagFileError as exc:
        raise ConfigError(str(exc)) from None


@dataclass
class TagRun:
    """One stored ``tags apply``."""

    run_id: int
    feature_run_id: int
    as_of: Any
    source: str
    n_users: int
    taxonomy: list[dict[str, Any]]
    skipped: list[dict[str, str]]
    ids: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "feature_run_id": self.feature_run_id, "as_of": self.as_of,
                "source": self.source, "n_users": self.n_users, "tags": self.taxonomy, "skipped": self.skipped}


# -- applying ---------------------------------------------------------------------------------------


def apply_tags(ws: Workspace, rules: Path | str | None = None, *, feature_run_id: int | None = None) -> TagRun:
    """Compute every tag of the tag file (``rules``, default: the shipped one) for a feature build."""
    started = utc_now()
    tag_file, text, folder = read_tag_file(rules)
    store = ws.store
    u = open_universe(store, feature_run_id, with_tags=False)
    run_id = store.next_run_id()
    source = str(rules) if rules is not None else DEFAULT_SOURCE
    params = {"rules": source, "feature_run_id": u.feature_run.run_id}
    try:
        with store.atomic():
            taxonomy, skipped = _apply(store, u, tag_file, folder, run_id)
            n_users = u.feature_run.n_users
            _statistics(store, run_id, n_users)
            counts = {(t, v): n for t, v, n in store.query_rows(
                "SELECT tag, value, users FROM tag_values WHERE run_id = ?", [run_id])}
            for t in taxonomy:
                t["users"] = int(store.scalar("SELECT count(*) FROM user_tags WHERE run_id = ? AND tag = ?",
                                              [run_id, t["tag"]]))
                t["coverage"] = t["users"] / n_users if n_users else 0.0
                known = {v["value"] for v in t["values"]}
                t["values"] = [{**v, "users": counts.get((t["tag"], v["value"]), 0)} for v in t["values"]]
                t["values"] += [{"value": v, "label": v, "label_zh": v, "users": n}
                                for (tag, v), n in sorted(counts.items(), key=lambda kv: -kv[1])
                                if tag == t["tag"] and v not in known]
            ids = {**u.ids(), "tag_run_id": None}
            store.execute(
                "INSERT INTO tag_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, u.feature_run.run_id, u.segmentation_id, u.rfm_segmentation_id, json.dumps(u.score_runs),
                 u.as_of, source, hashlib.sha256(text.encode("utf-8")).hexdigest(), n_users,
                 json.dumps(taxonomy, ensure_ascii=False, default=str), json.dumps(skipped, ensure_ascii=False),
                 utc_now()])
            store.record_run(run_id, STEP, "ok", started_at=started, as_of=u.as_of, params=params,
                             metrics={"tags": len(taxonomy), "skipped": len(skipped), "users": n_users,
                                      "tagged_rows": int(sum(t["users"] for t in taxonomy))})
    except (Exception, KeyboardInterrupt) as exc:
        store.record_run(run_id, STEP, "failed", started_at=started, as_of=u.as_of, params=params,
                         message=str(exc) or type(exc).__name__)
        raise
    return TagRun(run_id, u.feature_run.run_id, u.as_of, source, n_users, taxonomy, skipped, ids)


def _universe_ids(u: Universe) -> str:
    return f"SELECT user_id FROM {ident(u.feature_run.table_name)}"


def _apply(store: Store, u: Universe, tag_file: TagFile, folder: Path | None,
           run_id: int) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    taxonomy: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    for spec in tag_file.tags:
        entry = spec.to_dict()
        entry.pop("settings")
        try:
            if spec.kind == "rule":
                _rule(store, u, spec, run_id, tag_file.source, entry)
            elif spec.kind == "behaviour":
                sql, params = behaviour_sql(spec, u.as_of, _universe_ids(u))
                _insert_query(store, run_id, spec.tag, sql, params)
                entry["settings"] = {k: v for k, v in spec.settings.items()}
                entry["closed"] = not spec.settings.get("per")
            elif spec.kind == "sql":
                _sql(store, u, spec, run_id, tag_file.source)
                entry["closed"] = False
            elif spec.kind == "list":
                entry["unmatched"] = _list(store, u, spec, run_id, folder, tag_file.source)
                entry["file"] = spec.settings["file"]
                entry["closed"] = True
            else:
                _model(store, u, spec, run_id, entry)
        except _Skip as skip:
            skipped.append({"tag": spec.tag, "label": str(entry.get("label") or spec.tag),
                            "label_zh": str(entry.get("label_zh") or ""), "reason": str(skip)})
            continue
        taxonomy.append(entry)
    return taxonomy, skipped


class _Skip(Exception):
    """A tag whose inputs do not exist yet (or mean nothing here: m_score without prices)."""


SKIP_REASONS = tuple(k for k in catalogue() if k.startswith("tags.skip."))
"""Why a tag is skipped: a run stores the English of one of these, readers show it in their language."""


def skip_reason(skipped: dict[str, str], lang: Lang) -> str:
    """Why a tag was skipped, in ``lang`` (a stored reason the catalogue does not know, as stored)."""
    return reword(skipped["reason"], SKIP_REASONS, lang)


def owner_label(owner: str, lang: Lang) -> str:
    """A tag's owner in ``lang`` where the catalogue knows it (the shipped file's); any other as written."""
    return known(f"tags.owner.{owner.strip().lower()}", lang, owner)


def tag_value_label(tags: Mapping[str, Mapping[str, Any]], tag: str, value: str, lang: Lang) -> str:
    """"<tag> = <value>" by their labels in ``lang``, as the taxonomy names them (the stored tag and
    value where the taxonomy has no label); ``tags`` is :func:`list_tags`' taxonomy keyed by tag."""
    t = tags.get(tag, {})
    v = next((v for v in t.get("values", []) if v.get("value") == value), {})
    return f"{label(t, lang) or tag} = {label(v, lang) or value}"


def _rule(store: Store, u: Universe, spec: TagSpec, run_id: int, source: str, entry: dict[str, Any]) -> None:
    catalog = u.catalog(tags=False)
    plans = []
    for v in spec.values:
        try:
            plans.append(compile_expression(v.when or "", catalog))
        except ExpressionError as exc:
            bare = exc.expression[(exc.position or 1) - 1:].split()[0] if exc.position else ""
            missing = next((n for n in u.missing if bare.startswith(n)), None)
            if missing is not None and exc.message.startswith("unknown name"):
                raise _Skip(u.missing[missing]) from None
            line, col = (v.where.line, v.where.column) if v.where else (None, None)
            if col is not None and exc.position is not None and "\n" not in exc.expression:
                col += exc.position - 1
            raise ConfigError(str(TagFileError(f"tag {spec.tag!r}, value {v.value!r}: {exc.render()}", source,
                                               line, col))) from None
    sources = sorted({s for p in plans for s in p.sources}, key=lambda s: (s != "features", s))
    frm, frm_params = from_clause(u, sources)
    cases = " ".join(f"WHEN {p.where} THEN {i}" for i, p in enumerate(plans))
    values = " ".join(f"WHEN {i} THEN ?" for i in range(len(plans)))
    sql = (f"INSERT INTO user_tags (run_id, user_id, tag, value, rule) SELECT ?, user_id, ?, CASE rule {values} END, "
           f"rule FROM (SELECT f.user_id, CASE {cases} END AS rule {frm}) x WHERE rule IS NOT NULL")
    params = [run_id, spec.tag, *(v.value for v in spec.values), *(a for p in plans for a in p.params), *frm_params]
    store.execute(sql, params)
    entry["closed"] = True
    entry["names"] = [[f"{f.namespace}.{f.name}" for f in p.fields] for p in plans]


def _insert_query(store: Store, run_id: int, tag: str, sql: str, params: list[Any]) -> None:
    store.execute(f"INSERT INTO user_tags (run_id, user_id, tag, value, evidence) SELECT ?, user_id, ?, "
                  f"CAST(value AS VARCHAR), evidence FROM ({sql}) q WHERE value IS NOT NULL", [run_id, tag, *params])


SQL_TABLES = ("events", "users", "items", "segmentations", "segments", "segment_members", "prediction_scores",
              "clv_scores", "recommendations")
"""The store's tables a SQL tag may read by name (those that exist), besides ``features``: the tag
run's feature build. Run records, quarantined rows, other tag runs and the catalogue are not data a
tag is drawn from."""


def sql_tables(store: Store, u: Universe) -> dict[str, str]:
    """Name in a SQL tag -> the store's table it reads."""
    tables = {t: t for t in SQL_TABLES if store.table_exists(t)}
    build = u.feature_run.table_name
    return {**tables, "features": build, build.lower(): build}


def _sql(store: Store, u: Universe, spec: TagSpec, run_id: int, source: str) -> None:
    text = spec.settings["sql"]

    def fail(message: str, where: Where | None = None) -> ConfigError:
        at = where or spec.settings.get("sql_at")
        return ConfigError(str(TagFileError(f"tag {spec.tag!r}: {message}", source, *(
            (at.line, at.column) if at else (None, None)))))

    try:
        checked = check_tag_sql(text, sql_tables(store, u))
    except TagSqlError as exc:
        raise fail(exc.message, locate(spec.settings.get("sql_source"), text, exc.offset)) from None
    inner, as_of = checked.sql, [u.as_of] * checked.n_params
    try:
        cols = [c.lower() for c in store.query_df(f"SELECT * FROM ({inner}) q LIMIT 0", as_of).columns]
    except StoreError as exc:
        raise fail(f"its SQL fails: {str(exc).splitlines()[0]}") from None
    if "user_id" not in cols:
        raise fail("its SQL must return a user_id column")
    value = "min(CAST(value AS VARCHAR))" if "value" in cols else "'yes'"
    reason = "min(CAST(reason AS VARCHAR))" if "reason" in cols else "CAST(NULL AS VARCHAR)"
    sql = (f"SELECT CAST(user_id AS VARCHAR) AS user_id, {value} AS value, {reason} AS evidence FROM ({inner}) q "
           f"WHERE CAST(user_id AS VARCHAR) IN ({_universe_ids(u)}) GROUP BY CAST(user_id AS VARCHAR)")
    try:
        _insert_query(store, run_id, spec.tag, sql, as_of)
    except StoreError as exc:
        raise fail(f"its SQL fails: {str(exc).splitlines()[0]}") from None


def _list(store: Store, u: Universe, spec: TagSpec, run_id: int, folder: Path | None, source: str) -> int:
    at = spec.settings.get("file_at")
    where = (at.line, at.column) if at else (None, None)
    base = folder if folder is not None else Path.cwd()
    path = base / spec.settings["file"]  # an absolute file stays itself
    if not path.resolve().is_relative_to(base.resolve()):
        # a tag file may come from others (later through the API): its lists are read from beside it,
        # never from wherever a path, a '..' or a link leads
        raise ConfigError(str(TagFileError(
            f"tag {spec.tag!r}: the id list {spec.settings['file']} is outside the tag file's folder {base}; "
            "put the list beside the tag file (or in a folder below it)", source, *where)))
    if path.exists() and not path.is_file():  # a folder, or a pipe or device that could block or never end
        raise ConfigError(str(TagFileError(f"tag {spec.tag!r}: the id list {path} is not a regular file", source,
                                           *where)))
    try:
        raw = pd.read_csv(path, dtype=str, header=None, skip_blank_lines=True, encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(str(TagFileError(f"tag {spec.tag!r}: no id list {path}", source, *where))) from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ConfigError(str(TagFileError(f"tag {spec.tag!r}: cannot read {path}: {exc}", source, *where))) from None
    first = raw.iloc[:, 0].astype(str).str.strip()
    ids = first.iloc[1:] if len(first) and first.iloc[0].lower() == "user_id" else first
    ids = pd.Series(ids[ids != ""].unique(), dtype=object)
    frame = pd.DataFrame({"run_id": run_id, "user_id": ids, "tag": spec.tag, "value": spec.values[0].value,
                          "evidence": f"list={path.name}"})
    known = set(r[0] for r in store.query_rows(
        f"SELECT user_id FROM {ident(u.feature_run.table_name)} WHERE user_id IN (SELECT unnest(?))",
        [list(ids)])) if len(ids) else set()
    frame = frame[frame["user_id"].isin(known)]
    store.insert("user_tags", frame)
    return int(len(ids) - len(frame))


def _model(store: Store, u: Universe, spec: TagSpec, run_id: int, entry: dict[str, Any]) -> None:
    src = spec.settings["source"]
    universe = _universe_ids(u)
    entry["closed"] = True
    entry["source"] = src
    if src in ("segment", "rfm_segment"):
        seg_id = u.segmentation_id if src == "segment" else u.rfm_segmentation_id
        if seg_id is None:
            raise _Skip(u.missing.get(src, msg("tags.skip.no_segmentation")))
        sql = ("SELECT m.user_id, s.key AS value, 'segmentation=' || CAST(m.segmentation_id AS VARCHAR) AS evidence "
               "FROM segment_members m JOIN segments s ON s.segmentation_id = m.segmentation_id "
               f"AND s.segment_id = m.segment_id WHERE m.segmentation_id = ? AND m.user_id IN ({universe})")
        _insert_query(store, run_id, spec.tag, sql, [seg_id])
        entry["values"] = [{"value": k, "label": n, "label_zh": z} for k, n, z in store.query_rows(
            "SELECT key, name, name_zh FROM segments WHERE segmentation_id = ? ORDER BY segment_id", [seg_id])]
        entry["segmentation_id"] = seg_id
        return
    model = "clv" if src == "clv_decile" else src[: -len("_decile")]
    if model not in u.score_runs:
        raise _Skip(u.missing.get(src, msg("tags.skip.not_scored", model=model)))
    score_run = u.score_runs[model]
    if model == "clv":
        sql = ("SELECT user_id, CAST(clv_decile AS VARCHAR) AS value, 'run=' || CAST(run_id AS VARCHAR) || ';clv=' "
               "|| CAST(round(clv, 2) AS VARCHAR) AS evidence FROM clv_scores WHERE run_id = ? "
               f"AND user_id IN ({universe})")
        params: list[Any] = [score_run]
    else:
        sql = ("SELECT user_id, CAST(decile AS VARCHAR) AS value, 'run=' || CAST(run_id AS VARCHAR) || ';probability='"
               f" || CAST(round(probability, 3) AS VARCHAR) AS evidence FROM prediction_scores WHERE model_name = ? "
               f"AND run_id = ? AND user_id IN ({universe})")
        params = [model, score_run]
    _insert_query(store, run_id, spec.tag, sql, params)
    entry["values"] = [{"value": str(d), "label": f"decile {d}", "label_zh": f"第{d}档"} for d in range(10, 0, -1)]
    entry["score_run"] = score_run


def _statistics(store: Store, run_id: int, n_users: int) -> None:
    """Value counts and pairwise overlaps of the run's tag values."""
    store.execute("INSERT INTO tag_values SELECT run_id, tag, value, count(*) AS users, "
                  "count(*) / CAST(? AS DOUBLE) AS share FROM user_tags WHERE run_id = ? GROUP BY run_id, tag, value",
                  [max(n_users, 1), run_id])
    store.execute(
        "INSERT INTO tag_overlap SELECT p.run_id, p.tag_a, p.value_a, p.tag_b, p.value_b, p.users, "
        "p.users / CAST(va.users + vb.users - p.users AS DOUBLE) AS jaccard FROM ("
        "SELECT a.run_id, a.tag AS tag_a, a.value AS value_a, b.tag AS tag_b, b.value AS value_b, count(*) AS users "
        "FROM user_tags a JOIN user_tags b ON b.run_id = a.run_id AND b.user_id = a.user_id AND b.tag > a.tag "
        "WHERE a.run_id = ? GROUP BY a.run_id, a.tag, a.value, b.tag, b.value) p "
        "JOIN tag_values va ON va.run_id = p.run_id AND va.tag = p.tag_a AND va.value = p.value_a "
        "JOIN tag_values vb ON vb.run_id = p.run_id AND vb.tag = p.tag_b AND vb.value = p.value_b", [run_id])


# -- reading ---------------------------------------------------------------------------------------


def get_tag_run(store: Store, run_id: int | None = None) -> TagRun:
    """A stored tag run (the latest by default)."""
    if not store.table_exists("tag_runs"):
        raise NotReadyError("no tags yet: run `segmark tags apply`")
    where, args = ("WHERE run_id = ?", [run_id]) if run_id is not None else ("ORDER BY run_id DESC LIMIT 1", [])
    rows = store.query_rows("SELECT run_id, feature_run_id, as_of, source, n_users, skipped, segmentation_id, "
                            f"rfm_segmentation_id, score_runs FROM tag_runs {where}", args)
    if not rows:
        raise NotReadyError("no tags yet: run `segmark tags apply`" if run_id is None
                            else f"no tag run {run_id}")
    r = rows[0]
    ids = {"feature_run_id": r[1], "segmentation_id": r[6], "rfm_segmentation_id": r[7],
           "score_runs": json.loads(r[8] or "{}"), "tag_run_id": r[0]}
    return TagRun(int(r[0]), int(r[1]), r[2], r[3], int(r[4]), tag_taxonomy(store, int(r[0])), json.loads(r[5]), ids)


def tag_overlap(store: Store, run_id: int, top: int = 20) -> pd.DataFrame:
    """The pairs of tag values held by the most users together, with their Jaccard index."""
    return store.query_df("SELECT tag_a, value_a, tag_b, value_b, users, jaccard FROM tag_overlap WHERE run_id = ? "
                          "ORDER BY users DESC, tag_a, value_a, tag_b, value_b LIMIT ?", [run_id, top])


def list_tags(store: Store, run_id: int | None = None) -> dict[str, Any]:
    """The taxonomy of a run with each tag's coverage and value counts, and the largest overlaps."""
    run = get_tag_run(store, run_id)
    overlap = tag_overlap(store, run.run_id)
    return {**run.to_dict(), "overlap": overlap.to_dict(orient="records")}


def user_tags_of(ws: Workspace, user_id: str, run_id: int | None = None) -> dict[str, Any]:
    """One user's tags in a run, each with why it applies (the rule and the user's values, or the
    evidence behind it)."""
    store = ws.store
    run = get_tag_run(store, run_id)
    present = store.scalar(f"SELECT count(*) FROM {ident('features_run_' + str(run.feature_run_id))} "
                           "WHERE user_id = ?", [user_id]) if store.table_exists(
                               f"features_run_{run.feature_run_id}") else 0
    if not present:
        raise NotFoundError(f"user {user_id!r} is not in feature build {run.feature_run_id}, which tag run "
                            f"{run.run_id} was computed on")
    rows = store.query_rows("SELECT tag, value, rule, evidence FROM user_tags WHERE run_id = ? AND user_id = ? "
                            "ORDER BY tag", [run.run_id, user_id])
    by_tag = {t["tag"]: t for t in run.taxonomy}
    u = open_universe(store, pinned=run.ids, with_tags=False)
    out = []
    for tag, value, rule, evidence in rows:
        t = by_tag.get(tag, {"tag": tag, "kind": "?", "values": []})
        named = next((v for v in t["values"] if v["value"] == value), {"label": value, "label_zh": value})
        item: dict[str, Any] = {"tag": tag, "group": t.get("group"), "label": t.get("label", tag),
                                "label_zh": t.get("label_zh", tag), "kind": t["kind"], "value": value,
                                "value_label": named.get("label", value),
                                "value_label_zh": named.get("label_zh", value)}
        if t["kind"] == "rule" and rule is not None:
            rule_def = t["values"][int(rule)]
            item["rule"] = rule_def["when"]
            item["values"] = _values_of(store, u, user_id, t.get("names", [[]])[int(rule)])
        else:
            item["evidence"] = parse_evidence(evidence)
        out.append(item)
    return {"user_id": user_id, "run_id": run.run_id, "as_of": run.as_of, "tags": out}


def _values_of(store: Store, u: Universe, user_id: str, names: list[str]) -> dict[str, Any]:
    """The user's values of the fields a rule read."""
    fields = [f for f in u.fields if f"{f.namespace}.{f.name}" in names]
    if not fields:
        return {}
    sources = sorted({f.source for f in fields}, key=lambda s: (s != "features", s))
    frm, params = from_clause(u, sources)
    cols = ", ".join(f"{f.sql} AS {ident(f.name)}" for f in fields)
    df = store.query_df(f"SELECT {cols} {frm} WHERE f.user_id = ?", [*params, user_id])
    if df.empty:
        return {}
    return {k: (None if pd.isna(v) else (v.item() if hasattr(v, "item") else v)) for k, v in df.iloc[0].items()}
