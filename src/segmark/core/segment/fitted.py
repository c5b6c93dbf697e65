"""A fitted segmentation, whatever made it: one interface for RFM rules and clustering alike.

What the pipeline stores (signed) and later uses is a :class:`FittedSegmentation`:

- ``get_params()`` — every setting that shaped it, as stored with the segmentation;
- ``assign(features)`` — the segment of each user of a feature table, without refitting (with the
  kind's own per-user figures, e.g. RFM scores);
- ``explain(placed, values, segments)`` — why a placed user is in their segment, in English and
  Chinese.

Each kind is one class registered in :data:`KINDS` under the name stored with the segmentation, so
callers look a kind up instead of branching on it. Pure: frames in, frames and dicts out.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from segmark.core.segment.explain import Surrogate, nearest_centres
from segmark.core.segment.history import HISTORY_SHARE, short_history
from segmark.core.segment.model import SegmentModel
from segmark.core.segment.reasons import TEMPLATES as REASON_TEMPLATES
from segmark.core.segment.reasons import reason_text
from segmark.core.segment.rfm import RFMRule, RFMScorer, rfm_catalog, rfm_segments
from segmark.text import msg

SCORE_COLUMNS = ("r_score", "f_score", "m_score")
"""Per-user figures an assignment may carry (RFM's scores); None where a kind has none."""


@dataclass(frozen=True)
class Placed:
    """Where a user is, as stored: their segment and the figures stored with the placement."""

    user_id: str
    segment_id: int
    scores: Mapping[str, Any] = field(default_factory=dict)
    """``r_score``, ``f_score``, ``m_score`` (RFM); empty for a clustering."""


class FittedSegmentation(ABC):
    """The one interface of a fitted segmentation."""

    kind: ClassVar[str]
    """The name stored with the segmentation (``rfm``, ``cluster``)."""
    score_columns: ClassVar[tuple[str, ...]] = ()
    """Which of :data:`SCORE_COLUMNS` its assignments fill (stored with members, exported)."""

    @abstractmethod
    def get_params(self) -> dict[str, Any]:
        """Every setting that shaped the segmentation (JSON-ready), as stored with it."""

    @property
    @abstractmethod
    def features(self) -> list[str]:
        """The feature columns ``assign`` needs."""

    @abstractmethod
    def assign(self, features: pd.DataFrame) -> pd.DataFrame:
        """Segment of every row of ``features`` (indexed by user): columns ``segment_id`` and
        :data:`SCORE_COLUMNS` (None where the kind has no such figure)."""

    @abstractmethod
    def explain(self, placed: Placed, values: Mapping[str, Any], segments: pd.DataFrame) -> dict[str, Any]:
        """Why ``placed`` is in their segment, from the user's feature ``values`` and the stored
        ``segments`` (indexed by segment_id: name, name_zh, definition...): ``because`` and
        ``because_zh`` sentences and the figures they quote."""

    @classmethod
    def from_record(cls, params: Mapping[str, Any]) -> FittedSegmentation | None:
        """An instance rebuilt from the stored parameters alone when that is enough to *explain*
        (never to assign), so a user's why needs no stored model; None when it is not."""
        return None

    @classmethod
    @abstractmethod
    def reason(cls, params: Mapping[str, Any], metrics: Mapping[str, Any], selection: Mapping[str, Any] | None,
               lang: str = "en") -> str | None:
        """Why this segmentation, in ``lang``, from what was stored with it (None when the stored
        record cannot say it in ``lang``: the stored English sentence is then all there is)."""

    def parts(self) -> dict[str, Any]:
        """The fitted objects by name (what stored models held as a dict before this interface)."""
        return dict(vars(self))


@dataclass
class RFMSegmentation(FittedSegmentation):
    """RFM: the buyers' quantile cut points and the named scheme of rules (first match wins)."""

    scorer: RFMScorer | None
    rules: tuple[RFMRule, ...]
    scale: int

    kind: ClassVar[str] = "rfm"
    score_columns: ClassVar[tuple[str, ...]] = SCORE_COLUMNS

    def get_params(self) -> dict[str, Any]:
        return {"scale": self.scale, "rules": [rule_dict(r) for r in self.rules]}

    @property
    def features(self) -> list[str]:
        return list(self.scorer.columns) if self.scorer is not None else ["recency_days", "frequency", "monetary"]

    @property
    def keys(self) -> list[str]:
        """Segment key by segment id: the scheme's rules in order, then "other" and "no_purchase"."""
        return [key for key, _, _ in rfm_catalog(self.rules)]

    def assign(self, features: pd.DataFrame) -> pd.DataFrame:
        if self.scorer is None:
            raise ValueError("this RFM segmentation was rebuilt to explain, not to assign: load its stored model")
        scores = self.scorer.transform(features)
        named = rfm_segments(scores, self.rules, scale=self.scale)
        ids = {key: i for i, key in enumerate(self.keys)}
        return pd.DataFrame({"segment_id": named["segment"].map(ids).to_numpy(dtype=np.int64),
                             **{c: scores[c].to_numpy() for c in SCORE_COLUMNS}}, index=features.index)

    def explain(self, placed: Placed, values: Mapping[str, Any], segments: pd.DataFrame) -> dict[str, Any]:
        r, f, m = (int(placed.scores[c]) for c in SCORE_COLUMNS)
        row = segments.loc[placed.segment_id]
        definition = row["definition"]
        return {"scores": {"r": r, "f": f, "m": m}, "rule": definition,
                **{out: msg("segment.why.rfm", lang, r=r, f=f, m=m, name=row[name],
                            definition=definition_text(str(row["key"]), definition, lang))
                   for out, lang, name in (("because", "en", "name"), ("because_zh", "zh", "name_zh"))}}

    @classmethod
    def reason(cls, params: Mapping[str, Any], metrics: Mapping[str, Any], selection: Mapping[str, Any] | None,
               lang: str = "en") -> str:
        return rfm_reason(metrics, params, lang)

    @classmethod
    def from_record(cls, params: Mapping[str, Any]) -> RFMSegmentation:
        """RFM's why is the stored scores and the stored rule: no cut points needed."""
        return cls(None, (), int(params.get("scale", 5)))


@dataclass
class ClusterSegmentation(FittedSegmentation):
    """Clustering: the fitted ``SegmentModel`` (compacted) and the surrogate tree that states it as rules."""

    model: SegmentModel
    surrogate: Surrogate

    kind: ClassVar[str] = "cluster"

    def get_params(self) -> dict[str, Any]:
        params = self.model.get_params()
        params["features"] = None if params["features"] is None else list(params["features"])
        params["methods"] = list(params["methods"])
        return params

    @property
    def features(self) -> list[str]:
        return [str(c) for c in self.model.feature_names_in_]

    def assign(self, features: pd.DataFrame) -> pd.DataFrame:
        labels = self.model.predict(features) if len(features) else np.array([], dtype=np.int64)
        return pd.DataFrame({"segment_id": np.asarray(labels, dtype=np.int64),
                             **dict.fromkeys(SCORE_COLUMNS)}, index=features.index)

    def explain(self, placed: Placed, values: Mapping[str, Any], segments: pd.DataFrame) -> dict[str, Any]:
        frame = self._typed(pd.DataFrame([dict(values)], index=pd.Index([placed.user_id], name="user_id")))
        why = self.surrogate.explain(frame)
        dist = self.model.transform(frame)[0]
        names = segments[["name", "name_zh"]]
        nearest = [{"segment_id": i, "name": names.loc[i, "name"], "name_zh": names.loc[i, "name_zh"],
                    "distance": d} for i, d in nearest_centres(dist, top=min(3, len(dist)))]
        tree, own = why["tree_segment"], placed.segment_id
        agrees = tree == own

        def because(lang: str, name: str, rule: str) -> str:
            disagree = "" if agrees else msg("segment.why.cluster_disagrees", lang, name=names.loc[own, name])
            return msg("segment.why.cluster", lang, rule=why[rule], rule_segment=names.loc[tree, name],
                       disagree=disagree, nearest=nearest[0][name])

        return {"rule": why["rule"], "rule_zh": why["rule_zh"], "rule_segment_id": tree, "rule_agrees": agrees,
                "nearest_centres": nearest, "because": because("en", "name", "rule"),
                "because_zh": because("zh", "name_zh", "rule_zh")}

    @classmethod
    def reason(cls, params: Mapping[str, Any], metrics: Mapping[str, Any], selection: Mapping[str, Any] | None,
               lang: str = "en") -> str | None:
        code = (selection or {}).get("reason_code")
        if not isinstance(code, str) or code not in REASON_TEMPLATES:
            return None  # a record made before reasons had codes
        return reason_text(code, (selection or {}).get("reason_params"), lang)

    def _typed(self, frame: pd.DataFrame) -> pd.DataFrame:
        """One user's values as the model saw them in training: numbers as floats, text as objects."""
        for c in self.model.numeric_:
            frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
        for c in self.model.categorical_:
            frame[c] = frame[c].astype(object)
        return frame


KINDS: dict[str, type[FittedSegmentation]] = {cls.kind: cls for cls in (RFMSegmentation, ClusterSegmentation)}
"""Every kind of fitted segmentation by its stored name."""


def from_parts(parts: Mapping[str, Any]) -> FittedSegmentation:
    """A fitted segmentation from the dict that stored models were before this interface
    (``{"kind": "rfm", "scorer", "rules"}`` or ``{"kind": "cluster", "model", "surrogate"}``)."""
    if isinstance(parts, FittedSegmentation):
        return parts
    fields = {k: v for k, v in parts.items() if k != "kind"}
    if parts["kind"] == "rfm":
        fields.setdefault("scale", getattr(fields.get("scorer"), "scale", 5))
    return KINDS[parts["kind"]](**fields)


def rule_dict(r: RFMRule) -> dict[str, Any]:
    """An RFM rule as JSON: key, names and inclusive score ranges (None = any)."""
    return {"key": r.key, "name": r.name, "name_zh": r.name_zh,
            "r": list(r.r) if r.r else None, "f": list(r.f) if r.f else None, "m": list(r.m) if r.m else None}


def rfm_reason(metrics: Mapping[str, Any], params: Mapping[str, Any], lang: str = "en") -> str:
    """Why an RFM segmentation, in ``lang``, from what it stored (scale, buyers, scheme, flat axes),
    followed by :func:`rfm_notes` (the names are relative to the shop; too short a history)."""
    scheme = msg("segment.rfm.scheme_custom" if metrics.get("custom_rules") else "segment.rfm.scheme_standard", lang)
    text = msg("segment.rfm.reason", lang, scale=params.get("scale", 5), buyers=int(metrics.get("buyers", 0)),
               scheme=scheme, rules=len(params.get("rules") or []))
    flat = list(metrics.get("ignored_axes") or [])
    if metrics.get("revenue_known") is False and "m" in flat:
        text += msg("segment.rfm.reason_no_prices", lang)
        flat.remove("m")
    if flat:
        axes = msg("segment.list_sep", lang).join(msg(f"segment.axis.{a}", lang) for a in flat)
        text += msg("segment.rfm.reason_flat", lang, axes=axes, letters="/".join(a.upper() for a in flat))
    notes = rfm_notes(metrics, lang)
    if not notes:  # a record made before the notes: its reason as it was
        return text
    return (text + "。" + "".join(notes)) if lang == "zh" else (text + ". " + " ".join(notes))


def rfm_notes(metrics: Mapping[str, Any], lang: str = "en") -> list[str]:
    """What a reader of RFM names must know: they are relative to the shop; and, when the events'
    robust span (``history_days``) is short, that recency scores mean little (with the median days
    since the last purchase of the buyers scored R=1). Empty for records made before these metrics."""
    if "history_days" not in metrics:
        return []
    if metrics.get("buyers") == 0:  # nothing is ranked, so nothing is relative or too recent
        return [msg("segment.rfm.no_buyers", lang)]
    notes = [msg("segment.rfm.relative", lang)]
    span = metrics.get("history_days")
    if short_history(span):
        r1 = metrics.get("r1_recency_days")
        notes.append(msg("segment.rfm.short_history" if r1 is not None else "segment.rfm.short_history_no_r1", lang,
                         span=span, share=HISTORY_SHARE, range=metrics.get("history_range_days") or span, r1=r1))
    return notes


def definition_text(key: str, definition: Any, lang: str = "en") -> str:
    """An RFM segment's stored definition in ``lang``: score ranges read the same in both, the two
    fixed segments ("other", "no_purchase") and "any scores" have their own words."""
    fixed = f"segment.definition.{key}"
    if key in ("other", "no_purchase"):
        return msg(fixed, lang)
    text = "" if definition is None else str(definition)
    return msg("segment.definition.any", lang) if text == "any scores" else text


def rule_definition(rules: Sequence[RFMRule], key: str) -> str | None:
    """A segment's score ranges as text ("R 4-5, F 4-5"), or what the two fixed segments mean."""
    for r in rules:
        if r.key == key:
            parts = [f"{axis.upper()} {b[0]}-{b[1]}" if b[0] != b[1] else f"{axis.upper()} {b[0]}"
                     for axis, b in (("r", r.r), ("f", r.f), ("m", r.m)) if b is not None]
            return ", ".join(parts) or "any scores"
    return {"no_purchase": "no purchase before as_of (scores 0)", "other": "no rule matched"}.get(key)
