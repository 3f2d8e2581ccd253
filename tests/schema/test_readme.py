"""The GraphQL examples in README.md stay valid against the schema."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import parse, validate

from core.settings import Settings
from schema import build_schema

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_examples_are_valid_queries() -> None:
    blocks = re.findall(r"```graphql\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 2
    schema = build_schema(Settings())._schema
    for block in blocks:
        errors = validate(schema, parse(block))
        assert not errors, (block, errors)
