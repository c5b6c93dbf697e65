"""The segments step on a real workspace: the demo shop's events ingested and turned into features,
then segmented, stored, explained, assigned and compared across dates."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pickle
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segmark.core.segment.model import NoStructureError
from segmark.errors import InputError, NotFoundError, StoreError
from segmark.pipeline.features import load_features
from segmark.pipeline.segments import (
    assign_users,
    candidates_table,
    explain_user,
    export_segments,
    get_segmentation,
    list_segmentations,
    load_model,
    members,
    profile_table,
    run_cluster,
    run_rfm,
    segment_migration,
    segments_table,
)
from segmark.workspace import Workspace, init_workspace, open_workspace, workspace_key

# The generator's planted types and the archetype each should be named after.
EXPECTED_NAME = {"loyal_high_spender": "high_value_loyal", "bargain_hunter": "bargain_hunters",
                 "window_shopper": "window_shoppers", "cart_abandoner": "cart_abandoners",
                 "lapsed": "lapsed", "newcomer": "newcomers"}


def _open(template: Path, tmp_path: Path, settings: str | None = None) -> Workspace:
    root = tmp_path / "ws"
    shutil.copytree(template, root)
    if settings is not None:
        (root / "segmark.toml").write_text(settings, encoding="utf-8")
    return open_workspace(root)


@pytest.fixture
def ws(shop_template: Path, tmp_path: Path) -> Iterator[Workspace]:
    w = _open(shop_template, tmp_path)
    try:
        yield w
    finally:
        w.close()


def _truth(ws: Workspace) -> pd.Series:
    return pd.read_csv(ws.root / "truth.csv", dtype=str).set_index("user_id")["behaviour_type"]


def test_automatic_clustering_finds_and_names_the_planted_types(ws: Workspace):
    result = run_cluster(ws)
    seg = result.segmentation
    assert seg.kind == "cluster" and seg.n_users == 3000
    got = members(ws.store, seg.segmentation_id)
    truth = _truth(ws).reindex(got.index)
    assert adjusted_rand_score(truth, got["segment_id"]) >= 0.8
    # Each planted type's users mostly sit in a segment named after that type.
    for kind, key in EXPECTED_NAME.items():
        assert got.loc[truth == kind, "key"].value_counts().index[0].startswith(key), kind
    table = result.segments
    assert table["name"].is_unique and table["name_zh"].is_unique
    assert table["size"].sum() == 3000 and (table["members"] == table["size"]).all()
    assert table["revenue_share"].sum() == pytest.approx(1.0)
    assert set(table["name_zh"]) >= {"只逛不买用户", "加购未买用户", "新用户", "流失用户"}
    # Every segment is stated as rules, and the rules agree with the segments for most users.
    assert seg.metrics["surrogate_fidelity"] >= 0.8
    assert all(len(r) >= 1 for r, share in zip(table["rules"], table["share"], strict=True) if share >= 0.05)
    # The search is on record: every method and k, and why the winner won.
    cands = candidates_table(ws.store, seg.segmentation_id)
    assert (cands["status"] == "winner").sum() == 1
    assert {"kmeans", "gmm", "gmm-tied", "agglomerative", "hdbscan"} <= set(cands["method"])
    assert seg.selection["structure_found"] and seg.reason == seg.selection["reason"]
    prof = profile_table(ws.store, seg.segmentation_id)
    assert {"frequency", "monetary", "views_90d"} <= set(prof["feature"])


def test_rfm_segments_cover_every_user(ws: Workspace):
    result = run_rfm(ws)
    seg = result.segmentation
    _, features = load_features(ws.store)
    got = members(ws.store, seg.segmentation_id)
    assert len(got) == len(features) == 3000
    no_purchase = got["key"] == "no_purchase"
    assert no_purchase.sum() == (features["frequency"] == 0).sum()
    assert (got.loc[no_purchase, ["r_score", "f_score", "m_score"]] == 0).all().all()
    champions = got[got["key"] == "champions"]
    assert ((champions[["r_score", "f_score", "m_score"]] >= 4).all().all())
    table = result.segments
    assert table.loc[table["key"] == "champions", "name_zh"].iloc[0] == "冠军用户"
    assert table["definition"].notna().all()
    assert seg.metrics["buyers"] == int((features["frequency"] > 0).sum())
    why = explain_user(ws, champions.index[0], seg.segmentation_id)
    assert why["name"] == "Champions" and why["rule"] == "R 4-5, F 4-5, M 4-5"
    assert min(why["scores"].values()) >= 4


def test_why_names_the_rule_and_the_nearest_centre(ws: Workspace):
    seg = run_cluster(ws, method="kmeans", k=6).segmentation
    got = members(ws.store, seg.segmentation_id)
    agree = 0
    for user in got.index[:40]:
        why = explain_user(ws, user)
        # k-means puts a user in the segment of the nearest centre, and says so.
        assert why["nearest_centres"][0]["segment_id"] == why["segment_id"] == got.loc[user, "segment_id"]
        assert why["rule"] and why["because"]
        agree += why["rule_agrees"]
    assert agree >= 30
    with pytest.raises(NotFoundError, match="not in segmentation"):
        explain_user(ws, "nobody")


def test_assign_new_users_without_refitting_and_migration(ws: Workspace):
    early_run, late_run = sorted(r for (r,) in ws.store.query_rows("SELECT run_id FROM feature_runs"))
    early = run_rfm(ws, feature_run_id=early_run).segmentation
    cluster = run_cluster(ws, method="kmeans", k=6, feature_run_id=early_run).segmentation
    n_early = len(members(ws.store, cluster.segmentation_id))
    _, late_features = load_features(ws.store, late_run)
    assert n_early < len(late_features)  # newcomers joined after 2025-10-01
    fitted = members(ws.store, cluster.segmentation_id)["segment_id"]
    report = assign_users(ws, cluster.segmentation_id, late_run, only_new=True)
    assert report["assigned"] == report["new"] == len(late_features) - n_early
    after = members(ws.store, cluster.segmentation_id)
    assert len(after) == len(late_features) and after.index.is_unique
    assert (after["segment_id"].reindex(fitted.index) == fitted).all()  # old users untouched
    new_users = after[after["source"] == "assign"]
    assert (new_users["feature_run_id"] == late_run).all()
    # They were placed by the stored model as fitted, not by a refit.
    model = load_model(ws, cluster.segmentation_id)["model"]
    expected = model.predict(late_features.loc[new_users.index])
    assert (new_users["segment_id"].to_numpy() == expected).all()
    # Placing everyone again moves some users and replaces, never duplicates, rows.
    again = assign_users(ws, cluster.segmentation_id, late_run)
    assert again["assigned"] == len(late_features) and again["new"] == 0
    assert again["moved"] + again["unchanged"] == len(late_features)
    assert len(members(ws.store, cluster.segmentation_id)) == len(late_features)

    late = run_rfm(ws, feature_run_id=late_run).segmentation
    report = segment_migration(ws.store)
    assert (report.before.segmentation_id, report.after.segmentation_id) == (early.segmentation_id,
                                                                             late.segmentation_id)
    users = report.migration.users
    before = members(ws.store, early.segmentation_id)
    assert users.to_numpy().sum() == len(late_features)
    assert users.drop(index="(new)", errors="ignore").sum(axis=1).sum() == len(before)
    assert users.loc["(new)"].sum() == len(late_features) - len(before)
    by_key = before["key"].value_counts()
    assert (users.drop(index="(new)").sum(axis=1) == by_key.reindex(users.index.drop("(new)"))).all()
    json.dumps(report.to_dict(), default=str)


def test_no_structure_is_refused_and_recorded(shop_template: Path, tmp_path: Path):
    settings = "[segment]\nmin_silhouette_gain = 0.9\n"  # no real data gains 0.9 over chance
    with _open(shop_template, tmp_path, settings) as ws:
        with pytest.raises(NoStructureError, match="no real segments"):
            run_cluster(ws)
        assert ws.store.scalar("SELECT count(*) FROM segmentations") == 0
        status, metrics = ws.store.query_rows(
            "SELECT status, metrics FROM runs WHERE step = 'segment cluster'")[0]
        assert status == "failed"
        assert len(json.loads(metrics)["selection"]["candidates"]) == 37
        # Asking for a method and k explicitly still segments, with a warning on record.
        forced = run_cluster(ws, method="kmeans", k=4).segmentation
        assert forced.n_segments == 4 and "Warning" in forced.reason


def test_rules_and_names_from_settings(shop_template: Path, tmp_path: Path):
    settings = """
