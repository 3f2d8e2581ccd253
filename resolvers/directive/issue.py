"""Issuing a directive from a committee, and dispatching it onward level by level (四级调度).

Issue: admins (for any committee, default the county committee) and secretaries of a committee
or organ committee (for their own). Targets lie strictly inside the issuer's subtree at a lower
level; the deadline must be in the future. The issuer's own recipient row, signed at issue, is
the root of the dispatch tree.

Dispatch: from a branch-level row (not a member's), not closed, to branches strictly inside its
branch's subtree at a lower level, and to members whose home branch lies in that subtree. A
target that already received the directive is left as it is (dispatching is idempotent).
Dispatching signs the dispatcher's row if it was not signed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import Collector, ErrorCode, Forbidden, InputError
from access.viewer import Viewer
from core.ids import new_id
from models import (
    Branch,
    BranchKind,
    Directive,
    DirectiveLevel,
    DirectivePriority,
    DirectiveRecipient,
    DirectiveStatus,
    Member,
    RecipientStatus,
    Role,
)
from resolvers.directive.recipient import (
    MAX_CONTENT,
    Written,
    new_recipient_row,
    own_recipient,
)
from sync.collection import DIRECTIVE
from sync.directive import mark_signed
from sync.feed import announce
from sync.stamp import next_stamp

MAX_TITLE = 200
MAX_TARGETS = 1000
COMMITTEE_KINDS = (BranchKind.COMMITTEE, BranchKind.ORGAN_COMMITTEE)


@dataclass(frozen=True, slots=True)
class Issued(Written):
    directive: Directive | None = None


@dataclass(frozen=True, slots=True)
class Dispatched(Written):
    recipients: list[DirectiveRecipient] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class IssueData:
    title: str | None
    content: str | None
    priority: DirectivePriority
    deadline: datetime
    target_branch_ids: Sequence[uuid.UUID]
    issued_by_branch_id: uuid.UUID | None = None


async def _issuer(db: AsyncSession, viewer: Viewer, wanted: uuid.UUID | None) -> Branch:
    if viewer.role is Role.ADMIN:
        if wanted is None:
            query = select(Branch).where(Branch.kind == BranchKind.COMMITTEE)
            issuer = (await db.scalars(query.order_by(Branch.depth, Branch.sort_order))).first()
            if issuer is None:
                raise InputError.one(
                    "issuedByBranchId", "没有党委 (no committee exists)", ErrorCode.NOT_FOUND
                )
            return issuer
        found = await db.get(Branch, wanted)
        if found is None:
            raise InputError.one(
                "issuedByBranchId", "组织不存在 (branch not found)", ErrorCode.NOT_FOUND
            )
        if found.kind not in COMMITTEE_KINDS:
            raise InputError.one(
                "issuedByBranchId",
                "只有党委、机关党委可下发指令 (only committees issue directives)",
                ErrorCode.INVALID_KIND,
            )
        return found
    if viewer.role is Role.SECRETARY and viewer.branch_id is not None:
        own = await db.get(Branch, viewer.branch_id)
        if own is not None and own.kind in COMMITTEE_KINDS:
            if wanted is not None and wanted != own.id:
                raise Forbidden("只能以本党委名义下发 (issue for your own committee)")
            return own
    raise Forbidden("仅党委、机关党委可下发指令 (only committees issue directives)")


async def issue_directive(
    db: AsyncSession, viewer: Viewer, data: IssueData, now: datetime
) -> Issued:
    """Issues a directive from a committee to branches inside its subtree."""
    issuer = await _issuer(db, viewer, data.issued_by_branch_id)
    errors = Collector()
    title = errors.require_text("title", data.title, MAX_TITLE)
    content = errors.require_text("content", data.content, MAX_CONTENT)
    if data.deadline.tzinfo is None:
        errors.add("deadline", "须带时区 (must carry an offset)", ErrorCode.INVALID)
    elif data.deadline <= now:
        errors.add(
            "deadline", "截止时间须在将来 (deadline must be in the future)", ErrorCode.IN_PAST
        )
    targets = await _target_branches(
        db,
        errors,
        "targetBranchIds",
        data.target_branch_ids,
        issuer,
        DirectiveLevel.of_branch(issuer.kind),
    )
    errors.raise_if_any()
    assert title is not None and content is not None

    stamp = await next_stamp(db, now)
    directive = Directive(
        id=new_id(),
        title=title,
        content=content,
        priority=data.priority,
        deadline=data.deadline,
        issued_by_branch_id=issuer.id,
        issued_by_account_id=viewer.account_id,
        issued_by_member_id=viewer.member_id,
        status=DirectiveStatus.ISSUED,
        issued_at=now,
        created_at=now,
        updated_at=now,
    )
    db.add(directive)
    await db.flush()
    root = new_recipient_row(
        directive,
        parent=None,
        level=DirectiveLevel.of_branch(issuer.kind),
        branch_id=issuer.id,
        member_id=None,
        viewer=viewer,
        stamp=stamp,
        now=now,
    )
    # The issuer holds its own directive from the start.
    root.status = RecipientStatus.SIGNED
    root.signed_at = now
    root.signed_by = viewer.account_id
    db.add(root)
    await db.flush()
    db.add_all(
        [
            new_recipient_row(
                directive,
                parent=root,
                level=DirectiveLevel.of_branch(branch.kind),
                branch_id=branch.id,
                member_id=None,
                viewer=viewer,
                stamp=stamp,
                now=now,
            )
            for branch in targets
        ]
    )
    await db.flush()
    await announce(db, DIRECTIVE.key, stamp)
    return Issued(stamp, (DIRECTIVE.key,), directive)


async def _target_branches(
    db: AsyncSession,
    errors: Collector,
    field_name: str,
    ids: Sequence[uuid.UUID],
    root: Branch,
    level: DirectiveLevel,
    *,
    required: bool = True,
) -> list[Branch]:
    """The target branches, each strictly inside `root`'s subtree at a level below `level`."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        if required:
            errors.add(
                field_name, "请选择接收单位 (choose at least one recipient)", ErrorCode.REQUIRED
            )
        return []
    if len(wanted) > MAX_TARGETS:
        errors.add(field_name, f"最多 {MAX_TARGETS} 个 (too many)", ErrorCode.TOO_LONG)
        return []
    found = {b.id: b for b in await db.scalars(select(Branch).where(Branch.id.in_(wanted)))}
    if set(wanted) - found.keys():
        errors.add(field_name, "组织不存在 (branch not found)", ErrorCode.NOT_FOUND)
        return []
    branches = [found[i] for i in wanted]
    if any(b.id == root.id or not b.path.startswith(root.path) for b in branches):
        errors.add(
            field_name,
            "只能下发到本级管辖的下级组织 (only to branches below yours)",
            ErrorCode.OUT_OF_SCOPE,
        )
    elif any(DirectiveLevel.of_branch(b.kind).rank <= level.rank for b in branches):
        errors.add(
            field_name,
            "接收单位须在下一级 (recipients must be at a lower level)",
            ErrorCode.INVALID_KIND,
        )
    return branches


