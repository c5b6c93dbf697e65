"""``segmark predict train|show|score|why|export``: churn, propensity and response models."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from segmark.cli import app
from segmark.cli._common import JsonOpt, Lang, WorkspaceOpt, console, plain, print_json, workspace
from segmark.localtime import local_day
from segmark.pipeline.predict import (
    PredictionModelInfo,
    explain_user,
    export_scores,
    get_model,
    score_model,
    train_model,
)
from segmark.text import msg

predict_app = typer.Typer(help="Predictions: churn, purchase propensity, campaign response.", no_args_is_help=True)
app.add_typer(predict_app, name="predict")

LangOpt = Annotated[Lang | None, typer.Option("--lang", help="Language of the output: en or zh "
                                              "(default: the workspace's lang).", show_default=False)]


class Target(StrEnum):
    churn = "churn"
    propensity = "propensity"
    response = "response"


def _lang(ws: Any, lang: Lang | None) -> str:
    return str(lang or ws.settings.lang)


def _f(v: Any) -> str:
    return "-" if v is None else f"{v:.3f}"


def baseline_label(name: str, lang: str) -> str:
    if name.startswith("best_single_input:"):
        return msg("predict.baseline.best_single_input", lang, column=name.split(":", 1)[1])
    key = f"predict.baseline.{name}"
    try:
        return msg(key, lang)
    except KeyError:
        return name


def print_model(info: PredictionModelInfo, lang: str, tz: str) -> None:
    """The model's evaluation as tables and sentences."""
    ev = info.evaluation
    console.print(msg("predict.train.title", lang, name=info.name, target=info.target, algorithm=_algorithm(ev),
                      rows=info.n_train, as_of=local_day(info.as_of, tz)), highlight=False)
    if info.label_source == "log":
        cuts = ", ".join(local_day(o, tz) for o in info.params.get("origins", []))
        console.print(msg("predict.train.origins", lang, horizon=info.horizon_days,
                          n=len(info.params.get("origins", [])), cuts=cuts), highlight=False)
    else:
        console.print(msg("predict.train.given", lang, source=info.label_source), highlight=False)
    console.print(msg(f"predict.cv.{ev['cv_scheme']}", lang, folds=info.params.get("cv"), rows=ev["cv_rows"]),
                  highlight=False)
    for w in info.warnings(lang):
        console.print(plain(w), style="yellow", highlight=False)
    t = Table(title=msg("predict.table.candidates", lang), title_justify="left")
    for col in (msg("predict.col.model", lang), "ROC-AUC", "PR-AUC", "Brier", "F1", msg("predict.col.chosen", lang)):
        t.add_column(col, justify="left" if col == msg("predict.col.model", lang) else "right")
    for c in ev["candidates"]:
        label = c["model"] + (f" ({', '.join(c['members'])})" if c.get("members") else "")
        t.add_row(label, _f(c["roc_auc"]), _f(c["pr_auc"]), _f(c["brier"]), _f(c["f1"]), "✓" if c["chosen"] else "")
    console.print(t)
    t = Table(title=msg("predict.table.evaluation", lang), title_justify="left")
    t.add_column(msg("predict.col.metric", lang))
    t.add_column(info.name, justify="right")
    for b in ev["baselines"]:
        t.add_column(baseline_label(b, lang), justify="right")
    for key in ("roc_auc", "pr_auc", "precision", "recall", "f1", "brier", "threshold", "top_decile_lift"):
        t.add_row(key, _f(ev["cv"].get(key)), *[_f(f.get(key)) for f in ev["baselines"].values()])
    console.print(t)
    console.print(msg("predict.threshold_rule", lang, threshold=ev["cv"]["threshold"]), highlight=False)
    for b, f in ev["baselines"].items():
        key = "predict.beats" if ev["beats_baselines"].get(b) else "predict.not_beats"
        console.print(msg(key, lang, name=info.name, baseline=baseline_label(b, lang), model=ev["cv"]["roc_auc"] or 0,
                          base=f["roc_auc"] or 0), highlight=False)
    oot = ev.get("out_of_time")
    if oot:
        m = oot["model"]
        console.print(msg("predict.out_of_time", lang, start=oot["window"][0][:10], end=oot["window"][1][:10],
                          auc=m["roc_auc"] or 0, pr=m["pr_auc"] or 0, lift=m["top_decile_lift"]), highlight=False)
        for b, f in oot["baselines"].items():
            console.print(msg("predict.out_of_time.baseline", lang, baseline=baseline_label(b, lang),
                              auc=f["roc_auc"] or 0), highlight=False)
    if info.importance:
        t = Table(title=msg("predict.importance.title", lang), title_justify="left")
        t.add_column(msg("predict.col.input", lang))
        t.add_column(msg("predict.col.importance", lang), justify="right")
        for k, v in list(info.importance.items())[:8]:
            t.add_row(k, f"{v:.4f}")
        console.print(t)


def _algorithm(ev: dict[str, Any]) -> str:
    for c in ev["candidates"]:
        if c["chosen"]:
            return c["model"] + (f" ({', '.join(c['members'])})" if c.get("members") else "")
    return "?"


