"""The committed schema.graphql is the contract frontends and phones read: it must be current."""

from __future__ import annotations

from pathlib import Path

from schema import sdl

SDL_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_committed_schema_graphql_is_current() -> None:
    assert SDL_FILE.read_text(encoding="utf-8") == sdl(), (
        "schema.graphql is stale: run `make schema` and commit it"
    )
