"""Executions and their lifecycle, input validation and the per-key rate limit.

The lifecycle is computed from the clock when an execution is read (creation time plus the
app's durations times ``time_scale``), so thousands of concurrent runs cost no tasks.
"""

from __future__ import annotations

import math
import random
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .catalog import AppDef, OutputDef
from .media import MIN_UPSCALE_PX, output_meta, render_text
from .stats import Settings, Stats, now

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
    inputs: dict[str, str]
    sources: dict[str, Source]
    created: float
    queue: float
    run: float
    webhook: str | None
    base_url: str
    plans: list[OutputPlan] = field(default_factory=list)
    error_message: str | None = None
    fail_at: float | None = None

    @property
    def terminal_offset(self) -> float:
        if self.fail_at is not None:
            return self.fail_at
        return max(p.finish for p in self.plans)

    @property
    def completed_at(self) -> float:
        return self.created + self.terminal_offset


def iso(epoch: float | None) -> str | None:
    """ISO-8601 UTC with milliseconds and a ``Z``, the service's timestamp format."""
    if epoch is None:
        return None
    stamp = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def validate_inputs(app: AppDef, inputs: Any) -> tuple[dict[str, str], list[str]]:
    """Inputs with defaults filled in, and every problem found (empty when valid)."""
    if not isinstance(inputs, Mapping):
        return {}, ['"inputs" must be an object keyed by parameter name, e.g. {"inputs": {...}}']
    problems: list[str] = []
    known = [p.name for p in app.params]
    for name in inputs:
        if app.param(str(name)) is None:
            close = [k for k in known if k.lower() == str(name).lower()]
            hint = f' (names are case-sensitive: did you mean "{close[0]}"?)' if close else ""
            problems.append(
                f'"{name}": unknown parameter{hint}. Known parameters: ' + ", ".join(known)
            )
    clean: dict[str, str] = {}
    for p in app.params:
        value = inputs.get(p.name)
        if value is None:
            if p.default is None:
                problems.append(f'"{p.name}": missing; this parameter has no default')
            else:
                clean[p.name] = p.default
            continue
        problem = _check_value(p.name, p.type, p.options, value)
        if problem:
            problems.append(problem)
        else:
            clean[p.name] = value
    return clean, problems


def _check_value(name: str, kind: str, options: Any, value: Any) -> str | None:
    if not isinstance(value, str):
        return f'"{name}": must be a string, got {type(value).__name__} {value!r}'[:300]
    if kind == "options" and options is not None and value not in options:
        return f'"{name}": invalid option "{value}". Must be one of: ' + ", ".join(options)
    if kind == "url" and not value.lower().startswith(("http://", "https://")):
        return f'"{name}": must be an http(s) URL, got "{value[:200]}"'
    if kind == "text" and not value.strip():
        return f'"{name}": must not be empty'
    return None


def check_webhook(url: str | None) -> str | None:
    """The problem with a webhook URL, or None when it is acceptable (or absent)."""
    if url is None:
        return None
    if not url.lower().startswith(("http://", "https://")) or len(url) < 9:
        return f'webhook: must be an http or https URL, got "{url[:200]}"'
    return None


class RateLimiter:
    """A fixed window per key: ``limit`` requests per ``window`` seconds."""

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
    ) -> ExecutionRecord:
        """Plan a new run's schedule and outcome; counted in stats before it is returned."""
        scale = self.settings.time_scale
        with self._lock:
            unlucky = self._rng.random() < self.settings.fail_rate
            rec = ExecutionRecord(
                id=str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
                app=app,
                inputs=inputs,
                sources=sources,
                created=now(),
                queue=min(2.0, max(0.5, 0.15 * app.duration)) * scale,
                run=app.duration * scale,
                webhook=webhook,
                base_url=base_url,
            )
            self._plan(rec, unlucky)
            self._records[rec.id] = rec
        self.stats.add("run_creations")
        self.stats.count("run_creations_by_app", app.app_id)
        return rec

    def _plan(self, rec: ExecutionRecord, unlucky: bool) -> None:
        n = len(rec.app.outputs)
        for i, out in enumerate(rec.app.outputs):
            finish = rec.queue + rec.run * (i + 1) / n
            rec.plans.append(OutputPlan(out, i, finish, _output_error(rec, out, i)))
        message = _execution_error(rec) or (FAIL_RATE_MESSAGE if unlucky else None)
        if message:
            rec.error_message = message
            rec.fail_at = rec.queue + rec.run * 0.6

    def get(self, execution_id: str) -> ExecutionRecord | None:
        with self._lock:
            return self._records.get(execution_id)

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


def view(rec: ExecutionRecord, *, at: float | None = None) -> dict[str, Any]:
    """The polling JSON's ``data`` for ``rec`` at time ``at`` (default: now)."""
    elapsed = (now() if at is None else at) - rec.created
    terminal = rec.terminal_offset
    done = elapsed >= terminal
    outputs = [_output_view(rec, plan, elapsed, done) for plan in rec.plans]
    if not done:
        status = "queued" if elapsed < rec.queue else "running"
    else:
        status = "failed" if rec.error_message else "completed"
    completed = sum(o["status"] == "completed" for o in outputs)
    failed = sum(o["status"] == "error" for o in outputs)
    return {
        "executionId": rec.id,
        "workflowId": rec.app.workflow_id,
        "workflowName": rec.app.name,
        "status": status,
        "webhookUrl": rec.webhook,
        "outputs": outputs,
        "errorMessage": rec.error_message if done else None,
        "progress": {
            "totalOutputs": len(outputs),
            "completedOutputs": completed,
            "failedOutputs": failed,
            "percentComplete": round(100.0 * min(1.0, max(0.0, elapsed / terminal)), 1),
        },
        "createdAt": iso(rec.created),
        "startedAt": iso(rec.created + rec.queue) if elapsed >= rec.queue else None,
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
    finished = elapsed >= plan.finish and (rec.fail_at is None or plan.finish < rec.fail_at)
    if finished and plan.error is None:
        meta = output_meta(rec.app, rec.inputs, plan.index, rec.sources)
        value = (
            render_text(rec.app, rec.inputs, plan.index)
            if plan.out.type == "text"
            else f"{rec.base_url}/files/{rec.id}/{plan.out.id}{meta.pop('ext')}"
        )
        meta.pop("ext", None)
        data.update(type=plan.out.type, value=value, status="completed", **meta)
    elif finished or (done and rec.error_message):
        data.update(status="error", error=plan.error or rec.error_message)
    return data