@predict_app.command("train")
def train(
    target: Annotated[Target, typer.Argument(help="What to predict: churn, propensity or response.")],
    name: Annotated[str | None, typer.Option("--name", help="Model name (default: the target); scores are "
                                             "NAME_probability and NAME_decile.", show_default=False)] = None,
    horizon: Annotated[int, typer.Option("--horizon", help="Label window in days after each cut.", min=1)] = 90,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Scoring date (YYYY-MM-DD): training labels all end "
                                              "by it (default: the day after the last event).",
                                              show_default=False)] = None,
    label_column: Annotated[str | None, typer.Option("--label-column", help="A users-table column holding the label "
                                                     "(0/1, true/false, yes/no).", show_default=False)] = None,
    label_file: Annotated[Path | None, typer.Option("--label-file", help="A CSV file with columns user_id,label.",
                                                    show_default=False)] = None,
    cv: Annotated[int, typer.Option("--cv", help="Cross-validation folds.", min=2)] = 5,
    lang: LangOpt = None,
    json_out: JsonOpt = False,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Train a model: candidates (tree, logistic, SVM, MLP, gradient boosting, their ensemble) chosen by
    cross-validation, judged against naive baselines, stored with the evaluation; then score every user.

    Examples:

      segmark predict train propensity --horizon 30 --as-of 2024-07-01

      segmark predict train churn --horizon 90

      segmark predict train response --label-column Response --cv 5
    """
    with workspace(ws_dir) as ws:
        info = train_model(ws, target.value, name=name, horizon_days=horizon, as_of=as_of, label_column=label_column,
                           label_file=label_file, cv=cv)
        out_lang, tz = _lang(ws, lang), ws.settings.time.timezone
    if json_out:
        print_json(info.to_dict())
        return
    print_model(info, out_lang, tz)


@predict_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Model name.")],
    lang: LangOpt = None,
    json_out: JsonOpt = False,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """The evaluation of a stored model: candidates, baselines, threshold, importance.

    Example: [bold]segmark predict show churn --json[/]
    """
    with workspace(ws_dir, read_only=True) as ws:
        info = get_model(ws.store, name)
        out_lang, tz = _lang(ws, lang), ws.settings.time.timezone
    if json_out:
        print_json(info.to_dict())
        return
    print_model(info, out_lang, tz)


@predict_app.command("score")
def score(
    name: Annotated[str, typer.Argument(help="Model name.")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="Score as of this date (default: the model's).",
                                              show_default=False)] = None,
    lang: LangOpt = None,
    json_out: JsonOpt = False,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Score every user with a stored model and keep the scores (for tags and audiences).

    Examples: [bold]segmark predict score churn[/], [bold]segmark predict score propensity --as-of 2024-08-01[/]
    """
    with workspace(ws_dir) as ws:
        result = score_model(ws, name, as_of)
        out_lang, tz = _lang(ws, lang), ws.settings.time.timezone
    if json_out:
        print_json(result)
        return
    console.print(msg("predict.score.done", out_lang, users=result["users"], name=name,
                      as_of=local_day(result["as_of"], tz), mean=result["mean_probability"] or 0,
                      above=result["above_threshold"], threshold=result["threshold"]), highlight=False)
    t = Table()
    for key in ("predict.col.decile", "predict.col.users", "predict.col.mean_probability"):
        t.add_column(msg(key, out_lang), justify="right")
    for d in result["deciles"]:
        t.add_row(str(d["decile"]), f"{d['users']:,}", f"{d['mean_probability']:.3f}")
    console.print(t)


@predict_app.command("why")
def why(
    name: Annotated[str, typer.Argument(help="Model name.")],
    user_id: Annotated[str, typer.Argument(help="The user.")],
    lang: LangOpt = None,
    json_out: JsonOpt = False,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Why a user got their score: the inputs that move their probability most.

    Example: [bold]segmark predict why churn U1024 --lang zh[/]
    """
    with workspace(ws_dir, read_only=True) as ws:
        result = explain_user(ws, name, user_id)
        out_lang, tz = _lang(ws, lang), ws.settings.time.timezone
    if json_out:
        print_json(result)
        return
    console.print(msg("predict.why.head", out_lang, user_id=user_id, name=name, p=result["probability"],
                      decile=result["decile"] if result["decile"] is not None else "-",
                      threshold=result["threshold"], as_of=local_day(result["as_of"], tz)), highlight=False)
    if not result["reasons"]:
        console.print(msg("predict.why.none", out_lang))
    for r in result["reasons"]:
        console.print("  • " + (r["text_zh"] if out_lang == "zh" else r["text"]), highlight=False)


@predict_app.command("export")
def export(
    name: Annotated[str, typer.Argument(help="Model name.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write: .csv, .parquet or .json.")],
    lang: LangOpt = None,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Write the latest scores (user_id, probability, decile), highest first.

    Example: [bold]segmark predict export churn --out churn.csv[/]
    """
    with workspace(ws_dir, read_only=True) as ws:
        n, path = export_scores(ws, name, out)
        out_lang = _lang(ws, lang)
    console.print(msg("predict.export.done", out_lang, n=n, name=name, path=path), highlight=False)
