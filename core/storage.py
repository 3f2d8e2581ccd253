"""Where uploaded files' bytes live: a small interface and a local-folder default.

Files are content-addressed by sha256, so storing the same bytes twice keeps one copy and a
write is idempotent: an upload whose transaction rolls back leaves at most an unreferenced
file, never a row without its bytes. An object store fits behind the same three methods.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from core.settings import Settings

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class FileMissing(LookupError):
    """No bytes are stored under this key."""


class Storage(Protocol):
    async def put(self, data: bytes) -> str:
        """Stores the bytes; returns their key (the lowercase hex sha256)."""
        ...

    async def get(self, key: str) -> bytes:
        """The bytes stored under `key`; FileMissing when there are none."""
        ...

    async def delete(self, key: str) -> None:
        """Removes the bytes (absent ones are fine)."""
        ...


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class LocalStorage:
    """Files under a folder, fanned out by the first two hex digits (ab/abcdef…)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not _SHA256.match(key):
            raise ValueError("storage keys are sha256 hex digests")
        return self.root / key[:2] / key

    def _write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise FileMissing(key) from exc

    async def put(self, data: bytes) -> str:
        key = sha256_hex(data)
        # File I/O runs in a thread: the event loop keeps serving other requests.
        await asyncio.to_thread(self._write, key, data)
        return key

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._read, key)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)


def storage_for(settings: Settings) -> Storage:
    """The configured storage (MEIJING_STORAGE_DIR, default ./data/files)."""
    return LocalStorage(settings.storage_dir)
