"""Directives (上级指令, 四级调度): issue, dispatch onward, sign, report progress, close, roll up.

The dispatch tree (models/directive.py): issuing creates the issuing committee's own recipient
row (signed at issue) as the root and one row per target branch beneath it. Each row's actor
(`sync.directive.acts_for`: a member for their own row, a branch's own secretary or an admin for
a branch row) signs it, reports progress, dispatches onward to what lies below it and closes it.

Rules:
* Issue: admins (for any committee, default the county committee) and secretaries of a
  committee or organ committee (for their own). Targets lie strictly inside the issuer's subtree
  at a lower level; the deadline must be in the future.
* Dispatch: from a branch-level row (not a member's), not closed, to branches strictly inside
  its branch's subtree at a lower level, and to members whose home branch lies in that subtree.
  A target that already received the directive is left as it is (dispatching is idempotent).
  Dispatching signs the dispatcher's row if it was not signed.
* Sign: idempotent; signing a signed row writes nothing.
* Report: text, and a percent (0-100) or a stage; it signs an unsigned row; not once closed.
* Close: a recipient closes its own row once every recipient it dispatched to has closed (or it
  dispatched to none): a level is done when the levels below it are. Closing signs an unsigned
  row; closing twice is harmless. When the root (the issuer's row) closes, the directive closes.
* Overdue: a recipient not closed when the deadline (the directive's, one for every level) has
  passed by the injected clock.

Every write takes a sync stamp (sync/stamp.py) and announces the collections it wrote, since the
rows are the documents phones sync. Signing and reporting from the web write the same receipt and
progress documents a phone pushes, so phones see them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    false,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from access import audience
from access.errors import Collector, ErrorCode, Forbidden, InputError
from access.scope import scope_of
from access.viewer import Viewer
from core.ids import new_id
from models import (
    Branch,
    BranchKind,
    Directive,
    DirectiveLevel,
    DirectivePriority,
    DirectiveProgress,
    DirectiveReceipt,
    DirectiveRecipient,
    DirectiveStatus,
    Member,
    RecipientStatus,
    Role,
)
from resolvers.batch import group_by_key
from resolvers.pagination import Page, PageRequest, aware_datetime, cursor_values, encode_cursor
from sync.collection import DIRECTIVE, DIRECTIVE_PROGRESS, DIRECTIVE_RECEIPT, global_id
from sync.directive import (
    MAX_PERCENT,
    Actor,
    RecipientFacts,
    acts_for,
    mark_reported,
    mark_signed,
    not_recipient,
)
from sync.feed import announce
from sync.stamp import next_stamp

MAX_TITLE = 200
MAX_CONTENT = 5000
MAX_STAGE = 50
MAX_TARGETS = 1000
COMMITTEE_KINDS = (BranchKind.COMMITTEE, BranchKind.ORGAN_COMMITTEE)


@dataclass(frozen=True, slots=True)
class Written:
    """What a write returns: its rows, the sync stamp and the collections it wrote (to publish
    to the stream after commit)."""

    stamp: int | None = None
    collections: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Issued(Written):
    directive: Directive | None = None


@dataclass(frozen=True, slots=True)
class Dispatched(Written):
    recipients: list[DirectiveRecipient] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RecipientWritten(Written):
    recipient: DirectiveRecipient | None = None


@dataclass(frozen=True, slots=True)
class ProgressWritten(Written):
    progress: DirectiveProgress | None = None
    recipient: DirectiveRecipient | None = None


def actor_of(viewer: Viewer) -> Actor:
    return Actor(viewer.account_id, viewer.member_id, scope_of(viewer))


def _facts(row: DirectiveRecipient) -> RecipientFacts:
    return RecipientFacts(
        row.id,
        row.level,
        row.branch_id,
        row.officer_id,
        row.status,
        row.dispatched_at,
        row.signed_at,
    )


def _recipient_row(
    directive: Directive,
    *,
    parent: DirectiveRecipient | None,
    level: DirectiveLevel,
    branch_id: uuid.UUID,
    member_id: uuid.UUID | None,
    viewer: Viewer,
    stamp: int,
    now: datetime,
) -> DirectiveRecipient:
    target = f"m:{member_id}" if member_id is not None else f"b:{branch_id}"
    return DirectiveRecipient(
        id=str(new_id()),
        directive_id=directive.id,
        parent_id=parent.id if parent else None,
        level=level,
        target=target,
        branch_id=branch_id,
        officer_id=member_id,
        status=RecipientStatus.PENDING,
        dispatched_at=now,
        dispatched_by=viewer.account_id,
        updated_at=stamp,
        deleted=False,
        created_at=now,
        updated_by=viewer.account_id,
    )


# --- issue --------------------------------------------------------------------------------------


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
    root = _recipient_row(
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
            _recipient_row(
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


# --- the acting recipient -----------------------------------------------------------------------


async def _own_recipient(
    db: AsyncSession, viewer: Viewer, recipient_id: str, *, lock: bool = True
) -> DirectiveRecipient:
    """The recipient row the viewer acts for, or a typed error on `recipientId`."""
    query = select(DirectiveRecipient).where(DirectiveRecipient.id == recipient_id)
    if lock:
        query = query.with_for_update()
    row = (await db.scalars(query)).first()
    if row is None:
        raise InputError.one("recipientId", "指令不存在 (directive not found)", ErrorCode.NOT_FOUND)
    if not acts_for(actor_of(viewer), _facts(row)):
        raise InputError([not_recipient("recipientId")])
    return row


async def _refreshed(db: AsyncSession, row: DirectiveRecipient) -> DirectiveRecipient:
    await db.refresh(row)
    return row


# --- dispatch -----------------------------------------------------------------------------------


async def dispatch_directive(
    db: AsyncSession,
    viewer: Viewer,
    recipient_id: str,
    branch_ids: Sequence[uuid.UUID],
    member_ids: Sequence[uuid.UUID],
    now: datetime,
) -> Dispatched:
    """Dispatches the viewer's recipient row onward to branches and members below it."""
    row = await _own_recipient(db, viewer, recipient_id)
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
        _recipient_row(
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
        _recipient_row(
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


# --- sign, report, close ------------------------------------------------------------------------


async def sign_directive(
    db: AsyncSession, viewer: Viewer, recipient_id: str, now: datetime
) -> RecipientWritten:
    """签收: signs the viewer's recipient row, writing the receipt document phones sync.

    Signing a signed row writes nothing and returns it as it is.
    """
    row = await _own_recipient(db, viewer, recipient_id)
    if row.signed_at is not None:
        return RecipientWritten(recipient=row)
    stamp = await next_stamp(db, now)
    receipt = await db.get(DirectiveReceipt, row.id)
    if receipt is None:
        db.add(
            DirectiveReceipt(
                id=row.id,
                branch_id=row.branch_id,
                officer_id=viewer.member_id,
                signed_at_text=now.isoformat(),
                signed_at=now,
                updated_at=stamp,
                deleted=False,
                created_at=now,
                updated_by=viewer.account_id,
            )
        )
        await db.flush()
    await mark_signed(db, {row.id: now}, viewer.account_id, stamp)
    await announce(db, DIRECTIVE_RECEIPT.key, stamp)
    await announce(db, DIRECTIVE.key, stamp)
    return RecipientWritten(
        stamp, (DIRECTIVE_RECEIPT.key, DIRECTIVE.key), await _refreshed(db, row)
    )


async def report_progress(
    db: AsyncSession,
    viewer: Viewer,
    recipient_id: str,
    text: str | None,
    percent: int | None,
    stage: str | None,
    now: datetime,
) -> ProgressWritten:
    """Reports progress on the viewer's recipient row (which signs it if it was not)."""
    row = await _own_recipient(db, viewer, recipient_id)
    errors = Collector()
    cleaned = errors.require_text("text", text, MAX_CONTENT)
    cleaned_stage = errors.optional_text("stage", stage, MAX_STAGE)
    if percent is not None and not 0 <= percent <= MAX_PERCENT:
        errors.add("percent", "须在 0 到 100 之间 (0 to 100)", ErrorCode.INVALID)
    if row.closed_at is not None:
        errors.add(
            "recipientId",
            "该指令已办结,不能再反馈 (the directive is closed for you)",
            ErrorCode.INVALID_TRANSITION,
        )
    errors.raise_if_any()
    assert cleaned is not None
    stamp = await next_stamp(db, now)
    progress = DirectiveProgress(
        id=str(new_id()),
        recipient_id=row.id,
        branch_id=row.branch_id,
        officer_id=viewer.member_id,
        text=cleaned,
        percent=percent,
        stage=cleaned_stage,
        reported_at_text=now.isoformat(),
        reported_at=now,
        updated_at=stamp,
        deleted=False,
        created_at=now,
        updated_by=viewer.account_id,
    )
    db.add(progress)
    await db.flush()
    await mark_reported(db, {row.id: now}, viewer.account_id, stamp)
    await announce(db, DIRECTIVE_PROGRESS.key, stamp)
    await announce(db, DIRECTIVE.key, stamp)
    return ProgressWritten(
        stamp,
        (DIRECTIVE_PROGRESS.key, DIRECTIVE.key),
        progress,
        await _refreshed(db, row),
    )


async def close_recipient(
    db: AsyncSession, viewer: Viewer, recipient_id: str, now: datetime
) -> RecipientWritten:
    """Closes the viewer's recipient row once all it dispatched to have closed."""
    row = await _own_recipient(db, viewer, recipient_id)
    if row.closed_at is not None:
        return RecipientWritten(recipient=row)
    open_children = (
        await db.execute(
            select(func.count()).where(
                DirectiveRecipient.parent_id == row.id,
                DirectiveRecipient.closed_at.is_(None),
                DirectiveRecipient.deleted.is_(False),
            )
        )
    ).scalar_one()
    if open_children:
        raise InputError.one(
            "recipientId",
            f"还有 {open_children} 个下级未办结 ({open_children} onward recipients still open)",
            ErrorCode.OPEN_RECIPIENTS,
        )
    stamp = await next_stamp(db, now)
    await db.execute(
        update(DirectiveRecipient)
        .where(DirectiveRecipient.id == row.id)
        .values(
            closed_at=now,
            closed_by=viewer.account_id,
            status=RecipientStatus.CLOSED,
            signed_at=func.coalesce(DirectiveRecipient.signed_at, now),
            signed_by=func.coalesce(DirectiveRecipient.signed_by, viewer.account_id),
            updated_at=stamp,
        )
        .execution_options(synchronize_session=False)
    )
    if row.parent_id is None:
        await db.execute(
            update(Directive)
            .where(Directive.id == row.directive_id)
            .values(status=DirectiveStatus.CLOSED, closed_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    await announce(db, DIRECTIVE.key, stamp)
    return RecipientWritten(stamp, (DIRECTIVE.key,), await _refreshed(db, row))


# --- reading ------------------------------------------------------------------------------------


def directive_read_clause(viewer: Viewer) -> ColumnElement[bool]:
    """SQL condition on `Directive` rows the viewer may read.

    Admins and inspectors: all. A secretary: those issued by or dispatched into their subtree.
    An officer: those addressed to them or to their branch.
    """
    if viewer.reads_all_members:
        return true()
    received = select(DirectiveRecipient.directive_id)
    if viewer.role is Role.SECRETARY and viewer.branch_path:
        subtree = select(Branch.id).where(Branch.path.startswith(viewer.branch_path))
        return or_(
            Directive.issued_by_branch_id.in_(subtree),
            Directive.id.in_(received.where(DirectiveRecipient.branch_id.in_(subtree))),
        )
    return Directive.id.in_(received.where(_addressed_to(viewer, with_branch=True)))


def _addressed_to(viewer: Viewer, *, with_branch: bool = False) -> ColumnElement[bool]:
    """Recipient rows the viewer acts for: their own as a member, their branch's as its
    secretary, the county committee's as an admin. `with_branch`: also their branch's rows
    when they are an officer of it (they may read them, not sign them)."""
    clauses: list[ColumnElement[bool]] = []
    if viewer.member_id is not None:
        clauses.append(DirectiveRecipient.officer_id == viewer.member_id)
    if viewer.branch_id is not None and (viewer.role is Role.SECRETARY or with_branch):
        clauses.append(
            and_(
                DirectiveRecipient.branch_id == viewer.branch_id,
                DirectiveRecipient.level != DirectiveLevel.MEMBER,
            )
        )
    if viewer.is_admin:
        clauses.append(DirectiveRecipient.level == DirectiveLevel.COUNTY_COMMITTEE)
    return or_(*clauses) if clauses else false()


@dataclass(frozen=True, slots=True)
class DirectiveFilter:
    statuses: Sequence[DirectiveStatus] = ()
    overdue: bool | None = None
    subtree_of: uuid.UUID | None = None
    since: datetime | None = None  # issued at or after
    until: datetime | None = None  # issued before


def _filtered(
    query: Select[Any], viewer: Viewer, flt: DirectiveFilter, now: datetime
) -> Select[Any]:
    query = query.where(directive_read_clause(viewer))
    if flt.statuses:
        query = query.where(Directive.status.in_(list(flt.statuses)))
    late = and_(Directive.status != DirectiveStatus.CLOSED, Directive.deadline < now)
    if flt.overdue is True:
        query = query.where(late)
    elif flt.overdue is False:
        query = query.where(~late)
    if flt.subtree_of is not None:
        root = select(Branch.path).where(Branch.id == flt.subtree_of).scalar_subquery()
        subtree = select(Branch.id).where(Branch.path.startswith(root))
        query = query.where(
            or_(
                Directive.issued_by_branch_id.in_(subtree),
                exists().where(
                    DirectiveRecipient.directive_id == Directive.id,
                    DirectiveRecipient.branch_id.in_(subtree),
                ),
            )
        )
    if flt.since is not None:
        query = query.where(Directive.issued_at >= flt.since)
    if flt.until is not None:
        query = query.where(Directive.issued_at < flt.until)
    return query


async def list_directives(
    db: AsyncSession, viewer: Viewer, flt: DirectiveFilter, page: PageRequest, now: datetime
) -> Page[Directive]:
    """One page of readable directives, newest first."""
    query = _filtered(select(Directive), viewer, flt, now)
    if page.after is not None:
        moment, last_id = cursor_values(page.after, aware_datetime, uuid.UUID)
        query = query.where(
            or_(
                Directive.created_at < moment,
                and_(Directive.created_at == moment, Directive.id < last_id),
            )
        )
    query = query.order_by(Directive.created_at.desc(), Directive.id.desc()).limit(page.first + 1)
    rows = list(await db.scalars(query))
    items = rows[: page.first]
    return Page(
        items=items,
        cursors=[encode_cursor([r.created_at.isoformat(), str(r.id)]) for r in items],
        has_next_page=len(rows) > page.first,
        has_previous_page=page.after is not None,
    )


async def count_directives(
    db: AsyncSession, viewer: Viewer, flt: DirectiveFilter, now: datetime
) -> int:
    query = _filtered(select(func.count()).select_from(Directive), viewer, flt, now)
    return int((await db.execute(query)).scalar_one())


async def my_directives(
    db: AsyncSession, viewer: Viewer, page: PageRequest
) -> Page[DirectiveRecipient]:
    """The recipient rows addressed to the viewer (as a member, and as their branch's
    secretary), newest dispatch first."""
    query = select(DirectiveRecipient).where(
        _addressed_to(viewer), DirectiveRecipient.deleted.is_(False)
    )
    if page.after is not None:
        at, last_id = cursor_values(page.after, aware_datetime, str)
        query = query.where(
            or_(
                DirectiveRecipient.dispatched_at < at,
                and_(DirectiveRecipient.dispatched_at == at, DirectiveRecipient.id < last_id),
            )
        )
    query = query.order_by(
        DirectiveRecipient.dispatched_at.desc(), DirectiveRecipient.id.desc()
    ).limit(page.first + 1)
    rows = list(await db.scalars(query))
    items = rows[: page.first]
    return Page(
        items=items,
        cursors=[encode_cursor([r.dispatched_at.isoformat(), r.id]) for r in items],
        has_next_page=len(rows) > page.first,
        has_previous_page=page.after is not None,
    )


async def count_my_directives(db: AsyncSession, viewer: Viewer) -> int:
    query = select(func.count()).where(_addressed_to(viewer), DirectiveRecipient.deleted.is_(False))
    return int((await db.execute(query)).scalar_one())


# --- batch loads --------------------------------------------------------------------------------


async def directives_by_id(
    db: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[Directive | None]:
    """Readable directives by id, in key order (None where absent or not readable)."""
    query = select(Directive).where(Directive.id.in_(ids), directive_read_clause(viewer))
    rows = {d.id: d for d in await db.scalars(query)}
    return [rows.get(i) for i in ids]


async def recipients_by_directive_id(
    db: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[list[DirectiveRecipient]]:
    """Each directive's recipient rows in the viewer's sync audience, top level first: what
    their phone pulls (an officer: their own row and their branch's, not a colleague's)."""
    query = (
        select(DirectiveRecipient)
        .where(
            DirectiveRecipient.directive_id.in_(ids),
            DirectiveRecipient.deleted.is_(False),
            audience.recipient_clause(scope_of(viewer)),
        )
        .order_by(DirectiveRecipient.dispatched_at, DirectiveRecipient.id)
    )
    rows = list(await db.scalars(query))
    rows.sort(key=lambda r: (r.level.rank, r.dispatched_at, r.id))
    return group_by_key(ids, ((r.directive_id, r) for r in rows))


async def progress_by_recipient_id(
    db: AsyncSession, ids: Sequence[str]
) -> list[list[DirectiveProgress]]:
    """Each recipient's progress reports, oldest first."""
    query = (
        select(DirectiveProgress)
        .where(DirectiveProgress.recipient_id.in_(ids), DirectiveProgress.deleted.is_(False))
        .order_by(DirectiveProgress.reported_at, DirectiveProgress.id)
    )
    return group_by_key(ids, ((p.recipient_id, p) for p in await db.scalars(query)))


@dataclass(frozen=True, slots=True)
class LevelRollup:
    """One level of a directive's tree: how many recipients, and how far they got."""

    level: DirectiveLevel
    recipients: int = 0
    signed: int = 0
    reported: int = 0
    closed: int = 0
    overdue: int = 0
    closed_on_time: int = 0


async def rollups_by_directive_id(
    db: AsyncSession, ids: Sequence[uuid.UUID], now: datetime
) -> list[list[LevelRollup]]:
    """Per directive, the four levels top down (zeros where none), in one statement."""
    r = DirectiveRecipient
    open_late = and_(r.closed_at.is_(None), Directive.deadline < now)
    on_time = and_(r.closed_at.is_not(None), r.closed_at <= Directive.deadline)
    query = (
        select(
            r.directive_id,
            r.level,
            func.count(),
            func.count(r.signed_at),
            func.count(r.last_reported_at),
            func.count(r.closed_at),
            func.sum(case((open_late, 1), else_=0)),
            func.sum(case((on_time, 1), else_=0)),
        )
        .join(Directive, Directive.id == r.directive_id)
        .where(r.directive_id.in_(ids), r.deleted.is_(False))
        .group_by(r.directive_id, r.level)
    )
    found: dict[tuple[uuid.UUID, DirectiveLevel], LevelRollup] = {}
    for directive_id, level, *counts in await db.execute(query):
        level = DirectiveLevel(level)
        found[(directive_id, level)] = LevelRollup(level, *(int(c or 0) for c in counts))
    return [[found.get((i, level), LevelRollup(level)) for level in DirectiveLevel] for i in ids]


def directive_global_id(directive_id: uuid.UUID) -> str:
    return global_id("Directive", directive_id)
