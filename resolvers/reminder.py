"""Supervision reminders (督导提醒): generating them, and what people do with them.

Generation (`generate_reminders(db, now)`) is pure in its inputs: what it writes depends only on
the database and the `now` it is given (the injected clock), so tests travel in time. It is
idempotent: every reminder has a natural key (`dedup_key`, unique in the table) and is inserted
with INSERT … ON CONFLICT DO NOTHING, so a second run — or a second process racing the first on
PostgreSQL — creates nothing twice. A key is never reused: a reminder someone resolved is not
raised again for the same subject.

What is generated, on the bureau's calendar day `today` (rules from settings, `ReminderRules`):

* `ledger_due` — to a branch (党支部 / 党总支) for each required ledger item whose sub-period
  (month, quarter, year: resolvers/ledger_completeness.py) has no entry yet, from `ledger_lead_days`
  before it ends until its deadline (its end plus the ledger grace days); due on that deadline.
* `ledger_overdue` — once the deadline has passed with no entry (the completeness view's
  "missing"); due `response_days` after the deadline. Every sub-period of the assessment year
  (the calendar year of `today`) is looked at, and in January the previous month too, so
  December's work is seen once its grace days run out: whatever was missed earlier in the year
  is reminded, once (`ledger_window`).
* `activist_year_complete` — to the branch, for an activist (入党积极分子) cultivated a full year
  since `party_status_since`: consider them as a candidate; due `response_days` later.
* `probation_ending` — to the branch and the probationary member (who applies for full
  membership), from `probation_lead_days` before the year of probation ends; due on that day.
* `directive_deadline` — to a recipient (branch, or member) that has not closed, from
  `directive_lead_days` before the directive's deadline; due on the deadline's day.
* `directive_unsigned` — to a recipient that has not signed `unsigned_days` after dispatch; due
  `response_days` after that. The issuing committee's own row is never reminded.
* `finding_deadline` — to the branch as a whole (its secretary, who reports rectification) for
  a spot-check finding still open from `finding_lead_days` before its rectification deadline;
  due on the deadline.
* `directive_urged` — not generated: raised by whoever dispatched a directive to a lagging
  recipient (催办, resolvers/directive/urge.py, `add_reminder`), recorded as theirs
  (`updated_by`); resolved by the system once the recipient closes.

A reminder no longer applying is resolved by the system on the next run: a ledger reminder when
an entry for its sub-period exists (fulfilled) and a due-soon one when its deadline passed (it
lapses: the overdue one takes over); pipeline and directive reminders when their subject no
longer qualifies (the member moved on, the recipient signed or closed, the finding was
rectified: fulfilled).

People: the addressee acknowledges (知悉) or resolves (办结) a reminder — the member it is
addressed to, the secretary over its branch, or an admin. Reading follows the sync audience
(access/audience.py), so the web shows what phones pull: an officer reads the reminders addressed to
them and to their branch as a whole, not a colleague's; secretaries their subtree's, admins and
inspectors all. A reminder outside it is not found, even by someone trying to answer it. Every
write takes a sync stamp and announces the `reminder` collection, since reminder rows are the
documents phones pull.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    false,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from access import audience
from access.errors import Collector, ErrorCode, Forbidden, InputError
from access.scope import scope_of
from access.viewer import Viewer
from core.ids import new_id
from core.settings import Settings
from core.upsert import insert_ignoring_duplicates
from models import (
    Branch,
    BranchKind,
    Directive,
    DirectiveRecipient,
    DirectiveStatus,
    FindingStatus,
    LedgerEntry,
    LedgerFrequency,
    LedgerItem,
    Member,
    PartyStatus,
    RecipientStatus,
    Reminder,
    ReminderKind,
    ReminderResolution,
    ReminderStatus,
    Role,
    SpotCheck,
    SpotCheckFinding,
)
from resolvers.ledger_completeness import SubPeriodStatus, ledger_completeness_of_periods
from resolvers.pagination import Page, PageRequest, cursor_values, encode_cursor
from resolvers.period import Period, PeriodKind, local_date
from sync.feed import announce
from sync.stamp import next_stamp

COLLECTION_KEY = "reminder"
"""The sync collection reminder rows belong to (sync/collection.py REMINDER)."""

# Branches that keep the standard ledgers (党支部基础工作台账): branches and general branches.
LEDGER_KEEPING_KINDS = (BranchKind.BRANCH, BranchKind.GENERAL_BRANCH)
LEDGER_KINDS = (ReminderKind.LEDGER_DUE, ReminderKind.LEDGER_OVERDUE)
# Kinds whose candidates are complete on every run: an open reminder of these kinds whose key
# is not among this run's candidates no longer applies.
SUBJECT_KINDS = (
    ReminderKind.ACTIVIST_YEAR_COMPLETE,
    ReminderKind.PROBATION_ENDING,
    ReminderKind.DIRECTIVE_DEADLINE,
    ReminderKind.DIRECTIVE_UNSIGNED,
    ReminderKind.FINDING_DEADLINE,
)
# IN lists are sent in chunks: both drivers cap a statement's parameters at ~32,000.
CHUNK = 1000
MAX_TITLE = 300
MAX_NOTE = 500
# How much of a finding's text a reminder's title quotes.
FINDING_EXCERPT = 60


@dataclass(frozen=True, slots=True)
class ReminderRules:
    """The days the generator works with (settings: MEIJING_REMINDER_*, MEIJING_LEDGER_GRACE_DAYS)."""

    ledger_lead_days: int = 7
    ledger_grace_days: int = 7
    probation_lead_days: int = 30
    directive_lead_days: int = 3
    unsigned_days: int = 2
    response_days: int = 7
    finding_lead_days: int = 7

    @classmethod
    def from_settings(cls, settings: Settings) -> ReminderRules:
        return cls(
            ledger_lead_days=settings.reminder_ledger_lead_days,
            ledger_grace_days=settings.ledger_grace_days,
            probation_lead_days=settings.reminder_probation_lead_days,
            directive_lead_days=settings.reminder_directive_lead_days,
            unsigned_days=settings.reminder_unsigned_days,
            response_days=settings.reminder_response_days,
            # Findings are reminded as long before their deadline as ledger work is.
            finding_lead_days=settings.reminder_ledger_lead_days,
        )


@dataclass(frozen=True, slots=True)
class Candidate:
    """A reminder that applies now; inserted unless its key exists."""

    kind: ReminderKind
    dedup_key: str
    branch_id: uuid.UUID
    member_id: uuid.UUID | None
    title: str
    due_on: date
    ledger_item_id: uuid.UUID | None = None
    period: Period | None = None
    subject_member_id: uuid.UUID | None = None
    directive_recipient_id: str | None = None
    spot_check_finding_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class GenerationResult:
    """What one run did: reminders created and resolved, per kind."""

    created: Counter[ReminderKind] = field(default_factory=Counter)
    resolved: Counter[ReminderKind] = field(default_factory=Counter)
    stamp: int | None = None

    @property
    def total_created(self) -> int:
        return sum(self.created.values())

    @property
    def total_resolved(self) -> int:
        return sum(self.resolved.values())

    @property
    def message(self) -> str:
        return (
            f"新建提醒 {self.total_created} 条,自动办结 {self.total_resolved} 条 "
            f"(reminders created {self.total_created}, resolved {self.total_resolved})"
        )


def _title(text: str) -> str:
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 1] + "…"


def one_year_after(day: date) -> date:
    """The anniversary; 29 February's is 28 February."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def one_year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


