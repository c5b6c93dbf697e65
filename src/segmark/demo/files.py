"""Writing a generated shop: the I/O edge of the sample shop.

``write_shop`` writes files that ``segmark ingest`` reads without a mapping, the true type of every
user (``truth.csv``) so that segmentation can be scored against it, and the number of deliberately
bad rows of each kind (``dirty.json``) so that ingestion's quarantine can be checked against it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pyarrow as pa

from segmark.demo.generate import Shop


def write_shop(shop: Shop, folder: str | Path, *, format: Literal["csv", "parquet"] = "csv") -> dict[str, Path]:
    """Write the shop's files into ``folder`` (created if needed) and return their paths.

    events, users and items are CSV (UTF-8 without BOM, a plain header line, ``,``, fields quoted
    only when needed, missing values as empty fields) or Parquet; ``truth.csv`` holds
    ``user_id, behaviour_type, behaviour_type_zh``; ``dirty.json`` the planted fault counts.
    Keys of the result: events, users, items, truth, dirty.
    """
    import pyarrow.parquet as pq

    if format not in ("csv", "parquet"):
        raise ValueError(f"format must be 'csv' or 'parquet', got {format!r}")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, frame in (("events", shop.events), ("users", shop.users), ("items", shop.items)):
        table = pa.Table.from_pandas(frame, preserve_index=False)
        paths[name] = out / f"{name}.{format}"
        if format == "csv":
            _write_csv(table, paths[name])
        else:
            pq.write_table(table, paths[name])
    paths["truth"] = out / "truth.csv"
    _write_csv(pa.Table.from_pandas(shop.truth, preserve_index=False), paths["truth"])
    paths["dirty"] = out / "dirty.json"
    paths["dirty"].write_text(json.dumps(shop.dirty, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return paths


def _write_csv(table: pa.Table, path: Path) -> None:
    """Arrow's CSV writer (fast at any size) under a header line written as is: Arrow would quote
    every column name."""
    import pyarrow.csv as pacsv

    with open(path, "wb") as f:
        f.write((",".join(table.column_names) + "\n").encode("utf-8"))
        pacsv.write_csv(table, f, write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed"))
