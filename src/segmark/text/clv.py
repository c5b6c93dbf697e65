"""Messages of the lifetime-value commands (``segmark clv fit|predict``)."""

MESSAGES: dict[str, tuple[str, str]] = {
    "clv.fit.title": (
        "{model} fitted on {customers:,} customers ({repeat:,} with repeat purchases), purchases through {end}; "
        "time unit: {unit}",
        "{model} 已拟合 {customers:,} 位客户（{repeat:,} 位有复购），购买截至 {end}；时间单位：{unit}"),
    "clv.fit.params": ("Parameters: {params}; log-likelihood {ll:.1f}", "参数：{params}；对数似然 {ll:.1f}"),
    "clv.fit.spend": (
        "Gamma-Gamma spend: p {p:.2f}, q {q:.2f}, gamma {gamma:.2f}",
        "Gamma-Gamma 消费模型：p {p:.2f}，q {q:.2f}，gamma {gamma:.2f}"),
    "clv.fit.holdout": (
        "Holdout, {weeks:g} weeks after the cut: {actual:,} actual repeat purchase days, {expected:,.0f} expected "
        "({error:+.1%})",
        "留出期（截止后 {weeks:g} 周）：实际复购 {actual:,} 天次，预期 {expected:,.0f}（{error:+.1%}）"),
    "clv.col.x": ("repeat purchases in calibration", "校准期复购次数"),
    "clv.col.customers": ("customers", "客户数"),
    "clv.col.actual": ("actual per customer", "人均实际"),
    "clv.col.expected": ("expected per customer", "人均预期"),
    "clv.unit.weeks": ("weeks", "周"),
    "clv.unit.days": ("days", "天"),
    "clv.predict.done": (
        "Scored {customers:,} customers over {horizon} days (discount {discount:.0%} a year): {purchases:,.0f} "
        "expected purchases, mean P(alive) {alive:.2f}, total CLV {clv}",
        "已为 {customers:,} 位客户计算未来 {horizon} 天（年贴现率 {discount:.0%}）：预期购买 {purchases:,.0f} 次，"
        "平均存活概率 {alive:.2f}，CLV 合计 {clv}"),
    "clv.col.user": ("user", "用户"),
    "clv.col.expected_purchases": ("expected purchases", "预期购买次数"),
    "clv.col.p_alive": ("P(alive)", "存活概率"),
    "clv.col.expected_spend": ("spend per purchase", "每次消费"),
    "clv.col.clv": ("CLV", "CLV"),
}
