"""Seeds the demo county (`meijing seed --demo`): bulk inserts in one transaction, once.

The data itself is built in demo/county.py. Running the seed again finds the root committee
and changes nothing, so deployments may run it on every start.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock
from core.db import Sessionmaker, writing
from core.ids import new_id
from core.security import hash_password
from core.settings import Settings
from demo.brand_care import build_brand_care, education_base_row, hotline_rows
from demo.county import MEIGUI, County, build_county
from demo.directives import build_directives
from demo.ledger import build_ledger
from demo.records import (
    FIELD_COLLECTIONS,
    FieldYear,
    build_field_years,
    happened_at,
    record_rows,
)
from demo.seed_assessment import DEFAULT_ASSESSMENT_ITEMS, seed_assessment_items
from demo.seed_ledger import DEFAULT_LEDGER_ITEMS, seed_ledger_items
from demo.timeline import timeline
from models import (
    Account,
    AssessmentItem,
    Branch,
    BranchHonour,
    BranchKind,
    BrandChecklistItem,
    BrandCriterion,
    DataVersion,
    Directive,
    DirectiveProgress,
    DirectiveReceipt,
    DirectiveRecipient,
    EducationActivity,
    EducationBase,
    HotlineNote,
    HotlineRequest,
    LedgerEntry,
    LedgerItem,
    Member,
    PartyStatusChange,
    Role,
    StudyGroup,
    StudyGroupMember,
    StudyRecord,
    TaskUnitMembership,
)
from resolvers.brand import DEFAULT_CRITERIA, ensure_brand_criteria
from sync.stamp import epoch_ms

Progress = Callable[[str, int], None]
"""Called with the step now running and how many steps just finished (for a progress bar)."""

SEED_STEPS = 8


class SeedRefused(RuntimeError):
    """The demo must not be seeded here (production: its accounts share a known password)."""


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    role: Role


DEMO_ACCOUNTS = (
    DemoAccount("admin", Role.ADMIN),
    DemoAccount("inspector", Role.INSPECTOR),
    DemoAccount("secretary.meigui", Role.SECRETARY),
    DemoAccount("officer.meigui", Role.OFFICER),
)


@dataclass(frozen=True, slots=True)
class SeedReport:
    """What `seed_demo` did; `created` is False when it found a county already there."""

    created: bool
    branches: int
    members: int
    task_units: int = 0
    task_unit_memberships: int = 0
    status_changes: int = 0
    honours: int = 0
    brand_items: int = 0
    education_activities: int = 0
    hotline_requests: int = 0
    visits: int = 0
    patrols: int = 0
    service_actions: int = 0
    ledger_entries: int = 0
    study_records: int = 0
    study_groups: int = 0
    education_bases: int = 0
    directives: int = 0
    directive_recipients: int = 0
    accounts: tuple[str, ...] = ()
    skipped_accounts: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        if not self.created:
            return (
                f"演示数据已存在,未做更改:{self.branches} 个党支部,{self.members} 名党员 "
                "(demo data already present; nothing changed)"
            )
        return (
            f"已生成演示数据:{self.branches} 个党支部,{self.members} 名党员,"
            f"{self.task_units} 个任务单元,{self.visits} 条走访、{self.patrols} 条巡逻、"
            f"{self.service_actions} 条为民服务记录,{len(self.accounts)} 个演示账号 "
            "(demo data seeded)"
        )


def check_demo_allowed(settings: Settings) -> None:
    """Raises SeedRefused in production, where a known demo password would be a way in."""
    if settings.production:
        raise SeedRefused(
            "生产环境不能生成演示数据和演示账号 (refusing to seed demo data and demo accounts "
            "when MEIJING_ENV=production); create real accounts with `meijing user add`"
        )


async def seed_demo(
    sessionmaker: Sessionmaker,
    settings: Settings,
    clock: Clock,
    progress: Progress | None = None,
) -> SeedReport:
    """Seeds the demo county once; a second run finds the root committee and changes nothing.

    Refuses in production: the demo accounts all share `settings.demo_password`.
    """
    check_demo_allowed(settings)
    step = progress or _no_progress
    await seed_catalogs(sessionmaker, clock)
    step("检查现有数据 (checking for existing data)", 0)
    # Looked at in a read session: one that committed would count as a write (core/db.py).
    async with sessionmaker() as db:
        root = await db.scalar(
            select(Branch.id)
            .where(Branch.kind == BranchKind.COMMITTEE, Branch.parent_id.is_(None))
            .limit(1)
        )
        if root is not None:
            step("演示数据已存在 (already there)", SEED_STEPS)
            return SeedReport(
                created=False,
                branches=await _count(db, Branch, Branch.kind == BranchKind.BRANCH),
                members=await _count(db, Member),
            )
    # A seed racing this one fails on the unique usernames and rolls back whole.
    async with writing(sessionmaker) as db:
        # One argon2 hash serves all four accounts. It is slow on purpose and runs in a thread,
        # so it is started now and overlaps the inserts.
        hashing = asyncio.ensure_future(hash_password(settings.demo_password))
        try:
            # One moment for the whole county: nothing it holds is dated after it.
            now = clock()
            when = timeline(now)
            county = build_county(now)
            step("党组织架构 (branch tree)", 1)
            await _insert(db, Branch, county.branches)
            await _insert(db, BranchHonour, county.honours)
            step("党员 (members)", 1)
            await _insert(db, Member, county.members)
            step("发展党员历程 (party status history)", 1)
            await _insert(db, PartyStatusChange, county.status_changes)
            step("任务单元 (task units)", 1)
            await _insert(db, TaskUnitMembership, county.memberships)
            step("两年的走访、巡逻和为民服务 (two years of field records)", 1)
            years = build_field_years(county, when)
            await _insert_field_years(db, years, now)
            step("品牌创建、教育基地与关爱 (brand, education base and care)", 1)
            criteria = {c.code: c.id for c in (await db.scalars(select(BrandCriterion))).all()}
            base = education_base_row(now)
            await _insert(db, EducationBase, [base])
            brand_care = build_brand_care(county, criteria, when, base["id"])
            await _insert(db, BrandChecklistItem, brand_care.checklist_items)
            await _insert(db, EducationActivity, brand_care.activities)
            # Advances nothing: the progress bar's steps stay those of the county itself.
            step("台账、理论学习与上年教育基地 (ledgers, study, the base's earlier year)", 0)
            items = {i.code: i.id for i in (await db.scalars(select(LedgerItem))).all()}
            ledger = build_ledger(county, items, when, base["id"])
            await _insert(db, LedgerEntry, ledger.entries)
            await _insert(db, StudyGroup, ledger.study_groups)
            await _insert(db, StudyGroupMember, ledger.study_group_members)
            await _insert(db, StudyRecord, ledger.study_records)
            await _insert(db, EducationActivity, ledger.activities)
            step("演示账号 (demo accounts)", 1)
            password_hash = await hashing
        finally:
            hashing.cancel()  # only matters when an insert failed; a done task ignores it
        created, skipped = await _add_accounts(db, county, password_hash, now)
        # After the accounts: the hotline's handling steps are signed by the demo admin.
        admin_id = await db.scalar(select(Account.id).where(Account.username == "admin"))
        requests, notes = hotline_rows(brand_care, admin_id)
        await _insert(db, HotlineRequest, requests)
        await _insert(db, HotlineNote, notes)
        # Directives are issued by the demo admin; their synced documents take the stamp the
        # field years ended on (one transaction, one stamp), so the sync clock stays where it is.
        assert admin_id is not None
        stamp = int(await db.scalar(select(DataVersion.sync_clock)) or 0)
        directives = build_directives(county, admin_id, when, stamp)
        await _insert(db, Directive, directives.directives)
        await _insert(db, DirectiveRecipient, directives.recipients)
        await _insert(db, DirectiveReceipt, directives.receipts)
        await _insert(db, DirectiveProgress, directives.progress)
        step("完成 (done)", 1)
        return SeedReport(
            created=True,
            branches=sum(1 for b in county.branches if b["kind"] is BranchKind.BRANCH),
            members=len(county.members),
            task_units=sum(1 for b in county.branches if b["kind"].is_task_unit),
            task_unit_memberships=len(county.memberships),
            status_changes=len(county.status_changes),
            honours=len(county.honours),
            brand_items=len(brand_care.checklist_items),
            education_activities=len(brand_care.activities),
            hotline_requests=len(requests),
            visits=sum(len(year.visits) for year in years),
            patrols=sum(len(year.patrols) for year in years),
            service_actions=sum(len(year.service_actions) for year in years),
            ledger_entries=len(ledger.entries),
            study_records=len(ledger.study_records),
            study_groups=len(ledger.study_groups),
            education_bases=1,
            directives=len(directives.directives),
            directive_recipients=len(directives.recipients),
            accounts=created,
            skipped_accounts=skipped,
        )


def _no_progress(description: str, advance: int) -> None:
    return None


async def _count(db: AsyncSession, model: type[Any], *where: Any) -> int:
    return int(await db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _insert(db: AsyncSession, model: type[Any], rows: list[dict[str, Any]]) -> None:
    if rows:
        await db.execute(insert(model), rows)


async def _insert_field_years(db: AsyncSession, years: list[FieldYear], now: datetime) -> None:
    """Writes the years' records with sync stamps, one per document, in the order they happened.

    The stamps are consecutive milliseconds ending at the seed's own moment (or just after the
    sync clock, if that is ahead), so a phone pulls the records oldest first. The sync clock is
    moved to the last stamp under the data_version row lock, so every later push stamps higher
    (sync/stamp.py).
    """
    ordered = sorted(
        (
            (collection, document)
            for year in years
            for collection, documents in year.by_collection()
            for document in documents
        ),
        key=lambda item: (happened_at(item[1]), item[0].key, str(item[1]["id"])),
    )
    locked = select(DataVersion.sync_clock).where(DataVersion.id == 1).with_for_update()
    clock = int((await db.execute(locked)).scalar_one())
    first = max(clock + 1, epoch_ms(now) - len(ordered) + 1)
    for collection in FIELD_COLLECTIONS:
        mine = [(first + i, d) for i, (c, d) in enumerate(ordered) if c is collection]
        rows = record_rows(collection, [d for _, d in mine], [stamp for stamp, _ in mine])
        await _insert(db, collection.model, rows)
    await db.execute(
        update(DataVersion).where(DataVersion.id == 1).values(sync_clock=first + len(ordered) - 1)
    )


async def _add_accounts(
    db: AsyncSession, county: County, password_hash: str, now: datetime
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Adds the demo accounts; a username someone already took is left alone and reported."""
    taken = set(
        (
            await db.scalars(
                select(Account.username).where(
                    Account.username.in_([a.username for a in DEMO_ACCOUNTS])
                )
            )
        ).all()
    )
    links: dict[str, tuple[uuid.UUID | None, uuid.UUID | None]] = {
        "admin": (None, None),
        "inspector": (None, None),
        "secretary.meigui": (county.meigui_secretary_id, county.unit_ids[MEIGUI]),
        "officer.meigui": (county.meigui_officer_id, None),
    }
    rows = [
        {
            "id": new_id(),
            "username": account.username,
            "password_hash": password_hash,
            "role": account.role,
            "member_id": links[account.username][0],
            "branch_id": links[account.username][1],
            "disabled": False,
            "failed_logins": 0,
            "created_at": now,
        }
        for account in DEMO_ACCOUNTS
        if account.username not in taken
    ]
    await _insert(db, Account, rows)
    created = tuple(str(row["username"]) for row in rows)
    return created, tuple(a.username for a in DEMO_ACCOUNTS if a.username in taken)


