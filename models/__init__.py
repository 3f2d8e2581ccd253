"""SQLAlchemy models, one module per domain. Importing this package registers every table."""

from models.account import Account, DeviceSession, Role
from models.base import Base
from models.branch import Branch, BranchHonour, BranchKind, HonourLevel
from models.brand import BrandChecklistItem, BrandCriterion, BrandItemStatus
from models.care import HotlineCategory, HotlineNote, HotlineRequest, HotlineStatus
from models.data_version import DataVersion
from models.education import EducationActivity, EducationActivityType
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
from models.service_action import ServiceAction, ServiceActionType, VolunteerRole
from models.sync import SyncConflict, SyncDevice, SyncedDocument, SyncQuarantine, SyncScopeExit
from models.visit import Visit, VisitCategory, VisitStatus

__all__ = [
    "Account",
    "Base",
    "Branch",
    "BranchHonour",
    "BranchKind",
    "BrandChecklistItem",
    "BrandCriterion",
    "BrandItemStatus",
    "DataVersion",
    "DeviceSession",
    "EducationActivity",
    "EducationActivityType",
    "HonourLevel",
    "HotlineCategory",
    "HotlineNote",
    "HotlineRequest",
    "HotlineStatus",
    "Member",
    "MemberTransfer",
    "PartyStatus",
    "PartyStatusChange",
    "Patrol",
    "PatrolKind",
    "PersonnelType",
    "Post",
    "Role",
    "ServiceAction",
    "ServiceActionType",
    "ServiceStatus",
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
