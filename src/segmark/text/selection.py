"""Model selection's reasons: why a candidate won, was rejected, or why no real segments were
found, as templates over the figures each reason quotes (rendered by ``segmark.core.segment.reasons``,
which fills the ``selection.fragment.*`` parts first and adds a ``selection.tail.*`` when its
parameter is set)."""

MESSAGES: dict[str, tuple[str, str]] = {
    "selection.reason.fit_failed": ("could not fit: {error}", "无法拟合：{error}"),
    "selection.reason.too_few_segments": ("found fewer than two segments", "找到的分群少于两个"),
    "selection.reason.too_many_segments": (
        "{n_clusters} segments, above the maximum {k_max}",
        "{n_clusters} 个分群，超过上限 {k_max}"),
    "selection.reason.small_segment": (
        "smallest segment holds {min_share:.1%} of users, below the minimum {threshold:.0%}",
        "最小的分群只占用户的 {min_share:.1%}，低于下限 {threshold:.0%}"),
    "selection.reason.unstable": (
        "unstable: resampling ARI {stability:.2f} below {min_stability:.2f}",
        "不稳定：重抽样 ARI 为 {stability:.2f}，低于 {min_stability:.2f}"),
    "selection.reason.not_preferred": (
        "finer than the tied GMM's best and refits at {stability:.2f}, below the {needed:.2f} a finer split needs",
        "比共享协方差 GMM 的最佳分群更细，重抽样 ARI 为 {stability:.2f}，低于更细分群所需的 {needed:.2f}"),
    "selection.reason.low_gain": (
        "silhouette gain {gain:+.3f} below {min_gain:.2f}",
        "轮廓系数增益 {gain:+.3f}，低于 {min_gain:.2f}"),
    "selection.reason.not_measured": (
        "stability not measured: a preferred candidate was stable",
        "未测稳定性：更优先的候选已通过稳定性检验"),
    "selection.reason.asked_for": ("asked for", "按指定选用"),
    "selection.reason.finest_peak": (
        "finest stable peak of the gain curve near the best gain",
        "增益曲线上接近最佳增益的最细稳定峰值"),
    "selection.reason.finest_tied_peak": (
        "finest stable tied-covariance GMM near its best gain",
        "接近其最佳增益的最细稳定共享协方差 GMM"),
    "selection.reason.split_further": (
        "two segments, each looked into again: see the winner",
        "两个分群，分别再次检验：见入选结果"),
    "selection.reason.refined_cell": (
        "two segments and the structure found inside them",
        "两个分群及其内部发现的结构"),
    "selection.reason.refined_one": (
        "{what}: {parent_what} split the users in two (gain {parent_gain:+.3f}, resampling ARI "
        "{parent_stability:.2f}); selection run again inside each part found {a_what} among its {a_rows:,} users "
        "(gain {a_gain:+.3f}, resampling ARI {a_stability:.2f}) and no structure of their own among the other "
        "{b_rows:,}, so the {n_clusters} segments are fitted as one model; {compare}",
        "{what}：{parent_what} 先把用户分为两部分（增益 {parent_gain:+.3f}，重抽样 ARI "
        "{parent_stability:.2f}）；在每部分内再次选择，在其中 {a_rows:,} 位用户中找到 {a_what}（增益 "
        "{a_gain:+.3f}，重抽样 ARI {a_stability:.2f}），另外 {b_rows:,} 位用户没有自身的结构，"
        "因此 {n_clusters} 个分群作为一个模型拟合；{compare}"),
    "selection.reason.refined_both": (
        "{what}: {parent_what} split the users in two (gain {parent_gain:+.3f}, resampling ARI "
        "{parent_stability:.2f}); selection run again inside each part found {a_what} among {a_rows:,} users "
        "(gain {a_gain:+.3f}, resampling ARI {a_stability:.2f}) and {b_what} among the other {b_rows:,} (gain "
        "{b_gain:+.3f}, resampling ARI {b_stability:.2f}), so the {n_clusters} segments are fitted as one "
        "model; {compare}",
        "{what}：{parent_what} 先把用户分为两部分（增益 {parent_gain:+.3f}，重抽样 ARI "
        "{parent_stability:.2f}）；在每部分内再次选择，在 {a_rows:,} 位用户中找到 {a_what}（增益 "
        "{a_gain:+.3f}，重抽样 ARI {a_stability:.2f}），在另外 {b_rows:,} 位用户中找到 {b_what}（增益 "
        "{b_gain:+.3f}，重抽样 ARI {b_stability:.2f}），因此 {n_clusters} 个分群作为一个模型拟合；{compare}"),
    "selection.reason.largest_gain": ("largest silhouette gain among stable candidates", "稳定候选中轮廓系数增益最大"),
    "selection.reason.no_candidate": (
        "no candidate keeps every segment above {min_share:.0%} of users",
        "没有候选能让每个分群都超过用户的 {min_share:.0%}"),
    "selection.reason.no_gain": (
        "no candidate beats structureless data by {min_gain:.2f} in silhouette (best: {best})",
        "没有候选的轮廓系数比无结构数据高出 {min_gain:.2f}（最佳：{best}）"),
    "selection.reason.no_stable": (
        "some candidates beat structureless data (best: {best}) but none refits stably: the highest resampling ARI "
        "among them is {best_stability:.2f}, below {min_stability:.2f}",
        "有候选优于无结构数据（最佳：{best}），但没有一个能稳定地重新拟合：其中最高的重抽样 ARI 为 "
        "{best_stability:.2f}，低于 {min_stability:.2f}"),
    "selection.reason.forced": (
        "{what} as asked: {compare}, resampling stability {stability:.2f}",
        "按指定使用 {what}：{compare}，重抽样稳定性 {stability:.2f}"),
    "selection.reason.finest": (
        "{what}: the finest segmentation whose silhouette gain is a peak of its method's curve and at least "
        "{finer_ratio:.0%} of the best ({top_what}, gain {top_gain:+.3f}), among {n_ok} candidates that keep every "
        "segment above {min_share:.0%} of users; {compare}; {stable}",
        "{what}：在 {n_ok} 个每个分群都超过用户 {min_share:.0%} "
        "的候选中，轮廓系数增益是该方法曲线的峰值、且不低于最佳值（{top_what}，增益 "
        "{top_gain:+.3f}）{finer_ratio:.0%} 的最细分群；{compare}；{stable}"),
    "selection.reason.finest_tied": (
        "{what}: the finest tied-covariance GMM whose silhouette gain is at least {finer_ratio:.0%} of that method's "
        "best ({top_what}, gain {top_gain:+.3f}), among {n_ok} candidates that keep every segment above "
        "{min_share:.0%} of users; {compare}; {stable}",
        "{what}：在 {n_ok} 个每个分群都超过用户 {min_share:.0%} 的候选中，轮廓系数增益不低于共享协方差 GMM "
        "自身最佳值（{top_what}，增益 {top_gain:+.3f}）{finer_ratio:.0%} 的最细分群；{compare}；{stable}"),
    "selection.reason.largest": (
        "{what}: the largest silhouette gain over structureless data among {n_ok} candidates that keep every "
        "segment above {min_share:.0%} of users ({compare}), and {stable}",
        "{what}：在 {n_ok} 个每个分群都超过用户 {min_share:.0%} "
        "的候选中，相对无结构数据的轮廓系数增益最大（{compare}），且{stable}"),
    "selection.fragment.best": (
        "{best_what}, silhouette {best_silhouette:.3f} vs {best_reference:.3f} for {best_n_clusters} segments on "
        "uniform data of the same extent",
        "{best_what}，轮廓系数 {best_silhouette:.3f}，而同范围均匀数据分 {best_n_clusters} 群时为 "
        "{best_reference:.3f}"),
    "selection.fragment.compare": (
        "silhouette {silhouette:.3f} vs {reference:.3f} for {n_clusters} segments on structureless data of the "
        "same extent (gain {gain:+.3f})",
        "轮廓系数 {silhouette:.3f}，而同范围无结构数据分 {n_clusters} 群时为 {reference:.3f}（增益 {gain:+.3f}）"),
    "selection.fragment.stable": (
        "stable (resampling ARI {stability:.2f} >= {min_stability:.2f})",
        "结果稳定（重抽样 ARI {stability:.2f} ≥ {min_stability:.2f}）"),
    "selection.tail.forced": (
        ". Warning: below the automatic rule's thresholds (gain {min_gain:.2f}, stability {min_stability:.2f}); "
        "these segments may not be real",
        "。警告：低于自动选择规则的阈值（增益 {min_gain:.2f}，稳定性 {min_stability:.2f}），这些分群可能并不真实"),
    "selection.tail.largest": (
        "; next {next_what} (gain {next_gain:+.3f}, silhouette {next_silhouette:.3f})",
        "；其次是 {next_what}（增益 {next_gain:+.3f}，轮廓系数 {next_silhouette:.3f}）"),
    "selection.no_structure_prefix": ("no real segments: ", "没有真实的分群："),
}
