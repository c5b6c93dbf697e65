"""Every word the report shows, in English and Chinese, and the number formats of each language.

Text is kept as data (one ``(en, zh)`` pair per key, side by side) so a missing translation is a
``KeyError`` in the tests rather than a half-English page, and so readings generated from the data
use the same templates in both languages.
"""

from __future__ import annotations

import math
import numbers
from datetime import date, datetime
from typing import Any, Literal

from segmark.core.segment.reasons import TEMPLATES as REASON_TEMPLATES
from segmark.core.segment.reasons import reason_text

Lang = Literal["en", "zh"]

TEXT: dict[str, tuple[str, str]] = {
    # page
    "title": ("Customer segment report", "用户分群报告"),
    "subtitle": ("{shop} · data as of {as_of}", "{shop} · 数据截至 {as_of}"),
    "contents": ("Contents", "目录"),
    "footer": ("Made by segmark from workspace {shop}. Self-contained: works offline.",
               "由 segmark 根据工作区 {shop} 生成。本文件自包含，可离线查看。"),
    "not_available": ("Not available yet", "暂无数据"),
    # cards
    "card_events": ("events", "行为事件"),
    "card_users": ("users", "用户"),
    "card_buyers": ("buyers", "购买用户"),
    "card_items": ("items", "商品"),
    "card_revenue": ("net revenue", "净销售额"),
    "card_range": ("time range", "时间范围"),
    "card_days": ("{days:,} days", "{days:,} 天"),
    "card_quarantined": ("rows quarantined", "隔离行数"),
    "card_segments": ("segments", "分群数"),
    # sections
    "sec_overview": ("Data overview and quality", "数据概览与质量"),
    "sec_overview_intro": (
        "What the workspace holds, and every input row that was rejected with the reason. "
        "Rejected rows are kept in quarantine, never dropped silently.",
        "工作区中的数据，以及每一条被拒绝的输入行及其原因。被拒绝的行保存在隔离表中，不会被静默丢弃。"),
    "sec_segments": ("Segments: size and revenue", "分群：规模与收入"),
    "sec_segments_intro": (
        "How many users each segment holds and how much of the net revenue they bring. "
        "A segment whose revenue share is far above its user share is worth protecting.",
        "每个分群包含多少用户、贡献多少净销售额。收入占比远高于用户占比的分群最值得维护。"),
    "sec_rfm": ("RFM grid", "RFM 网格"),
    "sec_rfm_intro": (
        "Buyers scored 1 (worst) to {scale} (best) on recency (R) and frequency (F) by quantile; each cell "
        "shows its users and the RFM segment most of them belong to. Users without a purchase are not scored.",
        "按分位数给购买用户的最近购买（R）和购买频次（F）打分，1 为最差、{scale} 为最好；"
        "每个格子显示其用户数及大多数用户所属的 RFM 分群。未购买的用户不参与评分。"),
    "sec_map": ("Map of users", "用户分布图"),
    "sec_map_intro": (
        "Each dot is a user, placed by a 2-D projection of the features the clustering used and coloured by "
        "segment. Segments that overlap here may still differ on features the projection flattens.",
        "每个点是一个用户，按聚类所用特征的二维投影放置，并按分群着色。"
        "此图中重叠的分群，仍可能在投影压缩掉的特征上有所不同。"),
    "sec_profile": ("What sets each segment apart", "各分群的特征画像"),
    "sec_profile_intro": (
        "Lift is a segment's mean of a feature divided by the mean over all users: ×2 means twice the "
        "average, ×0.5 half. Blue is above average, red below.",
        "提升度 = 分群内某特征的均值 ÷ 全体用户的均值：×2 表示是平均水平的两倍，×0.5 表示一半。"
        "蓝色高于平均，红色低于平均。"),
    "sec_rules": ("Rules that describe each segment", "描述各分群的规则"),
    "sec_rules_intro": (
        "A small decision tree restates the segments as rules in the features' own units. Fidelity is the "
        "share of held-out users the rules put in the same segment as the clustering did.",
        "用一棵小决策树把分群改写为以原始单位表达的规则。保真度是留出用户中，规则与聚类结果一致的比例。"),
    "sec_selection": ("How the segments were chosen", "分群模型的选择"),
    "sec_selection_intro": (
        "Every method and number of segments tried, with their scores. Silhouette gain is the silhouette "
        "above what structureless data of the same extent reach; stability is the agreement between refits "
        "on resamples (adjusted Rand index). Higher Calinski-Harabasz and lower Davies-Bouldin are better.",
        "尝试过的每种方法和分群数及其得分。轮廓系数增益是相对于同范围无结构数据的轮廓系数提升；"
        "稳定性是重抽样重复拟合之间的一致程度（调整兰德指数）。Calinski-Harabasz 越高、Davies-Bouldin 越低越好。"),
    "sec_migration": ("Segment migration", "分群迁移"),
    "sec_migration_intro": (
        "Where the users of each segment in the earlier run are in the later one. The diagonal is users who "
        "stayed; (new) are users only in the later run, (gone) users only in the earlier one.",
        "前一次运行中各分群的用户在后一次运行中的去向。对角线为留在原分群的用户；"
        "（新增）为仅出现在后一次运行中的用户，（离开）为仅出现在前一次运行中的用户。"),
    # missing sections
    "missing_rfm": ("No RFM segmentation yet: run `segmark segment rfm`.",
                    "尚无 RFM 分群：请运行 `segmark segment rfm`。"),
    "missing_cluster": ("No clustering yet: run `segmark segment cluster`.",
                        "尚无聚类分群：请运行 `segmark segment cluster`。"),
    "missing_segments": ("No segmentation yet: run `segmark segment rfm` and `segmark segment cluster`.",
                         "尚无分群：请运行 `segmark segment rfm` 和 `segmark segment cluster`。"),
    "missing_map": ("No clustering with stored assignments yet, so there is nothing to map.",
                    "尚无带用户归属的聚类结果，无法绘制分布图。"),
    "missing_profile": ("No segment profiles stored yet.", "尚未保存分群画像。"),
    "missing_rules": ("No rules stored yet: they are made with the clustering.", "尚未保存规则：规则随聚类一起生成。"),
    "missing_selection": ("No model-selection record yet: run `segmark segment cluster`.",
                          "尚无模型选择记录：请运行 `segmark segment cluster`。"),
    "missing_migration": ("Migration needs two segmentation runs of the same kind; this workspace has {n}.",
                          "分群迁移需要同类分群的两次运行；此工作区只有 {n} 次。"),
    "no_quarantine": ("No input row was rejected.", "没有输入行被拒绝。"),
    "no_structure": ("No behaviour segments: the clustering found no real structure ({reason}).",
                     "没有行为分群：聚类未发现真实的分群结构（{reason}）。"),
    "no_structure_short": ("The clustering found no real segments, so there is nothing to show here (see \"How the "
                           "segments were chosen\").",
                           "聚类未发现真实的分群，此处无内容可展示（见“分群模型的选择”）。"),
    # chart titles and axes
    "t_events_by_type": ("Events by type", "各类行为事件数"),
    "x_events": ("events", "事件数"),
    "y_event_type": ("event type", "事件类型"),
    "t_quarantine": ("Rejected rows by reason", "按原因统计的被拒绝行"),
    "x_rows": ("rows", "行数"),
    "y_reason": ("reason", "原因"),
    "t_sizes_rfm": ("RFM segments: share of users and of revenue", "RFM 分群：用户占比与收入占比"),
    "t_sizes_cluster": ("Behaviour segments: share of users and of revenue", "行为分群：用户占比与收入占比"),
    "share_users": ("share of users", "用户占比"),
    "share_revenue": ("share of revenue", "收入占比"),
    "y_segment": ("segment", "分群"),
    "t_rfm_grid": ("RFM grid: recency score × frequency score", "RFM 网格：最近购买得分 × 购买频次得分"),
    "x_r_score": ("recency score R (5 = bought most recently)", "最近购买得分 R（越高越近）"),
    "y_f_score": ("frequency score F (5 = most orders)", "购买频次得分 F（越高越多）"),
    "rfm_users": ("users", "用户数"),
    "rfm_mean_monetary": ("mean net spend", "人均净消费"),
    "t_map": ("Users on two axes ({method})", "用户二维分布（{method}）"),
    "x_pc1": ("first component ({share} of variance)", "第一主成分（解释 {share} 方差）"),
    "y_pc2": ("second component ({share} of variance)", "第二主成分（解释 {share} 方差）"),
    "x_umap1": ("UMAP axis 1", "UMAP 维度 1"),
    "y_umap2": ("UMAP axis 2", "UMAP 维度 2"),
    "t_profile": ("Feature lift per segment", "各分群的特征提升度"),
    "t_profile_rfm": ("Feature lift per RFM segment", "各 RFM 分群的特征提升度"),
    "x_feature": ("feature", "特征"),
    "lift": ("lift", "提升度"),
    "median_in_segment": ("median in segment", "分群中位数"),
    "median_overall": ("median overall", "整体中位数"),
    "t_selection": ("Silhouette gain by number of segments", "不同分群数下的轮廓系数增益"),
    "x_k": ("number of segments (k)", "分群数（k）"),
    "y_gain": ("silhouette gain over structureless data", "相对无结构数据的轮廓系数增益"),
    "y_silhouette": ("silhouette", "轮廓系数"),
    "chosen": ("chosen", "入选"),
    "min_gain": ("minimum gain {value}", "最低增益 {value}"),
    "rejected": ("rejected", "淘汰"),
    "eligible": ("eligible", "合格"),
    "winner": ("chosen", "入选"),
    "t_migration": ("{kind}: migration from run {a} ({a_date}) to run {b} ({b_date})",
                    "{kind}迁移：第 {a} 次运行（{a_date}）→ 第 {b} 次运行（{b_date}）"),
    "t_migration_rfm": ("RFM segments", "RFM 分群"),
    "t_migration_cluster": ("Behaviour segments", "行为分群"),
    "x_to": ("segment in the later run", "后一次运行中的分群"),
    "y_from": ("segment in the earlier run", "前一次运行中的分群"),
    "share_of_row": ("share of the row", "占该行比例"),
    "new": ("(new)", "（新增）"),
    "gone": ("(gone)", "（离开）"),
    # tables
    "col_file": ("file", "文件"),
    "col_table": ("table", "表"),
    "col_read": ("read", "读取"),
    "col_accepted": ("accepted", "接受"),
    "col_quarantined": ("quarantined", "隔离"),
    "col_duplicates": ("duplicates", "重复"),
    "col_segment": ("segment", "分群"),
    "col_rule": ("rule", "规则"),
    "col_users": ("users", "用户数"),
    "col_precision": ("precision", "精确率"),
    "col_coverage": ("coverage", "覆盖率"),
    "col_method": ("method", "方法"),
    "col_k": ("k", "k"),
    "col_found": ("segments found", "实际分群数"),
    "col_silhouette": ("silhouette", "轮廓系数"),
    "col_gain": ("gain", "增益"),
    "col_ch": ("Calinski-Harabasz", "Calinski-Harabasz"),
    "col_db": ("Davies-Bouldin", "Davies-Bouldin"),
    "col_stability": ("stability", "稳定性"),
    "col_smallest": ("smallest segment", "最小分群占比"),
    "col_status": ("status", "状态"),
    "col_why": ("why", "原因"),
    "fidelity": ("Fidelity of the rules: {fidelity} of held-out users.", "规则保真度：留出用户中 {fidelity} 一致。"),
    "rule_precision_note": (
        "Precision: share of the users matching a rule who are in the segment; coverage: share of the "
        "segment's users the rule matches.",
        "精确率：满足规则的用户中属于该分群的比例；覆盖率：该分群用户中满足规则的比例。"),
    "chosen_model": ("Chosen: {what}.", "选定模型：{what}。"),
    "sources": ("Files ingested", "已导入的文件"),
    # readings (one line under each chart, generated from the data)
    "r_overview": (
        "{events} events from {users} users on {items} items over {days} days; {quarantined} of the input "
        "rows ({q_share}) were rejected.",
        "{days} 天内 {users} 位用户在 {items} 个商品上产生了 {events} 条行为事件；"
        "输入行中有 {quarantined} 行（{q_share}）被拒绝。"),
    "r_events_by_type": ("The most common event is {top} ({share} of all); {buy_share} of events are purchases.",
                         "最常见的事件是{top}（占 {share}）；购买事件占 {buy_share}。"),
    "r_quarantine": ("The most common reason is \"{reason}\": {rows} rows ({share} of rejected rows).",
                     "最常见的原因是“{reason}”：{rows} 行（占被拒绝行的 {share}）。"),
    "r_sizes": ("{name} are {users} of users and {revenue} of revenue.",
                "{name}占用户的 {users}，贡献了 {revenue} 的收入。"),
    "r_sizes_largest": (" The largest segment, {name}, holds {users} of users.",
                        "规模最大的分群是{name}，占用户的 {users}。"),
    "r_rfm": ("The biggest cell is R{r} F{f} ({name}, {users} users); {no_purchase} users without a purchase "
              "are not on the grid.",
              "用户最多的格子是 R{r} F{f}（{name}，{users} 位用户）；另有 {no_purchase} 位未购买用户不在网格中。"),
    "r_map_pca": ("The two axes keep {share} of the variance of {n} clustering features; {shown} of {total} users "
                  "are drawn.",
                  "两条轴保留了 {n} 个聚类特征 {share} 的方差；图中绘制了 {total} 位用户中的 {shown} 位。"),
    "r_map_umap": ("UMAP keeps neighbours together across {n} clustering features; {shown} of {total} users are "
                   "drawn.",
                   "UMAP 在 {n} 个聚类特征上保留了用户间的近邻关系；图中绘制了 {total} 位用户中的 {shown} 位。"),
    "r_profile": ("Strongest difference: {name} have {lift} the average {feature}.",
                  "差异最大的是{name}：{feature}是平均水平的 {lift}。"),
    "r_profile_none": ("No segment differs from the average by more than 20% on any feature shown.",
                       "没有任何分群在所示特征上与平均水平相差超过 20%。"),
    "r_rules": ("The rules agree with the segments for {fidelity} of held-out users; {n} rules are listed.",
                "在留出用户中，规则与分群结果的一致率为 {fidelity}；共列出 {n} 条规则。"),
    "r_selection": ("{what} won: silhouette {silhouette} ({gain} over structureless data), stability {stability}; "
                    "{n} candidates were tried, {rejected} rejected.",
                    "{what} 胜出：轮廓系数 {silhouette}（比无结构数据高 {gain}），稳定性 {stability}；"
                    "共尝试 {n} 个候选，淘汰 {rejected} 个。"),
    "r_selection_none": ("No candidate passed: {n} were tried, {rejected} rejected.",
                         "没有候选通过：共尝试 {n} 个，淘汰 {rejected} 个。"),
    "r_migration": ("{stayed} of the users in both runs kept their segment; the largest move is {users} users "
                    "from {src} to {dst}.",
                    "两次运行中都出现的用户有 {stayed} 保持原分群；最大的迁移是 {users} 位用户从{src}转为{dst}。"),
    "r_migration_still": ("{stayed} of the users in both runs kept their segment.",
                          "两次运行中都出现的用户有 {stayed} 保持原分群。"),
}

