"""Password hashing: production's argon2 cost, the cost the environment sets, no work at import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from argon2 import PasswordHasher, Type

from core import security
from core.security import hasher_for, password_hasher, use_password_hasher, verify_password
from core.settings import Settings
from tests.conftest import TEST_ARGON2_ENV

ROOT = Path(__file__).resolve().parents[2]


def test_production_hashes_with_argon2id_at_the_rfc_9106_low_memory_cost() -> None:
    """The tests hash cheaply (tests/conftest.py); a server configured by nothing must not."""
    for settings in (Settings(), Settings.from_env({})):
        hasher = hasher_for(settings)
        assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (3, 65536, 4)
        assert (hasher.hash_len, hasher.salt_len, hasher.type) == (32, 16, Type.ID)


def test_the_cost_comes_from_the_environment() -> None:
    settings = Settings.from_env(TEST_ARGON2_ENV)
    hasher = hasher_for(settings)
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (1, 8, 1)


def test_without_an_injected_hasher_the_environment_decides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    injected = password_hasher()
    monkeypatch.setenv("MEIJING_ARGON2_TIME_COST", "2")
    monkeypatch.setenv("MEIJING_ARGON2_MEMORY_KIB", "16")
    monkeypatch.setenv("MEIJING_ARGON2_PARALLELISM", "2")
    use_password_hasher(None)
    try:
        hasher = password_hasher()
        assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (2, 16, 2)
    finally:
        use_password_hasher(injected)
    assert password_hasher() is injected


async def test_an_injected_hasher_hashes_and_checks_passwords() -> None:
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    injected = password_hasher()
    use_password_hasher(cheap)
    try:
        stored = security.hash_password_sync("secret")
        assert cheap.verify(stored, "secret")
        assert not security.needs_rehash(stored)
        assert await verify_password(stored, "secret")
        assert not await verify_password(stored, "wrong")
        # An unknown account is still checked against a hash of the injected hasher's cost.
        assert not await verify_password(None, "secret")
        assert not cheap.check_needs_rehash(security._hashing.dummy())
    finally:
        use_password_hasher(injected)


def test_importing_the_module_hashes_nothing() -> None:
    """Every process importing it (each test worker, the CLI) paid ~0.5 s for the dummy hash."""
    probe = (
        "import argon2\n"
        "def refuse(*args, **kwargs):\n"
        "    raise AssertionError('argon2 hashed at import')\n"
        "argon2.PasswordHasher.hash = refuse\n"
        "import core.security\n"
        "assert core.security._hashing._dummy is None\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
