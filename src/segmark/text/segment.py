"""Segmentation's words: why a user is in their segment, what a segmentation was made from, and
the figures the commands print about segments."""

MESSAGES: dict[str, tuple[str, str]] = {
    # why one user is where they are
    "segment.why.rfm": ("R={r}, F={f}, M={m} matches {name}: {definition}",
                        "R={r}、F={f}、M={m}，符合“{name}”：{definition}"),
    "segment.why.cluster": ("{rule} -> {rule_segment}{disagree}; nearest centre: {nearest}",
                            "{rule} → {rule_segment}{disagree}；最近的中心：{nearest}"),
    "segment.why.cluster_disagrees": (" (the rules' summary; the model itself placed the user in {name})",
                                      "（规则近似；模型实际分到“{name}”）"),
    # why this RFM segmentation
    "segment.rfm.reason": ("RFM {scale}-point quantile scores of {buyers:,} buyers, named by {scheme} of {rules} rules",
                           "对 {buyers:,} 位购买用户按分位数打 {scale} 分制 RFM 分，按{scheme}（{rules} 条规则）命名"),
    "segment.rfm.scheme_standard": ("the standard scheme", "标准方案"),
    "segment.rfm.scheme_custom": ("the workspace scheme", "工作区自定义方案"),
    "segment.rfm.reason_flat": ("; every buyer has the same {axes}, so the rules' {letters} ranges are ignored",
                                "；所有购买用户的{axes}都相同，因此忽略规则中 {letters} 的范围"),
    "segment.rfm.reason_no_prices": ("; the data carry no prices, so net spend is unknown and the rules' M ranges "
                                     "are ignored",
                                     "；数据中没有价格，净消费未知，因此忽略规则中 M 的范围"),
    "segment.rfm.relative": ("RFM names are relative to this shop: each score ranks a buyer against the shop's "
                             "other buyers, so Champions are its best-scoring buyers and Lost its longest since a "
                             "purchase, not buyers who meet a fixed standard.",
                             "RFM 名称是相对于本店而言的：每个得分都是与本店其他购买用户比较的排名，冠军用户是本店得分"
                             "最高的用户，已流失用户是本店最久未购买的用户，而非达到某个固定标准的用户。"),
    "segment.rfm.short_history": ("Warning: {span:.0f} days hold {share:.0%} of the events (the whole range is "
                                  "{range:.0f} days), too short a history for recency scores to mean much: buyers "
                                  "scored R=1 last bought a median of {r1:.1f} days ago.",
                                  "注意：{share:.0%} 的行为事件集中在 {span:.0f} 天内（全部时间范围为 "
                                  "{range:.0f} 天），历史太短，最近购买得分意义有限：R=1 "
                                  "的购买用户最近一次购买距今的中位数仅为 {r1:.1f} 天。"),
    "segment.rfm.short_history_no_r1": ("Warning: {span:.0f} days hold {share:.0%} of the events (the whole range "
                                        "is {range:.0f} days), too short a history for recency scores to mean much.",
                                        "注意：{share:.0%} 的行为事件集中在 {span:.0f} 天内（全部时间范围为 "
                                        "{range:.0f} 天），历史太短，最近购买得分意义有限。"),
    "segment.rfm.no_buyers": ("Nobody bought before the as-of date: RFM has no buyer to score, so every user is in "
                              "No purchase yet; the clustering, which also reads browsing, is the one to read.",
                              "截止日期之前没有任何用户购买：RFM 没有可评分的购买用户，所有用户都归入“未购买用户”；"
                              "请参看同时读取浏览行为的聚类分群。"),
    "segment.revenue_unknown": ("unknown", "未知"),
    "segment.kind.rfm": ("RFM", "RFM 分群"),
    "segment.kind.cluster": ("clustering", "聚类分群"),
    "segment.axis.r": ("recency", "最近购买"),
    "segment.axis.f": ("number of orders", "购买次数"),
    "segment.axis.m": ("net spend", "净消费"),
    "segment.list_sep": (", ", "、"),
    "segment.definition.no_purchase": ("no purchase before as_of (scores 0)", "截至统计日尚未购买（得分为 0）"),
    "segment.definition.other": ("no rule matched", "未匹配任何规则"),
    "segment.definition.any": ("any scores", "任意得分"),
}
