"""Every input layout the issue names lands on the same canonical rows."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmark.pipeline.ingest import ingest_file
from segmark.workspace import Workspace

ROWS = [
    ("u1", "view", "2024-03-01 10:00:00", "i1", "服装", "199.0"),
    ("u1", "purchase", "2024-03-01 10:05:00", "i1", "服装", "199.0"),
    ("张三", "cart", "2024-03-02 21:30:00", "i2", "美妆", "59.9"),
]
# 2024-03-01 10:00 in Asia/Shanghai (UTC+8) is 02:00 UTC
EXPECTED = [
    ("u1", "view", datetime(2024, 3, 1, 2, 0), "i1", "服装", 199.0),
    ("u1", "purchase", datetime(2024, 3, 1, 2, 5), "i1", "服装", 199.0),
    ("张三", "cart", datetime(2024, 3, 2, 13, 30), "i2", "美妆", 59.9),
]
HEADER = ("user_id", "event_type", "ts", "item_id", "category", "price")


def stored(ws: Workspace) -> list[tuple]:
    return ws.store.query_rows(
        "SELECT user_id, event_type, ts, item_id, category, price FROM events ORDER BY ts")


@pytest.fixture
def shanghai(ws: Workspace) -> Workspace:
    (ws.root / "segmark.toml").write_text('[time]\ntimezone = "Asia/Shanghai"\n', encoding="utf-8")
    from segmark.workspace import open_workspace

    ws.close()
    return open_workspace(ws.root)


def write_delimited(path: Path, delimiter: str, *, header: bool = True, encoding: str = "utf-8",
                    bom: bool = False) -> Path:
    lines = ([delimiter.join(HEADER)] if header else []) + [delimiter.join(r) for r in ROWS]
    data = ("\n".join(lines) + "\n").encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters_are_sniffed(shanghai: Workspace, tmp_path: Path, delimiter: str) -> None:
    path = write_delimited(tmp_path / "e.csv", delimiter)
    report = ingest_file(shanghai, "events", path)
    assert report.files[0].delimiter == delimiter
    assert stored(shanghai) == EXPECTED


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_chinese_encodings_are_detected(shanghai: Workspace, tmp_path: Path, encoding: str) -> None:
    path = write_delimited(tmp_path / "e.csv", ",", encoding=encoding)
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # the file really is not UTF-8
    report = ingest_file(shanghai, "events", path)
    assert report.files[0].encoding == "gb18030"  # GB18030 is a superset of GBK
    assert stored(shanghai) == EXPECTED


def test_utf8_with_bom(shanghai: Workspace, tmp_path: Path) -> None:
    ingest_file(shanghai, "events", write_delimited(tmp_path / "e.csv", ",", bom=True))
    assert stored(shanghai) == EXPECTED


def test_headerless_file_with_names_in_mapping(shanghai: Workspace, tmp_path: Path) -> None:
    path = write_delimited(tmp_path / "e.csv", ",", header=False)
    mapping = tmp_path / "m.toml"
    mapping.write_text('[read]\nheader = false\nnames = ["who", "what", "when", "item_id", "category", "price"]\n'
                       '[columns]\nuser_id = "who"\nevent_type = "what"\nts = "when"\n', encoding="utf-8")
    report = ingest_file(shanghai, "events", path, mapping=mapping)
    assert report.files[0].header is False
    assert stored(shanghai) == EXPECTED
    assert shanghai.store.scalar("SELECT min(line) FROM events") == 1  # no header: data from line 1


def test_whitespace_separated_columns(shanghai: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "e.txt"
    path.write_text(" user_id   event_type  ts           item_id category price\n"
                    "   u1      view        1709258400   i1      服装     199.0\n"
                    "   u1      purchase    1709258700   i1      服装     199.0\n"
                    "   张三    cart        1709386200   i2      美妆     59.9\n", encoding="utf-8")
    report = ingest_file(shanghai, "events", path)
    assert report.files[0].delimiter == "whitespace"
    assert stored(shanghai) == EXPECTED


def test_json_lines(shanghai: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text("\n".join(json.dumps(dict(zip(HEADER, r, strict=True)), ensure_ascii=False) for r in ROWS)
                    + "\n", encoding="utf-8")
    ingest_file(shanghai, "events", path)
    assert stored(shanghai) == EXPECTED


def test_parquet_with_typed_columns(shanghai: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "e.parquet"
    pq.write_table(pa.table({
        "user_id": [r[0] for r in ROWS], "event_type": [r[1] for r in ROWS],
        "ts": pa.array([datetime.fromisoformat(r[2]) for r in ROWS], pa.timestamp("ms")),
        "item_id": [r[3] for r in ROWS], "category": [r[4] for r in ROWS],
        "price": [float(r[5]) for r in ROWS],
    }), path)
    report = ingest_file(shanghai, "events", path)
    assert report.files[0].format == "parquet"
    assert stored(shanghai) == EXPECTED


def test_folder_and_glob(shanghai: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    for i, row in enumerate(ROWS):
        (folder / f"part{i}.csv").write_text(",".join(HEADER) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    report = ingest_file(shanghai, "events", folder)
    assert len(report.files) == 3 and report.accepted == 3
    assert stored(shanghai) == EXPECTED
    again = ingest_file(shanghai, "events", str(folder / "part*.csv"))
    assert (again.rows_read, again.accepted, again.duplicates) == (3, 0, 3)


def test_unix_milliseconds_and_formats(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("user_id,event_type,ts\nu1,view,1709258400000\nu2,view,1709258400\n"
                    "u3,view,2024-03-01T02:00:00Z\nu4,view,2024-03-01 10:00:00+08:00\n", encoding="utf-8")
    ingest_file(ws, "events", path)
    assert {r[0] for r in ws.store.query_rows("SELECT ts FROM events")} == {datetime(2024, 3, 1, 2, 0)}
    fmt = tmp_path / "f.csv"
    fmt.write_text("uid,type,day\nu9,buy,20240301\n", encoding="utf-8")
    mapping = tmp_path / "m.toml"
    mapping.write_text('[columns]\nuser_id = "uid"\nevent_type = "type"\nts = "day"\n'
                       '[ts]\nformat = "%Y%m%d"\ntimezone = "Asia/Shanghai"\n', encoding="utf-8")
    ingest_file(ws, "events", fmt, mapping=mapping)
    # local midnight in Shanghai is 16:00 UTC the day before; "buy" is a purchase by default
    assert ws.store.query_rows("SELECT event_type, ts FROM events WHERE user_id = 'u9'") == [
        ("purchase", datetime(2024, 2, 29, 16, 0))]
