"""The sync contract is served exactly as written, for Visit and every collection after its pattern.

`sync/contract.graphql` is the committed copy of the wire contract phones rely on (the shared
original lives outside the repository, and CI clones the repository alone). Visit is spelled out
there in full; every other collection follows the same pattern with its own name, so its
expected shape is generated from the contract by substituting the name and taking the fields
from the collection's spec in sync/collection.py, by the rule Visit shows (checked below).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    print_schema,
)

from schema import sdl
from sync.collection import COLLECTIONS, VISIT, Collection, WireField

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "sync" / "contract.graphql"
SHARED_CONTRACT = ROOT.parent / "shared" / "sync-contract.graphql"
ROOT_TYPES = ("Query", "Mutation", "Subscription")
SCALARS = {"text": "String", "enum": "String", "datetime": "String", "branch": "String"}
SCALARS |= {"member": "String", "json": "String", "int": "Int"}


def contract_schema() -> GraphQLSchema:
    return build_schema(CONTRACT.read_text(encoding="utf-8"))


def served_schema() -> GraphQLSchema:
    """What we export (schema.graphql is this text, see test_sdl.py), read back as a schema."""
    return build_schema(sdl())


# --- the expected shape of each collection ----------------------------------------------------


def _output_type(f: WireField) -> str:
    # List fields are stored as "[]" when absent, so a document always carries them.
    nullable = not f.required and f.kind != "json"
    return SCALARS[f.kind] + ("" if nullable else "!")


def object_fields(collection: Collection) -> list[tuple[str, str]]:
    """<Name>'s fields as the builders select them: id, the spec's, cursor, tombstone."""
    return [
        ("id", "ID!"),
        *((f.name, _output_type(f)) for f in collection.fields),
        ("updatedAt", "Float!"),
        ("deleted", "Boolean!"),
    ]


def input_fields(collection: Collection) -> list[tuple[str, str]]:
    """<Name>Input: every field of <Name>, optional, except id: ID!."""
    return [
        (name, kind if name == "id" else kind.removesuffix("!"))
        for name, kind in object_fields(collection)
    ]


def _replace_body(text: str, header: str, fields: list[tuple[str, str]]) -> str:
    start = text.index(header + " {\n") + len(header) + 3
    end = text.index("\n}", start)
    return text[:start] + "\n".join(f"  {name}: {kind}" for name, kind in fields) + text[end:]


def expected_schema(collection: Collection) -> GraphQLSchema:
    """The contract as it reads for `collection`: Visit's definitions with the name substituted."""
    text = print_schema(contract_schema())
    if collection is not VISIT:
        text = _replace_body(text, "type Visit", object_fields(collection))
        text = _replace_body(text, "input VisitInput", input_fields(collection))
        lower = collection.name[0].lower() + collection.name[1:]
        text = text.replace("visitPushRow", f"{lower}PushRow").replace("Visit", collection.name)
    return build_schema(text)


def test_the_field_rule_reproduces_the_contracts_visit() -> None:
    contract = contract_schema()
    visit = contract.get_type("Visit")
    visit_input = contract.get_type("VisitInput")
    assert isinstance(visit, GraphQLObjectType)
    assert isinstance(visit_input, GraphQLInputObjectType)
    assert object_fields(VISIT) == [(n, str(f.type)) for n, f in visit.fields.items()]
    assert input_fields(VISIT) == [(n, str(f.type)) for n, f in visit_input.fields.items()]


# --- comparing shapes -------------------------------------------------------------------------


def _argument(arg: GraphQLArgument | GraphQLInputField) -> tuple[str, Any]:
    return (str(arg.type), repr(arg.default_value))


def _field(field: GraphQLField) -> tuple[str, list[tuple[str, tuple[str, Any]]]]:
    return (str(field.type), [(name, _argument(arg)) for name, arg in field.args.items()])


