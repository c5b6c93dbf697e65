"""Messages of the sales forecast (``segmark forecast revenue``)."""

MESSAGES: dict[str, tuple[str, str]] = {
    "forecast.title": (
        "Weekly forecast by {by}, {weeks} weeks from {start} ({method})",
        "按{by}的周度预测：自 {start} 起 {weeks} 周（{method}）"),
    "forecast.by.total": ("total", "总体"),
    "forecast.by.segment": ("segment", "分群"),
    "forecast.by.category": ("category", "品类"),
    "forecast.backtest": (
        "Backtest on the last {weeks} weeks held out: WAPE {wape:.1%} (seasonal-naive {naive_wape:.1%}), "
        "MAPE {mape:.1%} (seasonal-naive {naive_mape:.1%})",
        "回测（留出最近 {weeks} 周）：WAPE {wape:.1%}（季节性朴素法 {naive_wape:.1%}），"
        "MAPE {mape:.1%}（季节性朴素法 {naive_mape:.1%}）"),
    "forecast.beats": ("The forecast beats seasonal-naive on the backtest.", "回测中预测优于季节性朴素法。"),
    "forecast.not_beats": ("The forecast does not beat seasonal-naive on the backtest.",
                           "回测中预测没有超过季节性朴素法。"),
    "forecast.col.group": ("group", "分组"),
    "forecast.col.wape": ("backtest WAPE", "回测 WAPE"),
    "forecast.col.wape_naive": ("seasonal-naive WAPE", "季节性朴素法 WAPE"),
    "forecast.method": ("recent level x week-of-year index", "近期水平 × 周季节指数"),
    "forecast.col.week": ("week", "周"),
    "forecast.col.revenue": ("revenue", "收入"),
    "forecast.col.orders": ("orders", "订单数"),
    "forecast.col.units": ("units", "件数"),
}
