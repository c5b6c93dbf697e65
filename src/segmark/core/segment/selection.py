"""Automatic model selection: which method and how many segments, or no segments at all.

The rule, applied to a sample of preprocessed rows (every figure is kept in the candidate table):

1. Fit every method with every k in the range (density methods once; they find their own k).
2. A candidate is *rejected* when it finds fewer than two segments or more than the largest k
   allowed, or when its smallest segment holds less than ``min_share`` of the users.
3. Each remaining candidate's **silhouette gain** is its silhouette (on a fixed sample of rows)
   minus the silhouette k-means reaches with the same number of segments on structureless
   reference data: uniform rows in the box spanned by the data's principal axes (Tibshirani,
   Walther & Hastie's reference for the gap statistic). A raw silhouette cannot be compared
   across k: on data without groups it is about 0.4 at every k in two dimensions but falls from
   0.3 to 0.15 between k=2 and k=10 in ten, so a raw maximum favours few, coarse segments in the
   many dimensions of behaviour data; the gain measures structure beyond chance at each k.
4. Candidates are taken in order of preference. First the tied-covariance GMM's: those whose gain
   is at least ``finer_ratio`` (80%) of its own best gain, finest first. Behaviour types overlap
   along correlated features (buying often goes with viewing often); the tied GMM learns that
   shared shape and draws the borders between overlapping types, where merging two of them
   costs k-means little silhouette, so its gain curve stays near its best over a range of k and
   the finest k in that range is the one stability then confirms or rejects. Then every other
   candidate: the peaks of each method's gain curve (over k) whose gain is at least
   ``finer_ratio`` of the best gain, finest first, and the rest by decreasing gain. Resampling
   stability (mean adjusted Rand index between refits on subsets) is measured in that order for
   the first ``shortlist`` and then until one reaches ``min_stability`` (at most eight in each
   of the two groups). The **winner** is the first stable candidate. The finer preference is for
   hierarchical data, which behaviour data are: the split between buyers and browsers is the
   clearest, but the six kinds of shopper inside it are nearly as clear and are what a marketer
   acts on; outside the tied GMM a peak (not merely a high value) is required so that a k is
   chosen where its own curve says the structure is, and the largest k searched is never a
   peak. On the evaluation shops (``python -m benchmarks.segment --family``) the tied GMM first
   (with ``views_per_session`` among the features) took the family's median ARI from 0.71 to
   0.85 and found the planted number of types on 15 family shops of 36 instead of 5; where it
   finds no stable structure, the other methods decide as before.
   Calinski-Harabasz and Davies-Bouldin are recorded for every candidate, for the reader; they do
   not vote, so the choice is one documented rule rather than a blend of indices with invented
   weights.
5. **A winner with two segments is looked into** (:mod:`segmark.core.segment.refine`): the same
   rule runs inside each of the two, and a segment with stable structure of its own is replaced by
   the segments found in it; the combined segments are refitted as one model of the winner's method
   and must beat structureless data too. The clearest split of behaviour data (buyers and browsers,
   or a small group far out) can outscore every finer one; on the three evaluation shops where it
   did, this took the adjusted Rand index from 0.08-0.41 to 0.63-0.90.
6. **No structure** is declared when no stable candidate has a gain of at least ``min_gain``
   (0.05). Uniform noise and a single Gaussian blob reach a silhouette of 0.3-0.4 in two
   dimensions, as high as many real segmentations, so an absolute silhouette threshold cannot tell
   them apart; their gain is about zero or negative.

Every fit here runs on a few thousand rows, single-threaded: on rows this few, starting and
synchronising threads costs more than the work (and on a busy machine, far more). Ward's tree is
built once on the sample and cut at every k.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from segmark.core.segment.methods import check_method, fit_labels, ward_cuts
from segmark.core.segment.metrics import ReferenceSilhouette, cluster_scores, resample_stability
from segmark.core.segment.reasons import Reason
from segmark.core.segment.refine import REFINABLE, refine_two

SELECTION_N_INIT = {"kmeans": 4, "minibatch-kmeans": 3, "gmm": 1, "gmm-tied": 2, "kprototypes": 1}
"""Restarts per fit during selection: cheap on a sample, and they keep a bad start from making a
good k look unstable (a GMM already starts from k-means; k-prototypes starts from Cao's
deterministic density-based choice, so restarts would repeat it)."""

MAX_STABILITY_CHECKS = 8
"""Candidates whose stability is measured at most in each group (the tied GMM's, the others'); when
all of them refit unstably, the data are declared to have no stable segments (bounds the cost on
weak data)."""

PREFERRED_METHOD = "gmm-tied"
"""The method whose candidates near its own best gain are tried first (see the module docstring)."""

NEAR_BEST = 0.05
"""Near the tied GMM's best gain means within ``finer_ratio`` of it *and* within this much silhouette:
where groups are well apart (gains of 0.3 and more) a finer k that loses 0.08 of silhouette splits a
real group in two, however small a share of the best that is."""

FINER_STABILITY = 0.8
"""Stability a tied-GMM candidate finer than its best needs to be preferred: a split the gain
hardly rewards must at least refit as it was drawn (Mall Customers' five groups: the sixth, 2% of
the customers, refits at 0.79)."""

STABILITY_FRACTION = 0.5
"""Each stability refit sees half the sample: two halves share a quarter of the rows (1,250 of
5,000), plenty for the adjusted Rand index, and Ward's quadratic refits cost a quarter."""

CANDIDATE_COLUMNS = ["method", "k", "n_clusters", "silhouette", "reference_silhouette", "gain",
                     "calinski_harabasz", "davies_bouldin", "stability", "min_share", "max_share",
                     "noise_share", "peak", "status", "reason", "reason_code", "reason_params"]
"""One row per candidate; ``reason`` is the English text of ``reason_code`` with ``reason_params``
(see :mod:`segmark.core.segment.reasons`), which render it in other languages too."""


@dataclass
class Selection:
    """The outcome of a search: every candidate's figures, the winner, and why."""

    candidates: pd.DataFrame
    method: str | None
    k: int | None
    n_clusters: int
    structure_found: bool
    reason: str
    silhouette: float = float("nan")
    stability: float = float("nan")
    reference_silhouette: float = float("nan")
    silhouette_gain: float = float("nan")
    thresholds: dict[str, float] = field(default_factory=dict)
    labels: np.ndarray | None = field(default=None, repr=False)
    """The winner's labels on the selection sample."""
    why: Reason | None = None
    """``reason`` as a code and parameters, to render in any language."""
    estimator: Any = field(default=None, repr=False)
    """The winner fitted on the selection sample."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (no arrays, no estimators)."""
        return {
            "method": self.method, "k": self.k, "n_clusters": self.n_clusters,
            "structure_found": self.structure_found, "reason": self.reason,
            "reason_code": None if self.why is None else self.why.code,
            "reason_params": None if self.why is None else self.why.params,
            "silhouette": json_value(self.silhouette, 6), "stability": json_value(self.stability, 6),
            "reference_silhouette": json_value(self.reference_silhouette, 6),
            "silhouette_gain": json_value(self.silhouette_gain, 6), "thresholds": self.thresholds,
            "candidates": [{k: json_value(v, 6) for k, v in row.items()}
                           for row in self.candidates.to_dict(orient="records")],
        }


def json_value(v: Any, digits: int | None = None) -> Any:
    """A value as JSON can hold it: NumPy numbers as Python ones, NaN and pd.NA as None, floats
    rounded to ``digits`` when given; anything else unchanged."""
    if v is pd.NA:
        return None
    if isinstance(v, float | np.floating):
        if np.isnan(v):
            return None
        return float(v) if digits is None else round(float(v), digits)
    if isinstance(v, np.integer):
        return int(v)
    return v


