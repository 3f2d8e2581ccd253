"""build_schema builds once per set of limits, and its key holds every setting it reads."""

from __future__ import annotations

import dataclasses
from typing import Any

from core.settings import Settings
from schema import _build_schema, _schema_key, build_schema


class Recording:
    """A Settings that notes which fields are read."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.read: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        self.read.add(name)
        return getattr(self._settings, name)


def test_the_key_holds_every_setting_the_schema_is_built_from() -> None:
    fields = {f.name for f in dataclasses.fields(Settings)}
    for settings in (Settings(), Settings(env="production", metrics_operations=("MyDay",))):
        building, keying = Recording(settings), Recording(settings)
        _build_schema(building)  # type: ignore[arg-type]
        _schema_key(keying)  # type: ignore[arg-type]
        # `production` is a property over `env`.
        assert {n if n in fields else "env" for n in building.read} <= {
            n if n in fields else "env" for n in keying.read
        }


def test_apps_with_the_same_limits_share_one_schema() -> None:
    first = build_schema(Settings(database_url="sqlite+aiosqlite:///one.db"))
    assert build_schema(Settings(database_url="sqlite+aiosqlite:///two.db")) is first
    assert build_schema(Settings(max_list_length=7)) is not first
    assert build_schema(Settings(env="production")) is not first


def test_a_shared_schema_is_the_one_built_afresh() -> None:
    for settings in (Settings(), Settings(env="production"), Settings(max_query_depth=3)):
        assert build_schema(settings).as_str() == _build_schema(settings).as_str()
