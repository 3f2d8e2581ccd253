"""The demo county's e-ledgers over its two years (demo/timeline.py), 第一议题 study records,
the youth study groups (青年理论学习小组) with their follow-up studies, and a lighter earlier year
at the education base, so the dashboard's completeness and year-on-year figures vary.

Ledger periods are calendar months, quarters and years: every one that ends in the demo's two
years, or is running on the seed's day. Most branches keep their ledgers on schedule; a few
have gaps and late entries, and the earlier year was kept less well than the recent one
(branches were still learning the platform). Every "第一议题" (L06) entry has its study record,
every 青年民警理论学习小组 (L16) entry its group's follow-up study (跟进学). Entries dated after
the seed's day, or that would be recorded after it, are left out: such sub-periods are still
pending. One seeded random generator, so two builds on the same day give the same rows (only
ids differ). demo/seed.py writes them.
"""

from __future__ import annotations

import calendar
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from core.ids import new_id
from demo.brand_care import ACTIVITY_MIX, VISITORS
from demo.county import UNITS, County
from demo.records import CHINA
from demo.seed_ledger import DEFAULT_LEDGER_ITEMS
from demo.timeline import Timeline
from models import EducationActivityType, LedgerFrequency, ServiceStatus, StudyForm
from resolvers.member import years_after

RANDOM_SEED = 24  # the 24 items of the ledger standard
# (chance a due entry is missing, chance it is recorded late) by how well a branch keeps its
# ledger; the earlier year's chances of a gap are higher by LAST_YEAR_SLACK.
DILIGENCE = {"steady": (0.02, 0.03), "gappy": (0.15, 0.12), "weak": (0.35, 0.2)}
WEAK_UNITS = 2
GAPPY_UNITS = 6
LAST_YEAR_SLACK = 0.12
GRACE_DAYS = 7  # as the default settings.ledger_grace_days
ACTIVITIES_LAST_YEAR = 152
AUDIENCE_LAST_YEAR = 5_180
# 青年民警理论学习小组: members of at most this age, at most this many per branch's group.
YOUTH_AGE = 35
YOUTH_GROUP_SIZE = 10
YOUTH_GROUP_NAME = "青年民警理论学习小组"

STUDY_TOPICS = (
    "学习习近平总书记关于公安工作的重要论述",
    "学习贯彻党的二十大精神",
    "学习《中国共产党纪律处分条例》",
    "学习新时代“枫桥经验”重要指示精神",
    "学习习近平总书记在全国公安工作会议上的讲话",
    "学习《中国共产党章程》",
    "学习全国两会精神",
    "学习党史、新中国史",
)


@dataclass
class DemoLedger:
    entries: list[dict[str, Any]] = field(default_factory=list)
    study_records: list[dict[str, Any]] = field(default_factory=list)
    activities: list[dict[str, Any]] = field(default_factory=list)
    study_groups: list[dict[str, Any]] = field(default_factory=list)
    study_group_members: list[dict[str, Any]] = field(default_factory=list)


def build_ledger(
    county: County, items: dict[str, uuid.UUID], when: Timeline, base_id: uuid.UUID
) -> DemoLedger:
    """Entries of the 32 branches over the demo's two years against the items in `items` (code
    → id), each branch's youth study group, and the base's (`base_id`) earlier year."""
    rng = random.Random(RANDOM_SEED)
    out = DemoLedger()
    now, today = when.now, when.today
    groups = _study_groups(out, county, when)
    units = [spec.unit for spec in UNITS]
    # The stations the article names stay steady; the gaps are among the others.
    others = rng.sample(units[12:], WEAK_UNITS + GAPPY_UNITS)
    profile = {unit: "steady" for unit in units}
    profile.update({u: "weak" for u in others[:WEAK_UNITS]})
    profile.update({u: "gappy" for u in others[WEAK_UNITS:]})
    years = range(when.earlier.start.year, today.year + 1)
    for unit in units:
        branch_id = county.unit_ids[unit]
        for year in years:
            for code, name, frequency in DEFAULT_LEDGER_ITEMS:
                if code not in items:
                    continue
                for first, last in _sub_periods(frequency, year):
                    if last < when.earlier.start:
                        continue  # before the demo's two years
                    miss, late = DILIGENCE[profile[unit]]
                    if last < when.recent.start:
                        miss += LAST_YEAR_SLACK
                    if rng.random() < miss:
                        continue
                    day = first + timedelta(days=rng.randrange((last - first).days + 1))
                    recorded = day + timedelta(days=rng.randint(0, 3))
                    if rng.random() < late:
                        recorded = last + timedelta(days=GRACE_DAYS + rng.randint(3, 30))
                    at = datetime.combine(recorded, time(18, rng.randrange(60)), tzinfo=CHINA)
                    if day > today or at > now:
                        continue
                    _entry(out, rng, branch_id, items[code], code, name, day, at, groups)
    out.activities = _activities_last_year(rng, county, when, base_id)
    return out