[segment]
rfm_scale = 3

[[segment.rfm_rules]]
name = "VIP"
name_zh = "贵宾"
r = [3, 3]
f = [3, 3]

[[segment.rfm_rules]]
name = "Everyone else"
name_zh = "其他买家"

[segment.names]
"cluster:window_shoppers" = { en = "Browsers", zh = "逛客" }
"""
    with _open(shop_template, tmp_path, settings) as ws:
        rfm = run_rfm(ws)
        table = rfm.segments
        assert list(table["key"]) == ["vip", "everyone_else", "other", "no_purchase"]
        assert table.set_index("key").loc["other", "size"] == 0  # kept for users placed later
        got = members(ws.store, rfm.segmentation.segmentation_id)
        assert ((got["key"] == "vip") == ((got["r_score"] == 3) & (got["f_score"] == 3))).all()
        assert rfm.segmentation.params["scale"] == 3
        cl = run_cluster(ws)
        names = cl.segments.set_index("key")
        assert names.loc["window_shoppers", ["name", "name_zh", "name_source"]].tolist() == [
            "Browsers", "逛客", "override"]


def test_export_formats(ws: Workspace, tmp_path: Path):
    seg = run_rfm(ws).segmentation
    _, csv = export_segments(ws.store, tmp_path / "seg.csv")
    frame = pd.read_csv(csv, dtype={"user_id": str})
    assert len(frame) == 3000 and frame["user_id"].is_unique
    assert list(frame.columns) == ["user_id", "segment_id", "segment_key", "segment_name", "segment_name_zh",
                                   "r_score", "f_score", "m_score", "source"]
    assert "冠军用户" in set(frame["segment_name_zh"])
    _, js = export_segments(ws.store, tmp_path / "seg.json", seg.segmentation_id)
    records = json.loads(js.read_text(encoding="utf-8"))
    assert len(records) == 3000 and records[0].keys() == set(frame.columns)
    _, pq = export_segments(ws.store, tmp_path / "seg.parquet")
    assert len(pd.read_parquet(pq)) == 3000
    with pytest.raises(InputError, match="export format"):
        export_segments(ws.store, tmp_path / "seg.xlsx")


def test_listing_and_lookup(ws: Workspace):
    a = run_rfm(ws).segmentation
    b = run_cluster(ws, method="kmeans", k=5).segmentation
    assert [s.segmentation_id for s in list_segmentations(ws.store)] == [b.segmentation_id, a.segmentation_id]
    assert get_segmentation(ws.store).segmentation_id == b.segmentation_id
    assert get_segmentation(ws.store, kind="rfm").segmentation_id == a.segmentation_id
    table = segments_table(ws.store, b.segmentation_id)
    assert list(table.index) == [0, 1, 2, 3, 4]
    assert np.all(np.diff(table["size"].to_numpy()) <= 0)  # 0 is the largest
    with pytest.raises(NotFoundError, match="no segmentation 999"):
        get_segmentation(ws.store, 999)


class _Planted:
    """A pickle that runs code when loaded: here it makes a folder, so a test can see whether it ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def _expected_signature(key: bytes, segmentation_id: int, blob: bytes) -> str:
    message = b"segmark-model\0" + f"{segmentation_id}\0pickle\0".encode() + blob
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def test_models_are_signed_with_the_workspace_key_and_round_trip(ws: Workspace):
    assert not (ws.root / ".segmark-key").exists()  # made when first needed
    cluster = run_cluster(ws, method="kmeans", k=4).segmentation
    key_file = ws.root / ".segmark-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = bytes.fromhex(key_file.read_text(encoding="ascii").strip())
    assert len(key) == 32
    rfm = run_rfm(ws).segmentation
    assert bytes.fromhex(key_file.read_text(encoding="ascii").strip()) == key  # one key per workspace
    for seg in (cluster, rfm):
        blob, signature = ws.store.query_rows(
            "SELECT model, signature FROM segment_models WHERE segmentation_id = ?", [seg.segmentation_id])[0]
        assert signature == _expected_signature(key, seg.segmentation_id, blob)
        assert key.hex() not in json.dumps(ws.store.query_rows("SELECT * FROM segment_models"), default=str)
    got = members(ws.store, cluster.segmentation_id)
    _, features = load_features(ws.store)
    model = load_model(ws, cluster.segmentation_id)["model"]
    assert (model.predict(features.loc[got.index[:50]]) == got["segment_id"].to_numpy()[:50]).all()
    assert explain_user(ws, got.index[0], cluster.segmentation_id)["segment_id"] == got["segment_id"].iloc[0]


