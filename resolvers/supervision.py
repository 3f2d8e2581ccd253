"""Spot checks (季抽查) with findings to rectify, and bulletins (不定期通报).

Spot checks: inspectors (and admins) record a check of a branch with its findings, each with a
rectification deadline (整改期限). The branch's secretary (or an admin) rectifies a finding with a
note of what was done; an inspector (or an admin) then closes it (销号). A finding moves
open → rectified → closed only. Everyone reads the checks of the branches in their read scope.

Bulletins: admins publish to any branches; the secretary of a committee or organ committee to
branches in their subtree. A bulletin is read by whoever reads one of its recipient branches
(admins and inspectors: all) and by its publisher; opening it leaves a read receipt.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    func,
    null,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession

from access.errors import Collector, ErrorCode, Forbidden, InputError
from access.scope import scope_of
from access.viewer import Viewer
from core.ids import new_id
from core.upsert import insert_ignoring_duplicates
from models import (
    Account,
    Branch,
    BranchKind,
    Bulletin,
    BulletinKind,
    BulletinRead,
    BulletinRecipient,
    FindingStatus,
    Member,
    Role,
    SpotCheck,
    SpotCheckFinding,
)
from resolvers.batch import group_by_key
from resolvers.branch import get_branch
from resolvers.ledger import check_day
from resolvers.pagination import Page, PageRequest, aware_datetime, cursor_values, encode_cursor
from resolvers.period import PeriodError, local_date, parse_period

MAX_FINDINGS = 50
MAX_TEXT = 5000
MAX_TITLE = 200
MAX_CONTENT = 20_000
MAX_BULLETIN_BRANCHES = 5000
MAX_CARRIED_OUT_BY = 200
COMMITTEE_KINDS = (BranchKind.COMMITTEE, BranchKind.ORGAN_COMMITTEE)


def require_inspector(viewer: Viewer) -> None:
    if viewer.role not in (Role.ADMIN, Role.INSPECTOR):
        raise Forbidden("仅督导或管理员可执行 (inspectors and admins only)")


# --- spot checks ----------------------------------------------------------------------------------


async def recorder_name(db: AsyncSession, viewer: Viewer) -> str:
    """The viewer as a record names them: their member's name, else their username."""
    if viewer.member_id is not None:
        name = await db.scalar(select(Member.name).where(Member.id == viewer.member_id))
        if name:
            return name
    username = await db.scalar(select(Account.username).where(Account.id == viewer.account_id))
    return username or viewer.role.label


@dataclass(frozen=True, slots=True)
class FindingData:
    text: str | None
    deadline: date | None


@dataclass(frozen=True, slots=True)
class SpotCheckData:
    branch_id: uuid.UUID
    checked_on: date | None
    period: str | None
    summary: str | None
    findings: Sequence[FindingData] = ()
    # Who carried it out (督导人员); None: the recording account (its member's name, else its
    # username).
    carried_out_by: str | None = None


async def create_spot_check(
    db: AsyncSession, viewer: Viewer, now: datetime, data: SpotCheckData
) -> tuple[SpotCheck, list[SpotCheckFinding]]:
    """Records a check of a branch with its findings (inspectors and admins)."""
    require_inspector(viewer)
    branch = await get_branch(db, data.branch_id, "branchId")
    errors = Collector()
    today = local_date(now)
    check_day(errors, "checkedOn", data.checked_on, today)
    period_text = errors.require_text("period", data.period, 10)
    if period_text:
        try:
            period = parse_period(period_text)
        except PeriodError as exc:
            errors.add("period", str(exc), ErrorCode.INVALID_PERIOD)
        else:
            period_text = str(period)
            # A check looks back at work done: the period has begun by the day of the check.
            if data.checked_on is not None and period.start > data.checked_on:
                errors.add(
                    "period",
                    f"{period.label}尚未开始,不能抽查 (the period starts after the check date)",
                    ErrorCode.IN_FUTURE,
                )
    summary = errors.require_text("summary", data.summary, MAX_TEXT)
    carried_out_by = errors.optional_text("carriedOutBy", data.carried_out_by, MAX_CARRIED_OUT_BY)
    if len(data.findings) > MAX_FINDINGS:
        errors.add(
            "findings", f"最多 {MAX_FINDINGS} 条 (at most {MAX_FINDINGS})", ErrorCode.TOO_LONG
        )
    texts: list[str | None] = []
    for i, finding in enumerate(data.findings[:MAX_FINDINGS]):
        texts.append(errors.require_text(f"findings.{i}.text", finding.text, MAX_TEXT))
        if finding.deadline is None:
            errors.add(f"findings.{i}.deadline", "不能为空 (required)", ErrorCode.REQUIRED)
        elif data.checked_on is not None and finding.deadline < data.checked_on:
            errors.add(
                f"findings.{i}.deadline",
                "整改期限不能早于检查日期 (deadline before the check)",
                ErrorCode.TOO_EARLY,
            )
    errors.raise_if_any()
    assert data.checked_on is not None and period_text and summary
    check = SpotCheck(
        id=new_id(),
        branch_id=branch.id,
        inspector_id=viewer.account_id,
        carried_out_by=carried_out_by or await recorder_name(db, viewer),
        checked_on=data.checked_on,
        period=period_text,
        summary=summary,
        created_at=now,
    )
    db.add(check)
    await db.flush()
    findings = [
        SpotCheckFinding(
            id=new_id(),
            spot_check_id=check.id,
            branch_id=branch.id,
            sort_order=i,
            text=text,
            deadline=finding.deadline,
            status=FindingStatus.OPEN,
            created_at=now,
        )
        for i, (text, finding) in enumerate(zip(texts, data.findings, strict=False))
    ]
    db.add_all(findings)
    await db.flush()
    return check, findings