def _study_groups(out: DemoLedger, county: County, when: Timeline) -> dict[uuid.UUID, uuid.UUID]:
    """Each unit's 青年民警理论学习小组: its active members of YOUTH_AGE or younger (the youngest
    few where none is that young). Returns branch id → group id."""
    youngest_birthday = years_after(when.today, -YOUTH_AGE - 1)
    groups: dict[uuid.UUID, uuid.UUID] = {}
    for spec in UNITS:
        branch_id = county.unit_ids[spec.unit]
        active = sorted(
            (
                m
                for m in county.unit_members[spec.unit]
                if m["service_status"] is ServiceStatus.ACTIVE
            ),
            key=lambda m: m["birthday"],
            reverse=True,
        )
        young = [m for m in active if m["birthday"] > youngest_birthday] or active[:3]
        group_id = new_id()
        groups[branch_id] = group_id
        out.study_groups.append(
            {
                "id": group_id,
                "branch_id": branch_id,
                "name": YOUTH_GROUP_NAME,
                "created_at": when.now,
                "updated_at": when.now,
            }
        )
        out.study_group_members.extend(
            {"group_id": group_id, "member_id": m["id"]} for m in young[:YOUTH_GROUP_SIZE]
        )
    return groups


def _sub_periods(frequency: LedgerFrequency, year: int) -> list[tuple[date, date]]:
    """First and last day of each sub-period of `year` an item of this frequency is due in."""
    if frequency is LedgerFrequency.MONTHLY:
        return [
            (date(year, m, 1), date(year, m, calendar.monthrange(year, m)[1])) for m in range(1, 13)
        ]
    if frequency is LedgerFrequency.QUARTERLY:
        return [
            (date(year, m, 1), date(year, m + 2, calendar.monthrange(year, m + 2)[1]))
            for m in (1, 4, 7, 10)
        ]
    if frequency is LedgerFrequency.YEARLY:
        # Held in spring or autumn, never left to December.
        return [(date(year, 3, 1), date(year, 11, 20))]
    return []


def _entry(
    out: DemoLedger,
    rng: random.Random,
    branch_id: uuid.UUID,
    item_id: uuid.UUID,
    code: str,
    name: str,
    day: date,
    at: datetime,
    groups: dict[uuid.UUID, uuid.UUID],
) -> None:
    entry_id = new_id()
    clean = name.replace("“", "").replace("”", "")
    out.entries.append(
        {
            "id": entry_id,
            "branch_id": branch_id,
            "item_id": item_id,
            "occurred_on": day,
            "title": f"{day.month}月{clean}",
            "content": f"{day.isoformat()} 召开/开展{clean},按要求记录。",
            "created_by": None,
            "created_at": at,
            "updated_at": at,
        }
    )
    if code == "L06":
        out.study_records.append(
            {
                "id": new_id(),
                "branch_id": branch_id,
                "held_on": day,
                "topic": rng.choice(STUDY_TOPICS),
                "material": None,
                "form": StudyForm.BRANCH,
                "ledger_entry_id": entry_id,
                "created_by": None,
                "created_at": at,
                "updated_at": at,
            }
        )
    if code == "L16" and branch_id in groups:
        # The youth group follows the month's 第一议题 up (跟进学); a study record links only
        # an L06 or L02 meeting, so this one stands beside its L16 entry.
        out.study_records.append(
            {
                "id": new_id(),
                "branch_id": branch_id,
                "held_on": day,
                "topic": rng.choice(STUDY_TOPICS),
                "material": None,
                "form": StudyForm.YOUTH_GROUP,
                "ledger_entry_id": None,
                "created_by": None,
                "created_at": at,
                "updated_at": at,
            }
        )


def _activities_last_year(
    rng: random.Random, county: County, when: Timeline, base_id: uuid.UUID
) -> list[dict[str, Any]]:
    """A lighter earlier year at the education base: 152 activities, 5,180 visitors."""
    kinds = list(ACTIVITY_MIX)
    weights = [ACTIVITY_MIX[k][0] for k in kinds]
    units = [spec.unit for spec in UNITS]
    sizes = [spec.size for spec in UNITS]
    now = when.now
    first, days = when.days(when.earlier)
    rows: list[dict[str, Any]] = []
    audience_left = AUDIENCE_LAST_YEAR
    for i in range(ACTIVITIES_LAST_YEAR):
        kind = rng.choices(kinds, weights)[0]
        held_on = first + timedelta(days=rng.randrange(days))
        left = ACTIVITIES_LAST_YEAR - i
        audience = (
            audience_left if left == 1 else max(5, audience_left // left + rng.randint(-8, 8))
        )
        audience_left -= audience
        unit = rng.choices(units, sizes)[0]
        title = (
            f"党建教育基地开放日:{rng.choice(VISITORS)}走进玫警初心教育基地"
            if kind is EducationActivityType.OPEN_DAY
            else f"{unit}党支部{kind.label}"
        )
        rows.append(
            {
                "id": new_id(),
                "branch_id": county.unit_ids[unit],
                "base_id": base_id,
                "title": title,
                "held_on": held_on,
                "type": kind,
                "audience_count": audience,
                "notes": None,
                "created_by": None,
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows
