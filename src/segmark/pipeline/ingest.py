"""Ingestion: files in, canonical rows in the store, every row accounted for.

For each file: sniff it, check the mapping finds the required columns (before anything is
written), then stream chunks through the validating SQL of ``ingest.transform``. Good rows collect
in a staging table, bad ones go to ``quarantine`` with file, line, column and reason. At the end of
the file the staged rows are de-duplicated (within the file and against the store) and appended.
The whole command is one transaction: an error or Ctrl-C leaves the store as it was.

Invariant, per file and in total: rows read = accepted + quarantined + duplicates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from segmark.errors import ConfigError, InputError, StoreError
from segmark.ingest.chunk_facts import Facts
from segmark.ingest.database import open_database
from segmark.ingest.frames import FrameSource, to_arrow
from segmark.ingest.frames import content_hash as frame_hash
from segmark.ingest.mapping import Format, Mapping, check_mapping, load_mapping
from segmark.ingest.readers import (
    JSON_COLUMN,
    Chunk,
    Reject,
    Source,
    expand_paths,
    guess_format,
    open_source,
    prefetch,
)
from segmark.ingest.scan import Layers, layers_of, scan_file
from segmark.ingest.transform import (
    JSON_BAD_SQL,
    JSON_KEYS_SQL,
    Context,
    check_types,
    fact_finder,
    internal_name,
    json_columns_sql,
    plan_sql,
    resolve_columns,
)
from segmark.pipeline import staging
from segmark.schema import EVENTS, TABLES, TableSpec
from segmark.store.base import Store, utc_now
from segmark.text import Lang, msg
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
    repeated: bool = False
    """The same content through the same mapping was ingested before: not read again; rows the
    earlier ingestion quarantined count as quarantined (they still are), the rest as duplicates."""


@dataclass
class IngestReport:
    """The result of one ``segmark ingest`` command."""

    table: str
    mapping: str
    run_id: int
    files: list[FileReport]
    skipped: list[str] = field(default_factory=list)
    """Files of a folder or glob that were left out as not data (PROVENANCE.txt, README.md...)."""

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

    @property
    def nothing_accepted(self) -> bool:
        """No row was stored and some were rejected, or there were no rows at all: the command did
        not do what was asked. A file ingested before whose rows are stored already is fine; one
        whose every row was quarantined then is rejected again, for the same reasons."""
        if any(f.repeated and f.duplicates for f in self.files) and not self.accepted:
            return False
        return self.accepted == 0 and (self.quarantined > 0 or self.rows_read == 0)

    def rejection_summary(self, lang: Lang = "en") -> str:
        """Why nothing was accepted, in one line."""
        table = msg(f"data.table.{self.table}", lang) if lang == "zh" else self.table
        if self.rows_read == 0:
            return msg("ingest.no_rows", lang, table=table)
        reasons = ", ".join(f"{n:,} {r}" for r, n in self.by_reason.items())
        return msg("ingest.nothing_accepted", lang, table=table, n=self.rows_read, reasons=reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table, "mapping": self.mapping, "run_id": self.run_id,
            "rows_read": self.rows_read, "accepted": self.accepted, "quarantined": self.quarantined,
            "duplicates": self.duplicates, "quarantined_by_reason": self.by_reason,
            "files": [asdict(f) for f in self.files], "skipped": self.skipped,
        }


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
    found = expand_paths(path)
    expected = tuple(c for name in spec.names for c in m.candidates(name))
    sources: list[Source] = []
    for p in found.files:
        text = (m.read.format or guess_format(p)) != "parquet"
        layers = layers_of(p) if text else Layers()
        facts = scan_file(p, layers, m.read.encoding, text=text)
        sources.append(open_source(p, m.read, chunk_bytes=chunk_bytes, expected=expected, layers=layers,
                                   facts=facts))
    hashes: list[str | None] = [s.facts.content_hash if s.facts else None for s in sources]
    params = {"table": table, "mapping": m.name, "paths": [str(p) for p in found.files]}
    report = _ingest(ws, spec, m, sources, hashes, params, progress, now)
    report.skipped = [str(p) for p in found.skipped]
    return report


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


def ingest_query(ws: Workspace, table: str, url: str, query: str | None = None, *,
                 source_table: str | None = None, mapping: str | Path | Mapping | None = None,
                 progress: Progress | None = None, now: datetime | None = None) -> IngestReport:
    """Ingest the result of a query on the shop's database (or a whole table) into ``table``.

    ``url`` is ``postgresql://user@host:port/db`` or ``mysql://user@host:port/db``; give exactly one of
    ``query`` (any SELECT the database runs) or ``source_table`` (``schema.table`` allowed). The rows
    stream in Arrow chunks through the same mapping, validation, quarantine, de-duplication and
    accounting as a file; a quarantined row's line is its row number in the result. The password
    (better kept out of the URL: ``PGPASSWORD``/``~/.pgpass``, ``MYSQL_PWD``) never reaches the store,
    the runs table or a message: sources are named by the URL without it.
    """
    spec, m = _prepare(ws, table, mapping)
    source = open_database(url, query=query, table=source_table, chunk_bytes=ws.settings.ingest.chunk_mb << 20)
    try:
        params = {"table": table, "mapping": m.name, "database": source.label}
        return _ingest(ws, spec, m, [source], [None], params, progress, now)
    finally:
        source.close()


def _prepare(ws: Workspace, table: str, mapping: str | Path | Mapping | None) -> tuple[TableSpec, Mapping]:
    spec = TABLES.get(table)
    if spec is None:
        raise ConfigError(f"unknown table {table!r}; choose one of {', '.join(TABLES)}")
    m = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    check_mapping(spec, m)
    return spec, m


def _ingest(ws: Workspace, spec: TableSpec, m: Mapping, sources: list[Any], hashes: list[str | None],
            params: dict[str, Any], progress: Progress | None, now: datetime | None) -> IngestReport:
    """Every source of one command in one transaction; the report of what happened to each."""
    settings = ws.settings
    resolved = [resolve_columns(spec, m, s.columns, s.label) for s in sources]
    now = now or utc_now()
    min_ts = datetime.fromisoformat(settings.ingest.min_ts)
    max_ts = now + timedelta(days=settings.ingest.max_future_days)
    ctx = Context(settings.time.timezone, min_ts, max_ts, now)

    store = ws.store
    started = utc_now()
    run_id = store.next_run_id()
    reports: list[FileReport] = []
    try:
        with store.atomic():
            for src, found, digest in zip(sources, resolved, hashes, strict=True):
                reports.append(_ingest_one(store, spec, m, src, found, ctx, digest, run_id, progress, now))
            report = IngestReport(spec.name, m.name, run_id, reports)
            store.record_run(run_id, "ingest", "ok", started_at=started, params=params,
                             metrics={k: v for k, v in report.to_dict().items() if k != "files"})
    except KeyboardInterrupt:
        _record_failure(store, run_id, started, params, "interrupted (Ctrl-C): nothing was written")
        raise
    except StoreError as exc:
        _record_failure(store, run_id, started, params, str(exc))
        raise StoreError(f"ingestion failed, nothing was written: {exc}") from None
    except (InputError, ConfigError) as exc:
        _record_failure(store, run_id, started, params, str(exc))
        raise
    return report


def _record_failure(store: Store, run_id: int, started: datetime, params: dict[str, Any],
                    message: str) -> None:
    with store.atomic():
        store.record_run(run_id, "ingest", "failed", started_at=started, params=params, message=message)


def _ingested_before(store: Store, spec: TableSpec, content_hash: str, mapping_hash: str) -> int | None:
    rows = store.query_rows(
        "SELECT rows_read FROM sources WHERE table_name = ? AND content_hash = ? AND mapping_hash = ? LIMIT 1",
        [spec.name, content_hash, mapping_hash])
    return int(rows[0][0]) if rows else None


def _quarantined_before(store: Store, spec: TableSpec, content_hash: str, mapping_hash: str) -> dict[str, int]:
    """Rows of the first ingestion of this content through this mapping that were quarantined, by
    reason (the later ones read nothing)."""
    rows = store.query_rows(
        "SELECT q.reason, count(*) FROM quarantine q WHERE q.source_id = (SELECT min(source_id) FROM sources "
        "WHERE table_name = ? AND content_hash = ? AND mapping_hash = ?) GROUP BY q.reason ORDER BY 2 DESC, 1",
        [spec.name, content_hash, mapping_hash])
    return {str(r): int(n) for r, n in rows}


def _ingest_one(store: Store, spec: TableSpec, m: Mapping, src: Any, found: dict[str, str], ctx: Context,
                content_hash: str | None, run_id: int, progress: Progress | None, now: datetime) -> FileReport:
    source_id = store.next_id("source_id_seq")
    report = FileReport(src.label, source_id, src.format, src.encoding, src.delimiter, src.header)
    mapping_hash = m.fingerprint()
    before = _ingested_before(store, spec, content_hash, mapping_hash) if content_hash else None
    if before is not None:
        # The same content through the same mapping was ingested already: it is not read again
        # (slower and, for users and items, it would bring back older values). Its rows are
        # duplicates, but for those quarantined then, which are still quarantined.
        report.repeated = True
        report.by_reason = _quarantined_before(store, spec, content_hash or "", mapping_hash)
        report.quarantined = sum(report.by_reason.values())
        report.rows_read, report.duplicates = before, before - report.quarantined
        _record_source(store, source_id, run_id, spec, src.label, content_hash or "", m, report, now, None)
        if progress:
            progress(src.name, src.total, src.total)
        return report
    used = set(found.values())
    if spec is EVENTS:
        report.ignored_columns = [c for c in src.columns if c not in used]
    try:
        _stage_source(store, spec, m, src, found, ctx, progress)
        if getattr(src, "needs_rescan", False):
            # records span lines: find unclosed quotes and quoted line breaks, then read again
            src.check_quotes()
            _stage_source(store, spec, m, src, found, ctx, progress)
        report.rows_read = staging.staged_rows(store)  # every row read is staged, good or bad
        seen = content_set = None
        if content_hash is None:  # known only now that it was read (a database query)
            content_hash = str(src.content_hash)
            seen = _ingested_before(store, spec, content_hash, mapping_hash)
        if spec is not EVENTS:
            content_set = staging.content_set(store)
            if seen is None:
                seen = _same_rows_before(store, spec, content_set)
        if seen is not None:
            report.duplicates = report.rows_read
        else:
            bad = staging.bad_rows(store)
            reasons = staging.quarantine(store, spec, source_id, src.label, content_hash)
            report.accepted = staging.publish(store, spec, source_id, occurrences=m.rules.identity == "line")
            report.quarantined = sum(reasons.values())
            good = report.rows_read - bad
            # Duplicates: good rows already stored (or repeated in the file), and bad rows already
            # quarantined by an earlier ingestion of the same content.
            report.duplicates = (good - report.accepted) + (bad - report.quarantined)
            report.by_reason = dict(reasons.most_common())
            if report.accepted + report.quarantined + report.duplicates != report.rows_read:
                raise StoreError(f"{src.label}: {report.rows_read} rows read but {report.accepted} accepted, "
                                 f"{report.quarantined} quarantined and {report.duplicates} duplicates")
    except StoreError as exc:  # the transaction is lost, and the staging tables with it
        raise StoreError(f"{src.label}: {exc}") from None
    staging.drop_staging(store)
    _record_source(store, source_id, run_id, spec, src.label, content_hash, m, report, now, content_set)
    return report


def _stage_source(store: Store, spec: TableSpec, m: Mapping, src: Any, found: dict[str, str], ctx: Context,
                  progress: Progress | None) -> None:
    staging.create_staging(store, spec)
    for chunk in prefetch(src.chunks()):
        _stage_rejects(store, chunk.rejects)
        if len(chunk.lines):
            _process_chunk(store, spec, m, src, found, ctx, chunk)
        if progress:
            progress(src.name, chunk.done, src.total)


def _same_rows_before(store: Store, spec: TableSpec, content_set: str) -> int | None:
    rows = store.query_rows("SELECT rows_read FROM sources WHERE table_name = ? AND content_set = ? LIMIT 1",
                            [spec.name, content_set])
    return int(rows[0][0]) if rows else None


def _record_source(store: Store, source_id: int, run_id: int, spec: TableSpec, label: str, content_hash: str,
                   m: Mapping, report: FileReport, now: datetime, content_set: str | None) -> None:
    store.execute(
        "INSERT INTO sources (source_id, run_id, table_name, path, content_hash, mapping, rows_read, accepted, "
        "quarantined, duplicates, ingested_at, mapping_hash, content_set) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [source_id, run_id, spec.name, label, content_hash, m.name, report.rows_read, report.accepted,
         report.quarantined, report.duplicates, now, m.fingerprint(), content_set],
    )


def _stage_rejects(store: Store, rejects: list[Reject]) -> None:
    if rejects:
        staging.stage_rejects(store, [r.line for r in rejects], [r.reason for r in rejects],
                              [r.detail for r in rejects], [r.text for r in rejects])


def plain_values(table: pa.Table) -> pa.Table:
    """Columns as their values: dictionary-encoded ones (pandas ``category``, polars ``Categorical`` and
    ``Enum``, Parquet files written from them) decoded, string views as strings."""
    for i, f in enumerate(table.schema):
        t = f.type
        if pa.types.is_dictionary(t):
            t = t.value_type
        if hasattr(pa.types, "is_string_view") and pa.types.is_string_view(t):
            t = pa.large_string()
        if t != f.type:
            table = table.set_column(i, f.name, table.column(i).cast(t))
    return table


def _positional(table: pa.Table, lines: np.ndarray) -> pa.Table:
    """The chunk under internal column names, with its line numbers: no source name can collide."""
    renamed = table.rename_columns([internal_name(i) for i in range(table.num_columns)])
    return renamed.append_column("_line", pa.array(lines, pa.int64()))


def _process_chunk(store: Store, spec: TableSpec, m: Mapping, src: Any, found: dict[str, str], ctx: Context,
                   chunk: Chunk) -> None:
    """Validate and convert one chunk into staging (good and bad rows alike)."""
    if src.format == "jsonl":
        _process_json_chunk(store, spec, m, src, ctx, chunk)
        return
    table = plain_values(chunk.table)
    columns = list(table.column_names)
    types = {name: table.schema.field(i).type for i, name in enumerate(columns)}
    check_types(spec, found, types, src.label)
    facts = fact_finder(spec, m, found).find(table)  # a column the chunk lacks is not looked for
    with store.temporary_view("_chunk", _positional(table, chunk.lines)):
        _run_plan(store, spec, m, src, found, columns, types, ctx, "_chunk", facts)


def _process_json_chunk(store: Store, spec: TableSpec, m: Mapping, src: Any, ctx: Context, chunk: Chunk) -> None:
    """JSON lines: one text column per key of this chunk (keys may differ by chunk), extracted by the
    store; lines that are not JSON objects are staged as malformed rows."""
    table = pa.table({"_json": chunk.table.column(JSON_COLUMN), "_line": pa.array(chunk.lines, pa.int64())})
    with store.temporary_view("_json_chunk", table):
        bad = store.query_rows(JSON_BAD_SQL)
        _stage_rejects(store, [Reject(int(line), text, detail="not a JSON object") for line, text in bad])
        keys = sorted(str(k) for (k,) in store.query_rows(JSON_KEYS_SQL) if k)  # an empty key names nothing
        store.create_table_as("_json_rows", json_columns_sql(keys), temporary=True, replace=True)
    try:
        found = resolve_columns(spec, m, keys, src.label, require=False)
        types = dict.fromkeys(keys, pa.string())
        _run_plan(store, spec, m, src, found, keys, types, ctx, "_json_rows")
    finally:
        store.drop_table("_json_rows")


def _run_plan(store: Store, spec: TableSpec, m: Mapping, src: Any, found: dict[str, str], columns: list[str],
              types: dict[str, pa.DataType], ctx: Context, relation: str,
              facts: Facts | None = None) -> None:
    present = {k: v for k, v in found.items() if v in types}
    sql = plan_sql(spec, m, present, columns, types, ctx, store.functions, relation=relation, facts=facts)
    try:
        store.execute(f"INSERT INTO {staging.STAGED} {sql}")
    except StoreError as exc:
        if m.expressions:
            raise ConfigError(f"mapping {m.name}: an [expressions] entry failed on {src.label}: {exc}") from None
        raise
