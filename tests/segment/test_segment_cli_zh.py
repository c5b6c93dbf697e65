"""--lang zh is complete: every command's output on a real workspace is in Chinese, with no English
sentence, heading or label of the catalogue left (data values such as ids, method and feature names
stay as they are)."""

from __future__ import annotations

import json
import re
import shutil
import string
from pathlib import Path

from typer.testing import CliRunner

from segmark.cli import app
from segmark.text import catalogue

runner = CliRunner()
CJK = re.compile(r"[\u4e00-\u9fff]")


def english_fragments() -> set[str]:
    """The fixed English parts of every CLI, segment and selection message (at least two words)."""
    out: set[str] = set()
    for key, (en, _) in catalogue().items():
        if key.split(".")[0] not in ("cli", "segment", "selection"):
            continue
        for literal, *_ in string.Formatter().parse(en):
            text = re.sub(r"\[/?[a-z ]*\]", "", literal).strip(" ,;:()—-.\\")
            if len(text) >= 10 and " " in text and re.search(r"[a-z]{3}", text):
                out.add(text)
    return out


def test_every_command_speaks_chinese(shop_template: Path, tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(shop_template, root)
    settings = root / "segmark.toml"
    text = settings.read_text(encoding="utf-8")
    assert re.search(r'^lang = "en"', text, re.M)
    settings.write_text(re.sub(r'^lang = "en"', 'lang = "zh"', text, count=1, flags=re.M), encoding="utf-8")
    w = ("-w", str(root))

    def segmark(*args: str, page: bool = False) -> str:
        """The command in Chinese: by --lang zh, or (for the report, whose --lang is the page's) by the
        workspace's own lang."""
        result = runner.invoke(app, [*args, *(() if page else ("--lang", "zh")), *w], env={"COLUMNS": "240"})
        assert result.exit_code == 0, result.output
        return result.stdout

    early, late = sorted(r["run_id"] for r in json.loads(segmark("features", "runs", "--json")))
    outputs = {
        "segment rfm": segmark("segment", "rfm", "--features-run", str(early)),
        "segment rfm later": segmark("segment", "rfm", "--features-run", str(late)),
        "segments migration": segmark("segments", "migration"),
        "segment cluster": segmark("segment", "cluster", "--method", "kmeans", "--k", "4"),
        "segments list": segmark("segments", "list"),
        "segments show": segmark("segments", "show"),
        "segments assign": segmark("segments", "assign"),
        "segments export": segmark("segments", "export", "--out", str(tmp_path / "s.csv")),
        "features runs": segmark("features", "runs"),
        "features describe": segmark("features", "describe", "--family", "rfm"),
        "status": segmark("status"),
        "report": segmark("report", "--out", str(tmp_path / "r.html"), page=True),
    }
    user = next(line.split(",")[0] for line in (tmp_path / "s.csv").read_text(encoding="utf-8").splitlines()[1:])
    outputs["segments why"] = segmark("segments", "why", user)
    outputs["features show"] = segmark("features", "show", user)
    fragments = english_fragments()
    assert len(fragments) > 40
    # the check sees English where there is some: the same commands in English are full of it
    for args in (("segments", "show"), ("segments", "why", user), ("status",)):
        english = " ".join(runner.invoke(app, [*args, "--lang", "en", *w], env={"COLUMNS": "240"}).stdout.split())
        assert len([f for f in fragments if f in english]) >= 2, args
    for command, text in outputs.items():
        assert CJK.search(text), command
        flat = " ".join(text.split())
        left = sorted(f for f in fragments if f in flat)
        assert not left, f"{command}: English left in the Chinese output: {left}\n{text}"
    # the kinds by their names, not as stored ("cluster", "rfm")
    listing = outputs["segments list"]
    assert "聚类分群" in listing and "RFM 分群" in listing and "cluster" not in listing
    # status names its tables, steps, outcomes and figures in Chinese too
    status = outputs["status"]
    for shown in ("隔离行", "数据来源", "聚类分群", "完成", "轮廓系数", "读取行数"):
        assert shown in status, shown
    assert not re.search(r"│ (ok|ingest|segment cluster|quarantine|sources) ", status)
