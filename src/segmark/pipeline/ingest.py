"""Ingestion: files in, canonical rows in the store, every row accounted for.

For each file: sniff it, check the mapping finds the required columns (before anything is
written), then stream chunks through the validating SQL of ``ingest.transform``. Good rows collect
in a staging table, bad ones go to ``quarantine`` with file, line, column and reason. At the end of
the file the staged rows are de-duplicated (within the file and against the store) and appended.
The whole command is one transaction: an error or Ctrl-C leaves the store as it was.

Invariant, per file and in total: rows read = accepted + quarantined + duplicates.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from segmark.errors import ConfigError, InputError, StoreError
from segmark.ingest.frames import FrameSource, to_arrow
from segmark.ingest.frames import content_hash as frame_hash
from segmark.ingest.mapping import Format, Mapping, check_mapping, load_mapping
from segmark.ingest.readers import Chunk, Reject, Source, expand_paths, guess_format, open_source, prefetch
from segmark.ingest.transform import (
    JSON_BAD_SQL,
    JSON_KEYS_SQL,
    Context,
    json_columns_sql,
    plan_sql,
    resolve_columns,
)
from segmark.schema import EVENTS, TABLES, TableSpec
from segmark.store.duckdb import DuckDBStore, utc_now
from segmark.workspace import Workspace

Progress = Callable[[str, int, int], None]
"""Called as progress(file name, done, total) while a file streams through."""


@dataclass
class FileReport:
    """What happened to one file."""

    path: str
    source_id: int
    format: str
    encoding: str | None
    delimiter: str | None
    header: bool | None
    rows_read: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)


@dataclass
class IngestReport:
    """The result of one ``segmark ingest`` command."""

    table: str
    mapping: str
    run_id: int
    files: list[FileReport]

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def accepted(self) -> int:
        return sum(f.accepted for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    @property
    def duplicates(self) -> int:
        return sum(f.duplicates for f in self.files)

    @property
    def by_reason(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.by_reason)
        return dict(total.most_common())

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table, "mapping": self.mapping, "run_id": self.run_id,
            "rows_read": self.rows_read, "accepted": self.accepted, "quarantined": self.quarantined,
            "duplicates": self.duplicates, "quarantined_by_reason": self.by_reason,
            "files": [asdict(f) for f in self.files],
        }


def fingerprint(path: Path, *, check_utf8: bool = False) -> tuple[str, bool]:
    """(content hash, whether the whole file is valid UTF-8) in one pass over the bytes.

    Sniffing sees only the head of a file; a GBK export whose first Chinese text comes late must
    still be read as GB18030, not fail halfway.
    """
    h = hashlib.blake2b(digest_size=16)
    decoder = codecs.getincrementaldecoder("utf-8")() if check_utf8 else None
    utf8 = True
    with path.open("rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
            if decoder is not None and utf8:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    utf8 = False
    if decoder is not None and utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return h.hexdigest(), utf8


def ingest_file(ws: Workspace, table: str, path: str | Path, *, mapping: str | Path | Mapping | None = None,
                fmt: Format | None = None, progress: Progress | None = None,
                now: datetime | None = None) -> IngestReport:
    """Ingest a file, a folder or a glob into ``table`` (events, users or items).

    ``mapping`` is a preset name, a TOML path, a ``Mapping`` or None (canonical column names).
    ``now`` is the ingestion time used only for the "not in the future" check.
    """
    spec, m = _prepare(ws, table, mapping)
    if fmt:
        m = m.model_copy(update={"read": m.read.model_copy(update={"format": fmt})})
    chunk_bytes = ws.settings.ingest.chunk_mb << 20
    paths = expand_paths(path)
    expected = tuple(c for name in spec.names for c in m.candidates(name))
    text_auto = m.read.encoding == "auto"
    prints = [fingerprint(p, check_utf8=text_auto and (m.read.format or guess_format(p)) != "parquet")
              for p in paths]
    sources = [open_source(p, m.read, chunk_bytes=chunk_bytes, expected=expected, utf8=utf8)
               for p, (_, utf8) in zip(paths, prints, strict=True)]
    hashes = [digest for digest, _ in prints]
    params = {"table": table, "mapping": m.name, "paths": [str(p) for p in paths]}
    return _ingest(ws, spec, m, sources, hashes, params, progress, now)


def ingest_frame(ws: Workspace, table: str, frame: Any, mapping: str | Path | Mapping | None = None, *,
                 name: str | None = None, progress: Progress | None = None,
                 now: datetime | None = None) -> IngestReport:
    """Ingest an in-memory frame (pandas, polars or Arrow) into ``table`` (events, users or items).

    The frame goes through the same mapping, validation, quarantine, de-duplication and accounting
    as a file; a quarantined row's line is its row number (1 = the first row). ``name`` labels the
    source in the store and in messages (default: the kind of frame, e.g. ``pandas DataFrame``).
    """
    spec, m = _prepare(ws, table, mapping)
    arrow, kind = to_arrow(frame)
    label = name or kind
    source = FrameSource(label, arrow)
    params = {"table": table, "mapping": m.name, "frame": label, "rows": arrow.num_rows}
    return _ingest(ws, spec, m, [source], [frame_hash(arrow)], params, progress, now)


def _prepare(ws: Workspace, table: str, mapping: str | Path | Mapping | None) -> tuple[TableSpec, Mapping]:
    spec = TABLES.get(table)
    if spec is None:
        raise ConfigError(f"unknown table {table!r}; choose one of {', '.join(TABLES)}")
    m = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    check_mapping(spec, m)
    return spec, m


def _ingest(ws: Workspace, spec: TableSpec, m: Mapping, sources: list[Any], hashes: list[str],
            params: dict[str, Any], progress: Progress | None, now: datetime | None) -> IngestReport:
    """Every source of one command in one transaction; the report of what happened to each."""
    settings = ws.settings
    resolved = [resolve_columns(spec, m, s.columns, s.label) for s in sources]
    now = now or utc_now()
    try:
        min_ts = datetime.fromisoformat(settings.ingest.min_ts)
    except ValueError:
        raise ConfigError(f"ingest.min_ts: {settings.ingest.min_ts!r} is not a date") from None
    max_ts = now + timedelta(days=settings.ingest.max_future_days)

    store = ws.store
    started = utc_now()
    run_id = store.next_run_id()
    reports: list[FileReport] = []
    try:
        with store.transaction():
            for src, found, digest in zip(sources, resolved, hashes, strict=True):
                ctx = Context(settings.time.timezone, min_ts, max_ts, digest)
                reports.append(_ingest_one(store, spec, m, src, found, ctx, run_id, progress, now))
            report = IngestReport(spec.name, m.name, run_id, reports)
            store.record_run(run_id, "ingest", "ok", started_at=started, params=params,
                             metrics={k: v for k, v in report.to_dict().items() if k != "files"})
    except duckdb.Error as exc:
        if isinstance(exc, duckdb.InterruptException) or "KeyboardInterrupt" in str(exc):
            # Ctrl-C while DuckDB was reading a chunk reaches us wrapped in a DuckDB error
            raise KeyboardInterrupt from None
        _record_failure(store, run_id, started, params, str(exc))
        raise StoreError(f"ingestion failed, nothing was written: {exc}") from None
    except InputError as exc:
        _record_failure(store, run_id, started, params, str(exc))
        raise
    return report


def _record_failure(store: DuckDBStore, run_id: int, started: datetime, params: dict[str, Any],
                    message: str) -> None:
    with store.transaction():
        store.record_run(run_id, "ingest", "failed", started_at=started, params=params, message=message)


def _ingest_one(store: DuckDBStore, spec: TableSpec, m: Mapping, src: Source | FrameSource, found: dict[str, str],
                ctx: Context, run_id: int, progress: Progress | None, now: datetime) -> FileReport:
    con = store.con
    source_id = int(store.scalar("SELECT nextval('source_id_seq')"))
    report = FileReport(src.label, source_id, src.format, src.encoding, src.delimiter, src.header)
    mapping_hash = m.fingerprint()
    before = store.query_rows(
        "SELECT rows_read FROM sources WHERE table_name = ? AND content_hash = ? AND mapping_hash = ? LIMIT 1",
        [spec.name, ctx.content_hash, mapping_hash])
    if before:
        # The same content through the same mapping was ingested already: every row is a duplicate.
        # (Re-reading would be slower and, for users and items, would bring back older values.)
        report.rows_read = report.duplicates = int(before[0][0])
        _record_source(con, source_id, run_id, spec, src, ctx, m, report, now)
        if progress:
            progress(src.name, src.total, src.total)
        return report
    used = set(found.values())
    if spec is EVENTS:
        report.ignored_columns = [c for c in src.columns if c not in used]
    _create_staging(con, spec)
    reasons: Counter[str] = Counter()
    staged = rejected = 0
    name = src.name
    for chunk in prefetch(src.chunks()):
        report.rows_read += len(chunk.lines) + len(chunk.rejects)
        rejected += len(chunk.rejects)
        if chunk.rejects:
            reasons.update(_quarantine_rejects(con, spec, ctx, source_id, src.label, chunk.rejects))
        if len(chunk.lines):
            n, json_rejects = _process_chunk(con, spec, m, src, found, ctx, chunk)
            staged += n
            if json_rejects:
                rejected += len(json_rejects)
                reasons.update(_quarantine_rejects(con, spec, ctx, source_id, src.label, json_rejects))
        if progress:
            progress(name, chunk.done, src.total)
    invalid, new_reasons = _quarantine_staged(con, spec, ctx, source_id, src.label)
    reasons.update(new_reasons)
    good = staged - invalid
    bad = rejected + invalid
    report.accepted = _publish(con, spec, source_id)
    report.quarantined = sum(reasons.values())
    # Duplicates: good rows already stored (or repeated in the file), and bad rows already
    # quarantined by an earlier ingestion of the same content.
    report.duplicates = (good - report.accepted) + (bad - report.quarantined)
    report.by_reason = dict(reasons.most_common())
    if good + bad != report.rows_read:
        raise StoreError(f"{src.label}: {report.rows_read} rows read but {good} good and {bad} bad; "
                         "nothing was written")
    _record_source(con, source_id, run_id, spec, src, ctx, m, report, now)
    return report


def _record_source(con: duckdb.DuckDBPyConnection, source_id: int, run_id: int, spec: TableSpec,
                   src: Source | FrameSource, ctx: Context, m: Mapping, report: FileReport, now: datetime) -> None:
    con.execute(
        "INSERT INTO sources (source_id, run_id, table_name, path, content_hash, mapping, rows_read, accepted, "
        "quarantined, duplicates, ingested_at, mapping_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [source_id, run_id, spec.name, src.label, ctx.content_hash, m.name, report.rows_read,
         report.accepted, report.quarantined, report.duplicates, now, m.fingerprint()],
    )


_SQL_TYPES = {"id": "VARCHAR", "text": "VARCHAR", "event_type": "VARCHAR", "timestamp": "TIMESTAMP",
              "date": "DATE", "number": "DOUBLE", "integer": "DOUBLE"}


def _create_staging(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> None:
    """The file's rows after validation, good and bad, until the file is complete."""
    cols = [f"{c.name} {_SQL_TYPES[c.kind]}" for c in spec.columns]
    if spec is EVENTS:
        cols.append("_key UHUGEINT")
    else:
        cols += ["attributes JSON", "_hash UBIGINT"]
    cols += ["_line BIGINT", "_reason VARCHAR", "_column VARCHAR", "_value VARCHAR", "_raw VARCHAR"]
    con.execute(f"CREATE OR REPLACE TEMP TABLE _staged ({', '.join(cols)})")