async def dispatch_directive(
    db: AsyncSession,
    viewer: Viewer,
    recipient_id: str,
    branch_ids: Sequence[uuid.UUID],
    member_ids: Sequence[uuid.UUID],
    now: datetime,
) -> Dispatched:
    """Dispatches the viewer's recipient row onward to branches and members below it."""
    row = await own_recipient(db, viewer, recipient_id)
    errors = Collector()
    if row.level is DirectiveLevel.MEMBER:
        errors.add(
            "recipientId", "党员不能再下发 (a member does not dispatch)", ErrorCode.INVALID_KIND
        )
        errors.raise_if_any()
    if row.closed_at is not None:
        errors.add("recipientId", "已办结,不能再下发 (closed)", ErrorCode.INVALID_TRANSITION)
        errors.raise_if_any()
    own_branch = await db.get(Branch, row.branch_id)
    assert own_branch is not None
    branches = await _target_branches(
        db, errors, "branchIds", branch_ids, own_branch, row.level, required=False
    )
    members = await _target_members(db, errors, member_ids, own_branch)
    if not branch_ids and not member_ids:
        errors.add(
            "branchIds", "请选择接收对象 (choose at least one recipient)", ErrorCode.REQUIRED
        )
    errors.raise_if_any()

    directive = await db.get(Directive, row.directive_id)
    assert directive is not None
    targets = [f"b:{b.id}" for b in branches] + [f"m:{m.id}" for m in members]
    existing = {
        t
        for t in await db.scalars(
            select(DirectiveRecipient.target).where(
                DirectiveRecipient.directive_id == directive.id,
                DirectiveRecipient.target.in_(targets),
            )
        )
    }
    stamp = await next_stamp(db, now)
    new_rows = [
        new_recipient_row(
            directive,
            parent=row,
            level=DirectiveLevel.of_branch(b.kind),
            branch_id=b.id,
            member_id=None,
            viewer=viewer,
            stamp=stamp,
            now=now,
        )
        for b in branches
        if f"b:{b.id}" not in existing
    ] + [
        new_recipient_row(
            directive,
            parent=row,
            level=DirectiveLevel.MEMBER,
            branch_id=m.branch_id,
            member_id=m.id,
            viewer=viewer,
            stamp=stamp,
            now=now,
        )
        for m in members
        if f"m:{m.id}" not in existing
    ]
    db.add_all(new_rows)
    await db.flush()
    if row.signed_at is None:
        await mark_signed(db, {row.id: now}, viewer.account_id, stamp)
    await announce(db, DIRECTIVE.key, stamp)
    return Dispatched(stamp, (DIRECTIVE.key,), new_rows)


async def _target_members(
    db: AsyncSession, errors: Collector, ids: Sequence[uuid.UUID], root: Branch
) -> list[Member]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    if len(wanted) > MAX_TARGETS:
        errors.add("memberIds", f"最多 {MAX_TARGETS} 个 (too many)", ErrorCode.TOO_LONG)
        return []
    rows = (
        await db.execute(
            select(Member, Branch.path)
            .join(Branch, Branch.id == Member.branch_id)
            .where(Member.id.in_(wanted))
        )
    ).all()
    if len(rows) != len(wanted):
        errors.add("memberIds", "党员不存在 (member not found)", ErrorCode.NOT_FOUND)
        return []
    if any(not path.startswith(root.path) for _, path in rows):
        errors.add(
            "memberIds",
            "只能下发给本支部的党员 (only to members of your branch)",
            ErrorCode.OUT_OF_SCOPE,
        )
    return [member for member, _ in rows]
