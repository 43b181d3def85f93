"""The ``lamina-sandbox`` command (also ``python -m lamina_notebook.sandbox``).

Serves the sandbox in the foreground until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from .process import watch_parent
from .server import DEFAULT_CREDITS, DEFAULT_KEY, LOOPBACK, Sandbox


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lamina-sandbox",
        description="Offline imitation of the Lamina API, both editions (/api and /v1: apps, "
        "runs, polling, signed webhooks, cancel, asset uploads, estimates) for notebooks, demos "
        "and tests. No network needed.",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to listen on (default 127.0.0.1; others expose it)",
    )
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = a free one)")
    p.add_argument(
        "--api-key", default=DEFAULT_KEY, help=f"accepted API key (default {DEFAULT_KEY})"
    )
    p.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="multiplies every server duration (0.1 = ten times faster)",
    )
    p.add_argument(
        "--rate-limit",
        type=int,
        default=100,
        help="requests per minute per client IP (default 100; 0 = off)",
    )
    p.add_argument(
        "--credits",
        type=int,
        default=DEFAULT_CREDITS,
        help=f"the workspace's starting credit balance (default {DEFAULT_CREDITS})",
    )
    p.add_argument(
        "--validation-details",
        choices=("list", "nested"),
        default="list",
        help="form of 400 details: a list of strings, or the nested {code, message, details}",
    )
    p.add_argument(
        "--rate-limit-body",
        choices=("json", "text"),
        default="json",
        help="429 body: the JSON envelope, or the older plain-text sentence",
    )
    p.add_argument("--error-rate", type=_fraction, default=0.0, help="fraction of 500/503 answers")
    p.add_argument(
        "--latency",
        type=_non_negative,
        default=0.0,
        help="add a random delay of up to this many seconds to each API request",
    )
    p.add_argument(
        "--drop-rate",
        type=_fraction,
        default=0.0,
        help="fraction of answers whose connection drops after the handler ran",
    )
    p.add_argument(
        "--fail-rate", type=_fraction, default=0.0, help="fraction of executions that fail"
    )
    p.add_argument(
        "--signing-key",
        metavar="PEM",
        default=None,
        help="Ed25519 private key file for webhooks (created if missing)",
    )
    p.add_argument(
        "--exit-with-parent",
        metavar="PID",
        type=int,
        default=None,
        help="stop when process PID ends (how %%lamina sandbox runs it next to a kernel)",
    )
    p.add_argument(
        "--allow-remote-urls",
        action="store_true",
        help="fetch url inputs and deliver webhooks to non-loopback hosts too",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.time_scale <= 0:
        parser().error("--time-scale must be > 0")
    if args.credits < 0:
        parser().error("--credits must be >= 0")
    if args.host not in LOOPBACK:
        print(
            f"warning: listening on {args.host}: anyone who can reach this address can use the "
            "sandbox. Use --host 127.0.0.1 to keep it local.",
            file=sys.stderr,
        )
    sb = Sandbox(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        time_scale=args.time_scale,
        rate_limit=args.rate_limit,
        error_rate=args.error_rate,
        latency=args.latency,
        drop_rate=args.drop_rate,
        fail_rate=args.fail_rate,
        signing_key_path=args.signing_key,
        allow_remote_urls=args.allow_remote_urls,
        credit_balance=args.credits,
        validation_details=args.validation_details,
        rate_limit_body=args.rate_limit_body,
    )
    try:
        sb.start()
    except OSError as exc:
        print(f"lamina-sandbox: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    # Explicit handlers: a shell's background job inherits SIGINT as ignored.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if args.exit_with_parent is not None:
        watch_parent(args.exit_with_parent, stop)
    print(f"Lamina sandbox running at {sb.base_url}  (API: {sb.base_url}/api and {sb.base_url}/v1)")
    print(f"API key: {sb.api_key}")
    print(f"Try: curl -H 'x-api-key: {sb.api_key}' {sb.base_url}/api/apps")
    print(
        "Use it from Python: LAMINA_BASE_URL and LAMINA_API_KEY as above. Ctrl-C to stop.",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sb.stop()
        print("sandbox stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
