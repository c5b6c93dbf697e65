"""Ingestion speed and memory: segmark beside the plain ways, on the same generated files.

    python -m benchmarks.ingest [--rows 10000000] [--dir /tmp/segmark-bench]
    python -m benchmarks.ingest --rows 1000000 --against ../old/src [--pairs 7]

Each variant runs in its own process; wall time, its CPU time (user + system, all threads) and peak
resident memory are measured from outside (``os.wait4``). On a shared machine wall time follows the
load of other processes; CPU time much less so, so both are shown beside the floor. Variants, for CSV and for Parquet:
- segmark: ``ingest_file`` — mapping, validation, quarantine, de-duplication, one transaction;
- pandas: ``read_csv``/``read_parquet`` then insert the frame into DuckDB (no validation);
- duckdb: DuckDB's own ``read_csv``/``read_parquet`` into a table — the floor.

``--against SRC`` compares this tree's ``ingest_file`` with another's (``SRC`` is that tree's
``src`` folder, e.g. of ``git worktree add ../old <commit>``): ``--pairs`` runs of each, alternating
so that both see the same load, each in a fresh process timing only the ingest (CPU of all
threads); printed are both medians and the median of the pairs' ratios, the figure to judge a
change by on a shared machine (one run, or a best of three, swings by 20% there).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

CATEGORIES = np.array(["服装", "美妆", "数码", "家居", "食品", "母婴", "运动", "图书"])
TYPES = np.array(["view", "view", "view", "view", "search", "cart", "fav", "purchase"])


def generate(rows: int, folder: Path, seed: int = 0) -> tuple[Path, Path]:
    """A canonical event file of ``rows`` lines as CSV and Parquet (written in slices)."""
    rng = np.random.default_rng(seed)
    csv_path, pq_path = folder / "events.csv", folder / "events.parquet"
    start = np.datetime64("2025-01-01T00:00:00")
    writer = None
    step = 1_000_000
    with pa.OSFile(str(csv_path), "wb") as sink:
        csv_writer = None
        for lo in range(0, rows, step):
            n = min(step, rows - lo)
            ts = start + rng.integers(0, 365 * 86400, n).astype("timedelta64[s]")
            etype = TYPES[rng.integers(0, len(TYPES), n)]
            price = np.round(rng.lognormal(4, 1, n), 2)
            table = pa.table({
                "user_id": pa.array(np.char.add("u", rng.integers(0, rows // 10 + 1, n).astype(str))),
                "event_type": pa.array(etype),
                "ts": pa.array(np.datetime_as_string(ts, unit="s")).cast(pa.string()),
                "item_id": pa.array(np.char.add("i", rng.zipf(1.3, n).clip(1, 200_000).astype(str))),
                "category": pa.array(CATEGORIES[rng.integers(0, len(CATEGORIES), n)]),
                "price": pa.array(price),
                "quantity": pa.array(np.where(etype == "purchase", rng.integers(1, 4, n), 1)),
            })
            if csv_writer is None:
                csv_writer = pacsv.CSVWriter(sink, table.schema)
                writer = pq.ParquetWriter(str(pq_path), table.schema)
            csv_writer.write_table(table)
            assert writer is not None
            writer.write_table(table)
        assert csv_writer is not None and writer is not None
        csv_writer.close()
        writer.close()
    return csv_path, pq_path


# -- the variants, each run in a child process ---------------------------------------------------


def _ingest(path: Path, workdir: Path, memory_limit: str | None = None) -> tuple[int, float]:
    """``ingest_file`` into a fresh workspace: rows accepted, and the CPU seconds of the ingest alone."""
    from segmark.pipeline.ingest import ingest_file
    from segmark.workspace import init_workspace, open_workspace

    root = init_workspace(workdir / "ws")
    if memory_limit:
        (root / "segmark.toml").write_text(f'[store]\nmemory_limit = "{memory_limit}"\n', encoding="utf-8")
    with open_workspace(root) as ws:
        start = time.process_time()
        report = ingest_file(ws, "events", path)
        return report.accepted, time.process_time() - start


def run_segmark(path: Path, workdir: Path, memory_limit: str | None = None) -> int:
    return _ingest(path, workdir, memory_limit)[0]


def run_segmark_cpu(path: Path, workdir: Path) -> str:
    """``ingest_file`` alone, timed inside the process: "accepted cpu-seconds where-segmark-is"."""
    import segmark

    accepted, cpu = _ingest(path, workdir)
    return f"{accepted} {cpu:.4f} {Path(segmark.__file__).resolve().parent.parent}"


def compare(path: Path, against: Path, pairs: int) -> tuple[list[float], list[float], set[str]]:
    """CPU seconds of ``pairs`` alternating ingests of ``path`` by this tree and by ``against``, and
    the row counts they accepted (one count when both agree)."""
    here: list[float] = []
    there: list[float] = []
    counts: set[str] = set()
    for _ in range(pairs):
        for src, out in ((None, here), (against, there)):
            env = None if src is None else {**os.environ, "PYTHONPATH": str(src)}
            reported = measure("segmark cpu", path, env=env)[3]
            if reported == "failed":
                raise SystemExit(f"the ingest of {path} failed{'' if src is None else f' with --against {src}'}")
            accepted, cpu, where = reported.split()
            counts.add(accepted)
            if src is not None and Path(where) != src.resolve():
                raise SystemExit(f"--against {src}: the child imported segmark from {where}")
            out.append(float(cpu))
    return here, there, counts


def run_pandas(path: Path, workdir: Path) -> int:
    import duckdb
    import pandas as pd

    df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    con = duckdb.connect(str(workdir / "plain.duckdb"))
    con.register("df", df)
    con.execute("CREATE TABLE events AS SELECT * FROM df")
    return int(con.execute("SELECT count(*) FROM events").fetchone()[0])  # type: ignore[index]


def run_duckdb(path: Path, workdir: Path) -> int:
    import duckdb

    con = duckdb.connect(str(workdir / "floor.duckdb"))
    reader = "read_parquet" if path.suffix == ".parquet" else "read_csv"
    con.execute(f"CREATE TABLE events AS SELECT * FROM {reader}(?)", [str(path)])
    return int(con.execute("SELECT count(*) FROM events").fetchone()[0])  # type: ignore[index]


VARIANTS = {
    "segmark": run_segmark,
    # the same with a smaller store budget: memory follows the setting, not the size of the file
    "segmark, memory_limit 1GB": lambda path, workdir: run_segmark(path, workdir, "1GB"),
    "pandas + insert": run_pandas,
    "duckdb read (floor)": run_duckdb,
    "segmark cpu": run_segmark_cpu,  # for --against
}


def measure(variant: str, path: Path, env: dict[str, str] | None = None) -> tuple[float, float, float, str]:
    """Run one variant in a fresh process (with ``env`` when given): (seconds, CPU seconds, peak RSS
    in MiB, what it printed)."""
    workdir = Path(tempfile.mkdtemp(prefix="segmark-bench-"))
    try:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "benchmarks.ingest", "--child", variant, str(path),
                                 str(workdir)], stdout=subprocess.PIPE, text=True, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        out = proc.stdout.read().strip() if proc.stdout else ""
        cpu = usage.ru_utime + usage.ru_stime
        if os.waitstatus_to_exitcode(status) != 0:
            return seconds, cpu, usage.ru_maxrss / 1024, "failed"
        return seconds, cpu, usage.ru_maxrss / 1024, out
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--dir", type=Path, default=None, help="where to write the generated files")
    parser.add_argument("--against", type=Path, default=None,
                        help="another tree's src folder: compare its ingest_file CPU with this one's")
    parser.add_argument("--pairs", type=int, default=7, help="alternating runs of each with --against")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        variant, path, workdir = args.child
        print(VARIANTS[variant](Path(path), Path(workdir)))
        return

    console = Console(width=max(Console().width, 130))
    folder = args.dir or Path(tempfile.mkdtemp(prefix="segmark-bench-data-"))
    folder.mkdir(parents=True, exist_ok=True)
    with console.status(f"generating {args.rows:,} events"):
        csv_path, pq_path = generate(args.rows, folder)
    table = Table(title=f"ingest {args.rows:,} events ({os.cpu_count()} cores)", title_justify="left")
    for col in ("file", "variant", "rows", "seconds", "rows/s", "peak MiB", "time vs floor", "time vs pandas",
                "CPU s", "CPU vs floor"):
        table.add_column(col, justify="left" if col in ("file", "variant") else "right")
    try:
        if args.against:
            console.print(against_table(args.against, args.pairs, (csv_path, pq_path), args.rows))
            return
        for path in (csv_path, pq_path):
            results = {v: measure(v, path) for v in VARIANTS if v != "segmark cpu"}
            floor, plain = results["duckdb read (floor)"][0], results["pandas + insert"][0]
            floor_cpu = results["duckdb read (floor)"][1]
            for variant, (sec, cpu, mem, rows) in results.items():
                rate = f"{int(rows) / sec:,.0f}" if rows.isdigit() else "-"
                table.add_row(path.suffix.lstrip("."), variant, rows, f"{sec:.1f}", rate, f"{mem:,.0f}",
                              f"{sec / floor:.2f}x", f"{sec / plain:.2f}x", f"{cpu:.1f}", f"{cpu / floor_cpu:.2f}x")
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)
    console.print(table)


def against_table(against: Path, pairs: int, paths: tuple[Path, ...], rows: int) -> Table:
    table = Table(title=f"ingest_file CPU seconds, {rows:,} events: this tree against {against} "
                  f"({pairs} alternating pairs)", title_justify="left")
    for col in ("file", "accepted", "this tree (median)", "against (median)", "ratio (median of pairs)", "ratios"):
        table.add_column(col, justify="left" if col in ("file", "ratios") else "right")
    for path in paths:
        here, there, counts = compare(path, against, pairs)
        ratios = sorted(h / t for h, t in zip(here, there, strict=True))
        table.add_row(path.suffix.lstrip("."), " / ".join(sorted(counts)),
                      f"{statistics.median(here):.2f}", f"{statistics.median(there):.2f}",
                      f"{statistics.median(ratios):.3f}", f"{ratios[0]:.2f} to {ratios[-1]:.2f}")
    return table


if __name__ == "__main__":
    main()
