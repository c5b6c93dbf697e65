"""The predictions step: train a churn, propensity or response model, store it with its evaluation,
score every user, explain one user's score, and hand the latest scores to tags and audiences.

Where the inputs come from:

- a shop with an event log: the feature build as of each cut plus the users table's own attribute
  columns (typed by ``core.predict.attributes``; dates become days before the cut). Labels from the
  log (churn, propensity) come from the window after each cut and training stacks several cuts
  (rolling origins), all ending by ``as_of``; given labels (a users-table column or a
  ``user_id,label`` file) go with the features as of ``as_of``;
- a plain user table with no events (a CRM export, a sessions table): its attribute columns only,
  labels from one of its columns or a file, stratified k-fold.

``latest_scores`` is the contract with tags and audiences: one row per user, ``<name>_probability``
and ``<name>_decile`` for every model's latest scoring run, and ``clv``, ``clv_decile``, ``p_alive``,
``expected_purchases``, ``expected_spend`` from the latest lifetime-value run.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmark.core.predict.attributes import AttributeTypes, attribute_frame, infer_types, latest_date
from segmark.core.predict.baselines import one_feature_baseline
from segmark.core.predict.btyd import BetaGeoModel
from segmark.core.predict.clv_data import repeat_summary
from segmark.core.predict.evaluation import deciles, evaluate, headline
from segmark.core.predict.labels import LOG_TARGETS, TARGETS, LabelError, log_labels, parse_labels, rolling_origins
from segmark.core.predict.leakage import label_leaks
from segmark.core.predict.model import PredictiveModel
from segmark.errors import ConfigError, InputError, NotFoundError, NotReadyError
from segmark.features.catalog import FeatureColumn
from segmark.localtime import local_day, to_local
from segmark.pipeline.clv import purchase_days
from segmark.pipeline.features import (
    FeatureRun,
    build_features,
    default_as_of,
    get_feature_run,
    parse_as_of,
    plan_features,
)
from segmark.signing import PICKLE, library_versions, load_signed, sign_pickle
from segmark.store.base import Capability, Store, require, utc_now
from segmark.text import msg
from segmark.workspace import Workspace

DOMAIN = "prediction_models"
"""The signing domain of predictive models (``segmark.signing``)."""
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
CANONICAL_USER_COLUMNS = ("signup_date", "gender", "birth_date", "age", "city", "member_level")
_EXCLUDED_FEATURES = {"user_id"}
BGNBD = "bgnbd_expected_purchases"
"""BG/NBD's expected purchases in the horizon, fitted before each cut: an input of log-label models
(the purchase-count model's view of each buyer) and, alone, the BG/NBD baseline."""


@dataclass(frozen=True)
class TrainingData:
    """Rows to learn from (one per user and cut), their labels and where they come from."""

    X: pd.DataFrame
    y: np.ndarray
    users: pd.Series
    origin: np.ndarray | None
    label_end: np.ndarray | None
    origins: list[datetime]
    numeric: list[str]
    categorical: list[str]
    types: AttributeTypes
    label_source: str
    mode: str
    """``log`` (labels from the log at rolling cuts), ``given`` (labels given, features at as_of), ``table``."""
    dropped: dict[str, int]
    leaks: dict[str, str] = field(default_factory=dict)
    """Inputs left out because they give the label away (``core.predict.leakage``), with the reason."""


# -- inputs ----------------------------------------------------------------------------------------


def _has_events(store: Store) -> bool:
    return bool(store.scalar("SELECT count(*) FROM (SELECT 1 FROM events LIMIT 1) AS e"))


def _raw_users(store: Store) -> pd.DataFrame:
    """The users table: canonical columns and the attribute columns, as text, indexed by user_id."""
    df = store.query_df("SELECT user_id, signup_date, gender, birth_date, age, city, member_level, "
                        "CAST(attributes AS VARCHAR) AS attributes FROM users ORDER BY user_id")
    attrs = pd.DataFrame([json.loads(a) if isinstance(a, str) and a else {} for a in df["attributes"]],
                         index=df["user_id"].astype(str))
    canon = df.drop(columns="attributes").set_index(df["user_id"].astype(str)).drop(columns="user_id")
    for c in ("signup_date", "birth_date"):
        canon[c] = pd.to_datetime(canon[c], errors="coerce").dt.strftime("%Y-%m-%d").where(canon[c].notna(), None)
    canon["age"] = canon["age"].astype(object).where(canon["age"].notna(), None)
    canon.index.name = attrs.index.name = "user_id"
    return pd.concat([canon, attrs], axis=1)


def _feature_frame(ws: Workspace, as_of: datetime) -> tuple[pd.DataFrame, tuple[FeatureColumn, ...]]:
    """The feature table as of a cut, computed without storing a build."""
    _, query = plan_features(ws, as_of)
    df = ws.store.query_df(query.sql)
    df["user_id"] = df["user_id"].astype(str)
    for c in query.columns:
        if c.kind == "text":
            df[c.name] = df[c.name].astype(object).where(df[c.name].notna(), None)
    return df.set_index("user_id"), query.columns


def _columns_of(features: pd.DataFrame, catalog: tuple[FeatureColumn, ...]) -> tuple[list[str], list[str]]:
    numeric = [c.name for c in catalog if c.kind != "text" and c.name in features and c.name not in _EXCLUDED_FEATURES]
    categorical = [c.name for c in catalog if c.kind == "text" and c.name in features]
    return numeric, categorical


def _attribute_inputs(raw: pd.DataFrame, types: AttributeTypes, as_of: datetime,
                      taken: set[str]) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The typed attribute columns (renamed ``attr_<name>`` where a feature has the name), and which
    of them are numeric and categorical."""
    frame = attribute_frame(raw, types, as_of)
    names = {c: f"attr_{c}" if c in taken else c for c in frame.columns}
    numeric = [names[c] for c in frame.columns if types.kinds[c] != "category"]
    categorical = [names[c] for c in frame.columns if types.kinds[c] == "category"]
    return frame.rename(columns=names), numeric, categorical


def _buyers(store: Store, start: datetime, end: datetime) -> set[str]:
    rows = store.query_rows("SELECT DISTINCT user_id FROM events WHERE event_type = 'purchase' "
                            "AND user_id IS NOT NULL AND ts >= ? AND ts < ?", [start, end])
    return {str(r[0]) for r in rows}


def _bgnbd_expected(ws: Workspace, cut: datetime, horizon_days: int) -> pd.Series:
    """BG/NBD's expected purchases in the horizon per past buyer, fitted on purchases before the cut."""
    try:
        days = purchase_days(ws.store, cut, ws.settings.time.timezone)
        summary = repeat_summary(days.per_user, days.end_day, "weeks")
        if len(summary) < 10 or summary["x"].sum() == 0:
            return pd.Series(dtype=float)
        model = BetaGeoModel().fit(summary["x"], summary["t_x"], summary["T"])
        return pd.Series(model.expected_purchases(horizon_days / 7, summary["x"], summary["t_x"], summary["T"]),
                         index=summary.index.astype(str))
    except (ValueError, FloatingPointError):
        return pd.Series(dtype=float)


def _label_table(ws: Workspace, label_column: str | None, label_file: str | Path | None,
                 raw: pd.DataFrame) -> tuple[pd.Series, str]:
    """Given labels by user (0/1) and the source's name; bad values name their file and line."""
    if label_column is not None:
        if label_column not in raw.columns:
            known = ", ".join(c for c in raw.columns if c not in CANONICAL_USER_COLUMNS) or "(none)"
            raise InputError(f"label_column {label_column!r} (--label-column) is not a column of the users table; "
                             f"its attribute columns are: {known}")
        values = raw[label_column]
        try:
            return parse_labels(values), f"column:{label_column}"
        except LabelError as exc:
            where = f" (user {exc.index[0]})" if exc.index else ""
            raise InputError(f"users table, column {label_column}{where}: {exc}") from None
    path = Path(label_file)  # type: ignore[arg-type]
    if not path.exists():
        raise InputError(f"label file {path} does not exist")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"{path}: cannot read it as a CSV file ({exc})") from None
    cols = [c.strip().lower() for c in df.columns]
    if "user_id" not in cols or "label" not in cols:
        raise InputError(f"{path}: the header must name columns user_id and label (found {', '.join(df.columns)})")
    df.columns = cols
    try:
        labels = parse_labels(df["label"])
    except LabelError as exc:
        line = int(exc.index[0]) + 2 if exc.index else None
        raise InputError(f"{path}, line {line}, column label: {exc}" if line else f"{path}: {exc}") from None
    users = df.loc[labels.index, "user_id"].str.strip()
    if users.duplicated().any():
        first = int(users[users.duplicated()].index[0]) + 2
        raise InputError(f"{path}, line {first}, column user_id: user {users.loc[first - 2]!r} has a second label")
    return pd.Series(labels.to_numpy(), index=users.to_numpy()), f"file:{path.name}"


