"""`GET /export/assessment.xlsx?period=2026-Q2&branch=<Branch id>`: the assessment tables.

Two sheets, as an inspector prints them: the ranking (名次, 党支部, 总分, then one column per
item code with the branch's score) and every item's explanation for each branch of the ranking.
The same rows and scope as the `assessmentRanking` query (resolvers/assessment/): the assessed
branches of the county, or of the subtree of `branch`, that the viewer may read, ranked among
all of them. Asking for a branch the viewer may not read is refused with 403.
"""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from access.assessment import readable
from access.errors import Forbidden, optional_global_id
from exports.workbook import Column, ExportFile, ExportRequest, add_table
from resolvers.assessment import Ranking, assessment_ranking
from resolvers.branch import get_branch
from resolvers.period import local_date, period_input

SCORE_FORMAT = "0.0"
RANKING_COLUMNS = (
    Column("名次", 6, centred=True),
    Column("党支部", 28),
    Column("总分", 8, centred=True),
)
EXPLANATION_COLUMNS = (
    Column("名次", 6, centred=True),
    Column("党支部", 24),
    Column("编号", 6, centred=True),
    Column("考核项目", 24),
    Column("分值", 6, centred=True),
    Column("得分", 6, centred=True),
    Column("加减分", 8, centred=True),
    Column("评分说明", 60),
)


def _number_format(sheet: Worksheet, columns: range, first_row: int = 3) -> None:
    for row in sheet.iter_rows(min_row=first_row, min_col=columns.start, max_col=columns.stop - 1):
        for cell in row:
            cell.number_format = SCORE_FORMAT


def assessment_workbook(ranking: Ranking, unit: str) -> Workbook:
    """The ranking sheet and the explanation sheet of one ranking."""
    workbook = Workbook()
    codes = [item.code for item in ranking.items]
    title = f"{unit} {ranking.period.label} 党建工作考核"
    ranked = add_table(
        workbook,
        "考核排名",
        f"{title}排名(共{ranking.ranked}个党组织参评)",
        (*RANKING_COLUMNS, *(Column(code, 7, centred=True) for code in codes)),
        (
            (
                row.rank,
                row.score.branch.name,
                row.score.total,
                *(
                    scores[code].score if code in scores else None
                    for scores in [{s.item.code: s for s in row.score.items}]
                    for code in codes
                ),
            )
            for row in ranking.rows
        ),
        first_sheet=True,
    )
    _number_format(ranked, range(3, 4 + len(codes)))
    explained = add_table(
        workbook,
        "评分说明",
        f"{title}评分说明",
        EXPLANATION_COLUMNS,
        (
            (
                row.rank,
                row.score.branch.name,
                item.item.code,
                item.item.name,
                item.item.points,
                item.score,
                item.adjustment or None,
                item.explanation,
            )
            for row in ranking.rows
            for item in row.score.items
        ),
    )
    _number_format(explained, range(6, 8))
    return workbook


async def export_assessment(request: ExportRequest) -> ExportFile:
    """Reads `period` (required) and `branch` (a Branch id, optional: the county)."""
    deps = request.deps
    period = period_input(request.require("period"), today=local_date(deps.clock()))
    branch_id = optional_global_id(request.params.get("branch"), "Branch", "branch")
    async with deps.sessionmaker() as db:
        unit = "全县"
        if branch_id is not None:
            branch = await get_branch(db, branch_id, "branch")
            if not readable(request.viewer, branch):
                raise Forbidden("该组织不在您的查看范围内 (outside what you may read)")
            unit = branch.name
        ranking = await assessment_ranking(
            db,
            request.viewer,
            period,
            subtree_of=branch_id,
            today=local_date(deps.clock()),
            grace_days=deps.settings.ledger_grace_days,
        )
    return ExportFile(f"考核_{unit}_{period.file_part}.xlsx", assessment_workbook(ranking, unit))
