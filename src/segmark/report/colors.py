"""Segment colours: one colour per segment, the same in every chart and table of a report.

RFM segments have fixed, meaningful colours (greens for the best customers, warm colours for those
slipping away, greys for the lost and the not-yet-buying), so the grid, the size chart and the
migration heatmap read at a glance and two reports look alike. Behaviour clusters are unordered, so
they take a qualitative palette in segment order (segment 0 is the largest).
"""

from __future__ import annotations

from collections.abc import Iterable

RFM_COLORS: dict[str, str] = {
    "champions": "#1a9850",
    "loyal": "#66bd63",
    "potential_loyalist": "#a6d96a",
    "new": "#3288bd",
    "promising": "#5fc2c8",
    "need_attention": "#e6c229",
    "about_to_sleep": "#fdae61",
    "at_risk": "#f46d43",
    "cant_lose_them": "#c51b2a",
    "hibernating": "#9e9ac8",
    "lost": "#7f7f7f",
    "other": "#b8b8b8",
    "no_purchase": "#d6d6d6",
}

QUALITATIVE: tuple[str, ...] = (
    "#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d",
    "#8c8c8c", "#1f9e89", "#d3a6f5", "#86bcb6", "#ffbf79", "#a0cbe8",
)
"""Vega's Tableau-10 colours, then five more distinct ones: enough for the largest k searched."""

SPECIAL = {"(new)": "#cfd8e3", "(gone)": "#e3d3cf"}


def segment_colors(kind: str, keys: Iterable[str]) -> dict[str, str]:
    """Key -> colour for the segments of one segmentation, stable for a given kind and order."""
    out: dict[str, str] = {}
    spare = iter(QUALITATIVE * 4)
    for key in keys:
        key = str(key)
        if key in SPECIAL:
            out[key] = SPECIAL[key]
        elif kind == "rfm" and key in RFM_COLORS:
            out[key] = RFM_COLORS[key]
        else:
            out[key] = next(spare)
    return out


def with_alpha(color: str, alpha: float) -> str:
    """``#rrggbb`` as an ``rgba()`` string: lighter fills of the same segment colour."""
    h = color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha:g})"
