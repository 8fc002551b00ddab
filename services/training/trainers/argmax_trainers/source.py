"""Where the dataset's bytes come from: a presigned URL (streamed once, hashed, spooled to local
disk so later passes need not download again) or a local path (read in place).

Nothing here holds the file in memory: it moves in 1 MiB chunks.
"""

from __future__ import annotations

import hashlib
import io
import os
import time
import urllib.error
import urllib.request
from typing import BinaryIO

CHUNK = 1 << 20


class HashingReader(io.RawIOBase):
    """A readable stream that hashes (and optionally copies) every byte passing through it."""

    def __init__(self, inner: BinaryIO, copy_to: BinaryIO | None = None) -> None:
        self.inner = inner
        self.copy_to = copy_to
        self.hash = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self.inner.read(len(buffer))
        if not data:
            return 0
        n = len(data)
        buffer[:n] = data
        self.hash.update(data)
        self.size += n
        if self.copy_to is not None:
            self.copy_to.write(data)
        return n


def open_url(url: str, attempts: int = 5) -> BinaryIO:
    """Opens a GET with a few retries on connection errors and 5xx (the object store blinking)."""
    delay = 1.0
    for attempt in range(1, attempts + 1):
        try:
            return urllib.request.urlopen(urllib.request.Request(url, method="GET"), timeout=60)
        except urllib.error.HTTPError as error:
            if error.code < 500 or attempt == attempts:
                raise
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if attempt == attempts:
                raise
        time.sleep(delay)
        delay *= 2
    raise AssertionError("unreachable")


def is_url(location: str) -> bool:
    return location.startswith("http://") or location.startswith("https://")


def open_hashing(location: str, spool_path: str | None) -> tuple[HashingReader, list[BinaryIO]]:
    """The first pass's stream: hashes every byte; a URL's bytes are also copied to `spool_path`."""
    if is_url(location):
        assert spool_path is not None
        inner = open_url(location)
        spool = open(spool_path, "wb")
        return HashingReader(inner, spool), [inner, spool]
    inner = open(location, "rb")
    return HashingReader(inner), [inner]


def drain(reader: HashingReader) -> None:
    """Reads what the parser left (trailing bytes) so the hash covers the whole file."""
    buffer = bytearray(CHUNK)
    while reader.readinto(buffer):
        pass


def remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
