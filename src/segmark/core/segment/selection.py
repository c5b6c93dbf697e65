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
4. Candidates are taken in order of preference: first the peaks of each method's gain curve
   (over k) whose gain is at least ``finer_ratio`` (80%) of the best gain, finest first; then the
   rest by decreasing gain. Resampling stability (mean adjusted Rand index between refits on
   subsets) is measured in that order for the first ``shortlist`` and then until one reaches
   ``min_stability`` (at most eight). The **winner** is the first stable candidate. The finer
   preference is for hierarchical data, which behaviour data are: the split between buyers and
   browsers is the clearest, but the six kinds of shopper inside it are nearly as clear and are
   what a marketer acts on; a peak (not merely a high value) is required so that a k is chosen
   where its own curve says the structure is, and the largest k searched is never a peak.
   Calinski-Harabasz and Davies-Bouldin are recorded for every candidate, for the reader; they do
   not vote, so the choice is one documented rule rather than a blend of indices with invented
   weights.
5. **No structure** is declared when no stable candidate has a gain of at least ``min_gain``
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

SELECTION_N_INIT = {"kmeans": 4, "minibatch-kmeans": 3, "gmm": 1, "kprototypes": 1}
"""Restarts per fit during selection: cheap on a sample, and they keep a bad start from making a
good k look unstable (a GMM already starts from k-means; k-prototypes starts from Cao's
deterministic density-based choice, so restarts would repeat it)."""

MAX_STABILITY_CHECKS = 8
"""Candidates whose stability is measured at most; when the first eight in preference order all
refit unstably, the data are declared to have no stable segments (bounds the cost on weak data)."""

STABILITY_FRACTION = 0.5
"""Each stability refit sees half the sample: two halves share a quarter of the rows (1,250 of
5,000), plenty for the adjusted Rand index, and Ward's quadratic refits cost a quarter."""

CANDIDATE_COLUMNS = ["method", "k", "n_clusters", "silhouette", "reference_silhouette", "gain",
                     "calinski_harabasz", "davies_bouldin", "stability", "min_share", "max_share",
                     "noise_share", "peak", "status", "reason"]


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
    estimator: Any = field(default=None, repr=False)
    """The winner fitted on the selection sample."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (no arrays, no estimators)."""
        return {
            "method": self.method, "k": self.k, "n_clusters": self.n_clusters,
            "structure_found": self.structure_found, "reason": self.reason,
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


def _failed(method: str, k: int | None, exc: Exception) -> dict[str, Any]:
    nan = float("nan")
    return {"method": method, "k": k, "n_clusters": 0, "silhouette": nan, "reference_silhouette": nan,
            "gain": nan, "calinski_harabasz": nan, "davies_bouldin": nan, "stability": nan, "min_share": nan,
            "max_share": nan, "noise_share": nan, "peak": False, "status": "rejected",
            "reason": f"could not fit: {exc}"}


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
) -> Selection:
    """Search ``methods`` x ``k_values`` on the rows of ``Z`` (see the module docstring).

    With ``force`` (one method and one k asked for explicitly) that candidate wins whatever its
    figures, which are still measured, and ``structure_found`` reports what the rule would say.
    """
    with threadpool_limits(limits=1):
        return _select(Z, methods=methods, k_values=k_values, min_share=min_share,
                       min_stability=min_stability, min_gain=min_gain, finer_ratio=finer_ratio,
                       n_resamples=n_resamples,
                       shortlist=shortlist, silhouette_rows=silhouette_rows, random_state=random_state,
                       mixed=mixed, categorical_idx=categorical_idx, force=force)


