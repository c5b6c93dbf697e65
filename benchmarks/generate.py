"""Sample-shop speed: generating the shop, and writing its files beside the plain pandas way.

    python -m benchmarks.generate [--users 50000] [--events-per-user N] [--seed 0] [--repeat 1]

Rows of the table:

- ``generate``: ``generate_shop`` (users, items, events with dirty rows, truth), all in memory.
  There is no plain way beside it; its figure is the rate in events per second.
- ``write csv``: ``write_shop(..., format="csv")`` (Arrow's CSV writer) beside pandas'
  ``DataFrame.to_csv`` of the same four frames.
- ``write parquet``: ``write_shop(..., format="parquet")`` beside pandas' ``DataFrame.to_parquet``.

The 10-million-event shop used by the other benchmarks is ``--users 1000000 --events-per-user 10``.
Times are the median of ``--repeat`` runs (the machine is shared); peak memory is the process's
resident peak after the step (it includes the generated frames, which stay in memory).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks.common import timed
from segmark.demo import Shop, generate_shop, write_shop


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _plain_csv(shop: Shop, folder: Path) -> None:
    for name in ("events", "users", "items", "truth"):
        getattr(shop, name).to_csv(folder / f"{name}.csv", index=False, encoding="utf-8")


def _plain_parquet(shop: Shop, folder: Path) -> None:
    for name in ("events", "users", "items"):
        getattr(shop, name).to_parquet(folder / f"{name}.parquet", index=False)
    shop.truth.to_csv(folder / "truth.csv", index=False, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--events-per-user", type=float, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)

    console = Console(width=130)
    gen_s, shop = timed(
        lambda: generate_shop(n_users=args.users, seed=args.seed, events_per_user=args.events_per_user),
        args.repeat,
    )
    assert isinstance(shop, Shop)
    n_events = len(shop.events)
    gen_peak = _peak_mb()
    table = Table(title=f"sample shop: {args.users:,} users, {n_events:,} events (seed {args.seed})")
    for column in ("step", "segmark s", "plain s", "plain / segmark", "rate", "peak RSS MB"):
        table.add_column(column, justify="left" if column == "step" else "right")
    table.add_row("generate", f"{gen_s:.1f}", "-", "-", f"{n_events / gen_s / 1e6:.2f} M events/s", f"{gen_peak:,.0f}")

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for fmt, plain in (("csv", _plain_csv), ("parquet", _plain_parquet)):
            ours = root / f"segmark-{fmt}"
            theirs = root / f"pandas-{fmt}"
            theirs.mkdir()
            ours_s, paths = timed(lambda fmt=fmt, ours=ours: write_shop(shop, ours, format=fmt), args.repeat)
            plain_s, _ = timed(lambda plain=plain, theirs=theirs: plain(shop, theirs), args.repeat)
            assert isinstance(paths, dict)
            size_mb = sum(p.stat().st_size for p in paths.values()) / 1e6
            table.add_row(
                f"write {fmt}",
                f"{ours_s:.1f}",
                f"{plain_s:.1f}",
                f"{plain_s / ours_s:.1f}x",
                f"{size_mb / ours_s:.0f} MB/s ({size_mb:,.0f} MB)",
                f"{_peak_mb():,.0f}",
            )
    console.print(table)
    console.print("dirty rows planted: " + ", ".join(f"{k}={v}" for k, v in shop.dirty.items()))


if __name__ == "__main__":
    main()
