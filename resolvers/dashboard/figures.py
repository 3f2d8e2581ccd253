"""What the dashboard's sections return: counts beside the same period last year, rates, and
each section's figures. Plain values, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from models import (
    Branch,
    BranchKind,
    EducationActivityType,
    HonourLevel,
    PartyStatus,
    PatrolKind,
    PersonnelType,
    ServiceActionType,
    ServiceStatus,
    VisitCategory,
)
from resolvers.ledger_completeness import recorded_rate
from resolvers.period import Period

# How many leading branches the dashboard's ranking shows as the top.
RANKING_TOP = 5


def percent_change(value: float | None, previous: float | None) -> float | None:
    """(value - previous) / previous in percent, one decimal; None when there is no base."""
    if value is None or previous is None or previous == 0:
        return None
    return round((value - previous) / previous * 100, 1)


@dataclass(frozen=True, slots=True)
class Count:
    """A count in the period and in the comparison period (None: not kept per period)."""

    value: int
    previous: int | None = None

    @property
    def change(self) -> float | None:
        return percent_change(self.value, self.previous)


@dataclass(frozen=True, slots=True)
class Rate:
    """A share between 0 and 1; None when nothing was due."""

    value: float | None
    previous: float | None

    @property
    def change(self) -> float | None:
        return percent_change(self.value, self.previous)


def rate_of(part: int, whole: int) -> float | None:
    """part / whole; None when nothing was due."""
    return part / whole if whole else None


@dataclass(frozen=True, slots=True)
class Members:
    """The roster of the subtree as it stands (home branch in the subtree)."""

    total: int
    by_personnel_type: dict[PersonnelType, int]
    by_party_status: dict[PartyStatus, int]
    by_service_status: dict[ServiceStatus, int]


@dataclass(frozen=True, slots=True)
class Education:
    activities: Count
    audience: Count
    by_type: dict[EducationActivityType, tuple[Count, Count]]


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """One month of the period beside the same month a year earlier."""

    month: Period
    visits: Count
    patrols: Count
    night_patrols: Count
    service_actions: Count
    difficulties_solved: Count
    banners_received: Count


@dataclass(frozen=True, slots=True)
class FieldRecords:
    visits: Count
    visit_people_reached: Count
    visits_by_category: dict[VisitCategory, Count]
    patrols: Count
    night_patrols: Count
    patrols_by_kind: dict[PatrolKind, Count]
    service_actions: Count
    service_people_reached: Count
    difficulties_solved: Count
    banners_received: Count
    # Per type: actions, difficulties solved, banners received.
    actions_by_type: dict[ServiceActionType, tuple[Count, Count, Count]]
    by_month: list[MonthFigures]


@dataclass(frozen=True, slots=True)
class LedgerBranchRow:
    """One ledger-keeping branch in the period: due sub-periods and how they stand."""

    branch: Branch
    expected: int
    present: int
    late: int
    missing: int
    pending: int

    @property
    def rate(self) -> float | None:
        """The recorded rate (resolvers/ledger_completeness.py): present / (present + missing)."""
        return recorded_rate(self.present, self.missing)


@dataclass(frozen=True, slots=True)
class LedgerFigures:
    branches: int
    expected: Count
    present: Count
    late: Count
    missing: Count
    pending: Count
    rate: Rate
    by_branch: list[LedgerBranchRow]


@dataclass(frozen=True, slots=True)
class DirectiveFigures:
    """Recipient rows (every level) whose directive's deadline lies in the period and passed."""

    due: Count
    closed_on_time: Count
    closed_late: Count
    overdue_open: Count
    completion_rate: Rate


@dataclass(frozen=True, slots=True)
class RankingEntry:
    """An assessed branch's place in the county's ranking, and a year earlier."""

    rank: int
    branch: Branch
    score: float
    previous_rank: int | None
    previous_score: float | None


@dataclass(frozen=True, slots=True)
class AssessmentFigures:
    """智能考核 ranking: positions among all `ranked` assessed branches of the county."""

    ranked: int
    # The subtree's assessed branches the viewer may read, best first.
    rows: list[RankingEntry]
    # The assessed branch the subtree's root is or belongs to (None for the county, or a
    # subtree with no assessed branch at or above its root).
    own: RankingEntry | None

    @property
    def top(self) -> list[RankingEntry]:
        return self.rows[:RANKING_TOP]


@dataclass(frozen=True, slots=True)
class ReminderFigures:
    """Reminders of the subtree's branches not yet resolved, as they stand now."""

    open: Count
    overdue: Count


@dataclass(frozen=True, slots=True)
class Dashboard:
    period: Period
    previous_period: Period
    # The subtree's root; None for the whole county.
    branch: Branch | None
    branches_by_kind: dict[BranchKind, int]
    members: Members
    education: Education
    field_records: FieldRecords
    ledger: LedgerFigures
    directives: DirectiveFigures
    honours: Count
    honours_by_level: dict[HonourLevel, Count]
    assessment_ranking: AssessmentFigures
    open_reminders: ReminderFigures
