"""The report's charts: small frames in, Plotly figures out, each with a title, axis titles and a
one-line reading generated from the same data (no I/O, no clock).

Every builder returns a :class:`Chart`, or ``None`` when its data is missing, so the page can say
so in one line. Figures use the empty template ("none") rather than Plotly's default theme: the
page's CSS sets the look, and each figure's JSON stays small.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from segmark.core.segment.reasons import shown_status
from segmark.features.labels import LOWER_IS_BETTER
from segmark.report.colors import QUALITATIVE, segment_colors, with_alpha
from segmark.report.model import ClusterView, MapPoints, MigrationView, Overview, RFMView, Segments, Selection
from segmark.report.text import (
    Lang,
    event_label,
    fmt_compact,
    fmt_int,
    fmt_lift,
    fmt_num,
    fmt_pct,
    reason_label,
    selection_reason,
    status_label,
    table_label,
    tr,
)

FONT_STACK = ('-apple-system, BlinkMacSystemFont, "Segoe UI", "PingFang SC", "Hiragino Sans GB", '
              '"Microsoft YaHei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", '
              '"WenQuanYi Micro Hei", Roboto, "Helvetica Neue", Arial, sans-serif')
"""System UI fonts first, then the common Chinese fonts of macOS, Windows and Linux, then sans-serif."""

INK = "#1f2933"
MUTED = "#62707f"
ACCENT = "#4c78a8"
GRID = "#e6eaef"
MAX_PROFILE_FEATURES = 14


@dataclass
class Chart:
    """One chart of the report."""

    key: str
    title: str
    figure: go.Figure
    reading: str


def _style(fig: go.Figure, title: str, x_title: str | None, y_title: str | None, *, height: int,
           legend: bool = False, left: int = 90) -> go.Figure:
    fig.update_layout(
        template="none",
        title={"text": f"<b>{title}</b>", "x": 0, "xanchor": "left", "y": 0.98, "yanchor": "top",
               "font": {"size": 15, "color": INK}},
        font={"family": FONT_STACK, "size": 12, "color": INK},
        height=height, autosize=True, showlegend=legend,
        margin={"l": left, "r": 24, "t": 56, "b": 64},
        paper_bgcolor="white", plot_bgcolor="white",
        hoverlabel={"font": {"family": FONT_STACK}},
        legend={"orientation": "h", "yanchor": "top", "y": -0.16, "x": 0},
    )
    axis = {"gridcolor": GRID, "zerolinecolor": GRID, "linecolor": "#c9d1da", "automargin": True,
            "title": {"font": {"size": 12, "color": MUTED}}}
    fig.update_xaxes(**axis)
    fig.update_yaxes(**axis)
    if x_title is not None:
        fig.update_xaxes(title_text=x_title)
    if y_title is not None:
        fig.update_yaxes(title_text=y_title)
    return fig


def chip(name: str, color: str) -> str:
    """A segment name led by a square of its colour, for axis labels (Plotly renders the span)."""
    return f"<span style='color:{color}'>■</span> {name}"


# -- overview -------------------------------------------------------------------------------------

def events_by_type_chart(ov: Overview, lang: Lang) -> Chart | None:
    if not ov.events_by_type:
        return None
    items = sorted(ov.events_by_type.items(), key=lambda kv: kv[1])
    labels = [event_label(k, lang) for k, _ in items]
    values = [int(v) for _, v in items]
    total = sum(values)
    fig = go.Figure(go.Bar(x=values, y=labels, orientation="h", marker_color=ACCENT,
                           text=[fmt_int(v) for v in values], textposition="auto",
                           hovertemplate="%{y}: %{x:,}<extra></extra>"))
    title = tr("t_events_by_type", lang)
    _style(fig, title, tr("x_events", lang), tr("y_event_type", lang), height=max(220, 110 + 34 * len(items)))
    top_type, top_n = items[-1]
    reading = tr("r_events_by_type", lang, top=event_label(top_type, lang), share=fmt_pct(top_n / total),
                 buy_share=fmt_pct(ov.events_by_type.get("purchase", 0) / total))
    return Chart("events_by_type", title, fig, reading)


def quarantine_chart(ov: Overview, lang: Lang) -> Chart | None:
    q = ov.quarantine
    if q is None or q.empty or int(q["rows"].sum()) == 0:
        return None
    q = q.groupby(["table", "reason"], as_index=False)["rows"].sum().sort_values("rows")
    several = q["table"].nunique() > 1
    labels = [(f"{table_label(t, lang)}: " if several else "") + reason_label(r, lang)
              for t, r in zip(q["table"], q["reason"], strict=True)]
    fig = go.Figure(go.Bar(x=q["rows"].astype(int).tolist(), y=labels, orientation="h", marker_color="#e45756",
                           text=[fmt_int(v) for v in q["rows"]], textposition="auto",
                           hovertemplate="%{y}: %{x:,}<extra></extra>"))
    title = tr("t_quarantine", lang)
    _style(fig, title, tr("x_rows", lang), tr("y_reason", lang), height=max(220, 110 + 34 * len(q)))
    top = q.iloc[-1]
    reading = tr("r_quarantine", lang, reason=reason_label(str(top["reason"]), lang), rows=fmt_int(top["rows"]),
                 share=fmt_pct(top["rows"] / q["rows"].sum()))
    return Chart("quarantine", title, fig, reading)


# -- segment sizes --------------------------------------------------------------------------------

def sizes_chart(seg: Segments, colors: Mapping[str, str], lang: Lang) -> Chart | None:
    """Share of users beside share of revenue, per segment, in the segments' colours."""
    t = seg.table
    if t is None or t.empty:
        return None
    names = seg.names(lang)
    keys = [str(k) for k in t.index][::-1]  # Plotly draws the first category at the bottom
    labels = [chip(names[k], colors[k]) for k in keys]
    share = t["share"].reindex(keys).astype(float).fillna(0.0).tolist()
    rev_col = t["revenue_share"] if "revenue_share" in t else pd.Series(np.nan, index=t.index)
    known = bool(rev_col.notna().any())  # unknown (no prices) is no bar, not a bar of 0
    rev = rev_col.reindex(keys).astype(float).fillna(0.0).tolist()
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.05)
    plain = [names[k] for k in keys]
    for col, values, alpha in ((1, share, 0.55), (2, rev, 1.0)):
        if col == 2 and not known:
            fig.add_annotation(text=tr("revenue_unknown", lang), xref="x2 domain", yref="y2 domain", x=0.5, y=0.5,
                               showarrow=False, font={"size": 13})
            continue
        fig.add_trace(go.Bar(
            x=values, y=labels, orientation="h", customdata=plain,
            marker={"color": [with_alpha(colors[k], alpha) for k in keys], "line": {"color": [colors[k] for k in keys],
                                                                                      "width": 1}},
            text=[fmt_pct(v) for v in values], textposition="outside", cliponaxis=False,
            hovertemplate="%{customdata}: %{x:.1%}<extra></extra>"), row=1, col=col)
    top = max(max(share, default=0), max(rev, default=0), 0.05)
    title = tr("t_sizes_rfm" if seg.kind == "rfm" else "t_sizes_cluster", lang)
    _style(fig, title, None, None, height=max(260, 130 + 30 * len(keys)), left=150)
    fig.update_xaxes(tickformat=".0%", range=[0, top * 1.18])
    fig.update_xaxes(title_text=tr("share_users", lang), row=1, col=1)
    fig.update_xaxes(title_text=tr("share_revenue", lang), row=1, col=2)
    fig.update_yaxes(title_text=tr("y_segment", lang), row=1, col=1)
    return Chart(f"sizes_{seg.kind}", title, fig, sizes_reading(seg, lang))


