"""``segmark segment rfm|cluster`` (make a segmentation) and ``segmark segments list|show|export|why|
assign|migration`` (read and use one)."""

from __future__ import annotations

import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from segmark.cli import app
from segmark.cli._common import JsonOpt, Lang, WorkspaceOpt, console, fail, print_json, workspace
from segmark.core.segment.model import NoStructureError, check_n_clusters
from segmark.core.segment.reasons import reason_text
from segmark.pipeline.segments import (
    Segmentation,
    assign_users,
    candidates_table,
    distinguishing,
    explain_user,
    export_segments,
    feature_labels_zh,
    get_segmentation,
    list_segmentations,
    profile_table,
    run_cluster,
    run_rfm,
    segment_migration,
    segments_table,
)

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
    agglomerative = "agglomerative"
    hdbscan = "hdbscan"
    dbscan = "dbscan"
    kprototypes = "kprototypes"


FeatureRunOpt = Annotated[int | None, typer.Option("--features-run", help="Feature build to use "
                                                   "(default: the latest).")]
SegIdOpt = Annotated[int | None, typer.Argument(help="Segmentation id (default: the latest).", show_default=False)]
LangOpt = Annotated[Lang | None, typer.Option("--lang", help="Names in en or zh (default: the workspace's lang).")]


def _name(row: Any, zh: bool) -> str:
    return row["name_zh"] if zh else row["name"]


def _pct(v: Any) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.1%}"


def _num(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.3g}" if abs(v) < 100 else f"{v:,.0f}"


def _apart(profile: Any, seg_id: int, labels: dict[str, str] | None) -> str:
    """The features that set a segment apart: its median against everyone's."""
    parts = []
    for d in distinguishing(profile, seg_id):
        if labels is None:
            parts.append(f"{d['feature']} {_num(d['median'])} (all {_num(d['overall_median'])})")
        else:
            label = labels.get(d["feature"], d["feature"])
            parts.append(f"{label} {_num(d['median'])}（整体 {_num(d['overall_median'])}）")
    return "\n".join(parts)


def _segments_view(seg: Segmentation, table: Any, profile: Any, zh: bool,
                   labels: dict[str, str] | None = None) -> Table:
    """One row per segment. Users, share and revenue share are the segmentation's own figures (at
    fit); when ``segments assign`` has placed users since, a last figure column counts the members now."""
    t = Table(title=f"segmentation {seg.segmentation_id}: {seg.kind} ({seg.method}), {seg.n_segments} segments "
              f"of {seg.n_users:,} users, features as of {seg.as_of:%Y-%m-%d}", title_justify="left")
    assigned = bool((table["members"] != table["size"]).any())
    headers = [("id", "id"), ("segment", "分群"), ("users", "用户数"), ("share", "用户占比"),
               ("revenue share", "收入占比")]
    if assigned:
        headers.append(("members now", "当前成员数"))
        t.caption = ("当前成员数包括此后由 segments assign 放入的用户；其余数字来自建模时。" if zh else
                     "members now includes users placed by `segments assign` since; the other figures are "
                     "from the fit.")
    headers += [("what sets it apart", "特征"), ("rule", "规则")]
    for en, cn in headers:
        numeric = en not in ("segment", "what sets it apart", "rule")
        t.add_column(cn if zh else en, justify="right" if numeric else "left", overflow="fold")
    for seg_id, row in table.iterrows():
        if row["size"] == 0 and row["members"] == 0:
            continue
        apart = _apart(profile, seg_id, labels if zh else None)
        if seg.kind == "rfm":
            rule = row["definition"] or ""
        else:
            rules = row["rules"]
            rule = (rules[0]["text_zh"] if zh else rules[0]["text"]) if rules else "-"
        figures = [f"{row['size']:,}", _pct(row["share"]), _pct(row["revenue_share"])]
        if assigned:
            figures.append(f"{row['members']:,}")
        t.add_row(str(seg_id), _name(row, zh), *figures, apart, rule)
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
        zh = (lang or ws.settings.lang) == "zh"
        profile = profile_table(ws.store, result.segmentation.segmentation_id)
        labels = feature_labels_zh(ws.store, result.segmentation.feature_run_id)
    if json_out:
        print_json(_result_json(result.segmentation, result.segments))
        return
    console.print(_segments_view(result.segmentation, result.segments, profile, zh, labels))
    console.print(_reason(result.segmentation, zh), highlight=False)


