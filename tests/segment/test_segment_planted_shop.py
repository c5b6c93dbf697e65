"""The default automatic segmentation recovers planted shopper types on shops it was not designed
on: the six-type generator of the evaluation benchmark (``benchmarks/shops/six_types.py``, another
behaviour model than the demo shop's) and one shop of its family (``benchmarks/shops/family.py``,
a third model), at seeds the benchmark does not use, ingested and built exactly as ``segmark
ingest`` and ``segmark features build`` do.

The bar is derived, not read off a run: a partition that keeps four in five users of every type
together and scatters the fifth evenly over the other segments (one type's users never
outnumber the rightful ones anywhere). Its adjusted Rand index is computed below from that
construction (about 0.67 for these shares). The default must also beat k-means on standardised
RFM + funnel features *told* the number of types (the naive way), on the same users.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # the generators live with the benchmarks, beside src/
    sys.path.insert(0, str(REPO))

from benchmarks.segment_family import baseline_ari, default_ari  # noqa: E402
from benchmarks.shops import family, shop_features, six_types  # noqa: E402


def scattered_partition_ari(truth: np.ndarray, kept: float, seed: int = 0) -> float:
    """ARI of a labelling that keeps a share ``kept`` of every type in its own segment and sends
    the rest, evenly, to the other types' segments."""
    rng = np.random.default_rng(seed)
    types, codes = np.unique(truth, return_inverse=True)
    labels = codes.copy()
    moved = rng.random(len(codes)) >= kept
    shift = rng.integers(1, len(types), moved.sum())
    labels[moved] = (codes[moved] + shift) % len(types)
    return float(adjusted_rand_score(codes, labels))


@pytest.mark.slow
def test_default_segmentation_recovers_six_planted_types(tmp_path: Path):
    features, truth = shop_features(six_types.generate(n_users=1500, seed=101), tmp_path)
    assert truth.nunique() == 6
    bar = scattered_partition_ari(truth.to_numpy(), kept=0.8)
    assert 0.5 < bar < 0.75  # the construction's value for six types of these shares
    chosen, n_segments, ari = default_ari(features, truth)
    assert chosen != "refused"
    assert 5 <= n_segments <= 8
    assert ari >= bar, f"{chosen}: ARI {ari:.3f} below {bar:.3f}"
    assert ari > baseline_ari(features, truth, log=False)


@pytest.mark.slow
def test_default_segmentation_recovers_a_family_shops_types(tmp_path: Path):
    """Five types (heavy and premium buyers, browsers, dormant buyers, newcomers), 240 days,
    prices missing on 30% of lines: the tied GMM's borders between types that overlap along
    correlated features are what the default relies on here (k-means told k stays far below)."""
    shop = family.generate(n_users=2000, seed=102)
    features, truth = shop_features(shop, tmp_path)
    assert truth.nunique() == 5 and shop.params["prices"] == "some"
    bar = scattered_partition_ari(truth.to_numpy(), kept=0.8)
    assert 0.5 < bar < 0.75
    chosen, n_segments, ari = default_ari(features, truth)
    assert chosen != "refused"
    assert 4 <= n_segments <= 7
    assert ari >= bar, f"{chosen}: ARI {ari:.3f} below {bar:.3f}"
    assert ari > baseline_ari(features, truth, log=False) + 0.2