def sizes_reading(seg: Segments, lang: Lang) -> str:
    """The segment with the largest revenue share, and the largest segment when it is another one."""
    t = seg.table
    names = seg.names(lang)
    has_rev = "revenue_share" in t and t["revenue_share"].notna().any() and float(t["revenue_share"].sum()) > 0
    largest = str(t["share"].astype(float).idxmax())
    if not has_rev:
        text = tr("r_sizes_largest", lang, name=names[largest], users=fmt_pct(t.loc[largest, "share"])).strip()
        if "revenue_share" not in t or t["revenue_share"].isna().all():
            text += ("" if lang == "zh" else " ") + tr("revenue_unknown", lang)
        return text
    richest = str(t["revenue_share"].astype(float).idxmax())
    text = tr("r_sizes", lang, name=names[richest], users=fmt_pct(t.loc[richest, "share"]),
              revenue=fmt_pct(t.loc[richest, "revenue_share"]))
    if largest != richest:
        text += tr("r_sizes_largest", lang, name=names[largest], users=fmt_pct(t.loc[largest, "share"]))
    return text


# -- RFM grid -------------------------------------------------------------------------------------

def rfm_grid_chart(rfm: RFMView, colors: Mapping[str, str], lang: Lang) -> Chart | None:
    """R x F heatmap coloured by users (or, by a button, mean net spend); cells named by segment."""
    cells = rfm.cells
    if cells is None or cells.empty:
        return None
    scored = cells[(cells["r_score"] > 0) & (cells["f_score"] > 0)]
    no_purchase = int(cells.loc[(cells["r_score"] <= 0) | (cells["f_score"] <= 0), "users"].sum())
    if scored.empty:
        return None
    scale = rfm.scale
    names = rfm.segments.names(lang)
    per_cell = scored.groupby(["r_score", "f_score"]).agg(users=("users", "sum"), money=("monetary_sum", "sum"))
    major = (scored.sort_values("users", ascending=False).drop_duplicates(["r_score", "f_score"])
             .set_index(["r_score", "f_score"])["segment"].astype(str))
    axis = list(range(1, scale + 1))
    users = np.full((scale, scale), np.nan)
    mean_money = np.full((scale, scale), np.nan)
    for (r, f), row in per_cell.iterrows():
        users[int(f) - 1, int(r) - 1] = row["users"]
        mean_money[int(f) - 1, int(r) - 1] = row["money"] / row["users"] if row["users"] else np.nan

    def annotations(z: np.ndarray, fmt) -> list[dict]:
        out = []
        top = np.nanmax(z) if np.isfinite(z).any() else 1.0
        for (r, f), seg in major.items():
            value = z[int(f) - 1, int(r) - 1]
            if not np.isfinite(value):
                continue
            dark = top > 0 and value / top > 0.55
            out.append({"x": int(r), "y": int(f), "yshift": 9, "showarrow": False,
                        "text": names.get(seg, seg), "font": {"size": 10, "color": INK},
                        "bgcolor": with_alpha(colors.get(seg, "#cccccc"), 0.9), "borderpad": 2})
            out.append({"x": int(r), "y": int(f), "yshift": -11, "showarrow": False, "text": fmt(value),
                        "font": {"size": 11, "color": "white" if dark else INK}})
        return out

    ann_users = annotations(users, fmt_int)
    ann_money = annotations(mean_money, lambda v: fmt_compact(v, lang))
    custom = np.empty((scale, scale), dtype=object)
    for (r, f), seg in major.items():
        custom[int(f) - 1, int(r) - 1] = names.get(seg, seg)
    users_label, money_label = tr("rfm_users", lang), tr("rfm_mean_monetary", lang)
    fig = go.Figure(go.Heatmap(
        x=axis, y=axis, z=users.tolist(), customdata=custom.tolist(), colorscale="Blues", xgap=3, ygap=3,
        colorbar={"title": {"text": users_label}, "thickness": 12},
        hovertemplate="R%{x} F%{y}<br>%{customdata}<br>%{z:,.0f}<extra></extra>", hoverongaps=False))
    title = tr("t_rfm_grid", lang)
    _style(fig, title, tr("x_r_score", lang), tr("y_f_score", lang), height=150 + 92 * scale, left=70)
    fig.update_xaxes(tickmode="array", tickvals=axis, showgrid=False)
    fig.update_yaxes(tickmode="array", tickvals=axis, showgrid=False)
    seg_revenue = rfm.segments.table.get("revenue_share")
    priced = seg_revenue is None or bool(seg_revenue.notna().any())
    buttons = [
        {"label": users_label, "method": "update",
         "args": [{"z": [users.tolist()], "colorscale": ["Blues"], "colorbar.title.text": users_label,
                   "hovertemplate": "R%{x} F%{y}<br>%{customdata}<br>%{z:,.0f}<extra></extra>"},
                  {"annotations": ann_users}]},
        {"label": money_label, "method": "update",
         "args": [{"z": [mean_money.tolist()], "colorscale": ["Greens"], "colorbar.title.text": money_label,
                   "hovertemplate": "R%{x} F%{y}<br>%{customdata}<br>%{z:,.2f}<extra></extra>"},
                  {"annotations": ann_money}]},
    ]
    # Without prices net spend is unknown, not 0: no button for it.
    fig.update_layout(annotations=ann_users, margin={"t": 92}, updatemenus=[] if not priced else [{
        "type": "buttons", "direction": "right", "showactive": True, "x": 1, "xanchor": "right", "y": 1.1,
        "yanchor": "bottom", "pad": {"r": 0, "t": 0}, "font": {"size": 11}, "buttons": buttons}])
    (r_top, f_top) = per_cell["users"].idxmax()
    seg_top = major[(r_top, f_top)]
    reading = tr("r_rfm", lang, r=int(r_top), f=int(f_top), name=names.get(seg_top, seg_top),
                 users=fmt_int(per_cell.loc[(r_top, f_top), "users"]), no_purchase=fmt_int(no_purchase))
    return Chart("rfm_grid", title, fig, reading)


# -- 2-D map --------------------------------------------------------------------------------------

def map_chart(mp: MapPoints, seg: Segments, colors: Mapping[str, str], lang: Lang) -> Chart | None:
    pts = mp.points
    if pts is None or pts.empty:
        return None
    names = seg.names(lang)
    fig = go.Figure()
    order = [str(k) for k in seg.table.index]
    present = set(pts["segment"].astype(str))
    for key in [k for k in order if k in present] + sorted(present - set(order)):
        sub = pts[pts["segment"].astype(str) == key]
        fig.add_trace(go.Scatter(
            x=sub["x"].round(4).tolist(), y=sub["y"].round(4).tolist(), mode="markers",
            name=names.get(key, key), text=sub["user_id"].astype(str).tolist(),
            marker={"size": 5, "color": colors.get(key, "#999999"), "opacity": 0.7, "line": {"width": 0}},
            hovertemplate=f"{names.get(key, key)}<br>%{{text}}<extra></extra>"))
    if mp.method == "pca":
        ex = mp.explained or (float("nan"), float("nan"))
        method = "PCA"
        x_title, y_title = tr("x_pc1", lang, share=fmt_pct(ex[0])), tr("y_pc2", lang, share=fmt_pct(ex[1]))
        reading = tr("r_map_pca", lang, share=fmt_pct(sum(ex)), n=mp.n_features, shown=fmt_int(len(pts)),
                     total=fmt_int(mp.n_total))
    else:
        method, x_title, y_title = "UMAP", tr("x_umap1", lang), tr("y_umap2", lang)
        reading = tr("r_map_umap", lang, n=mp.n_features, shown=fmt_int(len(pts)), total=fmt_int(mp.n_total))
    title = tr("t_map", lang, method=method)
    _style(fig, title, x_title, y_title, height=560, legend=True, left=70)
    fig.update_layout(legend={"itemsizing": "constant"})
    return Chart("map", title, fig, reading)


