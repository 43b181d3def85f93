"""Where the API key and base URL come from, and writing them the way Lamina's own CLI does.

Order: explicit arguments, then ``LAMINA_API_KEY`` / ``LAMINA_BASE_URL``, then
``~/.lamina/config.json`` (``{"version": 1, "credentials": {"kind": "apikey", "apiKey",
"baseUrl", "savedAt"}}``, directory 0700, file 0600).
"""

from __future__ import annotations

import json
import logging
import os
import stat
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigurationError

__all__ = [
    "DEFAULT_BASE_URL",
    "Credentials",
    "check_key",
    "config_path",
    "load_config_credentials",
    "normalize_base_url",
    "resolve_credentials",
    "save_credentials",
]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://app.uselamina.ai"
SOURCE_ARGUMENT = "argument"
SOURCE_ENV = "LAMINA_API_KEY"
SOURCE_FILE = "~/.lamina/config.json"
#: Path prefixes of the API's editions, stripped from a base URL that ends with one.
EDITION_PREFIXES = ("/api", "/v1")


@dataclass(frozen=True)
class Credentials:
    """A resolved key and base URL; ``key_source`` says where the key came from (never the key).

    The key is excluded from ``repr`` so that printing the object, or a traceback that shows
    locals, cannot leak it.
    """

    api_key: str | None = field(repr=False)
    base_url: str
    key_source: str | None


def config_path() -> Path:
    """``~/.lamina/config.json``, the file Lamina's CLI writes (``HOME`` decides ``~``)."""
    return Path.home() / ".lamina" / "config.json"


def normalize_base_url(url: str, api_prefix: str | None = None) -> str:
    """Validate an http(s) base URL and strip a trailing slash and a trailing ``api_prefix``
    (None: either edition's prefix, ``/api`` or ``/v1``).

    ``https://app.uselamina.ai/api`` (the form the seed's samples use) becomes
    ``https://app.uselamina.ai``, so the prefix is never doubled and the edition setting,
    not the base URL, decides which one is spoken.
    """
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"The Lamina base URL {text!r} is not an http(s) URL.",
            hint=f"Use the service's address, e.g. {DEFAULT_BASE_URL} (set LAMINA_BASE_URL "
            "or pass base_url=).",
        )
    if parts.query or parts.fragment or "@" in parts.netloc:
        raise ConfigurationError(
            "The Lamina base URL must not carry credentials, a query or a fragment.",
            hint=f"Use scheme://host[:port] only, e.g. {DEFAULT_BASE_URL}.",
        )
    path = parts.path.rstrip("/")
    if api_prefix is None:
        prefixes: tuple[str, ...] = EDITION_PREFIXES
    else:
        prefixes = ("/" + api_prefix.strip("/"),) if api_prefix.strip("/") else ()
    for prefix in prefixes:
        if path.endswith(prefix):
            path = path[: -len(prefix)]
            break
    return f"{parts.scheme}://{parts.netloc}{path}"


def check_key(key: str, source: str) -> str:
    """``key`` stripped; a ConfigurationError naming ``source`` (never the key) if unusable."""
    key = key.strip()
    if not key:
        raise ConfigurationError(
            f"The API key from {source} is empty.",
            hint="Set LAMINA_API_KEY=lma_..., run %lamina login, or use %lamina sandbox.",
        )
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in key) or not key.isascii():
        # The key itself is never echoed, only where it came from.
        raise ConfigurationError(
            f"The API key from {source} contains spaces or control characters.",
            hint="Copy the key again from Lamina's settings page (it starts with lma_).",
        )
    return key


def _warn_if_readable_by_others(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("%s is readable by other users; run: chmod 600 %s", path, path)


def load_config_credentials(path: Path | None = None) -> tuple[str, str | None] | None:
    """The ``(apiKey, baseUrl)`` saved by the CLI, or None when there is no such file.

    A file that exists but cannot be read as the CLI's format raises ConfigurationError that
    names the file and how to fix it (the key is not in the message).
    """
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigurationError(
            f"Cannot read {path}: {exc.strerror}.",
            hint="Fix its permissions (chmod 600) or set LAMINA_API_KEY instead.",
        ) from None
    try:
        doc = json.loads(text)
    except ValueError:
        raise ConfigurationError(
            f"{path} is not valid JSON.",
            hint="Save the key again with %lamina login --save (or delete the file).",
        ) from None
    creds = doc.get("credentials") if isinstance(doc, dict) else None
    if not isinstance(creds, dict):
        return None
    if creds.get("kind", "apikey") != "apikey" or not isinstance(creds.get("apiKey"), str):
        return None
    _warn_if_readable_by_others(path)
    base = creds.get("baseUrl")
    return creds["apiKey"], base if isinstance(base, str) and base.strip() else None


def resolve_credentials(
    api_key: str | None = None,
    base_url: str | None = None,
    *,
    api_prefix: str | None = None,
    env: dict[str, str] | None = None,
) -> Credentials:
    """Find the key and base URL: arguments, then the environment, then the CLI's file.

    The file's ``baseUrl`` is used only together with the file's key, so a key from one place
    is never sent to a base URL saved for another (say, a sandbox key and the real service).
    No key anywhere gives ``api_key=None``; the client raises when it first needs one.
    """
    env = dict(os.environ) if env is None else env
    key: str | None = None
    source: str | None = None
    file_base: str | None = None
    if api_key is not None:
        key, source = check_key(api_key, "the api_key argument"), SOURCE_ARGUMENT
    elif env.get("LAMINA_API_KEY", "").strip():
        key, source = check_key(env["LAMINA_API_KEY"], "LAMINA_API_KEY"), SOURCE_ENV
    else:
        saved = load_config_credentials()
        if saved is not None:
            key, source = check_key(saved[0], str(config_path())), SOURCE_FILE
            file_base = saved[1]
    chosen = base_url or env.get("LAMINA_BASE_URL", "").strip() or file_base or DEFAULT_BASE_URL
    return Credentials(key, normalize_base_url(chosen, api_prefix), source)


def save_credentials(
    api_key: str, base_url: str | None = None, *, path: Path | None = None
) -> Path:
    """Write the key (and base URL) to ``~/.lamina/config.json`` as Lamina's CLI does.

    The directory is made (or tightened to) 0700 and the file written atomically with 0600;
    other top-level fields of an existing file are kept. Returns the path.
    """
    key = check_key(api_key, "the key to save")
    base = normalize_base_url(base_url) if base_url else DEFAULT_BASE_URL
    path = path or config_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    doc: dict[str, Any] = {}
    try:
        existing = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(existing, dict):
            doc = existing
    except (OSError, ValueError):
        doc = {}
    saved_at = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    doc["version"] = doc.get("version", 1)
    doc["credentials"] = {"kind": "apikey", "apiKey": key, "baseUrl": base, "savedAt": saved_at}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
