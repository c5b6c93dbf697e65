"""The malformed-input corpus: every kind of bad input a sweep found, one small file each, with the
outcome it must have (``corpus/cases.json``, written by hand in ``corpus/make_corpus.py``): the
counts and quarantine reasons, or the error that names the file. Every case also checks the
accounting (read = accepted + quarantined + duplicates) and that an error leaves the store empty."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from segmark import errors
from segmark.pipeline.ingest import ingest_file
from segmark.workspace import Workspace, init_workspace, open_workspace

CORPUS = Path(__file__).parent / "corpus"
CASES = json.loads((CORPUS / "cases.json").read_text(encoding="utf-8"))


def test_the_corpus_covers_at_least_80_kinds() -> None:
    assert len({c["name"] for c in CASES}) == len(CASES) >= 80


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated empty workspace, copied for each case (migrating 100 times would be slow)."""
    return init_workspace(tmp_path_factory.mktemp("corpus") / "ws")


@pytest.fixture
def ws(template: Path, tmp_path: Path) -> Iterator[Workspace]:
    root = shutil.copytree(template, tmp_path / "ws")
    with open_workspace(root) as w:
        yield w


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_corpus_case(ws: Workspace, tmp_path: Path, case: dict) -> None:
    # a copy, so the file's path in messages is this test's and the corpus is never written to
    path = tmp_path / Path(case["file"]).name
    shutil.copy(CORPUS / case["file"], path)
    mapping = None
    if "mapping" in case:
        mapping = tmp_path / "mapping.toml"
        mapping.write_text(case["mapping"], encoding="utf-8")
    if "error" in case:
        with pytest.raises(getattr(errors, case["error"]), match=case["match"]):
            ingest_file(ws, case["table"], path, mapping=mapping)
        assert ws.store.scalar(f"SELECT count(*) FROM {case['table']}") == 0
        assert ws.store.scalar("SELECT count(*) FROM quarantine") == 0
        return
    r = ingest_file(ws, case["table"], path, mapping=mapping)
    assert (r.rows_read, r.accepted, r.duplicates, r.by_reason) == (
        case["read"], case["accepted"], case["duplicates"], case["reasons"])
    assert r.rows_read == r.accepted + r.quarantined + r.duplicates
    assert ws.store.scalar(f"SELECT count(*) FROM {case['table']}") == case["accepted"]
    assert ws.store.scalar("SELECT count(*) FROM quarantine") == sum(case["reasons"].values())