async def _finding(db: AsyncSession, viewer: Viewer, finding_id: uuid.UUID) -> SpotCheckFinding:
    """A finding the viewer may read, locked and read afresh (two sessions moving it at once take
    turns, and the second sees the status the first left); NOT_FOUND otherwise."""
    query = (
        select(SpotCheckFinding)
        .where(
            SpotCheckFinding.id == finding_id, scope_of(viewer).clause(SpotCheckFinding.branch_id)
        )
        .with_for_update(of=SpotCheckFinding)
        .execution_options(populate_existing=True)
    )
    finding = await db.scalar(query)
    if finding is None:
        raise InputError.one("id", "问题不存在 (finding not found)", ErrorCode.NOT_FOUND)
    return finding


async def rectify_finding(
    db: AsyncSession,
    viewer: Viewer,
    now: datetime,
    finding_id: uuid.UUID,
    rectification: str | None,
) -> SpotCheckFinding:
    """整改: the secretary over the finding's branch (or an admin) reports it rectified."""
    viewer.require_writer()
    finding = await _finding(db, viewer, finding_id)
    branch = await get_branch(db, finding.branch_id)
    viewer.require_covers(branch.path)
    errors = Collector()
    text = errors.require_text("rectification", rectification, MAX_TEXT)
    if finding.status is not FindingStatus.OPEN:
        errors.add(
            "id",
            f"问题{finding.status.label},不能再整改 (finding is {finding.status.value})",
            ErrorCode.INVALID_TRANSITION,
        )
    errors.raise_if_any()
    finding.status = FindingStatus.RECTIFIED
    finding.rectification = text
    finding.rectified_at = now
    finding.rectified_on = local_date(now)
    finding.rectified_by = viewer.account_id
    await db.flush()
    return finding


async def close_finding(
    db: AsyncSession, viewer: Viewer, now: datetime, finding_id: uuid.UUID
) -> SpotCheckFinding:
    """销号: an inspector (or an admin) closes a rectified finding."""
    require_inspector(viewer)
    finding = await _finding(db, viewer, finding_id)
    if finding.status is not FindingStatus.RECTIFIED:
        raise InputError.one(
            "id",
            f"问题{finding.status.label},须先整改才能销号 (only a rectified finding closes)",
            ErrorCode.INVALID_TRANSITION,
        )
    finding.status = FindingStatus.CLOSED
    finding.closed_at = now
    finding.closed_by = viewer.account_id
    await db.flush()
    return finding


@dataclass(frozen=True, slots=True)
class SpotCheckFilter:
    subtree_of: uuid.UUID | None = None
    period: str | None = None
    open_findings: bool | None = None


def _spot_checks(query: Select[Any], viewer: Viewer, flt: SpotCheckFilter) -> Select[Any]:
    query = query.where(scope_of(viewer).clause(SpotCheck.branch_id))
    if flt.subtree_of is not None:
        root = select(Branch.path).where(Branch.id == flt.subtree_of).scalar_subquery()
        query = query.where(
            SpotCheck.branch_id.in_(select(Branch.id).where(Branch.path.startswith(root)))
        )
    if flt.period is not None:
        query = query.where(SpotCheck.period == flt.period)
    if flt.open_findings is not None:
        unclosed = exists().where(
            SpotCheckFinding.spot_check_id == SpotCheck.id,
            SpotCheckFinding.status != FindingStatus.CLOSED,
        )
        query = query.where(unclosed if flt.open_findings else ~unclosed)
    return query


