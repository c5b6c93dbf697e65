"""The users an audience or a tag is drawn from, and every name an expression can read about them.

A ``Universe`` is one feature build's users together with the latest segmentation (cluster if any,
else RFM) as ``segment``, the latest RFM segmentation as ``rfm_segment``/``r_score``/``f_score``/
``m_score`` (not ``m_score`` when that segmentation found no prices: spend unknown, every buyer's M is
1), the latest tag run as ``tag.<name>`` and ``has_tag``, and the latest scoring run of each
model in ``prediction_scores`` (``<model>_probability``, ``<model>_decile``) and ``clv_scores``
(``clv``, ``clv_decile``, ``p_alive``, ``expected_purchases``, ``expected_spend``). Names of a
source that does not exist yet are known as missing, so an expression that uses one gets a hint
("the churn model has not been scored") rather than a bare unknown name; the hints are the
catalogue's ``tags.skip.*`` messages in English (a tag run stores them as why a tag was skipped, and
a reader shows them in its language with ``segmark.text.reword``).

``from_clause`` joins only the sources a plan reads; every join's values are parameters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from segmark.core.audience.plan import NUMBER, TEXT, Catalog, Field, Plan
from segmark.errors import NotReadyError
from segmark.pipeline.features import FeatureRun, get_feature_run
from segmark.sql import ident
from segmark.store.base import Store
from segmark.text import msg

CLV_NAMES = ("clv", "clv_decile", "p_alive", "expected_purchases", "expected_spend")
KNOWN_MODELS = ("churn", "propensity", "response")
"""Models the predictions step trains; their score names get a "not scored yet" hint."""


@dataclass
class Universe:
    """One feature build's users and what can be said about them."""

    feature_run: FeatureRun
    segmentation_id: int | None = None
    segmentation_kind: str | None = None
    rfm_segmentation_id: int | None = None
    tag_run_id: int | None = None
    score_runs: dict[str, int] = field(default_factory=dict)
    """model name -> its latest scoring run id (``clv`` for clv_scores)."""
    fields: list[Field] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)
    segment_names: dict[str, tuple[str, str]] = field(default_factory=dict)
    """segment key -> (English name, Chinese name) of the latest segmentation."""
    tag_aliases: dict[str, str] = field(default_factory=dict)
    """source -> SQL alias of its join."""

    @property
    def as_of(self) -> Any:
        return self.feature_run.as_of

    def catalog(self, *, tags: bool = True) -> Catalog:
        fields = [f for f in self.fields if tags or f.namespace != "tag"]
        return Catalog.of(fields, unscored=self.missing)

    def warnings(self, store: Store) -> list[str]:
        """What a reader should know: tags computed on another feature build than the one used."""
        out = []
        if self.tag_run_id is not None:
            built_on = store.scalar("SELECT feature_run_id FROM tag_runs WHERE run_id = ?", [self.tag_run_id])
            if built_on is not None and int(built_on) != self.feature_run.run_id:
                out.append(f"the tags (run {self.tag_run_id}) were computed on feature build {built_on}, not on "
                           f"build {self.feature_run.run_id} used here: run `segmark tags apply` to bring them up "
                           "to date")
        return out

    def ids(self) -> dict[str, Any]:
        return {"feature_run_id": self.feature_run.run_id, "segmentation_id": self.segmentation_id,
                "rfm_segmentation_id": self.rfm_segmentation_id, "tag_run_id": self.tag_run_id,
                "score_runs": dict(self.score_runs)}


def _latest_segmentation(store: Store, kind: str | None = None) -> tuple[int, str] | None:
    if not store.table_exists("segmentations"):
        return None
    where, args = ("WHERE kind = ?", [kind]) if kind else ("", [])
    rows = store.query_rows(f"SELECT segmentation_id, kind FROM segmentations {where} "
                            "ORDER BY (kind = 'cluster') DESC, segmentation_id DESC LIMIT 1", args)
    return (int(rows[0][0]), str(rows[0][1])) if rows else None


def _values(store: Store, segmentation_id: int) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    rows = store.query_rows("SELECT key, name, name_zh FROM segments WHERE segmentation_id = ? ORDER BY segment_id",
                            [segmentation_id])
    aliases: dict[str, str] = {}
    for key, name, name_zh in rows:
        for spelling in (name_zh, name, key):  # the key wins when spellings collide
            aliases[str(spelling)] = str(key)
    return aliases, {str(k): (str(n), str(z)) for k, n, z in rows}


def latest_tag_run(store: Store, feature_run_id: int | None = None) -> int | None:
    if not store.table_exists("tag_runs"):
        return None
    where, args = ("WHERE feature_run_id = ?", [feature_run_id]) if feature_run_id is not None else ("", [])
    rows = store.query_rows(f"SELECT max(run_id) FROM tag_runs {where}", args)
    return int(rows[0][0]) if rows and rows[0][0] is not None else None


