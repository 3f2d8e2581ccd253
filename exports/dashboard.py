"""`GET /export/dashboard.xlsx?period=2026&branch=<Branch id>`: the dashboard as a workbook.

The same figures and scope as the `dashboard` query (resolvers/dashboard/), one sheet per
section, Chinese headers, each figure beside the same period last year.
"""

from __future__ import annotations

from access.errors import optional_global_id
from exports.workbook import Cell, ExportFile, ExportRequest, Sheet, sheets_workbook
from models import BranchKind, PartyStatus, PersonnelType, ServiceStatus
from resolvers.dashboard import Count, Dashboard, Rate, dashboard
from resolvers.period import local_date, period_input

PERCENT = "0.0%"
FIGURE_HEADERS = ("指标", "本期", "去年同期", "同比增减(%)")
FIGURE_WIDTHS = (28, 14, 14, 14)
FIGURE_FORMATS: tuple[str | None, ...] = (None, None, None, "0.0")
RATE_FORMATS: tuple[str | None, ...] = (None, PERCENT, PERCENT, "0.0")


def _figure(name: str, figure: Count | Rate) -> list[Cell]:
    return [name, figure.value, figure.previous, figure.change]


def dashboard_sheets(d: Dashboard, unit: str) -> list[Sheet]:
    """The sheets of one dashboard, in the order an inspector reads them."""
    caption = f"{unit} {d.period.label} 数据分析(同期:{d.previous_period.label})"
    f = d.field_records
    members = d.members
    overview: list[list[Cell]] = [
        ["党支部数", d.branches_by_kind.get(BranchKind.BRANCH, 0), None, None],
        ["党员总数", members.total, None, None],
        _figure("教育基地活动(场次)", d.education.activities),
        _figure("教育基地接待(人次)", d.education.audience),
        _figure("走访(次)", f.visits),
        _figure("巡逻(次)", f.patrols),
        _figure("其中夜间巡逻(次)", f.night_patrols),
        _figure("为民服务行动(次)", f.service_actions),
        _figure("解决群众困难(起)", f.difficulties_solved),
        _figure("收到锦旗(面)", f.banners_received),
        _figure("获得荣誉(项)", d.honours),
        _figure("未办结督导提醒(件)", d.open_reminders.open),
        _figure("其中已逾期(件)", d.open_reminders.overdue),
    ]
    rates: list[list[Cell]] = [
        _figure("台账完成率", d.ledger.rate),
        _figure("指令按期办结率", d.directives.completion_rate),
    ]
    member_rows: list[list[Cell]] = [
        ["人员类别", t.label, members.by_personnel_type.get(t, 0)] for t in PersonnelType
    ]
    member_rows += [["政治面貌", s.label, members.by_party_status.get(s, 0)] for s in PartyStatus]
    member_rows += [
        ["在职状态", s.label, members.by_service_status.get(s, 0)] for s in ServiceStatus
    ]
    return [
        Sheet("概览", FIGURE_HEADERS, overview, FIGURE_WIDTHS, caption, FIGURE_FORMATS),
        Sheet("完成率", FIGURE_HEADERS, rates, FIGURE_WIDTHS, caption, RATE_FORMATS),
        Sheet(
            "组织",
            ("组织类型", "数量"),
            [[k.label, n] for k in BranchKind if (n := d.branches_by_kind.get(k))],
            (20, 10),
            caption,
        ),
        Sheet(
            "党员",
            ("分类", "类别", "人数"),
            member_rows,
            (14, 16, 10),
            caption,
        ),
        Sheet(
            "教育基地",
            ("活动类型", "场次", "去年同期场次", "人次", "去年同期人次"),
            [
                [t.label, a.value, a.previous, b.value, b.previous]
                for t, (a, b) in sorted(d.education.by_type.items(), key=lambda kv: kv[0].value)
            ],
            (16, 10, 14, 10, 14),
            caption,
        ),
        Sheet(
            "走访",
            ("走访类别", "本期", "去年同期", "同比增减(%)"),
            [[c.label, n.value, n.previous, n.change] for c, n in f.visits_by_category.items()],
            (18, 10, 12, 14),
            caption,
            (None, None, None, "0.0"),
        ),
        Sheet(
            "为民服务",
            ("行动", "次数", "去年同期", "解决困难", "去年同期", "锦旗", "去年同期"),
            [
                [t.label, n.value, n.previous, s.value, s.previous, b.value, b.previous]
                for t, (n, s, b) in f.actions_by_type.items()
            ],
            (20, 8, 10, 10, 10, 8, 10),
            caption,
        ),
        Sheet(
            "月度",
            (
                "月份",
                "走访",
                "同期",
                "巡逻",
                "同期",
                "夜间巡逻",
                "同期",
                "服务行动",
                "同期",
                "解决困难",
                "同期",
                "锦旗",
                "同期",
            ),
            [
                [
                    m.month.label,
                    *(
                        value
                        for figure in (
                            m.visits,
                            m.patrols,
                            m.night_patrols,
                            m.service_actions,
                            m.difficulties_solved,
                            m.banners_received,
                        )
                        for value in (figure.value, figure.previous)
                    ),
                ]
                for m in f.by_month
            ],
            (12, *([8] * 12)),
            caption,
        ),
        Sheet(
            "台账",
            ("党支部", "应记", "已记", "其中补记", "缺失", "未到期", "完成率"),
            [
                [r.branch.name, r.expected, r.present, r.late, r.missing, r.pending, r.rate]
                for r in d.ledger.by_branch
            ],
            (28, 8, 8, 10, 8, 8, 10),
            caption,
            (None, None, None, None, None, None, PERCENT),
        ),
        Sheet(
            "考核排名",
            ("名次", "党支部", "总分", "去年同期名次", "去年同期总分"),
            [
                [r.rank, r.branch.name, r.score, r.previous_rank, r.previous_score]
                for r in d.assessment_ranking.rows
            ],
            (12, 28, 10, 14, 14),
            f"{caption} 名次为全县{d.assessment_ranking.ranked}个党组织中的位次",
            (None, None, "0.0", None, "0.0"),
        ),
        Sheet(
            "上级指令",
            FIGURE_HEADERS,
            [
                _figure("到期接收单位(人)", d.directives.due),
                _figure("按期办结", d.directives.closed_on_time),
                _figure("逾期办结", d.directives.closed_late),
                _figure("逾期未办结", d.directives.overdue_open),
            ],
            FIGURE_WIDTHS,
            caption,
            FIGURE_FORMATS,
        ),
        Sheet(
            "荣誉",
            ("级别", "本期", "去年同期"),
            [[level.label, n.value, n.previous] for level, n in d.honours_by_level.items()],
            (12, 10, 12),
            caption,
        ),
    ]


async def export_dashboard(request: ExportRequest) -> ExportFile:
    """Reads `period` (required) and `branch` (a Branch id, optional); scope as the query's."""
    deps = request.deps
    period = period_input(request.require("period"), today=local_date(deps.clock()))
    branch_id = optional_global_id(request.params.get("branch"), "Branch", "branch")
    async with deps.sessionmaker() as db:
        result = await dashboard(
            db,
            request.viewer,
            period,
            branch_id,
            now=deps.clock(),
            grace_days=deps.settings.ledger_grace_days,
        )
    unit = result.branch.name if result.branch else "全县"
    workbook = sheets_workbook(dashboard_sheets(result, unit))
    return ExportFile(f"数据分析_{unit}_{period.file_part}.xlsx", workbook)