def training_data(ws: Workspace, target: str, *, as_of: datetime, horizon_days: int,
                  label_column: str | None = None, label_file: str | Path | None = None,
                  n_origins: int = 3) -> TrainingData:
    """The rows, labels and inputs to train on (see the module docstring)."""
    store = ws.store
    raw = _raw_users(store)
    events = _has_events(store)
    given = label_column is not None or label_file is not None
    exclude = (label_column,) if label_column else ()
    types = infer_types(raw.drop(columns=list(CANONICAL_USER_COLUMNS), errors="ignore"), exclude=exclude)
    dropped: dict[str, int] = {}
    if not events:
        if not given:
            raise NotReadyError(f"{target} labels come from the event log, and this workspace has no events: "
                                "ingest events, or give labels with label_column or label_file "
                                "(--label-column COL or --label-file FILE)")
        canon_types = infer_types(raw[[c for c in CANONICAL_USER_COLUMNS if c in raw]])
        types = AttributeTypes({**canon_types.kinds, **types.kinds},
                               {**canon_types.date_formats, **types.date_formats},
                               {**canon_types.dropped, **types.dropped})
        labels, source = _label_table(ws, label_column, label_file, raw)
        X = attribute_frame(raw, types, as_of)
        known = labels.index.isin(X.index)
        dropped["labels_for_unknown_users"] = int((~known).sum())
        labels = labels[known]
        X = X.loc[labels.index]
        data = TrainingData(X, labels.to_numpy(), pd.Series(labels.index), None, None, [as_of], types.numeric,
                            types.categorical, types, source, "table", dropped)
        return _without_leaks(data, types.numeric + types.categorical)
    if given:
        labels, source = _label_table(ws, label_column, label_file, raw)
        features, catalog = _feature_frame(ws, as_of)
        numeric, categorical = _columns_of(features, catalog)
        attrs, a_num, a_cat = _attribute_inputs(raw, types, as_of, set(features.columns))
        X = features.join(attrs, how="left")
        known = labels.index.isin(X.index)
        dropped["labels_for_unknown_users"] = int((~known).sum())
        labels = labels[known]
        X = X.loc[labels.index]
        data = TrainingData(X, labels.to_numpy(), pd.Series(labels.index), None, None, [as_of], numeric + a_num,
                            categorical + a_cat, types, source, "given", dropped)
        # the labels' date is unknown: any input, features included, may have been written after them
        return _without_leaks(data, data.numeric + data.categorical)
    if target not in LOG_TARGETS:
        raise InputError(f"{target} needs its labels: label_column (a column of the users table) or label_file "
                         "(a CSV of user_id,label), or --label-column COL or --label-file FILE")
    tz = ws.settings.time.timezone
    start = store.scalar("SELECT min(ts) FROM events")
    # cuts and window ends at local midnights, as_of's included: whole days of the shop's calendar
    local = [o.date() for o in rolling_origins(_local(as_of, tz), horizon_days, data_start=_local(start, tz),
                                                n_origins=n_origins)]
    origins = [parse_as_of(d, tz) for d in local]
    if not origins:
        raise NotReadyError(f"the events start {local_day(start, tz)}: a {horizon_days}-day label window ending by "
                            f"{local_day(as_of, tz)} leaves less than 30 days of history to learn from; give a later "
                            "as_of or a shorter horizon_days (--as-of, --horizon)")
    parts, ys, cuts, ends = [], [], [], []
    numeric: list[str] = []
    categorical: list[str] = []
    for day, cut in zip(local, origins, strict=True):
        end = parse_as_of(day + timedelta(days=horizon_days), tz)
        features, catalog = _feature_frame(ws, cut)
        f_num, f_cat = _columns_of(features, catalog)
        attrs, a_num, a_cat = _attribute_inputs(raw, types, cut, set(features.columns))
        numeric, categorical = f_num + a_num, f_cat + a_cat
        X = features.join(attrs, how="left")
        X[BGNBD] = _bgnbd_expected(ws, cut, horizon_days).reindex(X.index)
        y = log_labels(target, X.index, X["frequency"], _buyers(store, cut, end))
        X = X.loc[y.index]
        parts.append(X)
        ys.append(y.to_numpy())
        cuts.append(np.full(len(y), np.datetime64(cut, "s")))
        ends.append(np.full(len(y), np.datetime64(end, "s")))
    X = pd.concat(parts)
    if X[BGNBD].notna().any():
        numeric = [*numeric, BGNBD]
    data = TrainingData(X, np.concatenate(ys), pd.Series(X.index.to_numpy()), np.concatenate(cuts),
                        np.concatenate(ends), origins, numeric, categorical, types, "log", "log", dropped)
    # features read events before each cut only (tested); the users table's columns carry no date
    return _without_leaks(data, a_num + a_cat)


