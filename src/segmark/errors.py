"""segmark's exceptions: every error a user can see is one of these, with a message that says
what to do. Lower-layer errors (DuckDB, pyarrow, TOML, pydantic) are mapped onto this tree where
they cross into segmark, so the interfaces only need to catch ``SegmarkError``.

    SegmarkError
    ├── ConfigError          segmark.toml or a mapping file is invalid (names file and key)
    ├── WorkspaceError       no workspace, or one that cannot be opened or upgraded
    │   └── WorkspaceBusyError    another process is writing to it (carries its PID)
    ├── InputError           an input file cannot be used at all (names the file)
    │   └── MissingColumnsError   required columns absent: nothing was written
    ├── StoreError           the database refused an operation (or a stored model is not trusted)
    ├── NotReadyError        a step needs the output of an earlier step that has not run
    ├── NotFoundError        what was asked for by id or name does not exist: a user, a run, a
    │                        feature build, a segmentation
    ├── UnsupportedError     an engine lacks a capability the step needs (names engine and operation)
    ├── NoStructureError     automatic clustering found no real segments; carries the evidence
    │                        (``selection``): a finding, recorded as a failed run
    ├── StepFailed           a step of ``run_flow`` failed; carries the step's name and every step's
    │                        result so far, and the step's own error as ``__cause__``
    ├── IngestRejected       (pipeline/run.py) an ingest step of the flow accepted none of its rows
    ├── AudienceError        (pipeline/audience.py) an audience expression that cannot be used, with
    │                        the position and a caret line (wraps core's ExpressionError)
    └── ExportRefused        (pipeline/audience.py) an audience export below the minimum size

The pure core raises ``ValueError`` subclasses of its own (``ExpressionError``, ``TagFileError``,
``LabelError``; ``NotFittedError`` is a ``RuntimeError``); the pipeline maps them onto this tree
where they cross into it.

Interrupts are not errors: Ctrl-C (``KeyboardInterrupt``, DuckDB's interrupt included) rolls back
the step and reaches the caller as it is.
"""

from __future__ import annotations

from typing import Any


class SegmarkError(Exception):
    """Base class of every error segmark raises on purpose."""


class ConfigError(SegmarkError):
    """A settings or mapping file is invalid."""


class WorkspaceError(SegmarkError):
    """The workspace is missing or cannot be opened."""


class WorkspaceBusyError(WorkspaceError):
    """Another process holds the workspace's database (one writer at a time, and no reader
    beside it): ``pid`` is that process, when the engine says."""

    def __init__(self, message: str, pid: int | None = None) -> None:
        super().__init__(message)
        self.pid = pid


class InputError(SegmarkError):
    """An input file cannot be read or used as a whole."""


class MissingColumnsError(InputError):
    """An input lacks required canonical columns; raised before anything is written."""


class TooFewUsersError(InputError):
    """A feature build has too few users to cluster; ``n_users`` and ``minimum`` say how many."""

    def __init__(self, message: str, *, n_users: int, minimum: int) -> None:
        super().__init__(message)
        self.n_users = n_users
        self.minimum = minimum


class StoreError(SegmarkError):
    """The store refused an operation."""


class NotReadyError(SegmarkError):
    """A step's inputs do not exist yet (e.g. segments before features)."""


class NotFoundError(SegmarkError):
    """What was asked for by name or id does not exist (e.g. a user not in a feature build)."""


class UnsupportedError(SegmarkError):
    """The engine does not support what was asked."""


class NoStructureError(SegmarkError):
    """Automatic selection found no segments worth the name; ``selection`` holds the evidence
    (every candidate's figures and the reason, ``segmark.core.segment.selection.Selection``)."""

    def __init__(self, selection: Any) -> None:
        super().__init__(selection.reason)
        self.selection = selection


class StepFailed(SegmarkError):
    """A step of ``run_flow`` failed; the steps before it are kept. ``step`` names it, ``results``
    holds every step's result (``segmark.pipeline.run.StepResult``) up to it."""

    def __init__(self, step: str, message: str, results: list[Any]) -> None:
        super().__init__(f"step '{step}' failed: {message} (earlier steps are kept)")
        self.step = step
        self.results = results