# --- candidates -----------------------------------------------------------------------------------


def ledger_window(today: date) -> tuple[date, date]:
    """The days a ledger sub-period may end on to be reminded of on `today`: from the start of
    the assessment year (or of the previous month, in January) to the end of this month."""
    this_month = Period.containing(PeriodKind.MONTH, today)
    year_start = Period.containing(PeriodKind.YEAR, today).start
    return min(year_start, this_month.previous().start), this_month.end


async def ledger_candidates(db: AsyncSession, today: date, rules: ReminderRules) -> list[Candidate]:
    """Due-soon and overdue ledger sub-periods of every ledger-keeping branch."""
    branch_ids = list(
        await db.scalars(
            select(Branch.id)
            .where(
                Branch.kind.in_(LEDGER_KEEPING_KINDS),
                or_(Branch.ends_on.is_(None), Branch.ends_on >= today),
            )
            .order_by(Branch.id)
        )
    )
    if not branch_ids:
        return []
    # Every sub-period of the assessment year that has ended or is about to (its deadline passed
    # with nothing recorded: overdue; ending within the lead days: due soon), read a quarter at a
    # time (a quarter covers every frequency's sub-periods that end in it). The previous month
    # is read too, so December's work is still seen through January's grace days.
    window_start, window_end = ledger_window(today)
    quarters = [Period.containing(PeriodKind.QUARTER, window_start)]
    while quarters[-1].end < window_end:
        quarters.append(quarters[-1].next())
    out: list[Candidate] = []
    every = await ledger_completeness_of_periods(
        db, branch_ids, quarters, today=today, grace_days=rules.ledger_grace_days
    )
    for found in every:
        for branch_id, items in found.items():
            for item in items:
                for state in item.sub_periods:
                    sub = state.period
                    if not window_start <= sub.end <= window_end:
                        continue
                    what = f"{item.code} {item.name}({sub.label})"
                    if state.status is SubPeriodStatus.PENDING and today >= sub.end - timedelta(
                        days=rules.ledger_lead_days
                    ):
                        kind = ReminderKind.LEDGER_DUE
                        title = f"{what}台账尚未记录,请于 {state.deadline.isoformat()} 前完成"
                        due_on = state.deadline
                    elif state.status is SubPeriodStatus.MISSING:
                        kind = ReminderKind.LEDGER_OVERDUE
                        title = f"{what}台账逾期未记录(期限 {state.deadline.isoformat()})"
                        due_on = state.deadline + timedelta(days=rules.response_days)
                    else:
                        continue
                    out.append(
                        Candidate(
                            kind=kind,
                            dedup_key=f"{kind.value}:{branch_id}:{item.item_id}:{sub}",
                            branch_id=branch_id,
                            member_id=None,
                            title=_title(title),
                            due_on=due_on,
                            ledger_item_id=item.item_id,
                            period=sub,
                        )
                    )
    return out


