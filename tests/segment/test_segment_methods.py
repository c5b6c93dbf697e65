"""Every clustering method recovers well-separated planted groups, and assigns new users the same way."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import adjusted_rand_score

from segmark.config import parse_settings
from segmark.core.segment.methods import METHODS
from segmark.core.segment.model import SegmentModel, check_n_clusters, kprototypes_assign
from segmark.errors import ConfigError

from .conftest import blobs_frame


@pytest.mark.parametrize("method", [m for m in METHODS if m != "kprototypes"])
def test_method_recovers_planted_groups(method, three_blobs):
    X, truth = three_blobs
    model = SegmentModel(method, 3, random_state=0).fit(X)
    assert model.n_clusters_ == 3
    assert adjusted_rand_score(truth, model.labels_) == pytest.approx(1.0)
    # Segment 0 is the largest, then 1, then 2.
    sizes = np.bincount(model.labels_)
    assert (np.diff(sizes) <= 0).all()
    # New users drawn from the same groups land in their group's segment, without refitting.
    new, new_truth = blobs_frame(90, centers=_centres(X, truth), std=0.6, seed=7)
    expected = {g: np.bincount(model.labels_[truth == g]).argmax() for g in range(3)}
    assert model.predict(new).tolist() == [expected[g] for g in new_truth]


def _centres(X: pd.DataFrame, truth: np.ndarray) -> np.ndarray:
    return np.vstack([X.to_numpy()[truth == g].mean(axis=0) for g in range(3)])


@pytest.mark.parametrize("method", ["agglomerative", "hdbscan", "dbscan"])
def test_sample_fitted_methods_assign_everyone_else(method):
    X, truth = blobs_frame(3000, 4, seed=2)
    model = SegmentModel(method, 4, sample_size=400, random_state=0).fit(X)
    assert model.assigner_ is not None  # fitted on 400 rows, the other 2,600 assigned
    assert adjusted_rand_score(truth, model.labels_) == pytest.approx(1.0)


def test_hdbscan_noise_is_attached_to_a_segment():
    X, truth = blobs_frame(600, 3, seed=1)
    outliers = pd.DataFrame([[500.0, 500.0], [-500.0, 400.0]], columns=X.columns, index=["o1", "o2"])
    model = SegmentModel("hdbscan", random_state=0).fit(pd.concat([X, outliers]))
    assert model.selection_.candidates["noise_share"].iloc[0] > 0
    assert model.labels_.min() >= 0 and model.n_clusters_ == 3
    assert adjusted_rand_score(truth, model.labels_[:600]) == pytest.approx(1.0)


def test_kprototypes_uses_categories():
    """Two numeric blobs; the first holds two member levels half and half. Only the category can
    split the first blob, so the planted three groups need k-prototypes."""
    rng = np.random.default_rng(0)
    n = 600
    group = np.repeat([0, 1, 2], n // 3)
    X = pd.DataFrame({
        "monetary": np.where(group < 2, 100.0, 2000.0) + rng.normal(0, 10, n),
        "member_level": np.where(group == 0, "金卡", "普通会员"),
    }, index=[f"u{i}" for i in range(n)])
    model = SegmentModel("kprototypes", 3, random_state=0).fit(X)
    assert model.categorical_ == ["member_level"]
    assert adjusted_rand_score(group, model.labels_) == pytest.approx(1.0)
    numeric_only = SegmentModel("kmeans", 3, features=["monetary"], random_state=0).fit(X)
    assert adjusted_rand_score(group, numeric_only.labels_) < 0.8
    new = pd.DataFrame({"monetary": [101.0, 99.0, 1990.0], "member_level": ["普通会员", "金卡", "普通会员"]})
    expected = [np.bincount(model.labels_[group == g]).argmax() for g in (1, 0, 2)]
    assert model.predict(new).tolist() == expected


def test_kprototypes_assign_cost():
    # Numeric distance 1 to centre 0, 0 to centre 1; one category mismatch with centre 1 costs gamma.
    centroids = np.array([[0.0, "a"], [1.0, "b"]], dtype=object)
    num, cat = np.array([[1.0]]), np.array([["a"]], dtype=object)
    assert kprototypes_assign(num, cat, centroids, 1, gamma=0.5).tolist() == [1]   # 1 > 0.5
    assert kprototypes_assign(num, cat, centroids, 1, gamma=2.0).tolist() == [0]   # 1 < 2


def test_estimator_contract(three_blobs):
    X, _ = three_blobs
    model = SegmentModel("kmeans", 3, random_state=0)
    assert model.get_params()["n_clusters"] == 3
    assert not hasattr(model, "labels_")
    assert model.fit(X) is model
    again = clone(model).set_params(random_state=0).fit(X)
    np.testing.assert_array_equal(again.labels_, model.labels_)
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.labels_)
    dist = model.transform(X)
    assert dist.shape == (len(X), 3)
    np.testing.assert_array_equal(dist.argmin(axis=1), model.labels_)


def test_features_parameter_and_errors(three_blobs):
    X, truth = three_blobs
    X = X.assign(noise=np.random.default_rng(0).normal(size=len(X)))
    model = SegmentModel("kmeans", 3, features=["f0", "f1"], random_state=0).fit(X)
    assert list(model.feature_names_in_) == ["f0", "f1"]
    assert adjusted_rand_score(truth, model.labels_) == pytest.approx(1.0)
    with pytest.raises(KeyError, match="recency"):
        SegmentModel("kmeans", 3, features=["recency"]).fit(X)
    with pytest.raises(ValueError, match="unknown method"):
        SegmentModel("spectral", 3).fit(X)
    with pytest.raises(ValueError, match="at least 2, not 1"):
        SegmentModel("kmeans", 1).fit(X)
    with pytest.raises(TypeError, match="DataFrame"):
        SegmentModel("kmeans", 3).fit(X.to_numpy())


def test_automatic_selection_tries_kprototypes_with_categories():
    rng = np.random.default_rng(1)
    n = 600
    group = np.repeat([0, 1, 2], n // 3)
    X = pd.DataFrame({
        "monetary": np.where(group < 2, 100.0, 2000.0) + rng.normal(0, 10, n),
        "member_level": np.where(group == 0, "金卡", "普通会员"),
    }, index=[f"u{i}" for i in range(n)])
    model = SegmentModel(k_max=5, random_state=0).fit(X)
    assert "kprototypes" in set(model.selection_.candidates["method"])
    assert model.n_clusters_ == 3
    assert adjusted_rand_score(group, model.labels_) == pytest.approx(1.0)


@pytest.mark.parametrize(("given", "expected"), [("auto", "auto"), (6, 6), ("6", 6), (" 12", 12), (np.int64(3), 3),
                                                 (2, 2)])
def test_k_accepted(given, expected):
    assert check_n_clusters(given) == expected
    assert type(check_n_clusters(given)) is type(expected)


@pytest.mark.parametrize("given", [1, 0, -3, "1", "many", "6.0", 2.5, True, None, "Auto", ""])
def test_k_refused_in_one_place_for_settings_options_and_the_model(given):
    with pytest.raises(ValueError, match="k must be auto or a whole number of segments of at least 2"):
        check_n_clusters(given)
    X, _ = blobs_frame(60, 3, seed=2)
    with pytest.raises(ValueError, match="k must be auto or a whole number"):
        SegmentModel("kmeans", given).fit(X)


def test_settings_check_k_the_same_way():
    assert parse_settings({"segment": {"k": 4}}).segment.k == 4
    assert parse_settings({"segment": {"k": "auto"}}).segment.k == "auto"
    with pytest.raises(ConfigError, match="k must be auto or a whole number of segments of at least 2, not 1"):
        parse_settings({"segment": {"k": 1}})
