"""Data analysis (数据分析): the dashboard of a period, with the same figures a year earlier.

The dashboard aggregates everything in SQL over one subtree — the whole county, or a branch and
everything below it — for `period` and for the same period last year (同比,
`Period.same_period_last_year`). `dashboard_scope` settles the subtree and the periods once;
each section is then a function of its own (`members(db, scope)`, `ledger(db, scope)`, …), so
the GraphQL query computes only the sections it selects, while `dashboard` computes them all
(the xlsx export). Each aggregate reads both periods at once with conditional sums or month
buckets, so every section costs a fixed number of statements whatever the number of branches,
members or records:

    the root branch (when one is asked for or implied by the viewer's scope), branches by kind,
    members by type and status, education activities by type, visits, patrols and service
    actions by type and month, the ledger-keeping branches, ledger completeness of both periods
    (two statements, resolvers/ledger_completeness.py), directive recipients, honours by level,
    the assessment ranking of both periods (resolvers/assessment/: the branches and the
    catalog read once, both periods scored together by a fixed number of statements), and the
    subtree's branches with their open reminders (two statements).

The assessment ranking ranks every assessed branch of the county (the positions are the
county's, as `assessmentRanking` gives a secretary their place among all ranked) and lists the
subtree's branches the viewer may read. Open reminders are counted as they stand now: they
carry no previous value.

Roster figures (branches, members) are counted as they stand now: the platform keeps no dated
roster, so they carry no previous value. Scope: admins and inspectors read any branch or the
whole county; a secretary their subtree (by default their own branch), an officer their branch;
asking for a branch outside that is refused with `Forbidden`.

The package: `scope` (the subtree and the periods), `figures` (what the sections return),
`roster`, `record` and `progress` (the sections), `whole` (every section at once); everything
re-exported here.
"""

from resolvers.dashboard.figures import (
    RANKING_TOP,
    AssessmentFigures,
    Count,
    Dashboard,
    DirectiveFigures,
    Education,
    FieldRecords,
    LedgerBranchRow,
    LedgerFigures,
    Members,
    MonthFigures,
    RankingEntry,
    Rate,
    ReminderFigures,
    percent_change,
    rate_of,
)
from resolvers.dashboard.progress import (
    LEDGER_KINDS,
    assessment_ranking,
    directives,
    ledger,
    open_reminders,
)
from resolvers.dashboard.record import education, field_records, honours_by_level, honours_total
from resolvers.dashboard.roster import branches_by_kind, members
from resolvers.dashboard.scope import BranchClause, DashboardScope, dashboard_scope
from resolvers.dashboard.whole import dashboard

__all__ = [
    "LEDGER_KINDS",
    "RANKING_TOP",
    "AssessmentFigures",
    "BranchClause",
    "Count",
    "Dashboard",
    "DashboardScope",
    "DirectiveFigures",
    "Education",
    "FieldRecords",
    "LedgerBranchRow",
    "LedgerFigures",
    "Members",
    "MonthFigures",
    "RankingEntry",
    "Rate",
    "ReminderFigures",
    "assessment_ranking",
    "branches_by_kind",
    "dashboard",
    "dashboard_scope",
    "directives",
    "education",
    "field_records",
    "honours_by_level",
    "honours_total",
    "ledger",
    "members",
    "open_reminders",
    "percent_change",
    "rate_of",
]
