"""Messages of the campaign commands (``segmark campaign readout|plan|uplift``) and the campaign report section."""

MESSAGES: dict[str, tuple[str, str]] = {
    "campaign.title": ("campaign {audience!r}: {since} to {until}", "活动 {audience!r}：{since} 至 {until}"),
    "campaign.col.group": ("group", "组"),
    "campaign.col.users": ("users", "用户数"),
    "campaign.col.conversions": ("conversions", "转化数"),
    "campaign.col.rate": ("conversion rate", "转化率"),
    "campaign.col.rpu": ("revenue per user", "人均收入"),
    "campaign.lift": ("conversion lift {absolute:+.2%} points ({relative}), {confidence:.0%} interval "
                      "[{ci_low:+.2%}, {ci_high:+.2%}]; permutation p = {p_value:.3g}; bootstrap interval "
                      "[{b_low:+.2%}, {b_high:+.2%}]",
                      "转化率提升 {absolute:+.2%} 个百分点（{relative}），{confidence:.0%} 置信区间 "
                      "[{ci_low:+.2%}, {ci_high:+.2%}]；置换检验 p = {p_value:.3g}；"
                      "自助法区间 [{b_low:+.2%}, {b_high:+.2%}]"),
    "campaign.revenue_lift": ("revenue per user {absolute:+,.2f} ({relative}), "
                              "interval [{ci_low:+,.2f}, {ci_high:+,.2f}]",
                              "人均收入 {absolute:+,.2f}（{relative}），区间 [{ci_low:+,.2f}, {ci_high:+,.2f}]"),
    "campaign.relative": ("{value:+.1%} relative", "相对 {value:+.1%}"),
    "campaign.relative_none": ("relative lift undefined: no control conversions", "对照组无转化，相对提升无法计算"),
    "campaign.by_segment": ("by segment", "按分群"),
    "campaign.col.lift": ("lift", "提升"),
    "campaign.col.interval": ("interval", "区间"),
    "campaign.plan": ("{control:,} control and {treatment:,} treatment users ({total:,} in all) detect a change from "
                      "{baseline:.2%} to {treatment_rate:.2%} with power {power:.0%} at alpha {alpha:g} (two-sided)",
                      "对照组 {control:,} 人、实验组 {treatment:,} 人（共 {total:,} 人）"
                      "可在显著性水平 {alpha:g}（双侧）、"
                      "检验效能 {power:.0%} 下检出转化率从 {baseline:.2%} 到 {treatment_rate:.2%} 的变化"),
    "campaign.uplift": ("{method} uplift on {test_users:,} held-out users: Qini {qini:+.4f} (area above random), "
                        "AUUC {auuc:.4f} vs {auuc_random:.4f} for random targeting",
                        "{method} 增益模型（{test_users:,} 名留出用户）：Qini {qini:+.4f}（高于随机的面积），"
                        "AUUC {auuc:.4f}，随机投放为 {auuc_random:.4f}"),
    "campaign.warning": ("note: {text}", "注意：{text}"),
}