def _without_leaks(data: TrainingData, columns: list[str]) -> TrainingData:
    """``data`` without the ``columns`` that give its labels away; attribute columns among them are
    marked ``label_leak`` in the typing, so scoring never reads them either."""
    leaks = label_leaks(data.X, data.y, columns)
    if not leaks:
        return data
    kinds, dropped = dict(data.types.kinds), dict(data.types.dropped)
    for c in leaks:
        original = c if c in kinds else c.removeprefix("attr_")
        if original in kinds:
            del kinds[original]
            dropped[original] = "label_leak"
    formats = {c: f for c, f in data.types.date_formats.items() if c in kinds}
    return replace(data, numeric=[c for c in data.numeric if c not in leaks],
                   categorical=[c for c in data.categorical if c not in leaks],
                   types=AttributeTypes(kinds, formats, dropped), leaks=leaks)


# -- training --------------------------------------------------------------------------------------


@dataclass
class PredictionModelInfo:
    """A stored model: what it predicts, as of when, how it was chosen and how good it is."""

    model_id: int
    name: str
    target: str
    as_of: datetime
    horizon_days: int | None
    label_source: str
    algorithm: str
    feature_run_id: int | None
    inputs: dict[str, Any]
    params: dict[str, Any]
    evaluation: dict[str, Any]
    importance: dict[str, float]
    n_train: int
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """The model's record; the headline figures (``roc_auc`` ... ``threshold``) at the top level with
        ``model`` (the algorithm) and ``baseline`` (the recency rule's figures, same keys)."""
        ev = self.evaluation
        baselines = ev.get("baselines", {})
        first = next(iter(baselines.values()), None)
        return {**headline(ev["cv"]), "model": self.algorithm,
                "baseline": None if first is None else {**headline(first), "model": next(iter(baselines))},
                "name": self.name, "target": self.target, "model_id": self.model_id, "as_of": self.as_of,
                "horizon_days": self.horizon_days, "label_source": self.label_source,
                "feature_run_id": self.feature_run_id, "n_train": self.n_train, "evaluation": ev,
                "importance": self.importance, "inputs": self.inputs, "params": self.params,
                "warnings": self.warnings("en"), "created_at": self.created_at}

    def warnings(self, lang: str) -> list[str]:
        """What the user should know about the inputs and labels: inputs left out because they give the
        label away, labels for users the workspace does not know."""
        out = [msg(f"predict.warn.leak.{why}", lang, column=c.removeprefix("attr_"))
               for c, why in self.inputs.get("leaks", {}).items()]
        unknown = (self.params.get("dropped") or {}).get("labels_for_unknown_users", 0)
        if unknown:
            out.append(msg("predict.warn.unknown_users", lang, n=unknown))
        return out


