"""``segmark audience create|preview|list|show|export``: audiences from an expression over tags,
segments, features and scores."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from segmark.cli import app
from segmark.cli._common import JsonOpt, LangOpt, WorkspaceOpt, console, language, plain, print_json, workspace
from segmark.text import msg

audience_app = typer.Typer(help="Audiences: preview, create (with a holdout), list, show and export.",
                           no_args_is_help=True)
app.add_typer(audience_app, name="audience")

WHERE_HELP = ("The audience as an expression, e.g. \"has_tag('value_tier', '高价值') AND recency_days > 60\": "
              "comparisons (= != < <= > >=), IN (...), BETWEEN a AND b, IS [NOT] NULL, has_tag(tag[, value]), "
              "AND, OR, NOT and parentheses over features, segment, rfm_segment, tags and scores "
              "(churn_probability, propensity_decile, clv_decile...).")
WhereOpt = Annotated[str, typer.Option("--where", help=WHERE_HELP)]
HoldoutOpt = Annotated[float, typer.Option("--holdout", help="Share of the audience held out as control, "
                                           "stratified by segment (e.g. 0.1).", min=0.0, max=0.99)]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the holdout draw (the same seed gives the same "
                                      "groups).")]



def _composition(data: dict[str, Any], lang: str) -> None:
    if data.get("by_segment"):
        t = Table(title=msg("audience.by_segment", lang), title_justify="left")
        for key in ("segment", "users", "share", "penetration"):
            t.add_column(msg(f"audience.col.{key}", lang), justify="left" if key == "segment" else "right")
        for s in data["by_segment"]:
            t.add_row(plain(s["name_zh"] if lang == "zh" else s["name"]), f"{s['users']:,}", f"{s['share']:.1%}",
                      f"{s['penetration']:.1%}")
        console.print(t)
    if data.get("by_tag"):
        t = Table(title=msg("audience.by_tag", lang), title_justify="left")
        for key in ("tag", "value", "users", "share"):
            t.add_column(msg(f"audience.col.{key}", lang), justify="left" if key in ("tag", "value") else "right")
        for s in data["by_tag"]:
            t.add_row(plain(s["label_zh"] if lang == "zh" else s["label"]), plain(s["value"]), f"{s['users']:,}",
                      f"{s['share']:.1%}")
        console.print(t)


def _summary(data: dict[str, Any], lang: str) -> None:
    console.print(msg("audience.size", lang, size=data["size"], share=data.get("share", 0.0),
                      universe=data.get("universe", data["size"])))
    if data.get("holdout"):
        console.print(msg("audience.groups", lang, treatment=data["treatment"], control=data["control"],
                          holdout=data["holdout"], seed=data["seed"]))


@audience_app.command("preview")
def preview_cmd(
    where: WhereOpt,
    holdout: HoldoutOpt = 0.0,
    seed: SeedOpt = 0,
    as_json: JsonOpt = False,
    lang: LangOpt = None,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Size and composition (by segment, by tag) of an audience; nothing is saved.

    Examples:

      segmark audience preview --where "segment = 'At Risk' AND clv_decile >= 8"

      segmark audience preview --where "has_tag('cart_abandoner') AND age_group IN ('青年', '中年')" --holdout 0.1
    """
    from segmark.pipeline.audience import preview_audience

    with workspace(ws_dir, read_only=True) as ws:
        data = preview_audience(ws, where, holdout=holdout or None, seed=seed)
        if as_json:
            print_json(data)
            return
        lg = language(lang, ws)
        _summary(data, lg)
        _composition(data, lg)
        for w in data.get("warnings", []):
            console.print(plain(msg("campaign.warning", lg, text=w)), style="yellow", soft_wrap=True)


