"""segmark's exceptions: every error a user can see is one of these, with a message that says
what to do. Lower-layer errors (DuckDB, pyarrow, TOML, pydantic) are mapped onto this tree where
they cross into segmark, so the interfaces only need to catch ``SegmarkError``.

    SegmarkError
    ├── ConfigError          segmark.toml or a mapping file is invalid (names file and key)
    ├── WorkspaceError       no workspace, or one that cannot be opened or upgraded
    ├── InputError           an input file cannot be used at all (names the file)
    │   └── MissingColumnsError   required columns absent: nothing was written
    ├── StoreError           the database refused an operation
    ├── NotReadyError        a step needs the output of an earlier step that has not run
    ├── NotFoundError        what was asked for by name or id (a user, say) does not exist
    └── UnsupportedError     an engine lacks a capability the step needs
"""

from __future__ import annotations


class SegmarkError(Exception):
    """Base class of every error segmark raises on purpose."""


class ConfigError(SegmarkError):
    """A settings or mapping file is invalid."""


class WorkspaceError(SegmarkError):
    """The workspace is missing or cannot be opened."""


class InputError(SegmarkError):
    """An input file cannot be read or used as a whole."""


class MissingColumnsError(InputError):
    """An input lacks required canonical columns; raised before anything is written."""


class StoreError(SegmarkError):
    """The store refused an operation."""


class NotReadyError(SegmarkError):
    """A step's inputs do not exist yet (e.g. segments before features)."""


class NotFoundError(SegmarkError):
    """What was asked for by name or id does not exist (e.g. a user not in a feature build)."""


class UnsupportedError(SegmarkError):
    """The engine does not support what was asked."""