def _local(value: datetime, timezone: str) -> datetime:
    """A naive UTC time on the shop's wall clock (naive)."""
    return to_local(value, timezone).replace(tzinfo=None)


def _check_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise ConfigError(f"model name {name!r}: use lower-case letters, digits and _ (it names the score columns "
                          f"{name}_probability and {name}_decile)")
    return name


def _resolve_as_of(ws: Workspace, as_of: str | date | datetime | None) -> datetime:
    tz = ws.settings.time.timezone
    if as_of is not None:
        return parse_as_of(as_of, tz)
    if _has_events(ws.store):
        return default_as_of(ws.store, tz)
    raw = _raw_users(ws.store)
    if raw.empty:
        raise NotReadyError("this workspace has no users and no events: ingest a users file or events first")
    types = infer_types(raw)
    last = latest_date(raw, types)
    if last is not None:
        return parse_as_of(last.date() + timedelta(days=1), tz)
    ingested = ws.store.scalar("SELECT max(ingested_at) FROM sources WHERE table_name = 'users'")
    return parse_as_of(ingested.date() + timedelta(days=1), tz)


def train_model(ws: Workspace, target: str, *, name: str | None = None, horizon_days: int = 90,
                as_of: str | date | datetime | None = None, label_column: str | None = None,
                label_file: str | Path | None = None, cv: int = 5, candidates: list[str] | None = None,
                n_origins: int = 3, score: bool = True) -> PredictionModelInfo:
    """Train, evaluate and store a model, then (``score``) score every user as of ``as_of``."""
    if target not in TARGETS:
        raise ConfigError(f"target must be one of {', '.join(TARGETS)}, not {target!r}")
    if label_column is not None and label_file is not None:
        raise ConfigError("give label_column or label_file (--label-column or --label-file), not both")
    if horizon_days <= 0:
        raise ConfigError("horizon_days must be a positive number of days")
    if cv < 2:
        raise ConfigError("cv must be at least 2 folds")
    name = _check_name(name or target)
    store = ws.store
    require(store, Capability.BLOBS, "store trained prediction models")
    started = utc_now()
    cutoff = _resolve_as_of(ws, as_of)
    data = training_data(ws, target, as_of=cutoff, horizon_days=horizon_days, label_column=label_column,
                         label_file=label_file, n_origins=n_origins)
    if len(np.unique(data.y)) < 2:
        raise InputError(f"every {target} label is {int(data.y[0])} over {len(data.y):,} rows: nothing to learn")
    baselines = {}
    if "recency_days" in data.X.columns:
        baselines["recency"] = one_feature_baseline("recency_days")
    if BGNBD in data.X.columns and data.X[BGNBD].notna().any():
        baselines["bgnbd"] = one_feature_baseline(BGNBD)
    if not baselines:
        best = _best_single(data)
        if best is not None:
            baselines[f"best_single_input:{best}"] = one_feature_baseline(best)
    model = PredictiveModel(numeric=data.numeric, categorical=data.categorical, cv=cv, candidates=candidates,
                            random_state=ws.settings.segment.random_state)
    try:
        model.fit(data.X, data.y, groups=data.users, origin=data.origin, label_end=data.label_end,
                  baselines=baselines)
    except ValueError as exc:
        raise InputError(f"cannot train {name}: {exc}") from None
    evaluation: dict[str, Any] = {
        "cv": model.evaluation_, "cv_scheme": model.cv_scheme_, "cv_rows": model.cv_rows_,
        "candidates": model.candidates_, "baselines": model.baselines_,
        "beats_baselines": {b: (model.evaluation_["roc_auc"] or 0) > (f["roc_auc"] or 0)
                            for b, f in model.baselines_.items()},
    }
    feature_run: FeatureRun | None = None
    if data.mode != "table":
        feature_run = _feature_build_at(ws, cutoff)
    model_id = store.next_run_id()
    payload = {"model": model, "types": data.types, "mode": data.mode, "target": target, "horizon_days": horizon_days,
               "baselines": {b: p for b, p in baselines.items()}}
    if data.mode == "log":
        oot = _out_of_time(ws, model, data, baselines, target, cutoff, horizon_days)
        if oot is not None:
            evaluation["out_of_time"] = oot
    fmt, (blob, sig) = PICKLE, sign_pickle(ws, model_id, payload, domain=DOMAIN)
    inputs = {"numeric": data.numeric, "categorical": data.categorical,
              "attributes": {"kinds": data.types.kinds, "date_formats": data.types.date_formats,
                             "dropped": data.types.dropped},
              "leaks": data.leaks}
    params = {"target": target, "name": name, "horizon_days": horizon_days if data.mode == "log" else None,
              "cv": cv, "candidates": candidates, "mode": data.mode, "label_source": data.label_source,
              "origins": [o.isoformat() for o in data.origins], "dropped": data.dropped}
    created = utc_now()
    info = PredictionModelInfo(model_id, name, target, cutoff, params["horizon_days"], data.label_source,
                               model.algorithm_, None if feature_run is None else feature_run.run_id, inputs, params,
                               evaluation, model.importance_, model.n_train_, created)
    try:
        with store.atomic():
            store.insert("prediction_models", pd.DataFrame([{
                "model_id": model_id, "name": name, "target": target, "as_of": cutoff,
                "horizon_days": info.horizon_days, "label_source": data.label_source, "algorithm": model.algorithm_,
                "feature_run_id": info.feature_run_id, "inputs": _json(inputs), "params": _json(params),
                "evaluation": _json(evaluation), "importance": _json(model.importance_), "n_train": model.n_train_,
                "format": fmt, "versions": _json(library_versions("scipy")), "model": blob,
                "signature": sig, "created_at": created}]))
            store.record_run(model_id, "predict train", "ok", started_at=started, as_of=cutoff, params=params,
                             metrics=headline(model.evaluation_))
    except (Exception, KeyboardInterrupt) as exc:
        store.record_run(model_id, "predict train", "failed", started_at=started, as_of=cutoff, params=params,
                         message=str(exc) or type(exc).__name__)
        raise
    if score:
        score_model(ws, name)
    return info