async def list_spot_checks(
    db: AsyncSession, viewer: Viewer, flt: SpotCheckFilter, page: PageRequest
) -> Page[SpotCheck]:
    """One page of spot checks, latest check first."""
    query = _spot_checks(select(SpotCheck), viewer, flt)
    if page.after is not None:
        day, last_id = cursor_values(page.after, date.fromisoformat, uuid.UUID)
        key: ColumnElement[Any] = tuple_(SpotCheck.checked_on, SpotCheck.id)
        query = query.where(key < tuple_(day, last_id))
    query = query.order_by(SpotCheck.checked_on.desc(), SpotCheck.id.desc()).limit(page.first + 1)
    rows = list((await db.scalars(query)).all())
    items = rows[: page.first]
    return Page(
        items=items,
        cursors=[encode_cursor([r.checked_on.isoformat(), str(r.id)]) for r in items],
        has_next_page=len(rows) > page.first,
        has_previous_page=page.after is not None,
    )


async def count_spot_checks(db: AsyncSession, viewer: Viewer, flt: SpotCheckFilter) -> int:
    query = _spot_checks(select(func.count()).select_from(SpotCheck), viewer, flt)
    return int((await db.execute(query)).scalar_one())


async def findings_by_spot_check_id(
    db: AsyncSession, ids: Sequence[uuid.UUID]
) -> list[list[SpotCheckFinding]]:
    """Each check's findings in the order they were recorded, in one statement."""
    query = (
        select(SpotCheckFinding)
        .where(SpotCheckFinding.spot_check_id.in_(ids))
        .order_by(SpotCheckFinding.spot_check_id, SpotCheckFinding.sort_order)
    )
    return group_by_key(ids, ((f.spot_check_id, f) for f in await db.scalars(query)))