def tag_taxonomy(store: Store, tag_run_id: int) -> list[dict[str, Any]]:
    """The tags of one run as stored: group, labels, kind, values (with labels) and rules."""
    raw = store.scalar("SELECT taxonomy FROM tag_runs WHERE run_id = ?", [tag_run_id])
    return json.loads(raw) if raw else []


def open_universe(store: Store, feature_run_id: int | None = None, *, with_tags: bool = True,
                  pinned: dict[str, Any] | None = None) -> Universe:
    """The latest (or the given) feature build with every name the store can resolve now.

    ``pinned`` (a ``Universe.ids()`` record, as stored with a tag run or an audience) fixes the
    segmentations, tag run and scoring runs to those it names instead of the latest ones.
    """
    pinned = pinned or {}
    run = get_feature_run(store, pinned.get("feature_run_id", feature_run_id))
    u = Universe(run)
    u.tag_aliases["features"] = "f"
    u.fields.append(Field("user_id", "feature", TEXT, 'f."user_id"', "features", label="user id", label_zh="用户ID"))
    for c in run.columns:
        u.fields.append(Field(c.name, "feature", TEXT if c.kind == "text" else NUMBER, f"f.{ident(c.name)}",
                              "features", label=c.description, label_zh=c.label_zh))
    seg = _latest_segmentation(store)
    if pinned.get("segmentation_id") is not None:
        seg = (int(pinned["segmentation_id"]), str(store.scalar(
            "SELECT kind FROM segmentations WHERE segmentation_id = ?", [pinned["segmentation_id"]])))
    elif "segmentation_id" in pinned:
        seg = None
    if seg is not None:
        u.segmentation_id, u.segmentation_kind = seg
        values, u.segment_names = _values(store, seg[0])
        u.fields.append(Field("segment", "segment", TEXT, 'seg."key"', "segment", values=values,
                              label="segment", label_zh="分群"))
        u.tag_aliases["segment"] = "seg"
    else:
        u.missing["segment"] = msg("tags.skip.no_segmentation")
    rfm = _latest_segmentation(store, "rfm")
    if pinned.get("rfm_segmentation_id") is not None:
        rfm = (int(pinned["rfm_segmentation_id"]), "rfm")
    elif "rfm_segmentation_id" in pinned:
        rfm = None
    if rfm is not None:
        u.rfm_segmentation_id = rfm[0]
        values, _ = _values(store, rfm[0])
        u.fields.append(Field("rfm_segment", "segment", TEXT, 'rfm."key"', "rfm", values=values,
                              label="RFM segment", label_zh="RFM分群"))
        axes = (("r", "最近购买得分"), ("f", "购买频次得分"), ("m", "消费金额得分"))
        if not _revenue_known(store, rfm[0]):
            # every buyer's M is 1 there: a rule on it (a value tier) would rank unknown spend
            axes = axes[:2]
            u.missing["m_score"] = msg("tags.skip.no_m_score", segmentation=rfm[0])
        for axis, zh in axes:
            u.fields.append(Field(f"{axis}_score", "segment", NUMBER, f'rfm."{axis}_score"', "rfm",
                                  label=f"RFM {axis.upper()} score", label_zh=zh))
        u.tag_aliases["rfm"] = "rfm"
    else:
        for name in ("rfm_segment", "r_score", "f_score", "m_score"):
            u.missing[name] = msg("tags.skip.no_rfm")
    _scores(store, u, pinned.get("score_runs"))
    if with_tags:
        u.tag_run_id = pinned["tag_run_id"] if "tag_run_id" in pinned else latest_tag_run(store)
        if u.tag_run_id is not None:
            for i, t in enumerate(tag_taxonomy(store, u.tag_run_id)):
                values: dict[str, str] | None = None
                if t.get("closed"):
                    values = {}
                    for v in t.get("values", []):
                        for spelling in (v.get("label_zh"), v.get("label"), v["value"]):
                            if spelling:
                                values[str(spelling)] = str(v["value"])
                source = f"tag:{t['tag']}"
                u.tag_aliases[source] = f"t{i}"
                u.fields.append(Field(t["tag"], "tag", TEXT, f't{i}."value"', source, values=values,
                                      label=t.get("label", ""), label_zh=t.get("label_zh", "")))
    return u


def _revenue_known(store: Store, segmentation_id: int) -> bool:
    """False when the RFM segmentation found no prices in its build (its M axis means nothing)."""
    raw = store.scalar("SELECT metrics FROM segmentations WHERE segmentation_id = ?", [segmentation_id])
    metrics = json.loads(raw) if isinstance(raw, str) else (raw or {})
    return metrics.get("revenue_known") is not False


