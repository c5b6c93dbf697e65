"""The audiences step: an expression over tags, segments, features and scores becomes a query with
bound parameters; its users are previewed (size and composition, nothing written), saved with a
stratified holdout, compared (overlap) and exported with playbook actions and top items.

Every audience is evaluated on one ``Universe`` (the latest feature build, segmentation, tag run and
scores unless pinned) and stores the ids it read, so its figures can be traced and re-created.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from segmark.core.audience.cells import quote_formulas
from segmark.core.audience.expression import ExpressionError
from segmark.core.audience.holdout import stratified_holdout
from segmark.core.audience.plan import Plan, compile_expression
from segmark.core.audience.playbook import Playbook, parse_playbook
from segmark.errors import ConfigError, InputError, NotFoundError, NotReadyError, SegmarkError
from segmark.pipeline.universe import Universe, from_clause, open_universe, select_users
from segmark.sql import ident
from segmark.store.base import Capability, Store, require, utc_now
from segmark.workspace import Workspace

STEP = "audience create"
PLAYBOOK_FILE = "playbooks.yaml"
EXPORT_FORMATS = {"csv": "csv", "parquet": "parquet", "pq": "parquet"}


class AudienceError(SegmarkError):
    """An audience expression that cannot be used: the message has the position and a caret line."""

    def __init__(self, error: ExpressionError) -> None:
        self.error = error
        super().__init__(f"where: {error.render()}")


class ExportRefused(SegmarkError):
    """An export below the minimum audience size."""


def plan_audience(store: Store, where: str, *, universe: Universe | None = None) -> tuple[Universe, Plan]:
    """Parse and bind ``where`` against what the store holds now."""
    u = universe or open_universe(store)
    try:
        return u, compile_expression(where, u.catalog())
    except ExpressionError as exc:
        raise AudienceError(exc) from None


# -- composition -----------------------------------------------------------------------------------


def _composition(store: Store, u: Universe, users_sql: str, params: list[Any], size: int) -> dict[str, Any]:
    """The audience by segment (users, share of the audience, share of the segment) and by tag value."""
    out: dict[str, Any] = {"by_segment": [], "by_tag": []}
    if u.segmentation_id is not None:
        rows = store.query_rows(
            f"WITH aud AS ({users_sql}), seg AS (SELECT m.user_id, s.key FROM segment_members m JOIN segments s "
            "ON s.segmentation_id = m.segmentation_id AND s.segment_id = m.segment_id WHERE m.segmentation_id = ?) "
            "SELECT seg.key, count(aud.user_id) AS users, count(*) AS members FROM seg LEFT JOIN aud "
            "ON aud.user_id = seg.user_id GROUP BY seg.key ORDER BY users DESC, seg.key",
            [*params, u.segmentation_id])
        for key, users, members in rows:
            if not users:
                continue
            name, name_zh = u.segment_names.get(str(key), (str(key), str(key)))
            out["by_segment"].append({"segment": key, "name": name, "name_zh": name_zh, "users": int(users),
                                      "share": users / size if size else 0.0,
                                      "penetration": users / members if members else 0.0})
    if u.tag_run_id is not None:
        rows = store.query_rows(
            f"WITH aud AS ({users_sql}) SELECT t.tag, t.value, count(*) AS users FROM user_tags t "
            "JOIN aud ON aud.user_id = t.user_id WHERE t.run_id = ? GROUP BY t.tag, t.value "
            "ORDER BY t.tag, users DESC, t.value", [*params, u.tag_run_id])
        labels = {f.name: (f.label, f.label_zh) for f in u.fields if f.namespace == "tag"}
        for tag, value, users in rows:
            out["by_tag"].append({"tag": tag, "label": labels.get(tag, (tag, tag))[0],
                                  "label_zh": labels.get(tag, (tag, tag))[1], "value": value,
                                  "users": int(users), "share": users / size if size else 0.0})
    return out


PREVIEW_TABLE = "_segmark_audience_preview"


def preview_audience(ws: Workspace, where: str, *, holdout: float | None = None, seed: int = 0) -> dict[str, Any]:
    """Size and composition of the users ``where`` selects, with the holdout's counts; writes nothing.

    Where the engine has session-private temporary tables the selection is computed once into one
    (dropped at the end, never part of the workspace) and the composition reads it; otherwise each
    figure runs the selection again.
    """
    store = ws.store
    u, plan = plan_audience(store, where)
    sql, params = select_users(u, plan)
    temporary = Capability.TEMP_TABLES in store.capabilities
    if temporary:
        size = store.create_table_as(PREVIEW_TABLE, sql, params, replace=True, temporary=True)
        users_sql, users_params = f"SELECT user_id FROM {PREVIEW_TABLE}", []
    else:
        size = int(store.scalar(f"SELECT count(*) FROM ({sql}) a", params))
        users_sql, users_params = sql, params
    out: dict[str, Any] = {"where": where, "size": size, "universe": u.feature_run.n_users,
                           "share": size / u.feature_run.n_users if u.feature_run.n_users else 0.0,
                           "as_of": u.as_of, **u.ids(), "plan": plan.to_dict(), "warnings": u.warnings(store)}
    try:
        out.update(_composition(store, u, users_sql, users_params, size))
    finally:
        if temporary:
            store.drop_table(PREVIEW_TABLE)
    if holdout:
        members = _members(store, u, plan)
        control = stratified_holdout(members["user_id"], members["segment_key"], holdout, seed)
        out.update({"holdout": holdout, "seed": seed, "treatment": int((~control).sum()),
                    "control": int(control.sum())})
    return out


def _members(store: Store, u: Universe, plan: Plan) -> pd.DataFrame:
    extra: tuple[str, ...] = ("segment",) if u.segmentation_id is not None else ()
    seg_col = "seg.key" if extra else "CAST(NULL AS VARCHAR)"
    sql, params = select_users(u, plan, f"f.user_id, {seg_col} AS segment_key", extra)
    return store.query_df(f"{sql} ORDER BY f.user_id", params)


# -- saving ----------------------------------------------------------------------------------------


@dataclass
class Audience:
    """A saved audience."""

    audience_id: int
    name: str
    expression: str
    plan: dict[str, Any]
    ids: dict[str, Any]
    as_of: Any
    holdout: float
    seed: int
    size: int
    treatment: int
    control: int
    composition: dict[str, Any]
    created_at: Any

    def to_dict(self) -> dict[str, Any]:
        return {"audience_id": self.audience_id, "name": self.name, "where": self.expression, "size": self.size,
                "treatment": self.treatment, "control": self.control, "holdout": self.holdout, "seed": self.seed,
                "as_of": self.as_of, **self.ids, "created_at": self.created_at, "plan": self.plan,
                **self.composition}


def create_audience(ws: Workspace, name: str, where: str, *, holdout: float = 0.0, seed: int = 0,
                    replace: bool = False) -> Audience:
    """Save the users ``where`` selects as audience ``name``, ``holdout`` of them (stratified by
    segment, reproducible with ``seed``) as the control group."""
    if not name.strip():
        raise InputError("an audience needs a name")
    if not 0 <= holdout < 1:
        raise InputError(f"holdout must be at least 0 and below 1, not {holdout}")
    started = utc_now()
    store = ws.store
    u, plan = plan_audience(store, where)
    existing = store.scalar("SELECT audience_id FROM audiences WHERE name = ?", [name])
    if existing is not None and not replace:
        raise InputError(f"an audience named {name!r} exists: choose another name or pass replace=True "
                         "(--replace)")
    if existing is not None:
        require(store, Capability.DELETE, "replace an audience")
    members = _members(store, u, plan)
    control = stratified_holdout(members["user_id"], members["segment_key"], holdout, seed)
    members["arm"] = np.where(control, "control", "treatment")
    sql, params = select_users(u, plan)
    size = len(members)
    composition = _composition(store, u, sql, params, size)
    run_id = store.next_run_id()
    audience_id = store.next_id("audience_id_seq")
    ids = u.ids()
    run_params = {"name": name, "where": where, "holdout": holdout, "seed": seed, **ids}
    created = utc_now()
    try:
        with store.atomic():
            if existing is not None:
                _delete(store, int(existing))
            store.execute("INSERT INTO audiences VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          [audience_id, run_id, name, where, json.dumps(plan.to_dict(), ensure_ascii=False,
                                                                         default=str),
                           u.feature_run.run_id, u.segmentation_id, u.tag_run_id, json.dumps(u.score_runs), u.as_of,
                           holdout, seed, size, int((~control).sum()), int(control.sum()),
                           json.dumps(composition, ensure_ascii=False), created])
            store.insert("audience_members", members.assign(audience_id=audience_id)[
                ["audience_id", "user_id", "segment_key", "arm"]])
            store.record_run(run_id, STEP, "ok", started_at=started, as_of=u.as_of, params=run_params,
                             metrics={"size": size, "treatment": int((~control).sum()), "control": int(control.sum())})
    except (Exception, KeyboardInterrupt) as exc:
        store.record_run(run_id, STEP, "failed", started_at=started, as_of=u.as_of, params=run_params,
                         message=str(exc) or type(exc).__name__)
        raise
    return get_audience(store, name)


def _delete(store: Store, audience_id: int) -> None:
    keys = pd.DataFrame({"audience_id": [audience_id]})
    store.delete_keys("audience_members", keys)
    store.delete_keys("audiences", keys)


_COLUMNS = ("audience_id, name, expression, plan, feature_run_id, segmentation_id, tag_run_id, score_runs, as_of, "
            "holdout, seed, size, treatment, control, composition, created_at")


def _audience(row: tuple[Any, ...], store: Store) -> Audience:
    (aid, name, expr, plan, frun, seg, trun, scores, as_of, holdout, seed, size, treat, ctrl, comp, created) = row
    rfm = None
    if store.table_exists("tag_runs") and trun is not None:
        rfm = store.scalar("SELECT rfm_segmentation_id FROM tag_runs WHERE run_id = ?", [trun])
    ids = {"feature_run_id": frun, "segmentation_id": seg, "rfm_segmentation_id": rfm, "tag_run_id": trun,
           "score_runs": json.loads(scores or "{}")}
    return Audience(int(aid), name, expr, json.loads(plan), ids, as_of, float(holdout), int(seed), int(size),
                    int(treat), int(ctrl), json.loads(comp), created)


def get_audience(store: Store, name: str) -> Audience:
    rows = store.query_rows(f"SELECT {_COLUMNS} FROM audiences WHERE name = ?", [name])
    if not rows:
        known = [r[0] for r in store.query_rows("SELECT name FROM audiences ORDER BY name")]
        hint = f"; saved audiences: {', '.join(known)}" if known else "; create one with `segmark audience create`"
        raise NotFoundError(f"no audience named {name!r}{hint}")
    return _audience(rows[0], store)


def list_audiences(store: Store) -> list[Audience]:
    """Every saved audience, newest first."""
    return [_audience(r, store) for r in store.query_rows(f"SELECT {_COLUMNS} FROM audiences "
                                                          "ORDER BY audience_id DESC")]


def audience_overlap(store: Store, names: list[str] | None = None) -> list[dict[str, Any]]:
    """Users shared by each pair of saved audiences, with the Jaccard index."""
    rows = store.query_rows(
        "WITH sizes AS (SELECT a.audience_id, a.name, count(m.user_id) AS n FROM audiences a "
        "LEFT JOIN audience_members m ON m.audience_id = a.audience_id GROUP BY a.audience_id, a.name) "
        "SELECT sa.name, sb.name, count(*) AS both_users, sa.n, sb.n FROM audience_members x "
        "JOIN audience_members y ON y.user_id = x.user_id AND y.audience_id > x.audience_id "
        "JOIN sizes sa ON sa.audience_id = x.audience_id JOIN sizes sb ON sb.audience_id = y.audience_id "
        "GROUP BY sa.name, sb.name, sa.n, sb.n ORDER BY both_users DESC, sa.name, sb.name")
    out = []
    for a, b, both, na, nb in rows:
        if names and not ({a, b} & set(names)):
            continue
        out.append({"a": a, "b": b, "users": int(both), "jaccard": both / (na + nb - both),
                    "share_of_a": both / na, "share_of_b": both / nb})
    return out


# -- playbooks and export --------------------------------------------------------------------------


def load_playbook(ws: Workspace | Path | None) -> tuple[Playbook, str]:
    """The shipped playbooks, overridden by the workspace's ``playbooks.yaml`` where it exists
    (``ws``: the workspace or its folder; None: the shipped ones only); and where they came from."""
    text = (resources.files("segmark.defaults") / PLAYBOOK_FILE).read_text(encoding="utf-8")
    book = parse_playbook(yaml.safe_load(text), "the default playbooks")
    root = ws.root if isinstance(ws, Workspace) else ws
    path = Path(root) / PLAYBOOK_FILE if root is not None else None  # a workspace in memory has no file
    if path is None or not path.exists():
        return book, "default"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return parse_playbook(data, str(path), book), str(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: not valid YAML") from None
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def playbook_rows(ws: Workspace, audience: Audience) -> list[dict[str, Any]]:
    """The audience's segments with their users and playbook action."""
    book, _ = load_playbook(ws)
    out = []
    for s in audience.composition.get("by_segment", []):
        a = book.action_for(s["segment"])
        out.append({**s, "action": a.action, "action_zh": a.action_zh, "channel": a.channel, "playbook": a.matched})
    return out


