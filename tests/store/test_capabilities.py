"""Steps read the engine's capabilities: an engine that lacks one gets ``UnsupportedError`` naming the
engine and the operation before the step writes anything, and a step with another way round (the
audience preview without temporary tables) takes it with the same result."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pandas as pd
import pytest

from segmark.config import Settings
from segmark.errors import UnsupportedError
from segmark.pipeline.audience import create_audience, preview_audience
from segmark.pipeline.clv import fit_clv
from segmark.pipeline.features import build_features
from segmark.pipeline.ingest import ingest_frame
from segmark.pipeline.predict import train_model
from segmark.pipeline.recommend import build_recommendations
from segmark.pipeline.segments import run_rfm
from segmark.store.base import Capability
from segmark.store.duckdb import DuckDBStore
from segmark.workspace import Workspace

# three buyers and a browser, every event a purchase or a view of one of two items
EVENTS = pd.DataFrame({
    "user_id": ["u1", "u1", "u2", "u2", "u3", "u4"],
    "event_type": ["purchase", "purchase", "purchase", "view", "purchase", "view"],
    "ts": ["2024-01-05 10:00", "2024-02-05 10:00", "2024-01-20 10:00", "2024-02-01 10:00",
           "2024-02-10 10:00", "2024-02-11 10:00"],
    "item_id": ["i1", "i2", "i1", "i2", "i2", "i1"],
    "price": [10.0, 20.0, 10.0, 20.0, 20.0, 10.0],
    "quantity": [1, 1, 1, 1, 1, 1],
    "amount": [10.0, 20.0, 10.0, 20.0, 20.0, 10.0],
    "order_id": ["o1", "o2", "o3", None, "o4", None],
})


def _workspace(lacking: set[Capability]) -> Workspace:
    class Lacking(DuckDBStore):
        capabilities = frozenset(Capability) - lacking

    settings = Settings()
    return Workspace(None, settings, Lacking(":memory:", settings.store), key=secrets.token_bytes(32))


@pytest.fixture
def full() -> Iterator[Workspace]:
    ws = _workspace(set())
    try:
        yield ws
    finally:
        ws.close()


def _runs(ws: Workspace) -> list[tuple]:
    return ws.store.query_rows("SELECT run_id, step, status FROM runs ORDER BY run_id")


def test_without_temporary_tables_ingestion_is_refused_and_writes_nothing() -> None:
    with _workspace({Capability.TEMP_TABLES}) as ws:
        with pytest.raises(UnsupportedError) as caught:
            ingest_frame(ws, "events", EVENTS)
        assert str(caught.value).startswith("the duckdb engine cannot stage events rows while ingesting "
                                            "(it lacks the 'temp_tables' capability)")
        assert ws.store.scalar("SELECT count(*) FROM events") == 0
        assert ws.store.scalar("SELECT count(*) FROM sources") == 0


@pytest.mark.parametrize(("step", "operation"), [
    (lambda ws: train_model(ws, "churn"), "store trained prediction models"),
    (lambda ws: fit_clv(ws), "store fitted lifetime-value models"),
    (lambda ws: build_recommendations(ws, method="popularity"), "store recommendation models"),
    (lambda ws: run_rfm(ws), "store fitted segment models"),
], ids=["predict", "clv", "recommend", "segments"])
def test_without_binary_columns_model_steps_are_refused_and_write_nothing(step, operation: str) -> None:
    with _workspace({Capability.BLOBS}) as ws:
        ingest_frame(ws, "events", EVENTS)
        build_features(ws, as_of="2024-03-01")
        before = _runs(ws)
        with pytest.raises(UnsupportedError, match=rf"^the duckdb engine cannot {operation} \(it lacks the "
                                                   r"'blobs' capability\)"):
            step(ws)
        assert _runs(ws) == before  # not even a failed run record: nothing was tried


def test_without_deletes_an_audience_is_made_but_not_replaced() -> None:
    with _workspace({Capability.DELETE}) as ws:
        ingest_frame(ws, "events", EVENTS)
        build_features(ws, as_of="2024-03-01")
        made = create_audience(ws, "buyers", "frequency >= 1")
        assert made.size == 3
        with pytest.raises(UnsupportedError, match=r"^the duckdb engine cannot replace an audience \(it lacks "
                                                   r"the 'delete' capability\)"):
            create_audience(ws, "buyers", "frequency >= 2", replace=True)
        kept = ws.store.query_rows("SELECT audience_id, size FROM audiences WHERE name = 'buyers'")
        assert kept == [(made.audience_id, 3)]
        assert ws.store.scalar("SELECT count(*) FROM audience_members") == 3


def test_the_audience_preview_without_temporary_tables_gives_the_same_figures(
        full: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    ingest_frame(full, "events", EVENTS)
    build_features(full, as_of="2024-03-01")
    where = "frequency >= 1"
    with full.store.tracing() as statements:
        with_temp = preview_audience(full, where, holdout=0.5)
    counted = "SELECT count(*) FROM (SELECT"  # the size counted from the selection run again
    assert not any(s.startswith(counted) for s in statements)
    # the same store declaring no temporary tables: the preview runs the selection again instead
    monkeypatch.setattr(full.store, "capabilities", frozenset(Capability) - {Capability.TEMP_TABLES})
    with full.store.tracing() as statements:
        without = preview_audience(full, where, holdout=0.5)
    assert any(s.startswith(counted) for s in statements)
    assert with_temp["size"] == 3  # u1, u2, u3 bought
    assert without == with_temp
