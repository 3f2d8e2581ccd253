"""The party-building education base (党建教育基地, 615 m²): the bases, the activities held at
them and their audience.

A base (name, floor area, address) is public within the bureau: everyone signed in reads it.
Activity reads follow the field records' scope (access/scope.py): admins and inspectors see
every activity, a secretary their subtree's, an officer their branch's. Secretaries record the
activities of their subtree, admins any; an activity is held at a base (the county's only one
when none is named).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, extract, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import Collector, ErrorCode, InputError
from access.scope import scope_of
from access.viewer import Viewer
from core.clock import Clock
from core.ids import new_id
from models import Branch, EducationActivity, EducationActivityType, EducationBase
from resolvers.branch import get_branch
from resolvers.pagination import Page, PageRequest, cursor_values, encode_cursor
from resolvers.period import local_date

# The base opened long after this; an earlier date is a typing error, not history.
EARLIEST_DATE = date(2000, 1, 1)
MAX_AUDIENCE = 100_000


@dataclass(frozen=True, slots=True)
class ActivityFilter:
    # Days [since, until): a period's `start` and `end_exclusive` (resolvers/period.py).
    since: date | None = None
    until: date | None = None
    types: Sequence[EducationActivityType] = field(default_factory=tuple)
    branch_id: uuid.UUID | None = None
    subtree_of: uuid.UUID | None = None
    base_id: uuid.UUID | None = None


def _filtered(query: Select[Any], viewer: Viewer, flt: ActivityFilter) -> Select[Any]:
    query = query.where(scope_of(viewer).clause(EducationActivity.branch_id))
    if flt.since is not None:
        query = query.where(EducationActivity.held_on >= flt.since)
    if flt.until is not None:
        query = query.where(EducationActivity.held_on < flt.until)
    if flt.types:
        query = query.where(EducationActivity.type.in_(list(flt.types)))
    if flt.branch_id is not None:
        query = query.where(EducationActivity.branch_id == flt.branch_id)
    if flt.base_id is not None:
        query = query.where(EducationActivity.base_id == flt.base_id)
    if flt.subtree_of is not None:
        root_path = select(Branch.path).where(Branch.id == flt.subtree_of).scalar_subquery()
        subtree = select(Branch.id).where(Branch.path.startswith(root_path))
        query = query.where(EducationActivity.branch_id.in_(subtree))
    return query


async def list_activities(
    db: AsyncSession, viewer: Viewer, flt: ActivityFilter, page: PageRequest
) -> Page[EducationActivity]:
    """One page of activities in the viewer's scope, newest first."""
    query = _filtered(select(EducationActivity), viewer, flt)
    if page.after is not None:
        held_on, last_id = cursor_values(page.after, date.fromisoformat, uuid.UUID)
        key: ColumnElement[Any] = tuple_(EducationActivity.held_on, EducationActivity.id)
        query = query.where(key < tuple_(held_on, last_id))
    query = query.order_by(EducationActivity.held_on.desc(), EducationActivity.id.desc())
    rows = list((await db.scalars(query.limit(page.first + 1))).all())
    items = rows[: page.first]
    return Page(
        items=items,
        cursors=[encode_cursor([a.held_on.isoformat(), str(a.id)]) for a in items],
        has_next_page=len(rows) > page.first,
        has_previous_page=page.after is not None,
    )


async def count_activities(db: AsyncSession, viewer: Viewer, flt: ActivityFilter) -> int:
    """How many activities in the viewer's scope match the filter."""
    query = _filtered(select(func.count()).select_from(EducationActivity), viewer, flt)
    return int((await db.execute(query)).scalar_one())


async def get_activity(
    db: AsyncSession, viewer: Viewer, activity_id: uuid.UUID
) -> EducationActivity | None:
    """One activity, or None when absent or outside the viewer's scope."""
    query = _filtered(select(EducationActivity), viewer, ActivityFilter())
    row: EducationActivity | None = await db.scalar(
        query.where(EducationActivity.id == activity_id)
    )
    return row


# --- bases --------------------------------------------------------------------------------------


async def list_bases(db: AsyncSession) -> list[EducationBase]:
    """Every education base, by name (a county has one or a few)."""
    return list((await db.scalars(select(EducationBase).order_by(EducationBase.name))).all())