def _process_chunk(con: duckdb.DuckDBPyConnection, spec: TableSpec, m: Mapping, src: Source | FrameSource,
                   found: dict[str, str], ctx: Context, chunk: Chunk) -> tuple[int, list[Reject]]:
    """Validate and convert one chunk into staging (good and bad rows alike).

    Returns the rows staged and, for JSON lines, the lines that are not JSON objects."""
    table = chunk.table.append_column("_line", pa.array(chunk.lines, pa.int64()))
    rejects: list[Reject] = []
    try:
        if src.format == "jsonl":
            # one text column per key of this chunk, extracted by DuckDB (keys may differ by chunk)
            con.register("_json_chunk", table)
            rejects = [Reject(int(line), text, detail="not a JSON object")
                       for line, text in con.execute(JSON_BAD_SQL).fetchall()]
            keys = sorted(k for (k,) in con.execute(JSON_KEYS_SQL).fetchall())
            con.execute(f"CREATE OR REPLACE TEMP TABLE _chunk AS {json_columns_sql(keys)}")
            types: dict[str, pa.DataType] = {"_line": pa.int64(), **dict.fromkeys(keys, pa.string())}
            found = resolve_columns(spec, m, keys, src.label, require=False)
        else:
            con.register("_chunk", table)
            types = {f.name: f.type for f in table.schema}
        present = {k: v for k, v in found.items() if v in types}
        sql = plan_sql(spec, m, present, types, ctx)
        try:
            row = con.execute(f"INSERT INTO _staged {sql}").fetchone()
        except duckdb.Error as exc:
            if m.expressions:
                raise ConfigError(f"mapping {m.name}: an [expressions] entry failed on {src.label}: {exc}") from None
            raise
    finally:
        with contextlib.suppress(duckdb.Error):  # fails only when the transaction is already lost
            con.unregister("_json_chunk" if src.format == "jsonl" else "_chunk")
    return (int(row[0]) if row else 0), rejects


