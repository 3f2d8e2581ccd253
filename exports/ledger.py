"""`GET /export/ledger.xlsx?branch=<Branch id>&period=2026-Q2`: a branch's ledger for a period,
and its completeness, as the workbook a branch hands an inspector."""

from __future__ import annotations

from openpyxl import Workbook

from access.errors import Forbidden, id_parameter
from access.scope import scope_of
from exports.workbook import Column, ExportFile, ExportRequest, add_table
from resolvers.branch import get_branch
from resolvers.ledger import ledger_rows
from resolvers.ledger_completeness import ledger_completeness
from resolvers.period import local_date, period_input

ENTRY_COLUMNS = (
    Column("序号", 6, centred=True),
    Column("台账项目", 22),
    Column("日期", 12, centred=True),
    Column("标题", 28),
    Column("内容", 60),
    Column("参会人员", 30),
    Column("附件", 26),
)
COMPLETENESS_COLUMNS = (
    Column("序号", 6, centred=True),
    Column("台账项目", 26),
    Column("频次", 8, centred=True),
    Column("应记", 8, centred=True),
    Column("已记", 8, centred=True),
    Column("缺失期间", 30),
    Column("补记期间", 30),
    Column("未到期", 20),
)


async def export_ledger(request: ExportRequest) -> ExportFile:
    """The entries of one branch (not its subtree) dated in the period, and its completeness."""
    branch_id = id_parameter(request.require("branch"), "Branch", "branch")
    deps = request.deps
    period = period_input(request.require("period"), today=local_date(deps.clock()))
    async with deps.sessionmaker() as db:
        branch = await get_branch(db, branch_id, "branch")
        if not scope_of(request.viewer).covers(branch.id, branch.path):
            raise Forbidden("该组织不在您的查看范围内 (outside what you may read)")
        rows = await ledger_rows(db, branch.id, period)
        status = await ledger_completeness(
            db,
            [branch.id],
            period,
            today=local_date(deps.clock()),
            grace_days=deps.settings.ledger_grace_days,
        )
    workbook = Workbook()
    heading = f"{branch.name} {period.label} 电子台账"
    add_table(
        workbook,
        "电子台账",
        heading,
        ENTRY_COLUMNS,
        (
            (
                index,
                f"{row.item_code} {row.item_name}",
                row.occurred_on.isoformat(),
                row.title,
                row.content or "",
                "、".join(row.attendees),
                "\n".join(row.attachments),
            )
            for index, row in enumerate(rows, start=1)
        ),
        first_sheet=True,
    )
    add_table(
        workbook,
        "完成情况",
        f"{branch.name} {period.label} 台账完成情况",
        COMPLETENESS_COLUMNS,
        (
            (
                index,
                f"{item.code} {item.name}",
                item.frequency.label,
                item.expected,
                item.present,
                "、".join(p.label for p in item.missing),
                "、".join(p.label for p in item.late),
                "、".join(p.label for p in item.pending),
            )
            for index, item in enumerate(status[branch.id], start=1)
        ),
    )
    return ExportFile(f"{branch.name}-{period.file_part}-电子台账.xlsx", workbook)
