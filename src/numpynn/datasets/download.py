"""Download a file from a list of mirrors and verify its SHA-256 before anyone reads it; the
cache directory the datasets share."""

from __future__ import annotations

import hashlib
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from ..errors import FileFormatError

log = logging.getLogger("numpynn.datasets")

TIMEOUT = 30.0  # seconds per connection attempt and per blocking read
MAX_DOWNLOAD_BYTES = 64 << 20  # the largest MNIST-like archive is about 26 MB
_CHUNK = 1 << 20


class DownloadError(OSError):
    """Every mirror was unreachable (no network, DNS failure, timeout, HTTP error)."""


def fetch(
    file_name: str, mirrors: Sequence[str], sha256: str, *, timeout: float = TIMEOUT
) -> bytes:
    """The bytes of ``file_name`` from the first mirror that serves it with the expected SHA-256.

    ``mirrors`` are base URLs ending in "/". Raises FileFormatError when a mirror answered but
    no answer matched the digest (a corrupt or tampered download), DownloadError when no
    mirror could be reached at all.
    """
    failures: list[str] = []
    mismatches: list[str] = []
    for base in mirrors:
        url = base + file_name
        log.info("downloading %s", url)
        try:
            data = _get(url, timeout)
        except (urllib.error.URLError, OSError, ValueError) as exc:  # HTTPError is a URLError
            reason = getattr(exc, "reason", exc)
            failures.append(f"{url}: {reason}")
            log.info("could not download %s: %s", url, reason)
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest == sha256:
            return data
        mismatches.append(f"{url}: SHA-256 {digest}, expected {sha256}")
        log.warning("checksum mismatch for %s: got %s, expected %s", url, digest, sha256)
    if mismatches:
        raise FileFormatError(
            f"{file_name}: downloaded data failed the SHA-256 check (corrupt or tampered), "
            "refusing to use it: " + "; ".join(mismatches)
        )
    raise DownloadError(f"{file_name}: no mirror reachable: " + "; ".join(failures))


def verify_sha256(data: bytes, sha256: str, name: str) -> bytes:
    """``data`` if its SHA-256 is ``sha256``; else FileFormatError naming ``name`` (the file),
    the expected and the actual digest."""
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise FileFormatError(
            f"{name}: SHA-256 {digest}, expected {sha256} (a changed or corrupt copy), "
            "refusing to use it"
        )
    return data


def cache_dir(given: str | os.PathLike[str] | None = None) -> Path:
    """The datasets' cache directory: ``given``, else ``NUMPYNN_CACHE_DIR``, else
    ``~/.cache/numpynn``."""
    if given is not None:
        return Path(given)
    if os.environ.get("NUMPYNN_CACHE_DIR"):
        return Path(os.environ["NUMPYNN_CACHE_DIR"])
    return Path.home() / ".cache" / "numpynn"


def _get(url: str, timeout: float) -> bytes:
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"only http(s) URLs are downloaded, got {url!r}")
    with urllib.request.urlopen(url, timeout=timeout) as response:
        buf = bytearray()
        while chunk := response.read(_CHUNK):
            buf += chunk
            if len(buf) > MAX_DOWNLOAD_BYTES:
                raise ValueError(f"response larger than {MAX_DOWNLOAD_BYTES} bytes")
        return bytes(buf)
