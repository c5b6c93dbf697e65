"""One interface for a fitted segmentation, RFM and clustering alike: stored with its parameters
(``get_params``), it assigns and explains without the pipeline knowing its kind."""

from __future__ import annotations

import pickle
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from segmark.core.segment import SegmentModel
from segmark.core.segment.fitted import ClusterSegmentation, FittedSegmentation, Placed, RFMSegmentation, rfm_notes
from segmark.pipeline.features import load_features, user_features
from segmark.pipeline.segmentation import (
    assign_users,
    cluster_model,
    load_model,
    load_segmentation,
    members,
    rfm_reason,
    run_cluster,
    run_rfm,
    segments_table,
)
from segmark.signing import signature
from segmark.text import msg
from segmark.workspace import Workspace, open_workspace


@pytest.fixture
def ws(shop_template: Path, tmp_path: Path) -> Iterator[Workspace]:
    root = tmp_path / "ws"
    shutil.copytree(shop_template, root)
    with open_workspace(root) as w:
        yield w


def test_stored_parameters_are_the_estimators_and_refit_the_same_segments(ws: Workspace) -> None:
    result = run_cluster(ws, method="kmeans", k=4)
    seg = result.segmentation
    params = dict(seg.params)
    assert params.pop("feature_run_id") == seg.feature_run_id
    expected = cluster_model(ws.settings.segment, method="kmeans", k=4, features=seg.features).get_params()
    assert params == {k: list(v) if isinstance(v, tuple) else v for k, v in expected.items()}
    # the stored parameters are complete: the estimator they make refits the stored segments exactly
    _, table = load_features(ws.store, seg.feature_run_id)
    refit = SegmentModel(**params).fit(table)
    stored = result.members["segment_id"].reindex(table.index.astype(str)).to_numpy()
    assert (refit.labels_ == stored).all()


def test_rfm_and_clustering_assign_and_explain_through_one_interface(ws: Workspace) -> None:
    _, table = load_features(ws.store)
    for result in (run_rfm(ws), run_cluster(ws, method="kmeans", k=4)):
        seg = result.segmentation
        fitted = load_segmentation(ws, seg.segmentation_id)
        assert isinstance(fitted, FittedSegmentation) and fitted.kind == seg.kind
        assert isinstance(fitted, RFMSegmentation if seg.kind == "rfm" else ClusterSegmentation)
        # assigning the users it was fitted on gives back the stored fit (RFM cut points and k-means
        # centres place a user the same way twice)
        placed = fitted.assign(table)
        stored = members(ws.store, seg.segmentation_id).reindex(table.index.astype(str))
        assert (placed["segment_id"].to_numpy() == stored["segment_id"].to_numpy()).all()
        for col in fitted.score_columns:
            assert (placed[col].to_numpy() == stored[col].to_numpy()).all()
        user = str(stored.index[0])
        _, values = user_features(ws.store, user, seg.feature_run_id)
        scores = {c: stored.loc[user, c] for c in fitted.score_columns}
        why = fitted.explain(Placed(user, int(stored.loc[user, "segment_id"]), scores), values,
                             segments_table(ws.store, seg.segmentation_id))
        assert why["because"] and any("\u4e00" <= ch <= "\u9fff" for ch in why["because_zh"])
        assert fitted.get_params() == {k: v for k, v in seg.params.items() if k != "feature_run_id"}


def test_a_model_stored_before_the_interface_still_loads(ws: Workspace) -> None:
    """Models used to be stored as a dict of their parts; such a model (signed) still assigns."""
    seg = run_cluster(ws, method="kmeans", k=4).segmentation
    fitted = load_segmentation(ws, seg.segmentation_id)
    old = pickle.dumps({"kind": "cluster", **fitted.parts()}, protocol=pickle.HIGHEST_PROTOCOL)
    key = ws.signing_key()
    assert key is not None
    ws.store.execute("UPDATE segment_models SET model = ?, signature = ? WHERE segmentation_id = ?",
                     [old, signature(key, seg.segmentation_id, "pickle", old), seg.segmentation_id])
    again = load_segmentation(ws, seg.segmentation_id)
    assert isinstance(again, ClusterSegmentation)
    assert isinstance(load_model(ws, seg.segmentation_id)["model"], SegmentModel)
    report = assign_users(ws, seg.segmentation_id)
    assert report["assigned"] == seg.n_users and report["moved"] == 0  # k-means places them where they were


def test_why_this_rfm_segmentation_in_both_languages(ws: Workspace) -> None:
    seg = run_rfm(ws, scale=3).segmentation
    buyers = int(seg.metrics["buyers"])
    assert buyers == int((members(ws.store, seg.segmentation_id)["r_score"] > 0).sum())
    n_rules = len(seg.params["rules"])
    relative = msg("segment.rfm.relative", "en")
    assert seg.metrics["history_days"] >= 90  # a year of demo events: no short-history warning
    assert seg.reason == rfm_reason(seg.metrics, seg.params, "en") == (
        f"RFM 3-point quantile scores of {buyers:,} buyers, named by the standard scheme of {n_rules} rules. "
        + relative)
    assert rfm_reason(seg.metrics, seg.params, "zh") == (
        f"对 {buyers:,} 位购买用户按分位数打 3 分制 RFM 分，按标准方案（{n_rules} 条规则）命名。"
        + msg("segment.rfm.relative", "zh"))
    flat = rfm_reason({**seg.metrics, "ignored_axes": ["m"]}, seg.params, "zh")
    assert "；所有购买用户的净消费都相同，因此忽略规则中 M 的范围。" in flat
    # a record made before the notes reads as it did
    old = {k: v for k, v in seg.metrics.items() if k not in ("history_days", "history_range_days")}
    assert rfm_reason(old, seg.params, "en").endswith(f"of {n_rules} rules")


def test_rfm_notes_for_a_shop_without_buyers_or_without_scored_recency() -> None:
    # nobody bought: one note that says so, not "Champions are its best-scoring buyers"
    none = rfm_notes({"history_days": 88.0, "history_range_days": 90.0, "buyers": 0, "r1_recency_days": None})
    assert none == [msg("segment.rfm.no_buyers", "en")]
    assert rfm_notes({"history_days": 88.0, "buyers": 0}, "zh") == [msg("segment.rfm.no_buyers", "zh")]
    # a short history whose R=1 buyers have no median recency: the warning without a figure
    short = rfm_notes({"history_days": 30.0, "history_range_days": 40.0, "buyers": 5, "r1_recency_days": None})
    assert short[1] == ("Warning: 30 days hold 98% of the events (the whole range is 40 days), too short a "
                        "history for recency scores to mean much.")
    assert "nan" not in " ".join(short + rfm_notes({"history_days": 30.0, "buyers": 5}, "zh"))
    with_r1 = rfm_notes({"history_days": 9.0, "history_range_days": 84.0, "buyers": 5, "r1_recency_days": 6.6})
    assert with_r1[1].endswith("buyers scored R=1 last bought a median of 6.6 days ago.")