async def pipeline_candidates(
    db: AsyncSession, today: date, rules: ReminderRules
) -> list[Candidate]:
    """Activists cultivated a full year; probationary members whose year is about to end."""
    probation_since = one_year_before(today + timedelta(days=rules.probation_lead_days))
    query = (
        select(
            Member.id, Member.branch_id, Member.name, Member.party_status, Member.party_status_since
        )
        .where(
            or_(
                and_(
                    Member.party_status == PartyStatus.ACTIVIST,
                    Member.party_status_since <= one_year_before(today),
                ),
                and_(
                    Member.party_status == PartyStatus.PROBATIONARY,
                    Member.party_status_since <= probation_since,
                ),
            )
        )
        .order_by(Member.id)
    )
    out: list[Candidate] = []
    for member_id, branch_id, name, status, since in await db.execute(query):
        anniversary = one_year_after(since)
        if PartyStatus(status) is PartyStatus.ACTIVIST:
            kind = ReminderKind.ACTIVIST_YEAR_COMPLETE
            title = (
                f"{name} 作为入党积极分子已培养满一年({anniversary.isoformat()}),请考虑列为发展对象"
            )
            addressed: uuid.UUID | None = None  # the branch decides
            due_on = anniversary + timedelta(days=rules.response_days)
        else:
            kind = ReminderKind.PROBATION_ENDING
            title = f"{name} 预备期将于 {anniversary.isoformat()} 届满,请及时申请并讨论转正"
            addressed = member_id  # the member applies for full membership (转正申请)
            due_on = anniversary
        out.append(
            Candidate(
                kind=kind,
                dedup_key=f"{kind.value}:{member_id}:{since.isoformat()}",
                branch_id=branch_id,
                member_id=addressed,
                title=_title(title),
                due_on=due_on,
                subject_member_id=member_id,
            )
        )
    return out


