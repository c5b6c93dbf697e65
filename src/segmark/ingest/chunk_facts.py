"""What a chunk's text columns were shown not to hold, so that its plan can leave those tests out.

The validating SQL (``transform.plan_sql``) tests every value for things almost no file has:
blanks to trim at either end, ids written as NULL, control characters, a time-zone designator.
Each test costs the engine per value, on every row. A look at a column's bytes (NumPy over the
Arrow buffers) shows for a whole chunk at once that a test cannot succeed on any of its values; the
chunk's plan then leaves that test out. The look is conservative: a column it cannot clear keeps the
test, so the rows stored are the same either way (``tests/ingest/test_chunk_facts.py``).

Facts, per source column:
- ``ENDS``: no value begins or ends with a character that is trimmed;
- ``NO_NULL_ID``: no value begins with the first character of a null token (with ``ENDS``: no value
  is one);
- ``NO_CONTROLS``: no value holds a control character or line separator, none is over 512 bytes;
- ``NO_ZONE``: no value ends with a time-zone designator (a letter, or a sign three, five or six
  characters from the end).

Facts are about the values as they are in the chunk, before trimming: ``NO_NULL_ID`` and ``NO_ZONE``
say something of the trimmed value only with ``ENDS`` (``2024-03-01 10:00Z `` ends in a blank, and
trimmed it ends in a zone).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ENDS = "ends"
NO_NULL_ID = "no_null_id"
NO_CONTROLS = "no_controls"
NO_ZONE = "no_zone"

_MAX_ID_BYTES = 512

Facts: TypeAlias = Mapping[str, frozenset[str]]
"""The facts that hold for each source column of a chunk, by the column's name."""


def _byte_table(values: Iterable[int]) -> np.ndarray:
    out = np.zeros(256, dtype=bool)
    out[list(values)] = True
    return out


class FactFinder:
    """Looks for the facts wanted of each column (by source name) in one chunk after another."""

    def __init__(self, wanted: Mapping[str, Iterable[str]], blanks: str, null_ids: Iterable[str]) -> None:
        self.wanted = {name: frozenset(facts) for name, facts in wanted.items()}
        self.blanks = blanks
        self._first = _byte_table(c.encode("utf-8")[0] for c in blanks)
        self._last = _byte_table(c.encode("utf-8")[-1] for c in blanks)
        self._null_starts = _byte_table(n.encode("utf-8")[0] for n in null_ids)

    def find(self, table: pa.Table) -> dict[str, frozenset[str]]:
        """The wanted facts that hold for every value of each string column of ``table`` (of a
        name given twice, the last column, as the plan reads it)."""
        position = {name: i for i, name in enumerate(table.column_names)}
        out: dict[str, frozenset[str]] = {}
        for name, wanted in self.wanted.items():
            if name not in position:
                continue
            column = table.column(position[name])
            if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
                continue
            held = wanted
            for chunk in column.chunks:
                held = self._chunk(chunk, held)
            out[name] = held
        return out

    def _chunk(self, arr: pa.Array, wanted: frozenset[str]) -> frozenset[str]:
        n = len(arr)
        if n == 0 or not wanted:
            return wanted
        width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
        buffers = arr.buffers()
        offsets = np.frombuffer(buffers[1], dtype=width)[arr.offset: arr.offset + n + 1]
        data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
        s, e = offsets[:-1], offsets[1:]
        filled = e > s  # empty values hold no bytes; NULL ones may hold any, which are not looked at
        if arr.null_count:
            filled &= arr.is_valid().to_numpy(zero_copy_only=False)
        if not filled.all():
            s, e = s[filled], e[filled]
        if s.size == 0:
            return wanted
        body = data[offsets[0]: offsets[-1]] if wanted & {NO_CONTROLS, NO_ZONE} else data[:0]
        held: set[str] = set()
        head = data[s]
        if ENDS in wanted and self._clean_ends(arr, np.flatnonzero(filled), head, data[e - 1]):
            held.add(ENDS)
        if NO_NULL_ID in wanted and not self._null_starts[head].any():
            held.add(NO_NULL_ID)
        if NO_CONTROLS in wanted and int((e - s).max()) <= _MAX_ID_BYTES and not _has_controls(body):
            held.add(NO_CONTROLS)
        if NO_ZONE in wanted and not _may_have_zone(data, body, s, e):
            held.add(NO_ZONE)
        return frozenset(held)

    def _clean_ends(self, arr: pa.Array, filled: np.ndarray, head: np.ndarray, tail: np.ndarray) -> bool:
        """Whether no value (``filled``: the positions of those with bytes) begins or ends with a blank."""
        suspect = self._first[head] | self._last[tail]
        if not suspect.any():
            return True
        # A byte that may belong to a blank (Chinese text often ends in one): trim those values
        # exactly and see whether any byte goes.
        values = arr.take(pa.array(filled[suspect]))
        trimmed = pc.utf8_trim(values, characters=self.blanks)
        return pc.sum(pc.binary_length(trimmed)).as_py() == pc.sum(pc.binary_length(values)).as_py()


def _has_controls(body: np.ndarray) -> bool:
    """C0 and DEL bytes, C1 characters (C2 80..9F) and U+2028/U+2029 (E2 80 A8/A9), in UTF-8."""
    if bool((body < 0x20).any() or (body == 0x7F).any()):
        return True
    c2 = np.flatnonzero(body[:-1] == 0xC2)
    if c2.size and bool((body[c2 + 1] <= 0x9F).any()):
        return True
    e2 = np.flatnonzero(body[:-2] == 0xE2)
    return bool(e2.size and ((body[e2 + 1] == 0x80) & ((body[e2 + 2] == 0xA8) | (body[e2 + 2] == 0xA9))).any())


def _may_have_zone(data: np.ndarray, body: np.ndarray, s: np.ndarray, e: np.ndarray) -> bool:
    """Whether a value may end with a zone designator: its last character a letter, or a sign three,
    five or six characters from its end. Tested on bytes, which are the characters in ASCII text;
    a column with other text keeps the test."""
    if bool((body >= 0x80).any()):
        return True
    last = data[e - 1] | 0x20  # lower case
    if bool(((last >= ord("a")) & (last <= ord("z"))).any()):
        return True
    short = bool(((e - s) < 6).any())
    for back in (3, 5, 6):
        at = e - back
        c = data[np.maximum(at, s)] if short else data[at]
        sign = (c == ord("+")) | (c == ord("-"))
        if short:
            sign &= at >= s
        if bool(sign.any()):
            return True
    return False
