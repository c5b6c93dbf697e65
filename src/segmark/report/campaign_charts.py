"""Charts of the tags, audiences and campaign sections: plain dicts in (as the tags, audience and
campaign steps store them), Plotly figures with a one-line reading out; ``None`` when there is
nothing to draw."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from segmark.report.colors import QUALITATIVE
from segmark.report.figures import ACCENT, MUTED, Chart, _style
from segmark.report.text import Lang, fmt_int, fmt_pct
from segmark.text import label as _label
from segmark.text import msg

OTHER = "#c9d1da"
TREATMENT = ACCENT
CONTROL = "#f58518"


def _points(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:+.1f}"


def tag_values_chart(tags: Sequence[Mapping[str, Any]], lang: Lang, top: int = 5) -> Chart | None:
    """Per tag, the share of users holding each of its largest values (the rest as one bar)."""
    tags = [t for t in tags if t.get("users")]
    if not tags:
        return None
    n_users = max(int(t["users"] / t["coverage"]) for t in tags if t.get("coverage"))
    fig = go.Figure()
    names = [_label(t, lang) or t["tag"] for t in tags][::-1]
    for rank in range(top + 1):
        shares, texts = [], []
        for t in tags[::-1]:
            values = sorted((v for v in t["values"] if v.get("users")), key=lambda v: -v["users"])
            if rank < top:
                v = values[rank] if rank < len(values) else None
                shares.append(v["users"] / n_users if v else 0.0)
                texts.append(_label(v, lang) or v["value"] if v else "")
            else:
                rest = sum(v["users"] for v in values[top:])
                shares.append(rest / n_users)
                texts.append(msg("tags.other", lang) if rest else "")
        fig.add_trace(go.Bar(x=shares, y=names, orientation="h", text=texts, textposition="inside",
                             insidetextanchor="middle", hovertemplate="%{text}: %{x:.1%}<extra></extra>",
                             marker={"color": QUALITATIVE[rank % len(QUALITATIVE)] if rank < top else OTHER}))
    title = msg("tags.t_values", lang)
    _style(fig, title, msg("tags.x_share", lang), None, height=max(260, 120 + 34 * len(tags)), left=160)
    fig.update_layout(barmode="stack")
    fig.update_xaxes(tickformat=".0%", range=[0, 1])
    widest = max(tags, key=lambda t: t["coverage"])
    values = sorted(widest["values"], key=lambda v: -v.get("users", 0))
    reading = msg("tags.r_values", lang, tag=_label(widest, lang) or widest["tag"],
                  coverage=fmt_pct(widest["coverage"]), value=_label(values[0], lang) or values[0]["value"],
                  share=fmt_pct(values[0]["users"] / n_users), tags=len(tags))
    return Chart("tag_values", title, fig, reading)


def audience_groups_chart(audiences: Sequence[Mapping[str, Any]], lang: Lang) -> Chart | None:
    """Each saved audience's treatment and control group."""
    if not audiences:
        return None
    shown = list(audiences)[:15][::-1]
    names = [a["name"] for a in shown]
    fig = go.Figure()
    for arm, color in (("treatment", TREATMENT), ("control", CONTROL)):
        fig.add_trace(go.Bar(x=[a[arm] for a in shown], y=names, orientation="h", name=msg(f"audience.col.{arm}", lang),
                             marker={"color": color}, hovertemplate="%{y}: %{x:,}<extra></extra>"))
    title = msg("audience.t_groups", lang)
    _style(fig, title, msg("audience.x_users", lang), None, height=max(240, 130 + 30 * len(shown)), legend=True,
           left=140)
    fig.update_layout(barmode="stack", legend={"y": -0.3})
    largest = max(audiences, key=lambda a: a["size"])
    reading = msg("audience.r_groups", lang, n=len(audiences), name=largest["name"], size=fmt_int(largest["size"]),
                  treatment=fmt_int(largest["treatment"]), control=fmt_int(largest["control"]))
    return Chart("audience_groups", title, fig, reading)


def readout_chart(r: Mapping[str, Any], lang: Lang) -> Chart | None:
    """Conversion of treatment and control, with the lift and its interval in the reading."""
    t, c, lift = r.get("treatment"), r.get("control"), r.get("lift") or {}
    if not t or not c or lift.get("absolute") is None:
        return None
    arms = [("treatment", t, TREATMENT), ("control", c, CONTROL)]
    fig = go.Figure(go.Bar(
        x=[msg(f"audience.col.{a}", lang) for a, _, _ in arms], y=[g["conversion_rate"] for _, g, _ in arms],
        marker={"color": [col for _, _, col in arms]}, text=[fmt_pct(g["conversion_rate"]) for _, g, _ in arms],
        textposition="outside", cliponaxis=False,
        customdata=[[g["conversions"], g["users"]] for _, g, _ in arms],
        hovertemplate="%{x}: %{customdata[0]:,} / %{customdata[1]:,}<extra></extra>"))
    title = msg("audience.t_readout", lang, audience=r.get("audience", ""))
    _style(fig, title, None, msg("audience.y_conversion", lang), height=320)
    fig.update_yaxes(tickformat=".1%", rangemode="tozero")
    reading = msg("audience.r_readout", lang, t=fmt_pct(t["conversion_rate"]), c=fmt_pct(c["conversion_rate"]),
                  lift=_points(lift["absolute"]), low=_points(lift["ci_low"]), high=_points(lift["ci_high"]),
                  p=f"{lift['p_value']:.2g}")
    return Chart("campaign_readout", title, fig, reading)


def segment_lift_chart(r: Mapping[str, Any], lang: Lang, min_users: int = 20) -> Chart | None:
    """The conversion lift per segment with its interval (segments with too few users left out)."""
    rows = [s for s in r.get("by_segment", []) if s["treatment"]["users"] >= min_users
            and s["control"]["users"] >= min_users and s["lift"]["absolute"] is not None]
    if not rows:
        return None
    rows = rows[::-1]
    names = [_label(s, lang, "name") or s["segment"] for s in rows]
    lifts = [s["lift"]["absolute"] for s in rows]
    fig = go.Figure(go.Scatter(
        x=lifts, y=names, mode="markers", marker={"size": 10, "color": ACCENT},
        error_x={"type": "data", "symmetric": False,
                 "array": [s["lift"]["ci_high"] - s["lift"]["absolute"] for s in rows],
                 "arrayminus": [s["lift"]["absolute"] - s["lift"]["ci_low"] for s in rows], "color": MUTED},
        hovertemplate="%{y}: %{x:+.1%}<extra></extra>"))
    overall = r["lift"]["absolute"]
    fig.add_vline(x=0, line={"color": MUTED, "width": 1})
    fig.add_vline(x=overall, line={"color": TREATMENT, "width": 1, "dash": "dash"})
    title = msg("audience.t_segment_lift", lang)
    _style(fig, title, msg("audience.x_lift", lang), None, height=max(260, 120 + 34 * len(rows)), left=160)
    fig.update_xaxes(tickformat="+.0%")
    best = max(rows, key=lambda s: s["lift"]["absolute"])
    reading = msg("audience.r_segment_lift", lang, name=_label(best, lang, "name") or best["segment"],
                  lift=_points(best["lift"]["absolute"]), low=_points(best["lift"]["ci_low"]),
                  high=_points(best["lift"]["ci_high"]), overall=_points(overall))
    return Chart("campaign_segments", title, fig, reading)


def qini_chart(u: Mapping[str, Any] | None, lang: Lang) -> Chart | None:
    """The Qini curve of the latest uplift model on held-out members, against random targeting."""
    if not u or not u.get("curve"):
        return None
    share, qini = u["curve"]["share"], u["curve"]["qini"]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=share, y=qini, mode="lines+markers", line={"color": ACCENT, "width": 2},
                             marker={"size": 3}, name=msg("audience.model", lang, method=u["method"])))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, qini[-1]], mode="lines", name=msg("audience.random", lang),
                             line={"color": MUTED, "dash": "dash"}))
    title = msg("audience.t_qini", lang, audience=u.get("audience", ""))
    _style(fig, title, msg("audience.x_targeted", lang), msg("audience.y_qini", lang), height=340, legend=True)
    fig.update_xaxes(tickformat=".0%")
    fig.update_layout(legend={"y": -0.25})
    reading = msg("audience.r_qini", lang, method=u["method"], qini=f"{u['qini']:+.4f}", auuc=f"{u['auuc']:.4f}",
                  random=f"{u['auuc_random']:.4f}",
                  verdict=msg("audience.better" if u["qini"] > 0 else "audience.not_better", lang))
    return Chart("campaign_qini", title, fig, reading)
