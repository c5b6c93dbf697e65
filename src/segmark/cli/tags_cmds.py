"""``segmark tags apply|list|show``: compute the tag file's tags, read the taxonomy, one user's tags."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from segmark.cli import app
from segmark.cli._common import (
    JsonOpt,
    LangOpt,
    WorkspaceOpt,
    console,
    language,
    local_day,
    plain,
    print_json,
    workspace,
)
from segmark.text import label as _label
from segmark.text import msg

tags_app = typer.Typer(help="User tags: apply a tag file, list the taxonomy with coverage, show a user's tags.",
                       no_args_is_help=True)
app.add_typer(tags_app, name="tags")




@tags_app.command("apply")
def apply_cmd(
    rules: Annotated[Path | None, typer.Option("--rules", help="Tag file (default: the shipped one, which works on "
                                               "any shop).", show_default=False)] = None,
    features_run: Annotated[int | None, typer.Option("--features-run", help="Feature build (default: the latest).",
                                                     show_default=False)] = None,
    as_json: JsonOpt = False,
    lang: LangOpt = None,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Compute every tag of a tag file for the users of a feature build and keep the run.

    Tags that need a model or segmentation not made yet are skipped and listed.

    Examples:

      segmark tags apply

      segmark tags apply --rules my_tags.yaml --json
    """
    from segmark.pipeline.tags import apply_tags, skip_reason

    with workspace(ws_dir) as ws:
        run = apply_tags(ws, rules, feature_run_id=features_run)
        if as_json:
            print_json(run.to_dict())
            return
        lg = language(lang, ws)
        console.print(msg("tags.applied", lg, run_id=run.run_id, tags=len(run.taxonomy), users=run.n_users,
                          feature_run_id=run.feature_run_id, as_of=local_day(run.as_of)))
        console.print(_taxonomy_table(run.taxonomy, lg, None))
        for s in run.skipped:
            console.print(plain(msg("tags.skipped", lg, tag=s["tag"], reason=skip_reason(s, lg))), style="yellow",
                          soft_wrap=True)


def _taxonomy_table(taxonomy: list[dict[str, Any]], lang: str, title: str | None) -> Table:
    t = Table(title=title, title_justify="left")
    for key in ("tag", "kind", "coverage", "values"):
        t.add_column(msg(f"tags.col.{key}", lang), justify="right" if key == "coverage" else "left",
                     overflow="fold", ratio=3 if key == "values" else None)
    for tag in taxonomy:
        values = ", ".join(f"{_label(v, lang)} {v['users']:,}" for v in tag["values"] if v.get("users"))
        t.add_row(f"{tag['tag']}\n[dim]{_label(tag, lang, 'group_label')} / {_label(tag, lang)}[/]",
                  msg(f"tags.kind.{tag['kind']}", lang), f"{tag['coverage']:.1%}\n[dim]{tag['users']:,}[/]", values)
    return t


@tags_app.command("list")
def list_cmd(
    run_id: Annotated[int | None, typer.Option("--run", help="Tag run (default: the latest).",
                                               show_default=False)] = None,
    as_json: JsonOpt = False,
    lang: LangOpt = None,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """The taxonomy with each tag's coverage and value counts, and the largest overlaps.

    Examples:

      segmark tags list

      segmark tags list --json --lang zh
    """
    from segmark.pipeline.tags import list_tags, skip_reason, tag_value_label

    with workspace(ws_dir, read_only=True) as ws:
        data = list_tags(ws.store, run_id)
        if as_json:
            print_json(data)
            return
        lg = language(lang, ws)
        console.print(_taxonomy_table(data["tags"], lg, msg("tags.title", lg, run_id=data["run_id"],
                                                              source=data["source"], users=data["n_users"],
                                                              as_of=local_day(data["as_of"]))))
        if data["overlap"]:
            t = Table(title=msg("tags.overlap.title", lg), title_justify="left")
            for key in ("tag", "tag", "both", "jaccard"):
                t.add_column(msg(f"tags.col.{key}", lg), justify="right" if key in ("both", "jaccard") else "left")
            by_tag = {tag["tag"]: tag for tag in data["tags"]}
            for o in data["overlap"][:10]:
                t.add_row(plain(tag_value_label(by_tag, o["tag_a"], o["value_a"], lg)),
                          plain(tag_value_label(by_tag, o["tag_b"], o["value_b"], lg)),
                          f"{o['users']:,}", f"{o['jaccard']:.2f}")
            console.print(t)
        for s in data["skipped"]:
            console.print(plain(msg("tags.skipped", lg, tag=s["tag"], reason=skip_reason(s, lg))), style="yellow",
                          soft_wrap=True)


def why(item: dict[str, Any], lang: str) -> str:
    """Why a tag applies to the user, in ``lang``."""
    if "rule" in item:
        values = ", ".join(f"{k} = {_fmt(v)}" for k, v in item.get("values", {}).items())
        return msg("tags.why.rule" if values else "tags.why.rule_plain", lang, rule=item["rule"], values=values)
    ev = item.get("evidence", {})
    if "segmentation" in ev:
        return msg("tags.why.segment", lang, segmentation=ev["segmentation"])
    if "run" in ev:
        detail = ", ".join(f"{k} {v}" for k, v in ev.items() if k != "run")
        return msg("tags.why.score", lang, run=ev["run"], detail=detail)
    if "list" in ev:
        return msg("tags.why.list", lang, file=ev["list"])
    if "n" in ev:
        key = "tags.why.behaviour_item" if "item" in ev else "tags.why.behaviour"
        return msg(key, lang, n=ev["n"], last=ev.get("last", "?"), item=ev.get("item", ""))
    return msg("tags.why.sql", lang) + (f": {ev}" if ev else "")


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


@tags_app.command("show")
def show_cmd(
    user_id: Annotated[str, typer.Argument(help="The user's id.")],
    run_id: Annotated[int | None, typer.Option("--run", help="Tag run (default: the latest).",
                                               show_default=False)] = None,
    as_json: JsonOpt = False,
    lang: LangOpt = None,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """One user's tags, each with the reason it applies.

    Examples:

      segmark tags show U000042

      segmark tags show U000042 --lang zh --json
    """
    from segmark.pipeline.tags import user_tags_of

    with workspace(ws_dir, read_only=True) as ws:
        data = user_tags_of(ws, user_id, run_id)
        lg = language(lang, ws)
        for item in data["tags"]:
            item["why"] = why(item, lg)
        if as_json:
            print_json(data)
            return
        if not data["tags"]:
            console.print(msg("tags.user.none", lg, user_id=user_id, run_id=data["run_id"]))
            return
        t = Table(title=msg("tags.user.title", lg, user_id=user_id, run_id=data["run_id"],
                            as_of=local_day(data["as_of"])), title_justify="left")
        for key in ("tag", "value", "why"):
            t.add_column(msg(f"tags.col.{key}", lg), overflow="fold")
        for item in data["tags"]:
            value = str(item["value"])
            if lg == "zh":
                value = _label(item, lg, "value_label")
            elif item["value_label"] != item["value"]:
                value += f" ({item['value_label']})"
            t.add_row(plain(_label(item, lg)), plain(value), plain(item["why"]))
        console.print(t)
