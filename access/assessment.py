"""Who may read assessment scores and who may score: the rules of smart assessment (智能考核).

Admins and inspectors read every branch's scores, a secretary those of their subtree (and of the
assessed branch their own sits in), an officer those of the assessed branch they belong to.
Inspectors and admins enter manual scores and adjustments.
"""

from __future__ import annotations

from access.errors import Forbidden
from access.viewer import Viewer
from models import Branch, Role


def readable(viewer: Viewer, branch: Branch) -> bool:
    """Admins and inspectors: every branch; a secretary: their subtree and the branch they sit
    in; an officer: the assessed branch (or branches) their own branch belongs to."""
    if viewer.role in (Role.ADMIN, Role.INSPECTOR):
        return True
    own = viewer.branch_path
    if own is None:
        return False
    if viewer.role is Role.SECRETARY and branch.path.startswith(own):
        return True
    return viewer.role in (Role.SECRETARY, Role.OFFICER) and own.startswith(branch.path)


def require_readable(viewer: Viewer, branch: Branch) -> None:
    """Raises Forbidden unless the viewer may read the branch's scores (`readable`)."""
    if not readable(viewer, branch):
        raise Forbidden("该组织不在您的查看范围内 (outside what you may read)")


def require_inspector(viewer: Viewer) -> None:
    """Raises Forbidden unless the viewer may enter manual scores and adjustments."""
    if viewer.role not in (Role.ADMIN, Role.INSPECTOR):
        raise Forbidden("仅督导和县局党委管理员可评分 (inspectors and admins only)")