EVENT_TYPE_ZH = {"view": "浏览", "search": "搜索", "cart": "加购", "remove_cart": "移出购物车", "fav": "收藏",
                 "purchase": "购买", "refund": "退款"}
REASON_TEXT: dict[str, tuple[str, str]] = {
    "malformed_row": ("malformed row", "行格式错误"),
    "missing_user_id": ("empty user id", "用户 ID 为空"),
    "missing_item_id": ("empty item id", "商品 ID 为空"),
    "missing_event_type": ("empty event type", "事件类型为空"),
    "unknown_event_type": ("unknown event type", "未知事件类型"),
    "missing_ts": ("empty timestamp", "时间戳为空"),
    "unparseable_ts": ("unreadable timestamp", "时间戳无法解析"),
    "ts_out_of_range": ("timestamp out of range", "时间戳超出范围"),
    "non_numeric_price": ("price not a number", "价格不是数字"),
    "negative_price": ("negative price", "价格为负"),
    "non_numeric_quantity": ("quantity not a number", "数量不是数字"),
    "negative_quantity": ("negative quantity", "数量为负"),
    "non_numeric_amount": ("amount not a number", "金额不是数字"),
    "negative_amount": ("negative amount", "金额为负"),
    "unparseable_date": ("unreadable date", "日期无法解析"),
    "invalid_age": ("invalid age", "年龄无效"),
}
STATUS_ZH = {"winner": "入选", "eligible": "合格", "rejected": "淘汰"}
TABLE_ZH = {"events": "行为事件", "users": "用户", "items": "商品"}


