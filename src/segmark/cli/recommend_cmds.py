"""``segmark recommend build|evaluate|user|similar|export``: thin commands over
``segmark.pipeline.recommend``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from segmark.cli import app
from segmark.cli._common import (
    JsonOpt,
    Lang,
    WorkspaceOpt,
    console,
    err_console,
    fail,
    local_day,
    plain,
    print_json,
    workspace,
)
from segmark.pipeline.recommend import (
    build_recommendations,
    evaluate_recommendations,
    export_recommendations,
    recommend_user,
    similar_items,
)
from segmark.text import msg

recommend_app = typer.Typer(help="Recommendations by collaborative filtering: build, evaluate, look up, export.",
                            no_args_is_help=True)
app.add_typer(recommend_app, name="recommend")


class Method(StrEnum):
    auto = "auto"
    popularity = "popularity"
    item_knn = "item-knn"
    item_knn_bm25 = "item-knn-bm25"
    user_knn = "user-knn"
    als = "als"
    bpr = "bpr"
    repeat = "repeat"


class Repurchase(StrEnum):
    auto = "auto"
    allow = "allow"
    exclude = "exclude"


KOpt = Annotated[int, typer.Option("--k", help="Items per user.", min=1)]
LangOpt = Annotated[Lang | None, typer.Option("--lang", help="Messages in en or zh (default: the workspace's lang).")]
METRIC_COLUMNS = ("precision@10", "recall@10", "recall@20", "ndcg@10", "ndcg@20", "map@10", "hit_rate@10",
                  "coverage", "novelty")


def _lang(ws: Any, lang: Lang | None) -> str:
    return str(lang.value if lang else ws.settings.lang)


@contextmanager
def _progress(show: bool, lang: str) -> Iterator[Any]:
    """A live bar on stderr for fitting and scoring (nothing when printing JSON)."""
    if not show:
        yield None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            label = (msg("recommend.stage.score", lang) if stage == "score"  # type: ignore[arg-type]
                     else msg("recommend.stage.fit", lang, what=stage.removeprefix("fit ")))  # type: ignore[arg-type]
            if stage not in tasks:
                tasks[stage] = bar.add_task(label, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


@recommend_app.command("build")
def build(
    method: Annotated[Method | None, typer.Option("--method", help="auto picks by evaluation on the last held-out "
                                                  "window (default: recommend.method).")] = None,
    repurchase: Annotated[Repurchase | None, typer.Option(
        "--repurchase", help="May bought items be recommended again: auto decides per category from its repeat "
                             "rate (default: recommend.repurchase).")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Use events before this date (default: all).")] = None,
    lang: LangOpt = None,
    json_out: JsonOpt = False,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Fit a recommender on the events and keep every user's top items.

    Examples: [bold]segmark recommend build[/], [bold]segmark recommend build --method item-knn --repurchase
    exclude[/], [bold]segmark recommend build --method als --json[/]
    """
    with workspace(ws_dir) as ws:
        lg = _lang(ws, lang)
        with _progress(not json_out, lg) as progress:
            result = build_recommendations(ws, method=method.value if method else None,
                                           repurchase=repurchase.value if repurchase else None, as_of=as_of,
                                           progress=progress)
    if json_out:
        print_json(result)
        return
    console.print(msg("recommend.build.done", lg, run_id=result["run_id"], method=result["method"],  # type: ignore[arg-type]
                      users=result["n_users"], items=result["n_items"], as_of=local_day(result["as_of"]),
                      per_user=result["list_length"]), highlight=False)
    policy = result["policy"]
    console.print(msg("recommend.build.policy", lg, mode=policy["mode"], rate=policy["shop_rate"],  # type: ignore[arg-type]
                      allowed=policy["items_allowed"], items=policy["items"]), highlight=False)
    console.print(msg("recommend.build.reason", lg, reason=result["reason"]), highlight=False)  # type: ignore[arg-type]


def _parse_ks(text: str) -> list[int]:
    try:
        ks = sorted({int(p) for p in text.split(",") if p.strip()})
    except ValueError:
        fail(f"--k takes numbers separated by commas, e.g. 10,20 (not {text!r})")
        raise
    if not ks or ks[0] < 1:
        fail("--k takes positive numbers, e.g. 10,20")
    return ks


