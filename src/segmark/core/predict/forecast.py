"""Weekly sales forecasts and their backtest against seasonal-naive.

The forecast of a weekly series (revenue, orders or units of a group) is a deseasonalised level times
a week-of-year index: the level is the mean of the last ``level_weeks`` weeks after dividing out the
index, the index each week-of-year's value over its year's mean, taken from the history when it holds at
least two full years (with one year, growth and seasonality cannot be told apart: every index is 1
and the forecast is the recent level). Seasonal-naive,
the baseline, repeats the value of the same week a year (52 weeks) earlier, or the last week's value
with less than a year of history.

The backtest holds out the last weeks, forecasts them from the weeks before with both methods, and
reports WAPE (sum of absolute errors over the sum of actuals) and MAPE (mean absolute error in percent
of weeks with sales).
"""

from __future__ import annotations

from typing import Any

import numpy as np

SEASON = 52


def seasonal_naive(history: np.ndarray, horizon: int) -> np.ndarray:
    """The value of the same week a season earlier (the last value with less than a season)."""
    h = np.asarray(history, float)
    if len(h) == 0:
        return np.zeros(horizon)
    if len(h) < SEASON:
        return np.full(horizon, h[-1])
    return np.array([h[len(h) - SEASON + (i % SEASON)] for i in range(horizon)])


def seasonal_index(history: np.ndarray) -> np.ndarray | None:
    """52 week-of-year factors (mean 1) from the last full years of history, None with less than two."""
    h = np.asarray(history, float)
    years = len(h) // SEASON
    if years < 2:
        return None
    recent = h[len(h) - years * SEASON:].reshape(years, SEASON)
    means = recent.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = np.where(means > 0, recent / means, 1.0)
    index = ratios.mean(axis=0)
    # smooth with the neighbouring weeks: one year of weekly data is noisy
    padded = np.concatenate([index[-1:], index, index[:1]])
    smooth = (padded[:-2] + padded[1:-1] + padded[2:]) / 3
    return smooth / smooth.mean() if smooth.mean() > 0 else np.ones(SEASON)


def level_seasonal(history: np.ndarray, horizon: int, level_weeks: int = 8) -> np.ndarray:
    """Deseasonalised recent level times the week-of-year index (see the module docstring)."""
    h = np.asarray(history, float)
    if len(h) == 0:
        return np.zeros(horizon)
    index = seasonal_index(h)
    n = len(h)
    if index is None:
        return np.full(horizon, h[-level_weeks:].mean())
    pos = (np.arange(n) - n) % SEASON  # position of each past week in the season, the next week at 0
    recent = slice(max(0, n - level_weeks), n)
    with np.errstate(invalid="ignore", divide="ignore"):
        level = float(np.nanmean(np.where(index[pos[recent]] > 0, h[recent] / index[pos[recent]], np.nan)))
    if not np.isfinite(level):
        level = float(h[recent].mean())
    return level * index[np.arange(horizon) % SEASON]


def errors(actual: np.ndarray, forecast: np.ndarray) -> dict[str, float | None]:
    """WAPE and MAPE of a forecast (MAPE over weeks with a positive actual)."""
    a, f = np.asarray(actual, float), np.asarray(forecast, float)
    total = np.abs(a).sum()
    pos = a > 0
    return {"wape": float(np.abs(a - f).sum() / total) if total > 0 else None,
            "mape": float(np.mean(np.abs(a[pos] - f[pos]) / a[pos])) if pos.any() else None}


def backtest(series: np.ndarray, holdout: int) -> dict[str, Any] | None:
    """Forecast the last ``holdout`` weeks from the weeks before, with both methods; None when fewer
    than 8 weeks would be left to learn from."""
    s = np.asarray(series, float)
    if holdout < 1 or len(s) - holdout < 8:
        return None
    train, test = s[:-holdout], s[-holdout:]
    model, naive = level_seasonal(train, holdout), seasonal_naive(train, holdout)
    return {"weeks": holdout, "actual": test.tolist(), "forecast": model.tolist(), "seasonal_naive": naive.tolist(),
            "model": errors(test, model), "baseline": errors(test, naive)}
