"""GraphQL surface of brand building (品牌创建): criteria, checklists and the brand matrix."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import from_global_id, optional_global_id
from access.viewer import Viewer
from models import BrandChecklistItem as BrandChecklistItemRow
from models import BrandCriterion as BrandCriterionRow
from models import BrandItemStatus, HonourLevel
from resolvers import brand as ops
from resolvers.branch import get_branch
from resolvers.brand import BrandCell, BrandRow
from resolvers.brand import BrandMatrix as BrandMatrixData
from schema.branch import Branch
from schema.context import Info
from schema.errors import InvalidInput, read, write

BrandItemStatusEnum = strawberry.enum(
    BrandItemStatus, name="BrandItemStatus", description="未开始 · 推进中 · 已达标"
)


@strawberry.type(description="One criterion of the brand standard (六有一规范), e.g. 有品牌名称.")
class BrandCriterion:
    code: str
    name: str
    sort_order: int

    @classmethod
    def from_model(cls, row: BrandCriterionRow) -> BrandCriterion:
        return cls(code=row.code, name=row.name, sort_order=row.sort_order)


@strawberry.type(description="A branch's status on one criterion, with its evidence.")
class BrandChecklistCell:
    criterion: BrandCriterion
    status: BrandItemStatus
    status_label: str = strawberry.field(description="未开始 / 推进中 / 已达标")
    evidence: str | None
    evidence_links: list[str] = strawberry.field(
        description="Links or attachment references offered as evidence."
    )
    updated_at: datetime | None

    @classmethod
    def build(
        cls, criterion: BrandCriterionRow, item: BrandChecklistItemRow | None
    ) -> BrandChecklistCell:
        status = item.status if item else BrandItemStatus.NOT_STARTED
        return cls(
            criterion=BrandCriterion.from_model(criterion),
            status=status,
            status_label=status.label,
            evidence=item.evidence if item else None,
            evidence_links=list(item.evidence_links or []) if item else [],
            updated_at=item.updated_at if item else None,
        )

    @classmethod
    def from_cell(cls, cell: BrandCell) -> BrandChecklistCell:
        return cls.build(cell.criterion, cell.item)


@strawberry.type(description="Honours counted by level.")
class HonourCounts:
    county: int
    city: int
    province: int
    national: int

    @strawberry.field
    def total(self) -> int:
        return self.county + self.city + self.province + self.national


@strawberry.type(description="One branch in the brand matrix.")
class BrandMatrixRow:
    branch: Branch
    brand_name: str | None
    brand_slogan: str | None
    cells: list[BrandChecklistCell] = strawberry.field(description="In the criteria's order.")
    met_count: int
    complete: bool = strawberry.field(description="Every criterion met (已达标).")
    honours: HonourCounts

    @classmethod
    def from_row(cls, row: BrandRow) -> BrandMatrixRow:
        return cls(
            branch=Branch.from_model(row.branch),
            brand_name=row.branch.brand_name,
            brand_slogan=row.branch.brand_slogan,
            cells=[BrandChecklistCell.from_cell(c) for c in row.cells],
            met_count=row.met_count,
            complete=row.complete,
            honours=HonourCounts(
                county=row.honours.get(HonourLevel.COUNTY, 0),
                city=row.honours.get(HonourLevel.CITY, 0),
                province=row.honours.get(HonourLevel.PROVINCE, 0),
                national=row.honours.get(HonourLevel.NATIONAL, 0),
            ),
        )


@strawberry.type(description="品牌矩阵: every branch against every criterion.")
class BrandMatrix:
    criteria: list[BrandCriterion]
    rows: list[BrandMatrixRow]
    complete_count: int = strawberry.field(description="Branches with every criterion met.")

    @classmethod
    def from_data(cls, data: BrandMatrixData) -> BrandMatrix:
        return cls(
            criteria=[BrandCriterion.from_model(c) for c in data.criteria],
            rows=[BrandMatrixRow.from_row(r) for r in data.rows],
            complete_count=data.complete_count,
        )


@strawberry.type
class BrandQuery:
    @strawberry.field(description="The brand criteria (六有一规范), in order.")
    async def brand_criteria(self, info: Info) -> list[BrandCriterion]:
        rows = await read(info, lambda db, viewer: ops.list_criteria(db))
        return [BrandCriterion.from_model(r) for r in rows]

    @strawberry.field(
        description="Every 党支部 / 党总支 (of a subtree) × every criterion, with brands and honours."
    )
    async def brand_matrix(
        self, info: Info, subtree_of: strawberry.ID | None = None
    ) -> BrandMatrix:
        root = optional_global_id(subtree_of, "Branch", "subtreeOf")
        data = await read(info, lambda db, viewer: ops.brand_matrix(db, viewer, root))
        info.context.loaders.prime_branches([r.branch for r in data.rows])
        return BrandMatrix.from_data(data)


@strawberry.input
class SetBrandChecklistItemInput:
    branch_id: strawberry.ID
    criterion_code: str
    status: BrandItemStatus
    evidence: str | None = None
    evidence_links: list[str] | None = None


@strawberry.input(description="Adds a criterion, or renames / reorders the one with this code.")
class SaveBrandCriterionInput:
    code: str
    name: str
    sort_order: int | None = None


@strawberry.type
class BrandChecklistItemPayload:
    branch: Branch
    cell: BrandChecklistCell


@strawberry.type
class BrandCriterionPayload:
    criterion: BrandCriterion


BrandChecklistItemResult = Annotated[
    BrandChecklistItemPayload | InvalidInput, strawberry.union("BrandChecklistItemResult")
]
BrandCriterionResult = Annotated[
    BrandCriterionPayload | InvalidInput, strawberry.union("BrandCriterionResult")
]


@strawberry.type
class BrandMutation:
    @strawberry.mutation(
        description="Sets a branch's status on one criterion (its secretary or an admin)."
    )
    async def set_brand_checklist_item(
        self, info: Info, input: SetBrandChecklistItemInput
    ) -> BrandChecklistItemResult:
        async def run(db: AsyncSession, viewer: Viewer) -> BrandChecklistItemPayload:
            branch_id = from_global_id(input.branch_id, "Branch", "branchId")
            item = await ops.set_checklist_item(
                db,
                viewer,
                info.context.clock,
                branch_id,
                input.criterion_code,
                input.status,
                input.evidence,
                input.evidence_links or [],
            )
            criterion = await db.get(BrandCriterionRow, item.criterion_id)
            assert criterion is not None
            branch = await get_branch(db, branch_id)
            return BrandChecklistItemPayload(
                branch=Branch.from_model(branch), cell=BrandChecklistCell.build(criterion, item)
            )

        return await write(info, run)

    @strawberry.mutation(description="Edits the brand criteria catalog (admins).")
    async def save_brand_criterion(
        self, info: Info, input: SaveBrandCriterionInput
    ) -> BrandCriterionResult:
        async def run(db: AsyncSession, viewer: Viewer) -> BrandCriterionPayload:
            row = await ops.save_criterion(
                db, viewer, info.context.clock, input.code, input.name, input.sort_order
            )
            return BrandCriterionPayload(criterion=BrandCriterion.from_model(row))

        return await write(info, run)
