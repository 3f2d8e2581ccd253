"""Whose names a writer may put on a field record: its officer and its participants.

Officers record as themselves: a record they create, or whose officer they change, names them,
and the participants they add (a patrol's crew, a service action's members) belong to their own
branch. Secretaries name members of their subtree; admins anyone. A name already on the record
stays whoever edits it (an officer adding a note to a colleague's visit does not take it over),
so only the names a write adds are checked, against the stored record.

Phones' pushes (sync/push.py) and the web's edits (resolvers/field_record.py) apply the same
rule. Receipts and progress reports have their own, stricter one (sync/directive.py: the signer
is the user).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from access.errors import ErrorCode, Problem
from access.scope import Scope
from core.global_id import global_id_uuid_or_none
from sync.collection import Collection
from sync.merge import JSON


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a member belongs: their branch and its path."""

    branch_id: uuid.UUID
    path: str


def authorship_problems(
    scope: Scope,
    collection: Collection,
    document: Mapping[str, JSON],
    stored: Mapping[str, JSON] | None,
    members: Mapping[uuid.UUID, Placement],
) -> list[Problem]:
    """The names `document` adds (to `stored`) that the writer of `scope` may not put there.

    `members` places every member the document names; a member it does not place is unknown,
    which the caller reports on its own (NOT_FOUND).
    """
    problems: list[Problem] = []
    for f in collection.fields:
        if f.kind == "member":
            named = _member(document.get(f.name))
            if named is None or named == _member((stored or {}).get(f.name)):
                continue
            place = members.get(named)
            if place is not None and not _may_author(scope, named, place):
                problems.append(_outside(f.name, scope, author=True))
        elif f.kind == "json":
            added = _refs(collection, f.name, document) - _refs(collection, f.name, stored)
            places = [(m, members[m]) for m in added if m in members]
            if any(not _may_take_part(scope, place) for _, place in places):
                problems.append(_outside(f.name, scope, author=False))
    return problems


def _may_author(scope: Scope, member_id: uuid.UUID, place: Placement) -> bool:
    if scope.kind == "branch":
        return member_id == scope.member_id
    return _may_take_part(scope, place)


def _may_take_part(scope: Scope, place: Placement) -> bool:
    if scope.kind == "all":
        return scope.writable
    if scope.kind == "subtree":
        return scope.path is not None and place.path.startswith(scope.path)
    if scope.kind == "branch":
        return place.branch_id == scope.branch_id
    return False


def _outside(field_name: str, scope: Scope, author: bool) -> Problem:
    if scope.kind == "branch" and author:
        message = "只能以本人名义记录 (officers record as themselves)"
    elif scope.kind == "branch":
        message = "参与人须为本支部党员 (participants must be members of your branch)"
    else:
        message = "该党员不在您的管辖范围内 (member outside your branch subtree)"
    return Problem(field_name, message, ErrorCode.OUT_OF_SCOPE)


def _member(value: JSON) -> uuid.UUID | None:
    return global_id_uuid_or_none(value, "Member") if isinstance(value, str) else None


def _refs(collection: Collection, name: str, document: Mapping[str, JSON] | None) -> set[uuid.UUID]:
    if document is None:
        return set()
    return collection.references({name: document.get(name)})[1]