def tr(key: str, lang: Lang, **values: Any) -> str:
    """The text ``key`` in ``lang`` with ``values`` filled in."""
    text = TEXT[key][1 if lang == "zh" else 0]
    return text.format(**values) if values else text


def event_label(event_type: str, lang: Lang) -> str:
    return EVENT_TYPE_ZH.get(event_type, event_type) if lang == "zh" else event_type.replace("_", " ")


def reason_label(reason: str, lang: Lang) -> str:
    pair = REASON_TEXT.get(reason)
    return (pair[1] if lang == "zh" else pair[0]) if pair else reason


def selection_reason(code: Any, params: Any, fallback: Any, lang: Lang, *, short: bool = False) -> str:
    """A model-selection reason in ``lang`` from its code and parameters; the stored (English) text
    ``fallback`` for records made before reasons had codes."""
    if isinstance(code, str) and code in REASON_TEMPLATES:
        return reason_text(code, params if isinstance(params, dict) else {}, lang, short=short)
    return "" if fallback is None or (isinstance(fallback, float) and math.isnan(fallback)) else str(fallback)


def status_label(status: str, lang: Lang) -> str:
    """A candidate's status: the winner reads "chosen"."""
    return STATUS_ZH.get(status, status) if lang == "zh" else {"winner": "chosen"}.get(status, status)


