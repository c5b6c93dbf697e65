"""Messages of ``segmark recommend`` and the report's recommendations section."""

MESSAGES: dict[str, tuple[str, str]] = {
    "recommend.build.done": (
        "build {run_id}: {method} for {users:,} users and {items:,} items (events before {as_of}), "
        "{per_user} items each",
        "构建 {run_id}：{method}，{users:,} 位用户、{items:,} 个商品（截至 {as_of} 的行为），每人 {per_user} 个"),
    "recommend.build.reason": ("why: {reason}", "原因：{reason}"),
    "recommend.build.policy": (
        "re-purchase ({mode}): shop repeat rate {rate:.1%}; bought items may come back in {allowed:,} "
        "of {items:,} items",
        "复购（{mode}）：全店复购率 {rate:.1%}；{items:,} 个商品中有 {allowed:,} 个允许再次推荐已购商品"),
    "recommend.stage.fit": ("fitting {what}", "训练 {what}"),
    "recommend.stage.score": ("scoring users", "为用户打分"),
    "recommend.evaluate.title": (
        "evaluation on {holdout}: {users:,} users with held-out purchases ({cold:,} without history)",
        "评估（{holdout}）：{users:,} 位用户有留出购买（其中 {cold:,} 位无历史）"),
    "recommend.evaluate.picked": (
        "auto picks {picked} (best {criterion} on the window before: {validation})",
        "auto 选择 {picked}（在之前窗口上 {criterion} 最好：{validation}）"),
    "recommend.col.method": ("method", "方法"),
    "recommend.col.rank": ("rank", "排名"),
    "recommend.col.item": ("item", "商品"),
    "recommend.col.score": ("score", "得分"),
    "recommend.col.category": ("category", "类目"),
    "recommend.user.title": ("top {k} for user {user} ({method}, build {run_id})",
                             "用户 {user} 的前 {k} 个推荐（{method}，构建 {run_id}）"),
    "recommend.user.cold": ("no history before the build: their segment's popular items",
                            "构建前无行为：推荐其分群的热门商品"),
    "recommend.similar.title": ("items like {item} ({method}, build {run_id})",
                                "与 {item} 相似的商品（{method}，构建 {run_id}）"),
    "recommend.export.done": ("wrote {rows:,} rows for {users:,} users to {path}",
                              "已将 {users:,} 位用户的 {rows:,} 行写入 {path}"),
    "recommend.sec_recommend": ("Recommendations", "推荐"),
    "recommend.sec_recommend_intro": (
        "Every method on held-out purchases beside segment popularity and each user's own most-bought items; "
        "auto is chosen on the window before the one measured.",
        "各方法在留出购买上的表现，对照分群热门商品和用户自己常买的商品；auto 在被评估窗口之前的窗口上选出。"),
    "recommend.report.t_methods": ("recall@{k} by method", "各方法的 recall@{k}"),
    "recommend.report.x_recall": ("share of held-out purchases in the top {k}", "前 {k} 个推荐命中的留出购买占比"),
    "recommend.report.x_segment": ("segment", "分群"),
    "recommend.report.build": (
        "Built with {method} on events before {as_of} for {users:,} users; {reason}.",
        "使用 {method} 基于 {as_of} 之前的行为为 {users:,} 位用户构建；{reason}。"),
    "recommend.report.table": ("Every method on {holdout}", "各方法在 {holdout} 上的表现"),
    "recommend.report.chart": ("recall@{k} per segment", "各分群的 recall@{k}"),
    "recommend.report.reading": (
        "{best} finds {best_value:.1%} of held-out purchases in its top {k}, against {pop_value:.1%} for popularity "
        "and {rep_value:.1%} for the user's own most-bought items.",
        "{best} 在前 {k} 个推荐中命中 {best_value:.1%} 的留出购买，热门商品为 {pop_value:.1%}，"
        "用户自己常买的商品为 {rep_value:.1%}。"),
    "recommend.report.segment_reading": (
        "In {segment} the best method reaches recall@{k} {value:.1%}; the lowest segment is {low} at {low_value:.1%}.",
        "{segment} 中最佳方法的 recall@{k} 达 {value:.1%}；最低的分群是 {low}，为 {low_value:.1%}。"),
    "recommend.report.none": ("No recommendations built yet (`segmark recommend build`).",
                              "尚未构建推荐（`segmark recommend build`）。"),
    "recommend.report.no_evaluation": ("No evaluation yet (`segmark recommend evaluate`).",
                                       "尚未评估（`segmark recommend evaluate`）。"),
}