def _best_single(data: TrainingData) -> str | None:
    """The numeric input that ranks the labels best on its own (either direction)."""
    best, best_auc = None, 0.5
    for c in data.numeric:
        v = pd.to_numeric(data.X[c], errors="coerce").to_numpy(dtype=float)
        ok = ~np.isnan(v)
        if ok.sum() < 10 or len(np.unique(data.y[ok])) < 2:
            continue
        auc = evaluate(data.y[ok], (pd.Series(v[ok]).rank(pct=True)).to_numpy())["roc_auc"] or 0.5
        auc = max(auc, 1 - auc)
        if auc > best_auc:
            best, best_auc = c, auc
    return best


def _feature_build_at(ws: Workspace, cutoff: datetime) -> FeatureRun:
    """The latest stored feature build as of ``cutoff``, built when there is none."""
    rows = ws.store.query_rows("SELECT run_id FROM feature_runs WHERE as_of = ? ORDER BY run_id DESC LIMIT 1",
                               [cutoff]) if ws.store.table_exists("feature_runs") else []
    if rows:
        return get_feature_run(ws.store, int(rows[0][0]))
    return build_features(ws, as_of=cutoff)


def _out_of_time(ws: Workspace, model: PredictiveModel, data: TrainingData, baselines: dict[str, Any],
                 target: str, cutoff: datetime, horizon_days: int) -> dict[str, Any] | None:
    """Scores made as of ``as_of`` against what happened after it, when the log covers the window."""
    last = ws.store.scalar("SELECT max(ts) FROM events")
    tz = ws.settings.time.timezone
    end = parse_as_of(_local(cutoff, tz).date() + timedelta(days=horizon_days), tz)
    if last is None or last < end - timedelta(days=1):
        return None
    X = _inputs_at(ws, {"model": model, "types": data.types, "mode": "log", "target": target,
                        "horizon_days": horizon_days}, cutoff)
    y = log_labels(target, X.index, X["frequency"], _buyers(ws.store, cutoff, end))
    X = X.loc[y.index]
    if y.nunique() < 2:
        return None
    p = model.score(X)
    last_day = _local(end, tz).date() - timedelta(days=1)
    out: dict[str, Any] = {"window": [_local(cutoff, tz).date().isoformat(), last_day.isoformat()],
                           "model": evaluate(y.to_numpy(), p, model.threshold_), "baselines": {}}
    for bname, pipe in baselines.items():
        fitted = pipe.fit(data.X, data.y)
        pb = fitted.predict_proba(X)[:, 1]
        # each at the threshold it chose on the training folds, as the model is
        out["baselines"][bname] = evaluate(y.to_numpy(), pb, model.baselines_[bname]["threshold"])
    return out


# -- reading models --------------------------------------------------------------------------------

_MODEL_COLUMNS = ("model_id, name, target, as_of, horizon_days, label_source, algorithm, feature_run_id, inputs, "
                  "params, evaluation, importance, n_train, created_at")


def get_model(store: Store, name: str) -> PredictionModelInfo:
    """The latest model trained under ``name``."""
    if not store.table_exists("prediction_models"):
        raise NotReadyError("no predictive model yet: run `segmark predict train churn|propensity|response`")
    rows = store.query_rows(f"SELECT {_MODEL_COLUMNS} FROM prediction_models WHERE name = ? "
                            "ORDER BY model_id DESC LIMIT 1", [name])
    if not rows:
        names = [r[0] for r in store.query_rows("SELECT DISTINCT name FROM prediction_models ORDER BY name")]
        raise NotFoundError(f"no model named {name!r}" + (f" (models: {', '.join(names)})" if names else
                                                          ": run `segmark predict train ...` first"))
    r = rows[0]
    return PredictionModelInfo(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], json.loads(r[8]), json.loads(r[9]),
                               json.loads(r[10]), json.loads(r[11]), r[12], r[13])


def list_models(store: Store) -> list[PredictionModelInfo]:
    """The latest model of each name."""
    if not store.table_exists("prediction_models"):
        return []
    names = [r[0] for r in store.query_rows("SELECT DISTINCT name FROM prediction_models ORDER BY name")]
    return [get_model(store, n) for n in names]