@recommend_app.command("evaluate")
def evaluate(
    holdout_days: Annotated[int | None, typer.Option("--holdout-days", help="Hold out the last N days (default: "
                                                     "recommend.holdout_days, else a tenth of the span).",
                                                     min=1)] = None,
    holdout: Annotated[str | None, typer.Option("--holdout", help="last-order: hold out each buyer's last "
                                                "order instead.")] = None,
    k: Annotated[str, typer.Option("--k", help="Cut-offs, comma-separated.")] = "10,20",
    lang: LangOpt = None,
    json_out: JsonOpt = False,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Measure every method on held-out purchases, overall and per segment, beside popularity and the
    repeat baseline; auto is chosen on the window before the one measured.

    Examples: [bold]segmark recommend evaluate[/], [bold]segmark recommend evaluate --holdout-days 7 --k 5,10[/],
    [bold]segmark recommend evaluate --holdout last-order --json[/]
    """
    ks = _parse_ks(k)
    with workspace(ws_dir) as ws:
        lg = _lang(ws, lang)
        with _progress(not json_out, lg) as progress:
            result = evaluate_recommendations(ws, holdout_days=holdout_days, holdout=holdout, ks=ks,
                                              progress=progress)
    if json_out:
        print_json(result)
        return
    console.print(msg("recommend.evaluate.title", lg, holdout=result["holdout"], users=result["users"],  # type: ignore[arg-type]
                      cold=result["cold_users"]), highlight=False)
    columns = [c for c in METRIC_COLUMNS if c.split("@")[-1] in {str(x) for x in ks} or "@" not in c]
    t = Table(show_edge=False)
    t.add_column(msg("recommend.col.method", lg))  # type: ignore[arg-type]
    for c in columns:
        t.add_column(c, justify="right")
    for name, figures in result["methods"].items():
        label = f"auto = {result['auto']['picked']}" if name == "auto" else name
        t.add_row(label, *[f"{figures.get(c, float('nan')):.4f}" for c in columns])
    console.print(t)
    auto = result["auto"]
    validation = auto["validation"].get(auto["picked"])
    console.print(msg("recommend.evaluate.picked", lg, picked=auto["picked"], criterion=auto["criterion"],  # type: ignore[arg-type]
                      validation=f"{validation:.4f}" if validation is not None else "-"), highlight=False)


def _items_table(items: list[dict[str, Any]], lg: str, title: str) -> Table:
    t = Table(title=title, title_justify="left", show_edge=False)
    for key, justify in (("rank", "right"), ("item", "left"), ("score", "right"), ("category", "left")):
        t.add_column(msg(f"recommend.col.{key}", lg), justify=justify)  # type: ignore[arg-type]
    for it in items:
        t.add_row(str(it["rank"]), plain(it["item_id"]), f"{it['score']:.4f}", plain(it.get("category") or "-"))
    return t


@recommend_app.command("user")
def user(
    user_id: Annotated[str, typer.Argument(help="The user's id.")],
    k: KOpt = 10,
    lang: LangOpt = None,
    json_out: JsonOpt = False,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """One user's top items from the latest build (a user without history gets their segment's popular items).

    Examples: [bold]segmark recommend user U1024[/], [bold]segmark recommend user U1024 --k 5 --json[/]
    """
    with workspace(ws_dir) as ws:
        lg = _lang(ws, lang)
        result = recommend_user(ws, user_id, k)
    if json_out:
        print_json(result)
        return
    console.print(_items_table(result["items"], lg, msg("recommend.user.title", lg, k=k, user=user_id,  # type: ignore[arg-type]
                                                        method=result["method"], run_id=result["build_run_id"])))
    if result["cold_start"]:
        console.print(msg("recommend.user.cold", lg), highlight=False)  # type: ignore[arg-type]


@recommend_app.command("similar")
def similar(
    item_id: Annotated[str, typer.Argument(help="The item's id.")],
    k: KOpt = 10,
    lang: LangOpt = None,
    json_out: JsonOpt = False,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """The items most like one item, by the latest build's model.

    Examples: [bold]segmark recommend similar I0042[/], [bold]segmark recommend similar I0042 --k 20 --json[/]
    """
    with workspace(ws_dir) as ws:
        lg = _lang(ws, lang)
        result = similar_items(ws, item_id, k)
    if json_out:
        print_json(result)
        return
    console.print(_items_table(result["items"], lg, msg("recommend.similar.title", lg, item=item_id,  # type: ignore[arg-type]
                                                        method=result["method"], run_id=result["build_run_id"])))


@recommend_app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="File to write: .csv, .parquet or .json.")],
    k: KOpt = 10,
    audience: Annotated[str | None, typer.Option("--audience", help="Only the members of this audience "
                                                 "(cold members get their segment's popular items).")] = None,
    lang: LangOpt = None,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Write user_id, item_id, rank (1 = first) and score for every user, or an audience's members.

    Examples: [bold]segmark recommend export --out recs.csv[/], [bold]segmark recommend export --out top5.parquet
    --k 5 --audience 双11召回[/]
    """
    with workspace(ws_dir) as ws:
        lg = _lang(ws, lang)
        result = export_recommendations(ws, out, k=k, audience=audience)
    console.print(msg("recommend.export.done", lg, rows=result["rows"], users=result["users"],  # type: ignore[arg-type]
                      path=result["path"]), highlight=False)
