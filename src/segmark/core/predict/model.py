"""``PredictiveModel``: one interface for a propensity, churn or response model (fit, score,
explain; stored by the pipeline, signed, and loaded back).

``fit`` chooses among the candidates (``candidates.CLASSIFIERS`` and their soft-voting ensemble) by
cross-validated ROC-AUC on out-of-fold predictions (the ensemble only when it gains ``ENSEMBLE_GAIN``),
evaluates the winner and the naive baselines on the very same folds, chooses the decision threshold,
measures permutation importance, and refits the winner on every training row. Folds (``splits``):

- rows from several cuts (rolling origins): time-aware and grouped by user. The validation rows
  are the latest cut's; each fold trains on earlier cuts whose label windows end by the latest cut,
  without the validation fold's users, so a model is never judged on a user or a period it saw;
- rows from one table (a CRM export, a campaign): stratified k-fold.

Selection runs on a sample of at most ``sample_size`` rows (20,000 by default; users sampled whole),
which ranks the candidates as reliably as all rows would at a fraction of the cost (five candidates in
five folds); the winner is refitted on every row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from segmark.core.predict.candidates import CLASSIFIERS, ENSEMBLE, MISSING, SoftVote, make_candidate
from segmark.core.predict.evaluation import choose_threshold, evaluate

Split = tuple[np.ndarray, np.ndarray]
ENSEMBLE_GAIN = 0.002
"""The ensemble wins only when its out-of-fold ROC-AUC beats the best single candidate's by this much:
it costs its members' fits and predictions together, so it has to earn them."""
PARALLEL_ROWS = 200_000
"""Below this many training rows the final fit runs on one thread (threads only contend there)."""


def _user_fold(groups: pd.Series, k: int, seed: int) -> np.ndarray:
    """A fold number per row, the same for every row of one user (users shuffled by seed)."""
    codes, uniques = pd.factorize(groups)
    order = np.random.default_rng(seed).permutation(len(uniques))
    return (order % k)[codes]


def splits(y: np.ndarray, *, k: int, groups: pd.Series | None = None, origin: np.ndarray | None = None,
           label_end: np.ndarray | None = None, seed: int = 0) -> tuple[list[Split], str]:
    """Train/validation index pairs and the scheme's name (see the module docstring)."""
    n = len(y)
    if origin is not None and len(np.unique(origin)) > 1:
        last = origin.max()
        fold = _user_fold(groups, k, seed)
        past = label_end <= last
        out = []
        for f in range(k):
            val = np.flatnonzero((origin == last) & (fold == f))
            train = np.flatnonzero(past & (fold != f))
            if len(val) and len(train) and 0 < y[train].sum() < len(train):
                out.append((train, val))
        return out, "time_grouped"
    if groups is not None and groups.duplicated().any():
        fold = _user_fold(groups, k, seed)
        return [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(k)], "grouped_kfold"
    k = max(2, min(k, int(np.bincount(y).min())))
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(tr, va) for tr, va in skf.split(np.zeros(n), y)], "stratified_kfold"


def prepare(X: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]) -> pd.DataFrame:
    """The inputs as the candidates take them: numbers as floats, categories as text with a missing marker."""
    out = pd.DataFrame(index=X.index)
    for c in numeric:
        out[c] = pd.to_numeric(X[c], errors="coerce").to_numpy(dtype=float) if c in X else np.nan
    for c in categorical:
        s = X[c] if c in X else pd.Series(None, index=X.index, dtype=object)
        text = s.astype(object)
        out[c] = text.where(text.notna(), MISSING).astype(str).to_numpy(dtype=object)
    return out


