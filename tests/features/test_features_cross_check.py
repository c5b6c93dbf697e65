"""The catalog against two independent implementations of the same definitions, on a generated
shop of a few thousand users: the idiomatic pandas version and the hand-written DuckDB query of
``benchmarks/features.py``. Every value of every user must agree."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from segmark.pipeline.features import build_features, load_features
from segmark.workspace import open_workspace

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "features.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("features_benchmark", BENCHMARK)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _agree(ours: pd.DataFrame, theirs: pd.DataFrame) -> list[str]:
    problems = []
    assert list(theirs.index) == list(ours.index)
    for col in ours.columns:
        a, b = ours[col], theirs[col]
        if a.dtype.kind in "fi":
            ok = np.isclose(a.astype(float), pd.to_numeric(b).astype(float), rtol=1e-9, atol=1e-9, equal_nan=True)
        else:
            ok = ((a.isna() & b.isna()) | (a.astype(object) == b.astype(object))).to_numpy()
        if not ok.all():
            problems.append(f"{col}: {(~ok).sum()} users differ")
    return problems


@pytest.mark.parametrize("timezone", ["Asia/Shanghai", "Europe/London"])
def test_segmark_pandas_and_plain_sql_agree(bench: ModuleType, tmp_path: Path, timezone: str) -> None:
    root = tmp_path / "ws"
    as_of = bench.generate(root, n_events=30_000, n_users=3_000)
    with open_workspace(root) as ws:
        data = ws.settings.model_dump()
        ws.settings = ws.settings.model_validate({**data, "time": {"timezone": timezone}})
        _, ours = load_features(ws.store, build_features(ws, as_of=as_of.date()).run_id)
        con = ws.store.con
        utc = bench._local_as_of(as_of, timezone)[0]
        plain_sql = con.execute(bench.floor_sql(as_of, timezone, bench.top_categories(con, utc))).df()
        events = con.execute("SELECT user_id, event_type, ts, item_id, category, price, amount, order_id, "
                             "session_id FROM events").df()
        users = con.execute("SELECT user_id, signup_date, gender, birth_date, age, city, member_level "
                            "FROM users").df()
    plain_pandas = bench.pandas_features(events, users, as_of, timezone).sort_index()
    plain_sql = plain_sql.set_index("user_id").sort_index()

    assert len(ours) > 2_000
    assert _agree(ours, plain_sql) == []
    assert _agree(ours, plain_pandas) == []
