"""The main job end to end: each step's wall time and peak memory, at 1M and 10M events.

    python -m benchmarks.run [--events 1000000,10000000] [--dir /tmp/segmark-run-bench]

For each size a sample shop is generated (ten events per user) and written as CSV; then, each in its
own process:
- segmark: ``run_flow`` — ingest users, items and events (validated, de-duplicated), features, RFM
  segments, automatic clustering, report — with each step's wall time and peak resident memory;
- the plain way: pandas ``read_csv``, an RFM table by ``groupby``, scikit-learn ``KMeans(6)`` on it
  (no validation, no model selection, no report), for scale.
Target (issue 5): 10M events end to end in under 2 minutes on 2 cores and under 6 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table


def generate(events: int, folder: Path) -> dict[str, str]:
    from segmark.demo import generate_shop, write_shop

    shop = generate_shop(n_users=max(1_000, events // 10), seed=1, events_per_user=10.0)
    paths = write_shop(shop, folder)
    return {k: str(v) for k, v in paths.items()}


def child_segmark(paths: dict[str, str], workdir: Path) -> dict[str, object]:
    from segmark.pipeline.run import FlowInputs, run_flow
    from segmark.workspace import init_workspace, open_workspace

    root = workdir / "ws"
    root.mkdir(parents=True)
    (root / "segmark.toml").write_text('[time]\ntimezone = "Asia/Shanghai"\n', encoding="utf-8")
    init_workspace(root)
    inputs = FlowInputs(events=paths["events"], users=paths["users"], items=paths["items"],
                        report=root / "report.html")
    with open_workspace(root) as ws:
        results, _ = run_flow(ws, inputs)
    return {"steps": [(r.name, r.seconds, r.peak_rss_mb) for r in results]}


def child_plain(paths: dict[str, str], workdir: Path) -> dict[str, object]:
    import numpy as np
    import pandas as pd
    from sklearn.cluster import KMeans

    t0 = time.perf_counter()
    ev = pd.read_csv(paths["events"])
    t1 = time.perf_counter()
    ev["ts"] = pd.to_datetime(ev["ts"], errors="coerce")
    ev["price"] = pd.to_numeric(ev["price"], errors="coerce")
    buys = ev[ev["event_type"] == "purchase"].copy()
    buys["amount"] = buys["price"] * pd.to_numeric(buys["quantity"], errors="coerce").fillna(1)
    now = ev["ts"].max() + pd.Timedelta(days=1)
    rfm = buys.groupby("user_id").agg(last=("ts", "max"), frequency=("order_id", "nunique"),
                                      monetary=("amount", "sum"))
    rfm["recency"] = (now - rfm["last"]).dt.days
    t2 = time.perf_counter()
    x = np.log1p(rfm[["recency", "frequency", "monetary"]].clip(lower=0).fillna(0).to_numpy())
    KMeans(n_clusters=6, n_init="auto", random_state=0).fit(x)
    t3 = time.perf_counter()
    return {"steps": [("read_csv", t1 - t0, 0.0), ("RFM groupby", t2 - t1, 0.0), ("KMeans(6)", t3 - t2, 0.0)]}


def run_child(kind: str, paths: dict[str, str]) -> tuple[dict[str, object], float, float]:
    workdir = Path(tempfile.mkdtemp(prefix="segmark-run-"))
    try:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "benchmarks.run", "--child", kind, json.dumps(paths),
                                 str(workdir)], stdout=subprocess.PIPE, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        out = proc.stdout.read() if proc.stdout else ""
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{kind} failed")
        return json.loads(out.strip().splitlines()[-1]), wall, usage.ru_maxrss / 1024
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", default="1000000,10000000", help="comma-separated event counts")
    parser.add_argument("--dir", type=Path, default=None, help="where to write the generated shops")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, paths, workdir = args.child
        fn = child_segmark if kind == "segmark" else child_plain
        print(json.dumps(fn(json.loads(paths), Path(workdir))))
        return

    console = Console(width=max(Console().width, 110))
    base = args.dir or Path(tempfile.mkdtemp(prefix="segmark-run-data-"))
    table = Table(title=f"segmark run end to end ({os.cpu_count()} cores)", title_justify="left")
    for col in ("events", "variant", "step", "seconds", "peak MiB"):
        table.add_column(col, justify="right" if col in ("seconds", "peak MiB") else "left")
    try:
        for size in (int(s) for s in args.events.split(",")):
            folder = base / f"shop-{size}"
            with console.status(f"generating a shop of about {size:,} events"):
                paths = generate(size, folder)
            for kind in ("segmark", "plain pandas + KMeans"):
                result, wall, peak = run_child("segmark" if kind == "segmark" else "plain", paths)
                steps = result["steps"]
                for name, sec, mem in steps:  # type: ignore[union-attr]
                    table.add_row(f"{size:,}", kind, name, f"{sec:.1f}", f"{mem:,.0f}" if mem else "")
                # per-step peaks restart at each step, so the process's peak is the largest of them
                peak = max([peak, *(mem for _, _, mem in steps)])  # type: ignore[union-attr]
                table.add_row(f"{size:,}", kind, "[bold]total (process)", f"[bold]{wall:.1f}",
                              f"[bold]{peak:,.0f}", end_section=True)
    finally:
        if args.dir is None:
            shutil.rmtree(base, ignore_errors=True)
    console.print(table)


if __name__ == "__main__":
    main()