def _scores(store: Store, u: Universe, pinned: dict[str, int] | None = None) -> None:
    models: list[tuple[str, int]] = []
    if pinned is not None:
        models = sorted((m, int(r)) for m, r in pinned.items() if m != "clv")
    elif store.table_exists("prediction_scores"):
        models = [(str(m), int(r)) for m, r in store.query_rows(
            "SELECT model_name, max(run_id) FROM prediction_scores GROUP BY model_name ORDER BY model_name")]
    for i, (model, run_id) in enumerate(models):
        u.score_runs[model] = run_id
        alias = f"sc{i}"
        u.tag_aliases[f"score:{model}"] = alias
        u.fields.append(Field(f"{model}_probability", "score", NUMBER, f'{alias}."probability"', f"score:{model}",
                              label=f"{model} probability", label_zh=f"{model}概率"))
        u.fields.append(Field(f"{model}_decile", "score", NUMBER, f'{alias}."decile"', f"score:{model}",
                              label=f"{model} decile (10 = highest)", label_zh=f"{model}十分位（10最高）"))
    for model in KNOWN_MODELS:
        if model not in u.score_runs:
            hint = msg("tags.skip.not_scored", model=model)
            u.missing[f"{model}_probability"] = hint
            u.missing[f"{model}_decile"] = hint
    clv_run = None
    if pinned is not None:
        clv_run = pinned.get("clv")
    elif store.table_exists("clv_scores"):
        clv_run = store.scalar("SELECT max(run_id) FROM clv_scores")
    if clv_run is not None:
        u.score_runs["clv"] = int(clv_run)
        u.tag_aliases["clv"] = "clv"
        labels = {"clv": ("lifetime value", "客户终身价值"), "clv_decile": ("CLV decile (10 = most valuable)",
                                                                     "CLV十分位（10最高）"),
                  "p_alive": ("probability still active", "仍活跃概率"),
                  "expected_purchases": ("expected purchases", "预期购买次数"),
                  "expected_spend": ("expected spend per purchase", "预期客单价")}
        for name in CLV_NAMES:
            u.fields.append(Field(name, "score", NUMBER, f'clv."{name}"', "clv", label=labels[name][0],
                                  label_zh=labels[name][1]))
    else:
        for name in CLV_NAMES:
            u.missing[name] = msg("tags.skip.no_clv")


def from_clause(u: Universe, sources: tuple[str, ...] | list[str]) -> tuple[str, list[Any]]:
    """``FROM <features> f LEFT JOIN ...`` for the sources a plan reads, with its parameters."""
    sql = f"FROM {ident(u.feature_run.table_name)} f"
    params: list[Any] = []
    for source in sources:
        if source == "features":
            continue
        alias = u.tag_aliases.get(source)
        if alias is None:
            raise NotReadyError(f"nothing in the store provides {source}")
        if source == "segment":
            sql += (" LEFT JOIN (SELECT m.user_id, s.key FROM segment_members m JOIN segments s "
                    "ON s.segmentation_id = m.segmentation_id AND s.segment_id = m.segment_id "
                    f"WHERE m.segmentation_id = ?) {alias} ON {alias}.user_id = f.user_id")
            params.append(u.segmentation_id)
        elif source == "rfm":
            sql += (" LEFT JOIN (SELECT m.user_id, s.key, m.r_score, m.f_score, m.m_score FROM segment_members m "
                    "JOIN segments s ON s.segmentation_id = m.segmentation_id AND s.segment_id = m.segment_id "
                    f"WHERE m.segmentation_id = ?) {alias} ON {alias}.user_id = f.user_id")
            params.append(u.rfm_segmentation_id)
        elif source.startswith("tag:"):
            sql += (f" LEFT JOIN (SELECT user_id, value FROM user_tags WHERE run_id = ? AND tag = ?) {alias} "
                    f"ON {alias}.user_id = f.user_id")
            params += [u.tag_run_id, source[4:]]
        elif source.startswith("score:"):
            model = source[6:]
            sql += (f" LEFT JOIN (SELECT user_id, probability, decile FROM prediction_scores WHERE model_name = ? "
                    f"AND run_id = ?) {alias} ON {alias}.user_id = f.user_id")
            params += [model, u.score_runs[model]]
        elif source == "clv":
            sql += (f" LEFT JOIN (SELECT user_id, {', '.join(CLV_NAMES)} FROM clv_scores WHERE run_id = ?) {alias} "
                    f"ON {alias}.user_id = f.user_id")
            params.append(u.score_runs["clv"])
        else:
            raise NotReadyError(f"unknown source {source}")
    return sql, params


def select_users(u: Universe, plan: Plan, columns: str = "f.user_id",
                 extra_sources: tuple[str, ...] = ()) -> tuple[str, list[Any]]:
    """The query of the users a plan selects (one row each), and its parameters."""
    sources = tuple(dict.fromkeys([*plan.sources, *extra_sources]))
    frm, params = from_clause(u, sources)
    return f"SELECT {columns} {frm} WHERE {plan.where}", [*params, *plan.params]
