"""SQLAlchemy models, one module per domain. Importing this package registers every table."""

from models.account import Account, DeviceSession, Role
from models.base import Base
from models.branch import Branch, BranchHonour, BranchKind, HonourLevel
from models.data_version import DataVersion
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

__all__ = [
    "Account",
    "Base",
    "Branch",
    "BranchHonour",
    "BranchKind",
    "DataVersion",
    "DeviceSession",
    "HonourLevel",
    "Member",
    "MemberTransfer",
    "PartyStatus",
    "PartyStatusChange",
    "PersonnelType",
    "Post",
    "Role",
    "ServiceStatus",
    "TaskUnitMembership",
]
