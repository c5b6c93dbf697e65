"""In-memory frames as an ingestion source: pandas, Arrow and polars tables from a notebook.

A frame goes through the same mapping, validation, quarantine and accounting as a file; its "line"
is the row number (1 = the first row), and it is named in the store by a label such as
``pandas DataFrame`` (or the name the caller gives), so a quarantined row can be found again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from segmark.errors import InputError
from segmark.ingest.mapping import repeated_names
from segmark.ingest.readers import Chunk

ROWS_PER_CHUNK = 250_000


def to_arrow(frame: Any) -> tuple[pa.Table, str]:
    """The frame as an Arrow table, and what kind of frame it was (for the default label)."""
    if isinstance(frame, pa.Table):
        return frame, "Arrow table"
    if isinstance(frame, pa.RecordBatch):
        return pa.Table.from_batches([frame]), "Arrow record batch"
    module = type(frame).__module__.split(".")[0]
    if module == "pandas":
        dupes = repeated_names(str(c) for c in frame.columns)
        if dupes:  # Arrow would refuse them with a bare ValueError
            raise InputError(f"pandas DataFrame: repeated column names {dupes}; rename one of each, "
                             "nothing was written")
        try:
            return pa.Table.from_pandas(frame, preserve_index=False), "pandas DataFrame"
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise InputError(f"pandas DataFrame: a column cannot be converted to Arrow ({exc}); "
                             "give it one type (e.g. df[col].astype(str))") from None
    if module == "polars" and hasattr(frame, "to_arrow"):
        return frame.to_arrow(), "polars DataFrame"
    if hasattr(frame, "__arrow_c_stream__"):  # any library that speaks the Arrow stream interface
        return pa.table(frame), f"{type(frame).__name__} frame"
    raise InputError(f"cannot ingest a {type(frame).__name__}: pass a pandas, polars or Arrow table")


def content_hash(table: pa.Table) -> str:
    """A hash of the frame's schema and values, so the same frame ingested twice adds nothing."""
    h = hashlib.blake2b(digest_size=16)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=ROWS_PER_CHUNK):
            writer.write_batch(batch)
    h.update(sink.getvalue())
    return h.hexdigest()


@dataclass
class FrameSource:
    """A frame opened for ingestion: the same interface as a file's ``Source``."""

    label: str
    table: pa.Table
    rows_per_chunk: int = ROWS_PER_CHUNK
    format: str = "frame"
    encoding: str | None = None
    delimiter: str | None = None
    header: bool | None = None

    @property
    def columns(self) -> list[str]:
        return list(self.table.column_names)

    @property
    def total(self) -> int:
        return self.table.num_rows

    @property
    def name(self) -> str:
        return self.label

    def chunks(self) -> Iterator[Chunk]:
        done = 0
        for batch in self.table.to_batches(max_chunksize=self.rows_per_chunk):
            if batch.num_rows == 0:
                continue
            lines = np.arange(done + 1, done + 1 + batch.num_rows, dtype=np.int64)
            done += batch.num_rows
            yield Chunk(pa.Table.from_batches([batch]), lines, [], done)
