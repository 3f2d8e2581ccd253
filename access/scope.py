"""Which branches' records a viewer syncs: an officer their branch, a secretary their subtree,
admins (and, read-only, inspectors) everything.

Within an officer's branch, reminders and directives are narrowed further to those addressed to
them or to the branch as a whole: see access/audience.py, which builds on this scope.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import InstrumentedAttribute

from access.viewer import Viewer
from models import Branch, Role

ScopeKind = Literal["all", "subtree", "branch", "none"]


@dataclass(frozen=True, slots=True)
class Scope:
    kind: ScopeKind
    branch_id: uuid.UUID | None = None
    path: str | None = None
    writable: bool = False
    # An officer's own member record, which access/audience.py narrows personal documents to.
    member_id: uuid.UUID | None = None

    @property
    def key(self) -> str:
        """Stable text naming the scope; a device whose scope key changed must resync."""
        if self.kind == "subtree":
            return f"subtree:{self.path}"
        if self.kind == "branch":
            return f"branch:{self.branch_id}"
        return self.kind

    def covers(self, branch_id: uuid.UUID, path: str | None) -> bool:
        """Whether a record of this branch (with this path) is in scope."""
        if self.kind == "all":
            return True
        if self.kind == "subtree":
            return path is not None and self.path is not None and path.startswith(self.path)
        if self.kind == "branch":
            return branch_id == self.branch_id
        return False

    def clause(self, branch_column: InstrumentedAttribute[uuid.UUID]) -> ColumnElement[bool]:
        """SQL condition on a `branch_id` column for the records in scope."""
        if self.kind == "all":
            return true()
        if self.kind == "subtree" and self.path:
            return branch_column.in_(select(Branch.id).where(Branch.path.startswith(self.path)))
        if self.kind == "branch" and self.branch_id is not None:
            return branch_column == self.branch_id
        return false()

    def path_clause(
        self,
        branch_column: InstrumentedAttribute[uuid.UUID],
        path_column: InstrumentedAttribute[str],
    ) -> ColumnElement[bool]:
        """The same condition on a row that carries its own branch path (scope exits)."""
        if self.kind == "all":
            return true()
        if self.kind == "subtree" and self.path:
            return path_column.startswith(self.path)
        if self.kind == "branch" and self.branch_id is not None:
            return branch_column == self.branch_id
        return false()


def scope_of(viewer: Viewer) -> Scope:
    """The sync scope of a viewer's role; inspectors read everything and write nothing."""
    if viewer.role is Role.ADMIN:
        return Scope("all", writable=True)
    if viewer.role is Role.INSPECTOR:
        return Scope("all", writable=False)
    if viewer.role is Role.SECRETARY and viewer.branch_path:
        return Scope("subtree", viewer.branch_id, viewer.branch_path, writable=True)
    if viewer.role is Role.OFFICER and viewer.branch_id is not None:
        return Scope(
            "branch",
            viewer.branch_id,
            viewer.branch_path,
            writable=True,
            member_id=viewer.member_id,
        )
    return Scope("none")
