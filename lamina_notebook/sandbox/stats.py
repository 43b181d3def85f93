"""Knobs and counters of a running sandbox: ``Settings`` (changeable at run time) and ``Stats``.

Both are read by the server thread and the test thread, so every access goes through a lock.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field, fields, replace
from typing import Any


@dataclass
class Settings:
    """Every knob the sandbox reads per request; faults are all off by default."""

    time_scale: float = 1.0
    rate_limit: int = 100
    rate_window: float = 60.0
    error_rate: float = 0.0
    latency: float = 0.0
    drop_rate: float = 0.0
    fail_rate: float = 0.0
    force_429: int = 0
    garbage_rate: float = 0.0
    truncate_rate: float = 0.0
    output_ttl: float | None = None
    max_body_bytes: int = 1_000_000
    allow_remote_urls: bool = False
    validation_details: str = "list"  # "list" (strings) | "nested" ({code, message, details})
    rate_limit_body: str = "json"  # "json" (the envelope) | "text" (the older plain-text 429)
    redirect_status: int = 0  # 301/302/303/307/308: run POSTs answer it, creating nothing
    redirect_location: str = ""  # Location of those answers ("" = the same path on the service)
    max_upload_bytes: int = 25_000_000  # larger asset PUTs get 413
    upload_ttl: float = 3600.0  # seconds an upload URL stays valid (wall clock, not scaled)
    queue_seconds: float | None = None  # how long new runs stay queued (None = by app duration)

    def validate(self) -> None:
        """Reject nonsense early with a message that names the fix."""
        if self.time_scale <= 0:
            raise ValueError(f"time_scale must be > 0 (got {self.time_scale}); use e.g. 0.02")
        for name in ("error_rate", "drop_rate", "fail_rate", "garbage_rate", "truncate_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} is a fraction between 0 and 1 (got {value})")
        for name in ("rate_limit", "latency", "force_429", "max_body_bytes", "max_upload_bytes"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0 (got {getattr(self, name)})")
        if self.rate_window <= 0:
            raise ValueError(f"rate_window must be > 0 seconds (got {self.rate_window})")
        if self.queue_seconds is not None and self.queue_seconds < 0:
            raise ValueError(f"queue_seconds must be >= 0 or None (got {self.queue_seconds})")
        if self.upload_ttl <= 0:
            raise ValueError(f"upload_ttl must be > 0 seconds (got {self.upload_ttl})")
        choices = {"validation_details": ("list", "nested"), "rate_limit_body": ("json", "text")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} is one of {allowed} (got {getattr(self, name)!r})")
        if self.redirect_status not in (0, 301, 302, 303, 307, 308):
            raise ValueError(
                f"redirect_status is 0 (off) or one of 301, 302, 303, 307, 308 "
                f"(got {self.redirect_status})"
            )

    @classmethod
    def names(cls) -> set[str]:
        return {f.name for f in fields(cls)}


@dataclass(frozen=True)
class Delivery:
    """One webhook attempt: ``status`` is the receiver's HTTP status, or None with ``error``."""

    execution_id: str
    attempt: int
    url: str
    status: int | None
    error: str | None
    at: float


@dataclass
class _Counts:
    requests: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    run_requests: int = 0
    run_creations: int = 0
    run_creations_by_app: Counter[str] = field(default_factory=Counter)
    deliveries: list[Delivery] = field(default_factory=list)
    url_fetches: int = 0
    url_fetches_refused: int = 0
    webhooks_refused: int = 0
    rate_limited: int = 0
    requests_by_edition: Counter[str] = field(default_factory=Counter)
    outputs_produced: Counter[str] = field(default_factory=Counter)
    cancel_requests: int = 0
    cancellations: int = 0
    upload_urls: int = 0
    uploads: int = 0
    uploads_refused: int = 0
    estimates: int = 0
    waits: int = 0
    wait_timeouts: int = 0
    run_lists: int = 0
    credits_spent: int = 0


class Stats:
    """What happened, for tests: every attribute returns a snapshot (copies, not live views)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._c = _Counts()

    def reset(self) -> None:
        with self._lock:
            self._c = _Counts()

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            setattr(self._c, name, getattr(self._c, name) + amount)

    def count(self, name: str, key: Any, amount: int = 1) -> None:
        """Increment ``key`` in the counter called ``name`` (by_status, faults, ...)."""
        with self._lock:
            getattr(self._c, name)[key] += amount

    def record_delivery(self, delivery: Delivery) -> None:
        with self._lock:
            self._c.deliveries.append(delivery)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        with self._lock:
            try:
                value = getattr(self._c, name)
            except AttributeError:
                raise AttributeError(f"Stats has no counter {name!r}") from None
            if isinstance(value, Counter):
                return Counter(value)
            return list(value) if isinstance(value, list) else value

    def snapshot(self) -> dict[str, Any]:
        """All counters as plain data (for printing or JSON)."""
        with self._lock:
            c = replace(self._c)
        return {
            "requests": c.requests,
            "by_status": dict(c.by_status),
            "faults": dict(c.faults),
            "run_requests": c.run_requests,
            "run_creations": c.run_creations,
            "run_creations_by_app": dict(c.run_creations_by_app),
            "deliveries": len(c.deliveries),
            "url_fetches": c.url_fetches,
            "url_fetches_refused": c.url_fetches_refused,
            "webhooks_refused": c.webhooks_refused,
            "rate_limited": c.rate_limited,
            "requests_by_edition": dict(c.requests_by_edition),
            "outputs_produced": sum(c.outputs_produced.values()),
            "cancel_requests": c.cancel_requests,
            "cancellations": c.cancellations,
            "upload_urls": c.upload_urls,
            "uploads": c.uploads,
            "uploads_refused": c.uploads_refused,
            "estimates": c.estimates,
            "waits": c.waits,
            "wait_timeouts": c.wait_timeouts,
            "run_lists": c.run_lists,
            "credits_spent": c.credits_spent,
        }

    def __repr__(self) -> str:
        return f"Stats({self.snapshot()})"


def now() -> float:
    """Wall-clock epoch seconds (one place, so the clock is easy to reason about)."""
    return time.time()
