"""The per-request context: viewer, sessions, loaders, clock and request id."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from access.auth import EndedSession, ViewerCache
from access.errors import AuthProblem, Unauthenticated
from access.viewer import Viewer
from core.clock import Clock
from core.db import Sessionmaker
from core.response_cache import ResponseCache
from core.settings import Settings
from models import (
    Branch,
    BranchHonour,
    Directive,
    DirectiveProgress,
    DirectiveRecipient,
    EducationBase,
    LedgerAttachment,
    LedgerEntry,
    LedgerItem,
    MemberTransfer,
    PartyStatusChange,
    SpotCheck,
    SpotCheckFinding,
)
from resolvers import branch as branch_ops
from resolvers import care as care_ops
from resolvers import directive as directive_ops
from resolvers import education as education_ops
from resolvers import ledger as ledger_ops
from resolvers import member as member_ops
from resolvers import study as study_ops
from resolvers import supervision as supervision_ops
from resolvers import sync_admin as sync_admin_ops
from resolvers.care import NoteRecord
from resolvers.directive import LevelRollup
from resolvers.member import MemberRecord, TaskUnitPlace
from resolvers.supervision import ReadState
from resolvers.sync_admin import CompetingVersion
from sync.feed import Feed
from sync.fleet import DeviceTracker
from sync.stream import ChangeCache
from sync.stream_guard import Close, StreamGuard

K = TypeVar("K")
V = TypeVar("V")


def _loader(
    sessionmaker: Sessionmaker,
    batch: Callable[[AsyncSession, Sequence[K]], Awaitable[Sequence[V]]],
) -> DataLoader[K, V]:
    """A DataLoader whose batch runs in a short session of its own."""

    async def load(keys: list[K]) -> Sequence[V]:
        async with sessionmaker() as db:
            return await batch(db, keys)

    return DataLoader(load_fn=load)


@dataclass(slots=True)
class DirectiveLoaders:
    """Directives: readable ones by id, their recipients in scope, reports, level roll-ups
    (keyed with the request's clock reading, since overdue depends on it)."""

    directive: DataLoader[uuid.UUID, Directive | None]
    recipients: DataLoader[uuid.UUID, list[DirectiveRecipient]]
    recipient: DataLoader[str, DirectiveRecipient | None]
    progress: DataLoader[str, list[DirectiveProgress]]
    rollup: DataLoader[tuple[uuid.UUID, datetime], list[LevelRollup]]

    @classmethod
    def build(
        cls,
        sessionmaker: Sessionmaker,
        scoped: Callable[[Any], Callable[[AsyncSession, Sequence[Any]], Awaitable[Sequence[Any]]]],
    ) -> DirectiveLoaders:
        async def rollups(
            db: AsyncSession, keys: Sequence[tuple[uuid.UUID, datetime]]
        ) -> list[list[LevelRollup]]:
            # One clock reading per request: every key carries the same moment.
            now = keys[0][1]
            return await directive_ops.rollups_by_directive_id(db, [k[0] for k in keys], now)

        return cls(
            directive=_loader(sessionmaker, scoped(directive_ops.directives_by_id)),
            recipients=_loader(sessionmaker, scoped(directive_ops.recipients_by_directive_id)),
            recipient=_loader(sessionmaker, scoped(directive_ops.recipients_by_id)),
            progress=_loader(sessionmaker, directive_ops.progress_by_recipient_id),
            rollup=_loader(sessionmaker, rollups),
        )


@dataclass(slots=True)
class SupervisionLoaders:
    """Readable spot checks and their findings, bulletins' recipient branches and read
    receipts (the viewer's)."""

    spot_check: DataLoader[uuid.UUID, SpotCheck | None]
    findings: DataLoader[uuid.UUID, list[SpotCheckFinding]]
    bulletin_recipients: DataLoader[uuid.UUID, list[Branch]]
    bulletin_reads: DataLoader[uuid.UUID, ReadState]

    @classmethod
    def build(
        cls,
        sessionmaker: Sessionmaker,
        scoped: Callable[[Any], Callable[[AsyncSession, Sequence[Any]], Awaitable[Sequence[Any]]]],
    ) -> SupervisionLoaders:
        return cls(
            spot_check=_loader(sessionmaker, scoped(supervision_ops.spot_checks_by_id)),
            findings=_loader(sessionmaker, supervision_ops.findings_by_spot_check_id),
            bulletin_recipients=_loader(sessionmaker, supervision_ops.recipients_by_bulletin_id),
            bulletin_reads=_loader(
                sessionmaker, scoped(supervision_ops.read_states_by_bulletin_id)
            ),
        )


@dataclass(slots=True)
class Loaders:
    """Created per request, so a cache never serves one viewer's rows to another."""

    branch: DataLoader[uuid.UUID, Branch | None]
    children: DataLoader[uuid.UUID, list[Branch]]
    honours: DataLoader[uuid.UUID, list[BranchHonour]]
    members: DataLoader[uuid.UUID, list[MemberRecord]]
    member_count: DataLoader[uuid.UUID, int]
    member: DataLoader[uuid.UUID, MemberRecord | None]
    task_units: DataLoader[uuid.UUID, list[Branch]]
    task_unit_places: DataLoader[uuid.UUID, list[TaskUnitPlace]]
    transfers: DataLoader[uuid.UUID, list[MemberTransfer]]
    status_history: DataLoader[uuid.UUID, list[PartyStatusChange]]
    ledger_item: DataLoader[uuid.UUID, LedgerItem | None]
    ledger_entry: DataLoader[uuid.UUID, LedgerEntry | None]
    ledger_attendees: DataLoader[uuid.UUID, list[MemberRecord]]
    ledger_attachments: DataLoader[uuid.UUID, list[LedgerAttachment]]
    study_attendees: DataLoader[uuid.UUID, list[MemberRecord]]
    study_group_members: DataLoader[uuid.UUID, list[MemberRecord]]
    directives: DirectiveLoaders
    hotline_notes: DataLoader[uuid.UUID, list[NoteRecord]]
    education_base: DataLoader[uuid.UUID, EducationBase | None]
    supervision: SupervisionLoaders
    # Keyed by (collection key, document id): field records of every synced collection.
    competing_versions: DataLoader[tuple[str, str], list[CompetingVersion]]

    def prime_branches(self, rows: Sequence[Branch]) -> None:
        """Branches already fetched answer later `branch` loads (parents, members' branches)."""
        self.branch.prime_many({row.id: row for row in rows})

    @classmethod
    def build(cls, sessionmaker: Sessionmaker, viewer: Viewer | None) -> Loaders:
        def scoped(
            fn: Callable[[AsyncSession, Viewer, Sequence[K]], Awaitable[Sequence[V]]],
        ) -> Callable[[AsyncSession, Sequence[K]], Awaitable[Sequence[V]]]:
            async def run(db: AsyncSession, keys: Sequence[K]) -> Sequence[V]:
                if viewer is None:
                    raise Unauthenticated()
                return await fn(db, viewer, keys)

            return run

        return cls(
            branch=_loader(sessionmaker, branch_ops.branches_by_id),
            children=_loader(sessionmaker, branch_ops.children_by_parent_id),
            honours=_loader(sessionmaker, branch_ops.honours_by_branch_id),
            members=_loader(sessionmaker, scoped(member_ops.members_by_branch_id)),
            member_count=_loader(sessionmaker, scoped(member_ops.member_counts_by_branch_id)),
            member=_loader(sessionmaker, scoped(member_ops.members_by_id)),
            task_units=_loader(sessionmaker, member_ops.task_units_by_member_id),
            task_unit_places=_loader(sessionmaker, scoped(member_ops.task_unit_places_by_unit_id)),
            transfers=_loader(sessionmaker, member_ops.transfers_by_member_id),
            status_history=_loader(sessionmaker, member_ops.status_history_by_member_id),
            ledger_item=_loader(sessionmaker, ledger_ops.ledger_items_by_id),
            ledger_entry=_loader(sessionmaker, scoped(ledger_ops.ledger_entries_by_id)),
            ledger_attendees=_loader(sessionmaker, scoped(ledger_ops.attendees_by_entry_id)),
            ledger_attachments=_loader(sessionmaker, ledger_ops.attachments_by_entry_id),
            study_attendees=_loader(sessionmaker, scoped(study_ops.attendees_by_record_id)),
            study_group_members=_loader(sessionmaker, scoped(study_ops.members_by_group_id)),
            directives=DirectiveLoaders.build(sessionmaker, scoped),
            hotline_notes=_loader(sessionmaker, care_ops.notes_by_request_id),
            education_base=_loader(sessionmaker, education_ops.bases_by_id),
            supervision=SupervisionLoaders.build(sessionmaker, scoped),
            competing_versions=_loader(
                sessionmaker, scoped(sync_admin_ops.competing_versions_by_document)
            ),
        )


@dataclass(slots=True)
class Context:
    settings: Settings
    sessionmaker: Sessionmaker
    clock: Clock
    request_id: str
    viewer: Viewer | None
    loaders: Loaders
    viewer_cache: ViewerCache
    response_cache: ResponseCache | None = None
    request: Any = None
    response: Any = None
    # Why the viewer is missing, when a token was sent but refused.
    auth_problem: AuthProblem | None = None
    # With auth_problem REVOKED: the signed-out device the token names (its pushes are kept).
    ended_session: EndedSession | None = None
    feed: Feed = dataclasses.field(default_factory=Feed)
    change_cache: ChangeCache = dataclasses.field(default_factory=ChangeCache)
    device_tracker: DeviceTracker = dataclasses.field(default_factory=DeviceTracker)
    # Set by strawberry on a WebSocket from the client's connection_init payload.
    connection_params: Any = None
    # Ends streams whose sign-in ended (one per process); over a WebSocket, how to close it.
    stream_guard: StreamGuard | None = None
    close_socket: Close | None = None

    def require_viewer(self) -> Viewer:
        if self.viewer is None:
            raise Unauthenticated(self.auth_problem)
        return self.viewer


Info = strawberry.Info[Context, None]