@audience_app.command("create")
def create_cmd(
    name: Annotated[str, typer.Argument(help="The audience's name.")],
    where: WhereOpt,
    holdout: HoldoutOpt = 0.0,
    seed: SeedOpt = 0,
    replace: Annotated[bool, typer.Option("--replace", help="Replace a saved audience of the same name.")] = False,
    as_json: JsonOpt = False,
    lang: LangOpt = None,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Save an audience, with a control group held out (stratified by segment) when --holdout is given.

    Examples:

      segmark audience create winback --where "segment = 'At Risk'" --holdout 0.1 --seed 7

      segmark audience create 高价值青年 --where "has_tag('value_tier', '高价值') AND age_group = '青年'"
    """
    from segmark.pipeline.audience import create_audience

    with workspace(ws_dir) as ws:
        a = create_audience(ws, name, where, holdout=holdout, seed=seed, replace=replace)
        data = a.to_dict()
        data["universe"] = ws.store.scalar("SELECT n_users FROM feature_runs WHERE run_id = ?",
                                           [a.ids["feature_run_id"]])
        data["share"] = a.size / data["universe"] if data["universe"] else 0.0
        if as_json:
            print_json(data)
            return
        lg = language(lang, ws)
        console.print(msg("audience.created", lg, name=name, size=a.size))
        _summary(data, lg)
        _composition(data, lg)


@audience_app.command("list")
def list_cmd(as_json: JsonOpt = False, lang: LangOpt = None, ws_dir: WorkspaceOpt = None) -> None:
    """Saved audiences with their sizes and groups, and the overlap between them.

    Examples:

      segmark audience list

      segmark audience list --json
    """
    from segmark.pipeline.audience import audience_overlap, list_audiences

    with workspace(ws_dir, read_only=True) as ws:
        audiences = list_audiences(ws.store)
        overlap = audience_overlap(ws.store)
        if as_json:
            print_json({"audiences": [a.to_dict() for a in audiences], "overlap": overlap})
            return
        lg = language(lang, ws)
        if not audiences:
            console.print(msg("audience.list.none", lg))
            return
        t = Table(title=msg("audience.list.title", lg), title_justify="left")
        for key in ("name", "size", "treatment", "control", "where", "created"):
            t.add_column(msg(f"audience.col.{key}", lg), justify="right" if key in ("size", "treatment", "control")
                         else "left", overflow="fold")
        for a in audiences:
            t.add_row(plain(a.name), f"{a.size:,}", f"{a.treatment:,}", f"{a.control:,}", plain(a.expression),
                      f"{a.created_at:%Y-%m-%d %H:%M}")
        console.print(t)
        _overlap(overlap, lg)


def _overlap(overlap: list[dict[str, Any]], lang: str) -> None:
    if not overlap:
        return
    t = Table(title=msg("audience.overlap.title", lang), title_justify="left")
    for key in ("a", "b", "both", "jaccard"):
        t.add_column(msg(f"audience.col.{key}", lang), justify="right" if key in ("both", "jaccard") else "left")
    for o in overlap[:20]:
        t.add_row(plain(o["a"]), plain(o["b"]), f"{o['users']:,}", f"{o['jaccard']:.2f}")
    console.print(t)


@audience_app.command("show")
def show_cmd(name: Annotated[str, typer.Argument(help="The audience's name.")], as_json: JsonOpt = False,
             lang: LangOpt = None, ws_dir: WorkspaceOpt = None) -> None:
    """One audience: its expression, groups, composition, playbook actions and overlaps.

    Examples:

      segmark audience show winback --lang zh
    """
    from segmark.pipeline.audience import audience_overlap, get_audience, playbook_rows

    with workspace(ws_dir, read_only=True) as ws:
        a = get_audience(ws.store, name)
        data = {**a.to_dict(), "playbook": playbook_rows(ws, a), "overlap": audience_overlap(ws.store, [name])}
        if as_json:
            print_json(data)
            return
        lg = language(lang, ws)
        console.print(msg("audience.show.title", lg, name=name, where=a.expression), soft_wrap=True)
        universe = ws.store.scalar("SELECT n_users FROM feature_runs WHERE run_id = ?", [a.ids["feature_run_id"]])
        console.print(msg("audience.size", lg, size=a.size, share=a.size / universe if universe else 0.0,
                          universe=universe or 0))
        if a.holdout:
            console.print(msg("audience.groups", lg, treatment=a.treatment, control=a.control, holdout=a.holdout,
                              seed=a.seed))
        if data["playbook"]:
            t = Table(title=msg("audience.by_segment", lg), title_justify="left")
            for key in ("segment", "users", "share", "action", "channel"):
                t.add_column(msg(f"audience.col.{key}", lg), justify="right" if key in ("users", "share") else "left",
                             overflow="fold")
            for s in data["playbook"]:
                t.add_row(plain(s["name_zh"] if lg == "zh" else s["name"]), f"{s['users']:,}", f"{s['share']:.1%}",
                          plain(s["action_zh"] if lg == "zh" else s["action"]), plain(s["channel"]))
            console.print(t)
        _composition({"by_tag": data.get("by_tag")}, lg)
        _overlap(data["overlap"], lg)


@audience_app.command("export")
def export_cmd(
    name: Annotated[str, typer.Argument(help="The audience's name.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV or Parquet file (by its suffix).")],
    columns: Annotated[list[str] | None, typer.Option(
        "--columns", help="More columns: any names an expression may use, comma-separated or repeated "
                          "(e.g. age,city,churn_probability,value_tier).", show_default=False)] = None,
    lang: LangOpt = None,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Write the audience's users with their group (treatment or control), segment, playbook action,
    chosen columns and, where recommendations exist, top items.

    Refused below audience.min_export_size users (segmark.toml).

    Examples:

      segmark audience export winback --out winback.csv --columns age,city,value_tier

      segmark audience export winback --out winback.parquet --lang zh
    """
    from segmark.pipeline.audience import export_audience

    picked = [c.strip() for group in (columns or []) for c in group.split(",") if c.strip()]
    with workspace(ws_dir, read_only=True) as ws:
        lg = language(lang, ws)
        r = export_audience(ws, name, out, columns=picked, lang=lg)
        console.print(msg("audience.exported", lg, users=r["users"], path=r["path"], treatment=r["treatment"],
                          control=r["control"], columns=", ".join(r["columns"])), soft_wrap=True)
        if r["quoted_cells"]:
            console.print(msg("audience.quoted_cells", lg, n=r["quoted_cells"]), soft_wrap=True)