# -- profile heatmap ------------------------------------------------------------------------------

def profile_features(profile: pd.DataFrame, preferred: Sequence[str] = (),
                     limit: int = MAX_PROFILE_FEATURES) -> list[str]:
    """The clustering's own features first, then the features whose lifts differ most, up to ``limit``."""
    lifts = profile.pivot_table(index="segment", columns="feature", values="lift", aggfunc="first")
    usable = [c for c in lifts.columns if np.isfinite(lifts[c].to_numpy(dtype=float)).any()]
    chosen = [f for f in preferred if f in usable][:limit]
    shown = {_window_base(f) for f in chosen}
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.log2(lifts[usable].clip(lower=1 / 16)).abs().max()
    for f in spread.sort_values(ascending=False, kind="stable").index:
        if len(chosen) >= limit:
            break
        if f not in chosen and _window_base(f) not in shown:  # one window of views_7d/30d/90d is enough
            chosen.append(f)
            shown.add(_window_base(f))
    return chosen


def _window_base(feature: str) -> str:
    """'views_30d' -> 'views'; other names unchanged."""
    head, _, tail = feature.rpartition("_")
    return head if head and tail.endswith("d") and tail[:-1].isdigit() else feature


def profile_chart(cv: ClusterView, colors: Mapping[str, str], lang: Lang,
                  feature_labels: Mapping[str, str] | None = None,
                  feature_labels_en: Mapping[str, str] | None = None) -> Chart | None:
    """Segments x features heatmap of lift, on a log scale centred on the average (×1), coloured
    as a marketer reads it: blue better than average, red worse, so that for a feature where less
    is better (days since the last visit, refunds: ``LOWER_IS_BETTER``) a lift below ×1 is blue.
    The numbers in the cells stay the lift itself."""
    prof = cv.profile
    if prof is None or prof.empty or cv.segments is None or "lift" not in prof:
        return None
    prof = prof.assign(segment=prof["segment"].astype(str))
    features = profile_features(prof, cv.features)
    if not features:
        return None
    names = cv.segments.names(lang)
    keys = [str(k) for k in cv.segments.table.index if str(k) in set(prof["segment"])][::-1]
    labels = (feature_labels if lang == "zh" else feature_labels_en) or {}
    flabel = {f: labels.get(f) or f for f in features}
    lift = prof.pivot_table(index="segment", columns="feature", values="lift", aggfunc="first").reindex(
        index=keys, columns=features).astype(float)
    med = (prof.pivot_table(index="segment", columns="feature", values="median", aggfunc="first")
           .reindex(index=keys, columns=features) if "median" in prof else None)
    overall = (prof.groupby("feature")["overall_median"].first().reindex(features)
               if "overall_median" in prof else None)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.log2(lift.to_numpy(dtype=float).clip(min=1 / 16))
    z = np.where(np.isfinite(z), np.clip(z, -2, 2), np.nan)
    z = z * np.array([-1.0 if _window_base(f) in LOWER_IS_BETTER or f in LOWER_IS_BETTER else 1.0
                      for f in features])  # colour: better than average is blue
    text = [[fmt_lift(v) for v in row] for row in lift.to_numpy(dtype=float)]
    custom = []
    for i, key in enumerate(keys):
        row = []
        for j, f in enumerate(features):
            m = med.iloc[i, j] if med is not None else float("nan")
            o = overall.iloc[j] if overall is not None else float("nan")
            row.append([names.get(key, key), flabel[f], fmt_lift(lift.iloc[i, j]) or "–",
                        fmt_compact(m, lang), fmt_compact(o, lang)])
        custom.append(row)
    hover = (f"%{{customdata[0]}} · %{{customdata[1]}}<br>{tr('lift', lang)} %{{customdata[2]}}<br>"
             f"{tr('median_in_segment', lang)} %{{customdata[3]}} · {tr('median_overall', lang)} "
             "%{customdata[4]}<extra></extra>")
    ticks = [-2, -1, 0, 1, 2]
    fig = go.Figure(go.Heatmap(
        z=z.tolist(), x=[flabel[f] for f in features], y=[chip(names.get(k, k), colors.get(k, "#999")) for k in keys],
        text=text, texttemplate="%{text}", textfont={"size": 10}, customdata=custom, hovertemplate=hover,
        colorscale="RdBu", zmid=0, zmin=-2, zmax=2, xgap=2, ygap=2, hoverongaps=False,
        colorbar={"title": {"text": tr("lift_colour", lang)}, "tickvals": ticks, "thickness": 12,
                  "ticktext": [tr("worse", lang), "", "×1", "", tr("better", lang)]}))
    title = tr("t_profile" if cv.segments.kind == "cluster" else "t_profile_rfm", lang)
    _style(fig, title, tr("x_feature", lang), tr("y_segment", lang), height=max(340, 190 + 42 * len(keys)),
           left=160)
    fig.update_xaxes(tickangle=-35, showgrid=False)
    fig.update_yaxes(showgrid=False)
    # reading: the largest lift above average
    finite = lift.where(np.isfinite(lift) & (lift > 0))
    if finite.notna().any().any() and float(finite.max().max()) >= 1.2:
        stacked = finite.stack()
        (key, feat) = stacked.idxmax()
        reading = tr("r_profile", lang, name=names.get(key, key), lift=fmt_lift(stacked.max()), feature=flabel[feat])
    else:
        reading = tr("r_profile_none", lang)
    return Chart("profile", title, fig, reading)


