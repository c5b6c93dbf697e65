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
    "segment.axis.r": ("recency", "最近购买"),
    "segment.axis.f": ("number of orders", "购买次数"),
    "segment.axis.m": ("net spend", "净消费"),
    "segment.list_sep": (", ", "、"),
    "segment.definition.no_purchase": ("no purchase before as_of (scores 0)", "截至统计日尚未购买（得分为 0）"),
    "segment.definition.other": ("no rule matched", "未匹配任何规则"),
    "segment.definition.any": ("any scores", "任意得分"),
}
