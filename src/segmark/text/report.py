"""The HTML report's words: titles, intros, axis titles, table headings and the one-line readings
under each chart (generated from the data with the same templates in both languages)."""

MESSAGES: dict[str, tuple[str, str]] = {
    "report.title": ("Customer segment report", "用户分群报告"),
    "report.subtitle": ("{shop} · segments as of {as_of}", "{shop} · 分群截至 {as_of}"),
    "report.subtitle_data": ("{shop} · data to {as_of}", "{shop} · 数据截至 {as_of}"),
    "report.contents": ("Contents", "目录"),
    "report.footer": (
        "Made by segmark from workspace {shop}. Self-contained: works offline.",
        "由 segmark 根据工作区 {shop} 生成。本文件自包含，可离线查看。"),
    "report.not_available": ("Not available yet", "暂无数据"),
    "report.card_events": ("events", "行为事件"),
    "report.card_users": ("users", "用户"),
    "report.card_buyers": ("buyers", "购买用户"),
    "report.card_items": ("items", "商品"),
    "report.card_revenue": ("net revenue", "净销售额"),
    "report.card_range": ("time range", "时间范围"),
    "report.unknown": ("unknown", "未知"),
    "report.no_prices": ("the data carry no prices", "数据中没有价格"),
    "report.revenue_unknown": ("Revenue unknown: the data carry no prices.", "收入未知：数据中没有价格。"),
    "report.card_days": ("{days:,} days", "{days:,} 天"),
    "report.card_quarantined": ("rows quarantined", "隔离行数"),
    "report.card_segments": ("segments", "分群数"),
    "report.sec_overview": ("Data overview and quality", "数据概览与质量"),
    "report.sec_overview_intro": (
        "What the workspace holds, and every input row that was rejected with the reason. Rejected rows are kept "
        "in quarantine, never dropped silently.",
        "工作区中的数据，以及每一条被拒绝的输入行及其原因。被拒绝的行保存在隔离表中，不会被静默丢弃。"),
    "report.sec_segments": ("Segments: size and revenue", "分群：规模与收入"),
    "report.sec_segments_intro": (
        "How many users each segment holds and how much of the net revenue they bring. A segment whose revenue "
        "share is far above its user share is worth protecting.",
        "每个分群包含多少用户、贡献多少净销售额。收入占比远高于用户占比的分群最值得维护。"),
    "report.sec_rfm": ("RFM grid", "RFM 网格"),
    "report.sec_rfm_intro": (
        "Buyers scored 1 (worst) to {scale} (best) on recency (R) and frequency (F) by quantile; each cell shows "
        "its users and the RFM segment most of them belong to. Users without a purchase are not scored.",
        "按分位数给购买用户的最近购买（R）和购买频次（F）打分，1 为最差、{scale} "
        "为最好；每个格子显示其用户数及大多数用户所属的 RFM 分群。未购买的用户不参与评分。"),
    "report.sec_map": ("Map of users", "用户分布图"),
    "report.sec_map_intro": (
        "Each dot is a user, placed by a 2-D projection of the features the clustering used and coloured by "
        "segment. Segments that overlap here may still differ on features the projection flattens.",
        "每个点是一个用户，按聚类所用特征的二维投影放置，并按分群着色。此图中重叠的分群，仍可能在投影压缩掉的特征上"
        "有所不同。"),
    "report.sec_profile": ("What sets each segment apart", "各分群的特征画像"),
    "report.sec_profile_intro": (
        "Lift is a segment's mean of a feature divided by the mean over all users: ×2 means twice the average, "
        "×0.5 half. Blue is better than average, red worse: above average for most features, below it where "
        "less is better (days since the last visit or purchase, time between orders, cart abandonment, "
        "refunds).",
        "提升度 = 分群内某特征的均值 ÷ 全体用户的均值：×2 表示是平均水平的两倍，×0.5 "
        "表示一半。蓝色优于平均，红色差于平均：多数特征越高越好，而越低越好的特征（距上次访问或购买的天数、"
        "复购间隔、弃购率、退款率）低于平均为蓝色。"),
    "report.sec_rules": ("Rules that describe each segment", "描述各分群的规则"),
    "report.sec_rules_intro": (
        "A small decision tree restates the segments as rules in the features' own units. Fidelity is the share of "
        "held-out users the rules put in the same segment as the clustering did.",
        "用一棵小决策树把分群改写为以原始单位表达的规则。保真度是留出用户中，规则与聚类结果一致的比例。"),
    "report.sec_selection": ("How the segments were chosen", "分群模型的选择"),
    "report.sec_selection_intro": (
        "Every method and number of segments tried, with their scores. Silhouette gain is the silhouette above "
        "what structureless data of the same extent reach; stability is the agreement between refits on resamples "
        "(adjusted Rand index). Higher Calinski-Harabasz and lower Davies-Bouldin are better.",
        "尝试过的每种方法和分群数及其得分。轮廓系数增益是相对于同范围无结构数据的轮廓系数提升；稳定性是重抽样重复拟"
        "合之间的一致程度（调整兰德指数）。Calinski-Harabasz 越高、Davies-Bouldin 越低越好。"),
    "report.sec_migration": ("Segment migration", "分群迁移"),
    "report.sec_migration_intro": (
        "Where the users of each segment in the earlier run are in the later one. The diagonal is users who "
        "stayed; (new) are users only in the later run, (gone) users only in the earlier one.",
        "前一次运行中各分群的用户在后一次运行中的去向。对角线为留在原分群的用户；（新增）为仅出现在后一次运行中的用"
        "户，（离开）为仅出现在前一次运行中的用户。"),
    "report.missing_rfm": (
        "No RFM segmentation yet: run `segmark segment rfm`.",
        "尚无 RFM 分群：请运行 `segmark segment rfm`。"),
    "report.missing_cluster": (
        "No clustering yet: run `segmark segment cluster`.",
        "尚无聚类分群：请运行 `segmark segment cluster`。"),
    "report.missing_segments": (
        "No segmentation yet: run `segmark segment rfm` and `segmark segment cluster`.",
        "尚无分群：请运行 `segmark segment rfm` 和 `segmark segment cluster`。"),
    "report.missing_map": (
        "No clustering with stored assignments yet, so there is nothing to map.",
        "尚无带用户归属的聚类结果，无法绘制分布图。"),
    "report.missing_profile": ("No segment profiles stored yet.", "尚未保存分群画像。"),
    "report.missing_rules": (
        "No rules stored yet: they are made with the clustering.",
        "尚未保存规则：规则随聚类一起生成。"),
    "report.missing_selection": (
        "No model-selection record yet: run `segmark segment cluster`.",
        "尚无模型选择记录：请运行 `segmark segment cluster`。"),
    "report.missing_migration": (
        "Migration needs two segmentation runs of the same kind; this workspace has {n}.",
        "分群迁移需要同类分群的两次运行；此工作区只有 {n} 次。"),
    "report.no_quarantine": ("No input row was rejected.", "没有输入行被拒绝。"),
    "report.no_structure": (
        "No behaviour segments: the clustering found no real structure ({reason}).",
        "没有行为分群：聚类未发现真实的分群结构（{reason}）。"),
    "report.no_structure_short": (
        "The clustering found no real segments, so there is nothing to show here (see \"How the segments were "
        "chosen\").",
        "聚类未发现真实的分群，此处无内容可展示（见“分群模型的选择”）。"),
    "report.t_events_by_type": ("Events by type", "各类行为事件数"),
    "report.x_events": ("events", "事件数"),
    "report.y_event_type": ("event type", "事件类型"),
    "report.t_quarantine": ("Rejected rows by reason", "按原因统计的被拒绝行"),
    "report.x_rows": ("rows", "行数"),
    "report.y_reason": ("reason", "原因"),
    "report.t_sizes_rfm": ("RFM segments: share of users and of revenue", "RFM 分群：用户占比与收入占比"),
    "report.t_sizes_cluster": ("Behaviour segments: share of users and of revenue", "行为分群：用户占比与收入占比"),
    "report.share_users": ("share of users", "用户占比"),
    "report.share_revenue": ("share of revenue", "收入占比"),
    "report.y_segment": ("segment", "分群"),
    "report.t_rfm_grid": ("RFM grid: recency score × frequency score", "RFM 网格：最近购买得分 × 购买频次得分"),
    "report.x_r_score": ("recency score R (5 = bought most recently)", "最近购买得分 R（越高越近）"),
    "report.y_f_score": ("frequency score F (5 = most orders)", "购买频次得分 F（越高越多）"),
    "report.rfm_users": ("users", "用户数"),
    "report.rfm_mean_monetary": ("mean net spend", "人均净消费"),
    "report.t_map": ("Users on two axes ({method})", "用户二维分布（{method}）"),
    "report.x_pc1": ("first component ({share} of variance)", "第一主成分（解释 {share} 方差）"),
    "report.y_pc2": ("second component ({share} of variance)", "第二主成分（解释 {share} 方差）"),
    "report.x_umap1": ("UMAP axis 1", "UMAP 维度 1"),
    "report.y_umap2": ("UMAP axis 2", "UMAP 维度 2"),
    "report.t_profile": ("Feature lift per segment", "各分群的特征提升度"),
    "report.t_profile_rfm": ("Feature lift per RFM segment", "各 RFM 分群的特征提升度"),
    "report.x_feature": ("feature", "特征"),
    "report.lift": ("lift", "提升度"),
    "report.lift_colour": ("against the average", "与平均相比"),
    "report.better": ("better", "更好"),
    "report.worse": ("worse", "更差"),
    "report.median_in_segment": ("median in segment", "分群中位数"),
    "report.median_overall": ("median overall", "整体中位数"),
    "report.t_selection": ("Silhouette gain by number of segments", "不同分群数下的轮廓系数增益"),
    "report.x_k": ("number of segments (k)", "分群数（k）"),
    "report.y_gain": ("silhouette gain over structureless data", "相对无结构数据的轮廓系数增益"),
    "report.y_silhouette": ("silhouette", "轮廓系数"),
    "report.chosen": ("chosen", "入选"),
    "report.min_gain": ("minimum gain {value}", "最低增益 {value}"),
    "report.rejected": ("rejected", "淘汰"),
    "report.eligible": ("eligible", "合格"),
    "report.winner": ("chosen", "入选"),
    "report.t_migration": (
        "{kind}: migration from run {a} ({a_date}) to run {b} ({b_date})",
        "{kind}迁移：第 {a} 次运行（{a_date}）→ 第 {b} 次运行（{b_date}）"),
    "report.t_migration_rfm": ("RFM segments", "RFM 分群"),
    "report.t_migration_cluster": ("Behaviour segments", "行为分群"),
    "report.x_to": ("segment in the later run", "后一次运行中的分群"),
    "report.y_from": ("segment in the earlier run", "前一次运行中的分群"),
    "report.share_of_row": ("share of the row", "占该行比例"),
    "report.new": ("(new)", "（新增）"),
    "report.gone": ("(gone)", "（离开）"),
    "report.col_file": ("file", "文件"),
    "report.col_table": ("table", "表"),
    "report.col_read": ("read", "读取"),
    "report.col_accepted": ("accepted", "接受"),
    "report.col_quarantined": ("quarantined", "隔离"),
    "report.col_duplicates": ("duplicates", "重复"),
    "report.col_segment": ("segment", "分群"),
    "report.col_rule": ("rule", "规则"),
    "report.col_users": ("users", "用户数"),
    "report.col_precision": ("precision", "精确率"),
    "report.col_coverage": ("coverage", "覆盖率"),
    "report.col_method": ("method", "方法"),
    "report.col_k": ("k", "k"),
    "report.col_found": ("segments found", "实际分群数"),
    "report.col_silhouette": ("silhouette", "轮廓系数"),
    "report.col_gain": ("gain", "增益"),
    "report.col_ch": ("Calinski-Harabasz", "Calinski-Harabasz"),
    "report.col_db": ("Davies-Bouldin", "Davies-Bouldin"),
    "report.col_stability": ("stability", "稳定性"),
    "report.col_smallest": ("smallest segment", "最小分群占比"),
    "report.col_status": ("status", "状态"),
    "report.col_why": ("why", "原因"),
    "report.fidelity": (
        "Fidelity of the rules: {fidelity} of held-out users.",
        "规则保真度：留出用户中 {fidelity} 一致。"),
    "report.rule_precision_note": (
        "Precision: share of the users matching a rule who are in the segment; coverage: share of the segment's "
        "users the rule matches.",
        "精确率：满足规则的用户中属于该分群的比例；覆盖率：该分群用户中满足规则的比例。"),
    "report.chosen_model": ("Chosen: {what}.", "选定模型：{what}。"),
    "report.sources": ("Files ingested", "已导入的文件"),
    "report.r_overview": (
        "{events} events from {users} users on {items} items over {days} days; {quarantined} of the input rows "
        "({q_share}) were rejected.",
        "{days} 天内 {users} 位用户在 {items} 个商品上产生了 {events} 条行为事件；输入行中有 {quarantined} "
        "行（{q_share}）被拒绝。"),
    "report.r_events_by_type": (
        "The most common event is {top} ({share} of all); {buy_share} of events are purchases.",
        "最常见的事件是{top}（占 {share}）；购买事件占 {buy_share}。"),
    "report.r_quarantine": (
        "The most common reason is \"{reason}\": {rows} rows ({share} of rejected rows).",
        "最常见的原因是“{reason}”：{rows} 行（占被拒绝行的 {share}）。"),
    "report.r_sizes": (
        "{name} are {users} of users and {revenue} of revenue.",
        "{name}占用户的 {users}，贡献了 {revenue} 的收入。"),
    "report.r_sizes_largest": (
        " The largest segment, {name}, holds {users} of users.",
        "规模最大的分群是{name}，占用户的 {users}。"),
    "report.r_rfm": (
        "The biggest cell is R{r} F{f} ({name}, {users} users); {no_purchase} users without a purchase are not on "
        "the grid.",
        "用户最多的格子是 R{r} F{f}（{name}，{users} 位用户）；另有 {no_purchase} 位未购买用户不在网格中。"),
    "report.r_map_pca": (
        "The two axes keep {share} of the variance of {n} clustering features; {shown} of {total} users are drawn.",
        "两条轴保留了 {n} 个聚类特征 {share} 的方差；图中绘制了 {total} 位用户中的 {shown} 位。"),
    "report.r_map_umap": (
        "UMAP keeps neighbours together across {n} clustering features; {shown} of {total} users are drawn.",
        "UMAP 在 {n} 个聚类特征上保留了用户间的近邻关系；图中绘制了 {total} 位用户中的 {shown} 位。"),
    "report.r_profile": (
        "Strongest difference: {name} have {lift} the average {feature}.",
        "差异最大的是{name}：{feature}是平均水平的 {lift}。"),
    "report.r_profile_none": (
        "No segment differs from the average by more than 20% on any feature shown.",
        "没有任何分群在所示特征上与平均水平相差超过 20%。"),
    "report.r_rules": (
        "The rules agree with the segments for {fidelity} of held-out users; {n} rules are listed.",
        "在留出用户中，规则与分群结果的一致率为 {fidelity}；共列出 {n} 条规则。"),
    "report.r_selection": (
        "{what} won: silhouette {silhouette} ({gain} over structureless data), stability {stability}; {n} "
        "candidates were tried, {rejected} rejected.",
        "{what} 胜出：轮廓系数 {silhouette}（比无结构数据高 {gain}），稳定性 {stability}；共尝试 {n} 个候选，淘汰 "
        "{rejected} 个。"),
    "report.r_selection_none": (
        "No candidate passed: {n} were tried, {rejected} rejected.",
        "没有候选通过：共尝试 {n} 个，淘汰 {rejected} 个。"),
    "report.r_migration": (
        "{stayed} of the users in both runs kept their segment; the largest move is {users} users from {src} to "
        "{dst}.",
        "两次运行中都出现的用户有 {stayed} 保持原分群；最大的迁移是 {users} 位用户从{src}转为{dst}。"),
    "report.r_migration_still": (
        "{stayed} of the users in both runs kept their segment.",
        "两次运行中都出现的用户有 {stayed} 保持原分群。"),
    "report.status.winner": ("chosen", "入选"),
    "report.status.eligible": ("eligible", "合格"),
    "report.status.rejected": ("rejected", "淘汰"),
}
