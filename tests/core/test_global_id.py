"""The one global-id codec: encode, decode with typed errors, and the lenient form."""

from __future__ import annotations

import base64
import uuid

import pytest

from core.global_id import (
    GlobalIdError,
    MalformedGlobalId,
    WrongGlobalIdType,
    global_id,
    global_id_uuid,
    global_id_uuid_or_none,
    parse_global_id,
)

RAW = uuid.UUID("5b0c3f8e-2d4a-4e1b-9c6d-7a8b9c0d1e2f")


def test_an_id_decodes_to_its_type_name_and_uuid() -> None:
    encoded = global_id("Member", RAW)

    assert base64.b64decode(encoded).decode() == f"Member:{RAW}"
    assert parse_global_id(encoded) == ("Member", RAW)
    assert global_id_uuid(encoded, "Member") == RAW
    assert global_id_uuid_or_none(encoded, "Member") == RAW


@pytest.mark.parametrize("value", ["", "not base64!", base64.b64encode(b"Member:nope").decode()])
def test_a_malformed_id_is_refused_as_malformed(value: str) -> None:
    with pytest.raises(MalformedGlobalId):
        parse_global_id(value)
    with pytest.raises(MalformedGlobalId):
        global_id_uuid(value, "Member")
    assert global_id_uuid_or_none(value, "Member") is None


def test_an_id_of_another_type_is_refused_with_both_types() -> None:
    encoded = global_id("Branch", RAW)

    with pytest.raises(WrongGlobalIdType) as refused:
        global_id_uuid(encoded, "Member")

    assert isinstance(refused.value, GlobalIdError)
    assert (refused.value.expected, refused.value.found) == ("Member", "Branch")
    assert global_id_uuid_or_none(encoded, "Member") is None
