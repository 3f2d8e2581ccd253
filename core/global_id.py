"""Relay global ids: base64 of "Type:uuid", the one codec every layer uses.

`global_id` encodes; `parse_global_id` decodes into (type name, uuid) or raises a typed error;
`global_id_uuid` also checks the type. `global_id_uuid_or_none` is the lenient form for values
whose badness the caller reports itself (sync validation, optional filters).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from functools import lru_cache
from typing import NamedTuple


class GlobalIdError(ValueError):
    """A value that is not a global id of the expected type."""


class MalformedGlobalId(GlobalIdError):
    """Not base64 of "Type:uuid" at all."""


class WrongGlobalIdType(GlobalIdError):
    """A well-formed global id of another type than the one expected."""

    def __init__(self, expected: str, found: str) -> None:
        super().__init__(f"expected a {expected} id, got a {found} id")
        self.expected = expected
        self.found = found


class ParsedGlobalId(NamedTuple):
    type_name: str
    uuid: uuid.UUID


@lru_cache(maxsize=65536)
def global_id(type_name: str, raw: uuid.UUID) -> str:
    """The Relay id of `raw` as a `type_name` (cached: ids repeat a lot on a sync page)."""
    return base64.b64encode(f"{type_name}:{raw}".encode()).decode()


@lru_cache(maxsize=65536)
def _parse(value: str) -> ParsedGlobalId | None:
    try:
        type_name, _, raw = base64.b64decode(value, validate=True).decode().partition(":")
        return ParsedGlobalId(type_name, uuid.UUID(raw))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def parse_global_id(value: str) -> ParsedGlobalId:
    """The type name and uuid inside a global id; `MalformedGlobalId` if it is none."""
    parsed = _parse(value)
    if parsed is None:
        raise MalformedGlobalId(value)
    return parsed


def global_id_uuid(value: str, type_name: str) -> uuid.UUID:
    """The uuid inside a global id of `type_name`; `MalformedGlobalId` or `WrongGlobalIdType`."""
    parsed = parse_global_id(value)
    if parsed.type_name != type_name:
        raise WrongGlobalIdType(type_name, parsed.type_name)
    return parsed.uuid


def global_id_uuid_or_none(value: str, type_name: str) -> uuid.UUID | None:
    """The uuid inside a global id of `type_name`, or None for anything else."""
    parsed = _parse(value)
    return parsed.uuid if parsed is not None and parsed.type_name == type_name else None


# --- synced documents: their ids are the client's text (RxDB's are UUIDs, but any is taken) ---


def document_global_id(type_name: str, document_id: str) -> str:
    """The Relay id of a synced document (`global_id`'s text for a UUID-shaped id)."""
    return base64.b64encode(f"{type_name}:{document_id}".encode()).decode()


def document_id_of(value: str, type_name: str) -> str | None:
    """The document id inside a `document_global_id` of `type_name`, or None for anything else."""
    try:
        found, colon, key = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return key if colon and found == type_name and key else None