def table_label(table: str, lang: Lang) -> str:
    return TABLE_ZH.get(table, table) if lang == "zh" else table


def _finite(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)


def fmt_int(n: Any) -> str:
    """``12,345``: grouped digits read the same in both languages."""
    return f"{int(n):,}" if _finite(n) else "–"


def fmt_pct(x: Any) -> str:
    """A share as a percentage: whole percents, one decimal below 10%, '<0.1%' for tiny non-zero shares."""
    if not _finite(x):
        return "–"
    if x == 0:
        return "0%"
    if abs(x) < 0.001:
        return "<0.1%"
    return f"{x:.1%}" if abs(x) < 0.1 else f"{x:.0%}"


def fmt_num(x: Any, digits: int = 2) -> str:
    return f"{x:.{digits}f}" if _finite(x) else "–"


def fmt_compact(x: Any, lang: Lang) -> str:
    """Large amounts the way each language reads them: 1.2M in English, 120万 in Chinese."""
    if not _finite(x):
        return "–"
    sign, v = ("-" if x < 0 else ""), abs(float(x))
    units = (("亿", 1e8), ("万", 1e4)) if lang == "zh" else (("B", 1e9), ("M", 1e6), ("K", 1e3))
    for unit, size in units:
        if v >= size * 0.9995:  # 999,999 reads as 1M, not 1,000K
            return f"{sign}{_three_digits(v / size)}{unit}"
    return f"{sign}{_three_digits(v)}"


def _three_digits(v: float) -> str:
    """About three significant digits, never in exponent form: 1,075 / 10.7 / 1.07 / 0.107."""
    if v >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def fmt_lift(x: Any) -> str:
    if not _finite(x):
        return ""
    return f"×{x:.1f}" if x >= 0.95 or x == 0 else f"×{x:.2f}"


def fmt_date(d: date | datetime | None) -> str:
    return d.strftime("%Y-%m-%d") if d is not None else "–"
