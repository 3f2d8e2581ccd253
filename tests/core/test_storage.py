"""The local-folder storage: content-addressed, idempotent, and strict about keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.storage import FileMissing, LocalStorage, sha256_hex


def stored_files(root: Path) -> list[str]:
    return [p.name for p in root.rglob("*") if p.is_file()]


async def test_bytes_are_stored_under_their_sha256_once(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    key = await storage.put(b"meeting minutes")
    assert key == sha256_hex(b"meeting minutes")
    assert await storage.put(b"meeting minutes") == key
    assert await storage.get(key) == b"meeting minutes"
    assert stored_files(tmp_path) == [key]


async def test_missing_bytes_raise_file_missing_and_delete_is_idempotent(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    key = await storage.put(b"x")
    await storage.delete(key)
    await storage.delete(key)
    with pytest.raises(FileMissing):
        await storage.get(key)


async def test_keys_that_are_not_digests_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        await LocalStorage(tmp_path).get("../../etc/passwd")
