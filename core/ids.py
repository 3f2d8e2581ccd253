"""One helper makes every id, so their shape is decided in one place."""

from __future__ import annotations

import uuid


def new_id() -> uuid.UUID:
    return uuid.uuid4()
