"""The contract every recommender passes (implicit's ``RecommenderBase`` tests are the model):
subclass ``RecommenderContract`` and define ``make``."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse as sp

from segmark.core.recommend import Interactions, NotFittedError, Recommender


class RecommenderContract:
    """Behaviour shared by every implementation of ``Recommender``."""

    planted_taste: bool = True
    """Whether the method should find the planted groups (the baselines need not)."""

    def make(self) -> Recommender:  # pragma: no cover - each subclass defines it
        raise NotImplementedError

    @pytest.fixture(scope="class")
    @classmethod
    def fitted(cls, planted: tuple[Interactions, np.ndarray, np.ndarray]) -> Recommender:
        model = cls().make()
        assert model.fit(planted[0]) is model
        return model

    def _all(self, model: Recommender, m: Interactions, N: int = 5, **kwargs: object):
        userid = np.arange(m.shape[0])
        return model.recommend(userid, m, N, **kwargs)

    def test_lists_are_well_formed(self, fitted: Recommender, planted) -> None:
        m = planted[0]
        ids, scores = self._all(fitted, m, 5)
        assert ids.shape == scores.shape == (m.shape[0], 5)
        assert ((ids >= -1) & (ids < m.shape[1])).all()
        for row_ids, row_scores in zip(ids, scores, strict=True):
            real = row_ids[row_ids >= 0]
            assert len(set(real.tolist())) == len(real)  # no item twice
            assert (np.diff(row_scores[np.isfinite(row_scores)]) <= 1e-6).all()  # best first
            assert (row_ids[len(real):] == -1).all()  # padding only at the end

    def test_exclusions_and_filters_are_respected(self, fitted: Recommender, planted) -> None:
        m = planted[0]
        exclude = sp.csr_matrix(m.weights.astype(bool), dtype=np.float32)
        ids, _ = self._all(fitted, m, 8, exclude=exclude, filter_items=np.array([0, 1, 2]))
        for u, row in enumerate(ids):
            seen = set(m.weights[u].indices.tolist())
            assert not (set(row.tolist()) & (seen | {0, 1, 2}))

    def test_chunks_give_the_same_lists(self, fitted: Recommender, planted) -> None:
        m = planted[0]
        a, _ = self._all(fitted, m, 5)
        b, _ = self._all(fitted, m, 5, batch_size=7)
        np.testing.assert_array_equal(a, b)

    def test_pickle_round_trip(self, fitted: Recommender, planted) -> None:
        m = planted[0]
        again = pickle.loads(pickle.dumps(fitted))
        np.testing.assert_array_equal(self._all(fitted, m)[0], self._all(again, m)[0])

    def test_similar_items_exclude_the_item(self, fitted: Recommender, planted) -> None:
        ids, scores = fitted.similar_items(4, N=3)
        assert 4 not in ids.tolist() and len(ids) <= 3 and len(ids) == len(scores)

    def test_unfitted_model_says_so(self, planted) -> None:
        with pytest.raises(NotFittedError):
            self.make().recommend(np.arange(2), planted[0].rows(np.arange(2)), 3)

    def test_finds_the_planted_taste(self, fitted: Recommender, planted) -> None:
        if not self.planted_taste:
            pytest.skip("a baseline does not personalise")
        m, user_group, item_group = planted
        exclude = sp.csr_matrix(m.weights.astype(bool), dtype=np.float32)  # only new items count
        ids, _ = self._all(fitted, m, 5, exclude=exclude)
        shown = ids >= 0
        same = (item_group[np.where(shown, ids, 0)] == user_group[:, None]) & shown
        assert same.sum() / shown.sum() >= 0.8  # 90% of each user's events are of their group
