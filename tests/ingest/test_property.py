"""Property: whatever rows a file holds, and however it is corrupted, ingestion accounts for every
row (read = accepted + quarantined + duplicates), every accepted value is what its line says, and
nothing else in the store changes. Rows are generated with Hypothesis: ids with quotes, commas,
emoji, SQL metacharacters and Chinese; times as unix seconds, ISO with and without offsets, and
garbage; prices as plain, grouped and locale-formatted numbers, NaN and text; then the file is
corrupted with an invalid byte, an unclosed quote or a repeated row."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmark.pipeline.ingest import ingest_file
from segmark.workspace import Workspace, init_workspace, open_workspace

BASE = datetime(2024, 3, 1, tzinfo=UTC)

ids = st.text(alphabet=st.sampled_from(list("abcXYZ019_-'\",;|%*()张三李四😀 ")), min_size=1, max_size=8)
good_id = ids.filter(lambda s: s.strip() == s and s.strip() != "" and s not in ("NULL", "None"))


@st.composite
def timestamp(draw: st.DrawFn) -> tuple[str, datetime | None]:
    seconds = draw(st.integers(0, 200 * 86400))
    when = BASE + timedelta(seconds=seconds)
    kind = draw(st.sampled_from(["unix", "iso_z", "offset", "offset_colon", "local", "garbage"]))
    if kind == "unix":
        return str(int(when.timestamp())), when
    if kind == "iso_z":
        return when.strftime("%Y-%m-%dT%H:%M:%SZ"), when
    if kind in ("offset", "offset_colon"):
        hours = draw(st.integers(-11, 13))
        local = when + timedelta(hours=hours)
        sign = "+" if hours >= 0 else "-"
        tail = f"{sign}{abs(hours):02d}" + (":00" if kind == "offset_colon" else "")
        return local.strftime("%Y-%m-%d %H:%M:%S") + tail, when
    if kind == "local":  # the workspace's zone is UTC
        return when.strftime("%Y-%m-%d %H:%M:%S"), when
    return draw(st.sampled_from(["yesterday", "2024-13-01 10:00:00", "2024-02-30 10:00:00", "soon"])), None


@st.composite
def price(draw: st.DrawFn) -> tuple[str, float | None, bool]:
    """(text, value, good)"""
    cents = draw(st.integers(0, 10_000_000))
    value = cents / 100
    kind = draw(st.sampled_from(["plain", "grouped", "yuan", "empty", "nan", "comma", "text"]))
    if kind == "plain":
        return f"{value:.2f}", value, True
    if kind == "grouped":
        return f"{value:,.2f}", value, True
    if kind == "yuan":
        return f"¥{value:,.2f}", value, True
    if kind == "empty":
        return "", None, True
    if kind == "nan":
        return draw(st.sampled_from(["NaN", "inf", "-Infinity"])), None, False
    if kind == "comma":
        return f"{cents // 100},{cents % 100:02d}", None, False
    return draw(st.sampled_from(["abc", "12元", "--5"])), None, False


@st.composite
def row(draw: st.DrawFn) -> tuple[list[str], tuple | None]:
    """The fields of a row and the canonical values it must be stored as (None: a bad row)."""
    uid = draw(st.one_of(good_id, st.sampled_from(["", " ", "\t", "NULL"])))
    etype, canonical = draw(st.sampled_from([("view", "view"), ("pv", "view"), ("buy", "purchase"),
                                             ("加购", "cart"), ("teleport", None)]))
    ts_text, ts = draw(timestamp())
    price_text, value, price_ok = draw(price())
    ok = uid.strip() not in ("", "NULL") and canonical is not None and ts is not None and price_ok
    expected = (uid, canonical, ts.replace(tzinfo=None), value) if ok and ts is not None else None
    return [uid, etype, ts_text, price_text], expected


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return init_workspace(tmp_path_factory.mktemp("property") / "ws")


@pytest.fixture
def fresh(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[callable]:
    def make() -> Workspace:
        return open_workspace(shutil.copytree(template, tmp_path_factory.mktemp("case") / "ws"))
    yield make


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row(), min_size=1, max_size=40),
       corruption=st.sampled_from(["none", "invalid_byte", "unclosed_quote_at_end", "repeat"]))
def test_every_row_is_accounted_for_and_stored_as_written(fresh, tmp_path_factory, rows, corruption) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["user_id", "event_type", "ts", "price"])
    for fields, _ in rows:
        writer.writerow(fields)
    expected = {line: exp for line, (_, exp) in enumerate(rows, start=2)}
    extra_bad = 0
    data = buf.getvalue().encode("utf-8")
    if corruption == "invalid_byte":
        data += b"u\xff,view,1709258400,1\n"
        extra_bad = 1
    elif corruption == "unclosed_quote_at_end":
        data += b'u9,view,1709258400,"12\n'
        extra_bad = 1
    elif corruption == "repeat" and rows:
        data += data.split(b"\n")[1] + b"\n"
        expected[len(rows) + 2] = rows[0][1]
    path = tmp_path_factory.mktemp("file") / "e.csv"
    path.write_bytes(data)

    ws = fresh()
    try:
        r = ingest_file(ws, "events", path)
        good = {exp for exp in expected.values() if exp is not None}
        n_bad = sum(1 for exp in expected.values() if exp is None) + extra_bad
        assert r.rows_read == len(expected) + extra_bad
        assert r.rows_read == r.accepted + r.quarantined + r.duplicates
        assert r.accepted == len(good)
        assert r.quarantined == n_bad
        if corruption == "invalid_byte":
            assert r.by_reason.get("invalid_encoding") == 1
        if corruption == "unclosed_quote_at_end":
            assert r.by_reason.get("unclosed_quote") == 1
        stored = ws.store.query_rows("SELECT line, user_id, event_type, ts, price FROM events")
        for line, *values in stored:
            assert tuple(values) == expected[line], line
        assert {tuple(v) for _, *v in stored} == good
        quarantined_lines = {ln for (ln,) in ws.store.query_rows("SELECT line FROM quarantine")}
        assert all(expected.get(ln) is None for ln in quarantined_lines)
        # nothing else changed
        assert ws.store.scalar("SELECT count(*) FROM users") == ws.store.scalar("SELECT count(*) FROM items") == 0
        assert ws.store.scalar("SELECT count(*) FROM sources") == 1
    finally:
        ws.close()
