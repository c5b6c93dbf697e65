"""Reading input files as a stream of Arrow chunks, each row carrying its line number.

The I/O edge of ingestion: CSV (any delimiter, runs of blanks, with or without a header, UTF-8 or
GBK/GB18030), Parquet and JSON lines, read in bounded chunks so a file of any size streams through
in constant memory. Rows the parser cannot split into the file's columns are not dropped: they
come out as ``Reject`` records with their line number and text.

Line numbers count records in the file with the header as line 1, as a spreadsheet shows them; they
equal physical line numbers unless a quoted value spans lines.
"""

from __future__ import annotations

import csv
import io
import json
import queue
import stat
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from segmark.errors import InputError
from segmark.ingest.mapping import Format, ReadOptions, repeated_names
from segmark.ingest.scan import FileFacts, FilteredStream, Layers, open_text_bytes, read_head, scan_quotes

SNIFF_BYTES = 1 << 16
_WS_SENTINEL = "\x1f"  # a delimiter that never occurs in text: the whole line becomes one field
JSON_COLUMN = "_json"  # JSON-lines chunks: the raw text of each line, parsed by the validating SQL


@dataclass(frozen=True)
class Reject:
    """A row that could not be read as a row of the file."""

    line: int
    text: str
    reason: str = "malformed_row"
    detail: str = ""


@dataclass
class Chunk:
    """A slice of the input: source columns, one line number per row, and unreadable rows."""

    table: pa.Table
    lines: np.ndarray
    rejects: list[Reject] = field(default_factory=list)
    done: int = 0
    """Progress so far, in the unit of ``Source.total`` (bytes, or rows for Parquet)."""


@dataclass
class Source:
    """An opened input file: what was sniffed about it, and its chunks."""

    path: Path
    format: Format
    columns: list[str]
    total: int
    encoding: str | None = None
    delimiter: str | None = None
    header: bool | None = None
    _chunk_bytes: int = 16 << 20
    layers: Layers = field(default_factory=Layers)
    facts: FileFacts | None = None
    quotes_checked: bool = False
    """Whether unclosed quotes and quoted line breaks were looked for (only when the first read
    found records spanning lines: files without them need no second look)."""
    needs_rescan: bool = False

    @property
    def label(self) -> str:
        """How the source is named in the store (sources.path, quarantine.file) and in messages."""
        return str(self.path)

    @property
    def name(self) -> str:
        """A short name for progress lines."""
        return self.path.name

    def check_quotes(self) -> None:
        """Find unclosed quotes and the continuation lines of quoted line breaks, for a second read."""
        assert self.facts is not None and self.delimiter is not None
        unclosed, continuation = scan_quotes(self.path, self.layers, self.delimiter, len(self.columns),
                                             self.encoding or "utf-8")
        self.facts.bad = sorted([*self.facts.bad, *unclosed], key=lambda b: b.line)
        self.facts.continuation = continuation
        self.quotes_checked = True
        self.needs_rescan = False

    def _text_stream(self, counted: _Counted) -> BinaryIO:
        stream = open_text_bytes(self.path, self.layers, counted)  # type: ignore[arg-type]
        cuts = self.facts.bad if self.facts else []
        return FilteredStream(stream, cuts) if cuts else stream

    def _bad_rejects(self) -> list[Reject]:
        return [Reject(b.line, b.text, b.reason, b.detail) for b in (self.facts.bad if self.facts else [])]

    def chunks(self) -> Iterator[Chunk]:
        if self.format == "parquet":
            return _parquet_chunks(self)
        if self.format == "jsonl":
            return _jsonl_chunks(self)
        if self.delimiter == "whitespace":
            return _whitespace_chunks(self)
        return _csv_chunks(self)


