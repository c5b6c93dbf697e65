"""What a new user meets in their first hour, on a tiny shop made here: dates on the shop's clock
in every view and with their offset in JSON, and a status that reads like the run did."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from segmark.cli import app

runner = CliRunner()


def segmark(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def london_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 buyers in 2011, a workspace on London time (British Summer Time in September: UTC+1),
    features as of 2011-09-01 (local midnight, 2011-08-31 23:00 UTC) and an RFM segmentation."""
    base = tmp_path_factory.mktemp("london")
    rows = ["user_id,event_type,ts,item_id,price"]
    for u in range(40):
        for j in range(1 + u % 5):
            day = f"2011-0{1 + (u * j) % 8}-{10 + j:02d} 12:00:00"
            rows += [f"U{u},view,{day},I{j},", f"U{u},purchase,{day},I{j},{5 + u % 7}.5"]
    (base / "events.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    ws = base / "ws"
    for args in (("init", str(ws), "--timezone", "Europe/London"),
                 ("ingest", "events", str(base / "events.csv"), "-w", str(ws)),
                 ("features", "build", "--as-of", "2011-09-01", "-w", str(ws)),
                 ("segment", "rfm", "-w", str(ws))):
        out = segmark(*args)
        assert out.exit_code == 0, out.output
    return ws


def test_one_date_everywhere_and_offsets_in_json(london_shop: Path) -> None:
    w = ("-w", str(london_shop))
    assert "features as of 2011-09-01" in segmark("segments", "show", *w).stdout
    listed = segmark("segments", "list", *w).stdout
    assert "2011-09-01" in listed and "2011-08-31" not in listed
    status = segmark("status", *w).stdout
    assert "2011-09-01" in status and "2011-08-31" not in status
    # the events' own times on the shop's clock with its offset: the CSV's local 12:00 in winter
    # (GMT) and in August (BST), not 11:00 UTC
    assert "2011-01-10 12:00:00+00:00" in status and "2011-08-13 12:00:00+01:00" in status
    (seg,) = json.loads(segmark("segments", "list", "--json", *w).stdout)
    assert seg["as_of"] == "2011-09-01T00:00:00+01:00"  # the same instant as 2011-08-31 23:00 UTC
    (build,) = json.loads(segmark("features", "runs", "--json", *w).stdout)
    assert build["as_of"] == build["as_of_local"] == "2011-09-01T00:00:00+01:00"


def test_status_rounds_figures_and_a_refused_clustering_is_not_a_failure(london_shop: Path, tmp_path: Path) -> None:
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(london_shop, ws)
    (ws / "segmark.toml").write_text('[time]\ntimezone = "Europe/London"\n[segment]\nmin_silhouette_gain = 0.9\n',
                                     encoding="utf-8")
    refused = segmark("segment", "cluster", "-w", str(ws))
    assert refused.exit_code == 1 and "no real segments" in refused.output
    runs = json.loads(segmark("status", "--json", "-w", str(ws)).stdout)["runs"]
    assert [(r["step"], r["status"], r["outcome"]) for r in runs[:2]] == [
        ("segment cluster", "failed", "no_structure"), ("segment rfm", "ok", "ok")]
    table = segmark("status", "-w", str(ws)).stdout
    (line,) = [row for row in table.splitlines() if "segment cluster" in row]
    assert "ok: no real segments" in line and "failed" not in line
    rfm = next(row for row in table.splitlines() if "segment rfm" in row)
    assert "users 40, buyers 40" in rfm and "segments " in rfm


def test_run_figures_read_as_people_write_them() -> None:
    from segmark.cli.workspace_cmds import _figure

    assert [_figure(v) for v in (6.0, 0.41204475625806775, 1297.7730104416626, 0.09833333333333333, 3000)] == [
        "6", "0.412", "1,298", "0.0983", "3,000"]
    assert _figure(0.0357, "min_share") == "3.6%"  # a share of users, as the selection table prints it
    assert _figure(1.0, "min_share") == "100.0%"


def test_report_goes_into_the_workspace_with_an_ordinary_file_mode(london_shop: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(london_shop, ws)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    old = os.umask(0o022)
    try:
        out = segmark("report", "-w", str(ws))
        named = segmark("report", "--out", "mine.html", "-w", str(ws))
    finally:
        os.umask(old)
    assert out.exit_code == 0 and named.exit_code == 0, out.output + named.output
    assert (ws / "report.html").is_file() and not (elsewhere / "report.html").exists()
    assert str(ws / "report.html") in out.stdout.replace("\n", "")
    assert (elsewhere / "mine.html").is_file()  # a relative --out is the current folder's
    assert (ws / "report.html").stat().st_mode & 0o777 == 0o644  # 0666 less the umask, not 0600
    assert not list(ws.glob(".report.html.*"))  # no temporary file left behind


def test_brackets_in_user_facing_text_are_printed_not_eaten_as_markup(london_shop: Path, tmp_path: Path) -> None:
    import shutil

    from rich.console import Console

    from segmark.cli._common import say

    ws = tmp_path / "ws"
    shutil.copytree(london_shop, ws)
    (ws / "segmark.toml").write_text(
        '[time]\ntimezone = "Europe/London"\n[segment.names]\n'
        '"rfm:champions" = { en = "Champions [vip]", zh = "冠军 [vip]" }\n', encoding="utf-8")
    made = segmark("segment", "rfm", "-w", str(ws))
    assert made.exit_code == 0, made.output
    assert "Champions [vip]" in made.stdout
    assert "Champions [vip]" in segmark("segments", "show", "-w", str(ws)).stdout
    assert "冠军 [vip]" in segmark("segments", "show", "--lang", "zh", "-w", str(ws)).stdout
    # values from the data: a category with brackets in features show and segments why
    events = tmp_path / "cats[red].csv"  # a file name with brackets too
    events.write_text("user_id,event_type,ts,item_id,price,category\n"
                      "U1,purchase,2011-08-01 12:00:00,I9,5.5,Home [sale]\n"
                      "U2,purchase,2011-08-02 12:00:00,I8,6.5,[bold]Kitchen\n", encoding="utf-8")
    ingested = segmark("ingest", "events", str(events), "-w", str(ws))
    assert ingested.exit_code == 0 and "cats[red].csv" in ingested.stdout  # the summary table
    assert "cats[red].csv: 100%" in ingested.stderr  # the progress line
    assert segmark("features", "build", "--as-of", "2011-09-01", "-w", str(ws)).exit_code == 0
    assert "Home [sale]" in segmark("features", "show", "U1", "-w", str(ws)).stdout
    assert "[bold]Kitchen" in segmark("features", "show", "U2", "-w", str(ws)).stdout
    # a catalogue message keeps its own markup and prints the text filled in as it is
    console = Console(record=True, width=200)
    console.print(say("report.written", "en", path="/shops/[ts]/report.html", size=1.25))
    assert console.export_text().strip() == "report written to /shops/[ts]/report.html (1.2 MB)"


def test_a_misspelt_section_or_key_gets_the_nearest_valid_name(tmp_path: Path) -> None:
    from segmark.errors import ConfigError
    from segmark.ingest.mapping import load_mapping

    mapping = tmp_path / "shop.toml"
    mapping.write_text('[columns]\nuser_id = "uid"\n[event_type]\nclick = "view"\n[ts]\nformatt = "%Y"\n',
                       encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_mapping(mapping)
    text = str(caught.value)
    assert "event_type: unknown key, did you mean 'event_types'?" in text
    assert "ts.formatt: unknown key, did you mean 'format'?" in text
    assert "Extra inputs are not permitted" not in text
    ws = tmp_path / "ws"
    assert segmark("init", str(ws)).exit_code == 0
    (ws / "segmark.toml").write_text("[segmnt]\nk = 3\n[zzz]\nx = 1\n", encoding="utf-8")
    out = segmark("status", "-w", str(ws))
    assert out.exit_code == 1
    assert "segmnt: unknown key, did you mean 'segment'?" in out.output
    assert "zzz: unknown key (valid here: lang," in out.output  # nothing close: the valid names


def test_a_snapshots_text_reads_as_the_instant_or_date_it_holds() -> None:
    """A busy workspace's status is read from a snapshot, where instants were written as ISO text:
    the text reads back on the shop's clock like the instant itself, and a bare date stays that date
    (London is UTC+1 in September, UTC-5 is New York in winter)."""
    from segmark.localtime import local_day, local_time

    assert local_day("2011-08-31T23:00:00", "Europe/London") == "2011-09-01"
    assert local_day("2011-09-01", "America/New_York") == "2011-09-01"
    assert local_time("2011-08-31 23:00:00", "Europe/London") == "2011-09-01 00:00+01:00"
    assert local_time("2011-12-01T03:30:00", "America/New_York", seconds=True) == "2011-11-30 22:30:00-05:00"
