"""Playbooks: the default campaign action per segment, as data in English and Chinese.

A playbook maps segment keys to an action (``action``, ``action_zh``, ``channel``); ``action_for``
finds a segment's entry by its exact key, else by the longest key it starts with (a clustering
segment ``bargain_hunters_weekend`` takes ``bargain_hunters``'s), else the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ACTION_KEYS = ("action", "action_zh", "channel")


@dataclass(frozen=True)
class Action:
    action: str
    action_zh: str
    channel: str
    matched: str
    """The playbook key it came from (``default`` when none matched)."""

    def text(self, lang: str = "en") -> str:
        return self.action_zh if lang == "zh" else self.action


@dataclass(frozen=True)
class Playbook:
    default: Mapping[str, str]
    segments: Mapping[str, Mapping[str, str]]

    def action_for(self, key: str | None) -> Action:
        entry, matched = None, "default"
        if key is not None:
            if key in self.segments:
                entry, matched = self.segments[key], key
            else:
                prefixes = [k for k in self.segments if key.startswith(k + "_")]
                if prefixes:
                    matched = max(prefixes, key=len)
                    entry = self.segments[matched]
        entry = entry or self.default
        return Action(str(entry.get("action", "")), str(entry.get("action_zh") or entry.get("action", "")),
                      str(entry.get("channel", "")), matched)


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def parse_playbook(data: Any, source: str, base: Playbook | None = None) -> Playbook:
    """A playbook from its YAML mapping; entries override ``base``'s. ``ValueError`` names the problem."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{source}: a playbook is a mapping with 'default' and 'segments'")
    unknown = set(data) - {"version", "default", "segments"}
    if unknown:
        raise ValueError(f"{source}: unknown keys {sorted(unknown)} (allowed: version, default, segments)")
    default = dict(base.default) if base else {}
    segments = {k: dict(v) for k, v in (base.segments.items() if base else [])}
    segment_entries = data.get("segments") or {}
    if not isinstance(segment_entries, Mapping):
        raise ValueError(f"{source}: 'segments' is a mapping of segment keys to actions")
    for key, entry in [("default", data.get("default")), *list(segment_entries.items())]:
        if not _scalar(key):
            raise ValueError(f"{source}: a segment key must be text, not a {type(key).__name__}")
        if entry is None:
            continue
        if not isinstance(entry, Mapping) or not entry.get("action"):
            raise ValueError(f"{source}: {key!r} needs at least an 'action'")
        bad = {str(k) if _scalar(k) else type(k).__name__ for k in entry} - set(ACTION_KEYS)
        if bad:
            raise ValueError(f"{source}: {key!r} has unknown keys {sorted(bad)} (allowed: {', '.join(ACTION_KEYS)})")
        for k, v in entry.items():
            if not _scalar(v):  # str() of a list built from YAML aliases grows exponentially with its depth
                raise ValueError(f"{source}: {key!r}: {k!r} must be text, not a {type(v).__name__}")
        clean = {k: "" if v is None else str(v) for k, v in entry.items()}
        if key == "default":
            default = clean
        else:
            segments[str(key)] = clean
    return Playbook(default, segments)