def _select(Z, *, methods, k_values, min_share, min_stability, min_gain, finer_ratio, n_resamples, shortlist,
            silhouette_rows, random_state, mixed, categorical_idx, force) -> Selection:
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
               "noise_share": noise, "peak": False, "status": "eligible", "reason": ""}
        if rec["n_clusters"] < 2 or np.isnan(rec["silhouette"]):
            rec["status"], rec["reason"] = "rejected", "found fewer than two segments"
        elif rec["n_clusters"] > k_values[-1]:
            rec["status"] = "rejected"
            rec["reason"] = f"{rec['n_clusters']} segments, above the maximum {k_values[-1]}"
        elif rec["min_share"] < min_share and not force:
            rec["status"], rec["reason"] = ("rejected", f"smallest segment holds {rec['min_share']:.1%} "
                                            f"of users, below the minimum {min_share:.0%}")
        else:
            rec["reference_silhouette"] = reference(rec["n_clusters"])
            rec["gain"] = rec["silhouette"] - rec["reference_silhouette"]
        records.append(rec)
        fitted.append((est, labels))

    eligible = [i for i, r in enumerate(records) if r["status"] == "eligible"]
    peaks = _peaks(records, eligible, k_values[-1])
    best_gain = max((records[i]["gain"] for i in eligible), default=float("nan"))
    finer = [i for i in peaks if records[i]["gain"] >= max(finer_ratio * best_gain, min_gain)]
    finer.sort(key=lambda i: (-records[i]["n_clusters"], -records[i]["gain"]))
    order = finer + sorted((i for i in eligible if i not in finer), key=lambda i: -records[i]["gain"])
    for i in eligible:
        records[i]["peak"] = i in peaks
    winner: int | None = None
    for rank, i in enumerate(order):
        rec = records[i]
        if (winner is not None and rank >= shortlist) or (rec["gain"] < min_gain and not force):
            break
        if rank >= MAX_STABILITY_CHECKS:
            break
        try:
            rec["stability"] = resample_stability(
                lambda sub, m=rec["method"], k=rec["k"]: fit(m, k, sub)[1], n,
                n_resamples=n_resamples, fraction=STABILITY_FRACTION, random_state=random_state)
        except ValueError:  # a refit on a subset could not even start: as unstable as it gets
            rec["stability"] = 0.0
        if rec["stability"] < min_stability and not force:
            rec["status"], rec["reason"] = "rejected", (f"unstable: resampling ARI {rec['stability']:.2f} "
                                                        f"below {min_stability:.2f}")
        elif winner is None:
            winner = i
    for i in order:
        if records[i]["status"] != "eligible" or i == winner:
            continue
        if records[i]["gain"] < min_gain:
            records[i]["reason"] = f"silhouette gain {records[i]['gain']:+.3f} below {min_gain:.2f}"
        elif np.isnan(records[i]["stability"]):
            records[i]["reason"] = "stability not measured: a preferred candidate was stable"

    thresholds = {"min_share": min_share, "min_stability": min_stability, "min_gain": min_gain,
                  "finer_ratio": finer_ratio}
    table = pd.DataFrame(records, columns=CANDIDATE_COLUMNS)
    table["k"] = table["k"].astype("Int64")
    if winner is None:
        if not eligible:
            why = f"no candidate keeps every segment above {min_share:.0%} of users"
        else:
            top = records[max(eligible, key=lambda i: records[i]["gain"])]
            best = (f"{_label(top['method'], top['k'])}, silhouette {top['silhouette']:.3f} vs "
                    f"{top['reference_silhouette']:.3f} for {top['n_clusters']} segments on uniform data of the "
                    f"same extent")
            if top["gain"] < min_gain:
                why = f"no candidate beats structureless data by {min_gain:.2f} in silhouette (best: {best})"
            else:
                tried = [records[i] for i in eligible if not np.isnan(records[i]["stability"])]
                stab = max(r["stability"] for r in tried)
                why = (f"some candidates beat structureless data (best: {best}) but none refits stably: the "
                       f"highest resampling ARI among them is {stab:.2f}, below {min_stability:.2f}")
        return Selection(table, None, None, 0, False, f"no real segments: {why}", thresholds=thresholds)

    best = records[winner]
    gain, ref_mean = best["gain"], best["reference_silhouette"]
    structure = bool(gain >= min_gain and best["stability"] >= min_stability)
    table.loc[winner, "status"] = "winner"
    what = _label(best["method"], best["k"])
    compare = (f"silhouette {best['silhouette']:.3f} vs {ref_mean:.3f} for {best['n_clusters']} segments "
               f"on structureless data of the same extent (gain {gain:+.3f})")
    if force:
        table.loc[winner, "reason"] = "asked for"
        reason = f"{what} as asked: {compare}, resampling stability {best['stability']:.2f}"
        if not structure:
            reason += (f". Warning: below the automatic rule's thresholds (gain {min_gain:.2f}, "
                       f"stability {min_stability:.2f}); these segments may not be real")
    else:
        n_ok = sum(r["status"] != "rejected" for r in records)
        top = records[max(eligible, key=lambda i: records[i]["gain"])]
        stable = f"stable (resampling ARI {best['stability']:.2f} >= {min_stability:.2f})"
        if winner in finer and best["gain"] < top["gain"]:
            table.loc[winner, "reason"] = "finest stable peak of the gain curve near the best gain"
            reason = (f"{what}: the finest segmentation whose silhouette gain is a peak of its method's "
                      f"curve and at least {finer_ratio:.0%} of the best ({_label(top['method'], top['k'])}, "
                      f"gain {top['gain']:+.3f}), among {n_ok} candidates that keep every segment above "
                      f"{min_share:.0%} of users; {compare}; {stable}")
        else:
            table.loc[winner, "reason"] = "largest silhouette gain among stable candidates"
            reason = (f"{what}: the largest silhouette gain over structureless data among {n_ok} candidates "
                      f"that keep every segment above {min_share:.0%} of users ({compare}), and {stable}")
            runner = next((records[i] for i in order if i != winner and records[i]["status"] == "eligible"),
                          None)
            if runner is not None:
                reason += (f"; next {_label(runner['method'], runner['k'])} "
                           f"(gain {runner['gain']:+.3f}, silhouette {runner['silhouette']:.3f})")
    return Selection(
        table, best["method"], best["k"], best["n_clusters"], structure, reason,
        silhouette=best["silhouette"], stability=best["stability"], reference_silhouette=ref_mean,
        silhouette_gain=gain, thresholds=thresholds, labels=fitted[winner][1],
        estimator=fitted[winner][0],
    )