# -- model selection ------------------------------------------------------------------------------

def shown_statuses(c: pd.DataFrame) -> pd.Series:
    """Each candidate's status as the chart and the table show it (``shown_status``), so the reading
    counts the same rejections the reader sees crossed and marked."""
    codes = c["reason_code"] if "reason_code" in c else pd.Series([None] * len(c), index=c.index)
    if "status" not in c:
        return pd.Series(["eligible"] * len(c), index=c.index, dtype=object)
    return pd.Series([shown_status(s, r) for s, r in zip(c["status"], codes, strict=True)], index=c.index,
                     dtype=object)


def selection_chart(sel: Selection, lang: Lang) -> Chart | None:
    """Silhouette gain (or silhouette) against k, one line per method; the winner starred."""
    c = sel.candidates
    if c is None or c.empty:
        return None
    metric = "gain" if "gain" in c and c["gain"].notna().any() else "silhouette"
    if metric not in c or not c[metric].notna().any():
        return None
    c = c.copy()
    xs = c["k"] if "k" in c else pd.Series([np.nan] * len(c))
    found = c.get("n_clusters", xs)
    c["_x"] = pd.to_numeric(xs, errors="coerce").astype(float)
    c["_x"] = c["_x"].fillna(pd.to_numeric(found, errors="coerce").astype(float))
    status = shown_statuses(c)
    fig = go.Figure()
    methods = list(dict.fromkeys(c["method"].astype(str)))
    for i, method in enumerate(methods):
        sub = c[c["method"].astype(str) == method].sort_values("_x")
        st = status.loc[sub.index]
        color = QUALITATIVE[i % len(QUALITATIVE)]
        why = [selection_reason(r.get("reason_code"), r.get("reason_params"), r.get("reason"), lang)
               for r in sub.to_dict(orient="records")]
        fig.add_trace(go.Scatter(
            x=sub["_x"].tolist(), y=sub[metric].astype(float).round(4).tolist(), mode="lines+markers", name=method,
            line={"color": color, "width": 2},
            marker={"color": color, "size": [11 if s == "rejected" else 8 for s in st],
                    "line": {"color": color, "width": 2},
                    "symbol": ["x-thin-open" if s == "rejected" else "circle" for s in st]},
            customdata=[[status_label(s, lang), w] for s, w in zip(st, why, strict=True)],
            hovertemplate=f"{method} k=%{{x}}<br>%{{y:.3f}}<br>%{{customdata[0]}} %{{customdata[1]}}<extra></extra>"))
    win = c[status == "winner"]
    if not win.empty:
        w = win.iloc[0]
        fig.add_trace(go.Scatter(x=[w["_x"]], y=[float(w[metric])], mode="markers", name=tr("chosen", lang),
                                 marker={"symbol": "star", "size": 18, "color": "#f2b701",
                                         "line": {"color": INK, "width": 1}},
                                 hovertemplate=f"{tr('chosen', lang)}: {w['method']} k=%{{x}}<extra></extra>"))
    min_gain = sel.thresholds.get("min_gain")
    if metric == "gain" and min_gain is not None:
        fig.add_hline(y=float(min_gain), line={"color": MUTED, "dash": "dot", "width": 1},
                      annotation={"text": tr("min_gain", lang, value=f"{min_gain:.2f}"), "font": {"color": MUTED,
                                                                                              "size": 10}},
                      annotation_position="bottom right")
    title = tr("t_selection", lang)
    _style(fig, title, tr("x_k", lang), tr("y_gain" if metric == "gain" else "y_silhouette", lang), height=420,
           legend=True, left=70)
    fig.update_xaxes(dtick=1)
    return Chart("selection", title, fig, selection_reading(sel, lang))


