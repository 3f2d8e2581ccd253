"""Directives (上级指令, 四级调度): issue, dispatch onward, sign, report progress, close, roll up.

The dispatch tree (models/directive.py): issuing creates the issuing committee's own recipient
row (signed at issue) as the root and one row per target branch beneath it. Each row's actor
(`sync.directive.acts_for`: a member for their own row, a branch's own secretary or an admin for
a branch row) signs it, reports progress, dispatches onward to what lies below it and closes it.

The package, one module per concern, everything re-exported here:

- `issue`: issuing from a committee, and dispatching onward (the cascade).
- `receipt`: a recipient's own steps: sign, report progress, close.
- `recipient`: what those writes share: the acting recipient row, new rows, `Written`.
- `query`: the readable directives, the rows addressed to the viewer, the batch loads.
- `rollup`: a directive's tree level by level.
- `urge`: 催办, reminding a lagging recipient.

Who may read which directive, and which rows are addressed to whom: access/directive.py.

Overdue: a recipient not closed when the deadline (the directive's, one for every level) has
passed by the injected clock.

Every write takes a sync stamp (sync/stamp.py) and announces the collections it wrote, since the
rows are the documents phones sync.
"""

from resolvers.directive.issue import (
    COMMITTEE_KINDS,
    MAX_TARGETS,
    MAX_TITLE,
    Dispatched,
    Issued,
    IssueData,
    dispatch_directive,
    issue_directive,
)
from resolvers.directive.query import (
    DirectiveFilter,
    count_directives,
    count_my_directives,
    directives_by_id,
    list_directives,
    my_directives,
    progress_by_id,
    progress_by_recipient_id,
    recipients_by_directive_id,
    recipients_by_id,
)
from resolvers.directive.receipt import (
    MAX_STAGE,
    ProgressWritten,
    RecipientWritten,
    StillOpen,
    close_recipient,
    report_progress,
    sign_directive,
)
from resolvers.directive.recipient import MAX_CONTENT, Written, actor_of
from resolvers.directive.rollup import LevelRollup, rollups_by_directive_id
from resolvers.directive.urge import Urged, urge_recipient

__all__ = [
    "COMMITTEE_KINDS",
    "MAX_CONTENT",
    "MAX_STAGE",
    "MAX_TARGETS",
    "MAX_TITLE",
    "DirectiveFilter",
    "Dispatched",
    "IssueData",
    "Issued",
    "LevelRollup",
    "ProgressWritten",
    "RecipientWritten",
    "StillOpen",
    "Urged",
    "Written",
    "actor_of",
    "close_recipient",
    "count_directives",
    "count_my_directives",
    "directives_by_id",
    "dispatch_directive",
    "issue_directive",
    "list_directives",
    "my_directives",
    "progress_by_id",
    "progress_by_recipient_id",
    "recipients_by_directive_id",
    "recipients_by_id",
    "report_progress",
    "rollups_by_directive_id",
    "sign_directive",
    "urge_recipient",
]
