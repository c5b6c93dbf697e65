"""One pass over a text file's bytes before it is parsed: what the file is, its content hash, its
encoding, and the lines that cannot be rows as they stand.

- **Layers.** A gzip file is read through gzip (``events.csv.gz``, or any file starting with the
  gzip magic); UTF-16 (with a BOM, as Excel's "Unicode text" writes it) is transcoded to UTF-8.
- **Encoding** (``encoding = "auto"``). The whole file is checked, not only its head: valid UTF-8
  is UTF-8; a file that is UTF-8 but for a few bytes (a cp1252 ``é`` on one line) stays UTF-8 and
  those lines are quarantined as ``invalid_encoding`` with the byte offset; a file with many
  invalid sequences and no UTF-8 text that decodes as GB18030 is GB18030 (a GBK export whose
  Chinese comes late); anything else is an error that asks for ``[read] encoding``.
- **Quotes.** A quoted value that opens on a line and does not close within ``MAX_VALUE_LINES``
  lines, closes sloppily (``"abc"def``), or leaves its record with the wrong number of fields, is
  an unclosed quote: the line where it opened is quarantined (``unclosed_quote``) and reading
  resumes at the next line, instead of the rest of the file vanishing into one value. Quoted
  values that legitimately span lines are kept, and their continuation lines are known, so every
  row carries the physical line where it starts.

The parsing pass then reads the file through ``FilteredStream``, which leaves those lines out
(as blank lines, so line numbers stay exact) and undoes the layers.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from segmark.errors import InputError

BLOCK = 1 << 22
MAX_VALUE_LINES = 64
"""Line breaks a quoted value may hold before it counts as an unclosed quote."""
MAX_VALUE_BYTES = 1 << 20
"""Bytes a quoted value may hold before it counts as an unclosed quote."""
MAX_BAD_SHARE = 0.01
"""Lines with invalid bytes a UTF-8 file may have (share of its lines, at least 3) and still be UTF-8."""
_QUOTE_AND_NL = bytes(b for b in range(256) if b not in (0x22, 0x0A))
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class Layers:
    """How the bytes on disk become text bytes: gzip, and UTF-16 transcoded to UTF-8."""

    gzip: bool = False
    utf16: str | None = None
    """``utf-16-le`` or ``utf-16-be`` when the file starts with a UTF-16 BOM."""


@dataclass(frozen=True)
class BadLine:
    """A physical line (1 = the first line of the file) to leave out of parsing, with why."""

    line: int
    start: int
    end: int
    """Byte offsets of the line in the text stream, without its line break."""
    reason: str
    detail: str
    text: str


@dataclass
class FileFacts:
    """What one pass over the file found."""

    content_hash: str
    encoding: str | None
    lines: int
    bad: list[BadLine] = field(default_factory=list)
    continuation: list[int] = field(default_factory=list)
    """Physical lines that continue a record begun on an earlier line (quoted line breaks)."""
    open_at_end: bool = False
    """The last line holds an odd number of quotes: a quote may open there and run to the end."""


def layers_of(path: Path) -> Layers:
    with path.open("rb") as f:
        head = f.read(4)
    compressed = head.startswith(_GZIP_MAGIC)
    if compressed:
        with gzip.open(path, "rb") as g:
            try:
                head = g.read(4)
            except (OSError, EOFError) as exc:
                raise InputError(f"{path}: a gzip file that cannot be read ({exc})") from None
    utf16 = "utf-16-le" if head.startswith(b"\xff\xfe") else "utf-16-be" if head.startswith(b"\xfe\xff") else None
    return Layers(compressed, utf16)


def open_text_bytes(path: Path, layers: Layers, raw: BinaryIO | None = None) -> BinaryIO:
    """The file's text as UTF-8 (or its own 8-bit encoding) bytes, layers undone."""
    f: BinaryIO = raw if raw is not None else path.open("rb")
    if layers.gzip:
        f = gzip.GzipFile(fileobj=f, mode="rb")  # type: ignore[assignment]
    if layers.utf16:
        f = _Transcoded(f, layers.utf16)  # type: ignore[assignment]
    return f