def selection_reading(sel: Selection, lang: Lang) -> str:
    c = sel.candidates
    status = shown_statuses(c)
    n, rejected = len(c), int((status == "rejected").sum())
    win = c[status == "winner"]
    if win.empty:
        return tr("r_selection_none", lang, n=n, rejected=rejected)
    w = win.iloc[0]
    k = w.get("n_clusters", w.get("k"))
    what = f"{w['method']} k={int(k)}" if k is not None and not pd.isna(k) else str(w["method"])
    gain = w.get("gain", float("nan"))
    return tr("r_selection", lang, what=what, silhouette=fmt_num(w.get("silhouette")),
              gain=f"{gain:+.3f}" if isinstance(gain, float) and math.isfinite(gain) else "–",
              stability=fmt_num(w.get("stability")), n=n, rejected=rejected)


# -- migration ------------------------------------------------------------------------------------

def migration_chart(mv: MigrationView, lang: Lang) -> Chart | None:
    """From x to heatmap: colour is the share of the row, the number the users."""
    m = mv.users
    if m is None or m.empty:
        return None
    special = {"(new)": tr("new", lang), "(gone)": tr("gone", lang)}

    def label(names: Mapping[str, tuple[str, str]], key: str) -> str:
        if key in special:
            return special[key]
        pair = names.get(key, (key, key))
        return (pair[1] or pair[0]) if lang == "zh" else pair[0]

    m = m.rename(index=str, columns=str)
    rows = _ordered(list(m.index), list(mv.from_names), last="(new)")
    cols = _ordered(list(m.columns), list(mv.to_names), last="(gone)")
    m = m.loc[rows, cols]
    # colours follow the later run, so a segment keeps its colour across the page
    palette = segment_colors(mv.kind, list(mv.to_names) + [k for k in rows if k not in mv.to_names])
    counts = m.to_numpy(dtype=float)
    row_tot = counts.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(row_tot > 0, counts / row_tot, np.nan)
    row_labels = [label(mv.from_names, k) for k in rows]
    col_labels = [label(mv.to_names, k) for k in cols]
    y = [chip(lbl, palette.get(k, "#999")) for lbl, k in zip(row_labels, rows, strict=True)][::-1]
    x = col_labels
    text = [[fmt_int(v) if v else "" for v in row] for row in counts][::-1]
    custom = [[[row_labels[i], col_labels[j], fmt_int(counts[i, j]), fmt_pct(share[i, j])]
               for j in range(len(cols))] for i in range(len(rows))][::-1]
    fig = go.Figure(go.Heatmap(
        z=share[::-1].tolist(), x=x, y=y, text=text, texttemplate="%{text}", textfont={"size": 10},
        customdata=custom, colorscale="Blues", zmin=0, zmax=1, xgap=2, ygap=2, hoverongaps=False,
        hovertemplate="%{customdata[0]} → %{customdata[1]}<br>%{customdata[2]} (%{customdata[3]})<extra></extra>",
        colorbar={"title": {"text": tr("share_of_row", lang)}, "tickformat": ".0%", "thickness": 12}))
    kind = tr("t_migration_rfm" if mv.kind == "rfm" else "t_migration_cluster", lang)
    title = tr("t_migration", lang, kind=kind, a=mv.from_run, b=mv.to_run, a_date=_d(mv.from_as_of),
               b_date=_d(mv.to_as_of))
    _style(fig, title, tr("x_to", lang), tr("y_from", lang), height=190 + 34 * len(rows), left=160)
    fig.update_xaxes(tickangle=-35, showgrid=False)
    fig.update_yaxes(showgrid=False)
    # reading: stayed share among users in both runs (the same segment key), and the largest move
    stayed = total = 0.0
    best: tuple[float, str, str] | None = None
    for i, rkey in enumerate(rows):
        for j, ckey in enumerate(cols):
            v = counts[i, j]
            if rkey in special or ckey in special:
                continue
            total += v
            if rkey == ckey:
                stayed += v
            elif v > 0 and (best is None or v > best[0]):
                best = (v, row_labels[i], col_labels[j])
    stayed_share = stayed / total if total else float("nan")
    if best is None:
        reading = tr("r_migration_still", lang, stayed=fmt_pct(stayed_share))
    else:
        reading = tr("r_migration", lang, stayed=fmt_pct(stayed_share), users=fmt_int(best[0]), src=best[1],
                     dst=best[2])
    return Chart(f"migration_{mv.kind}", title, fig, reading)


def _ordered(keys: list[str], order: list[str], last: str) -> list[str]:
    """Keys in the segmentation's display order, unknown ones after, ``last`` at the end."""
    pos = {k: i for i, k in enumerate(order)}
    out = sorted((k for k in keys if k != last), key=lambda k: (pos.get(k, len(pos)), k))
    return out + ([last] if last in keys else [])


def _d(ts) -> str:
    return ts.strftime("%Y-%m-%d") if ts is not None and not pd.isna(ts) else "–"
