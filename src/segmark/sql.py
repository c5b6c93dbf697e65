"""Writing SQL text safely: quoted identifiers and literals, used wherever segmark composes SQL."""

from __future__ import annotations

import math


def ident(name: str) -> str:
    """A quoted SQL identifier: any column name (spaces, Chinese, quotes) is safe."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: object) -> str:
    """A SQL literal for a string, number or boolean; strings are quoted with '' escaping."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"