def prefetch(chunks: Iterator[Chunk], depth: int = 1) -> Iterator[Chunk]:
    """Read the next chunk in a background thread while the caller processes this one.

    Parsing (pyarrow) and validating (DuckDB) both release the GIL, so the two overlap. Errors in
    the reader are re-raised in the caller; abandoning the iterator stops the reader.
    """
    q: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in chunks:
                while not stop.is_set():
                    try:
                        q.put(("chunk", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(("done", None))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            q.put(("error", exc))

    worker = threading.Thread(target=produce, name="segmark-reader", daemon=True)
    worker.start()
    try:
        while True:
            kind, item = q.get()
            if kind == "done":
                return
            if kind == "error":
                raise item  # type: ignore[misc]
            yield item  # type: ignore[misc]
    finally:
        stop.set()


DATA_SUFFIXES = frozenset({".csv", ".tsv", ".tab", ".psv", ".txt", ".dat", ".data", ".parquet", ".pq",
                           ".jsonl", ".ndjson", ".json"})
"""Name endings of data files (optionally followed by .gz), for folders and globs."""
_DOC_STEMS = ("readme", "provenance", "license", "licence", "notice", "changelog", "copying", "authors")


@dataclass
class Inputs:
    """The files a FILE argument names, and those of a folder or glob left out as not data."""

    files: list[Path]
    skipped: list[Path] = field(default_factory=list)


def _is_data_name(path: Path) -> bool:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    if path.name.lower().startswith(_DOC_STEMS):
        return False
    return bool(suffixes) and suffixes[-1] in DATA_SUFFIXES


def _regular(path: Path) -> Path:
    """A regular file, or an error: a device (a link to /dev/zero), a FIFO or a socket would never end."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(mode):
        kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or
                stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
        raise InputError(f"{path}: {kind}, not a file; save the data to a file first")
    return path


def expand_paths(spec: str | Path) -> Inputs:
    """A file, a folder (its data files, sorted) or a glob pattern. A file named on its own is
    always read; in a folder or glob, files that are not data by their name (PROVENANCE.txt,
    README.md, notes.pdf) are left out and listed in ``skipped``."""
    path = Path(spec)
    if path.is_dir():
        candidates = sorted(p for p in path.iterdir() if not p.name.startswith(".") and not p.is_dir())
    elif path.exists() or path.is_symlink():
        return Inputs([_regular(path).resolve()])
    else:
        anchor = Path(path.anchor) if path.is_absolute() else Path(".")
        pattern = str(path.relative_to(anchor)) if path.is_absolute() else str(path)
        candidates = sorted(p for p in anchor.glob(pattern) if not p.is_dir())
    files = [p for p in candidates if _is_data_name(p)]
    skipped = [p.resolve() for p in candidates if not _is_data_name(p)]
    if not files:
        left = f" (left out as not data: {', '.join(p.name for p in skipped)})" if skipped else ""
        what = "the folder holds no data files" if path.is_dir() else "no such file, folder or matching data files"
        raise InputError(f"{spec}: {what}{left}")
    return Inputs([_regular(f).resolve() for f in files], skipped)


def guess_format(path: Path) -> Format:
    suffixes = [s.lower() for s in path.suffixes]
    if ".parquet" in suffixes or ".pq" in suffixes:
        return "parquet"
    if ".jsonl" in suffixes or ".ndjson" in suffixes or ".json" in suffixes:
        return "jsonl"
    return "csv"


def open_source(path: Path, options: ReadOptions, *, chunk_bytes: int = 16 << 20,
                expected: tuple[str, ...] = (), layers: Layers | None = None,
                facts: FileFacts | None = None) -> Source:
    """Sniff ``path`` (format, encoding, delimiter, header, column names) without reading it all.

    ``expected`` are source column names the mapping refers to; finding them in the first row is
    the strongest sign that the file has a header. ``facts`` is what a pass over the whole file
    found (``scan.scan_file``): its encoding and the lines to leave out.
    """
    fmt = options.format or guess_format(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    size = path.stat().st_size
    if fmt == "parquet":
        try:
            meta = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
        return Source(path, fmt, list(meta.schema_arrow.names), meta.metadata.num_rows,
                      _chunk_bytes=chunk_bytes, facts=facts)
    layers = layers or Layers()
    head = read_head(path, layers, SNIFF_BYTES)
    _refuse_binary(path, head, layers)
    encoding = facts.encoding if facts and facts.encoding else _detect_encoding(head, options.encoding, path, None)
    if layers.utf16:
        encoding = "utf-8"  # transcoded while read
    text = _decode_head(head, encoding)
    if fmt == "jsonl":
        columns = _jsonl_columns(text)
        return Source(path, fmt, columns, size, encoding=encoding, _chunk_bytes=chunk_bytes, layers=layers,
                      facts=facts)
    delimiter = options.delimiter or _sniff_delimiter(text)
    rows = _first_rows(text, delimiter)
    if not rows:
        raise InputError(f"{path}: the file is empty")
    header = options.header
    if header is None:
        header = _sniff_header(text, rows, expected, options.names)
    if header:
        columns = [c.strip() for c in rows[0]]
        if options.names:
            columns = list(options.names)
    elif options.names:
        columns = list(options.names)
    else:
        columns = [f"column{i + 1}" for i in range(len(rows[0]))]
    dupes = repeated_names(columns)
    if dupes:
        raise InputError(f"{path}: line 1: repeated column names {dupes}")
    return Source(path, fmt, columns, size, encoding=encoding, delimiter=delimiter, header=header,
                  _chunk_bytes=chunk_bytes, layers=layers, facts=facts)


def _refuse_binary(path: Path, head: bytes, layers: Layers) -> None:
    """A file that is not text (NUL bytes, a zip, an image) is said to be what it is."""
    if head.startswith(b"PK\x03\x04"):
        raise InputError(f"{path}: a zip archive, not a data file; unzip it first")
    if head.startswith(b"PAR1"):
        raise InputError(f"{path}: a Parquet file; name it .parquet or pass --format parquet")
    if b"\x00" in head[:4096]:
        raise InputError(f"{path}: binary data (NUL bytes), not text; a UTF-16 file needs its byte-order mark, "
                         "or set [read] encoding")


# -- sniffing -----------------------------------------------------------------------------------


def _detect_encoding(head: bytes, requested: str, path: Path, utf8: bool | None) -> str:
    if requested != "auto":
        try:
            "".encode(requested)
        except LookupError:
            raise InputError(f"{path}: unknown encoding {requested!r}") from None
        return requested
    if utf8 is False:
        return "gb18030"  # not UTF-8 somewhere in the file: the Chinese exports' encoding
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8"
    cut = head.rfind(b"\n")
    sample = head if cut < 0 or len(head) < SNIFF_BYTES else head[: cut + 1]
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        sample.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        raise InputError(
            f"{path}: neither UTF-8 nor GB18030 text; set [read] encoding in the mapping"
        ) from None


def _decode_head(head: bytes, encoding: str) -> str:
    cut = head.rfind(b"\n")
    if cut >= 0 and len(head) == SNIFF_BYTES:
        head = head[: cut + 1]
    return head.decode(encoding, errors="replace").lstrip("\ufeff")


def _sniff_delimiter(text: str) -> str:
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if not lines:
        return ","
    best, best_score = None, 0
    for d in (",", "\t", ";", "|"):
        counts = [ln.count(d) for ln in lines]
        if counts[0] > 0 and len(set(counts)) == 1 and counts[0] > best_score:
            best, best_score = d, counts[0]
    if best:
        return best
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",\t;|").delimiter
    except csv.Error:
        pass
    # runs of blanks: most lines (a malformed one may be among them) split into the same count
    split_counts = Counter(len(ln.split()) for ln in lines)
    width, n = split_counts.most_common(1)[0]
    if width > 1 and n >= 0.9 * len(lines) and (len(lines) > 2 or n == len(lines)):
        return "whitespace"
    return ","


def _first_rows(text: str, delimiter: str) -> list[list[str]]:
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if delimiter == "whitespace":
        return [ln.split() for ln in lines]
    return list(csv.reader(lines, delimiter=delimiter))


def _looks_numeric(value: str) -> bool:
    try:
        float(value.strip())
        return True
    except ValueError:
        return False


def _sniff_header(text: str, rows: list[list[str]], expected: tuple[str, ...],
                  names: list[str] | None) -> bool:
    first = [c.strip() for c in rows[0]]
    if expected and any(e in first for e in expected):
        return True
    if names:
        return False
    if len(rows) > 1 and not any(_looks_numeric(c) for c in first):
        # A header has no numbers, while some column below it holds numbers.
        body = rows[1:]
        return any(all(_looks_numeric(r[i]) for r in body if i < len(r) and r[i].strip())
                   for i in range(len(first)))
    try:
        return csv.Sniffer().has_header(text[:8192])
    except csv.Error:
        return False


def _jsonl_columns(text: str) -> list[str]:
    """Every key of the objects in the sniffed head, in order of first appearance."""
    keys: dict[str, None] = {}
    for line in text.splitlines():
        if line.strip():
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                keys.update(dict.fromkeys(obj))
    return list(keys)


# -- CSV ----------------------------------------------------------------------------------------


class _Counted(io.RawIOBase):
    """A binary file that remembers how many bytes were handed out, for progress."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self.pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        n = self._f.readinto(b)
        self.pos += n or 0
        return n or 0


class _LineTracker:
    """Collects unreadable and blank rows reported by the CSV parser, to number the good ones.

    The parser numbers records; ``continuation`` (physical lines that continue a record) turns
    those numbers into the physical line where each record starts."""

    def __init__(self, continuation: list[int] | None = None) -> None:
        self.rejects: list[Reject] = []
        self.skipped: list[int] = []
        self.count = 0
        self._continuation = sorted(continuation or [])

    def _physical(self, record: int) -> int:
        line = record
        for c in self._continuation:
            if c <= line:
                line += 1
            else:
                break
        return line

    def __call__(self, row: pacsv.InvalidRow) -> str:
        number = self._physical(int(row.number)) if row.number is not None else -1
        self.count += 1
        self.skipped.append(number)
        if row.text.strip():
            self.rejects.append(Reject(
                number, row.text,
                detail=f"{row.actual_columns} fields where the header has {row.expected_columns}",
            ))
        return "skip"

    def take(self, pending: list[int]) -> tuple[list[Reject], list[int]]:
        """Rejects reported since the last call, and ``pending`` merged with the new skips."""
        rejects, skipped = self.rejects, sorted(pending + self.skipped)
        self.rejects, self.skipped, self.count = [], [], 0
        return rejects, skipped


def _number_rows(first: int, n_good: int, pending: list[int]) -> tuple[np.ndarray, int, list[int]]:
    """Line numbers of ``n_good`` rows from line ``first`` on, skipping the lines in ``pending``.

    The parser reads ahead, so ``pending`` (sorted) may hold lines beyond this batch: those are
    returned for the next call. Returns (lines, the next batch's first line, what is left pending).
    """
    skip = np.asarray(pending, dtype=np.int64)
    end = first + n_good
    while True:
        inside = int(np.count_nonzero((skip >= first) & (skip < end)))
        if first + n_good + inside == end:
            break
        end = first + n_good + inside
    candidates = np.arange(first, end, dtype=np.int64)
    here = skip[(skip >= first) & (skip < end)]
    if len(here):
        candidates = candidates[~np.isin(candidates, here)]
    return candidates, end, [int(x) for x in skip[skip >= end]]


def _csv_reader(src: Source, names: list[str], delimiter: str, quote: bool,
                tracker: _LineTracker, stream: BinaryIO) -> pacsv.CSVStreamingReader:
    read = pacsv.ReadOptions(
        use_threads=False,  # keeps parser callbacks in file order, so line numbers are exact
        block_size=src._chunk_bytes,
        column_names=names,
        skip_rows=1 if src.header else 0,
        encoding=src.encoding or "utf-8",
    )
    parse = pacsv.ParseOptions(
        delimiter=delimiter,
        quote_char='"' if quote else False,
        newlines_in_values=quote,
        ignore_empty_lines=False,
        invalid_row_handler=tracker,
    )
    convert = pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                   strings_can_be_null=False, quoted_strings_can_be_null=False)
    try:
        return pacsv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert)
    except pa.ArrowInvalid as exc:
        raise InputError(f"{src.path}: cannot be read as {src.encoding} CSV ({exc}); "
                         "set [read] encoding or delimiter in a mapping file") from None


def _csv_chunks(src: Source) -> Iterator[Chunk]:
    continuation = src.facts.continuation if src.facts else []
    tracker = _LineTracker(continuation)
    with src.path.open("rb") as raw:
        counted = _Counted(raw)
        stream = src._text_stream(counted)
        reader = _csv_reader(src, src.columns, src.delimiter or ",", True, tracker, stream)
        next_line = 2 if src.header else 1
        pending: list[int] = sorted(continuation)
        records = 1 if src.header else 0
        bad = src._bad_rejects()
        if bad:
            yield Chunk(pa.table({c: pa.array([], pa.string()) for c in src.columns}),
                        np.empty(0, np.int64), bad, 0)
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
                if not src.quotes_checked and "straddling" in str(exc):
                    src.needs_rescan = True  # a quoted value runs on past a block: look at the quotes
                    return
                raise InputError(f"{src.path}: cannot be read as {src.encoding} CSV ({exc}); "
                                 "set [read] encoding or delimiter in a mapping file") from None
            records += batch.num_rows + tracker.count
            rejects, pending = tracker.take(pending)
            lines, next_line, pending = _number_rows(next_line, batch.num_rows, pending)
            table = pa.Table.from_batches([batch])
            blank = _blank_rows(table)
            if blank is not None:
                table, lines = table.filter(pa.array(~blank)), lines[~blank]
            yield Chunk(table, lines, rejects, counted.pos)
        records += tracker.count
        rejects, _ = tracker.take(pending)
        if rejects:
            yield Chunk(pa.table({c: pa.array([], pa.string()) for c in src.columns}),
                        np.empty(0, np.int64), rejects, counted.pos)
        if not src.quotes_checked and src.facts is not None and (records < src.facts.lines
                                                                 or src.facts.open_at_end):
            src.needs_rescan = True  # some records span lines (or may, at the end): look at the quotes