async def get_base(db: AsyncSession, base_id: uuid.UUID) -> EducationBase | None:
    """One base, or None when there is no such base."""
    return await db.get(EducationBase, base_id)


async def bases_by_id(db: AsyncSession, ids: Sequence[uuid.UUID]) -> list[EducationBase | None]:
    """Batch load for DataLoaders: one statement, results in key order."""
    rows = await db.scalars(select(EducationBase).where(EducationBase.id.in_(ids)))
    found = {b.id: b for b in rows.all()}
    return [found.get(i) for i in ids]


async def _base_for(
    db: AsyncSession, errors: Collector, base_id: uuid.UUID | None
) -> uuid.UUID | None:
    """The base an activity is held at: the one named, or the only base there is (None when
    there is none, or several and none was named)."""
    if base_id is not None:
        if await db.get(EducationBase, base_id) is None:
            errors.add("baseId", "教育基地不存在 (education base not found)", ErrorCode.NOT_FOUND)
        return base_id
    only = (await db.scalars(select(EducationBase.id).limit(2))).all()
    return only[0] if len(only) == 1 else None


@dataclass(frozen=True, slots=True)
class ActivityCount:
    activities: int
    audience: int


@dataclass(frozen=True, slots=True)
class ActivityTotals:
    """Totals of the filtered activities, by type and by calendar month ("2026-05")."""

    total: ActivityCount
    by_type: dict[EducationActivityType, ActivityCount]
    by_month: dict[str, ActivityCount]


async def activity_totals(db: AsyncSession, viewer: Viewer, flt: ActivityFilter) -> ActivityTotals:
    """Activities and audience of the filter, summed in SQL: one statement, grouped by type and
    month (at most 6 × 12 groups a year), folded into the totals here."""
    year = extract("year", EducationActivity.held_on)
    month = extract("month", EducationActivity.held_on)
    query = (
        _filtered(select(EducationActivity.type), viewer, flt)
        .add_columns(
            year, month, func.count(), func.coalesce(func.sum(EducationActivity.audience_count), 0)
        )
        .group_by(EducationActivity.type, year, month)
    )
    by_type: dict[EducationActivityType, list[int]] = {}
    by_month: dict[str, list[int]] = {}
    total = [0, 0]
    for kind, y, m, n, audience in await db.execute(query):
        for bucket in (
            by_type.setdefault(EducationActivityType(kind), [0, 0]),
            by_month.setdefault(f"{int(y):04d}-{int(m):02d}", [0, 0]),
            total,
        ):
            bucket[0] += int(n)
            bucket[1] += int(audience)
    return ActivityTotals(
        total=ActivityCount(*total),
        by_type={k: ActivityCount(*v) for k, v in by_type.items()},
        by_month={k: ActivityCount(*v) for k, v in sorted(by_month.items())},
    )


async def activity_counts_by_branch(
    db: AsyncSession, branch_ids: Sequence[uuid.UUID], since: date, until: date
) -> list[ActivityCount]:
    """Activities and audience each branch organised in [since, until), in key order; one
    statement (the assessment's A25 and the dashboard read this)."""
    query = (
        select(
            EducationActivity.branch_id,
            func.count(),
            func.coalesce(func.sum(EducationActivity.audience_count), 0),
        )
        .where(
            EducationActivity.branch_id.in_(branch_ids),
            EducationActivity.held_on >= since,
            EducationActivity.held_on < until,
        )
        .group_by(EducationActivity.branch_id)
    )
    found = {b: ActivityCount(int(n), int(a)) for b, n, a in await db.execute(query)}
    return [found.get(i, ActivityCount(0, 0)) for i in branch_ids]


# --- writes -------------------------------------------------------------------------------------


