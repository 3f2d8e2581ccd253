"""When branches move, the records under them change hands without being edited.

Every synced document under a moved subtree gets a new stamp, so viewers whose scope now covers
it receive it in full although its content is older than their checkpoint, and a removal for the
old position, so viewers who saw it there and cannot see it now drop it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.ids import new_id
from models import Branch, SyncScopeExit
from sync.collection import ALL_COLLECTIONS
from sync.feed import announce
from sync.pull import document_columns
from sync.stamp import next_stamp


async def restamp_subtree(db: AsyncSession, old_path: str, now: datetime) -> int:
    """Call before the subtree's paths change; returns how many documents were re-stamped."""
    subtree = select(Branch.id).where(Branch.path.startswith(old_path))
    stamp: int | None = None
    moved = 0
    for collection in ALL_COLLECTIONS.values():
        model = collection.model
        rows = (
            await db.execute(
                select(*document_columns(collection), model.branch_id.label("_branch"), Branch.path)
                .join(Branch, Branch.id == model.branch_id)
                .where(Branch.path.startswith(old_path))
            )
        ).all()
        if not rows:
            continue
        if stamp is None:
            stamp = await next_stamp(db, now)
        await db.execute(
            insert(SyncScopeExit),
            [
                {
                    "id": new_id(),
                    "collection": collection.key,
                    "document_id": row.id,
                    "branch_id": row._branch,
                    "branch_path": row.path,
                    "updated_at": stamp,
                    "document": {**collection.to_wire(row), "deleted": True},
                }
                for row in rows
            ],
        )
        await db.execute(
            update(model)
            .where(model.branch_id.in_(subtree))
            .values(updated_at=stamp)
            .execution_options(synchronize_session=False)
        )
        await announce(db, collection.key, stamp)
        moved += len(rows)
    return moved