def _top_items(store: Store, user_ids: list[str], k: int) -> pd.DataFrame | None:
    """Each user's top ``k`` items of the latest recommendation build (the recommendations step's
    ``top_items``, which also answers cold-start users), or None when no build exists."""
    if k <= 0 or not user_ids:
        return None
    from segmark.pipeline.recommend import get_build, top_items

    try:
        build = get_build(store)
    except NotReadyError:
        return None
    return top_items(store, user_ids, min(k, build.list_length))


def export_audience(ws: Workspace, name: str, out: Path | str, *, columns: list[str] | None = None,
                    lang: str | None = None, min_size: int | None = None) -> dict[str, Any]:
    """Write the audience's users with their group (treatment/control), segment, playbook action,
    the chosen ``columns`` (any name an expression may use) and, where recommendations exist, their
    top items, to CSV or Parquet (by suffix). Refused below the minimum export size."""
    store = ws.store
    a = get_audience(store, name)
    floor = ws.settings.audience.min_export_size if min_size is None else min_size
    if a.size < floor:
        raise ExportRefused(f"audience {name!r} has {a.size:,} users, fewer than the minimum export size of "
                            f"{floor:,} (audience.min_export_size in segmark.toml): too few to measure a campaign "
                            "on and close to naming individuals")
    path = Path(out)
    fmt = EXPORT_FORMATS.get(path.suffix.lstrip(".").lower())
    if fmt is None:
        raise InputError(f"cannot tell the export format from {path.name!r}: use .csv or .parquet")
    lang = lang or ws.settings.lang
    u = open_universe(store, pinned=a.ids)
    fields = []
    catalog = u.catalog()
    for col in columns or []:
        try:
            plan = compile_expression(f"{col} IS NOT NULL", catalog)
        except ExpressionError as exc:
            raise InputError(f"columns {col!r}: {exc.message}" + (f" ({exc.hint})" if exc.hint else "")) from None
        if len(plan.fields) != 1 or plan.params:  # 'age > 1 OR city' parses too, and would export age alone
            raise InputError(f"columns {col!r}: give names only (age, city, churn_probability), not conditions")
        fields.append(plan.fields[0])
    sources = tuple(dict.fromkeys(["segment"] if u.segmentation_id is not None else [])) + tuple(
        dict.fromkeys(f.source for f in fields))
    frm, params = from_clause(u, tuple(dict.fromkeys(sources)))
    picked = "".join(f", {f.sql} AS {ident(f.name)}" for f in fields if f.name not in ("user_id", "segment"))
    df = store.query_df(f"SELECT am.user_id, am.arm AS {ident('group')}, am.segment_key AS segment{picked} {frm} "
                        "JOIN audience_members am ON am.user_id = f.user_id AND am.audience_id = ? "
                        "ORDER BY am.user_id", [*params, a.audience_id])
    names = {k: (n, z) for k, (n, z) in u.segment_names.items()}
    df.insert(3, "segment_name", [names.get(k, (k, k))[1 if lang == "zh" else 0] if k is not None else None
                                  for k in df["segment"]])
    book, _ = load_playbook(ws)
    actions = {k: book.action_for(k) for k in df["segment"].dropna().unique()}
    default = book.action_for(None)
    df.insert(4, "action", [actions.get(k, default).text(lang) if k is not None else default.text(lang)
                            for k in df["segment"]])
    top = _top_items(store, df["user_id"].tolist(), ws.settings.audience.top_items)
    if top is not None and len(top):
        joined = (top.sort_values(["user_id", "rank"]).groupby("user_id")["item_id"]
                  .agg(lambda s: ",".join(str(v) for v in s)))
        df["top_items"] = df["user_id"].map(joined)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    quoted = 0
    if fmt == "csv":
        df, quoted = quote_formulas(df)
        df.to_csv(tmp, index=False, encoding="utf-8")
    else:
        df.to_parquet(tmp, index=False)
    tmp.replace(path)
    return {"name": name, "path": str(path), "format": fmt, "users": len(df),
            "treatment": int((df["group"] == "treatment").sum()), "control": int((df["group"] == "control").sum()),
            "columns": list(df.columns), "quoted_cells": quoted}
