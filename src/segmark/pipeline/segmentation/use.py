"""Using a stored segmentation: why a user is where they are, placing new users with the stored
model (no refit), exporting members, and migration between two segmentations."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmark.core.segment import migration_matrix
from segmark.core.segment.claims import is_money
from segmark.core.segment.fitted import KINDS, Placed
from segmark.core.segment.migration import Migration
from segmark.core.segment.selection import json_value
from segmark.errors import InputError, NotFoundError, NotReadyError
from segmark.localtime import local_day
from segmark.pipeline.features import get_feature_run, load_features, user_features
from segmark.pipeline.segmentation.fit import require_columns
from segmark.pipeline.segmentation.persist import MEMBER_COLUMNS
from segmark.pipeline.segmentation.read import get_segmentation, load_segmentation, members, segments_table
from segmark.pipeline.segmentation.records import SEG_COLUMNS, Segmentation
from segmark.store.base import EXPORT_CAPABILITY, Capability, Store, require, utc_now
from segmark.workspace import Workspace


def explain_user(ws: Workspace, user_id: str, segmentation_id: int | None = None) -> dict[str, Any]:
    """Which segment a user is in and why: the RFM rule and scores, or the surrogate-tree rule the
    user's features satisfy and the distance to each segment's centre.

    Raises ``NotFoundError`` for a user who is not a member (place them first with ``assign_users``)."""
    store = ws.store
    seg = get_segmentation(store, segmentation_id)
    row = store.query_rows(
        "SELECT segment_id, r_score, f_score, m_score, source, feature_run_id FROM segment_members "
        "WHERE segmentation_id = ? AND user_id = ?", [seg.segmentation_id, user_id])
    if not row:
        raise NotFoundError(f"user {user_id!r} is not in segmentation {seg.segmentation_id}; "
                            "place new users with `segmark segments assign` (or assign_users)")
    segment_id, r, f, m, source, feature_run = row[0]
    table = segments_table(store, seg.segmentation_id)
    run, values = user_features(store, user_id, feature_run)
    placed = Placed(user_id, int(segment_id), {"r_score": r, "f_score": f, "m_score": m})
    kind = KINDS[seg.kind]
    fitted = kind.from_record(seg.params) or load_segmentation(ws, seg.segmentation_id)
    return {
        "user_id": user_id, "segmentation_id": seg.segmentation_id, "kind": seg.kind,
        "segment_id": int(segment_id), "name": table.loc[segment_id, "name"],
        "name_zh": table.loc[segment_id, "name_zh"], "placed_by": source, "feature_run_id": run.run_id,
        "as_of": run.as_of,
        # without prices money is unknown (None), not the 0 the build holds
        "features": {c: None if seg.metrics.get("revenue_known") is False and is_money(c) else values.get(c)
                     for c in seg.features},
        **fitted.explain(placed, values, table),
    }


def assign_users(ws: Workspace, segmentation_id: int | None = None, feature_run_id: int | None = None, *,
                 only_new: bool = False) -> dict[str, Any]:
    """Place the users of a feature build in an existing segmentation with its stored model (no
    refit): every user of the build, or with ``only_new`` those not yet members. A user placed
    again replaces their earlier placement. Returns counts: assigned, new, moved, unchanged."""
    store = ws.store
    require(store, Capability.DELETE, "place users again in a segmentation")
    started = utc_now()
    seg = get_segmentation(store, segmentation_id)
    run, table = load_features(store, feature_run_id)
    before = store.query_df("SELECT user_id, segment_id FROM segment_members WHERE segmentation_id = ?",
                            [seg.segmentation_id]).set_index("user_id")["segment_id"]
    if only_new:
        table = table[~table.index.isin(before.index)]
    fitted = load_segmentation(ws, seg.segmentation_id)
    require_columns(table, fitted.features, run)
    placed = fitted.assign(table)
    labels = placed["segment_id"].to_numpy(dtype=np.int64)
    users = table.index.astype(str)
    frame = placed.reset_index(drop=True).assign(
        segmentation_id=seg.segmentation_id, user_id=users, source="assign", feature_run_id=run.run_id)
    frame = frame[MEMBER_COLUMNS]
    previous = before.reindex(users)
    report = {"segmentation_id": seg.segmentation_id, "feature_run_id": run.run_id, "assigned": len(frame),
              "new": int(previous.isna().sum()),
              "moved": int(((previous.to_numpy() != labels) & previous.notna().to_numpy()).sum()),
              "by_segment": {int(k): int(v) for k, v in zip(*np.unique(labels, return_counts=True), strict=True)}}
    report["unchanged"] = report["assigned"] - report["new"] - report["moved"]
    run_id = store.next_run_id()
    params = {"segmentation_id": seg.segmentation_id, "feature_run_id": run.run_id, "only_new": only_new}
    try:
        with store.atomic():
            if len(frame):
                store.delete_keys("segment_members", frame[["user_id"]],
                                  where={"segmentation_id": seg.segmentation_id})
                store.insert("segment_members", frame)
            store.record_run(run_id, "segments assign", "ok", started_at=started, as_of=run.as_of,
                             params=params, metrics={k: v for k, v in report.items() if k != "by_segment"})
    except (Exception, KeyboardInterrupt) as exc:
        store.record_run(run_id, "segments assign", "failed", started_at=started, as_of=run.as_of,
                         params=params, message=str(exc) or type(exc).__name__)
        raise
    return report


EXPORT_FORMATS = {"csv": "csv", "parquet": "parquet", "pq": "parquet", "json": "json", "jsonl": "json"}


def export_segments(store: Store, out: Path | str, segmentation_id: int | None = None,
                    fmt: str | None = None) -> tuple[Segmentation, Path]:
    """Write every member with its segment to CSV, Parquet or JSON (format from the suffix unless
    ``fmt`` is given)."""
    seg = get_segmentation(store, segmentation_id)
    path = Path(out)
    fmt = EXPORT_FORMATS.get((fmt or path.suffix.lstrip(".")).lower())
    if fmt is None:
        raise InputError(f"cannot tell the export format from {path.name!r}: use .csv, .parquet or .json, "
                         "or fmt='csv'/'parquet'/'json'")
    require(store, EXPORT_CAPABILITY[fmt], f"export {fmt} files")
    path.parent.mkdir(parents=True, exist_ok=True)
    rfm = ", m.r_score, m.f_score, m.m_score" if "r_score" in _score_columns(seg) else ""
    store.export(
        f"SELECT m.user_id, m.segment_id, s.key AS segment_key, s.name AS segment_name, "
        f"s.name_zh AS segment_name_zh{rfm}, m.source FROM segment_members m JOIN segments s "
        f"ON s.segmentation_id = m.segmentation_id AND s.segment_id = m.segment_id "
        f"WHERE m.segmentation_id = ? ORDER BY m.user_id", path, fmt, [seg.segmentation_id])  # type: ignore[arg-type]
    return seg, path


def _score_columns(seg: Segmentation) -> tuple[str, ...]:
    """The per-user figures a kind of segmentation stores with its members (RFM's scores)."""
    return KINDS[seg.kind].score_columns


@dataclass
class MigrationReport:
    """Users and revenue moving between two segmentations; the matrices are keyed by segment key
    (stable across runs and languages), with ``(new)`` and ``(gone)`` for users at one date only."""

    before: Segmentation
    after: Segmentation
    migration: Migration
    names_before: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Segment key -> (English name, Chinese name) in the earlier segmentation."""
    names_after: dict[str, tuple[str, str]] = field(default_factory=dict)
    """The same for the later segmentation."""

    def name(self, key: str, lang: str = "en", *, later: bool = False) -> str:
        """A row (or, with ``later``, column) key's display name in ``lang``; (new) and (gone) as they are."""
        pair = (self.names_after if later else self.names_before).get(key)
        if pair is None:
            return key
        return (pair[1] or pair[0]) if lang == "zh" else pair[0]

    def to_dict(self) -> dict[str, Any]:
        def table(df: pd.DataFrame | None) -> dict[str, dict[str, float]] | None:
            if df is None:
                return None
            return {str(i): {str(c): json_value(v) for c, v in row.items()} for i, row in df.iterrows()}

        def names(pairs: dict[str, tuple[str, str]]) -> dict[str, dict[str, str]]:
            return {k: {"name": n, "name_zh": z} for k, (n, z) in pairs.items()}

        return {"from": self.before.to_dict(), "to": self.after.to_dict(),
                "users": table(self.migration.users), "revenue": table(self.migration.revenue),
                "stayed_share": json_value(self.migration.stayed_share),
                "names": {"from": names(self.names_before), "to": names(self.names_after)}}


def segment_migration(store: Store, from_id: int | None = None, to_id: int | None = None, *,
                      timezone: str = "UTC") -> MigrationReport:
    """Users and revenue moving between the segments of two segmentations.

    By default the pair is the latest segmentation (``to_id`` when given) and the latest one of the
    same kind made on a feature build with another as_of, ordered by as_of: the earlier date first,
    even when the later date's segmentation was made first (an earlier ``--as-of`` build after the
    current one). Two explicit ids are taken in the order given. Segments are matched by key (stable
    across runs, whatever their names in either language, renamed or not), so RFM schemes and
    clusterings with the same archetypes compare directly; the report carries both names of every
    key. Revenue is each user's net spend in the later build (in the earlier one for users who left);
    None when the data carry no prices.
    """
    after = get_segmentation(store, to_id)
    if from_id is None:
        rows = store.query_rows(
            f"SELECT {SEG_COLUMNS} FROM segmentations WHERE kind = ? AND as_of <> ? "
            "ORDER BY segmentation_id DESC LIMIT 1", [after.kind, after.as_of])
        if not rows:
            raise NotReadyError(f"no other {after.kind} segmentation at a different as_of than segmentation "
                                f"{after.segmentation_id} ({local_day(after.as_of, timezone)}): build features at "
                                "another date and segment again, or give two ids")
        before = Segmentation.from_row(rows[0])
        if before.as_of > after.as_of:  # the pair runs forward in time, whichever was made last
            before, after = after, before
    else:
        before = get_segmentation(store, from_id)
    m_before, m_after = members(store, before.segmentation_id), members(store, after.segmentation_id)
    revenue = _revenue(store, after.feature_run_id).reindex(m_after.index)
    gone = m_before.index.difference(m_after.index)
    if len(gone):
        revenue = pd.concat([revenue, _revenue(store, before.feature_run_id).reindex(gone)])
    t_before, t_after = segments_table(store, before.segmentation_id), segments_table(store, after.segmentation_id)
    names_before = {str(k): (str(n), str(z)) for k, n, z in zip(t_before["key"], t_before["name"],
                                                                t_before["name_zh"], strict=True)}
    names_after = {str(k): (str(n), str(z)) for k, n, z in zip(t_after["key"], t_after["name"], t_after["name_zh"],
                                                               strict=True)}
    order = list(dict.fromkeys([*names_before, *names_after]))
    if after.metrics.get("revenue_known") is False:  # no prices: revenue moved is unknown (null), not 0
        revenue = None
    result = migration_matrix(m_before["key"], m_after["key"], revenue=revenue, order=order)
    return MigrationReport(before, after, result, names_before, names_after)


def _revenue(store: Store, feature_run_id: int) -> pd.Series:
    run = get_feature_run(store, feature_run_id)
    df = store.query_df(f"SELECT user_id, monetary FROM {run.table_name}")
    return df.set_index("user_id")["monetary"].astype(float)