def load_model(ws: Workspace, model_id: int) -> dict[str, Any]:
    """A stored model's payload, verified before unpickling."""
    rows = ws.store.query_rows("SELECT format, model, signature FROM prediction_models WHERE model_id = ?", [model_id])
    if not rows:
        raise NotFoundError(f"no predictive model {model_id}")
    fmt, blob, sig = rows[0]
    return load_signed(ws, model_id, fmt, bytes(blob), sig, domain=DOMAIN, what=f"predictive model {model_id}",
                               remedy="Train a new one here with `segmark predict train`.")


# -- scoring ---------------------------------------------------------------------------------------


def _inputs_at(ws: Workspace, payload: dict[str, Any], cutoff: datetime, users: list[str] | None = None,
               ) -> pd.DataFrame:
    """A stored model's inputs for every user (or ``users``) as of ``cutoff``."""
    raw = _raw_users(ws.store)
    types: AttributeTypes = payload["types"]
    model: PredictiveModel = payload["model"]
    if payload["mode"] == "table":
        X = attribute_frame(raw, types, cutoff)
    else:
        features, _ = _feature_frame(ws, cutoff)
        attrs, _, _ = _attribute_inputs(raw, types, cutoff, set(features.columns))
        X = features.join(attrs, how="left")
        if payload["mode"] == "log" and payload["target"] == "churn":
            X = X[X["frequency"] > 0]
        if payload["mode"] == "log":
            X[BGNBD] = _bgnbd_expected(ws, cutoff, payload["horizon_days"]).reindex(X.index)
    if users is not None:
        missing = [u for u in users if u not in X.index]
        if missing:
            day = local_day(cutoff, ws.settings.time.timezone)
            raise NotFoundError(f"user {missing[0]!r} has no inputs as of {day}"
                                + (" (churn is scored for past buyers only)" if payload["target"] == "churn" else ""))
        X = X.loc[users]
    for c in model.inputs:
        if c not in X.columns:
            X[c] = np.nan
    return X


def score_model(ws: Workspace, name: str, as_of: str | date | datetime | None = None) -> dict[str, Any]:
    """Score every user with the latest model ``name`` as of ``as_of`` (default: the model's date)."""
    store = ws.store
    started = utc_now()
    info = get_model(store, name)
    payload = load_model(ws, info.model_id)
    cutoff = info.as_of if as_of is None else parse_as_of(as_of, ws.settings.time.timezone)
    X = _inputs_at(ws, payload, cutoff)
    p = payload["model"].score(X)
    d = deciles(p)
    run_id = store.next_run_id()
    rows = pd.DataFrame({"run_id": run_id, "model_name": name, "user_id": X.index.astype(str), "probability": p,
                         "decile": d.astype(np.int8), "as_of": cutoff})
    params = {"model_id": info.model_id, "name": name}
    summary = {"users": len(rows), "mean_probability": float(p.mean()) if len(p) else None,
               "above_threshold": int((p >= payload["model"].threshold_).sum())}
    try:
        with store.atomic():
            store.insert("prediction_scores", rows)
            store.record_run(run_id, "predict score", "ok", started_at=started, as_of=cutoff, params=params,
                             metrics=summary)
    except (Exception, KeyboardInterrupt) as exc:
        store.record_run(run_id, "predict score", "failed", started_at=started, as_of=cutoff, params=params,
                         message=str(exc) or type(exc).__name__)
        raise
    by_decile = rows.groupby("decile")["probability"].agg(["count", "mean"]).sort_index(ascending=False)
    return {"run_id": run_id, "name": name, "model_id": info.model_id, "as_of": cutoff, **summary,
            "threshold": payload["model"].threshold_,
            "deciles": [{"decile": int(k), "users": int(r["count"]), "mean_probability": float(r["mean"])}
                        for k, r in by_decile.iterrows()]}


def _latest_score_run(store: Store, name: str) -> int:
    run = store.scalar("SELECT max(run_id) FROM prediction_scores WHERE model_name = ?", [name]) \
        if store.table_exists("prediction_scores") else None
    if run is None:
        raise NotReadyError(f"model {name!r} has not scored anyone yet: run `segmark predict score {name}`")
    return int(run)


