"""Brand building (品牌创建): the "六有一规范" checklist per branch and the brand matrix.

The criteria are a catalog the bureau edits (seeded by `meijing seed`); a branch's status on a
criterion it has not touched yet is "not started". The brand name and slogan are edited with the
branch (`update_branch`), honours in resolvers/branch.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import Collector, ErrorCode
from access.viewer import Viewer
from core.clock import Clock
from core.ids import new_id
from core.upsert import insert_ignoring_duplicates
from models import (
    Branch,
    BranchHonour,
    BranchKind,
    BrandChecklistItem,
    BrandCriterion,
    BrandItemStatus,
    HonourLevel,
)
from resolvers.branch import get_branch

# "六有一规范": the default catalog (code, name, order); the bureau may rename or reorder them.
DEFAULT_CRITERIA: tuple[tuple[str, str, int], ...] = (
    ("B1", "有品牌名称", 1),
    ("B2", "有创建目标", 2),
    ("B3", "有特色载体", 3),
    ("B4", "有工作机制", 4),
    ("B5", "有展示阵地", 5),
    ("B6", "有工作成效", 6),
    ("B7", "运行规范", 7),
)
# Kinds that build a brand of their own and appear in the matrix.
BRAND_KINDS = (BranchKind.BRANCH, BranchKind.GENERAL_BRANCH)
MAX_EVIDENCE = 2000
MAX_LINKS = 20
MAX_LINK_LENGTH = 500


async def ensure_brand_criteria(db: AsyncSession, now: datetime) -> int:
    """Adds the default criteria that are missing (by code); edited ones are left alone.

    Idempotent: `meijing seed` may run it on every deployment. Returns how many were added.
    """
    present = set((await db.scalars(select(BrandCriterion.code))).all())
    missing = [c for c in DEFAULT_CRITERIA if c[0] not in present]
    for code, name, sort_order in missing:
        db.add(
            BrandCriterion(
                id=new_id(),
                code=code,
                name=name,
                sort_order=sort_order,
                created_at=now,
                updated_at=now,
            )
        )
    await db.flush()
    return len(missing)


async def list_criteria(db: AsyncSession) -> list[BrandCriterion]:
    """The catalog in the bureau's order."""
    query = select(BrandCriterion).order_by(BrandCriterion.sort_order, BrandCriterion.code)
    return list((await db.scalars(query)).all())


async def save_criterion(
    db: AsyncSession,
    viewer: Viewer,
    clock: Clock,
    code: str,
    name: str,
    sort_order: int | None,
) -> BrandCriterion:
    """Adds a criterion or renames / reorders the one with this code (admins)."""
    viewer.require_admin()
    errors = Collector()
    clean_code = errors.require_text("code", code, 16)
    clean_name = errors.require_text("name", name, 100)
    errors.raise_if_any()
    assert clean_code is not None and clean_name is not None
    now = clock()
    row = await db.scalar(select(BrandCriterion).where(BrandCriterion.code == clean_code))
    if row is None:
        last = await db.scalar(select(func.max(BrandCriterion.sort_order)))
        row = BrandCriterion(
            id=new_id(),
            code=clean_code,
            name=clean_name,
            sort_order=sort_order if sort_order is not None else int(last or 0) + 1,
            created_at=now,
            updated_at=now,
        )
        db.add(row)
    else:
        row.name = clean_name
        if sort_order is not None:
            row.sort_order = sort_order
        row.updated_at = now
    await db.flush()
    return row


