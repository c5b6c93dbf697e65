"""``segmark segment rfm|cluster`` (make a segmentation) and ``segmark segments list|show|export|why|
assign|migration`` (read and use one)."""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from segmark.cli import app
from segmark.cli._common import (
    JsonOpt,
    LangOpt,
    WorkspaceOpt,
    console,
    fail,
    language,
    local_day,
    local_time,
    missing,
    plain,
    print_json,
    revenue_pct,
    say,
    workspace,
)
from segmark.core.segment.fitted import definition_text
from segmark.core.segment.model import check_n_clusters
from segmark.core.segment.reasons import reason_text, shown_status
from segmark.errors import NoStructureError
from segmark.features.labels import relabel
from segmark.numbers import significant
from segmark.pipeline.features import column_labels
from segmark.pipeline.segments import (
    Segmentation,
    assign_users,
    candidates_table,
    distinguishing,
    explain_user,
    export_segments,
    get_segmentation,
    list_segmentations,
    profile_table,
    run_cluster,
    run_rfm,
    segment_migration,
    segments_table,
)
from segmark.text import known, msg

segment_app = typer.Typer(help="Make a segmentation: RFM rules or clustering.", no_args_is_help=True)
segments_app = typer.Typer(help="Read and use segmentations: list, show, export, why, assign, migration.",
                           no_args_is_help=True)
app.add_typer(segment_app, name="segment")
app.add_typer(segments_app, name="segments")


class Method(StrEnum):
    auto = "auto"
    kmeans = "kmeans"
    minibatch_kmeans = "minibatch-kmeans"
    gmm = "gmm"
    gmm_tied = "gmm-tied"
    agglomerative = "agglomerative"
    hdbscan = "hdbscan"
    dbscan = "dbscan"
    kprototypes = "kprototypes"


FeatureRunOpt = Annotated[int | None, typer.Option("--features-run", help="Feature build to use "
                                                   "(default: the latest).")]
SegIdOpt = Annotated[int | None, typer.Argument(help="Segmentation id (default: the latest).", show_default=False)]


def _kind(kind: str, lang: str) -> str:
    """"RFM" or "clustering" in ``lang`` (a kind the catalogue does not know, as stored)."""
    return known(f"segment.kind.{kind}", lang, kind)  # type: ignore[arg-type]


def _name(row: Any, lang: str) -> str:
    return row["name_zh"] if lang == "zh" else row["name"]


def _pct(v: Any) -> str:
    return "-" if missing(v) else f"{v:.1%}"


def _num(v: Any) -> str:
    if missing(v):
        return "-"
    return significant(v)


def _apart(profile: Any, seg_id: int, key: str, labels: dict[str, str], lang: str) -> str:
    """The features that set a segment apart: its median (or, where the medians tie, its mean)
    against everyone's."""
    parts = []
    for d in distinguishing(profile, seg_id, key=key):
        label = labels.get(d["feature"], d["feature"])
        parts.append(say(f"seg.apart_{d['stat']}", lang, feature=label, value=_num(d["value"]),
                         overall=_num(d["overall"])))
    return "\n".join(parts)


def _rule(row: Any, lang: str, labels: dict[str, str] | None = None) -> str:
    """A segment's rule: its RFM score ranges, or the first surrogate-tree rule of a clustering."""
    if row["definition"] is not None and not (isinstance(row["definition"], float) and math.isnan(row["definition"])):
        return definition_text(str(row["key"]), row["definition"], lang)
    rules = row["rules"]
    if not rules:
        return "-"
    return rules[0]["text_zh"] if lang == "zh" else relabel(rules[0]["text"], labels or {})


def _segments_view(seg: Segmentation, table: Any, profile: Any, zh: bool,
                   labels: dict[str, str] | None = None) -> Table:
    """One row per segment. Users, share and revenue share are the segmentation's own figures (at
    fit); when ``segments assign`` has placed users since, a last figure column counts the members now."""
    lang = "zh" if zh else "en"
    t = Table(title=say("seg.title", lang, id=seg.segmentation_id, kind=_kind(seg.kind, lang), method=seg.method,
                        n=seg.n_segments, users=seg.n_users, as_of=local_day(seg.as_of)), title_justify="left")
    assigned = bool((table["members"] != table["size"]).any())
    headers = ["id", "segment", "users", "share", "revenue_share"]
    if assigned:
        headers.append("members_now")
        t.caption = say("seg.members_now_note", lang)
    headers += ["apart", "rule"]
    for key in headers:
        numeric = key not in ("segment", "apart", "rule")
        t.add_column(say(f"seg.col.{key}", lang), justify="right" if numeric else "left", overflow="fold")
    for seg_id, row in table.iterrows():
        if row["size"] == 0 and row["members"] == 0:
            continue
        apart = _apart(profile, seg_id, str(row["key"]), labels or {}, lang)
        figures = [f"{row['size']:,}", _pct(row["share"]), revenue_pct(row["revenue_share"], lang)]
        if assigned:
            figures.append(f"{row['members']:,}")
        t.add_row(str(seg_id), plain(_name(row, lang)), *figures, Text.from_markup(apart),
                  plain(_rule(row, lang, labels)))
    return t