def test_a_model_from_another_workspace_is_refused(shop_template: Path, tmp_path: Path):
    with _open(shop_template, tmp_path) as ws:
        cluster = run_cluster(ws, method="kmeans", k=4).segmentation
        rfm = run_rfm(ws).segmentation
        user = members(ws.store, cluster.segmentation_id).index[0]
        source = ws.root
    # Someone else's database, opened in a workspace with its own key ...
    other = init_workspace(tmp_path / "other")
    workspace_key(other, create=True)
    shutil.copy(source / "segmark.duckdb", other / "segmark.duckdb")
    # ... and the same database copied without any key.
    bare = init_workspace(tmp_path / "bare")
    shutil.copy(source / "segmark.duckdb", bare / "segmark.duckdb")
    for root, why in ((other, "written by another workspace"), (bare, "has no .segmark-key")):
        with open_workspace(root) as w:
            for seg in (cluster, rfm):
                with pytest.raises(StoreError, match=why):
                    load_model(w, seg.segmentation_id)
            with pytest.raises(StoreError, match="not loaded"):
                explain_user(w, user, cluster.segmentation_id)
            with pytest.raises(StoreError, match="not loaded"):
                assign_users(w, rfm.segmentation_id)
            assert explain_user(w, user, rfm.segmentation_id)["kind"] == "rfm"  # RFM's why needs no model