def _reason(code: str, **params: Any) -> Reason:
    """A reason whose figures are stored as they are quoted (JSON numbers, six decimals)."""
    return Reason(code, {k: json_value(v, 6) for k, v in params.items()})


def _explain(rec: dict[str, Any], why: Reason | None) -> None:
    """Set a candidate's reason: its code, its figures and the English text."""
    rec["reason_code"] = None if why is None else why.code
    rec["reason_params"] = None if why is None else why.params
    rec["reason"] = "" if why is None else why.text("en")


def _failed(method: str, k: int | None, exc: Exception) -> dict[str, Any]:
    nan = float("nan")
    rec = {"method": method, "k": k, "n_clusters": 0, "silhouette": nan, "reference_silhouette": nan,
           "gain": nan, "calinski_harabasz": nan, "davies_bouldin": nan, "stability": nan, "min_share": nan,
           "max_share": nan, "noise_share": nan, "peak": False, "status": "rejected"}
    _explain(rec, _reason("fit_failed", error=str(exc)))
    return rec


def _peaks(records: list[dict[str, Any]], eligible: list[int], k_max: int) -> list[int]:
    """Eligible candidates whose gain is at least that of the same method's eligible neighbours at
    k-1 and k+1 (the local maxima of each method's gain curve); density methods are their own peak.
    The largest k searched is no peak: the curve may still rise beyond it."""
    by_method: dict[str, dict[int, int]] = {}
    peaks = []
    for i in eligible:
        if records[i]["k"] is None:
            peaks.append(i)
        else:
            by_method.setdefault(records[i]["method"], {})[records[i]["k"]] = i
    for ks in by_method.values():
        for k, i in ks.items():
            if k == k_max and len(ks) > 1:
                continue
            neighbours = [records[ks[j]]["gain"] for j in (k - 1, k + 1) if j in ks]
            if all(records[i]["gain"] >= g for g in neighbours):
                peaks.append(i)
    return peaks


def _label(method: str, k: int | None) -> str:
    return method if k is None else f"{method} k={k}"


def select_model(
    Z: np.ndarray,
    *,
    methods: Sequence[str],
    k_values: Sequence[int],
    min_share: float = 0.02,
    min_stability: float = 0.6,
    min_gain: float = 0.05,
    finer_ratio: float = 0.8,
    n_resamples: int = 4,
    shortlist: int = 2,
    silhouette_rows: np.ndarray | None = None,
    random_state: int = 0,
    mixed: np.ndarray | None = None,
    categorical_idx: list[int] | None = None,
    force: bool = False,
    refine: bool = True,
) -> Selection:
    """Search ``methods`` x ``k_values`` on the rows of ``Z`` (see the module docstring).

    With ``force`` (one method and one k asked for explicitly) that candidate wins whatever its
    figures, which are still measured, and ``structure_found`` reports what the rule would say.
    With ``refine``, a winner with two segments is looked into (:mod:`segmark.core.segment.refine`).
    """
    with threadpool_limits(limits=1):
        return _select(Z, methods=methods, k_values=k_values, min_share=min_share,
                       min_stability=min_stability, min_gain=min_gain, finer_ratio=finer_ratio,
                       n_resamples=n_resamples,
                       shortlist=shortlist, silhouette_rows=silhouette_rows, random_state=random_state,
                       mixed=mixed, categorical_idx=categorical_idx, force=force, refine=refine)