def export_scores(ws: Workspace, name: str, out: Path | str) -> tuple[int, Path]:
    """Write the latest scores of ``name`` (user_id, probability, decile) to CSV, Parquet or JSON."""
    path = Path(out)
    fmt = {"pq": "parquet", "jsonl": "json"}.get(path.suffix.lstrip(".").lower(), path.suffix.lstrip(".").lower())
    if fmt not in ("csv", "parquet", "json"):
        raise InputError(f"cannot tell the export format from {path.name!r}: use .csv, .parquet or .json")
    get_model(ws.store, name)
    run = _latest_score_run(ws.store, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    ws.store.export("SELECT user_id, probability, decile FROM prediction_scores WHERE run_id = ? AND model_name = ? "
                    "ORDER BY probability DESC, user_id", path, fmt, [run, name])
    n = int(ws.store.scalar("SELECT count(*) FROM prediction_scores WHERE run_id = ?", [run]))
    return n, path


def feature_labels(store: Store, feature_run_id: int | None) -> dict[str, tuple[str, str]]:
    """Input name -> (English label, Chinese label) from the feature catalogue; attributes keep their name."""
    if feature_run_id is None:
        return {}
    run = get_feature_run(store, feature_run_id)
    return {c.name: (c.name.replace("_", " "), c.label_zh or c.name) for c in run.columns}


def explain_user(ws: Workspace, name: str, user_id: str, top: int = 3) -> dict[str, Any]:
    """Why a user got their score: the probability and the inputs that move it most (see
    ``PredictiveModel.explain``), with English and Chinese labels."""
    store = ws.store
    info = get_model(store, name)
    payload = load_model(ws, info.model_id)
    run = _latest_score_run(store, name)
    cutoff = store.scalar("SELECT max(as_of) FROM prediction_scores WHERE run_id = ?", [run])
    X = _inputs_at(ws, payload, cutoff, [str(user_id)])
    model: PredictiveModel = payload["model"]
    p = float(model.score(X)[0])
    decile = store.scalar("SELECT decile FROM prediction_scores WHERE run_id = ? AND user_id = ?", [run, str(user_id)])
    labels = feature_labels(store, info.feature_run_id)
    reasons = []
    for r in model.explain(X, top=top)[0]:
        en, zh = labels.get(r["feature"], (r["feature"].removeprefix("attr_"), r["feature"].removeprefix("attr_")))
        key = "predict.why.raises" if r["effect"] > 0 else "predict.why.lowers"
        params = {"feature": en, "value": _fmt(r["value"]), "typical": _fmt(r["typical"]),
                  "effect": f"{abs(r['effect']):.3f}"}
        reasons.append({**r, "label": en, "label_zh": zh, "text": msg(key, "en", **params),
                        "text_zh": msg(key, "zh", **{**params, "feature": zh})})
    return {"name": name, "model_id": info.model_id, "user_id": str(user_id), "as_of": cutoff, "probability": p,
            "decile": None if decile is None else int(decile), "threshold": model.threshold_,
            "above_threshold": p >= model.threshold_, "reasons": reasons}


explain_prediction = explain_user
"""``sm.explain_prediction``: the library name of ``explain_user``."""


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1e6 else f"{v:,.0f}"
    return str(v)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


# -- downstream ------------------------------------------------------------------------------------


def latest_scores(store: Store) -> pd.DataFrame:
    """Every scored user's latest figures, indexed by user_id: ``<name>_probability`` and
    ``<name>_decile`` per model name (its latest scoring run), and ``expected_purchases``, ``p_alive``,
    ``expected_spend``, ``clv``, ``clv_decile`` from the latest lifetime-value run. Empty (no columns)
    when nothing was scored."""
    frames = []
    if store.table_exists("prediction_scores"):
        latest = store.query_df(
            "SELECT s.model_name, s.user_id, s.probability, s.decile FROM prediction_scores s "
            "JOIN (SELECT model_name, max(run_id) AS run_id FROM prediction_scores GROUP BY model_name) l "
            "ON l.model_name = s.model_name AND l.run_id = s.run_id")
        for model_name, part in latest.groupby("model_name"):
            frames.append(part.set_index("user_id")[["probability", "decile"]].rename(
                columns={"probability": f"{model_name}_probability", "decile": f"{model_name}_decile"}))
    if store.table_exists("clv_scores"):
        clv = store.query_df("SELECT user_id, expected_purchases, p_alive, expected_spend, clv, clv_decile "
                             "FROM clv_scores WHERE run_id = (SELECT max(run_id) FROM clv_scores)")
        if len(clv):
            frames.append(clv.set_index("user_id"))
    if not frames:
        return pd.DataFrame(index=pd.Index([], name="user_id", dtype=object))
    out = pd.concat(frames, axis=1, join="outer")
    out.index.name = "user_id"
    return out.sort_index()