@segment_app.command("cluster")
def cluster(
    method: Annotated[Method | None, typer.Option(help="Clustering method; auto searches kmeans, gmm, "
                                                  "agglomerative and hdbscan (default: segment.method, "
                                                  "auto).")] = None,
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
        zh = (lang or ws.settings.lang) == "zh"
        try:
            result = run_cluster(ws, method=method.value if method else None, k=k_value, features=chosen,
                                 feature_run_id=features_run)
        except NoStructureError as exc:
            if zh and exc.selection.why is not None:
                fail(exc.selection.why.text("zh"))
            raise
        profile = profile_table(ws.store, result.segmentation.segmentation_id)
        labels = feature_labels_zh(ws.store, result.segmentation.feature_run_id)
    if json_out:
        print_json(_result_json(result.segmentation, result.segments))
        return
    console.print(_segments_view(result.segmentation, result.segments, profile, zh, labels))
    fidelity = f"{result.segmentation.metrics['surrogate_fidelity']:.0%}"
    console.print(_reason(result.segmentation, zh), highlight=False)
    console.print(f"规则与分群结果在留出用户中的一致率为 {fidelity}" if zh else
                  f"rules agree with the segments for {fidelity} of held-out users")


@segments_app.command("list")
def list_(json_out: JsonOpt = False, ws_dir: WorkspaceOpt = None) -> None:
    """Every stored segmentation, newest first."""
    with workspace(ws_dir, read_only=True) as ws:
        found = list_segmentations(ws.store) if ws.store.table_exists("segmentations") else []
    if json_out:
        print_json([s.to_dict() for s in found])
        return
    t = Table(title="segmentations", title_justify="left")
    for col in ("id", "kind", "method", "segments", "users", "features as of", "feature build", "made (UTC)"):
        t.add_column(col)
    for s in found:
        t.add_row(str(s.segmentation_id), s.kind, s.method, str(s.n_segments), f"{s.n_users:,}",
                  f"{s.as_of:%Y-%m-%d}", str(s.feature_run_id), f"{s.created_at:%Y-%m-%d %H:%M}")
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
        labels = feature_labels_zh(ws.store, seg.feature_run_id)
        zh = (lang or ws.settings.lang) == "zh"
    if json_out:
        out = _result_json(seg, table)
        for rec in out["segments"]:
            rec["distinguishing"] = distinguishing(profile, rec["segment_id"], top=5)
        out["candidates"] = candidates.astype(object).where(candidates.notna(), None).to_dict(orient="records")
        print_json(out)
        return
    console.print(_segments_view(seg, table, profile, zh, labels))
    console.print(_reason(seg, zh), highlight=False)
    if len(candidates):
        t = Table(title="candidates (sample of users)", title_justify="left")
        for col in ("method", "k", "segments", "silhouette", "gain", "CH", "DB", "stability", "min share",
                    "status"):
            t.add_column(col, justify="left" if col in ("method", "status") else "right")
        for r in candidates.sort_values("gain", ascending=False, na_position="last").itertuples():
            t.add_row(r.method, "-" if r.k is None or (isinstance(r.k, float) and math.isnan(r.k)) else str(int(r.k)),
                      str(r.n_clusters), _f(r.silhouette, 3), _f(r.gain, 3), _f(r.calinski_harabasz, 0),
                      _f(r.davies_bouldin, 2), _f(r.stability, 2), _pct(r.min_share),
                      _status(r, zh))
        console.print(t)


def _reason(seg: Segmentation, zh: bool) -> str:
    """Why this segmentation: the stored English sentence, or its code rendered in Chinese."""
    code = (seg.selection or {}).get("reason_code")
    if zh and code:
        return reason_text(code, seg.selection.get("reason_params"), "zh")
    return seg.reason


_STATUS_ZH = {"winner": "入选", "eligible": "合格", "rejected": "淘汰"}


def _status(row: Any, zh: bool) -> str:
    """A candidate's status, and for a rejected one why (in Chinese from its code with ``zh``)."""
    if row.status != "rejected":
        return _STATUS_ZH.get(row.status, row.status) if zh else row.status
    code = row.reason_code if isinstance(row.reason_code, str) else None
    if zh:
        return f"淘汰：{reason_text(code, row.reason_params, 'zh') if code else row.reason}"
    return f"rejected: {row.reason}"


def _f(v: Any, digits: int) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:,.{digits}f}"


