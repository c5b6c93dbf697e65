"""Every user-visible string in English and Chinese, in one catalogue.

Text is data: each area of segmark has one module here (``text/report.py``, ``text/predict.py``...)
holding ``MESSAGES``, a dict of ``key -> (English, Chinese)`` format strings written side by side.
Keys are namespaced by area (``"predict.train.done"``), so areas never collide. ``msg`` renders one;
a missing key or translation is a ``KeyError`` in the tests, never a half-English page. A test
checks that every key has both languages and that both use the same placeholders.

To add an area: create ``text/<area>.py`` with ``MESSAGES``; ``AREAS`` finds every module of the package.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import string
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, Literal

Lang = Literal["en", "zh"]
LANGS: tuple[Lang, ...] = ("en", "zh")

AREAS: tuple[str, ...] = tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")))
"""The modules of this package (each defines ``MESSAGES``), found rather than listed."""


@cache
def catalogue() -> dict[str, tuple[str, str]]:
    """All messages of every area, by key; a key defined twice is an error."""
    out: dict[str, tuple[str, str]] = {}
    for area in AREAS:
        messages: dict[str, tuple[str, str]] = importlib.import_module(f"segmark.text.{area}").MESSAGES
        for key, pair in messages.items():
            if key in out:
                raise KeyError(f"message {key!r} is defined twice (segmark.text.{area})")
            out[key] = pair
    return out


def template(key: str, lang: Lang = "en") -> str:
    """The raw format string of ``key`` in ``lang``."""
    en, zh = catalogue()[key]
    return zh if lang == "zh" else en


def msg(key: str, lang: Lang = "en", /, **params: Any) -> str:
    """The message ``key`` in ``lang`` with ``params`` filled in."""
    return template(key, lang).format(**params)


def placeholders(text: str) -> set[str]:
    """The field names a format string uses (``{n:,}`` -> ``n``)."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(text) if name}


@cache
def _pattern(key: str) -> re.Pattern[str]:
    """A regular expression that matches ``key``'s English message with any values filled in."""
    parts, seen = [], set()
    for literal, name, _, _ in string.Formatter().parse(template(key, "en")):
        parts.append(re.escape(literal))
        if name:
            parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
            seen.add(name)
    return re.compile("".join(parts))


def reword(text: str, keys: Iterable[str], lang: Lang) -> str:
    """``text`` in ``lang`` when it is one of ``keys``' English messages with its values filled in (a
    sentence stored in English, such as why a tag was skipped); any other text as it is."""
    for key in keys:
        found = _pattern(key).fullmatch(text)
        if found:
            return msg(key, lang, **found.groupdict())
    return text


def known(key: str, lang: Lang, default: str) -> str:
    """``key``'s message in ``lang`` where the catalogue has it, else ``default`` as written (a
    shipped channel or owner is translated, a workspace's own is shown as its user wrote it)."""
    return msg(key, lang) if key in catalogue() else default


def label(record: Mapping[str, Any], lang: Lang, key: str = "label") -> str:
    """A stored record's ``key`` in ``lang``: its ``<key>_zh`` in Chinese where it has one, else
    ``key`` ("" when it has neither)."""
    if lang == "zh" and record.get(f"{key}_zh"):
        return str(record[f"{key}_zh"])
    return str(record.get(key) or "")