def read_head(path: Path, layers: Layers, size: int) -> bytes:
    with open_text_bytes(path, layers) as f:
        try:
            return f.read(size)
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot be read ({exc})") from None


class _Transcoded(io.RawIOBase):
    """UTF-16 bytes in, UTF-8 bytes out (the BOM dropped)."""

    def __init__(self, f: BinaryIO, encoding: str) -> None:
        self._f = f
        self._decoder = codecs.getincrementaldecoder(encoding)()
        self._buffer = b""
        self._first = True

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        while not self._buffer:
            block = self._f.read(BLOCK)
            text = self._decoder.decode(block, final=not block)
            if self._first and text:
                text, self._first = text.lstrip("\ufeff"), False
            self._buffer = text.encode("utf-8")
            if not block:
                break
        n = min(len(b), len(self._buffer))
        b[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n

    def close(self) -> None:
        self._f.close()
        super().close()


def _lines_of(f: BinaryIO) -> Iterator[tuple[bytes, int]]:
    """Blocks of whole lines and the byte offset where each starts."""
    carry = b""
    offset = 0
    while True:
        block = f.read(BLOCK)
        if not block:
            if carry:
                yield carry, offset
            return
        data = carry + block
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
            continue
        yield data[: cut + 1], offset
        offset += cut + 1
        carry = data[cut + 1:]


class _Hashing(io.RawIOBase):
    """A file that hashes what it hands out (the bytes as stored, compressed or not)."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self.hash = hashlib.blake2b(digest_size=16)

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        n = self._f.readinto(b) or 0  # type: ignore[attr-defined]
        self.hash.update(memoryview(b)[:n])
        return n


def scan_file(path: Path, layers: Layers, requested: str, *, text: bool) -> FileFacts:
    """Hash the file; for text (``text``), count its lines and, with ``requested == "auto"``, decide
    its encoding and find the lines with invalid bytes."""
    with path.open("rb") as raw:
        hashing = _Hashing(raw)
        if not text:
            while hashing.read(BLOCK):
                pass
            return FileFacts(hashing.hash.hexdigest(), None, 0)
        stream = open_text_bytes(path, layers, io.BufferedReader(hashing, BLOCK))
        lines = 0
        invalid: list[tuple[int, int, bytes]] = []  # (line, offset, bytes of the line)
        non_ascii = 0
        last = b""
        check = requested == "auto" and not layers.utf16
        try:
            for block, offset in _lines_of(stream):
                if check and not block.isascii():
                    try:
                        block.decode("utf-8")
                        non_ascii += 1
                    except UnicodeDecodeError:
                        invalid += _invalid_lines(block, offset, lines)
                        non_ascii += 1
                lines += block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
                last = block.rstrip(b"\r\n").rsplit(b"\n", 1)[-1]
        except (OSError, EOFError) as exc:
            raise InputError(f"{path}: cannot be read ({exc})") from None
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not valid {layers.utf16} text ({exc.reason} at byte {exc.start})") from None
    digest = hashing.hash.hexdigest()
    facts = _decide(path, layers, requested, digest, lines, invalid)
    facts.open_at_end = last.count(b'"') % 2 == 1
    return facts


def _decide(path: Path, layers: Layers, requested: str, digest: str, lines: int,
            invalid: list[tuple[int, int, bytes]]) -> FileFacts:
    if layers.utf16:
        return FileFacts(digest, "utf-8", lines)
    if requested != "auto":
        return FileFacts(digest, requested, lines)
    if not invalid:
        return FileFacts(digest, "utf-8", lines)
    few = len({ln for ln, _, _ in invalid}) <= max(3, int(lines * MAX_BAD_SHARE))
    if few and _has_utf8_text(path, layers, invalid):
        return FileFacts(digest, "utf-8", lines, _bad_lines(invalid))
    if _decodes(path, layers, "gb18030"):
        return FileFacts(digest, "gb18030", lines)
    if few:  # ASCII (so UTF-8) with a few damaged bytes
        return FileFacts(digest, "utf-8", lines, _bad_lines(invalid))
    ln, off, data = invalid[0]
    raise InputError(f"{path}: neither UTF-8 nor GB18030 text (line {ln}, byte {off + _first_bad(data)}); "
                     "set [read] encoding in a mapping file (e.g. cp1252, big5, shift_jis)")


def _bad_lines(invalid: list[tuple[int, int, bytes]]) -> list[BadLine]:
    return [BadLine(ln, off, off + len(data), "invalid_encoding", f"byte offset {off + _first_bad(data)}",
                    data.decode("utf-8", "replace")) for ln, off, data in _first_per_line(invalid)]


def _invalid_lines(block: bytes, offset: int, lines_before: int) -> list[tuple[int, int, bytes]]:
    out = []
    pos = 0
    while pos < len(block):
        try:
            block[pos:].decode("utf-8")
            break
        except UnicodeDecodeError as exc:
            bad = pos + exc.start
            start = block.rfind(b"\n", 0, bad) + 1
            end = block.find(b"\n", bad)
            end = len(block) if end < 0 else end
            line = lines_before + block.count(b"\n", 0, start) + 1
            out.append((line, offset + start, block[start:end].rstrip(b"\r")))
            pos = end + 1
            if len(out) > 10_000:
                break
    return out


def _first_per_line(invalid: list[tuple[int, int, bytes]]) -> list[tuple[int, int, bytes]]:
    seen: dict[int, tuple[int, int, bytes]] = {}
    for item in invalid:
        seen.setdefault(item[0], item)
    return list(seen.values())


def _first_bad(data: bytes) -> int:
    try:
        data.decode("utf-8")
        return 0
    except UnicodeDecodeError as exc:
        return exc.start


def _has_utf8_text(path: Path, layers: Layers, invalid: list[tuple[int, int, bytes]]) -> bool:
    """Whether the file holds real UTF-8 text beyond its invalid lines (multi-byte characters on
    other lines): then a few bad bytes are damage, not another encoding."""
    bad = {ln for ln, _, _ in invalid}
    with open_text_bytes(path, layers) as f:
        line = 0
        for block, _ in _lines_of(f):
            if block.isascii():
                line += block.count(b"\n")
                continue
            for text in block.split(b"\n"):
                line += 1
                if line not in bad and not text.isascii():
                    try:
                        text.decode("utf-8")
                        return True
                    except UnicodeDecodeError:
                        pass
            line -= 1 if block.endswith(b"\n") else 0
    return False


def _decodes(path: Path, layers: Layers, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    with open_text_bytes(path, layers) as f:
        try:
            while block := f.read(BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


# -- quotes ----------------------------------------------------------------------------------------


def _parse_line(line: bytes, delimiter: int, inside: bool) -> tuple[bool, int, bool]:
    """Read one line as the CSV parser does (a quote opens only at the start of a field, ``""``
    inside quotes is a quote): (ends inside a quoted value, delimiters outside quotes, a sloppy
    close such as ``"abc"def`` was seen)."""
    quote = 0x22
    i, n = 0, len(line)
    if n and line[-1] == 0x0D:
        n -= 1
    fields = 0
    sloppy = False
    at_start = not inside
    while i < n:
        if inside:
            j = line.find(b'"', i, n)
            if j < 0:
                return True, fields, sloppy
            if j + 1 < n and line[j + 1] == quote:
                i = j + 2
                continue
            inside = False
            i = j + 1
            if i < n and line[i] != delimiter:
                sloppy = True
            continue
        c = line[i]
        if at_start and c == quote:
            inside, at_start = True, False
            i += 1
        elif c == delimiter:
            fields += 1
            at_start = True
            i += 1
        else:
            at_start = False
            j = line.find(bytes([delimiter]), i, n)
            k = line.find(b'"', i, n)
            stops = [x for x in (j, k) if x >= 0]
            i = min(stops) if stops else n
            if i == k and i != j:  # a quote in the middle of a field is a plain character
                i += 1
    return inside, fields, sloppy


def scan_quotes(path: Path, layers: Layers, delimiter: str, width: int, encoding: str) -> tuple[list[BadLine],
                                                                                           list[int]]:
    """The unclosed quotes (as lines to leave out) and the continuation lines of a delimited file."""
    delim = ord(delimiter)
    unclosed: list[BadLine] = []
    continuation: list[int] = []
    with open_text_bytes(path, layers) as f:
        rows: list[tuple[int, int, bytes]] = []  # (line, offset, bytes) of the lines not yet settled
        line = 0
        for block, offset in _lines_of(f):
            pos = 0
            for text in block.split(b"\n")[: block.count(b"\n") + (0 if block.endswith(b"\n") else 1)]:
                line += 1
                rows.append((line, offset + pos, text))
                pos += len(text) + 1
            rows = _settle(rows, delim, width, encoding, unclosed, continuation, final=False)
        while rows:
            rows = _settle(rows, delim, width, encoding, unclosed, continuation, final=True)
    return unclosed, continuation


def _settle(rows: list[tuple[int, int, bytes]], delim: int, width: int, encoding: str, unclosed: list[BadLine],
            continuation: list[int], *, final: bool) -> list[tuple[int, int, bytes]]:
    """Decide every line that can be decided; returns the lines of a record still open."""
    i = 0
    while i < len(rows):
        line, offset, text = rows[i]
        if b'"' not in text:
            i += 1
            continue
        inside, fields, sloppy = _parse_line(text, delim, False)
        if not inside:
            i += 1
            continue
        j, size = i, len(text)
        while inside and j + 1 < len(rows) and j - i < MAX_VALUE_LINES and size <= MAX_VALUE_BYTES:
            j += 1
            size += len(rows[j][2])
            more_inside, more_fields, more_sloppy = _parse_line(rows[j][2], delim, True)
            inside, fields, sloppy = more_inside, fields + more_fields, sloppy or more_sloppy
        if inside and not final and j + 1 >= len(rows) and j - i < MAX_VALUE_LINES and size <= MAX_VALUE_BYTES:
            return rows[i:]  # the record may close in the next block
        if inside or sloppy or fields + 1 != width:
            unclosed.append(BadLine(line, offset, offset + len(text), "unclosed_quote",
                                    f"a quote opens here and does not close within {MAX_VALUE_LINES} lines",
                                    text.rstrip(b"\r").decode(encoding, "replace")))
            i += 1
            continue
        continuation.extend(rows[k][0] for k in range(i + 1, j + 1))
        i = j + 1
    return []


# -- the filtered stream ---------------------------------------------------------------------------


class FilteredStream(io.RawIOBase):
    """The text stream with some lines left out (their bytes removed, the line break kept, so the
    parser sees a blank line and line numbers do not move)."""

    def __init__(self, f: BinaryIO, cuts: list[BadLine]) -> None:
        self._f = f
        self._cuts = sorted((c.start, c.end) for c in cuts)
        self._pos = 0
        self._next = 0
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        while not self._pending:
            block = self._f.read(max(len(b), 1 << 16))
            if not block:
                return 0
            self._pending = self._cut(block)
        n = min(len(b), len(self._pending))
        b[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def _cut(self, block: bytes) -> bytes:
        start, end = self._pos, self._pos + len(block)
        self._pos = end
        if self._next >= len(self._cuts) or self._cuts[self._next][0] >= end:
            if self._next < len(self._cuts) and self._cuts[self._next][0] < start:
                pass  # a cut that began in an earlier block
            else:
                return block
        out = []
        cursor = start
        while self._next < len(self._cuts):
            c0, c1 = self._cuts[self._next]
            if c0 >= end:
                break
            lo, hi = max(c0, cursor), min(c1, end)
            if lo > cursor:
                out.append(block[cursor - start: lo - start])
            cursor = max(cursor, hi)
            if c1 <= end:
                self._next += 1
            else:
                break
        out.append(block[cursor - start:])
        return b"".join(out)

    def close(self) -> None:
        self._f.close()
        super().close()