def _select(Z, *, methods, k_values, min_share, min_stability, min_gain, finer_ratio, n_resamples, shortlist,
            silhouette_rows, random_state, mixed, categorical_idx, force, refine) -> Selection:
    k_values = sorted({int(k) for k in k_values})
    if not k_values or k_values[0] < 2:
        raise ValueError("k values must be 2 or more")
    n = len(Z)
    rows = silhouette_rows if silhouette_rows is not None else np.arange(n)
    grid: list[tuple[str, int | None]] = []
    for method in methods:
        spec = check_method(method)
        if spec.mixed and not categorical_idx:
            continue
        grid.extend([(method, k) for k in k_values] if spec.needs_k else [(method, None)])
    if not grid:
        raise ValueError("no method can run on these features")

    def fit(method: str, k: int | None, subset: np.ndarray | None = None):
        zs = Z if subset is None else Z[subset]
        ms = None if mixed is None else (mixed if subset is None else mixed[subset])
        return fit_labels(method, k, zs, random_state=random_state, min_share=min_share,
                          n_init=SELECTION_N_INIT.get(method, 1), mixed=ms, categorical_idx=categorical_idx)

    reference = ReferenceSilhouette(Z[rows], random_state=random_state)
    cuts = ward_cuts(Z, k_values) if "agglomerative" in methods else {}
    records: list[dict[str, Any]] = []
    fitted: list[tuple[Any, np.ndarray]] = []
    for method, k in grid:
        if method == "agglomerative":
            est, labels, noise = None, cuts[k], 0.0
        else:
            try:
                est, labels, noise = fit(method, k)
            except ValueError as exc:  # e.g. k-prototypes cannot start k distinct prototypes
                records.append(_failed(method, k, exc))
                fitted.append((None, np.zeros(n, dtype=np.int64)))
                continue
        scores = cluster_scores(Z, labels, silhouette_rows=rows)
        rec = {"method": method, "k": k, "n_clusters": int(scores["n_clusters"]),
               "silhouette": scores["silhouette"], "reference_silhouette": float("nan"),
               "gain": float("nan"), "calinski_harabasz": scores["calinski_harabasz"],
               "davies_bouldin": scores["davies_bouldin"], "stability": float("nan"),
               "min_share": scores["min_share"], "max_share": scores["max_share"],
               "noise_share": noise, "peak": False, "status": "eligible"}
        _explain(rec, None)
        if rec["n_clusters"] < 2 or np.isnan(rec["silhouette"]):
            rec["status"] = "rejected"
            _explain(rec, _reason("too_few_segments"))
        elif rec["n_clusters"] > k_values[-1]:
            rec["status"] = "rejected"
            _explain(rec, _reason("too_many_segments", n_clusters=rec["n_clusters"], k_max=k_values[-1]))
        elif rec["min_share"] < min_share and not force:
            rec["status"] = "rejected"
            _explain(rec, _reason("small_segment", min_share=rec["min_share"], threshold=min_share))
        else:
            rec["reference_silhouette"] = reference(rec["n_clusters"])
            rec["gain"] = rec["silhouette"] - rec["reference_silhouette"]
        records.append(rec)
        fitted.append((est, labels))

    eligible = [i for i, r in enumerate(records) if r["status"] == "eligible"]
    peaks = _peaks(records, eligible, k_values[-1])
    best_gain = max((records[i]["gain"] for i in eligible), default=float("nan"))
    tied = [i for i in eligible if records[i]["method"] == PREFERRED_METHOD]
    tied_top = max(tied, key=lambda i: records[i]["gain"], default=None)
    tied_best = float("nan") if tied_top is None else records[tied_top]["gain"]

    def finest_first(i: int) -> tuple[int, float]:
        return -records[i]["n_clusters"], -records[i]["gain"]

    preferred = sorted((i for i in tied
                        if records[i]["gain"] >= max(finer_ratio * tied_best, tied_best - NEAR_BEST, min_gain)),
                       key=finest_first)
    finer = sorted((i for i in peaks if i not in preferred
                    and records[i]["gain"] >= max(finer_ratio * best_gain, min_gain)), key=finest_first)
    rest = finer + sorted((i for i in eligible if i not in finer and i not in preferred),
                          key=lambda i: -records[i]["gain"])
    order = preferred + rest
    for i in eligible:
        records[i]["peak"] = i in peaks
    winner: int | None = None
    rank = 0
    for group in (preferred, rest):
        for checked, i in enumerate(group):
            rec = records[i]
            if (winner is not None and rank >= shortlist) or (rec["gain"] < min_gain and not force):
                break
            if checked >= MAX_STABILITY_CHECKS:
                break
            rank += 1
            try:
                rec["stability"] = resample_stability(
                    lambda sub, m=rec["method"], k=rec["k"]: fit(m, k, sub)[1], n,
                    n_resamples=n_resamples, fraction=STABILITY_FRACTION, random_state=random_state)
            except ValueError:  # a refit on a subset could not even start: as unstable as it gets
                rec["stability"] = 0.0
            needed = min_stability if group is rest or rec["gain"] >= tied_best else max(min_stability, FINER_STABILITY)
            if rec["stability"] < needed and not force:
                if rec["stability"] < min_stability:
                    rec["status"] = "rejected"
                    _explain(rec, _reason("unstable", stability=rec["stability"], min_stability=min_stability))
                else:  # stable enough for a segmentation, not to be preferred over a coarser one
                    _explain(rec, _reason("not_preferred", stability=rec["stability"], needed=needed))
            elif winner is None:
                winner = i
    for i in order:
        if records[i]["status"] != "eligible" or i == winner:
            continue
        if records[i]["gain"] < min_gain:
            _explain(records[i], _reason("low_gain", gain=records[i]["gain"], min_gain=min_gain))
        elif np.isnan(records[i]["stability"]):
            _explain(records[i], _reason("not_measured"))

    thresholds = {"min_share": min_share, "min_stability": min_stability, "min_gain": min_gain,
                  "finer_ratio": finer_ratio}
    table = pd.DataFrame(records, columns=CANDIDATE_COLUMNS)
    table["k"] = table["k"].astype("Int64")
    if winner is None:
        if not eligible:
            why = _reason("no_candidate", min_share=min_share)
        else:
            top = records[max(eligible, key=lambda i: records[i]["gain"])]
            best = {"best_what": _label(top["method"], top["k"]), "best_silhouette": top["silhouette"],
                    "best_reference": top["reference_silhouette"], "best_n_clusters": top["n_clusters"]}
            if top["gain"] < min_gain:
                why = _reason("no_gain", min_gain=min_gain, **best)
            else:
                tried = [records[i] for i in eligible if not np.isnan(records[i]["stability"])]
                why = _reason("no_stable", best_stability=max(r["stability"] for r in tried),
                              min_stability=min_stability, **best)
        return Selection(table, None, None, 0, False, why.text("en"), thresholds=thresholds, why=why)

    parent = records[winner]
    refined = None
    if refine and not force and parent["method"] in REFINABLE and parent["n_clusters"] == 2:
        def again(Zp: np.ndarray, **kw: Any) -> Selection:  # the same rule inside one segment
            return _select(Zp, methods=methods, min_stability=min_stability, min_gain=min_gain,
                           finer_ratio=finer_ratio, n_resamples=n_resamples, shortlist=shortlist,
                           random_state=random_state, mixed=None, categorical_idx=None, force=False,
                           refine=False, **kw)

        refined = refine_two(Z, fitted[winner][1], parent["method"], select=again, silhouette_rows=rows,
                             k_max=k_values[-1], min_share=min_share, random_state=random_state)
    if refined is not None:
        scores = cluster_scores(Z, refined.labels, silhouette_rows=rows)
        ref = reference(refined.n_clusters)
        if scores["silhouette"] - ref < min_gain:
            refined = None  # the combined segments must beat structureless data as well
    if refined is not None:
        split = [p for p in refined.parts if p.what is not None]
        rec = {"method": parent["method"], "k": refined.n_clusters, "n_clusters": refined.n_clusters,
               "silhouette": scores["silhouette"], "reference_silhouette": ref, "gain": scores["silhouette"] - ref,
               "calinski_harabasz": scores["calinski_harabasz"], "davies_bouldin": scores["davies_bouldin"],
               "stability": min([parent["stability"], *(p.stability for p in split)]),
               "min_share": scores["min_share"], "max_share": scores["max_share"], "noise_share": 0.0,
               "peak": False, "status": "eligible"}
        _explain(parent, _reason("split_further"))  # the table is made again from the records below
        records.append(rec)
        fitted.append((refined.estimator, refined.labels))
        table = pd.DataFrame(records, columns=CANDIDATE_COLUMNS)
        table["k"] = table["k"].astype("Int64")
        winner = len(records) - 1
    best = records[winner]
    gain, ref_mean = best["gain"], best["reference_silhouette"]
    structure = bool(gain >= min_gain and best["stability"] >= min_stability)
    table.loc[winner, "status"] = "winner"
    figures = {"what": _label(best["method"], best["k"]), "silhouette": best["silhouette"], "reference": ref_mean,
               "n_clusters": best["n_clusters"], "gain": gain, "stability": best["stability"],
               "min_stability": min_stability}
    if force:
        cell = _reason("asked_for")
        why = _reason("forced", min_gain=min_gain, weak=not structure, **figures)
    elif refined is not None:
        cell = _reason("refined_cell")
        a, b = refined.parts
        both = a.what is not None and b.what is not None
        one, whole = (a, b) if a.what is not None else (b, a)
        parts = ({"a_what": a.what, "a_rows": a.rows, "a_gain": a.gain, "a_stability": a.stability,
                  "b_what": b.what, "b_rows": b.rows, "b_gain": b.gain, "b_stability": b.stability} if both else
                 {"a_what": one.what, "a_rows": one.rows, "a_gain": one.gain, "a_stability": one.stability,
                  "b_rows": whole.rows})
        why = _reason("refined_both" if both else "refined_one", parent_what=_label(parent["method"], parent["k"]),
                      parent_gain=parent["gain"], parent_stability=parent["stability"], **parts, **figures)
    else:
        n_ok = sum(r["status"] != "rejected" for r in records)
        top = records[max(eligible, key=lambda i: records[i]["gain"])]
        if winner in preferred and best["gain"] < top["gain"]:
            cell = _reason("finest_tied_peak")
            why = _reason("finest_tied", finer_ratio=finer_ratio,
                          top_what=_label(PREFERRED_METHOD, records[tied_top]["k"]), top_gain=tied_best,
                          n_ok=n_ok, min_share=min_share, **figures)
        elif winner in finer and best["gain"] < top["gain"]:
            cell = _reason("finest_peak")
            why = _reason("finest", finer_ratio=finer_ratio, top_what=_label(top["method"], top["k"]),
                          top_gain=top["gain"], n_ok=n_ok, min_share=min_share, **figures)
        else:
            cell = _reason("largest_gain")
            runner = next((records[i] for i in order if i != winner and records[i]["status"] == "eligible"),
                          None)
            after = {} if runner is None else {"next_what": _label(runner["method"], runner["k"]),
                                               "next_gain": runner["gain"], "next_silhouette": runner["silhouette"]}
            why = _reason("largest", n_ok=n_ok, min_share=min_share, **figures, **after)
    table.at[winner, "reason_code"] = cell.code
    table.at[winner, "reason_params"] = cell.params
    table.loc[winner, "reason"] = cell.text("en")
    return Selection(
        table, best["method"], best["k"], best["n_clusters"], structure, why.text("en"),
        silhouette=best["silhouette"], stability=best["stability"], reference_silhouette=ref_mean,
        silhouette_gain=gain, thresholds=thresholds, labels=fitted[winner][1],
        estimator=fitted[winner][0], why=why,
    )
