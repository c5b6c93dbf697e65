"""Buy-till-you-die models of repeat purchasing: BG/NBD and Pareto/NBD for the number of purchases,
Gamma-Gamma for the value of a purchase, fitted by maximum likelihood on a small vectorised core.

Each customer is summarised by ``x`` (repeat purchases: purchase days after the first), ``t_x``
(time from the first to the last purchase) and ``T`` (time from the first purchase to the end of
observation), in one time unit (days or weeks); see ``segmark.core.predict.clv_data``. Customers with
the same (x, t_x, T) contribute the same term, so the likelihood is summed over unique rows with
weights: counted in whole days, a million customers make a few hundred thousand distinct rows at
most, and one evaluation is a handful of vectorised special functions.

Formulas: Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to the
Pareto/NBD model" (BG/NBD, eqs. 6, 10 and 13); Fader, Hardie & Lee (2005), "A note on deriving the
Pareto/NBD model and related expressions" (Pareto/NBD); Fader & Hardie (2013), "The Gamma-Gamma model
of monetary value" (spend). The estimators follow scikit-learn's conventions: ``__init__`` stores
settings, ``fit`` returns self, learned parameters end in ``_``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

_BIG = 1e300


@dataclass(frozen=True)
class Summary:
    """Unique (x, t_x, T) rows with their counts: what the likelihoods need."""

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    weight: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> Summary:
        data = np.column_stack([np.asarray(x, float), np.asarray(t_x, float), np.asarray(T, float)])
        if len(data) == 0:
            raise ValueError("no customers to fit")
        if not np.isfinite(data).all():
            raise ValueError("x, t_x and T must be finite numbers")
        if (data[:, 0] < 0).any() or (data[:, 1] < 0).any() or (data[:, 1] > data[:, 2] + 1e-9).any():
            raise ValueError("need x >= 0 and 0 <= t_x <= T for every customer")
        unique, counts = np.unique(data, axis=0, return_counts=True)
        return cls(unique[:, 0], unique[:, 1], unique[:, 2], counts.astype(float))


LOG_BOUND = 10.0
"""Parameters are searched within exp(-10) .. exp(10) (4.5e-5 .. 22,026). A bound is reached when the
data show no heterogeneity (every customer buying at one rate sends r and alpha to infinity with
r / alpha fixed): the fit is then the near-homogeneous model, and the formulas stay finite."""


def _minimise(negll, start: np.ndarray) -> optimize.OptimizeResult:
    """Minimise over log-parameters: Nelder-Mead to get close, then L-BFGS-B to polish."""
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(start)
    first = optimize.minimize(negll, start, method="Nelder-Mead", bounds=bounds,
                              options={"maxiter": 4000, "xatol": 1e-7, "fatol": 1e-9})
    second = optimize.minimize(negll, first.x, method="L-BFGS-B", bounds=bounds, options={"maxiter": 500})
    return second if second.fun <= first.fun else first


def _hyp2f1_neg(big: np.ndarray, b: float, c: np.ndarray, u: np.ndarray) -> np.ndarray:
    """2F1(big, b; c; -u) for u >= 0. SciPy's series fails (NaN) when ``big`` is in the thousands, which
    is where the gamma of purchase rates has no spread left (r and alpha at their bound); there the
    confluent limit 1F1(b; c; -big * u) is exact to the digits that matter."""
    big, c, u = np.broadcast_arrays(np.asarray(big, float), np.asarray(c, float), np.asarray(u, float))
    out = special.hyp2f1(big, b, c, -u)
    bad = ~np.isfinite(out)
    if bad.any():
        out = np.where(bad, special.hyp1f1(b, c, -big * u), out)
    return out


class _CountModel:
    """What BG/NBD and Pareto/NBD share: fit by maximum likelihood and predict per customer."""

    param_names: tuple[str, ...] = ()

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    def _loglik(self, params: np.ndarray, s: Summary) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def fit(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> _CountModel:
        """Maximum-likelihood parameters from customers' (x, t_x, T)."""
        s = Summary.of(x, t_x, T)
        n = s.weight.sum()

        def negll(logp: np.ndarray) -> float:
            p = np.exp(logp)
            with np.errstate(all="ignore"):
                ll = self._loglik(p, s)
            value = -(s.weight * ll).sum() / n + self.penalizer * (p ** 2).sum()
            return float(value) if np.isfinite(value) else _BIG

        result = _minimise(negll, np.zeros(len(self.param_names)))
        self.params_ = dict(zip(self.param_names, np.exp(result.x).tolist(), strict=True))
        self.log_likelihood_ = float((s.weight * self._loglik(np.exp(result.x), s)).sum())
        self.n_customers_ = int(n)
        self.converged_ = bool(result.success)
        return self

    def _p(self) -> np.ndarray:
        return np.array([self.params_[k] for k in self.param_names])

    def log_likelihood(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """Each customer's log-likelihood under the fitted parameters."""
        s = Summary(np.asarray(x, float), np.asarray(t_x, float), np.asarray(T, float), np.ones(len(x)))
        return self._loglik(self._p(), s)


class BetaGeoModel(_CountModel):
    """BG/NBD: purchases at a Poisson rate (gamma r, alpha across customers) until the customer drops
    out after any purchase with probability p (beta a, b)."""

    param_names = ("r", "alpha", "a", "b")

    def _loglik(self, params: np.ndarray, s: Summary) -> np.ndarray:
        r, alpha, a, b = params
        x, t_x, T = s.x, s.t_x, s.T
        a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
        a2 = (special.gammaln(a + b) + special.gammaln(b + x) - special.gammaln(b)
              - special.gammaln(a + b + x))
        a3 = -(r + x) * np.log(alpha + T)
        a4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x),
                      -np.inf)
        return a1 + a2 + np.logaddexp(a3, a4)

    def p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """P(still active at T | x, t_x, T) (FHL 2005, eq. 13)."""
        r, alpha, a, b = self._p()
        x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
        log_ratio = np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) + (r + x) * np.log((alpha + T) / (alpha + t_x))
        return np.where(x > 0, 1.0 / (1.0 + np.exp(log_ratio)), 1.0)

    def expected_purchases(self, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """Expected purchases in (T, T + t] for each customer (FHL 2005, eq. 10)."""
        r, alpha, a, b = self._p()
        x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
        # ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t)) by Pfaff's transformation
        # is 2F1(r+x, a-1; a+b+x-1; -t/(alpha+T)): the same value without the overflow for large r+x
        hyp = _hyp2f1_neg(r + x, a - 1, a + b + x - 1, t / (alpha + T))
        first = (a + b + x - 1) / (a - 1) * (1 - hyp)
        return first * self.p_alive(x, t_x, T)

    def expected_purchases_new(self, t: np.ndarray | float) -> np.ndarray:
        """Expected purchases in (0, t] of a customer who has just made a first purchase (eq. 7)."""
        r, alpha, a, b = self._p()
        t = np.asarray(t, float)
        return (a + b - 1) / (a - 1) * (1 - _hyp2f1_neg(r, a - 1, a + b - 1, t / alpha))


class ParetoNBDModel(_CountModel):
    """Pareto/NBD: purchases at a Poisson rate (gamma r, alpha) during an exponential lifetime
    (rates gamma s, beta across customers)."""

    param_names = ("r", "alpha", "s", "beta")

    @staticmethod
    def _log_a0(params: np.ndarray, s: Summary) -> np.ndarray:
        """log of A0 in the likelihood (FHL's Pareto/NBD note, eq. 19-20), for alpha >= beta or below."""
        r, alpha, s_, beta = params
        x, t_x, T = s.x, s.t_x, s.T
        if alpha >= beta:
            big, shift, c2 = alpha, alpha - beta, s_ + 1
        else:
            big, shift, c2 = beta, beta - alpha, r + x
        c1, c3 = r + s_ + x, r + s_ + x + 1
        f_tx = special.hyp2f1(c1, c2, c3, shift / (big + t_x))
        f_T = special.hyp2f1(c1, c2, c3, shift / (big + T))
        log1 = np.log(f_tx) - c1 * np.log(big + t_x)
        log2 = np.log(f_T) - c1 * np.log(big + T)
        # log(exp(log1) - exp(log2)), log1 >= log2 because t_x <= T
        with np.errstate(divide="ignore"):
            return log1 + np.log1p(-np.exp(np.minimum(log2 - log1, 0.0)))

    def _loglik(self, params: np.ndarray, s: Summary) -> np.ndarray:
        r, alpha, s_, beta = params
        x, T = s.x, s.T
        head = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s_ * np.log(beta)
        term1 = -(r + x) * np.log(alpha + T) - s_ * np.log(beta + T)
        term2 = np.log(s_) - np.log(r + s_ + x) + self._log_a0(params, s)
        return head + np.logaddexp(term1, term2)

    def p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, s_, beta = self._p()
        summ = Summary(*(np.asarray(v, float) for v in (x, t_x, T)), np.ones(np.size(x)))
        log_rest = (np.log(s_) - np.log(r + s_ + summ.x) + (r + summ.x) * np.log(alpha + summ.T)
                    + s_ * np.log(beta + summ.T) + self._log_a0(self._p(), summ))
        return 1.0 / (1.0 + np.exp(log_rest))

    def expected_purchases(self, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """Expected purchases in (T, T + t] (FHL's note, eq. 23)."""
        r, alpha, s_, beta = self._p()
        x, T = np.asarray(x, float), np.asarray(T, float)
        rate = (r + x) * (beta + T) / ((alpha + T) * (s_ - 1))
        return self.p_alive(x, t_x, T) * rate * (1 - ((beta + T) / (beta + T + t)) ** (s_ - 1))

    def expected_purchases_new(self, t: np.ndarray | float) -> np.ndarray:
        r, alpha, s_, beta = self._p()
        t = np.asarray(t, float)
        return r * beta / (alpha * (s_ - 1)) * (1 - (beta / (beta + t)) ** (s_ - 1))


class GammaGammaModel:
    """Gamma-Gamma: each purchase's value is gamma(p, nu) with nu gamma(q, gamma) across customers;
    fitted on customers with repeat purchases, from their number ``x`` and mean value ``m``."""

    param_names = ("p", "q", "gamma")

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    @staticmethod
    def _loglik(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
        p, q, g = params
        return (special.gammaln(p * x + q) - special.gammaln(p * x) - special.gammaln(q) + q * np.log(g)
                + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(g + m * x))

    def fit(self, x: np.ndarray, m: np.ndarray) -> GammaGammaModel:
        x, m = np.asarray(x, float), np.asarray(m, float)
        keep = (x > 0) & (m > 0) & np.isfinite(m)
        if keep.sum() < 3:
            raise ValueError("Gamma-Gamma needs at least 3 customers with repeat purchases of positive value")
        x, m = x[keep], m[keep]
        n = len(x)

        def negll(logp: np.ndarray) -> float:
            p = np.exp(logp)
            with np.errstate(all="ignore"):
                value = -self._loglik(p, x, m).sum() / n + self.penalizer * (p ** 2).sum()
            return float(value) if np.isfinite(value) else _BIG

        result = _minimise(negll, np.zeros(3))
        self.params_ = dict(zip(self.param_names, np.exp(result.x).tolist(), strict=True))
        self.log_likelihood_ = float(self._loglik(np.exp(result.x), x, m).sum())
        self.n_customers_ = n
        self.converged_ = bool(result.success)
        return self

    def expected_spend(self, x: np.ndarray, m: np.ndarray) -> np.ndarray:
        """Expected value of a future purchase given x repeat purchases of mean value m (eq. 5);
        customers without repeat purchases get the population mean p * gamma / (q - 1)."""
        p, q, g = (self.params_[k] for k in self.param_names)
        x, m = np.asarray(x, float), np.nan_to_num(np.asarray(m, float))
        mean = p * g / (q - 1) if q > 1 else np.nan
        cond = p * (g + m * x) / (p * x + q - 1)
        return np.where(x > 0, cond, mean)


COUNT_MODELS: dict[str, type[_CountModel]] = {"bgnbd": BetaGeoModel, "pareto-nbd": ParetoNBDModel}
"""The purchase-count models by the name ``clv fit --model`` takes."""
