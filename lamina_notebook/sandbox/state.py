"""Executions and their lifecycle, and the per-IP rate limit.

The lifecycle is computed from the clock when an execution is read (creation time plus the
app's durations times ``time_scale``), so thousands of concurrent runs cost no tasks. A cancel
fixes the run's end at the moment it arrived: outputs not produced by then end ``cancelled``.
Input resolution lives in ``inputs.py``; billing and the produced-output counts in ``runs.py``.
"""

from __future__ import annotations

import math
import random
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .catalog import AppDef, OutputDef
from .compose import output_meta, render_text
from .media import MIN_UPSCALE_PX
from .stats import Settings, Stats, now

TERMINAL = ("completed", "failed", "cancelled")

FAIL_RATE_MESSAGE = "Generation failed: the GPU worker crashed (sandbox fail_rate). Run it again."


@dataclass(frozen=True)
class Source:
    """A url input as the sandbox received it: content digest and pixel size, or an error."""

    url: str
    digest: str | None = None
    size: tuple[int, int] | None = None
    refused: bool = False
    error: str | None = None


@dataclass
class OutputPlan:
    """When one output finishes (seconds after creation) and whether it fails."""

    out: OutputDef
    index: int
    finish: float
    error: str | None = None


@dataclass
class ExecutionRecord:
    """Everything the sandbox knows about one run; the view is derived from it and the clock."""

    id: str
    app: AppDef
    inputs: dict[str, Any]
    sources: dict[str, Source]
    created: float
    queue: float
    run: float
    webhook: str | None
    base_url: str
    edition: str = "api"  # the edition that created it: names the id field of its webhook body
    source: str = "api"  # where it was started: "api" (a key), "web" (the web app), ...
    selected: tuple[int, ...] | None = None  # the /v1 "outputs" subset (None = every output)
    plans: list[OutputPlan] = field(default_factory=list)
    error_message: str | None = None
    fail_at: float | None = None
    cancel_at: float | None = None  # seconds after creation at which a cancel arrived
    cost: int = 0  # credits reserved at creation (the expected cost)
    charged: int = 0  # credits spent so far
    settled: set[str] = field(default_factory=set)  # billing events already applied

    @property
    def terminal_offset(self) -> float:
        if self.cancel_at is not None:
            return self.cancel_at
        if self.fail_at is not None:
            return self.fail_at
        return max(p.finish for p in self.plans)

    def produced(self, plan: OutputPlan) -> bool:
        """Whether ``plan``'s output is (or will be) produced: it finishes before a failure or a
        cancel, and has no error of its own."""
        if plan.error is not None:
            return False
        if self.fail_at is not None and plan.finish >= self.fail_at:
            return False
        return self.cancel_at is None or plan.finish <= self.cancel_at

    def started(self, elapsed: float) -> bool:
        """Whether the run had left the queue ``elapsed`` seconds after creation (a run
        cancelled while queued never starts)."""
        if self.cancel_at is not None and self.cancel_at < self.queue:
            return False
        return elapsed >= self.queue

    def status_at(self, at: float | None = None) -> str:
        elapsed = (now() if at is None else at) - self.created
        if elapsed < self.terminal_offset:
            return "queued" if elapsed < self.queue else "running"
        if self.cancel_at is not None:
            return "cancelled"
        return "failed" if self.error_message else "completed"

    @property
    def completed_at(self) -> float:
        return self.created + self.terminal_offset


def iso(epoch: float | None) -> str | None:
    """ISO-8601 UTC with milliseconds and a ``Z``, the service's timestamp format."""
    if epoch is None:
        return None
    stamp = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


class RateLimiter:
    """A fixed window per client (the service counts per IP): ``limit`` requests per
    ``window`` seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, key: str, limit: int, window: float) -> tuple[bool, int, float]:
        """Count one request; returns (allowed, remaining, seconds until the window resets)."""
        t = now()
        with self._lock:
            start, count = self._windows.get(key, (t, 0))
            if t - start >= window:
                start, count = t, 0
            allowed = count < limit
            if allowed:
                count += 1
            self._windows[key] = (start, count)
        return allowed, max(0, limit - count), max(0.0, start + window - t)

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()


def reset_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


class ExecutionStore:
    """All executions of one sandbox, created by the POST handler and read by everyone."""

    def __init__(self, settings: Settings, stats: Stats, seed: int | None) -> None:
        self.settings = settings
        self.stats = stats
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._records: dict[str, ExecutionRecord] = {}

    def create(
        self,
        app: AppDef,
        inputs: dict[str, str],
        sources: dict[str, Source],
        webhook: str | None,
        base_url: str,
        *,
        edition: str = "api",
        source: str = "api",
        selected: tuple[int, ...] | None = None,
        cost: int = 0,
    ) -> ExecutionRecord:
        """Plan a new run's schedule and outcome; counted in stats before it is returned."""
        scale = self.settings.time_scale
        queued = self.settings.queue_seconds
        if queued is None:
            queued = min(2.0, max(0.5, 0.15 * app.duration))
        with self._lock:
            unlucky = self._rng.random() < self.settings.fail_rate
            rec = ExecutionRecord(
                id=str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
                app=app,
                inputs=inputs,
                sources=sources,
                created=now(),
                queue=queued * scale,
                run=app.duration * scale,
                webhook=webhook,
                base_url=base_url,
                edition=edition,
                source=source,
                selected=selected,
                cost=cost,
            )
            self._plan(rec, unlucky)
            self._records[rec.id] = rec
        self.stats.add("run_creations")
        self.stats.count("run_creations_by_app", app.app_id)
        return rec

    def _plan(self, rec: ExecutionRecord, unlucky: bool) -> None:
        chosen = range(len(rec.app.outputs)) if rec.selected is None else rec.selected
        n = len(chosen)
        for k, i in enumerate(chosen):
            out = rec.app.outputs[i]
            finish = rec.queue + rec.run * (k + 1) / n
            rec.plans.append(OutputPlan(out, i, finish, _output_error(rec, out, i)))
        message = _execution_error(rec) or (FAIL_RATE_MESSAGE if unlucky else None)
        if message:
            rec.error_message = message
            rec.fail_at = rec.queue + rec.run * 0.6

    def get(self, execution_id: str) -> ExecutionRecord | None:
        with self._lock:
            return self._records.get(execution_id)

    def records(self) -> list[ExecutionRecord]:
        """Every run, newest first."""
        with self._lock:
            found = list(self._records.values())
        return sorted(found, key=lambda r: r.created, reverse=True)

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)


def _execution_error(rec: ExecutionRecord) -> str | None:
    """Deterministic failures: unreadable url inputs, and the upscaler's too-small input."""
    for name, src in rec.sources.items():
        if src.error:
            return f'Could not read "{name}" from {src.url[:200]}: {src.error}'
    if rec.app.kind == "upscale":
        size = rec.sources["Upload"].size if "Upload" in rec.sources else None
        if size and min(size) < MIN_UPSCALE_PX:
            return (
                f"Input image is {size[0]}x{size[1]} px; the upscaler needs at least "
                f"{MIN_UPSCALE_PX} px per side. Use a larger picture."
            )
    return None


def _output_error(rec: ExecutionRecord, out: OutputDef, index: int) -> str | None:
    """Output-level failures: short product text fails the copywriter's description."""
    if rec.app.kind == "copy" and index == 1 and len(rec.inputs["Product"].split()) < 3:
        return (
            "Description needs a product of at least 3 words "
            f'(got "{rec.inputs["Product"][:80]}"); add detail and run again.'
        )
    if out.type == "video":
        import importlib.util

        if importlib.util.find_spec("imageio_ffmpeg") is None:
            return (
                "Video output needs imageio-ffmpeg on the sandbox: "
                "pip install 'lamina-notebook[video]'"
            )
    return None


def run_id_field(edition: str) -> str:
    """The id field of a run in ``edition``: ``executionId`` (/api) or ``runId`` (/v1)."""
    return "runId" if edition == "v1" else "executionId"


def view(rec: ExecutionRecord, *, at: float | None = None, edition: str = "api") -> dict[str, Any]:
    """The polling JSON's ``data`` for ``rec`` at time ``at`` (default: now), in ``edition``."""
    t = now() if at is None else at
    elapsed = t - rec.created
    terminal = rec.terminal_offset
    done = elapsed >= terminal
    status = rec.status_at(t)
    outputs = [_output_view(rec, plan, elapsed, done) for plan in rec.plans]
    completed = sum(o["status"] == "completed" for o in outputs)
    failed = sum(o["status"] == "error" for o in outputs)
    if status == "cancelled":
        percent = 100.0 * (completed + failed) / max(1, len(outputs))
    else:
        percent = 100.0 * min(1.0, max(0.0, elapsed / terminal))
    return {
        run_id_field(edition): rec.id,
        "workflowId": rec.app.workflow_id,
        "workflowName": rec.app.name,
        "status": status,
        "webhookUrl": rec.webhook,
        "outputs": outputs,
        "errorMessage": rec.error_message if done and status == "failed" else None,
        "progress": {
            "totalOutputs": len(outputs),
            "completedOutputs": completed,
            "failedOutputs": failed,
            "percentComplete": round(percent, 1),
        },
        "createdAt": iso(rec.created),
        "startedAt": iso(rec.created + rec.queue) if rec.started(elapsed) else None,
        "completedAt": iso(rec.completed_at) if done else None,
    }


def _output_view(
    rec: ExecutionRecord, plan: OutputPlan, elapsed: float, done: bool
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": plan.out.id,
        "label": plan.out.label,
        "type": "pending",
        "value": None,
        "status": "pending",
        "error": None,
    }
    cut = rec.cancel_at is not None and plan.finish > rec.cancel_at
    finished = (
        elapsed >= plan.finish and (rec.fail_at is None or plan.finish < rec.fail_at) and not cut
    )
    if finished and plan.error is None:
        meta = output_meta(rec.app, rec.inputs, plan.index, rec.sources)
        value = (
            render_text(rec.app, rec.inputs, plan.index)
            if plan.out.type == "text"
            else f"{rec.base_url}/files/{rec.id}/{plan.out.id}{meta.pop('ext')}"
        )
        meta.pop("ext", None)
        data.update(type=plan.out.type, value=value, status="completed", **meta)
    elif finished or (done and rec.error_message and rec.cancel_at is None):
        data.update(status="error", error=plan.error or rec.error_message)
    elif done and rec.cancel_at is not None:
        data.update(status="cancelled")
    return data