@segments_app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write: .csv, .parquet or .json.")],
    segmentation: SegIdOpt = None,
    json_fmt: Annotated[bool, typer.Option("--json", help="Write JSON whatever the file name.")] = False,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Write every user with their segment (id, key, English and Chinese name; RFM scores).

    Examples: [bold]segmark segments export --out segments.csv[/],
    [bold]segmark segments export 7 --out seg.json --json[/]
    """
    with workspace(ws_dir, read_only=True) as ws:
        seg, path = export_segments(ws.store, out, segmentation, "json" if json_fmt else None)
    console.print(f"wrote the segments of segmentation {seg.segmentation_id} ({seg.kind}) to [bold]{path}[/]")


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
        zh = (lang or ws.settings.lang) == "zh"
    if json_out:
        print_json(answer)
        return
    name = answer["name_zh"] if zh else answer["name"]
    console.print(f"user [bold]{user_id}[/] is in [bold]{name}[/] (segmentation {answer['segmentation_id']}, "
                  f"{answer['kind']}, placed by {answer['placed_by']})")
    console.print(answer["because_zh"] if zh else answer["because"], highlight=False)
    t = Table(show_header=True, title="features", title_justify="left")
    t.add_column("feature")
    t.add_column("value", justify="right")
    for k, v in answer["features"].items():
        t.add_row(k, _f(v, 2) if isinstance(v, float) else str(v))
    console.print(t)
    for c in answer.get("nearest_centres", []):
        console.print(f"  distance to {c['name_zh'] if zh else c['name']}: {c['distance']:.2f}")


@segments_app.command("assign")
def assign(
    segmentation: SegIdOpt = None,
    features_run: FeatureRunOpt = None,
    only_new: Annotated[bool, typer.Option("--only-new", help="Only users not yet in the segmentation.")] = False,
    json_out: JsonOpt = False,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Place users of a (newer) feature build in an existing segmentation without refitting it.

    Examples: [bold]segmark features build && segmark segments assign[/],
    [bold]segmark segments assign 7 --only-new[/]
    """
    with workspace(ws_dir) as ws:
        report = assign_users(ws, segmentation, features_run, only_new=only_new)
    if json_out:
        print_json(report)
        return
    console.print(f"segmentation {report['segmentation_id']}: placed {report['assigned']:,} users of feature "
                  f"build {report['feature_run_id']} ({report['new']:,} new, {report['moved']:,} moved, "
                  f"{report['unchanged']:,} unchanged)")


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
        language = "zh" if (lang or ws.settings.lang) == "zh" else "en"
        report = segment_migration(ws.store, from_id, to_id)
    if json_out:
        print_json(report.to_dict())
        return
    users = report.migration.users
    t = Table(title=f"users from segmentation {report.before.segmentation_id} ({report.before.as_of:%Y-%m-%d}, "
              f"rows) to {report.after.segmentation_id} ({report.after.as_of:%Y-%m-%d}, columns)",
              title_justify="left")
    t.add_column("from \\ to")
    for c in users.columns:
        t.add_column(report.name(str(c), language, later=True), justify="right", overflow="fold")
    for key, row in users.iterrows():
        t.add_row(report.name(str(key), language), *[f"{v:,}" if v else "" for v in row])
    console.print(t)
    console.print(f"{report.migration.stayed_share:.0%} of the users present at both dates kept their segment")
