"""Messages of predictions, lifetime value and the sales forecast (CLI and report)."""

MESSAGES: dict[str, tuple[str, str]] = {
    # predict train / show
    "predict.train.title": (
        "Model {name} ({target}): {algorithm}, trained on {rows:,} rows, scores as of {as_of}",
        "模型 {name}（{target}）：{algorithm}，训练样本 {rows:,} 行，评分日期 {as_of}"),
    "predict.train.origins": (
        "Labels from the log: {horizon} days after each of {n} cuts ({cuts})",
        "标签来自行为日志：{n} 个截止点（{cuts}）之后 {horizon} 天内的行为"),
    "predict.train.given": ("Labels from {source}", "标签来自 {source}"),
    "predict.cv.time_grouped": (
        "Cross-validation: time-aware and grouped by user ({rows:,} validation rows from the latest cut; "
        "training on earlier cuts, other users)",
        "交叉验证：按时间、按用户分组（验证集为最近截止点的 {rows:,} 行；训练只用更早的截止点和其他用户）"),
    "predict.cv.stratified_kfold": (
        "Cross-validation: stratified {folds}-fold ({rows:,} out-of-fold predictions)",
        "交叉验证：分层 {folds} 折（{rows:,} 个折外预测）"),
    "predict.cv.grouped_kfold": (
        "Cross-validation: {folds} folds grouped by user ({rows:,} out-of-fold predictions)",
        "交叉验证：按用户分组的 {folds} 折（{rows:,} 个折外预测）"),
    "predict.table.candidates": ("Candidates (out-of-fold)", "候选模型（折外评估）"),
    "predict.table.evaluation": ("The chosen model against its baselines", "所选模型与基线对比"),
    "predict.col.model": ("model", "模型"),
    "predict.col.chosen": ("chosen", "选中"),
    "predict.col.metric": ("figure", "指标"),
    "predict.col.importance": ("drop in ROC-AUC", "ROC-AUC 下降"),
    "predict.col.input": ("input", "输入"),
    "predict.threshold_rule": (
        "Threshold {threshold:.3f}: the probability that maximises F1 on out-of-fold predictions",
        "阈值 {threshold:.3f}：使折外预测 F1 最大的概率"),
    "predict.beats": (
        "{name} beats the {baseline}: ROC-AUC {model:.3f} against {base:.3f}",
        "{name} 优于{baseline}：ROC-AUC {model:.3f} 对 {base:.3f}"),
    "predict.not_beats": (
        "{name} does not beat the {baseline}: ROC-AUC {model:.3f} against {base:.3f}",
        "{name} 没有超过{baseline}：ROC-AUC {model:.3f} 对 {base:.3f}"),
    "predict.out_of_time": (
        "Out-of-time check, scores as of {start} against purchases through {end}: ROC-AUC {auc:.3f} "
        "(PR-AUC {pr:.3f}, top-decile lift {lift:.2f})",
        "跨时间检验（{start} 的评分对照截至 {end} 的实际购买）：ROC-AUC {auc:.3f}（PR-AUC {pr:.3f}，"
        "前 10% 提升度 {lift:.2f}）"),
    "predict.out_of_time.baseline": ("  {baseline}: ROC-AUC {auc:.3f}", "  {baseline}：ROC-AUC {auc:.3f}"),
    "predict.importance.title": (
        "What matters most (permutation importance)", "最重要的输入（置换重要性）"),
    "predict.baseline.recency": ("recency rule", "最近购买规则"),
    "predict.baseline.bgnbd": ("BG/NBD expected purchases", "BG/NBD 预期购买次数"),
    "predict.baseline.best_single_input": ("best single input ({column})", "最佳单一输入（{column}）"),
    "predict.warn.leak.identical": (
        "{column} is left out of the inputs: its values are the label itself",
        "{column} 未作为输入：它的值就是标签本身"),
    "predict.warn.leak.separates": (
        "{column} is left out of the inputs: it tells every label apart (it was most likely written after the "
        "outcome)",
        "{column} 未作为输入：它能完全区分每个标签（很可能是在结果产生之后才记录的）"),
    "predict.warn.leak.blank_separates": (
        "{column} is left out of the inputs: it is blank exactly for one outcome (most likely filled in after it)",
        "{column} 未作为输入：它恰好只在一种结果下为空（很可能是在结果产生之后才填写的）"),
    "predict.warn.unknown_users": (
        "{n:,} labels name users the workspace does not know; they were left out",
        "{n:,} 个标签对应的用户不在工作区中，已忽略"),
    # predict score / why / export
    "predict.score.done": (
        "Scored {users:,} users with {name} as of {as_of}: mean probability {mean:.3f}, {above:,} at or above the "
        "threshold {threshold:.3f}",
        "已用 {name} 为 {users:,} 位用户评分（截至 {as_of}）：平均概率 {mean:.3f}，{above:,} 位不低于阈值 "
        "{threshold:.3f}"),
    "predict.col.decile": ("decile", "十分位"),
    "predict.col.users": ("users", "用户数"),
    "predict.col.mean_probability": ("mean probability", "平均概率"),
    "predict.why.head": (
        "User {user_id}: {name} probability {p:.3f} (decile {decile}; threshold {threshold:.3f}), as of {as_of}",
        "用户 {user_id}：{name} 概率 {p:.3f}（第 {decile} 十分位；阈值 {threshold:.3f}），截至 {as_of}"),
    "predict.why.raises": (
        "{feature} = {value} (typical {typical}) raises it by {effect}",
        "{feature} = {value}（通常为 {typical}）使概率提高 {effect}"),
    "predict.why.lowers": (
        "{feature} = {value} (typical {typical}) lowers it by {effect}",
        "{feature} = {value}（通常为 {typical}）使概率降低 {effect}"),
    "predict.why.none": ("No input moves this user's probability.", "没有输入明显影响该用户的概率。"),
    "predict.export.done": ("Wrote {n:,} users' {name} scores to {path}", "已将 {n:,} 位用户的 {name} 评分写入 {path}"),
    # clv
    # forecast
    # report section
    "predict.sec_predictions": ("Predictions", "预测"),
    "predict.sec_predictions_intro": (
        "How well each stored model ranks users (ROC and precision-recall curves beside its naive baselines, "
        "on out-of-fold predictions), what targeting its top deciles gains, whether its probabilities can be "
        "taken at face value, lifetime value by segment, and the sales forecast with its backtest.",
        "每个模型对用户排序的效果（折外预测上的 ROC 与精确率-召回率曲线，并与朴素基线对比）、"
        "定向前几个十分位的收益、概率是否可直接使用，各分群的生命周期价值，以及销售预测及其回测。"),
    "predict.report.roc_title": ("{name}: ROC curve", "{name}：ROC 曲线"),
    "predict.report.pr_title": ("{name}: precision against recall", "{name}：精确率-召回率曲线"),
    "predict.report.auc_reading": (
        "{name} ranks a random positive above a random negative {value:.0%} of the time (baseline {base:.0%}).",
        "{name} 把随机正例排在随机负例之前的概率为 {value:.0%}（基线 {base:.0%}）。"),
    "predict.report.pr_reading": (
        "Average precision of {name} is {value:.2f} (baseline {base:.2f}).",
        "{name} 的平均精确率为 {value:.2f}（基线 {base:.2f}）。"),
    "predict.report.chance": ("chance", "随机"),
    "predict.report.fpr": ("false positive rate", "假正例率"),
    "predict.report.tpr": ("true positive rate", "真正例率"),
    "predict.report.recall": ("recall", "召回率"),
    "predict.report.precision": ("precision", "精确率"),
    "predict.report.lift_title": ("{name}: lift by decile", "{name}：各十分位提升度"),
    "predict.report.decile": ("decile (10 = highest scores)", "十分位（10 = 得分最高）"),
    "predict.report.lift": ("lift over the average", "相对平均的提升度"),
    "predict.report.lift_reading": (
        "The top decile of {name} holds {lift:.1f} times the average rate; the top three deciles reach {gain:.0%} "
        "of all positives.",
        "{name} 得分最高的 10% 用户中正例率是平均的 {lift:.1f} 倍；前 30% 覆盖全部正例的 {gain:.0%}。"),
    "predict.report.calibration_title": ("{name}: calibration", "{name}：概率校准"),
    "predict.report.predicted": ("mean predicted probability", "平均预测概率"),
    "predict.report.observed": ("observed rate", "实际比例"),
    "predict.report.perfect": ("perfect calibration", "完美校准"),
    "predict.report.calibration_reading": (
        "Brier score {brier:.3f}; predicted and observed rates differ by at most {worst:.0%} in any tenth of users.",
        "Brier 分数 {brier:.3f}；任一十分之一用户中预测与实际比例相差不超过 {worst:.0%}。"),
    "predict.report.clv_title": ("Lifetime value by segment", "各分群的生命周期价值"),
    "predict.report.clv_axis": ("expected value over the horizon", "预测期内的预期价值"),
    "predict.report.clv_reading": (
        "{segment} holds {share:.0%} of the expected value with {users:.0%} of the customers.",
        "{segment} 以 {users:.0%} 的客户贡献了 {share:.0%} 的预期价值。"),
    "predict.report.forecast_title": ("Weekly revenue: history, forecast and backtest", "周收入：历史、预测与回测"),
    "predict.report.series_actual": ("actual", "实际"),
    "predict.report.series_forecast": ("forecast", "预测"),
    "predict.report.series_seasonal_naive": ("seasonal-naive", "季节性朴素法"),
    "predict.report.series_backtest": ("backtest", "回测"),
    "predict.report.forecast_reading": (
        "On the weeks held out the forecast's WAPE is {wape:.0%}, against {naive:.0%} for seasonal-naive.",
        "在留出的几周中，预测的 WAPE 为 {wape:.0%}，季节性朴素法为 {naive:.0%}。"),
    "predict.report.forecast_no_backtest": ("Too little history for a backtest.", "历史太短，无法回测。"),
    "predict.report.no_models": (
        "No predictive model yet: run `segmark predict train churn|propensity|response`.",
        "还没有预测模型：请运行 `segmark predict train churn|propensity|response`。"),
    "predict.report.no_clv": (
        "No lifetime value by segment yet: run `segmark clv fit`, `segmark clv predict` and a segmentation.",
        "还没有分群生命周期价值：请运行 `segmark clv fit`、`segmark clv predict` 并完成分群。"),
    "predict.report.no_forecast": ("No forecast yet: run `segmark forecast revenue`.",
                                   "还没有销售预测：请运行 `segmark forecast revenue`。"),
}
