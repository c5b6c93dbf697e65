"""Messages of the audience and campaign commands (``segmark audience``, ``segmark campaign``) and of
their report sections."""

MESSAGES: dict[str, tuple[str, str]] = {
    "audience.size": ("{size:,} users ({share:.1%} of {universe:,})",
                      "{size:,} 名用户（占 {universe:,} 的 {share:.1%}）"),
    "audience.groups": ("treatment {treatment:,}, control {control:,} (holdout {holdout:.0%}, seed {seed})",
                        "实验组 {treatment:,}，对照组 {control:,}（留出 {holdout:.0%}，种子 {seed}）"),
    "audience.created": ("audience {name!r} saved: {size:,} users", "已保存人群 {name!r}：{size:,} 名用户"),
    "audience.by_segment": ("by segment", "按分群"),
    "audience.by_tag": ("by tag", "按标签"),
    "audience.col.segment": ("segment", "分群"),
    "audience.col.users": ("users", "用户数"),
    "audience.col.share": ("share of audience", "占人群比例"),
    "audience.col.penetration": ("share of segment", "占分群比例"),
    "audience.col.tag": ("tag", "标签"),
    "audience.col.value": ("value", "取值"),
    "audience.col.action": ("playbook action", "运营动作"),
    "audience.col.channel": ("channel", "渠道"),
    "audience.col.name": ("name", "名称"),
    "audience.col.size": ("size", "人数"),
    "audience.col.treatment": ("treatment", "实验组"),
    "audience.col.control": ("control", "对照组"),
    "audience.col.where": ("where", "条件"),
    "audience.col.created": ("created", "创建时间"),
    "audience.list.title": ("saved audiences", "已保存的人群"),
    "audience.list.none": ("no audiences yet: create one with `segmark audience create NAME --where EXPR`",
                           "还没有人群：用 `segmark audience create NAME --where EXPR` 创建"),
    "audience.overlap.title": ("overlap between audiences", "人群之间的重叠"),
    "audience.col.a": ("audience", "人群"),
    "audience.col.b": ("with", "与"),
    "audience.col.both": ("both", "重叠人数"),
    "audience.col.jaccard": ("Jaccard", "杰卡德系数"),
    "audience.show.title": ("audience {name!r}: {where}", "人群 {name!r}：{where}"),
    "audience.exported": ("{users:,} users written to {path} (treatment {treatment:,}, control {control:,}; "
                          "columns: {columns})",
                          "已写出 {users:,} 名用户到 {path}（实验组 {treatment:,}，对照组 {control:,}；"
                          "列：{columns}）"),
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
    "audience.sec_audiences": ("Audiences and playbooks", "人群与运营动作"),
    "audience.sec_audiences_intro": (
        "Saved audiences with their treatment and control groups, and the playbook action for each segment.",
        "已保存的人群及其实验组、对照组，以及各分群的默认运营动作。"),
    "audience.sec_campaign": ("Campaign measurement", "活动效果评估"),
    "audience.sec_campaign_intro": (
        "The latest campaign readout: treatment against control, overall and per segment, and whom an uplift "
        "model would target next time.",
        "最近一次活动评估：实验组对比对照组（整体与分群），以及增益模型建议下次投放的人群。"),
    "audience.t_groups": ("Audiences: treatment and control", "人群：实验组与对照组"),
    "audience.x_users": ("users", "用户数"),
    "audience.r_groups": ("{n} audiences saved; the largest, {name}, has {size} users: {treatment} to treat and "
                          "{control} held out as control.",
                          "共保存 {n} 个人群；最大的“{name}”有 {size} 名用户：实验组 {treatment}，对照组 {control}。"),
    "audience.t_readout": ("Conversion, treatment against control: {audience}", "转化率，实验组对比对照组：{audience}"),
    "audience.y_conversion": ("conversion rate", "转化率"),
    "audience.r_readout": ("Treatment converted {t} against {c} for control: {lift} points, 95% interval "
                           "[{low}, {high}], permutation p = {p}.",
                           "实验组转化率 {t}，对照组 {c}：提升 {lift} 个百分点，95% 置信区间 [{low}, {high}]，"
                           "置换检验 p = {p}。"),
    "audience.t_segment_lift": ("Conversion lift by segment", "各分群的转化率提升"),
    "audience.x_lift": ("lift (treatment minus control), with 95% interval", "提升（实验组减对照组），含95%置信区间"),
    "audience.r_segment_lift": ("{name} gained most: {lift} points [{low}, {high}], against {overall} overall.",
                                "“{name}”提升最大：{lift} 个百分点 [{low}, {high}]，整体为 {overall}。"),
    "audience.model": ("{method} model", "{method} 模型"),
    "audience.random": ("random targeting", "随机投放"),
    "audience.t_qini": ("Qini curve of the uplift model: {audience}", "增益模型的 Qini 曲线：{audience}"),
    "audience.x_targeted": ("share of members targeted, by estimated uplift", "按预估增益投放的成员比例"),
    "audience.y_qini": ("incremental conversions", "增量转化数"),
    "audience.r_qini": ("On held-out members the {method} ranking {verdict}: Qini {qini} per user, AUUC {auuc} "
                        "against {random} at random.",
                        "在留出成员上，{method} 排序{verdict}：每用户 Qini {qini}，AUUC {auuc}，随机为 {random}。"),
    "audience.better": ("finds the users the campaign moves better than random", "比随机更能找到被活动打动的用户"),
    "audience.not_better": ("does not beat random targeting", "没有优于随机投放"),
    "audience.missing": ("No audiences yet: create one with `segmark audience create NAME --where EXPR --holdout 0.1`.",
                         "还没有人群：用 `segmark audience create NAME --where EXPR --holdout 0.1` 创建。"),
    "audience.missing_readout": ("No campaign read out yet: run `segmark campaign readout AUDIENCE --since DATE` "
                                 "after a send.",
                                 "还没有活动评估：发送后运行 `segmark campaign readout AUDIENCE --since DATE`。"),
    "audience.missing_segments": ("Too few users per segment for a per-segment readout.",
                                  "各分群用户太少，无法分群评估。"),
    "audience.missing_uplift": ("No uplift model yet: run `segmark campaign uplift AUDIENCE --since DATE`.",
                                "还没有增益模型：运行 `segmark campaign uplift AUDIENCE --since DATE`。"),
    "audience.playbook.title": ("Playbook: the default action per segment ({source})",
                                "运营手册：各分群的默认动作（{source}）"),
    "audience.playbook.default": ("shipped defaults", "内置默认"),
}