async def directive_candidates(
    db: AsyncSession, now: datetime, rules: ReminderRules
) -> list[Candidate]:
    """Recipients near (or past) the deadline without closing; recipients slow to sign."""
    r = DirectiveRecipient
    near = and_(
        r.status != RecipientStatus.CLOSED,
        Directive.deadline <= now + timedelta(days=rules.directive_lead_days),
    )
    unsigned = and_(
        r.status == RecipientStatus.PENDING,
        r.signed_at.is_(None),
        r.dispatched_at <= now - timedelta(days=rules.unsigned_days),
    )
    query = (
        select(
            r.id,
            r.branch_id,
            r.officer_id,
            r.dispatched_at,
            Directive.title.label("directive_title"),
            Directive.deadline.label("directive_deadline"),
            near.label("near"),
            unsigned.label("unsigned"),
        )
        .join(Directive, Directive.id == r.directive_id)
        .where(
            Directive.status == DirectiveStatus.ISSUED,
            r.parent_id.is_not(None),  # the issuer's own row is no recipient
            r.deleted.is_(False),
            or_(near, unsigned),
        )
        .order_by(r.id)
    )
    out: list[Candidate] = []
    for row in await db.execute(query):
        deadline_day = local_date(row.directive_deadline)
        common: dict[str, Any] = {
            "branch_id": row.branch_id,
            "member_id": row.officer_id,
            "directive_recipient_id": row.id,
        }
        if row.near:
            kind = ReminderKind.DIRECTIVE_DEADLINE
            out.append(
                Candidate(
                    kind=kind,
                    dedup_key=f"{kind.value}:{row.id}",
                    title=_title(
                        f"指令《{row.directive_title}》办理期限 {deadline_day.isoformat()},尚未办结"
                    ),
                    due_on=deadline_day,
                    **common,
                )
            )
        if row.unsigned:
            kind = ReminderKind.DIRECTIVE_UNSIGNED
            late_since = local_date(row.dispatched_at + timedelta(days=rules.unsigned_days))
            out.append(
                Candidate(
                    kind=kind,
                    dedup_key=f"{kind.value}:{row.id}",
                    title=_title(
                        f"指令《{row.directive_title}》下发已超过 {rules.unsigned_days} 天,尚未签收"
                    ),
                    due_on=late_since + timedelta(days=rules.response_days),
                    **common,
                )
            )
    return out


async def finding_candidates(
    db: AsyncSession, today: date, rules: ReminderRules
) -> list[Candidate]:
    """Spot-check findings not yet rectified whose deadline (整改期限) is near or passed: to the
    branch as a whole, that is its secretary, who reports the rectification; due on the
    deadline."""
    query = (
        select(
            SpotCheckFinding.id,
            SpotCheckFinding.branch_id,
            SpotCheckFinding.text,
            SpotCheckFinding.deadline,
            SpotCheck.period,
        )
        .join(SpotCheck, SpotCheck.id == SpotCheckFinding.spot_check_id)
        .where(
            SpotCheckFinding.status == FindingStatus.OPEN,
            SpotCheckFinding.deadline <= today + timedelta(days=rules.finding_lead_days),
        )
        .order_by(SpotCheckFinding.id)
    )
    out: list[Candidate] = []
    kind = ReminderKind.FINDING_DEADLINE
    for finding_id, branch_id, text, deadline, period in await db.execute(query):
        summary = text if len(text) <= FINDING_EXCERPT else text[: FINDING_EXCERPT - 1] + "…"
        out.append(
            Candidate(
                kind=kind,
                dedup_key=f"{kind.value}:{finding_id}",
                branch_id=branch_id,
                member_id=None,
                title=_title(
                    f"抽查({period})发现的问题“{summary}”须于 {deadline.isoformat()} 前整改"
                ),
                due_on=deadline,
                spot_check_finding_id=finding_id,
            )
        )
    return out


# --- generation -----------------------------------------------------------------------------------


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


