"""Why model selection chose, rejected or refused: a reason is a code and its parameters (the figures
it quotes), rendered in English or Chinese where it is shown.

Selection stores the code and the parameters with every candidate and with its outcome, beside the
English text rendered from them (what the JSON and the CLI print). The templates are the message
catalogue's area ``selection`` (``segmark/text/selection.py``). The report and ``--lang zh``
render the same code and parameters in Chinese, so a Chinese page never shows English sentences.

Templates are Python format strings over the parameters; a few reasons quote the same comparison,
so ``{best}``, ``{compare}`` and ``{stable}`` are fragments rendered first, and two reasons have an
optional tail (the warning of a forced choice that misses the thresholds, the runner-up of a clear
win). A missing or non-finite figure reads "–".
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from segmark.text import catalogue


def _area(prefix: str) -> dict[str, tuple[str, str]]:
    return {key.removeprefix(prefix): pair for key, pair in catalogue().items() if key.startswith(prefix)}


TEMPLATES: dict[str, tuple[str, str]] = _area("selection.reason.")
"""Code -> (English, Chinese) template (the catalogue's ``selection.reason.<code>``)."""

FRAGMENTS: dict[str, tuple[str, str]] = _area("selection.fragment.")
"""Parts several templates quote, by the field name they fill (``selection.fragment.<name>``)."""

TAIL_PARAMS: dict[str, str] = {"forced": "weak", "largest": "next_what"}
TAILS: dict[str, tuple[str, tuple[str, str]]] = {
    code: (param, catalogue()[f"selection.tail.{code}"]) for code, param in TAIL_PARAMS.items()}
"""Code -> (the parameter that calls for it, its tail): added when that parameter is set (the warning
of a forced choice that misses the thresholds, the runner-up of a clear win)."""

NO_STRUCTURE = frozenset({"no_candidate", "no_gain", "no_stable"})
NO_STRUCTURE_PREFIX = catalogue()["selection.no_structure_prefix"]


class _Formatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "–"
        return super().format_field(value, format_spec)


_FORMAT = _Formatter()


def reason_text(code: str, params: Mapping[str, Any] | None = None, lang: str = "en", *,
                short: bool = False) -> str:
    """The reason ``code`` with its ``params`` in ``lang`` ("en" or "zh").

    A no-structure outcome starts with "no real segments: " (没有真实的分群：) unless ``short``.
    Raises ``KeyError`` for an unknown code.
    """
    i = 1 if lang == "zh" else 0
    values = dict(params or {})
    for name, pair in FRAGMENTS.items():
        values[name] = _FORMAT.format(pair[i], **values) if f"{{{name}}}" in TEMPLATES[code][i] else ""
    text = _FORMAT.format(TEMPLATES[code][i], **values)
    if code in TAILS and values.get(TAILS[code][0]):
        text += _FORMAT.format(TAILS[code][1][i], **values)
    if code in NO_STRUCTURE and not short:
        text = NO_STRUCTURE_PREFIX[i] + text
    return text


@dataclass(frozen=True)
class Reason:
    """A reason as selection records it: a code from :data:`TEMPLATES` and the figures it quotes."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str = "en", *, short: bool = False) -> str:
        return reason_text(self.code, self.params, lang, short=short)


FAILS_A_THRESHOLD = frozenset({"low_gain"})
"""Reasons of candidates that selection leaves "eligible" (they passed the size checks) although
they fall below a threshold a winner needs: shown as rejected, so no table says "eligible" beside
"below the threshold"."""


def shown_status(status: Any, reason_code: Any) -> str:
    """A candidate's status as people read it: "rejected" for one that fell below a threshold."""
    status = str(status)
    return "rejected" if status == "eligible" and reason_code in FAILS_A_THRESHOLD else status
