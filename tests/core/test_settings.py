"""Settings come from the environment, under the names the README gives them."""

from __future__ import annotations

import re
from pathlib import Path

from core.settings import ENVIRONMENT, Settings

README = Path(__file__).resolve().parents[2] / "README.md"
PARSED_IN_FROM_ENV = {"MEIJING_LOG_JSON", "MEIJING_METRICS_OPERATIONS"}


def test_every_variable_the_readme_names_is_read() -> None:
    """A name ending in `_*` (MEIJING_ARGON2_*) stands for the variables it begins."""
    text = README.read_text(encoding="utf-8")
    named = re.findall(r"(MEIJING_[A-Z0-9_]*[A-Z0-9])(_\*)?", text)
    assert named, "the README names no MEIJING_ variables"
    known = set(ENVIRONMENT) | PARSED_IN_FROM_ENV
    unknown = {
        name
        for name, wildcard in named
        if not (any(k.startswith(name + "_") for k in known) if wildcard else name in known)
    }
    assert unknown == set()


def test_every_environment_variable_sets_its_setting() -> None:
    samples = {int: "7", float: "0.5", str: "x" * 40}
    for variable, (name, kind) in ENVIRONMENT.items():
        value = samples[kind] if variable != "DATABASE_URL" else "sqlite:///x.db"
        settings = Settings.from_env({variable: value})
        expected = kind(value) if variable != "DATABASE_URL" else "sqlite+aiosqlite:///x.db"
        assert getattr(settings, name) == expected, variable


def test_session_cache_seconds_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).session_cache_seconds == 5.0
    assert Settings.from_env({"MEIJING_SESSION_CACHE_SECONDS": "1"}).session_cache_seconds == 1.0
