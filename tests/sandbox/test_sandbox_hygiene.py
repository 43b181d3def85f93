"""Sandbox hygiene: it listens on loopback only by default, never fetches a url input outside
loopback (no SSRF through a shared sandbox), and refuses oversized request bodies with 413.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lamina_notebook.sandbox import Sandbox
from lamina_notebook.sandbox.__main__ import parser

LIMIT = 10_000


@pytest.fixture(scope="module")
def hsb() -> Iterator[Sandbox]:
    with Sandbox(time_scale=0.02, rate_limit=0, max_body_bytes=LIMIT) as sb:
        yield sb


def _listening_addresses(port: int) -> list[str]:
    """Local addresses in LISTEN state on ``port``, read from the kernel's socket tables."""
    found = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        path = Path(table)
        if not path.exists():
            continue
        for row in path.read_text().splitlines()[1:]:
            cols = row.split()
            addr, hexport = cols[1].split(":")
            if int(hexport, 16) == port and cols[3] == "0A" and len(addr) == width:
                found.append(addr)
    return found


def _own_non_loopback_ip() -> str | None:
    """This machine's outward address (a UDP connect sends nothing), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            ip = str(s.getsockname()[0])
        except OSError:
            return None
    return None if ip.startswith("127.") or ip == "0.0.0.0" else ip


def test_binds_loopback_by_default(hsb: Sandbox) -> None:
    assert hsb.host == "127.0.0.1" and hsb.base_url.startswith("http://127.0.0.1:")
    if not Path("/proc/net/tcp").exists():
        pytest.skip("no /proc/net/tcp to inspect the bound socket")
    assert _listening_addresses(hsb.port) == ["0100007F"]  # 127.0.0.1, and nothing else
    other = _own_non_loopback_ip()
    if other is not None:  # the machine's own LAN address: the port is not open there
        with pytest.raises(OSError), socket.create_connection((other, hsb.port), timeout=2):
            pass
    assert parser().parse_args([]).host == "127.0.0.1"  # the CLI default too


REMOTE_URLS = [
    "http://10.1.2.3/photo.png",  # private LAN
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata service
    "https://example.com/cat.png",  # the internet (never resolved)
    "http://[::ffff:10.0.0.1]/x.png",  # IPv4-mapped IPv6
    "http://2130706433/x.png",  # 127.0.0.1 spelled as a number
    "http://127.0.0.1.nip.io/x.png",  # a name that resolves to loopback
    "http://localhost.evil.example/x.png",  # "localhost" as a prefix only
    "http://0.0.0.0/x.png",  # unspecified address
]


@pytest.mark.parametrize("url", REMOTE_URLS)
def test_url_inputs_outside_loopback_are_refused_without_fetching(hsb: Sandbox, url: str) -> None:
    before = hsb.stats.snapshot()
    reply = httpx.post(
        f"{hsb.base_url}/api/apps/{hsb.app_id('Photo Stylizer')}/executions",
        json={"inputs": {"Upload": url}},
        headers={"x-api-key": hsb.api_key},
    )
    after = hsb.stats.snapshot()
    assert reply.status_code == 202
    assert after["url_fetches_refused"] == before["url_fetches_refused"] + 1
    assert after["url_fetches"] == before["url_fetches"]


def test_a_loopback_url_input_is_fetched(hsb: Sandbox) -> None:
    before = hsb.stats.url_fetches
    reply = httpx.post(
        f"{hsb.base_url}/api/apps/{hsb.app_id('Photo Stylizer')}/executions",
        json={"inputs": {"Upload": f"{hsb.base_url}/samples/tiny.png"}},
        headers={"x-api-key": hsb.api_key},
    )
    assert reply.status_code == 202 and hsb.stats.url_fetches == before + 1


def _run_url(sb: Sandbox) -> str:
    return f"{sb.base_url}/api/apps/{sb.app_id('Text to Image')}/executions"


def test_oversized_body_is_413_before_anything_is_created(hsb: Sandbox) -> None:
    before = hsb.stats.run_creations
    big = {"inputs": {"Prompt": "x" * (LIMIT + 1)}}
    reply = httpx.post(_run_url(hsb), json=big, headers={"x-api-key": hsb.api_key})
    assert reply.status_code == 413
    assert reply.json()["code"] == "PAYLOAD_TOO_LARGE" and "larger than" in reply.json()["error"]
    assert hsb.stats.run_creations == before


def test_oversized_chunked_body_without_length_is_413(hsb: Sandbox) -> None:
    before = hsb.stats.run_creations

    def chunks() -> Iterator[bytes]:
        yield b'{"inputs": {"Prompt": "'
        for _ in range(LIMIT // 1000 + 2):
            yield b"y" * 1000
        yield b'"}}'

    reply = httpx.post(
        _run_url(hsb),
        content=chunks(),
        headers={"x-api-key": hsb.api_key, "content-type": "application/json"},
    )
    assert reply.status_code == 413 and hsb.stats.run_creations == before


def test_a_lying_content_length_is_refused(hsb: Sandbox) -> None:
    """A declared length over the cap is refused at once, without reading the body."""
    with socket.create_connection(("127.0.0.1", hsb.port), timeout=10) as s:
        head = (
            f"POST /api/apps/{hsb.app_id('Text to Image')}/executions HTTP/1.1\r\n"
            f"Host: 127.0.0.1\r\nx-api-key: {hsb.api_key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {10 * LIMIT}\r\n\r\n"
        )
        s.sendall(head.encode() + b'{"inputs": {')
        deadline = time.monotonic() + 10
        answer = b""
        while b"\r\n\r\n" not in answer and time.monotonic() < deadline:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
