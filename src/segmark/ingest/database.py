"""Reading from the shop's database: a PostgreSQL or MySQL query, or a whole table, as Arrow chunks.

The database edge of ingestion, beside ``readers`` (files): a URL such as
``postgresql://shop@db.internal/shop`` or ``mysql://shop@10.0.0.5/shop`` and a query (or a table)
give a source with the same interface as a file's (``columns``, ``chunks()``, ``label``), so the
rows go through the same mapping, validation, quarantine and accounting; a row's "line" is its row
number in the result (1 = the first row).

- PostgreSQL through ADBC's libpq driver (``adbc-driver-postgresql``, the ``postgresql`` extra):
  the result streams as Arrow record batches (``COPY`` in binary), typed by the server.
- MySQL and MariaDB through PyMySQL (the ``mysql`` extra), a pure-Python driver with an
  unbuffered cursor, so the result streams in bounded chunks; rows become Arrow columns typed by
  the column types the server declares. The session speaks UTC, so ``TIMESTAMP`` columns arrive
  as instants; ``DATETIME`` columns are local times of the shop, like text without a zone.

The connection is read-only (a read-only session), so a mistaken query cannot change the shop's
data; a read-only database user is the real protection. The password never leaves this module:
``label`` (what the store, the runs table, the progress lines and every message show) is the URL
without it, and a driver's error text is scrubbed of it before it is raised. Prefer no password in
the URL at all: libpq reads ``PGPASSWORD`` and ``~/.pgpass``, and MySQL sources read ``MYSQL_PWD``.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmark.errors import ConfigError, InputError
from segmark.ingest.mapping import repeated_names
from segmark.ingest.readers import Chunk

DatabaseKind = Literal["postgresql", "mysql"]

SCHEMES: dict[str, DatabaseKind] = {
    "postgresql": "postgresql", "postgres": "postgresql", "mysql": "mysql", "mariadb": "mysql",
    "mysql+pymysql": "mysql",
}
_SCHEME = re.compile(r"^([a-z][a-z0-9+]*)://", re.IGNORECASE)
_SECRET_PARAMS = re.compile(r"pass|pwd|secret|token", re.IGNORECASE)
"""URL parameters that hold a secret (libpq's ``password``/``sslpassword``, ``passwd``...)."""
EXTRAS: dict[DatabaseKind, tuple[str, str]] = {
    "postgresql": ("adbc_driver_postgresql.dbapi", "postgresql"),
    "mysql": ("pymysql.cursors", "mysql"),
}
"""The driver module each kind imports, and the extra that installs it."""


def is_database_url(text: str) -> bool:
    """Whether an ingest argument names a database (``postgresql://``, ``mysql://``...) rather than a file."""
    match = _SCHEME.match(str(text))
    return bool(match and match.group(1).lower() in SCHEMES)


@dataclass(frozen=True)
class DatabaseURL:
    """A database URL split into what may be shown (``redacted``) and what may not (``secrets``)."""

    kind: DatabaseKind
    url: str = field(repr=False)
    """The URL as given, password included: handed to the driver only."""
    redacted: str
    secrets: tuple[str, ...] = field(default=(), repr=False)
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    database: str | None = None
    params: dict[str, str] = field(default_factory=dict, repr=False)

    def scrub(self, text: str) -> str:
        """``text`` with every form of the secrets replaced, for messages from drivers."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            if secret:
                text = text.replace(secret, "***")
        return text.replace(self.url, self.redacted)


def parse_url(text: str) -> DatabaseURL:
    """Split a database URL; the password (in the URL or its parameters) goes to ``secrets``."""
    match = _SCHEME.match(text)
    if not match or match.group(1).lower() not in SCHEMES:
        raise ConfigError(f"not a database URL: it must start with {', '.join(s + '://' for s in SCHEMES)}")
    kind = SCHEMES[match.group(1).lower()]
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{_redact(parts)}: the port is not a number") from None
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    secrets = {v for k, v in params.items() if _SECRET_PARAMS.search(k)}
    raw_password = parts.password
    if raw_password:
        secrets |= {raw_password, unquote(raw_password)}
    return DatabaseURL(
        kind=kind, url=text, redacted=_redact(parts), secrets=tuple(s for s in secrets if s),
        host=parts.hostname, port=port, user=unquote(parts.username) if parts.username else None,
        password=unquote(raw_password) if raw_password is not None else None,
        database=unquote(parts.path.lstrip("/")) or None, params=params)


def _redact(parts: Any) -> str:
    netloc = parts.hostname or ""
    if ":" in netloc:  # an IPv6 address
        netloc = f"[{netloc}]"
    if parts.port:
        netloc += f":{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    query = urlencode([(k, "***" if _SECRET_PARAMS.search(k) else v)
                       for k, v in parse_qsl(parts.query, keep_blank_values=True)])
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def table_query(kind: DatabaseKind, name: str) -> str:
    """``SELECT *`` from a table named ``name`` (``schema.table`` allowed), quoted for the engine."""
    parts = name.split(".")
    if not name.strip() or any(not p for p in parts) or len(parts) > 3:
        raise ConfigError(f"--table {name!r}: give a table name, optionally as schema.table")
    quote = '"' if kind == "postgresql" else "`"
    return "SELECT * FROM " + ".".join(quote + p.replace(quote, quote * 2) + quote for p in parts)


def _describe(query: str | None, table: str | None) -> str:
    if table is not None:
        return f"table {table}"
    text = " ".join((query or "").split())
    return f"query {text[:200]}{'…' if len(text) > 200 else ''}"


def _driver(kind: DatabaseKind) -> Any:
    module, extra = EXTRAS[kind]
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(f"reading from {kind} needs its driver: pip install 'segmark[{extra}]'") from None


class DatabaseSource:
    """A query's result opened for ingestion: the same interface as a file's ``Source``.

    The query runs when the source is opened (so its columns are known before anything is
    written); ``chunks()`` streams the result and closes the connection. ``content_hash`` is known
    once every chunk was read: the same result read again is recognised as ingested before.
    """

    format: str
    encoding: str | None = None
    delimiter: str | None = None
    header: bool | None = None
    needs_rescan = False
    total = 0
    """Unknown in advance: progress counts rows."""

    def __init__(self, url: DatabaseURL, what: str, schema: pa.Schema, batches: Iterator[pa.RecordBatch],
                 closer: Any) -> None:
        self.url = url
        self.format = url.kind
        self.label = f"{url.redacted} {what}"
        self._schema = schema
        self._batches = batches
        self._closer = closer
        self._streaming = False
        self.content_hash: str | None = None

    @property
    def name(self) -> str:
        return self.label

    @property
    def columns(self) -> list[str]:
        return list(self._schema.names)

    def chunks(self) -> Iterator[Chunk]:
        self._streaming = True
        digest = hashlib.blake2b(digest_size=16)
        digest.update(self._schema.serialize().to_pybytes())
        done = 0
        try:
            while True:
                try:
                    batch = next(self._batches)
                except StopIteration:
                    break
                except InputError:
                    raise
                except Exception as exc:  # the driver's errors: scrubbed of the password
                    if _cancelled(exc):
                        raise KeyboardInterrupt from None
                    raise InputError(f"{self.label}: reading the result failed after row {done:,} "
                                     f"({self.url.scrub(str(exc)).strip()})") from None
                if batch.num_rows == 0:
                    continue
                digest.update(_ipc_bytes(batch))
                lines = np.arange(done + 1, done + 1 + batch.num_rows, dtype=np.int64)
                done += batch.num_rows
                yield Chunk(pa.Table.from_batches([batch]), lines, [], done)
            self.content_hash = digest.hexdigest()
        finally:
            self._close_now()  # in the thread that reads, once the stream ends or is abandoned

    def close(self) -> None:
        """Close the connection unless the result is streaming (then the reading thread closes it
        when it stops: closing a driver's statement under a read in progress is not safe)."""
        if not self._streaming:
            self._close_now()

    def _close_now(self) -> None:
        closer, self._closer = self._closer, None
        if closer is not None:
            with contextlib.suppress(Exception):  # closing a connection that failed: nothing more to say
                closer()


def _ipc_bytes(batch: pa.RecordBatch) -> pa.Buffer:
    """The batch in Arrow's stream format: what the content hash digests (no copy to Python bytes)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue()


def open_database(url_text: str, *, query: str | None = None, table: str | None = None,
                  chunk_bytes: int = 16 << 20) -> DatabaseSource:
    """Connect, run the query (or ``SELECT *`` from the table) and return the result as a source."""
    if (query is None) == (table is None):
        raise ConfigError("reading from a database needs exactly one of --query SQL or --table NAME")
    if query is not None and not query.strip():
        raise ConfigError("--query is empty")
    url = parse_url(url_text)
    sql = query if query is not None else table_query(url.kind, str(table))
    what = _describe(query, table)
    opener = _open_postgresql if url.kind == "postgresql" else _open_mysql
    schema, batches, closer = opener(url, sql.strip().rstrip(";"), chunk_bytes, what)
    dupes = repeated_names(schema.names)
    if dupes:
        closer()
        raise InputError(f"{url.redacted} {what}: repeated column names {dupes}; give them other names "
                         "in the query (AS ...)")
    return DatabaseSource(url, what, schema, batches, closer)


def _cancelled(exc: BaseException) -> bool:
    """Whether a driver's error is Ctrl-C: ADBC cancels the running statement on SIGINT instead of
    letting Python raise KeyboardInterrupt (PostgreSQL then reports SQLSTATE 57014)."""
    text = str(exc)
    return "due to user request" in text or getattr(getattr(exc, "status_code", None), "name", "") == "CANCELLED"


def _fail(url: DatabaseURL, what: str, doing: str, exc: BaseException) -> InputError:
    if _cancelled(exc):
        raise KeyboardInterrupt from None
    text = url.scrub(str(exc)).strip()
    return InputError(f"{url.redacted} {what}: {doing} failed ({text})")


# -- PostgreSQL (ADBC) -------------------------------------------------------------------------------


def _open_postgresql(url: DatabaseURL, sql: str, chunk_bytes: int,
                     what: str) -> tuple[pa.Schema, Iterator[pa.RecordBatch], Any]:
    dbapi = _driver("postgresql")
    try:
        con = dbapi.connect(url.url, autocommit=True)
    except Exception as exc:
        raise _fail(url, what, "connecting", exc) from None
    cur = con.cursor()

    def close() -> None:
        try:
            cur.close()  # a statement still open keeps the connection from closing
        finally:
            con.close()

    try:
        cur.execute("SET default_transaction_read_only = on")
        cur.adbc_statement.set_options(**{"adbc.postgresql.batch_size_hint_bytes": str(chunk_bytes)})
        cur.execute(sql)
        reader = cur.fetch_record_batch()
        schema, uuids = _postgresql_schema(reader.schema, url, what)
    except InputError:
        close()
        raise
    except Exception as exc:
        close()
        raise _fail(url, what, "the query", exc) from None

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            yield _plain_batch(batch, schema, uuids)

    return schema, batches(), close


def _postgresql_schema(schema: pa.Schema, url: DatabaseURL, what: str) -> tuple[pa.Schema, list[bool]]:
    """The result's columns as segmark reads them, and which are UUIDs: PostgreSQL's own types
    (numeric, json, uuid) as text; money, which the driver gives as whole cents, refused."""
    fields, uuids = [], []
    for f in schema:
        pg_type = (f.metadata or {}).get(b"POSTGRESQL:type", b"").decode()
        if pg_type == "money":
            raise InputError(f"{url.redacted} {what}: column {f.name!r} is PostgreSQL money, which the driver "
                             f"reads as whole cents; cast it in the query ({f.name}::numeric)")
        is_uuid = pg_type == "uuid" or getattr(f.type, "extension_name", "") == "arrow.uuid"
        uuids.append(is_uuid)
        fields.append(pa.field(f.name, pa.string() if is_uuid else _plain_type(f.type)))
    return pa.schema(fields), uuids


def _plain_type(t: pa.DataType) -> pa.DataType:
    while isinstance(t, pa.BaseExtensionType):
        t = t.storage_type
    return t


def _plain_batch(batch: pa.RecordBatch, schema: pa.Schema, uuids: list[bool]) -> pa.RecordBatch:
    columns = []
    for col, is_uuid in zip(batch.columns, uuids, strict=True):
        while isinstance(col.type, pa.BaseExtensionType):
            col = col.storage
        columns.append(_uuid_text(col) if is_uuid else col)
    return pa.RecordBatch.from_arrays(columns, schema=schema)


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _uuid_text(storage: pa.Array) -> pa.Array:
    """16-byte UUIDs as their canonical text (8-4-4-4-12 hex digits), without a Python loop (older
    drivers give them as variable-length binary: one by one)."""
    if not pa.types.is_fixed_size_binary(storage.type):
        return pa.array([None if b is None else str(uuid.UUID(bytes=b)) for b in storage.to_pylist()], pa.string())
    n = len(storage)
    raw = np.frombuffer(storage.buffers()[1], dtype=np.uint8, count=16 * n,
                        offset=16 * storage.offset).reshape(n, 16)
    digits = np.empty((n, 32), dtype=np.uint8)
    digits[:, 0::2], digits[:, 1::2] = _HEX[raw >> 4], _HEX[raw & 15]
    dash = np.full((n, 1), ord("-"), dtype=np.uint8)
    text = np.hstack([digits[:, :8], dash, digits[:, 8:12], dash, digits[:, 12:16], dash, digits[:, 16:20],
                      dash, digits[:, 20:]])
    offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int32)
    values = pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(text.tobytes()))
    if storage.null_count:
        values = pc.if_else(storage.is_valid(), values, pa.scalar(None, pa.string()))
    return values


# -- MySQL and MariaDB (PyMySQL) ------------------------------------------------------------------


def _open_mysql(url: DatabaseURL, sql: str, chunk_bytes: int,
                what: str) -> tuple[pa.Schema, Iterator[pa.RecordBatch], Any]:
    cursors = _driver("mysql")
    import pymysql

    password = url.password if url.password is not None else os.environ.get("MYSQL_PWD", "")
    if password:
        url = DatabaseURL(**{**url.__dict__, "secrets": (*url.secrets, password)})
    options: dict[str, Any] = {
        "host": url.host or "localhost", "port": url.port or 3306, "user": url.user or "",
        "password": password, "database": url.database, "charset": url.params.get("charset", "utf8mb4"),
        "cursorclass": cursors.SSCursor, "init_command": "SET time_zone = '+00:00'",
    }
    if "unix_socket" in url.params:
        options["unix_socket"] = url.params["unix_socket"]
    if url.params.get("connect_timeout"):
        options["connect_timeout"] = int(url.params["connect_timeout"])
    try:
        con = pymysql.connect(**options)
    except Exception as exc:
        raise _fail(url, what, "connecting", exc) from None
    try:
        cur = con.cursor()
        cur.execute("SET SESSION TRANSACTION READ ONLY")
        cur.execute(sql)
        description = list(cur.description or [])
    except Exception as exc:
        con.close()
        raise _fail(url, what, "the query", exc) from None
    names = [d[0] for d in description]
    rows_per_chunk = max(1_000, chunk_bytes // 256)
    first = _mysql_types(description)
    schema = pa.schema([pa.field(n, t) for n, t in zip(names, first, strict=True)])

    def batches() -> Iterator[pa.RecordBatch]:
        while True:
            rows = cur.fetchmany(rows_per_chunk)
            if not rows:
                return
            yield _mysql_batch(names, first, rows)

    def close() -> None:
        try:
            cur.close()  # reads what is left of an unbuffered result
        finally:
            con.close()

    return schema, batches(), close


_MYSQL_INT = {1, 2, 3, 8, 9, 13}  # TINY, SHORT, LONG, LONGLONG, INT24, YEAR
_MYSQL_FLOAT = {4, 5}  # FLOAT, DOUBLE
_MYSQL_DECIMAL = {0, 246}
_MYSQL_DATE = {10, 14}
_MYSQL_DATETIME = 12
_MYSQL_TIMESTAMP = 7


def _mysql_types(description: list[tuple[Any, ...]]) -> list[pa.DataType]:
    """Arrow types for MySQL's declared column types (DECIMAL as exact text; TIMESTAMP in UTC)."""
    out: list[pa.DataType] = []
    for d in description:
        code = d[1]
        if code in _MYSQL_INT:
            out.append(pa.int64())
        elif code in _MYSQL_FLOAT:
            out.append(pa.float64())
        elif code in _MYSQL_DATE:
            out.append(pa.date32())
        elif code == _MYSQL_DATETIME:
            out.append(pa.timestamp("us"))
        elif code == _MYSQL_TIMESTAMP:
            out.append(pa.timestamp("us", tz="UTC"))
        else:  # DECIMAL, text, JSON, ENUM, TIME...: text, parsed like a CSV field
            out.append(pa.string())
    return out


def _mysql_batch(names: list[str], types: list[pa.DataType], rows: list[tuple[Any, ...]]) -> pa.RecordBatch:
    columns = list(zip(*rows, strict=True))
    arrays = [_mysql_column(list(values), t) for values, t in zip(columns, types, strict=True)]
    return pa.RecordBatch.from_arrays(arrays, names=names)


def _mysql_column(values: list[Any], t: pa.DataType) -> pa.Array:
    """One column of rows as Arrow. Values the declared type cannot hold (an unsigned BIGINT past
    2^63, a zero date '0000-00-00' that the driver gives as text, binary data) become text, so the
    validation sees them as written rather than the read failing."""
    if t != pa.string():
        kinds = (int,) if pa.types.is_integer(t) else (float, int) if pa.types.is_floating(t) else (
            datetime,) if pa.types.is_timestamp(t) else (date,)
        if all(v is None or isinstance(v, kinds) for v in values):
            try:
                return pa.array(values, t)
            except (OverflowError, pa.ArrowInvalid):
                pass
    return pa.array([None if v is None else _mysql_text(v) for v in values], pa.string())


def _mysql_text(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return "\\x" + bytes(value).hex()  # binary data: its bytes shown, never a replacement character
    return str(value)
