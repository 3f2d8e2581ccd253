"""Organisation (组织管理): the branch tree, task units and honours."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, String, func, literal, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import Collector, ErrorCode, Forbidden, InputError
from access.viewer import Viewer
from core.clock import Clock
from core.ids import new_id
from models import Branch, BranchHonour, BranchKind, HonourLevel
from resolvers.batch import group_by_key
from resolvers.pagination import Page, PageRequest, cursor_values, encode_cursor
from resolvers.period import local_date
from sync.rescope import restamp_subtree

# Kinds a secretary may open inside their own subtree; the rest is the committee's decision.
SECRETARY_CREATABLE = frozenset(
    {BranchKind.GROUP, BranchKind.TEMPORARY_GROUP, BranchKind.COMMANDO_TEAM, BranchKind.TASK_FORCE}
)


@dataclass(frozen=True, slots=True)
class BranchFilter:
    kind: BranchKind | None = None
    subtree_of: uuid.UUID | None = None
    search: str | None = None


def branch_path(parent_path: str | None, branch_id: uuid.UUID) -> str:
    return f"{parent_path or '/'}{branch_id.hex}/"


def _filtered(query: Select[Any], flt: BranchFilter) -> Select[Any]:
    if flt.kind is not None:
        query = query.where(Branch.kind == flt.kind)
    if flt.subtree_of is not None:
        root_path = select(Branch.path).where(Branch.id == flt.subtree_of).scalar_subquery()
        query = query.where(Branch.path.startswith(root_path))
    if flt.search:
        pattern = f"%{flt.search.strip()}%"
        query = query.where(Branch.name.like(pattern) | Branch.brand_name.like(pattern))
    return query


def _sort_key(branch: Branch) -> list[Any]:
    return [branch.depth, branch.sort_order, str(branch.id)]


async def list_branches(
    db: AsyncSession, viewer: Viewer, flt: BranchFilter, page: PageRequest
) -> Page[Branch]:
    """One page of branches in tree order (depth, then the bureau's own ordering)."""
    query = _filtered(select(Branch), flt)
    if page.after is not None:
        depth, sort_order, last_id = cursor_values(page.after, int, int, uuid.UUID)
        key: ColumnElement[Any] = tuple_(Branch.depth, Branch.sort_order, Branch.id)
        query = query.where(key > tuple_(depth, sort_order, last_id))
    query = query.order_by(Branch.depth, Branch.sort_order, Branch.id).limit(page.first + 1)
    rows = list((await db.scalars(query)).all())
    items = rows[: page.first]
    return Page(
        items=items,
        cursors=[encode_cursor(_sort_key(b)) for b in items],
        has_next_page=len(rows) > page.first,
        has_previous_page=page.after is not None,
    )


async def count_branches(db: AsyncSession, viewer: Viewer, flt: BranchFilter) -> int:
    """How many branches match the filter, for `totalCount`."""
    query = _filtered(select(func.count()).select_from(Branch), flt)
    return int((await db.execute(query)).scalar_one())


async def get_branch(db: AsyncSession, branch_id: uuid.UUID, field: str = "id") -> Branch:
    """The branch, or a NOT_FOUND error addressed to `field`."""
    branch = await db.get(Branch, branch_id)
    if branch is None:
        raise InputError.one(field, "组织不存在 (branch not found)", ErrorCode.NOT_FOUND)
    return branch


async def branches_by_id(db: AsyncSession, ids: Sequence[uuid.UUID]) -> list[Branch | None]:
    """Batch load for DataLoaders: one statement, results in key order."""
    rows = {b.id: b for b in (await db.scalars(select(Branch).where(Branch.id.in_(ids)))).all()}
    return [rows.get(i) for i in ids]


async def children_by_parent_id(db: AsyncSession, ids: Sequence[uuid.UUID]) -> list[list[Branch]]:
    """Batch load of direct children, each list in the bureau's order."""
    query = select(Branch).where(Branch.parent_id.in_(ids)).order_by(Branch.sort_order, Branch.id)
    rows = (await db.scalars(query)).all()
    return group_by_key(ids, ((b.parent_id, b) for b in rows if b.parent_id is not None))


async def honours_by_branch_id(
    db: AsyncSession, ids: Sequence[uuid.UUID]
) -> list[list[BranchHonour]]:
    query = (
        select(BranchHonour)
        .where(BranchHonour.branch_id.in_(ids))
        .order_by(BranchHonour.awarded_on.desc(), BranchHonour.id)
    )
    return group_by_key(ids, ((h.branch_id, h) for h in (await db.scalars(query)).all()))


async def get_honour(db: AsyncSession, honour_id: uuid.UUID) -> BranchHonour | None:
    """One honour, or None; honours are as public as the branches that list them."""
    return await db.get(BranchHonour, honour_id)


def _check_dates(errors: Collector, starts_on: date | None, ends_on: date | None) -> None:
    if starts_on and ends_on and ends_on < starts_on:
        errors.add("endsOn", "结束日期早于开始日期 (ends before it starts)", ErrorCode.INVALID)


async def create_branch(
    db: AsyncSession, viewer: Viewer, clock: Clock, data: Mapping[str, Any]
) -> Branch:
    """Opens a branch under `parent_id`. Only a committee may be a root, and only admins open one."""
    viewer.require_writer()
    errors = Collector()
    name = errors.require_text("name", data.get("name"), 100)
    kind: BranchKind = data["kind"]
    parent: Branch | None = None
    parent_id: uuid.UUID | None = data.get("parent_id")
    if parent_id is not None:
        parent = await db.get(Branch, parent_id)
        if parent is None:
            errors.add("parentId", "上级组织不存在 (parent not found)", ErrorCode.NOT_FOUND)
    elif kind is not BranchKind.COMMITTEE:
        errors.add(
            "parentId",
            "仅党委可以没有上级组织 (only a committee may be a root)",
            ErrorCode.REQUIRED,
        )
    if parent is not None:
        viewer.require_covers(parent.path)
        if not viewer.is_admin and kind not in SECRETARY_CREATABLE:
            errors.add(
                "kind",
                "支部书记只能建立党小组或任务单元 (secretaries may open groups and task units only)",
                ErrorCode.INVALID_KIND,
            )
        if parent.kind.is_task_unit:
            errors.add(
                "parentId",
                "任务单元下不能再设组织 (a task unit has no sub-units)",
                ErrorCode.INVALID_KIND,
            )
    else:
        viewer.require_admin()
    fields = _text_fields(errors, data)
    _check_dates(errors, data.get("starts_on"), data.get("ends_on"))
    if name and parent_id is not None:
        await _check_unique_name(db, errors, parent_id, name, None)
    errors.raise_if_any()
    assert name is not None
    now = clock()
    branch_id = new_id()
    branch = Branch(
        id=branch_id,
        parent_id=parent_id,
        path=branch_path(parent.path if parent else None, branch_id),
        depth=(parent.depth + 1) if parent else 0,
        kind=kind,
        name=name,
        sort_order=data.get("sort_order") or 0,
        starts_on=data.get("starts_on"),
        ends_on=data.get("ends_on"),
        created_at=now,
        updated_at=now,
        **fields,
    )
    db.add(branch)
    await db.flush()
    return branch


def _text_fields(errors: Collector, data: Mapping[str, Any]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for key, field, limit in (
        ("unit_name", "unitName", 100),
        ("brand_name", "brandName", 100),
        ("brand_slogan", "brandSlogan", 200),
    ):
        if key in data:
            out[key] = errors.optional_text(field, data[key], limit)
    return out


async def _check_unique_name(
    db: AsyncSession,
    errors: Collector,
    parent_id: uuid.UUID,
    name: str,
    exclude: uuid.UUID | None,
) -> None:
    query = select(Branch.id).where(Branch.parent_id == parent_id, Branch.name == name)
    if exclude is not None:
        query = query.where(Branch.id != exclude)
    if (await db.execute(query.limit(1))).first() is not None:
        errors.add("name", "同一上级下已有同名组织 (a sibling has this name)", ErrorCode.DUPLICATE)


async def update_branch(
    db: AsyncSession, viewer: Viewer, clock: Clock, branch_id: uuid.UUID, changes: Mapping[str, Any]
) -> Branch:
    """Edits a branch. Moving it (`parent_id`) re-roots its whole subtree and is for admins only."""
    branch = await get_branch(db, branch_id)
    viewer.require_covers(branch.path)
    errors = Collector()
    if "name" in changes:
        name = errors.require_text("name", changes["name"], 100)
        if name and branch.parent_id is not None:
            await _check_unique_name(db, errors, branch.parent_id, name, branch.id)
        if name:
            branch.name = name
    for key, value in _text_fields(errors, changes).items():
        setattr(branch, key, value)
    if "sort_order" in changes:
        if changes["sort_order"] is None:
            # Unlike the dates and texts, the order has no "none": null cannot clear it.
            errors.add("sortOrder", "排序号不能清空 (sortOrder cannot be null)", ErrorCode.REQUIRED)
        else:
            branch.sort_order = changes["sort_order"]
    for key in ("starts_on", "ends_on"):
        if key in changes:
            setattr(branch, key, changes[key])
    _check_dates(errors, branch.starts_on, branch.ends_on)
    new_parent: Branch | None = None
    if "parent_id" in changes and changes["parent_id"] != branch.parent_id:
        viewer.require_admin()
        if changes["parent_id"] is None:
            errors.add("parentId", "不能移为根组织 (cannot become a root)", ErrorCode.REQUIRED)
        else:
            new_parent = await db.get(Branch, changes["parent_id"])
            if new_parent is None:
                errors.add("parentId", "上级组织不存在 (parent not found)", ErrorCode.NOT_FOUND)
            elif new_parent.path.startswith(branch.path):
                errors.add(
                    "parentId", "不能移到自身或下级之下 (would make a cycle)", ErrorCode.CYCLE
                )
            elif new_parent.kind.is_task_unit:
                errors.add(
                    "parentId",
                    "任务单元下不能再设组织 (a task unit has no sub-units)",
                    ErrorCode.INVALID_KIND,
                )
    errors.raise_if_any()
    if new_parent is not None:
        await _move_subtree(db, branch, new_parent, clock())
    branch.updated_at = clock()
    await db.flush()
    return branch


async def _move_subtree(
    db: AsyncSession, branch: Branch, new_parent: Branch, now: datetime
) -> None:
    old_path, old_depth = branch.path, branch.depth
    # Synced records under the subtree change hands: phones must hear of it (sync/rescope.py).
    await restamp_subtree(db, old_path, now)
    new_path = branch_path(new_parent.path, branch.id)
    shift = new_parent.depth + 1 - old_depth
    branch.parent_id = new_parent.id
    await db.flush()
    await db.execute(
        update(Branch)
        .where(Branch.path.startswith(old_path))
        .values(
            path=literal(new_path, String).concat(func.substr(Branch.path, len(old_path) + 1)),
            depth=Branch.depth + shift,
        )
        .execution_options(synchronize_session=False)
    )
    await db.refresh(branch)


async def add_honour(
    db: AsyncSession,
    viewer: Viewer,
    clock: Clock,
    branch_id: uuid.UUID,
    title: str,
    level: HonourLevel,
    awarded_on: date,
) -> BranchHonour:
    """Records an honour; honours come from above: admins, or a committee's secretary for the
    branches under that committee."""
    branch = await get_branch(db, branch_id, "branchId")
    await require_honour_writer(db, viewer, branch)
    errors = Collector()
    clean_title = errors.require_text("title", title, 200)
    if awarded_on > local_date(clock()):
        errors.add("awardedOn", "日期不能晚于今天 (date is in the future)", ErrorCode.IN_FUTURE)
    errors.raise_if_any()
    assert clean_title is not None
    honour = BranchHonour(
        id=new_id(),
        branch_id=branch_id,
        title=clean_title,
        level=level,
        awarded_on=awarded_on,
        created_at=clock(),
    )
    db.add(honour)
    await db.flush()
    return honour


# Secretaries of these kinds speak for a committee: they record honours for the branches below.
HONOUR_COMMITTEE_KINDS = frozenset({BranchKind.COMMITTEE, BranchKind.ORGAN_COMMITTEE})


async def require_honour_writer(db: AsyncSession, viewer: Viewer, branch: Branch) -> None:
    """Admins, or the secretary of a committee (党委 / 机关党委) whose subtree holds `branch`."""
    if viewer.is_admin:
        return
    viewer.require_covers(branch.path)
    scope = await db.get(Branch, viewer.branch_id) if viewer.branch_id else None
    if scope is None or scope.kind not in HONOUR_COMMITTEE_KINDS:
        raise Forbidden("荣誉由县局党委或机关党委记录 (honours are recorded by a committee)")


async def remove_honour(db: AsyncSession, viewer: Viewer, honour_id: uuid.UUID) -> Branch:
    """Deletes an honour recorded in error (admins or the committee); returns its branch."""
    honour = await db.get(BranchHonour, honour_id)
    if honour is None:
        raise InputError.one("id", "荣誉不存在 (honour not found)", ErrorCode.NOT_FOUND)
    branch = await get_branch(db, honour.branch_id, "id")
    await require_honour_writer(db, viewer, branch)
    await db.delete(honour)
    await db.flush()
    return branch
