"""RFM scores and the named scheme, against values worked out by hand and real purchases."""

from __future__ import annotations

from itertools import product

import numpy as np
import pandas as pd
import pytest

from segmark.core.segment.rfm import (
    RFM_RULES_3,
    RFM_RULES_5,
    RFMScorer,
    default_rfm_rules,
    parse_rfm_rules,
    rfm_scores,
    rfm_segments,
    slug,
)


def frame(recency, frequency, monetary) -> pd.DataFrame:
    n = len(recency)
    return pd.DataFrame({"recency_days": recency, "frequency": frequency, "monetary": monetary},
                        index=[f"u{i}" for i in range(n)], dtype=float)


def test_distinct_values_give_equal_quintiles():
    f = frame(recency=range(1, 11), frequency=range(1, 11), monetary=[10 * i for i in range(1, 11)])
    s = rfm_scores(f, scale=5)
    # Ten distinct buyers on a 5-point scale: two per score; recent (small recency) scores high.
    assert s["r_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert s["f_score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert s["m_score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_ties_share_the_score_of_the_block_start():
    # Six one-time buyers: 0 buyers are worse than them -> F=1; order of rows does not matter.
    f = frame(recency=[5] * 10, frequency=[1, 2, 1, 1, 3, 1, 5, 1, 2, 1], monetary=range(10))
    s = rfm_scores(f, scale=5)
    # 2 orders: 6 of 10 worse -> 1 + floor(5 * 6 / 10) = 4; 3 orders: 8 worse -> 5; 5 orders: 9 -> 5.
    assert s["f_score"].tolist() == [1, 4, 1, 1, 5, 1, 5, 1, 4, 1]
    # Everyone bought on the same day: nobody is strictly worse, so all share R=1.
    assert set(s["r_score"]) == {1}
    shuffled = rfm_scores(f.iloc[::-1], scale=5).loc[f.index]
    pd.testing.assert_frame_equal(shuffled, s)


def test_three_point_scale():
    f = frame(recency=range(1, 7), frequency=range(1, 7), monetary=range(1, 7))
    s = rfm_scores(f, scale=3)
    assert s["m_score"].tolist() == [1, 1, 2, 2, 3, 3]
    assert s["r_score"].tolist() == [3, 3, 2, 2, 1, 1]


def test_users_without_purchase_score_zero_and_do_not_move_buyers():
    buyers = frame(recency=range(1, 11), frequency=range(1, 11), monetary=range(1, 11))
    browsers = frame(recency=[np.nan] * 5, frequency=[0] * 5, monetary=[0] * 5)
    browsers.index = [f"b{i}" for i in range(5)]
    both = pd.concat([buyers, browsers])
    s = rfm_scores(both)
    assert (s.loc[browsers.index] == 0).all().all()
    pd.testing.assert_frame_equal(s.loc[buyers.index], rfm_scores(buyers))
    named = rfm_segments(s)
    assert set(named.loc[browsers.index, "segment"]) == {"no_purchase"}
    assert set(named.loc[browsers.index, "name_zh"]) == {"未购买用户"}
    assert set(named.loc[browsers.index, "rfm_cell"]) == {"000"}


@pytest.mark.parametrize(("rules", "scale"), [(RFM_RULES_5, 5), (RFM_RULES_3, 3)])
def test_default_schemes_cover_every_cell(rules, scale):
    cells = np.array(list(product(range(1, scale + 1), repeat=3)))
    scores = pd.DataFrame(cells, columns=["r_score", "f_score", "m_score"])
    named = rfm_segments(scores, rules, scale=scale)
    assert "other" not in set(named["segment"])
    assert set(named["segment"]) == {r.key for r in rules}


@pytest.mark.parametrize(("cell", "key"), [
    ((5, 5, 5), "champions"), ((4, 4, 4), "champions"), ((5, 4, 3), "loyal"), ((3, 5, 5), "loyal"),
    ((4, 2, 1), "potential_loyalist"), ((5, 3, 5), "potential_loyalist"), ((5, 1, 1), "new"),
    ((4, 1, 5), "promising"), ((3, 3, 1), "need_attention"), ((3, 2, 2), "about_to_sleep"),
    ((1, 3, 5), "at_risk"), ((2, 5, 3), "at_risk"), ((1, 5, 5), "cant_lose_them"),
    ((2, 4, 4), "cant_lose_them"), ((2, 1, 5), "hibernating"), ((1, 2, 1), "lost"),
])
def test_standard_scheme_cells(cell, key):
    scores = pd.DataFrame([cell], columns=["r_score", "f_score", "m_score"])
    assert rfm_segments(scores)["segment"].iloc[0] == key


def test_every_standard_segment_has_english_and_chinese_names():
    names = {r.name for r in RFM_RULES_5}
    assert names == {"Champions", "Loyal", "Potential Loyalist", "New", "Promising", "Need Attention",
                     "About To Sleep", "At Risk", "Can't Lose Them", "Hibernating", "Lost"}
    assert all(r.name_zh and r.name_zh != r.name for r in RFM_RULES_5)
    assert default_rfm_rules(3) is RFM_RULES_3


def test_custom_rules_from_settings_data():
    rules = parse_rfm_rules([
        {"name": "VIP", "name_zh": "贵宾", "r": [4, 5], "f": [4, 5], "m": [4, 5]},
        {"name": "Sleepy buyers", "r": [1, 2]},
    ], scale=5)
    assert [r.key for r in rules] == ["vip", "sleepy_buyers"]
    scores = pd.DataFrame([(5, 5, 5), (1, 3, 3), (3, 3, 3)], columns=["r_score", "f_score", "m_score"])
    named = rfm_segments(scores, rules)
    assert named["segment"].tolist() == ["vip", "sleepy_buyers", "other"]
    assert named["name_zh"].tolist() == ["贵宾", "Sleepy buyers", "其他"]


@pytest.mark.parametrize(("spec", "message"), [
    ([{"name": "A", "r": [0, 5]}], "outside 1..5"),
    ([{"name": "A", "r": [4]}], "must be [low, high]"),
    ([{"r": [1, 2]}], "'name' is required"),
    ([{"name": "A", "colour": "red"}], "unknown keys"),
    ([{"name": "A"}, {"name": "a"}], "distinct names"),
    ([], "empty"),
])
def test_custom_rules_are_validated(spec, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_rfm_rules(spec, scale=5)


def test_slug():
    assert slug("Can't Lose Them") == "cant_lose_them"
    assert slug("冠军") == "冠军"


def test_cdnow_purchases(shared_data):
    """CDNOW sample (2,357 customers): scores against facts computed here with plain pandas."""
    lines = pd.read_csv(shared_data / "cdnow-lifetimes" / "CDNOW_sample.txt", sep=r"\s+", header=None,
                        names=["master_id", "customer", "date", "cds", "dollars"], dtype={"date": str})
    lines["date"] = pd.to_datetime(lines["date"], format="%Y%m%d")
    as_of = pd.Timestamp("1998-07-01")
    per = lines.groupby("customer").agg(last=("date", "max"), frequency=("date", "size"),
                                        monetary=("dollars", "sum"))
    per["recency_days"] = (as_of - per["last"]).dt.days
    assert len(per) == 2357
    s = rfm_scores(per, scale=5)
    assert s.min().min() >= 1  # everyone in CDNOW bought
    # One-time buyers are the bottom tie block of frequency: all of them, and only they, get F=1.
    assert ((s["f_score"] == 1) == (per["frequency"] == 1)).all()
    # Spend has few ties, so each M score holds close to a fifth of the customers.
    counts = s["m_score"].value_counts().sort_index()
    assert counts.index.tolist() == [1, 2, 3, 4, 5]
    assert (abs(counts - 2357 / 5) <= 0.01 * 2357).all()
    # Higher scores mean more spend and more recent purchases, without exception.
    m_ranges = per.groupby(s["m_score"])["monetary"].agg(["min", "max"])
    assert (m_ranges["max"].to_numpy()[:-1] <= m_ranges["min"].to_numpy()[1:]).all()
    r_ranges = per.groupby(s["r_score"])["recency_days"].agg(["min", "max"])
    assert (r_ranges["min"].to_numpy()[:-1] >= r_ranges["max"].to_numpy()[1:]).all()
    named = rfm_segments(s)
    assert named["segment"].isin({r.key for r in RFM_RULES_5}).all()


@pytest.mark.parametrize("scale", [3, 5])
def test_scores_follow_the_documented_formula(scale):
    """Each score is 1 + floor(scale * w / n), w the buyers strictly worse, counted here one buyer
    at a time (no sorting, no cut points), on heavily tied data whose size is not a multiple of
    the scale; ``rfm_scores`` and a scorer fitted on the same users agree with it."""
    rng = np.random.default_rng(scale)
    n = 997
    f = frame(recency=rng.integers(0, 60, n), frequency=rng.geometric(0.5, n), monetary=rng.gamma(2, 50, n))
    f.loc[f.index[:100], ["frequency", "recency_days"]] = [0, np.nan]
    buyers = f.iloc[100:]
    rec, freq, mon = (buyers[c].to_numpy(dtype=float) for c in ("recency_days", "frequency", "monetary"))
    expected = np.zeros((n, 3), dtype=np.int64)
    for i in range(len(buyers)):
        worse = [(rec > rec[i]).sum(), (freq < freq[i]).sum(), (mon < mon[i]).sum()]
        expected[100 + i] = [1 + (scale * w) // len(buyers) for w in worse]
    want = pd.DataFrame(expected, index=f.index, columns=["r_score", "f_score", "m_score"])
    pd.testing.assert_frame_equal(rfm_scores(f, scale=scale), want)
    pd.testing.assert_frame_equal(RFMScorer.fit(f, scale=scale).transform(f), want)


def test_scorer_scores_new_users_against_the_fitted_population():
    population = frame(recency=range(1, 11), frequency=range(1, 11), monetary=[10 * i for i in range(1, 11)])
    scorer = RFMScorer.fit(population)
    new = frame(recency=[0.5, 10.5, 5.5], frequency=[100, 0, 3], monetary=[1000, 0, 35])
    s = scorer.transform(new)
    # More recent and bigger than everyone -> 5s; no purchase -> 0s. 5.5 days: the 5 buyers at
    # 6..10 days are worse -> 1 + floor(5 * 5 / 10) = 3; 3 orders beat 2 of 10 -> 1 + floor(1) = 2;
    # 35 beats 10, 20, 30 -> 1 + floor(1.5) = 2.
    assert s.iloc[0].tolist() == [5, 5, 5]
    assert s.iloc[1].tolist() == [0, 0, 0]
    assert s.iloc[2].tolist() == [3, 2, 2]


def test_axis_without_information_is_ignored():
    """A source without prices: net spend is 0 for every buyer, so M is 1 for all of them and
    the M ranges of the scheme are dropped; the scheme then works on R and F alone."""
    from segmark.core.segment.rfm import flat_axes, ignore_axes

    f = frame(recency=range(1, 11), frequency=range(1, 11), monetary=[0.0] * 10)
    assert flat_axes(f) == ["m"]
    scores = rfm_scores(f)
    assert set(scores["m_score"]) == {1}
    rules = ignore_axes(RFM_RULES_5, ["m"])
    named = rfm_segments(scores, rules)
    # The last two buyers (R=1, F=5) would be At Risk with M=1; without M they are Can't Lose Them.
    assert named["segment"].tolist()[-2:] == ["cant_lose_them", "cant_lose_them"]
    assert rfm_segments(scores)["segment"].tolist()[-2:] == ["at_risk", "at_risk"]
    # The first two (R=5, F=1) are New either way.
    assert named["segment"].tolist()[:2] == ["new", "new"]
    assert all(r.m is None for r in rules)
