"""Relay `Node`: opaque global ids ("Type:uuid", base64) and the `node` lookup.

Each schema module registers how to refetch its own Node types (`register_node`), applying the
same visibility as the type's list, so this module knows no domain.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import strawberry
from strawberry.types.base import get_object_definition

from access.errors import ErrorCode, InputError

# The argument readers live in access/ so exports/ share them; schema modules take them here.
from core.global_id import GlobalIdError, document_id_of, global_id, parse_global_id
from schema.context import Info


@strawberry.interface(description="An object with a global id, refetchable through `node(id:)`.")
class Node:
    id: strawberry.ID


N = TypeVar("N", bound=Node)
NodeLoader = Callable[[Info, uuid.UUID], Awaitable[N | None]]
DocumentLoader = Callable[[Info, str], Awaitable[N | None]]


@dataclass(frozen=True, slots=True)
class _Registration:
    graphql_name: str
    load: NodeLoader[Node]


# Keyed by the type name inside the global id (for SupervisionReminder it is "Reminder").
_registry: dict[str, _Registration] = {}
# Synced documents (visits, patrols, ...), whose ids are the client's text rather than UUIDs.
_documents: dict[str, tuple[str, DocumentLoader[Node]]] = {}


def register_node(type_name: str, cls: type[N], load: NodeLoader[N]) -> None:
    """Lets `node(id:)` refetch ids of `type_name` as `cls`: `load(info, uuid)` returns the
    object, or None when it is absent or the viewer's list of that type would not show it."""
    graphql_name = get_object_definition(cls, strict=True).name
    known = _registry.get(type_name)
    if known is not None and known.graphql_name != graphql_name:
        raise ValueError(f"{type_name} ids already refetch as {known.graphql_name}")
    _registry[type_name] = _Registration(graphql_name, load)


def register_document_node(type_name: str, cls: type[N], load: DocumentLoader[N]) -> None:
    """`register_node` for a synced document type: `load(info, document id)`."""
    graphql_name = get_object_definition(cls, strict=True).name
    known = _documents.get(type_name)
    if type_name in _registry or (known is not None and known[0] != graphql_name):
        raise ValueError(f"{type_name} ids already refetch as another type")
    _documents[type_name] = (graphql_name, load)


def refetchable_types() -> frozenset[str]:
    """The GraphQL names of the types `node(id:)` can refetch."""
    return frozenset(r.graphql_name for r in _registry.values()) | {
        name for name, _ in _documents.values()
    }


async def refetch(info: Info, type_name: str, raw: str) -> Node | None:
    """What `node(id:)` answers for the object of `type_name` whose id inside its global id is
    `raw` (a document id, or a UUID's text): None when absent, outside the viewer's lists, or of
    a type nothing refetches."""
    document = _documents.get(type_name)
    if document is not None:
        return await document[1](info, raw)
    registration = _registry.get(type_name)
    if registration is None:
        return None
    try:
        key = uuid.UUID(raw)
    except ValueError:
        return None
    return await registration.load(info, key)


def to_global_id(type_name: str, raw: uuid.UUID) -> strawberry.ID:
    """`core.global_id.global_id`, typed as the GraphQL ID a field returns."""
    return strawberry.ID(global_id(type_name, raw))


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Refetch any object by its global id.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        info.context.require_viewer()
        for type_name, (_, load) in _documents.items():
            document_id = document_id_of(id, type_name)
            if document_id is not None:
                return await load(info, document_id)
        try:
            type_name, raw = parse_global_id(id)
        except GlobalIdError:
            raise InputError.one("id", "无效的编号 (invalid id)", ErrorCode.INVALID) from None
        registration = _registry.get(type_name)
        return None if registration is None else await registration.load(info, raw)