def _quarantine_staged(con: duckdb.DuckDBPyConnection, spec: TableSpec, ctx: Context, source_id: int,
                       path: str) -> tuple[int, Counter[str]]:
    """Move the file's bad rows to quarantine (unless this content was quarantined before).

    Returns (bad rows in the file, newly quarantined rows by reason)."""
    row = con.execute("SELECT count(*) FROM _staged WHERE _reason IS NOT NULL").fetchone()
    bad = int(row[0]) if row else 0
    if not bad:
        return 0, Counter()
    con.execute(
        """INSERT INTO quarantine
        SELECT ?, ?, ?, ?, _line, _column, _reason, _value, _raw FROM _staged s
        WHERE _reason IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM quarantine q WHERE q.content_hash = ? AND q.table_name = ? AND q.line = s._line)""",
        [source_id, spec.name, path, ctx.content_hash, ctx.content_hash, spec.name],
    )
    reasons = Counter(dict(con.execute(
        "SELECT reason, count(*) FROM quarantine WHERE source_id = ? AND reason <> 'malformed_row' GROUP BY 1",
        [source_id]).fetchall()))
    return bad, reasons


def _quarantine_rejects(con: duckdb.DuckDBPyConnection, spec: TableSpec, ctx: Context, source_id: int,
                        path: str, rejects: list[Reject]) -> Counter[str]:
    """Rows the reader could not split go to quarantine as they were read."""
    seen = {int(r[0]) for r in con.execute(
        "SELECT line FROM quarantine WHERE content_hash = ? AND table_name = ? AND line IN "
        "(SELECT unnest(?::BIGINT[]))", [ctx.content_hash, spec.name, [r.line for r in rejects]]).fetchall()}
    rows = [(source_id, spec.name, path, ctx.content_hash, r.line, None, r.reason,
             r.detail, r.text) for r in rejects if r.line not in seen]
    if rows:
        con.executemany("INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return Counter(r[6] for r in rows)


def _publish(con: duckdb.DuckDBPyConnection, spec: TableSpec, source_id: int) -> int:
    """Append the staged rows that are new; returns how many were written."""
    if spec is EVENTS:
        cols = [c.name for c in spec.columns]
        bounds = con.execute(
            "SELECT min(ts), max(ts), count(event_id) FROM _staged WHERE _reason IS NULL").fetchone()
        if bounds is None or bounds[0] is None:
            return 0
        has_event_id = bool(bounds[2])  # the source's own ids are the identity, whatever their column's name
        # Keys cover the timestamp unless the source has its own event ids, so only the stored
        # events in the staged time range can collide: zone maps make that scan cheap.
        existing = "SELECT event_key FROM events" + (
            "" if has_event_id else " WHERE ts BETWEEN ? AND ?")
        params = [] if has_event_id else [bounds[0], bounds[1]]
        row = con.execute(
            f"""INSERT INTO events
            SELECT _key, {', '.join(cols)}, {source_id}, _line FROM (
                SELECT * FROM _staged WHERE _reason IS NULL
                QUALIFY row_number() OVER (PARTITION BY _key ORDER BY _line) = 1
            ) s
            WHERE NOT EXISTS (SELECT 1 FROM ({existing}) e WHERE e.event_key = s._key)""",
            params,
        ).fetchone()
        return int(row[0]) if row else 0
    key = spec.key
    cols = [c.name for c in spec.columns]
    row = con.execute(
        f"""INSERT OR REPLACE INTO {spec.name}
        SELECT {', '.join(cols)}, attributes, _hash, {source_id}, _line FROM (
            SELECT * FROM _staged WHERE _reason IS NULL
            QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY _line DESC) = 1
        ) s
        WHERE NOT EXISTS (SELECT 1 FROM {spec.name} t WHERE t.{key} = s.{key} AND t.row_hash = s._hash)"""
    ).fetchone()
    return int(row[0]) if row else 0