async def set_checklist_item(
    db: AsyncSession,
    viewer: Viewer,
    clock: Clock,
    branch_id: uuid.UUID,
    criterion_code: str,
    status: BrandItemStatus,
    evidence: str | None,
    evidence_links: Sequence[str],
) -> BrandChecklistItem:
    """Sets a branch's status on one criterion, with its evidence (the branch's secretary or
    an admin). A criterion is only met with evidence: a text or at least one link."""
    branch = await get_branch(db, branch_id, "branchId")
    viewer.require_covers(branch.path)
    errors = Collector()
    if branch.kind not in BRAND_KINDS:
        errors.add(
            "branchId",
            "只有党支部、党总支参与品牌创建 (only branches build a brand)",
            ErrorCode.INVALID_KIND,
        )
    criterion = await db.scalar(
        select(BrandCriterion).where(BrandCriterion.code == criterion_code.strip())
    )
    if criterion is None:
        errors.add("criterionCode", "没有这项标准 (unknown criterion)", ErrorCode.NOT_FOUND)
    clean_evidence = errors.optional_text("evidence", evidence, MAX_EVIDENCE)
    links = [link.strip() for link in evidence_links if link.strip()]
    if len(links) > MAX_LINKS:
        errors.add(
            "evidenceLinks",
            f"最多 {MAX_LINKS} 条佐证 (at most {MAX_LINKS} links)",
            ErrorCode.TOO_LONG,
        )
    if any(len(link) > MAX_LINK_LENGTH for link in links):
        errors.add(
            "evidenceLinks",
            f"每条最多 {MAX_LINK_LENGTH} 个字符 (at most {MAX_LINK_LENGTH} characters each)",
            ErrorCode.TOO_LONG,
        )
    if status is BrandItemStatus.MET and not clean_evidence and not links:
        errors.add(
            "evidence",
            "标记已达标须提供佐证材料 (evidence required to mark a criterion met)",
            ErrorCode.REQUIRED,
        )
    errors.raise_if_any()
    assert criterion is not None
    now = clock()
    # The first setting of a criterion adds its row; two at once must not both insert it (the
    # second waits for the first, then updates the row the first added).
    await db.execute(
        insert_ignoring_duplicates(db, BrandChecklistItem).values(
            id=new_id(),
            branch_id=branch.id,
            criterion_id=criterion.id,
            status=status,
            evidence_links=[],
            created_at=now,
            updated_at=now,
        )
    )
    item = await db.scalar(
        select(BrandChecklistItem)
        .where(
            BrandChecklistItem.branch_id == branch.id,
            BrandChecklistItem.criterion_id == criterion.id,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert item is not None, "inserted above, or by a concurrent transaction that committed"
    item.status = status
    item.evidence = clean_evidence
    item.evidence_links = links
    item.updated_by = viewer.account_id
    item.updated_at = now
    await db.flush()
    return item


# --- the matrix ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BrandCell:
    """One branch on one criterion; `item` is None when the branch has not started it."""

    criterion: BrandCriterion
    item: BrandChecklistItem | None

    @property
    def status(self) -> BrandItemStatus:
        return self.item.status if self.item else BrandItemStatus.NOT_STARTED


@dataclass(frozen=True, slots=True)
class BrandRow:
    branch: Branch
    cells: list[BrandCell]
    honours: Mapping[HonourLevel, int]

    @property
    def met_count(self) -> int:
        return sum(1 for c in self.cells if c.status is BrandItemStatus.MET)

    @property
    def complete(self) -> bool:
        """Every criterion of the catalog met (an empty catalog completes nothing)."""
        return bool(self.cells) and self.met_count == len(self.cells)


@dataclass(frozen=True, slots=True)
class BrandMatrix:
    criteria: list[BrandCriterion]
    rows: list[BrandRow]

    @property
    def complete_count(self) -> int:
        return sum(1 for r in self.rows if r.complete)


async def brand_matrix(
    db: AsyncSession, viewer: Viewer, subtree_of: uuid.UUID | None = None
) -> BrandMatrix:
    """Every branch (党支部 / 党总支) × every criterion, with brand and honour counts.

    Four statements whatever the size: branches, criteria, their checklist items, and the
    honours counted by branch and level in SQL. Brands are public inside the bureau, so every
    signed-in role reads the whole matrix.
    """
    branch_query = select(Branch).where(Branch.kind.in_(BRAND_KINDS))
    if subtree_of is not None:
        root_path = select(Branch.path).where(Branch.id == subtree_of).scalar_subquery()
        branch_query = branch_query.where(Branch.path.startswith(root_path))
    branches = list(
        (await db.scalars(branch_query.order_by(Branch.depth, Branch.sort_order, Branch.id))).all()
    )
    criteria = await list_criteria(db)
    ids = [b.id for b in branches]
    items: dict[tuple[uuid.UUID, uuid.UUID], BrandChecklistItem] = {}
    honours: dict[uuid.UUID, dict[HonourLevel, int]] = {i: {} for i in ids}
    if ids:
        item_rows = await db.scalars(
            select(BrandChecklistItem).where(BrandChecklistItem.branch_id.in_(ids))
        )
        items = {(i.branch_id, i.criterion_id): i for i in item_rows}
        counts = await honour_counts(db, ids)
        honours = dict(zip(ids, counts, strict=True))
    rows = [
        BrandRow(
            branch=b,
            cells=[BrandCell(c, items.get((b.id, c.id))) for c in criteria],
            honours=honours[b.id],
        )
        for b in branches
    ]
    return BrandMatrix(criteria, rows)


# --- for the assessment (A24, A26) and the dashboard --------------------------------------------


@dataclass(frozen=True, slots=True)
class BrandCompleteness:
    met: int
    total: int

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.met == self.total


async def checklist_completeness(
    db: AsyncSession, branch_ids: Sequence[uuid.UUID]
) -> list[BrandCompleteness]:
    """For each branch (in key order): criteria met out of the catalog's. Two statements.

    The assessment's A24 (brand checklist complete) reads this.
    """
    total = int(await db.scalar(select(func.count()).select_from(BrandCriterion)) or 0)
    if not branch_ids:
        return []
    query = (
        select(BrandChecklistItem.branch_id, func.count())
        .where(
            BrandChecklistItem.branch_id.in_(branch_ids),
            BrandChecklistItem.status == BrandItemStatus.MET,
        )
        .group_by(BrandChecklistItem.branch_id)
    )
    met = {branch_id: int(n) for branch_id, n in await db.execute(query)}
    return [BrandCompleteness(met.get(i, 0), total) for i in branch_ids]


async def honour_counts(
    db: AsyncSession,
    branch_ids: Sequence[uuid.UUID],
    since: date | None = None,
    until: date | None = None,
) -> list[dict[HonourLevel, int]]:
    """Honours of each branch (in key order) counted by level, awarded in [since, until).

    One statement; the assessment's A26 (honours and commendations) reads this.
    """
    query = (
        select(BranchHonour.branch_id, BranchHonour.level, func.count())
        .where(BranchHonour.branch_id.in_(branch_ids))
        .group_by(BranchHonour.branch_id, BranchHonour.level)
    )
    if since is not None:
        query = query.where(BranchHonour.awarded_on >= since)
    if until is not None:
        query = query.where(BranchHonour.awarded_on < until)
    counts: dict[uuid.UUID, dict[HonourLevel, int]] = {i: {} for i in branch_ids}
    for branch_id, level, n in await db.execute(query):
        counts[branch_id][HonourLevel(level)] = int(n)
    return [counts[i] for i in branch_ids]
