"""SQLAlchemy models, one module per domain. Importing this package registers every table."""

from models.account import Account, DeviceSession, Role
from models.assessment import AssessmentItem, ManualScore, RuleKind, ScoreAdjustment
from models.base import Base
from models.branch import Branch, BranchHonour, BranchKind, HonourLevel
from models.brand import BrandChecklistItem, BrandCriterion, BrandItemStatus
from models.care import HotlineCategory, HotlineNote, HotlineRequest, HotlineStatus
from models.data_version import DataVersion
from models.directive import (
    Directive,
    DirectiveLevel,
    DirectivePriority,
    DirectiveProgress,
    DirectiveReceipt,
    DirectiveRecipient,
    DirectiveStatus,
    RecipientStatus,
)
from models.education import EducationActivity, EducationActivityType
from models.ledger import (
    LedgerAttachment,
    LedgerEntry,
    LedgerEntryAttendee,
    LedgerFrequency,
    LedgerItem,
)
from models.member import (
    Member,
    MemberTransfer,
    PartyStatus,
    PartyStatusChange,
    PersonnelType,
    Post,
    ServiceStatus,
    TaskUnitMembership,
)
from models.patrol import Patrol, PatrolKind
from models.service_action import ParticipantKind, ServiceAction, ServiceActionType, VolunteerRole
from models.study import (
    StudyForm,
    StudyGroup,
    StudyGroupMember,
    StudyRecord,
    StudyRecordAttendee,
)
from models.supervision import (
    Bulletin,
    BulletinKind,
    BulletinRead,
    BulletinRecipient,
    FindingStatus,
    Reminder,
    ReminderKind,
    ReminderResolution,
    ReminderStatus,
    SpotCheck,
    SpotCheckFinding,
)
from models.sync import SyncConflict, SyncDevice, SyncedDocument, SyncQuarantine, SyncScopeExit
from models.visit import Visit, VisitCategory, VisitStatus

__all__ = [
    "Account",
    "AssessmentItem",
    "Base",
    "Branch",
    "BranchHonour",
    "BranchKind",
    "BrandChecklistItem",
    "BrandCriterion",
    "BrandItemStatus",
    "Bulletin",
    "BulletinKind",
    "BulletinRead",
    "BulletinRecipient",
    "DataVersion",
    "DeviceSession",
    "Directive",
    "DirectiveLevel",
    "DirectivePriority",
    "DirectiveProgress",
    "DirectiveReceipt",
    "DirectiveRecipient",
    "DirectiveStatus",
    "EducationActivity",
    "EducationActivityType",
    "FindingStatus",
    "HonourLevel",
    "HotlineCategory",
    "HotlineNote",
    "HotlineRequest",
    "HotlineStatus",
    "LedgerAttachment",
    "LedgerEntry",
    "LedgerEntryAttendee",
    "LedgerFrequency",
    "LedgerItem",
    "ManualScore",
    "Member",
    "MemberTransfer",
    "ParticipantKind",
    "PartyStatus",
    "PartyStatusChange",
    "Patrol",
    "PatrolKind",
    "PersonnelType",
    "Post",
    "RecipientStatus",
    "Reminder",
    "ReminderKind",
    "ReminderResolution",
    "ReminderStatus",
    "Role",
    "RuleKind",
    "ScoreAdjustment",
    "ServiceAction",
    "ServiceActionType",
    "ServiceStatus",
    "SpotCheck",
    "SpotCheckFinding",
    "StudyForm",
    "StudyGroup",
    "StudyGroupMember",
    "StudyRecord",
    "StudyRecordAttendee",
    "SyncConflict",
    "SyncDevice",
    "SyncQuarantine",
    "SyncScopeExit",
    "SyncedDocument",
    "TaskUnitMembership",
    "Visit",
    "VisitCategory",
    "VisitStatus",
    "VolunteerRole",
]
