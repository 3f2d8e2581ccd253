"""Relay `Node`: opaque global ids ("Type:uuid", base64) and the `node` lookup."""

from __future__ import annotations

import base64
import binascii
import uuid

import strawberry

from resolvers.errors import ErrorCode, InputError


@strawberry.interface(description="An object with a global id, refetchable through `node(id:)`.")
class Node:
    id: strawberry.ID


def to_global_id(type_name: str, raw: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(base64.b64encode(f"{type_name}:{raw}".encode()).decode())


def parse_global_id(value: str) -> tuple[str, uuid.UUID] | None:
    try:
        type_name, _, raw = base64.b64decode(value, validate=True).decode().partition(":")
        return type_name, uuid.UUID(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def from_global_id(value: str, type_name: str, field: str) -> uuid.UUID:
    """The uuid inside a global id of the expected type, or an INVALID error on `field`."""
    parsed = parse_global_id(value)
    if parsed is None or parsed[0] != type_name:
        raise InputError.one(
            field, f"不是有效的 {type_name} 编号 (not a {type_name} id)", ErrorCode.INVALID
        )
    return parsed[1]


def optional_global_id(value: str | None, type_name: str, field: str) -> uuid.UUID | None:
    return None if value is None else from_global_id(value, type_name, field)


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Refetch any object by its global id.")
    async def node(self, info: strawberry.Info, id: strawberry.ID) -> Node | None:
        from schema.account import Account
        from schema.branch import Branch
        from schema.member import Member

        context = info.context
        viewer = context.require_viewer()
        parsed = parse_global_id(id)
        if parsed is None:
            raise InputError.one("id", "无效的编号 (invalid id)", ErrorCode.INVALID)
        type_name, raw = parsed
        if type_name == "Branch":
            branch = await context.loaders.branch.load(raw)
            return Branch.from_model(branch) if branch else None
        if type_name == "Member":
            member = await context.loaders.member.load(raw)
            return Member.from_model(member) if member else None
        if type_name == "EducationActivity":
            from resolvers.education import get_activity
            from schema.education import EducationActivity

            async with context.sessionmaker() as db:
                activity = await get_activity(db, viewer, raw)
            return EducationActivity.from_model(activity) if activity else None
        if type_name == "HotlineRequest":
            from resolvers.care import get_hotline_request
            from schema.care import HotlineRequest

            async with context.sessionmaker() as db:
                record = await get_hotline_request(db, viewer, raw)
            return HotlineRequest.from_record(record) if record else None
        if type_name == "LedgerEntry":
            from schema.ledger import LedgerEntry

            entry = await context.loaders.ledger_entry.load(raw)
            return LedgerEntry.from_model(entry) if entry else None
        if type_name == "LedgerItem":
            from schema.ledger import LedgerItem

            item = await context.loaders.ledger_item.load(raw)
            return LedgerItem.from_model(item) if item else None
        if type_name == "Account" and raw == viewer.account_id:
            from models import Account as AccountRow

            async with context.sessionmaker() as db:
                account = await db.get(AccountRow, raw)
            return Account.from_model(account) if account else None
        return None
