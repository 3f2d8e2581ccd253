"""Running the reminder generator: once (`meijing reminders run`) or on a timer while serving."""

from __future__ import annotations

from datetime import datetime

from core.db import Sessionmaker, writing
from core.settings import Settings
from resolvers.reminder import COLLECTION_KEY, GenerationResult, ReminderRules, generate_reminders
from sync.feed import Feed


async def run_reminders(
    sessionmaker: Sessionmaker, now: datetime, settings: Settings, feed: Feed | None = None
) -> GenerationResult:
    """One generation run in its own transaction; phones streaming reminders hear of it."""
    async with writing(sessionmaker) as db:
        result = await generate_reminders(db, now, ReminderRules.from_settings(settings))
    if feed is not None and result.stamp is not None:
        await feed.publish_stamp(COLLECTION_KEY, result.stamp)
    return result


def reminder_interval_seconds(settings: Settings) -> float | None:
    """Seconds between in-process runs while serving; None when turned off (0)."""
    minutes = settings.reminder_interval_minutes
    return minutes * 60 if minutes > 0 else None
