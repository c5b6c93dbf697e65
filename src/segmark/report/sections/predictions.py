"""Section "predictions": each model's ROC and PR curves beside its baselines, lift by decile and
calibration; lifetime value by segment; the sales forecast with its backtest."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from segmark.report.colors import QUALITATIVE
from segmark.report.figures import Chart, _style
from segmark.report.model import ReportData
from segmark.report.sections.base import BaseSection, Block, CollectOptions, Section
from segmark.store.base import Store
from segmark.text import Lang, msg

_MAX_MODELS = 3


def _models(store: Store) -> list[dict[str, Any]]:
    if not store.table_exists("prediction_models"):
        return []
    rows = store.query_rows(
        "SELECT m.name, m.target, m.algorithm, m.evaluation FROM prediction_models m JOIN (SELECT name, "
        "max(model_id) AS model_id FROM prediction_models GROUP BY name) l ON l.model_id = m.model_id "
        "ORDER BY m.name")
    return [{"name": n, "target": t, "algorithm": a, "evaluation": json.loads(e)} for n, t, a, e in rows][:_MAX_MODELS]


def _clv_by_segment(store: Store) -> pd.DataFrame | None:
    if not (store.table_exists("clv_scores") and store.table_exists("segmentations")):
        return None
    seg = store.scalar("SELECT max(segmentation_id) FROM segmentations")
    run = store.scalar("SELECT max(run_id) FROM clv_scores")
    if seg is None or run is None:
        return None
    df = store.query_df(
        "SELECT g.name, g.name_zh, count(*) AS users, avg(c.clv) AS mean_clv, sum(c.clv) AS total_clv "
        "FROM clv_scores c JOIN segment_members m ON m.user_id = c.user_id AND m.segmentation_id = ? "
        "JOIN segments g ON g.segmentation_id = m.segmentation_id AND g.segment_id = m.segment_id "
        "WHERE c.run_id = ? AND c.clv IS NOT NULL GROUP BY g.name, g.name_zh ORDER BY total_clv DESC", [seg, run])
    return df if len(df) else None


def _forecast(store: Store) -> pd.DataFrame | None:
    if not store.table_exists("forecasts"):
        return None
    df = store.query_df("SELECT week_start, series, revenue FROM forecasts WHERE group_key = 'all' AND run_id = "
                        "(SELECT max(run_id) FROM forecasts) ORDER BY week_start")
    return df if len(df) else None


def _curve_chart(m: dict[str, Any], lang: Lang, kind: str) -> Chart | None:
    ev = m["evaluation"]
    if not ev["cv"].get("curves"):
        return None
    fig = go.Figure()
    series = [(m["name"], ev["cv"]), *ev.get("baselines", {}).items()]
    for i, (label, figs) in enumerate(series):
        pts = (figs.get("curves") or {}).get(kind)
        if not pts:
            continue
        name = label if i == 0 else _baseline(label, lang)
        fig.add_trace(go.Scatter(x=[p[0] for p in pts], y=[p[1] for p in pts], mode="lines+markers", name=name,
                                 marker={"size": 4},
                                 line={"color": QUALITATIVE[i % len(QUALITATIVE)], "width": 3 if i == 0 else 2}))
    if kind == "roc":
        fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name=msg("predict.report.chance", lang),
                                 line={"color": "#bbbbbb", "dash": "dot"}))
    key = "auc" if kind == "roc" else "pr"
    value = ev["cv"]["roc_auc"] if kind == "roc" else ev["cv"]["pr_auc"]
    base = next(iter(ev.get("baselines", {}).values()), None)
    base_value = None if base is None else (base["roc_auc"] if kind == "roc" else base["pr_auc"])
    reading = msg(f"predict.report.{key}_reading", lang, name=m["name"], value=value or 0,
                  base=0 if base_value is None else base_value)
    title = msg(f"predict.report.{kind}_title", lang, name=m["name"])
    axes = ("predict.report.fpr", "predict.report.tpr") if kind == "roc" else ("predict.report.recall",
                                                                             "predict.report.precision")
    _style(fig, title, msg(axes[0], lang), msg(axes[1], lang), height=360, legend=True)
    return Chart(f"pred-{kind}-{m['name']}", title, fig, reading)


def _lift_chart(m: dict[str, Any], lang: Lang) -> Chart:
    lift = m["evaluation"]["cv"]["lift"]
    fig = go.Figure(go.Bar(x=[str(r["decile"]) for r in lift], y=[r["lift"] for r in lift],
                           marker_color=QUALITATIVE[0]))
    title = msg("predict.report.lift_title", lang, name=m["name"])
    _style(fig, title, msg("predict.report.decile", lang), msg("predict.report.lift", lang), height=320)
    top = lift[0]
    reading = msg("predict.report.lift_reading", lang, name=m["name"], lift=top["lift"],
                  gain=lift[2]["cumulative_gain"] if len(lift) > 2 else top["cumulative_gain"])
    return Chart(f"pred-lift-{m['name']}", title, fig, reading)


def _calibration_chart(m: dict[str, Any], lang: Lang) -> Chart:
    cal = m["evaluation"]["cv"]["calibration"]
    fig = go.Figure([
        go.Scatter(x=[c["predicted"] for c in cal], y=[c["observed"] for c in cal], mode="lines+markers",
                   name=m["name"], line={"color": QUALITATIVE[0]}),
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name=msg("predict.report.perfect", lang),
                   line={"color": "#bbbbbb", "dash": "dot"})])
    title = msg("predict.report.calibration_title", lang, name=m["name"])
    _style(fig, title, msg("predict.report.predicted", lang), msg("predict.report.observed", lang), height=320,
           legend=True)
    worst = max(abs(c["predicted"] - c["observed"]) for c in cal)
    reading = msg("predict.report.calibration_reading", lang, brier=m["evaluation"]["cv"]["brier"], worst=worst)
    return Chart(f"pred-cal-{m['name']}", title, fig, reading)


def _clv_chart(df: pd.DataFrame, lang: Lang) -> Chart:
    names = df["name_zh"] if lang == "zh" else df["name"]
    fig = go.Figure(go.Bar(x=df["total_clv"].tolist(), y=names.tolist(), orientation="h",
                           marker_color=QUALITATIVE[1]))
    title = msg("predict.report.clv_title", lang)
    _style(fig, title, msg("predict.report.clv_axis", lang), None, height=60 + 36 * len(df), left=160)
    fig.update_yaxes(autorange="reversed")
    share = float(df["total_clv"].iloc[0] / df["total_clv"].sum()) if df["total_clv"].sum() > 0 else 0.0
    users = float(df["users"].iloc[0] / df["users"].sum())
    reading = msg("predict.report.clv_reading", lang, segment=names.iloc[0], share=share, users=users)
    return Chart("pred-clv", title, fig, reading)


def _forecast_chart(df: pd.DataFrame, metrics: dict[str, Any] | None, lang: Lang) -> Chart:
    fig = go.Figure()
    for i, series in enumerate(("actual", "forecast", "seasonal_naive", "backtest")):
        part = df[df["series"] == series]
        if len(part):
            fig.add_trace(go.Scatter(x=part["week_start"].astype(str).tolist(), y=part["revenue"].tolist(),
                                     mode="lines+markers", marker={"size": 4},
                                     name=msg(f"predict.report.series_{series}", lang),
                                     line={"color": QUALITATIVE[i % len(QUALITATIVE)],
                                           "dash": "dot" if series in ("seasonal_naive", "backtest") else None}))
    title = msg("predict.report.forecast_title", lang)
    _style(fig, title, msg("forecast.col.week", lang), msg("forecast.col.revenue", lang), height=360,
           legend=True)
    bt = (metrics or {}).get("backtest") or {}
    model, naive = (bt.get("model") or {}).get("wape"), (bt.get("seasonal_naive") or {}).get("wape")
    if model is not None and naive is not None:
        reading = msg("predict.report.forecast_reading", lang, wape=model, naive=naive)
    else:
        reading = msg("predict.report.forecast_no_backtest", lang)
    return Chart("pred-forecast", title, fig, reading)


def _baseline(name: str, lang: Lang) -> str:
    if name.startswith("best_single_input:"):
        return msg("predict.baseline.best_single_input", lang, column=name.split(":", 1)[1])
    try:
        return msg(f"predict.baseline.{name}", lang)
    except KeyError:
        return name


class PredictionsSection(BaseSection):
    id = "predictions"
    area = "predict"

    def collect(self, store: Store, data: ReportData, options: CollectOptions) -> None:
        metrics = None
        if store.table_exists("forecasts"):
            row = store.query_rows("SELECT metrics FROM runs WHERE step = 'forecast revenue' AND status = 'ok' "
                                   "ORDER BY run_id DESC LIMIT 1")
            metrics = json.loads(row[0][0]) if row else None
        data.parts[self.id] = {"models": _models(store), "clv": _clv_by_segment(store),
                               "forecast": _forecast(store), "forecast_metrics": metrics}

    def build(self, data: ReportData, lang: Lang) -> Section:
        section = self.section(lang)
        part = data.parts.get(self.id) or {}
        models = part.get("models") or []
        if not models:
            section.blocks.append(Block("missing", text=msg("predict.report.no_models", lang)))
        for m in models:
            section.add(_curve_chart(m, lang, "roc"))
            section.add(_curve_chart(m, lang, "pr"))
            section.add(_lift_chart(m, lang))
            section.add(_calibration_chart(m, lang))
        clv = part.get("clv")
        section.add(None if clv is None else _clv_chart(clv, lang), msg("predict.report.no_clv", lang))
        fc = part.get("forecast")
        section.add(None if fc is None else _forecast_chart(fc, part.get("forecast_metrics"), lang),
                    msg("predict.report.no_forecast", lang))
        return section