def test_a_changed_or_unsigned_model_is_refused_and_never_run(ws: Workspace, tmp_path: Path):
    cluster = run_cluster(ws, method="kmeans", k=4).segmentation
    marker = tmp_path / "the-pickle-ran"
    planted = pickle.dumps(_Planted(marker))
    ws.store.execute("UPDATE segment_models SET model = ? WHERE segmentation_id = ?",
                     [planted, cluster.segmentation_id])
    with pytest.raises(StoreError, match="changed since"):
        load_model(ws, cluster.segmentation_id)
    with pytest.raises(StoreError, match="changed since"):
        explain_user(ws, members(ws.store, cluster.segmentation_id).index[0])
    assert not marker.exists()
    # A signature that does not belong to the blob is no better than none.
    key = workspace_key(ws.root)
    ws.store.execute("UPDATE segment_models SET signature = ? WHERE segmentation_id = ?",
                     [_expected_signature(key, cluster.segmentation_id + 1, planted), cluster.segmentation_id])
    with pytest.raises(StoreError, match="changed since"):
        load_model(ws, cluster.segmentation_id)
    ws.store.execute("UPDATE segment_models SET signature = NULL WHERE segmentation_id = ?",
                     [cluster.segmentation_id])
    with pytest.raises(StoreError, match="no signature"):
        load_model(ws, cluster.segmentation_id)
    assert not marker.exists()


def test_migration_is_keyed_by_segment_key_and_carries_both_names(shop_template: Path, tmp_path: Path):
    """A segment renamed between two runs is still the same segment: users who stay Champions
    while Champions is renamed VIP / 贵宾 count as staying."""
    with _open(shop_template, tmp_path) as ws:
        early_run, late_run = sorted(r for (r,) in ws.store.query_rows("SELECT run_id FROM feature_runs"))
        early = run_rfm(ws, feature_run_id=early_run).segmentation
    (tmp_path / "ws" / "segmark.toml").write_text(
        '[segment.names]\n"rfm:champions" = { en = "VIP", zh = "贵宾" }\n', encoding="utf-8")
    with open_workspace(tmp_path / "ws") as ws:
        late = run_rfm(ws, feature_run_id=late_run).segmentation
        report = segment_migration(ws.store)
        a = members(ws.store, early.segmentation_id)["key"]
        b = members(ws.store, late.segmentation_id)["key"]
    assert (report.before.segmentation_id, report.after.segmentation_id) == (early.segmentation_id,
                                                                             late.segmentation_id)
    users = report.migration.users
    both = a.index.intersection(b.index)
    kept = both[(a[both] == b[both]).to_numpy()]
    champions = int(((a[both] == "champions") & (b[both] == "champions")).sum())
    assert champions > 0 and users.loc["champions", "champions"] == champions
    assert "Champions" not in users.index and "VIP" not in users.columns
    assert report.migration.stayed_share == pytest.approx(len(kept) / len(both))
    assert report.names_before["champions"] == ("Champions", "冠军用户")
    assert report.names_after["champions"] == ("VIP", "贵宾")
    assert report.name("champions", "zh", later=True) == "贵宾" and report.name("(new)", "zh") == "(new)"
    out = report.to_dict()
    assert out["names"]["to"]["champions"] == {"name": "VIP", "name_zh": "贵宾"}
    assert out["users"]["champions"]["champions"] == champions


def test_migration_without_a_second_date_names_the_shops_local_day(shop_template: Path, tmp_path: Path):
    """A Shanghai shop's features as of 2025-10-01 begin at 16:00 UTC on 30 September; the message
    that there is nothing to compare with dates them by the shop's calendar, as every view does."""
    from segmark.errors import NotReadyError
    from segmark.pipeline.features import build_features

    with _open(shop_template, tmp_path, '[time]\ntimezone = "Asia/Shanghai"\n') as ws:
        run = build_features(ws, as_of="2025-10-01")
        seg = run_rfm(ws, feature_run_id=run.run_id).segmentation
        assert seg.as_of.hour == 16  # stored as the UTC instant of the local midnight
        with pytest.raises(NotReadyError, match=rf"segmentation {seg.segmentation_id} \(2025-10-01\): build"):
            segment_migration(ws.store, timezone=ws.settings.time.timezone)