def _batches(reader: pacsv.CSVStreamingReader, src: Source) -> Iterator[pa.RecordBatch]:
    """The reader's batches, with parse and decoding errors reported against the file."""
    while True:
        try:
            yield reader.read_next_batch()
        except StopIteration:
            return
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise InputError(f"{src.path}: cannot be read as {src.encoding} text ({exc}); "
                             "set [read] encoding in a mapping file") from None


def _blank_rows(table: pa.Table) -> np.ndarray | None:
    """Rows whose every field is empty: blank lines, which count for numbering but are no rows."""
    if table.num_rows == 0:
        return None
    mask = None
    for col in table.columns:
        empty = pc.equal(pc.utf8_length(col), 0)
        mask = empty if mask is None else pc.and_(mask, empty)
    out = mask.to_numpy(zero_copy_only=False)
    return out if out.any() else None


def _whitespace_chunks(src: Source) -> Iterator[Chunk]:
    """Blank-separated columns (e.g. fixed-width exports): split each line on runs of blanks."""
    tracker = _LineTracker()
    with src.path.open("rb") as raw:
        counted = _Counted(raw)
        reader = _csv_reader(src, ["_text"], _WS_SENTINEL, False, tracker, src._text_stream(counted))
        next_line = 2 if src.header else 1
        width = len(src.columns)
        pending: list[int] = []
        bad = src._bad_rejects()
        if bad:
            yield Chunk(pa.table({c: pa.array([], pa.string()) for c in src.columns}),
                        np.empty(0, np.int64), bad, 0)
        for batch in _batches(reader, src):
            _, pending = tracker.take(pending)
            lines, next_line, pending = _number_rows(next_line, batch.num_rows, pending)
            text = batch.column(0)
            parts = pc.split_pattern_regex(pc.utf8_trim_whitespace(text), r"\s+")
            counts = pc.list_value_length(parts).to_numpy(zero_copy_only=False)
            blank = pc.equal(pc.utf8_trim_whitespace(text), "").to_numpy(zero_copy_only=False)
            good = (counts == width) & ~blank
            bad = ~good & ~blank
            rejects = [Reject(int(ln), str(t), detail=f"{int(n)} fields where the header has {width}")
                       for ln, t, n in zip(lines[bad], text.filter(pa.array(bad)).to_pylist(),
                                           counts[bad], strict=True)]
            kept = parts.filter(pa.array(good))
            columns = {name: pc.list_element(kept, i) if len(kept) else pa.array([], pa.string())
                       for i, name in enumerate(src.columns)}
            yield Chunk(pa.table(columns), lines[good], rejects, counted.pos)


