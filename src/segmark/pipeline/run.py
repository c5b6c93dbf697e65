"""The main job: the steps from files to a report, run in order, each one also runnable alone.

``run_flow`` only sequences library functions that the single-step commands call too. Each step is
its own transaction, so when one fails the ones before it stay done, and the error says which step
failed and why.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil

from segmark.errors import NoStructureError, SegmarkError, StepFailed, TooFewUsersError
from segmark.ingest.mapping import Mapping
from segmark.pipeline.features import build_features
from segmark.pipeline.ingest import ingest_file
from segmark.pipeline.report import write_report
from segmark.pipeline.segments import run_cluster, run_rfm
from segmark.pipeline.tags import apply_tags
from segmark.workspace import Workspace


@dataclass
class StepResult:
    """What one step did: its figures, time and memory, or why it failed."""

    name: str
    status: str = "pending"  # pending, running, ok, failed, skipped
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    summary: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class IngestRejected(SegmarkError):
    """An ingest step of the flow accepted none of its rows."""


@dataclass
class FlowInputs:
    """The files and options of one run."""

    events: str | Path
    users: str | Path | None = None
    items: str | Path | None = None
    mapping: str | Path | Mapping | None = None
    users_mapping: str | Path | Mapping | None = None
    items_mapping: str | Path | Mapping | None = None
    as_of: datetime | None = None
    report: Path | None = None
    lang: str | None = None


Step = tuple[str, Callable[[Workspace, FlowInputs, dict[str, Any]], dict[str, Any]]]
OnStep = Callable[[StepResult], None]


def _ingest(table: str) -> Callable[[Workspace, FlowInputs, dict[str, Any]], dict[str, Any]]:
    def step(ws: Workspace, inputs: FlowInputs, state: dict[str, Any]) -> dict[str, Any]:
        path = getattr(inputs, table)
        mapping = {"events": inputs.mapping, "users": inputs.users_mapping, "items": inputs.items_mapping}[table]
        report = ingest_file(ws, table, path, mapping=mapping)
        state.setdefault("ingest", {})[table] = report
        if report.nothing_accepted and (table != "events" or not ws.store.scalar("SELECT count(*) FROM events")):
            # the cause of what would fail later ("no events in the store") is here: say so here
            raise IngestRejected(report.rejection_summary())
        summary = {"rows_read": report.rows_read, "accepted": report.accepted,
                   "quarantined": report.quarantined, "duplicates": report.duplicates}
        if report.skipped:
            summary["left out"] = ", ".join(Path(p).name for p in report.skipped)
        return summary
    return step


def flow_steps(inputs: FlowInputs) -> list[Step]:
    """The steps for these inputs, in order (files that were not given are not ingested)."""
    steps: list[Step] = []
    if inputs.users:
        steps.append(("ingest users", _ingest("users")))
    if inputs.items:
        steps.append(("ingest items", _ingest("items")))
    steps.append(("ingest events", _ingest("events")))
    steps.append(("features", _features))
    steps.append(("segments rfm", _rfm))
    steps.append(("segments cluster", _cluster))
    steps.append(("tags", _tags))
    steps.append(("report", _report))
    return steps


def _features(ws: Workspace, inputs: FlowInputs, state: dict[str, Any]) -> dict[str, Any]:
    run = build_features(ws, as_of=inputs.as_of)
    state["features"] = run
    return {"run": run.run_id, "as_of": run.as_of_local, "users": run.n_users, "events": run.n_events,
            "features": len(run.columns)}


def _rfm(ws: Workspace, inputs: FlowInputs, state: dict[str, Any]) -> dict[str, Any]:
    result = run_rfm(ws)
    state["rfm"] = result
    return {"segmentation": result.segmentation.segmentation_id, "segments": result.segmentation.n_segments}


def _cluster(ws: Workspace, inputs: FlowInputs, state: dict[str, Any]) -> dict[str, Any]:
    try:
        result = run_cluster(ws)
    except NoStructureError as exc:
        # a finding, not a failure: the report shows the candidates and why none was kept
        state["cluster_refused"] = str(exc)
        state["cluster_selection"] = exc.selection
        return {"result": "no real segments found", "why": str(exc)}
    except TooFewUsersError as exc:  # a small shop still gets its RFM segments, tags and report
        state["cluster_refused"] = str(exc)
        state["cluster_too_few"] = (exc.n_users, exc.minimum)
        return {"result": "too few users to segment", "why": str(exc)}
    state["cluster"] = result
    seg = result.segmentation
    return {"segmentation": seg.segmentation_id, "method": seg.method, "segments": seg.n_segments}


def _tags(ws: Workspace, inputs: FlowInputs, state: dict[str, Any]) -> dict[str, Any]:
    """The shipped default tags (tags whose model is not scored yet are skipped, not failed)."""
    run = apply_tags(ws)
    state["tags"] = run
    return {"run": run.run_id, "tags": len(run.taxonomy), "skipped": len(run.skipped)}


def _report(ws: Workspace, inputs: FlowInputs, state: dict[str, Any]) -> dict[str, Any]:
    path = write_report(ws, inputs.report, inputs.lang)  # default: report.html in the workspace
    state["report"] = path
    return {"file": str(path)}


def run_flow(ws: Workspace, inputs: FlowInputs, *, on_step: OnStep | None = None) -> tuple[list[StepResult],
                                                                                            dict[str, Any]]:
    """Run every step in order; returns each step's result and the state the steps shared.

    Raises ``StepFailed`` (carrying the results so far) at the first failing step.
    """
    steps = flow_steps(inputs)
    results = [StepResult(name) for name, _ in steps]
    state: dict[str, Any] = {}
    process = psutil.Process()
    for (name, fn), result in zip(steps, results, strict=True):
        result.status = "running"
        if on_step:
            on_step(result)
        _reset_peak_rss()
        start = time.perf_counter()
        try:
            result.summary = fn(ws, inputs, state)
        except (SegmarkError, OSError) as exc:
            result.status, result.error = "failed", str(exc)
            result.seconds = time.perf_counter() - start
            for later in results[results.index(result) + 1:]:
                later.status = "skipped"
            if on_step:
                on_step(result)
            raise StepFailed(name, str(exc), results) from exc
        result.seconds = time.perf_counter() - start
        result.peak_rss_mb = _peak_rss_mb(process)
        result.status = "ok"
        if on_step:
            on_step(result)
    return results, state


def _reset_peak_rss() -> None:
    """Start a new peak-memory measurement for the next step (Linux; elsewhere peaks accumulate)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
    except OSError:
        pass


def _peak_rss_mb(process: psutil.Process) -> float:
    """Peak resident memory of this process so far (Linux: VmHWM), else the current RSS."""
    try:
        with open(f"/proc/{process.pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return process.memory_info().rss / (1 << 20)