async def _existing_keys(db: AsyncSession, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(keys):
        found.update(
            await db.scalars(select(Reminder.dedup_key).where(Reminder.dedup_key.in_(chunk)))
        )
    return found


async def _no_longer_applying(
    db: AsyncSession, today: date, candidate_keys: set[str]
) -> dict[ReminderResolution, list[tuple[str, ReminderKind]]]:
    """Unresolved reminders to resolve by the system, by how they are resolved."""
    out: dict[ReminderResolution, list[tuple[str, ReminderKind]]] = {
        ReminderResolution.FULFILLED: [],
        ReminderResolution.LAPSED: [],
    }
    unresolved = Reminder.status != ReminderStatus.RESOLVED
    subject = select(Reminder.id, Reminder.kind, Reminder.dedup_key).where(
        unresolved, Reminder.kind.in_(SUBJECT_KINDS)
    )
    for reminder_id, kind, key in await db.execute(subject):
        if key not in candidate_keys:
            out[ReminderResolution.FULFILLED].append((reminder_id, ReminderKind(kind)))
    closed = (
        select(Reminder.id, Reminder.kind)
        .join(DirectiveRecipient, DirectiveRecipient.id == Reminder.directive_recipient_id)
        .where(
            unresolved,
            Reminder.kind == ReminderKind.DIRECTIVE_URGED,
            DirectiveRecipient.status == RecipientStatus.CLOSED,
        )
    )
    for reminder_id, kind in await db.execute(closed):
        out[ReminderResolution.FULFILLED].append((reminder_id, ReminderKind(kind)))
    recorded = exists().where(
        LedgerEntry.branch_id == Reminder.branch_id,
        LedgerEntry.item_id == Reminder.ledger_item_id,
        LedgerEntry.occurred_on >= Reminder.period_start,
        LedgerEntry.occurred_on <= Reminder.period_end,
    )
    still_required = and_(
        LedgerItem.active.is_(True),
        LedgerItem.required.is_(True),
        LedgerItem.frequency != LedgerFrequency.ON_EVENT,
    )
    ledger = (
        select(
            Reminder.id,
            Reminder.kind,
            Reminder.due_on,
            recorded.label("recorded"),
            still_required.label("required"),
        )
        .join(LedgerItem, LedgerItem.id == Reminder.ledger_item_id)
        .where(unresolved, Reminder.kind.in_(LEDGER_KINDS))
    )
    for reminder_id, kind, due_on, has_entry, required in await db.execute(ledger):
        kind = ReminderKind(kind)
        if has_entry:
            out[ReminderResolution.FULFILLED].append((reminder_id, kind))
        elif not required or (kind is ReminderKind.LEDGER_DUE and today > due_on):
            out[ReminderResolution.LAPSED].append((reminder_id, kind))
    return out


async def generate_reminders(
    db: AsyncSession, now: datetime, rules: ReminderRules | None = None
) -> GenerationResult:
    """Creates the reminders that apply at `now` and resolves those that no longer do.

    Runs in the caller's transaction (commit it to keep the result). Idempotent: a second run at
    the same `now` writes nothing; concurrent runs on PostgreSQL create each reminder once (the
    unique `dedup_key` with ON CONFLICT DO NOTHING; the sync stamp orders their commits). Takes a
    sync stamp only when it has something to write.
    """
    rules = rules or ReminderRules()
    today = local_date(now)
    candidates = [
        *await ledger_candidates(db, today, rules),
        *await pipeline_candidates(db, today, rules),
        *await directive_candidates(db, now, rules),
        *await finding_candidates(db, today, rules),
    ]
    by_key = {c.dedup_key: c for c in candidates}
    existing = await _existing_keys(db, sorted(by_key))
    new = [c for key, c in by_key.items() if key not in existing]
    resolving = await _no_longer_applying(db, today, set(by_key))
    if not new and not any(resolving.values()):
        return GenerationResult()

    # Everything is read: the stamp's lock is held from here to the commit (sync/stamp.py).
    stamp = await next_stamp(db, now)
    created: Counter[ReminderKind] = Counter()
    for chunk in _chunks(new):
        rows = [_row(c, now, stamp) for c in chunk]
        inserted = await db.execute(
            insert_ignoring_duplicates(db, Reminder, ["dedup_key"]).returning(Reminder.kind), rows
        )
        created.update(ReminderKind(kind) for kind in inserted.scalars())
    resolved: Counter[ReminderKind] = Counter()
    for resolution, pairs in resolving.items():
        values: dict[str, Any] = {
            "status": ReminderStatus.RESOLVED,
            "resolved_at": now,
            "resolution": resolution,
            "updated_at": stamp,
        }
        answered = Reminder.answered_on
        if resolution is ReminderResolution.FULFILLED:
            values["answered_on"] = func.coalesce(answered, today)
        ids = [reminder_id for reminder_id, _ in pairs]
        for chunk in _chunks(ids):
            statement = (
                update(Reminder)
                .where(Reminder.id.in_(chunk), Reminder.status != ReminderStatus.RESOLVED)
                .values(**values)
                .returning(Reminder.kind)
                .execution_options(synchronize_session=False)
            )
            resolved.update(ReminderKind(kind) for kind in (await db.execute(statement)).scalars())
    if created or resolved:
        await announce(db, COLLECTION_KEY, stamp)
    return GenerationResult(created, resolved, stamp)


async def add_reminder(
    db: AsyncSession, candidate: Candidate, now: datetime, stamp: int, by: uuid.UUID
) -> Reminder | None:
    """Inserts a reminder a person raised (催办), recorded as theirs (`updated_by`) at `now`;
    None when its key exists already (the same subject was urged the same day). Runs in the
    caller's transaction, under the caller's stamp; the caller announces the collection."""
    row = {**_row(candidate, now, stamp), "updated_by": by}
    inserted = await db.execute(
        insert_ignoring_duplicates(db, Reminder, ["dedup_key"]).returning(Reminder.id), row
    )
    if inserted.scalar_one_or_none() is None:
        return None
    return await db.get(Reminder, row["id"])


def _row(c: Candidate, now: datetime, stamp: int) -> dict[str, Any]:
    return {
        "id": str(new_id()),
        "kind": c.kind,
        "dedup_key": c.dedup_key,
        "title": c.title,
        "branch_id": c.branch_id,
        "officer_id": c.member_id,
        "ledger_item_id": c.ledger_item_id,
        "period": str(c.period) if c.period else None,
        "period_start": c.period.start if c.period else None,
        "period_end": c.period.end if c.period else None,
        "subject_member_id": c.subject_member_id,
        "directive_recipient_id": c.directive_recipient_id,
        "spot_check_finding_id": c.spot_check_finding_id,
        "due_on": c.due_on,
        "status": ReminderStatus.OPEN,
        "updated_at": stamp,
        "deleted": False,
        "created_at": now,
    }


# --- reading --------------------------------------------------------------------------------------


def read_clause(viewer: Viewer) -> ColumnElement[bool]:
    """Reminders the viewer may read: their sync audience, as their phone pulls them (an officer:
    their own and their branch's)."""
    return audience.reminder_clause(scope_of(viewer))


def mine_clause(viewer: Viewer) -> ColumnElement[bool]:
    """Reminders addressed to the viewer: as a member, and as their branch's secretary."""
    clauses: list[ColumnElement[bool]] = []
    if viewer.member_id is not None:
        clauses.append(Reminder.officer_id == viewer.member_id)
    if viewer.role is Role.SECRETARY and viewer.branch_id is not None:
        clauses.append(Reminder.branch_id == viewer.branch_id)
    return or_(*clauses) if clauses else false()


@dataclass(frozen=True, slots=True)
class ReminderFilter:
    """Every filter given narrows the list (inside the viewer's read scope)."""

    mine: bool = False
    subtree_of: uuid.UUID | None = None
    kinds: Sequence[ReminderKind] = ()
    statuses: Sequence[ReminderStatus] = ()
    due_from: date | None = None
    due_until: date | None = None


def _filtered(query: Select[Any], viewer: Viewer, flt: ReminderFilter) -> Select[Any]:
    query = query.where(read_clause(viewer), Reminder.deleted.is_(False))
    if flt.mine:
        query = query.where(mine_clause(viewer))
    if flt.subtree_of is not None:
        root = select(Branch.path).where(Branch.id == flt.subtree_of).scalar_subquery()
        query = query.where(
            Reminder.branch_id.in_(select(Branch.id).where(Branch.path.startswith(root)))
        )
    if flt.kinds:
        query = query.where(Reminder.kind.in_(list(flt.kinds)))
    if flt.statuses:
        query = query.where(Reminder.status.in_(list(flt.statuses)))
    if flt.due_from is not None:
        query = query.where(Reminder.due_on >= flt.due_from)
    if flt.due_until is not None:
        query = query.where(Reminder.due_on <= flt.due_until)
    return query


def check_filter(flt: ReminderFilter) -> None:
    if flt.due_from and flt.due_until and flt.due_from > flt.due_until:
        raise InputError.one(
            "dueUntil", "结束日期早于开始日期 (dueUntil before dueFrom)", ErrorCode.OUT_OF_RANGE
        )


async def list_reminders(
    db: AsyncSession, viewer: Viewer, flt: ReminderFilter, page: PageRequest
) -> Page[Reminder]:
    """One page of reminders, soonest due first."""
    check_filter(flt)
    query = _filtered(select(Reminder), viewer, flt)
    if page.after is not None:
        day, last_id = cursor_values(page.after, date.fromisoformat, str)
        key: ColumnElement[Any] = tuple_(Reminder.due_on, Reminder.id)
        query = query.where(key > tuple_(day, last_id))
    query = query.order_by(Reminder.due_on, Reminder.id).limit(page.first + 1)
    rows = list((await db.scalars(query)).all())
    items = rows[: page.first]
    return Page(
        items=items,
        cursors=[encode_cursor([r.due_on.isoformat(), r.id]) for r in items],
        has_next_page=len(rows) > page.first,
        has_previous_page=page.after is not None,
    )


async def count_reminders(db: AsyncSession, viewer: Viewer, flt: ReminderFilter) -> int:
    query = _filtered(select(func.count()).select_from(Reminder), viewer, flt)
    return int((await db.execute(query)).scalar_one())


async def get_reminder(db: AsyncSession, viewer: Viewer, reminder_id: str) -> Reminder | None:
    """One reminder; None when absent, deleted or outside what `list_reminders` shows."""
    query = _filtered(select(Reminder), viewer, ReminderFilter()).where(Reminder.id == reminder_id)
    return (await db.scalars(query)).one_or_none()


# --- acknowledging and resolving ----------------------------------------------------------------


async def _addressed_reminder(db: AsyncSession, viewer: Viewer, reminder_id: str) -> Reminder:
    """A reminder the viewer answers for; NOT_FOUND when absent or unreadable, NOT_RECIPIENT
    when readable but addressed to someone else."""
    if viewer.role is Role.INSPECTOR:
        raise Forbidden("督导账号只读 (inspectors read reminders, they do not answer them)")
    row = await db.scalar(select(Reminder).where(Reminder.id == reminder_id, read_clause(viewer)))
    if row is None:
        raise InputError.one("id", "提醒不存在 (reminder not found)", ErrorCode.NOT_FOUND)
    if viewer.is_admin or (viewer.member_id is not None and row.officer_id == viewer.member_id):
        return row
    if viewer.role is Role.SECRETARY:
        path = await db.scalar(select(Branch.path).where(Branch.id == row.branch_id))
        if path is not None and viewer.covers_path(path):
            return row
    raise InputError.one(
        "id", "该提醒不是发给您的 (this reminder is not addressed to you)", ErrorCode.NOT_RECIPIENT
    )


@dataclass(frozen=True, slots=True)
class ReminderWritten:
    """A reminder after a person's write; `stamp` is None when nothing was written."""

    reminder: Reminder
    stamp: int | None


async def acknowledge_reminder(
    db: AsyncSession, viewer: Viewer, now: datetime, reminder_id: str
) -> ReminderWritten:
    """知悉: an open reminder becomes acknowledged; acknowledging again writes nothing."""
    row = await _addressed_reminder(db, viewer, reminder_id)
    if row.status is ReminderStatus.RESOLVED:
        raise InputError.one(
            "id", "提醒已办结 (reminder already resolved)", ErrorCode.INVALID_TRANSITION
        )
    if row.status is ReminderStatus.ACKNOWLEDGED:
        return ReminderWritten(row, None)
    stamp = await next_stamp(db, now)
    row.status = ReminderStatus.ACKNOWLEDGED
    row.acknowledged_at = now
    row.acknowledged_by = viewer.account_id
    row.answered_on = row.answered_on or local_date(now)
    row.updated_at = stamp
    row.updated_by = viewer.account_id
    await db.flush()
    await announce(db, COLLECTION_KEY, stamp)
    return ReminderWritten(row, stamp)


async def resolve_reminder(
    db: AsyncSession, viewer: Viewer, now: datetime, reminder_id: str, note: str | None
) -> ReminderWritten:
    """办结: the addressee marks a reminder done, with an optional note."""
    row = await _addressed_reminder(db, viewer, reminder_id)
    errors = Collector()
    cleaned = errors.optional_text("note", note, MAX_NOTE)
    if row.status is ReminderStatus.RESOLVED:
        errors.add("id", "提醒已办结 (reminder already resolved)", ErrorCode.INVALID_TRANSITION)
    errors.raise_if_any()
    stamp = await next_stamp(db, now)
    row.status = ReminderStatus.RESOLVED
    row.resolved_at = now
    row.resolved_by = viewer.account_id
    row.resolution = ReminderResolution.HANDLED
    row.note = cleaned
    row.answered_on = row.answered_on or local_date(now)
    row.updated_at = stamp
    row.updated_by = viewer.account_id
    await db.flush()
    await announce(db, COLLECTION_KEY, stamp)
    return ReminderWritten(row, stamp)