def _result_json(seg: Segmentation, table: Any) -> dict[str, Any]:
    return {**seg.to_dict(), "selection": seg.selection,
            "segments": table.reset_index().astype(object).where(table.reset_index().notna(), None)
            .to_dict(orient="records")}


@segment_app.command("rfm")
def rfm(
    scale: Annotated[int | None, typer.Option(help="Score scale: 5 or 3 (default: segment.rfm_scale).")] = None,
    features_run: FeatureRunOpt = None,
    lang: LangOpt = None,
    json_out: JsonOpt = False,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """RFM segments: quantile scores for recency, frequency and monetary value, named by the
    standard scheme (Champions ... Lost) or the one in segmark.toml.

    Examples: [bold]segmark segment rfm[/], [bold]segmark segment rfm --scale 3 --lang zh[/]
    """
    with workspace(ws_dir) as ws:
        result = run_rfm(ws, scale=scale, feature_run_id=features_run)
        out = language(lang, ws)
        profile = profile_table(ws.store, result.segmentation.segmentation_id)
        labels = column_labels(ws.store, result.segmentation.feature_run_id, out)
    if json_out:
        print_json(_result_json(result.segmentation, result.segments))
        return
    console.print(_segments_view(result.segmentation, result.segments, profile, out == "zh", labels))
    console.print(plain(result.segmentation.reason_in(out)), highlight=False)


@segment_app.command("cluster")
def cluster(
    method: Annotated[Method | None, typer.Option(help="Clustering method; auto searches kmeans, gmm, "
                                                  "gmm-tied, agglomerative and hdbscan (default: "
                                                  "segment.method, auto).")] = None,
    k: Annotated[str | None, typer.Option("--k", help="Number of segments, or auto (default: segment.k, "
                                          "auto).")] = None,
    features: Annotated[str | None, typer.Option(help="Feature columns, comma-separated (default: "
                                                 "segment.features, else the behavioural set).")] = None,
    features_run: FeatureRunOpt = None,
    lang: LangOpt = None,
    json_out: JsonOpt = False,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Cluster users into segments, with automatic choice of method and k, then profile, name and
    explain them. Says so, and stores nothing, when the data show no real segments.

    Examples:

      segmark segment cluster

      segmark segment cluster --method kmeans --k 6

      segmark segment cluster --features recency_visit_days,frequency,monetary,age,city
    """
    k_value: int | str | None = None
    if k is not None:
        try:
            k_value = check_n_clusters(k)
        except ValueError as exc:
            fail(f"--k: {exc}")
    chosen = [f.strip() for f in features.split(",") if f.strip()] if features else None
    with workspace(ws_dir) as ws:
        out = language(lang, ws)
        try:
            result = run_cluster(ws, method=method.value if method else None, k=k_value, features=chosen,
                                 feature_run_id=features_run)
        except NoStructureError as exc:
            if out == "zh" and exc.selection.why is not None:
                fail(exc.selection.why.text("zh"))
            raise
        profile = profile_table(ws.store, result.segmentation.segmentation_id)
        labels = column_labels(ws.store, result.segmentation.feature_run_id, out)
    if json_out:
        print_json(_result_json(result.segmentation, result.segments))
        return
    console.print(_segments_view(result.segmentation, result.segments, profile, out == "zh", labels))
    fidelity = f"{result.segmentation.metrics['surrogate_fidelity']:.0%}"
    console.print(plain(result.segmentation.reason_in(out)), highlight=False)
    console.print(say("seg.fidelity", out, fidelity=fidelity))


@segments_app.command("list")
def list_(lang: LangOpt = None, json_out: JsonOpt = False, ws_dir: WorkspaceOpt = None) -> None:
    """Every stored segmentation, newest first."""
    with workspace(ws_dir, read_only=True) as ws:
        found = list_segmentations(ws.store) if ws.store.table_exists("segmentations") else []
        out = language(lang, ws)
    if json_out:
        print_json([s.to_dict() for s in found])
        return
    t = Table(title=say("seg.list_title", out), title_justify="left")
    for col in ("id", "kind", "method", "segments", "users", "as_of", "feature_build", "made"):
        t.add_column(say(f"seg.list.{col}", out))
    for s in found:
        t.add_row(str(s.segmentation_id), _kind(s.kind, out), s.method, str(s.n_segments), f"{s.n_users:,}",
                  local_day(s.as_of), str(s.feature_run_id), local_time(s.created_at))
    console.print(t)


@segments_app.command("show")
def show(
    segmentation: SegIdOpt = None,
    lang: LangOpt = None,
    json_out: JsonOpt = False,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """A segmentation's segments: size, revenue, what sets each apart, its rules; and for a
    clustering, every candidate model and why the winner won.

    Examples: [bold]segmark segments show[/], [bold]segmark segments show 7 --json[/]
    """
    with workspace(ws_dir, read_only=True) as ws:
        seg = get_segmentation(ws.store, segmentation)
        table = segments_table(ws.store, seg.segmentation_id)
        profile = profile_table(ws.store, seg.segmentation_id)
        candidates = candidates_table(ws.store, seg.segmentation_id)
        out = language(lang, ws)
        labels = column_labels(ws.store, seg.feature_run_id, out)
    if json_out:
        data = _result_json(seg, table)
        for rec in data["segments"]:
            rec["distinguishing"] = distinguishing(profile, rec["segment_id"], top=5, key=rec.get("key"))
        data["candidates"] = candidates.astype(object).where(candidates.notna(), None).to_dict(orient="records")
        print_json(data)
        return
    console.print(_segments_view(seg, table, profile, out == "zh", labels))
    console.print(plain(seg.reason_in(out)), highlight=False)
    if len(candidates):
        t = Table(title=say("seg.candidates_title", out), title_justify="left")
        for col in ("method", "k", "segments", "silhouette", "gain", "CH", "DB", "stability", "min_share",
                    "status"):
            t.add_column(say(f"seg.cand.{col}", out), justify="left" if col in ("method", "status") else "right")
        for r in candidates.sort_values("gain", ascending=False, na_position="last").itertuples():
            t.add_row(r.method, "-" if missing(r.k) else str(int(r.k)),
                      str(r.n_clusters), _f(r.silhouette, 3), _f(r.gain, 3), _f(r.calinski_harabasz, 0),
                      _f(r.davies_bouldin, 2), _f(r.stability, 2), _pct(r.min_share),
                      Text.from_markup(_status(r, out)))
        console.print(t)


def _status(row: Any, lang: str) -> str:
    """A candidate's status, and for a rejected one why (in Chinese from its code)."""
    status = shown_status(row.status, row.reason_code)
    if status not in ("winner", "eligible", "rejected"):
        return status
    if status != "rejected":
        return say(f"seg.status.{status}", lang)
    code = row.reason_code if isinstance(row.reason_code, str) else None
    why = reason_text(code, row.reason_params, lang) if code and lang == "zh" else row.reason
    return say("seg.rejected_because", lang, why=why)


def _f(v: Any, digits: int) -> str:
    return "-" if missing(v) else f"{v:,.{digits}f}"


@segments_app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write: .csv, .parquet or .json.")],
    segmentation: SegIdOpt = None,
    json_fmt: Annotated[bool, typer.Option("--json", help="Write JSON whatever the file name.")] = False,
    lang: LangOpt = None,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Write every user with their segment (id, key, English and Chinese name; RFM scores).

    Examples: [bold]segmark segments export --out segments.csv[/],
    [bold]segmark segments export 7 --out seg.json --json[/]
    """
    with workspace(ws_dir, read_only=True) as ws:
        seg, path = export_segments(ws.store, out, segmentation, "json" if json_fmt else None)
        lang_out = language(lang, ws)
    console.print(say("seg.exported", lang_out, id=seg.segmentation_id, kind=_kind(seg.kind, lang_out), path=path))


@segments_app.command("why")
def why(
    user_id: Annotated[str, typer.Argument(help="The user.")],
    segmentation: Annotated[int | None, typer.Option("--segmentation", "-s", help="Segmentation id "
                                                     "(default: the latest).")] = None,
    lang: LangOpt = None,
    json_out: JsonOpt = False,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Why a user is in their segment: the RFM rule and scores, or the rule their features satisfy
    and the nearest segment centres.

    Example: [bold]segmark segments why U000123[/]
    """
    with workspace(ws_dir, read_only=True) as ws:
        answer = explain_user(ws, user_id, segmentation)
        out = language(lang, ws)
        labels = column_labels(ws.store, answer["feature_run_id"], out)
    if json_out:
        print_json(answer)
        return
    zh = out == "zh"
    name = answer["name_zh"] if zh else answer["name"]
    console.print(say("seg.why_user", out, user=user_id, name=name, id=answer["segmentation_id"],
                      kind=_kind(answer["kind"], out), placed_by=say(f"seg.placed.{answer['placed_by']}", out)))
    console.print(plain(answer["because_zh"] if zh else relabel(answer["because"], labels)), highlight=False)
    t = Table(show_header=True, title=say("seg.why_features", out), title_justify="left")
    t.add_column(say("seg.why_feature", out))
    t.add_column(say("seg.why_value", out), justify="right")
    for k, v in answer["features"].items():
        shown = msg("segment.revenue_unknown", out) if v is None else significant(v) if isinstance(v, float) else str(v)
        # the label a marketer reads first, the column name (what audience expressions use) after it
        t.add_row(Text.assemble(labels[k], " ", (k, "dim")) if k in labels else plain(k), plain(shown))
    console.print(t)
    for c in answer.get("nearest_centres", []):
        console.print(say("seg.distance", out, name=c["name_zh"] if zh else c["name"], distance=c["distance"]))


@segments_app.command("assign")
def assign(
    segmentation: SegIdOpt = None,
    features_run: FeatureRunOpt = None,
    only_new: Annotated[bool, typer.Option("--only-new", help="Only users not yet in the segmentation.")] = False,
    lang: LangOpt = None,
    json_out: JsonOpt = False,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Place users of a (newer) feature build in an existing segmentation without refitting it.

    Examples: [bold]segmark features build && segmark segments assign[/],
    [bold]segmark segments assign 7 --only-new[/]
    """
    with workspace(ws_dir) as ws:
        report = assign_users(ws, segmentation, features_run, only_new=only_new)
        out = language(lang, ws)
    if json_out:
        print_json(report)
        return
    console.print(say("seg.assigned", out, id=report["segmentation_id"], assigned=report["assigned"],
                      run=report["feature_run_id"], new=report["new"], moved=report["moved"],
                      unchanged=report["unchanged"]))


@segments_app.command("migration")
def migration(
    from_id: Annotated[int | None, typer.Argument(help="Earlier segmentation (default: the latest "
                                                  "earlier one of the same kind).")] = None,
    to_id: Annotated[int | None, typer.Argument(help="Later segmentation (default: the latest).")] = None,
    lang: LangOpt = None,
    json_out: JsonOpt = False,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Users and revenue moving between segments from one date to another.

    Example: [bold]segmark features build --as-of 2011-06-01 && segmark segment rfm &&
    segmark features build && segmark segment rfm && segmark segments migration[/]
    """
    with workspace(ws_dir, read_only=True) as ws:
        out = language(lang, ws)
        report = segment_migration(ws.store, from_id, to_id, timezone=ws.settings.time.timezone)
    if json_out:
        print_json(report.to_dict())
        return
    special = {"(new)": say("seg.new", out), "(gone)": say("seg.gone", out)}

    def name(key: str, *, later: bool = False) -> str:
        return special.get(key) or report.name(key, out, later=later)

    def matrix(title: str, frame: Any, cell: Callable[[Any], str]) -> Table:
        """Rows: segments at the earlier date; columns: at the later one; empty cells left blank."""
        t = Table(title=title, title_justify="left")
        t.add_column(say("seg.from_to", out))
        for c in frame.columns:
            t.add_column(name(str(c), later=True), justify="right", overflow="fold")
        for key, row in frame.iterrows():
            t.add_row(plain(name(str(key))), *[cell(v) if v else "" for v in row])
        return t

    console.print(matrix(say("seg.migration_title", out, a=report.before.segmentation_id,
                             a_date=local_day(report.before.as_of), b=report.after.segmentation_id,
                             b_date=local_day(report.after.as_of)), report.migration.users, "{:,}".format))
    console.print(say("seg.stayed", out, share=report.migration.stayed_share))
    revenue = report.migration.revenue
    if revenue is None:
        console.print(say("seg.migration_no_revenue", out), style="dim")
    else:
        console.print(matrix(say("seg.migration_revenue", out), revenue, lambda v: significant(float(v))))
    a, b = report.before, report.after
    if a.as_of > b.as_of:
        console.print(say("seg.migration_backward", out, a=a.segmentation_id, a_date=local_day(a.as_of),
                          b=b.segmentation_id, b_date=local_day(b.as_of)), style="yellow")
    if a.kind != b.kind:
        console.print(say("seg.migration_kinds", out, a=a.segmentation_id, a_kind=_kind(a.kind, out),
                          b=b.segmentation_id, b_kind=_kind(b.kind, out)), style="yellow")
