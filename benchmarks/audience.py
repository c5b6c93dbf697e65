"""Audience queries at scale: expressions over tags, segments, features and scores beside the same
selection in pandas, same data, same answers.

    python -m benchmarks.audience [--users 1000000] [--repeat 5] [--seed 0]

The workspace: a feature table of ``--users`` users (the columns the expressions read plus 40
others, so the table is as wide as a real build), an RFM segmentation (segments and every user's
scores), churn scores in ``prediction_scores`` (the predictions step's contract) and the tags of
the shipped default tag file applied by the real ``tags apply`` (its time is printed too). The
stored tables are made directly, not through ingestion, because ingesting a shop of that size is
the ingestion benchmark's business.

Rows of the table, one per expression:

- ``segmark``: ``preview_audience``'s size query (parse, bind, one SQL query with bound
  parameters), and the full preview (size plus composition by segment and by tag) beside it;
- ``pandas``: the same selection with boolean masks on frames already in memory (features,
  segments and scores joined by user, the tags pivoted to one column per tag) — pandas' best case,
  reading the frames out of the store not counted — and, last, the same with that reading counted
  (what a script that starts from the store pays).

Times are the median of ``--repeat`` runs (the machine is shared). The target: under a second per
query at 1M users. The sizes must agree.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from benchmarks.common import timed
from segmark.pipeline.audience import plan_audience, preview_audience, select_users
from segmark.pipeline.tags import apply_tags
from segmark.workspace import init_workspace, open_workspace

EXPRESSIONS = [
    "has_tag('value_tier', '高价值') AND churn_probability > 0.5",
    "segment IN ('At Risk', 'cant_lose_them') AND age BETWEEN 25 AND 40 AND city = '上海'",
    "(has_tag('lifecycle_stage', '沉睡客户') OR recency_days > 90) AND NOT tag.age_group = '未成年' AND monetary > 500",
    "churn_decile >= 9 AND segment NOT IN ('champions', 'loyal') AND (city IN ('北京', '上海') OR monetary >= 2000)",
]


def _pandas(frames: dict[str, pd.DataFrame], i: int) -> int:
    """The same selections as EXPRESSIONS, written as a pandas user would (NULL never matches)."""
    f = frames["wide"]
    if i == 0:
        m = (f["value_tier"] == "高价值") & (f["churn_probability"] > 0.5)
    elif i == 1:
        m = f["segment"].isin(["at_risk", "cant_lose_them"]) & f["age"].between(25, 40) & (f["city"] == "上海")
    elif i == 2:
        m = (((f["lifecycle_stage"] == "沉睡客户") | (f["recency_days"] > 90)) & ~(f["age_group"] == "未成年")
             & f["age_group"].notna() & (f["monetary"] > 500))
    else:
        m = ((f["churn_decile"] >= 9) & f["segment"].notna() & ~f["segment"].isin(["champions", "loyal"])
             & (f["city"].isin(["北京", "上海"]) | (f["monetary"] >= 2000)))
    return int(m.sum())


def build(root: Path, n: int, seed: int) -> None:
    """The stored tables of a workspace of ``n`` users (see the module docstring)."""
    with open_workspace(root) as ws:
        s = ws.store
        s.execute("SELECT setseed(?)", [(seed % 1000) / 1000])
        extra = ", ".join(f"random() * 100 AS x{i}" for i in range(40))
        s.create_table_as("features_run_1", f"""
            SELECT 'U' || lpad(CAST(i AS VARCHAR), 8, '0') AS user_id,
                   CASE WHEN random() < 0.9 THEN CAST(12 + floor(random() * 60) AS DOUBLE) END AS age,
                   (['上海', '北京', '广州', '深圳', '杭州', '成都'])[1 + CAST(floor(random() * 6) AS INTEGER)] AS city,
                   CAST(floor(-ln(random()) * 2.5) AS BIGINT) AS frequency,
                   random() * 365 AS recency_days, -ln(random()) * 800 AS monetary, {extra}
            FROM range(?) t(i)""", [n])
        s.execute("UPDATE features_run_1 SET monetary = 0, recency_days = NULL WHERE frequency = 0")
        s.execute("INSERT INTO feature_runs VALUES (1, TIMESTAMP '2025-07-01', TIMESTAMP '2025-07-01', 'UTC', "
                  "'[7, 30]', 'features_run_1', ?, 0, '{}', 'synthetic', TIMESTAMP '2025-07-01')", [n])
        cols = [("age", "number"), ("city", "text"), ("frequency", "count"), ("recency_days", "number"),
                ("monetary", "sum")] + [(f"x{i}", "number") for i in range(40)]
        for pos, (name, kind) in enumerate(cols, start=1):
            s.execute("INSERT INTO feature_columns VALUES (1, ?, ?, 'synthetic', ?, '', '', '', '')",
                      [pos, name, kind])
        keys = [("champions", "Champions", "冠军用户"), ("loyal", "Loyal", "忠诚用户"),
                ("at_risk", "At Risk", "流失风险用户"), ("cant_lose_them", "Can't Lose Them", "重要挽留用户"),
                ("new", "New", "新客户"), ("hibernating", "Hibernating", "休眠用户"), ("lost", "Lost", "已流失用户"),
                ("no_purchase", "No purchase yet", "未购买用户")]
        s.execute("INSERT INTO segmentations VALUES (2, 'rfm', 'rfm', 1, TIMESTAMP '2025-07-01', 8, ?, '[]', '{}', "
                  "'{}', NULL, 'synthetic', TIMESTAMP '2025-07-01')", [n])
        for i, (k, name, zh) in enumerate(keys):
            s.execute("INSERT INTO segments (segmentation_id, segment_id, key, name, name_zh, name_source, size, "
                      "share) VALUES (2, ?, ?, ?, ?, 'rule', 0, 0)", [i, k, name, zh])
        s.execute("""INSERT INTO segment_members (segmentation_id, user_id, segment_id, r_score, f_score, m_score,
                       source, feature_run_id)
                     SELECT 2, user_id, CASE WHEN frequency = 0 THEN 7 ELSE CAST(floor(random() * 7) AS INTEGER) END,
                            CASE WHEN frequency = 0 THEN 0 ELSE 1 + CAST(floor(random() * 5) AS INTEGER) END,
                            CASE WHEN frequency = 0 THEN 0 ELSE 1 + CAST(floor(random() * 5) AS INTEGER) END,
                            CASE WHEN frequency = 0 THEN 0 ELSE 1 + CAST(floor(random() * 5) AS INTEGER) END,
                            'fit', 1 FROM features_run_1""")
        s.create_table_as("prediction_scores", "SELECT 3 AS run_id, 'churn' AS model_name, user_id, random() AS "
                          "probability, 0 AS decile, TIMESTAMP '2025-07-01' AS as_of FROM features_run_1")
        s.execute("UPDATE prediction_scores SET decile = 1 + CAST(floor(probability * 10) AS INTEGER)")
        for _ in range(3):
            s.next_run_id()  # the runs above took ids 1-3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    console = Console(width=180)
    with tempfile.TemporaryDirectory() as tmp:
        root = init_workspace(Path(tmp) / "ws")
        start = time.perf_counter()
        build(root, args.users, args.seed)
        built = time.perf_counter() - start
        with open_workspace(root) as ws:
            start = time.perf_counter()
            run = apply_tags(ws)
            tagging = time.perf_counter() - start
            rows = ws.store.scalar("SELECT count(*) FROM user_tags WHERE run_id = ?", [run.run_id])
            start = time.perf_counter()
            wide = ws.store.query_df("SELECT f.user_id, f.age, f.city, f.frequency, f.recency_days, f.monetary, "
                                     "seg.key AS segment, p.probability AS churn_probability, p.decile AS "
                                     "churn_decile FROM features_run_1 f LEFT JOIN (SELECT m.user_id, s.key FROM "
                                     "segment_members m JOIN segments s USING (segmentation_id, segment_id)) seg "
                                     "ON seg.user_id = f.user_id LEFT JOIN prediction_scores p ON p.user_id = "
                                     "f.user_id")
            tags = ws.store.query_df("SELECT user_id, tag, value FROM user_tags WHERE run_id = ?", [run.run_id])
            wide = wide.merge(tags.pivot(index="user_id", columns="tag", values="value"), how="left",
                              left_on="user_id", right_index=True)
            loading = time.perf_counter() - start
            frames = {"wide": wide}
            table = Table(title=f"audience queries over {args.users:,} users with {len(run.taxonomy)} tags "
                          f"({rows:,} tag rows); median of {args.repeat}; shared machine")
            for col in ("expression", "users", "segmark size", "segmark preview", "pandas (in memory)",
                        "size / pandas", "pandas reading first"):
                table.add_column(col, justify="left" if col == "expression" else "right", overflow="fold")
            for i, expr in enumerate(EXPRESSIONS):
                def size(expr: str = expr) -> int:
                    u, plan = plan_audience(ws.store, expr)
                    sql, params = select_users(u, plan)
                    return int(ws.store.scalar(f"SELECT count(*) FROM ({sql}) a", params))

                t_size, n_seg = timed(size, args.repeat)
                t_prev, prev = timed(lambda expr=expr: preview_audience(ws, expr), max(1, args.repeat // 2))
                t_pd, n_pd = timed(lambda i=i: _pandas(frames, i), args.repeat)
                if not n_seg == prev["size"] == n_pd:
                    raise SystemExit(f"sizes disagree for {expr!r}: segmark {n_seg}, preview {prev['size']}, "
                                     f"pandas {n_pd}")
                table.add_row(expr, f"{n_seg:,}", f"{t_size:.3f}s", f"{t_prev:.3f}s", f"{t_pd:.3f}s",
                              f"{t_size / t_pd:.1f}x", f"{loading + t_pd:.2f}s")
            console.print(table)
            console.print(f"setup: tables made in {built:.1f}s; `tags apply` (default tag file) {tagging:.1f}s; "
                          f"pandas reads its frames once in {loading:.1f}s (not counted above)")


if __name__ == "__main__":
    main()