def _check_fields(errors: Collector, data: Mapping[str, Any], today: date) -> dict[str, Any]:
    """Validates the fields present in `data`; returns them cleaned, by column name."""
    out: dict[str, Any] = {}
    if "title" in data:
        out["title"] = errors.require_text("title", data["title"], 200)
    if "notes" in data:
        out["notes"] = errors.optional_text("notes", data["notes"], 2000)
    if "held_on" in data:
        held_on: date | None = data["held_on"]
        if held_on is None:
            errors.add("heldOn", "不能为空 (required)", ErrorCode.REQUIRED)
        elif held_on > today:
            errors.add("heldOn", "日期不能晚于今天 (date is in the future)", ErrorCode.IN_FUTURE)
        elif held_on < EARLIEST_DATE:
            errors.add(
                "heldOn",
                f"日期不能早于 {EARLIEST_DATE} (date before {EARLIEST_DATE})",
                ErrorCode.OUT_OF_RANGE,
            )
        out["held_on"] = held_on
    if "type" in data:
        try:
            out["type"] = EducationActivityType(data["type"])
        except ValueError:
            allowed = ", ".join(t.value for t in EducationActivityType)
            errors.add(
                "type", f"未知的活动类型 (unknown type; one of {allowed})", ErrorCode.INVALID
            )
    if "audience_count" in data:
        audience = data["audience_count"]
        if audience is None:
            errors.add("audienceCount", "不能为空 (required)", ErrorCode.REQUIRED)
        elif not 0 <= audience <= MAX_AUDIENCE:
            errors.add(
                "audienceCount",
                f"参加人数须在 0 到 {MAX_AUDIENCE} 之间 (audience must be 0 to {MAX_AUDIENCE})",
                ErrorCode.OUT_OF_RANGE,
            )
        out["audience_count"] = audience
    return out


async def create_activity(
    db: AsyncSession, viewer: Viewer, clock: Clock, data: Mapping[str, Any]
) -> EducationActivity:
    """Records an activity organised by `branch_id` (its secretary, or an admin), held at
    `base_id` (default: the county's only base)."""
    viewer.require_writer()
    branch = await get_branch(db, data["branch_id"], "branchId")
    viewer.require_covers(branch.path)
    errors = Collector()
    fields = _check_fields(errors, {"notes": None, **data}, local_date(clock()))
    base_id = await _base_for(db, errors, data.get("base_id"))
    errors.raise_if_any()
    now = clock()
    activity = EducationActivity(
        id=new_id(),
        branch_id=branch.id,
        base_id=base_id,
        created_by=viewer.account_id,
        created_at=now,
        updated_at=now,
        **fields,
    )
    db.add(activity)
    await db.flush()
    return activity


async def _writable(db: AsyncSession, viewer: Viewer, activity_id: uuid.UUID) -> EducationActivity:
    viewer.require_writer()
    activity = await db.get(EducationActivity, activity_id)
    branch = await db.get(Branch, activity.branch_id) if activity else None
    # Out of the viewer's scope reads as absent, as in the lists.
    if activity is None or branch is None or not scope_of(viewer).covers(branch.id, branch.path):
        raise InputError.one("id", "活动不存在 (activity not found)", ErrorCode.NOT_FOUND)
    viewer.require_covers(branch.path)
    return activity


async def update_activity(
    db: AsyncSession,
    viewer: Viewer,
    clock: Clock,
    activity_id: uuid.UUID,
    changes: Mapping[str, Any],
) -> EducationActivity:
    """Edits the fields given; moving it to another branch needs that branch in scope too."""
    activity = await _writable(db, viewer, activity_id)
    errors = Collector()
    fields = _check_fields(errors, changes, local_date(clock()))
    if "branch_id" in changes and changes["branch_id"] is None:
        errors.add("branchId", "不能为空 (required)", ErrorCode.REQUIRED)
    elif "branch_id" in changes and changes["branch_id"] != activity.branch_id:
        branch = await get_branch(db, changes["branch_id"], "branchId")
        viewer.require_covers(branch.path)
        fields["branch_id"] = branch.id
    if changes.get("base_id") is not None:
        fields["base_id"] = await _base_for(db, errors, changes["base_id"])
    errors.raise_if_any()
    for key, value in fields.items():
        setattr(activity, key, value)
    activity.updated_at = clock()
    await db.flush()
    return activity


async def delete_activity(db: AsyncSession, viewer: Viewer, activity_id: uuid.UUID) -> None:
    """Deletes an activity recorded in error."""
    activity = await _writable(db, viewer, activity_id)
    await db.delete(activity)
    await db.flush()