async def spot_checks_by_id(
    db: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[SpotCheck | None]:
    """Batch load of the checks `list_spot_checks` would show (None elsewhere), in key order."""
    query = _spot_checks(select(SpotCheck), viewer, SpotCheckFilter())
    rows = {c.id: c for c in await db.scalars(query.where(SpotCheck.id.in_(ids)))}
    return [rows.get(i) for i in ids]


async def get_finding(
    db: AsyncSession, viewer: Viewer, finding_id: uuid.UUID
) -> SpotCheckFinding | None:
    """One finding, or None unless its check is one `list_spot_checks` would show."""
    query = select(SpotCheckFinding).join(SpotCheck, SpotCheck.id == SpotCheckFinding.spot_check_id)
    query = _spot_checks(query, viewer, SpotCheckFilter()).where(SpotCheckFinding.id == finding_id)
    return (await db.scalars(query)).one_or_none()


# --- bulletins ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BulletinData:
    title: str | None
    content: str | None
    kind: BulletinKind
    branch_ids: Sequence[uuid.UUID] = field(default_factory=tuple)


async def _publisher_root(db: AsyncSession, viewer: Viewer) -> str | None:
    """The path under which the viewer may publish ("" for admins); Forbidden otherwise."""
    if viewer.is_admin:
        return ""
    if viewer.role is Role.SECRETARY and viewer.branch_id is not None:
        kind = await db.scalar(select(Branch.kind).where(Branch.id == viewer.branch_id))
        if kind is not None and BranchKind(kind) in COMMITTEE_KINDS:
            return viewer.branch_path
    raise Forbidden("仅县局党委或机关党委可发布通报 (committees publish bulletins)")


async def publish_bulletin(
    db: AsyncSession, viewer: Viewer, now: datetime, data: BulletinData
) -> Bulletin:
    """Publishes a bulletin to a set of branches."""
    root = await _publisher_root(db, viewer)
    errors = Collector()
    title = errors.require_text("title", data.title, MAX_TITLE)
    content = errors.require_text("content", data.content, MAX_CONTENT)
    wanted = list(dict.fromkeys(data.branch_ids))
    if not wanted:
        errors.add("branchIds", "请选择接收组织 (choose at least one branch)", ErrorCode.REQUIRED)
    elif len(wanted) > MAX_BULLETIN_BRANCHES:
        errors.add("branchIds", "接收组织过多 (too many branches)", ErrorCode.TOO_LONG)
    else:
        query = select(Branch.id, Branch.path).where(Branch.id.in_(wanted))
        paths = {branch_id: path for branch_id, path in await db.execute(query)}
        if len(paths) < len(wanted):
            errors.add("branchIds", "组织不存在 (branch not found)", ErrorCode.NOT_FOUND)
        elif root and any(not p.startswith(root) for p in paths.values()):
            errors.add(
                "branchIds",
                "接收组织不在您的管辖范围内 (outside your subtree)",
                ErrorCode.OUT_OF_SCOPE,
            )
    errors.raise_if_any()
    assert title and content
    bulletin = Bulletin(
        id=new_id(),
        title=title,
        content=content,
        kind=data.kind,
        published_at=now,
        published_by=viewer.account_id,
    )
    db.add(bulletin)
    await db.flush()
    db.add_all(BulletinRecipient(bulletin_id=bulletin.id, branch_id=b) for b in wanted)
    await db.flush()
    return bulletin


def bulletin_read_clause(viewer: Viewer) -> ColumnElement[bool]:
    """Bulletins sent to a branch the viewer reads, and those the viewer published."""
    scope = scope_of(viewer)
    if scope.kind == "all":
        return true()
    received = exists().where(
        BulletinRecipient.bulletin_id == Bulletin.id, scope.clause(BulletinRecipient.branch_id)
    )
    return or_(received, Bulletin.published_by == viewer.account_id)


@dataclass(frozen=True, slots=True)
class BulletinFilter:
    kinds: Sequence[BulletinKind] = ()
    unread: bool | None = None


def _bulletins(query: Select[Any], viewer: Viewer, flt: BulletinFilter) -> Select[Any]:
    query = query.where(bulletin_read_clause(viewer))
    if flt.kinds:
        query = query.where(Bulletin.kind.in_(list(flt.kinds)))
    if flt.unread is not None:
        read = exists().where(
            and_(
                BulletinRead.bulletin_id == Bulletin.id,
                BulletinRead.account_id == viewer.account_id,
            )
        )
        query = query.where(~read if flt.unread else read)
    return query


async def list_bulletins(
    db: AsyncSession, viewer: Viewer, flt: BulletinFilter, page: PageRequest
) -> Page[Bulletin]:
    """One page of readable bulletins, newest first."""
    query = _bulletins(select(Bulletin), viewer, flt)
    if page.after is not None:
        moment, last_id = cursor_values(page.after, aware_datetime, uuid.UUID)
        key: ColumnElement[Any] = tuple_(Bulletin.published_at, Bulletin.id)
        query = query.where(key < tuple_(moment, last_id))
    query = query.order_by(Bulletin.published_at.desc(), Bulletin.id.desc()).limit(page.first + 1)
    rows = list((await db.scalars(query)).all())
    items = rows[: page.first]
    return Page(
        items=items,
        cursors=[encode_cursor([r.published_at.isoformat(), str(r.id)]) for r in items],
        has_next_page=len(rows) > page.first,
        has_previous_page=page.after is not None,
    )


async def count_bulletins(db: AsyncSession, viewer: Viewer, flt: BulletinFilter) -> int:
    query = _bulletins(select(func.count()).select_from(Bulletin), viewer, flt)
    return int((await db.execute(query)).scalar_one())


async def get_bulletin(db: AsyncSession, viewer: Viewer, bulletin_id: uuid.UUID) -> Bulletin | None:
    """One bulletin; None when absent or not one `list_bulletins` would show."""
    query = _bulletins(select(Bulletin), viewer, BulletinFilter()).where(Bulletin.id == bulletin_id)
    return (await db.scalars(query)).one_or_none()


async def recipients_by_bulletin_id(
    db: AsyncSession, ids: Sequence[uuid.UUID]
) -> list[list[Branch]]:
    """Each bulletin's recipient branches in the bureau's order, in one statement."""
    query = (
        select(BulletinRecipient.bulletin_id, Branch)
        .join(Branch, Branch.id == BulletinRecipient.branch_id)
        .where(BulletinRecipient.bulletin_id.in_(ids))
        .order_by(Branch.depth, Branch.sort_order, Branch.name)
    )
    return group_by_key(ids, ((row[0], row[1]) for row in await db.execute(query)))


@dataclass(frozen=True, slots=True)
class ReadState:
    """The viewer's read receipt (if any) and how many accounts have read the bulletin."""

    read_at: datetime | None = None
    readers: int = 0


async def read_states_by_bulletin_id(
    db: AsyncSession, viewer: Viewer, ids: Sequence[uuid.UUID]
) -> list[ReadState]:
    mine = func.max(
        case((BulletinRead.account_id == viewer.account_id, BulletinRead.read_at), else_=null())
    )
    query = (
        select(BulletinRead.bulletin_id, mine, func.count())
        .where(BulletinRead.bulletin_id.in_(ids))
        .group_by(BulletinRead.bulletin_id)
    )
    found = {
        bulletin_id: ReadState(read_at, int(count))
        for bulletin_id, read_at, count in await db.execute(query)
    }
    return [found.get(i, ReadState()) for i in ids]


async def mark_bulletin_read(
    db: AsyncSession, viewer: Viewer, now: datetime, bulletin_id: uuid.UUID
) -> Bulletin:
    """Leaves the viewer's read receipt (the first reading's time is kept)."""
    bulletin = await db.scalar(
        select(Bulletin).where(Bulletin.id == bulletin_id, bulletin_read_clause(viewer))
    )
    if bulletin is None:
        raise InputError.one("id", "通报不存在 (bulletin not found)", ErrorCode.NOT_FOUND)
    await db.execute(
        insert_ignoring_duplicates(db, BulletinRead).values(
            bulletin_id=bulletin.id, account_id=viewer.account_id, read_at=now
        )
    )
    return bulletin