class PredictiveModel:
    """Choose, evaluate and fit a binary classifier; score users; explain one user's score.

    Learned: ``algorithm_`` (winner), ``candidates_`` (each candidate's CV figures), ``evaluation_``
    (winner, out-of-fold), ``baselines_`` (each baseline's figures on the same folds), ``threshold_``,
    ``importance_`` (permutation importance, by input), ``reference_`` (each input's typical value,
    for explanations), ``cv_scheme_``, ``model_`` (fitted on every row).
    """

    def __init__(self, *, numeric: Sequence[str], categorical: Sequence[str] = (), cv: int = 5,
                 candidates: Sequence[str] | None = None, ensemble_size: int = 3, sample_size: int = 20_000,
                 importance_rows: int = 2_000, random_state: int = 0) -> None:
        self.numeric = list(numeric)
        self.categorical = list(categorical)
        self.cv = cv
        self.candidates = candidates
        self.ensemble_size = ensemble_size
        self.sample_size = sample_size
        self.importance_rows = importance_rows
        self.random_state = random_state

    @property
    def inputs(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    # -- fitting ------------------------------------------------------------------------------------

    def fit(self, X: pd.DataFrame, y: np.ndarray, *, groups: pd.Series | None = None,
            origin: np.ndarray | None = None, label_end: np.ndarray | None = None,
            baselines: dict[str, Pipeline] | None = None) -> PredictiveModel:
        with threadpool_limits(limits=1):  # small fits: threads only contend (and spin) on a busy machine
            self._select(X, np.asarray(y).astype(np.int64), groups, origin, label_end, baselines)
        full = prepare(X, self.numeric, self.categorical)
        y = np.asarray(y).astype(np.int64)
        with threadpool_limits(limits=1 if len(y) < PARALLEL_ROWS else None):
            fitted = {m: make_candidate(m, self.numeric, self.categorical, self.random_state).fit(full, y)
                      for m in self.members_}
        self.model_ = fitted[self.algorithm_] if self.algorithm_ != ENSEMBLE else SoftVote(fitted)
        self.n_train_ = len(y)
        self.positive_rate_ = float(y.mean())
        return self

    def _select(self, X: pd.DataFrame, y: np.ndarray, groups: pd.Series | None, origin: np.ndarray | None,
                label_end: np.ndarray | None, baselines: dict[str, Pipeline] | None) -> None:
        """Choose the winner on out-of-fold predictions of a sample; evaluate it and the baselines."""
        if len(np.unique(y)) < 2:
            raise ValueError("the labels hold one outcome only: a model needs both")
        if not self.inputs:
            raise ValueError("no input columns to learn from")
        rows = self._sample(len(y), groups)
        Xs = X.iloc[rows]
        ys = y[rows]
        gs = None if groups is None else groups.iloc[rows].reset_index(drop=True)
        os_ = None if origin is None else np.asarray(origin)[rows]
        ls = None if label_end is None else np.asarray(label_end)[rows]
        folds, self.cv_scheme_ = splits(ys, k=self.cv, groups=gs, origin=os_, label_end=ls, seed=self.random_state)
        if not folds:
            raise ValueError("no usable cross-validation fold (too few users or positives)")
        val = np.unique(np.concatenate([v for _, v in folds]))
        prepared = prepare(Xs, self.numeric, self.categorical)
        names = list(self.candidates or CLASSIFIERS)
        oof: dict[str, np.ndarray] = {}
        for name in names:
            oof[name] = self._oof(make_candidate(name, self.numeric, self.categorical, self.random_state),
                                  prepared, ys, folds)
        y_val = ys[val]
        scores = {name: evaluate(y_val, oof[name][val]) for name in names}
        ranked = sorted(names, key=lambda n: -(scores[n]["roc_auc"] or 0))
        members = ranked[: self.ensemble_size]
        if len(members) > 1:
            oof[ENSEMBLE] = np.mean([oof[m] for m in members], axis=0)
            scores[ENSEMBLE] = evaluate(y_val, oof[ENSEMBLE][val])
        single = max(names, key=lambda n: (round(scores[n]["roc_auc"] or 0, 4), -scores[n]["brier"]))
        best = single
        gain = (scores[ENSEMBLE]["roc_auc"] or 0) - (scores[single]["roc_auc"] or 0) if ENSEMBLE in scores else 0
        if gain >= ENSEMBLE_GAIN:
            best = ENSEMBLE
        self.algorithm_ = best
        self.members_ = members if best == ENSEMBLE else [best]
        self.threshold_ = choose_threshold(y_val, oof[best][val])
        self.evaluation_ = evaluate(y_val, oof[best][val], self.threshold_)
        self.candidates_ = [{"model": n, "roc_auc": s["roc_auc"], "pr_auc": s["pr_auc"], "brier": s["brier"],
                             "f1": s["f1"], "chosen": n == best,
                             **({"members": members} if n == ENSEMBLE else {})} for n, s in scores.items()]
        self.baselines_ = {}
        for bname, pipe in (baselines or {}).items():
            p = self._oof(pipe, Xs, ys, folds)
            self.baselines_[bname] = evaluate(y_val, p[val], choose_threshold(y_val, p[val]))
        self.cv_rows_ = len(val)
        self.importance_ = self._importance(prepared, ys, folds[0])
        self.reference_ = self._reference(prepare(X, self.numeric, self.categorical))

    def _sample(self, n: int, groups: pd.Series | None) -> np.ndarray:
        if n <= self.sample_size:
            return np.arange(n)
        rng = np.random.default_rng(self.random_state)
        if groups is None:
            return np.sort(rng.choice(n, self.sample_size, replace=False))
        codes, uniques = pd.factorize(groups)
        share = self.sample_size / n
        keep = rng.random(len(uniques)) < share
        return np.flatnonzero(keep[codes])

    @staticmethod
    def _oof(estimator: Any, X: pd.DataFrame, y: np.ndarray, folds: list[Split]) -> np.ndarray:
        out = np.full(len(y), np.nan)
        for train, val in folds:
            fitted = clone(estimator).fit(X.iloc[train], y[train])
            out[val] = fitted.predict_proba(X.iloc[val])[:, 1]
        return out

    def _importance(self, prepared: pd.DataFrame, y: np.ndarray, fold: Split) -> dict[str, float]:
        """Drop in validation ROC-AUC when each input is shuffled (mean of 3 shuffles)."""
        train, val = fold
        if len(val) > self.importance_rows:
            val = np.random.default_rng(self.random_state).choice(val, self.importance_rows, replace=False)
        if len(np.unique(y[val])) < 2:
            return {}
        est = self._fresh().fit(prepared.iloc[train], y[train])
        result = permutation_importance(est, prepared.iloc[val], y[val], scoring=_auc, n_repeats=3,
                                        random_state=self.random_state)
        pairs = sorted(zip(prepared.columns, result.importances_mean, strict=True), key=lambda kv: -kv[1])
        return {str(k): float(v) for k, v in pairs}

    def _fresh(self) -> Any:
        if self.algorithm_ != ENSEMBLE:
            return make_candidate(self.algorithm_, self.numeric, self.categorical, self.random_state)
        return _VoteEstimator([make_candidate(m, self.numeric, self.categorical, self.random_state)
                               for m in self.members_])

    def _reference(self, prepared: pd.DataFrame) -> dict[str, Any]:
        ref: dict[str, Any] = {}
        for c in prepared.columns:
            s = prepared[c]
            if c in self.categorical:
                ref[c] = s.mode().iloc[0] if len(s) else MISSING
            else:
                ref[c] = float(s.median()) if s.notna().any() else 0.0
        return ref

    # -- using ----------------------------------------------------------------------------------------

    def score(self, X: pd.DataFrame) -> np.ndarray:
        """Probability of the positive outcome for each row."""
        if len(X) == 0:
            return np.zeros(0)
        return self.model_.predict_proba(prepare(X, self.numeric, self.categorical))[:, 1]

    def explain(self, X: pd.DataFrame, top: int = 3) -> list[list[dict[str, Any]]]:
        """Each row's top reasons: the inputs whose typical value (median, or the commonest category)
        would change the probability most, with how much (model-agnostic, one prediction per input)."""
        prepared = prepare(X, self.numeric, self.categorical)
        base = self.model_.predict_proba(prepared)[:, 1]
        effects = np.zeros((len(prepared), len(prepared.columns)))
        for j, c in enumerate(prepared.columns):
            swapped = prepared.copy()
            swapped[c] = self.reference_[c]
            effects[:, j] = base - self.model_.predict_proba(swapped)[:, 1]
        out = []
        for i in range(len(prepared)):
            order = np.argsort(-np.abs(effects[i]))[:top]
            out.append([{"feature": prepared.columns[j], "value": _plain(X.iloc[i].get(prepared.columns[j])),
                         "typical": _plain(self.reference_[prepared.columns[j]]), "effect": float(effects[i, j])}
                        for j in order if abs(effects[i, j]) > 1e-9])
        return out


class _VoteEstimator:
    """Unfitted soft-voting members for permutation importance (fit, then average probabilities)."""

    def __init__(self, members: list[Pipeline]) -> None:
        self.members = members

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> _VoteEstimator:
        self.fitted_ = [clone(m).fit(X, y) for m in self.members]
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return np.mean([m.predict_proba(X) for m in self.fitted_], axis=0)


def _auc(estimator: Any, X: pd.DataFrame, y: np.ndarray) -> float:
    return float(roc_auc_score(y, estimator.predict_proba(X)[:, 1]))


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value