# -- Parquet and JSON lines ---------------------------------------------------------------------


def _parquet_chunks(src: Source) -> Iterator[Chunk]:
    pf = pq.ParquetFile(src.path)
    rows_per_chunk = max(10_000, src._chunk_bytes // 64)
    done = 0
    batches = pf.iter_batches(batch_size=rows_per_chunk)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"{src.path}: a damaged Parquet file: rows after {done:,} cannot be read "
                             f"({exc})") from None
        lines = np.arange(done + 1, done + 1 + batch.num_rows, dtype=np.int64)
        done += batch.num_rows
        yield Chunk(pa.Table.from_batches([batch]), lines, [], done)


def _jsonl_chunks(src: Source) -> Iterator[Chunk]:
    """JSON lines in byte-bounded chunks, one row per non-blank line in a single ``_json`` column.

    The lines are not parsed here: the validating SQL extracts every field as text (so numbers,
    offsets in date-times and nested values arrive exactly as written) and sends lines that are not
    JSON objects to quarantine with their line numbers. Text that is not valid in the file's
    encoding is never replaced silently: lines the scan found are quarantined (invalid_encoding),
    and with an encoding named in the mapping an invalid line is an error naming it.
    """
    encoding = src.encoding or "utf-8"
    next_line = 1
    with src.path.open("rb") as raw:
        counted = _Counted(raw)
        f = src._text_stream(counted)
        bad = src._bad_rejects()
        if bad:
            yield Chunk(pa.table({JSON_COLUMN: pa.array([], pa.string())}), np.empty(0, np.int64), bad, 0)
        while True:
            block = f.read(src._chunk_bytes)
            if not block:
                break
            block += f.readline()
            try:
                text = block.decode(encoding)
            except UnicodeDecodeError as exc:
                line = next_line + block.count(b"\n", 0, exc.start)
                raise InputError(f"{src.path}: line {line}: not valid {encoding} text ({exc.reason}); "
                                 "set [read] encoding in the mapping, or leave it on auto") from None
            if next_line == 1:
                text = text.lstrip("\ufeff")
            raw_lines = text.split("\n")
            if raw_lines and raw_lines[-1] == "":
                raw_lines.pop()
            numbers = np.arange(next_line, next_line + len(raw_lines), dtype=np.int64)
            next_line += len(raw_lines)
            keep = np.fromiter((bool(r.strip()) for r in raw_lines), dtype=bool, count=len(raw_lines))
            kept = [r for r, k in zip(raw_lines, keep, strict=True) if k]
            yield Chunk(pa.table({JSON_COLUMN: pa.array(kept, pa.string())}), numbers[keep], [], counted.pos)
