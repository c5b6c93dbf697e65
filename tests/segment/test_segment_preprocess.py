"""Per-feature preprocessing: fills, logs and scales checked against hand computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmark.core.segment.preprocess import (
    FeatureFiller,
    SpreadScaler,
    TailLog,
    make_preprocessor,
    signed_log1p,
    split_columns,
)


def test_fill_rules_by_feature_name():
    X = pd.DataFrame({
        "recency_days": [3.0, 40.0, np.nan],      # never bought: worse than the worst buyer
        "price_level": [0.5, 2.0, np.nan],        # no purchases: undefined, left for the scaler's centre
        "cart_abandonment_rate": [0.2, np.nan, 1.0],
        "views_30d": [1.0, 5.0, np.nan],          # no rule: the centre too
        "trend_30d": [2.0, np.nan, 0.5],          # a rule's constant: steady
    })
    out = FeatureFiller().fit_transform(X)
    assert out[2, 0] == 40.0 and np.isnan(out[2, 1]) and out[2, 2] == 1.0 and np.isnan(out[2, 3])
    assert np.isnan(out[1, 2]) and out[1, 4] == 1.0
    # What was learnt at fit is applied to new rows.
    new = FeatureFiller().fit(X).transform(pd.DataFrame(
        {"recency_days": [np.nan], "price_level": [np.nan], "cart_abandonment_rate": [np.nan],
         "views_30d": [np.nan], "trend_30d": [np.nan]}))
    assert new[0, 0] == 40.0 and np.isnan(new[0, 1:4]).all() and new[0, 4] == 1.0
    # The median rule is still there for whoever asks for it.
    assert FeatureFiller(default="median").fit_transform(X[["views_30d"]])[2, 0] == 3.0


def test_fill_rules_by_pattern():
    """Per-category columns take the rule of their pattern: no purchase means no spend share (0), while a
    column no rule names is left for the scaler's centre."""
    X = pd.DataFrame({"spend_share__服装": [0.5, np.nan, 0.25, 1.0], "my_score": [1.0, np.nan, 3.0, 5.0]})
    out = FeatureFiller().fit_transform(X)
    assert out[:, 0].tolist() == [0.5, 0.0, 0.25, 1.0]
    assert out[[0, 2, 3], 1].tolist() == [1.0, 3.0, 5.0] and np.isnan(out[1, 1])


def test_spread_is_measured_on_observed_values_and_missing_ones_sit_at_the_centre():
    """An order value known for 4 buyers of 100 users: filled with a typical value before scaling, its
    IQR would be 0 and its std a fifth of the buyers' spread, blowing the buyers apart."""
    x = np.full((100, 1), np.nan)
    x[:4, 0] = [10.0, 20.0, 30.0, 40.0]
    s = SpreadScaler(spread="std").fit(x)
    # median of the four 25; population std sqrt(((15^2 + 5^2) * 2) / 4) = sqrt(125)
    assert s.center_.tolist() == [25.0] and s.scale_[0] == pytest.approx(np.sqrt(125.0))
    out = s.transform(x)
    assert out[:4, 0].tolist() == pytest.approx([-15 / np.sqrt(125), -5 / np.sqrt(125), 5 / np.sqrt(125),
                                                 15 / np.sqrt(125)])
    assert (out[4:, 0] == 0.0).all()
    # IQR of the four: quartiles 17.5 and 32.5 (linear interpolation) -> 15
    assert SpreadScaler(spread="iqr").fit(x).scale_.tolist() == [15.0]
    with pytest.raises(ValueError, match="spread"):
        SpreadScaler(spread="mad").fit(x)


def test_tail_log_only_on_skewed_columns():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.lognormal(3, 1, 2000), rng.normal(50, 5, 2000), -rng.lognormal(2, 1, 2000)])
    t = TailLog().fit(X)
    # The lognormal's skewness is far above 1, the normal's about 0; the negated lognormal is
    # skewed to the left (skewness < -1) and is not a heavy right tail.
    assert t.log_columns_.tolist() == [0]
    out = t.transform(X)
    np.testing.assert_allclose(out[:, 0], np.log1p(X[:, 0]))
    np.testing.assert_array_equal(out[:, 1:], X[:, 1:])
    assert signed_log1p(np.array([-np.e + 1, 0.0, np.e - 1])).tolist() == pytest.approx([-1.0, 0.0, 1.0])


def test_spread_scaler_uses_iqr_then_std_then_one():
    X = np.array([
        [1.0, 0.0, 7.0],
        [2.0, 0.0, 7.0],
        [3.0, 0.0, 7.0],
        [4.0, 0.0, 7.0],
        [5.0, 10.0, 7.0],
    ])
    s = SpreadScaler().fit(X)
    # Column 0: median 3, quartiles 2 and 4 -> IQR 2. Column 1: IQR 0 -> population std of
    # (0,0,0,0,10) = 4. Column 2: constant -> scale 1.
    assert s.center_.tolist() == [3.0, 0.0, 7.0]
    assert s.scale_.tolist() == [2.0, 4.0, 1.0]
    assert s.transform(X)[:, 0].tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert s.transform(X)[:, 1].tolist() == [0.0, 0.0, 0.0, 0.0, 2.5]
    assert s.transform(X)[:, 2].tolist() == [0.0] * 5


def test_onehot_categories_with_chinese_levels_and_unknowns():
    X = pd.DataFrame({
        "monetary": [10.0, 20.0, 30.0, 40.0] * 25,
        "city": pd.array(["北京", "上海", None, "北京"] * 25, dtype="string"),
    })
    pre = make_preprocessor(["monetary"], ["city"]).fit(X)
    names = list(pre.get_feature_names_out())
    assert names == ["monetary", "city_unknown", "city_上海", "city_北京"]
    out = pre.transform(pd.DataFrame({"monetary": [25.0], "city": ["深圳"]}))  # unseen city
    assert out.shape == (1, 4)
    assert out[0, 1:].tolist() == [0.0, 0.0, 0.0]


def test_text_encoding_keeps_categories_for_kprototypes():
    X = pd.DataFrame({"aov": [1.0, 2.0, 3.0, 4.0], "gender": ["female", None, "male", "female"]})
    out = make_preprocessor(["aov"], ["gender"], encoding="text").fit_transform(X)
    assert out[:, 1].tolist() == ["female", "unknown", "male", "female"]


def test_pca_reduces_columns():
    rng = np.random.default_rng(1)
    base = rng.normal(size=(300, 1))
    X = pd.DataFrame(np.hstack([base, 2 * base, rng.normal(size=(300, 1))]), columns=["a", "b", "c"])
    assert make_preprocessor(["a", "b", "c"], pca=2).fit_transform(X).shape == (300, 2)


def test_split_columns_by_dtype():
    X = pd.DataFrame({"a": [1], "b": ["x"], "c": [True], "d": pd.array(["y"], dtype="string")})
    assert split_columns(X, ["a", "b", "c", "d"]) == (["a", "c"], ["b", "d"])


def test_skewness_by_hand_and_on_constant_columns():
    from segmark.core.segment.preprocess import skewness

    # (0, 0, 3): mean 1, deviations (-1, -1, 2): m2 = 2, m3 = (-1 - 1 + 8) / 3 = 2 -> 2 / 2**1.5.
    A = np.array([[0.0, 5.0], [0.0, 5.0], [3.0, 5.0]])
    assert skewness(A).tolist() == pytest.approx([2 / 2**1.5, 0.0])
    assert skewness(np.full((4, 1), 1e6) + np.array([[0.0], [1e-7], [0.0], [0.0]]))[0] == 0.0