# --- catalogs the bureau edits (seeded by every `meijing seed`, demo or not) --------------------


@dataclass(frozen=True, slots=True)
class CatalogReport:
    """How many catalog rows each seed added (0 when they were all there)."""

    ledger_items: int = 0
    brand_criteria: int = 0
    assessment_items: int = 0

    @property
    def added(self) -> int:
        return self.ledger_items + self.brand_criteria + self.assessment_items

    @property
    def message(self) -> str:
        return (
            f"目录已就绪:新增台账项目 {self.ledger_items} 项、品牌创建标准 {self.brand_criteria} 项"
            f"、考核项目 {self.assessment_items} 项"
            f" (catalogs ready: {self.added} entries added)"
        )


async def seed_catalogs(sessionmaker: Sessionmaker, clock: Clock) -> CatalogReport:
    """Adds the catalogs' default entries that are missing; edited entries are left alone, so
    `meijing seed` may run on every deployment."""
    async with sessionmaker() as db:
        # Looked at first in a read session: a write that adds nothing need not commit.
        present = set((await db.scalars(select(BrandCriterion.code))).all())
        items = set((await db.scalars(select(LedgerItem.code))).all())
        scored = set((await db.scalars(select(AssessmentItem.code))).all())
    if (
        all(code in present for code, _, _ in DEFAULT_CRITERIA)
        and all(code in items for code, _, _ in DEFAULT_LEDGER_ITEMS)
        and all(row[0] in scored for row in DEFAULT_ASSESSMENT_ITEMS)
    ):
        return CatalogReport()
    async with writing(sessionmaker) as db:
        now = clock()
        return CatalogReport(
            ledger_items=await seed_ledger_items(db, now),
            brand_criteria=await ensure_brand_criteria(db, now),
            assessment_items=await seed_assessment_items(db, now),
        )
