"""Labels: one Chinese label per value, named the same way on every type of the web surface."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import cast

from graphql import GraphQLEnumType, GraphQLObjectType, GraphQLSchema, get_named_type
from strawberry.types.enum import StrawberryEnumDefinition

from core.settings import Settings
from models import BranchKind, DirectiveLevel
from schema import build_schema
from sync.collection import SYNCED

# The sync wire's types carry plain strings for phones; their labels are extras for the web.
WIRE_TYPES = {c.name for c in SYNCED}


def _labelled_enums() -> dict[str, type[enum.Enum]]:
    """GraphQL enum names whose Python enum gives each value a Chinese `label`."""
    schema = build_schema(Settings())
    found: dict[str, type[enum.Enum]] = {}
    for name in schema._schema.type_map:
        definition = schema.get_type_by_name(name)
        if isinstance(definition, StrawberryEnumDefinition):
            cls = cast(type[enum.Enum], definition.wrapped_cls)
            if isinstance(getattr(cls, "label", None), property):
                found[name] = cls
    return found


def _object_types() -> Iterator[GraphQLObjectType]:
    graphql: GraphQLSchema = build_schema(Settings())._schema
    for name, kind in graphql.type_map.items():
        wire = name in WIRE_TYPES or name.startswith("__")
        if isinstance(kind, GraphQLObjectType) and not wire:
            yield kind


def _enum_fields(kind: GraphQLObjectType, labelled: dict[str, type[enum.Enum]]) -> list[str]:
    return [
        name
        for name, f in kind.fields.items()
        if isinstance(t := get_named_type(f.type), GraphQLEnumType) and t.name in labelled
    ]


def test_every_label_field_is_named_for_the_value_it_labels() -> None:
    labelled = _labelled_enums()
    wrong: list[str] = []
    for kind in _object_types():
        enums = _enum_fields(kind, labelled)
        for name in kind.fields:
            if name.endswith("Label") and name.removesuffix("Label") not in kind.fields:
                wrong.append(f"{kind.name}.{name} labels no field")
            if name == "label" and len(enums) > 1:
                wrong.append(f"{kind.name}.label: which of {enums}?")
    assert wrong == []


def test_every_labelled_enum_field_has_its_label() -> None:
    labelled = _labelled_enums()
    assert {"PartyStatus", "BranchKind", "VisitCategory", "DirectiveLevel"} <= labelled.keys()
    missing: list[str] = []
    for kind in _object_types():
        enums = _enum_fields(kind, labelled)
        for name in enums:
            alone = len(enums) == 1 and "label" in kind.fields
            if f"{name}Label" not in kind.fields and not alone:
                missing.append(f"{kind.name}.{name}")
    assert missing == []


def test_a_breakdown_row_names_its_label_label() -> None:
    """Rows of a breakdown (…Count, …Figure: one value and its numbers) say `label`, as the
    dashboard does, never `typeLabel` here and `label` there."""
    labelled = _labelled_enums()
    wrong: list[str] = []
    for kind in _object_types():
        enums = _enum_fields(kind, labelled)
        row = kind.name.endswith(("Count", "Figure")) and len(enums) == 1
        if row and "label" not in kind.fields:
            wrong.append(kind.name)
    assert wrong == []


def test_the_same_organisation_level_has_the_same_label_as_directive_level_and_branch_kind() -> (
    None
):
    assert DirectiveLevel.ORGAN_COMMITTEE.label == BranchKind.ORGAN_COMMITTEE.label
    assert DirectiveLevel.BRANCH.label == BranchKind.BRANCH.label == "党支部"


def test_a_task_forces_kind_label_fits_every_task_force_name() -> None:
    # 破案尖刀队 and 攻坚小组 are both task forces: the kind's label must not name just one.
    label = BranchKind.TASK_FORCE.label
    assert label not in ("攻坚小组", "破案尖刀队")
    assert len({k.label for k in BranchKind}) == len(BranchKind)
