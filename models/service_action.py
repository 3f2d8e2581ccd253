"""Community-service actions: the six actions 六项行动 and the 护蕾 / 星空护学 campaigns."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.sync import SyncedDocument


class ServiceActionType(enum.StrEnum):
    VISIT = "visit"
    LED_SCREEN = "led_screen"
    FORUM = "forum"
    LOUDSPEAKER = "loudspeaker"
    NIGHT_PATROL = "night_patrol"
    SECURITY_EXPERIENCE = "security_experience"
    CAMPAIGN_HULEI = "campaign_hulei"
    CAMPAIGN_XINGKONG = "campaign_xingkong"

    @property
    def label(self) -> str:
        return SERVICE_ACTION_LABELS[self]

    @property
    def is_six_action(self) -> bool:
        return self in SIX_ACTIONS


SERVICE_ACTION_LABELS = {
    ServiceActionType.VISIT: "走访动起来",
    ServiceActionType.LED_SCREEN: "LED屏幕亮起来",
    ServiceActionType.FORUM: "警民恳谈会开起来",
    ServiceActionType.LOUDSPEAKER: "农村大喇叭喊起来",
    ServiceActionType.NIGHT_PATROL: "夜间巡逻转起来",
    ServiceActionType.SECURITY_EXPERIENCE: "安防体验请进来",
    ServiceActionType.CAMPAIGN_HULEI: "护蕾行动",
    ServiceActionType.CAMPAIGN_XINGKONG: "星空护学",
}
SIX_ACTIONS = frozenset(list(ServiceActionType)[:6])


class VolunteerRole(enum.StrEnum):
    """Outside volunteers who join an action (they are not members of a branch)."""

    OLD_PARTY_MEMBER = "old_party_member"
    GRID_LEADER = "grid_leader"
    PARTY_VOLUNTEER = "party_volunteer"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "old_party_member": "老党员",
            "grid_leader": "优秀网格长",
            "party_volunteer": "党员志愿者",
            "other": "其他志愿者",
        }[self]


class ParticipantKind(enum.StrEnum):
    """Who took part in a patrol or service action: a member, or an outside volunteer."""

    MEMBER = "member"
    VOLUNTEER = "volunteer"

    @property
    def label(self) -> str:
        return {"member": "党员", "volunteer": "志愿者"}[self]


class ServiceAction(SyncedDocument, Base):
    __tablename__ = "service_action"

    type: Mapped[str] = mapped_column(String(32), index=True)
    title: Mapped[str] = mapped_column(String(200))
    place: Mapped[str | None] = mapped_column(String(100))
    happened_at_text: Mapped[str] = mapped_column(String(40))
    happened_at: Mapped[datetime] = mapped_column(index=True)
    # JSON text as on the wire: [{"memberId": <Member global id>} | {"name", "role", "phone"}].
    participants: Mapped[str] = mapped_column(Text, default="[]")
    people_reached: Mapped[int] = mapped_column(default=0)
    difficulties_solved: Mapped[int] = mapped_column(default=0)
    banners_received: Mapped[int] = mapped_column(default=0)
    notes: Mapped[str | None] = mapped_column(Text)