def _differences(
    expected: GraphQLSchema, served: GraphQLSchema, with_descriptions: bool
) -> list[str]:
    """Every way `served` departs from `expected` on what `expected` defines."""
    problems: list[str] = []
    for name, want in expected.type_map.items():
        if name.startswith("__") or name in ("String", "Int", "Float", "Boolean", "ID"):
            continue
        got: GraphQLNamedType | None = served.get_type(name)
        if got is None or type(got) is not type(want):
            problems.append(f"{name}: expected a {type(want).__name__}, served {got!r}")
            continue
        described = with_descriptions and want.description and name not in ROOT_TYPES
        if described and got.description != want.description:
            problems.append(f"{name}: description {got.description!r}")
        if isinstance(want, GraphQLInputObjectType):
            assert isinstance(got, GraphQLInputObjectType)
            # An input is the whole contract: an extra field would be one a builder never sends.
            wanted = [(n, _argument(f)) for n, f in want.fields.items()]
            served_fields = [(n, _argument(f)) for n, f in got.fields.items()]
            if served_fields != wanted:
                problems.append(f"{name}: fields {served_fields} != {wanted}")
        elif isinstance(want, GraphQLObjectType):
            assert isinstance(got, GraphQLObjectType)
            # Output types may carry more fields (for web frontends); the contract's must match.
            for field_name, field in want.fields.items():
                served_field = got.fields.get(field_name)
                if served_field is None:
                    problems.append(f"{name}.{field_name}: missing")
                    continue
                if _field(served_field) != _field(field):
                    problems.append(
                        f"{name}.{field_name}: {_field(served_field)} != {_field(field)}"
                    )
                # Root field descriptions read the same for every collection.
                compared = with_descriptions or name in ROOT_TYPES
                if compared and field.description and field.description != served_field.description:
                    problems.append(f"{name}.{field_name}: description differs")
    return problems


@pytest.mark.parametrize("collection", list(COLLECTIONS.values()), ids=lambda c: c.name)
def test_served_schema_follows_the_contract(collection: Collection) -> None:
    expected = expected_schema(collection)
    names = {n for n in expected.type_map if not n.startswith("__")}
    name = collection.name
    # The generated contract names exactly the pattern's types and operations.
    assert {
        f"{name}{suffix}"
        for suffix in (
            "",
            "Input",
            "InputCheckpoint",
            "InputPushRow",
            "InputHeaders",
            "PullBulk",
            "Checkpoint",
        )
    } <= names
    lower = name[0].lower() + name[1:]
    assert expected.query_type is not None and f"pull{name}" in expected.query_type.fields
    assert expected.mutation_type is not None
    assert list(expected.mutation_type.fields[f"push{name}"].args) == [f"{lower}PushRow"]
    assert expected.subscription_type is not None
    assert list(expected.subscription_type.fields[f"stream{name}"].args) == ["headers"]

    assert _differences(expected, served_schema(), with_descriptions=collection is VISIT) == []


def test_a_departure_from_the_contract_is_caught() -> None:
    # The comparison itself must be able to fail: a served schema that reorders pullVisit's
    # arguments, makes an input field required and drops a type field is reported on each count.
    text = print_schema(contract_schema())
    text = text.replace(
        "pullVisit(checkpoint: VisitInputCheckpoint, limit: Int!)",
        "pullVisit(limit: Int!, checkpoint: VisitInputCheckpoint)",
    )
    text = text.replace("  village: String\n", "  village: String!\n")
    text = text.replace("  household: String\n", "", 1)
    problems = _differences(contract_schema(), build_schema(text), with_descriptions=True)
    assert any(p.startswith("Query.pullVisit") for p in problems)
    assert any(p.startswith("VisitInput:") for p in problems)
    assert any(p.startswith("Visit.household") for p in problems)


def test_committed_contract_is_the_shared_one() -> None:
    committed = CONTRACT.read_bytes()
    # The copy must always be a usable contract that defines the collection spelled out in full.
    contract = contract_schema()
    assert isinstance(contract.get_type("Visit"), GraphQLObjectType)
    assert contract.query_type is not None and "pullVisit" in contract.query_type.fields
    # Where the shared original sits beside the repository (the workspace, not CI), it is the
    # same file byte for byte: the copy never drifts from what phone developers read.
    if SHARED_CONTRACT.exists():
        assert committed == SHARED_CONTRACT.read_bytes(), (
            f"{CONTRACT} differs from {SHARED_CONTRACT}: copy the shared contract again"
        )
