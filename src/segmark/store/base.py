"""The engine protocol: what every store implementation offers, and the capabilities it declares.

The embedded DuckDB engine implements all of it. A cluster engine (Spark) implements the same
operations; a step that needs a capability an engine lacks raises ``UnsupportedError`` rather than
falling back silently.
"""

from __future__ import annotations

from typing import Any, Protocol

import pyarrow as pa


class Engine(Protocol):
    """Operations the pipeline needs from a store."""

    name: str
    capabilities: frozenset[str]
    """e.g. {"sql", "transactions", "arrow"}."""

    def execute(self, sql: str, params: list[Any] | None = None) -> None: ...

    def query_arrow(self, sql: str, params: list[Any] | None = None) -> pa.Table: ...

    def table_exists(self, name: str) -> bool: ...
