"""The demo county's brand checklists, education base and its recent year, and 警心110 requests.

Shaped so the article's figures come out of real queries: 32 branch brands in the matrix (most
meeting all of "六有一规范", a few still working on it), and 216 activities at the 615 m²
education base in the twelve months ending with the seed's day (demo/timeline.py) with 7,320
visitors (200余场次、7000余人次). Everything comes from one seeded random generator over that
window, so two builds on the same day give the same rows (only the ids differ); nothing is
dated after the seed's moment. demo/seed.py writes them.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from core.ids import new_id
from demo.county import MEIGUI, UNITS, County
from demo.timeline import Timeline
from models import (
    BrandItemStatus,
    EducationActivityType,
    HotlineCategory,
    HotlineStatus,
    ServiceStatus,
)
from resolvers.brand import DEFAULT_CRITERIA

RANDOM_SEED = 615  # the base's floor area, in m²
ACTIVITIES = 216  # 开展活动200余场次
AUDIENCE = 7_320  # 接待7000余人次
IN_PROGRESS_UNITS = 6  # branches still working on their brand; the rest meet all seven

# Share of activities and the audience range of one activity, by type.
ACTIVITY_MIX: dict[EducationActivityType, tuple[int, int, int]] = {
    EducationActivityType.OPEN_DAY: (30, 40, 70),
    EducationActivityType.STUDY_VISIT: (25, 20, 45),
    EducationActivityType.LECTURE: (20, 25, 50),
    EducationActivityType.OATH: (10, 8, 25),
    EducationActivityType.CEREMONY_RETIREMENT: (8, 15, 35),
    EducationActivityType.OTHER: (7, 10, 30),
}
VISITORS = (
    "平阴县第一中学师生",
    "玫瑰镇中心小学师生",
    "辖区网格长",
    "退役军人代表",
    "社区党员志愿者",
    "新入职辅警",
    "县直机关党员",
    "村(社区)两委成员",
    "群众代表",
    "兄弟单位党员民警",
)
LECTURES = (
    "学习贯彻党的二十大精神",
    "新时代“枫桥经验”",
    "坚持和发展新时代公安工作",
    "全面从严管党治警",
    "公安英模事迹",
    "反电信网络诈骗形势",
    "党史学习教育",
    "“公安楷模”精神",
)
OTHER_ACTIVITIES = (
    "“七一”主题党日",
    "清明祭英烈",
    "警营开放日志愿讲解培训",
    "青年民警理论学习小组读书会",
    "“玫警初心”品牌故事分享会",
)
# Organised by the political work office (政工室), which holds the 荣休 ceremonies.
CEREMONY_UNIT = "政工室"

EVIDENCE: dict[str, tuple[str, str]] = {
    "B1": ("品牌名称「{brand}」经支部党员大会讨论确定", "{unit}品牌创建方案.pdf"),
    "B2": ("制定品牌创建三年目标和年度计划,口号「{slogan}」", "{unit}品牌创建目标.docx"),
    "B3": ("围绕主责主业打造特色载体,形成一支部一特色", "{unit}特色载体照片.zip"),
    "B4": ("书记牵头、委员分工、党员认领,每季度研究一次品牌创建", "台账 L22 品牌创建"),
    "B5": ("建成党建文化墙和荣誉展示室,纳入党建教育基地参观线路", "{unit}展示阵地照片.zip"),
    "B6": ("为民服务、攻坚成效和获得荣誉纳入品牌台账", "台账 L20 为民服务"),
    "B7": ("台账齐全、按季度自查、运行规范", "{unit}季度自查表.xlsx"),
}


@dataclass(frozen=True, slots=True)
class HotlineSpec:
    member_id: uuid.UUID
    received_at: datetime
    category: HotlineCategory
    summary: str
    steps: tuple[tuple[HotlineStatus, str, datetime], ...]


@dataclass
class BrandCare:
    checklist_items: list[dict[str, Any]] = field(default_factory=list)
    activities: list[dict[str, Any]] = field(default_factory=list)
    hotline: list[HotlineSpec] = field(default_factory=list)


EDUCATION_BASE = {
    "name": "平阴县公安局党建文化阵地",
    "area_m2": 615,
    # Illustrative, like the demo's villages: the bureau's own premises in the county seat.
    "address": "山东省济南市平阴县榆山街道 平阴县公安局机关院内",
    "description": "总面积615平方米,以党的领导和建设为主线,运用多媒体、信息化、情景模拟等形式"
    "构建体验式教育环境;承办学习交流、党性教育、警营开放日、荣休等活动。",
}


def education_base_row(now: datetime) -> dict[str, Any]:
    """The county's education base (615 m²), as a row."""
    return {"id": new_id(), **EDUCATION_BASE, "created_at": now, "updated_at": now}


def build_brand_care(
    county: County, criteria: dict[str, uuid.UUID], when: Timeline, base_id: uuid.UUID
) -> BrandCare:
    """Checklists for the 32 branches, the education base's recent year (its activities held at
    `base_id`) and a handful of requests.

    `criteria` maps the catalog's codes to ids; only the default codes get demo statuses.
    """
    rng = random.Random(RANDOM_SEED)
    out = BrandCare()
    _checklists(out, rng, county, criteria, when.now)
    _activities(out, rng, county, when, base_id)
    _hotline(out, county, when)
    return out


def _checklists(
    out: BrandCare,
    rng: random.Random,
    county: County,
    criteria: dict[str, uuid.UUID],
    now: datetime,
) -> None:
    codes = [code for code, _, _ in DEFAULT_CRITERIA if code in criteria]
    # The stations the article names keep complete brands; some desk units are still at it.
    in_progress = set(rng.sample(range(12, len(UNITS)), IN_PROGRESS_UNITS))
    for index, spec in enumerate(UNITS):
        met = rng.randint(3, len(codes) - 1) if index in in_progress else len(codes)
        for position, code in enumerate(codes):
            if position > met:
                break  # not started: no row
            status = BrandItemStatus.MET if position < met else BrandItemStatus.IN_PROGRESS
            text, link = EVIDENCE.get(code, ("", ""))
            values = {"brand": spec.brand, "slogan": spec.slogan, "unit": spec.unit}
            out.checklist_items.append(
                {
                    "id": new_id(),
                    "branch_id": county.unit_ids[spec.unit],
                    "criterion_id": criteria[code],
                    "status": status,
                    "evidence": text.format(**values) if status is BrandItemStatus.MET else None,
                    "evidence_links": [link.format(**values)]
                    if status is BrandItemStatus.MET
                    else [],
                    "updated_by": None,
                    "created_at": now,
                    "updated_at": now,
                }
            )


def _activities(
    out: BrandCare, rng: random.Random, county: County, when: Timeline, base_id: uuid.UUID
) -> None:
    kinds = list(ACTIVITY_MIX)
    weights = [ACTIVITY_MIX[k][0] for k in kinds]
    units = [spec.unit for spec in UNITS]
    sizes = [spec.size for spec in UNITS]
    now = when.now
    first, days = when.days(when.recent)
    drafts: list[tuple[date, EducationActivityType, str, int]] = []
    for _ in range(ACTIVITIES):
        kind = rng.choices(kinds, weights)[0]
        _, low, high = ACTIVITY_MIX[kind]
        held_on = first + timedelta(days=rng.randrange(days))
        if held_on.weekday() == 6:  # the base is closed on Sundays
            held_on += timedelta(days=-1 if held_on > first else 1)
        unit = CEREMONY_UNIT if kind is EducationActivityType.CEREMONY_RETIREMENT else None
        drafts.append((held_on, kind, unit or rng.choices(units, sizes)[0], rng.randint(low, high)))
    drafts.sort(key=lambda d: d[0])
    audiences = _scaled([d[3] for d in drafts], AUDIENCE)
    for (held_on, kind, unit, _), audience in zip(drafts, audiences, strict=True):
        out.activities.append(
            {
                "id": new_id(),
                "branch_id": county.unit_ids[unit],
                "base_id": base_id,
                "title": _title(rng, kind, unit, held_on),
                "held_on": held_on,
                "type": kind,
                "audience_count": audience,
                "notes": None,
                "created_by": None,
                "created_at": now,
                "updated_at": now,
            }
        )


def _scaled(values: list[int], total: int) -> list[int]:
    """The values scaled to add up to exactly `total`; the rounding rest goes to the largest."""
    raw = sum(values)
    scaled = [max(1, round(v * total / raw)) for v in values]
    order = sorted(range(len(values)), key=lambda i: (-scaled[i], i))
    rest = total - sum(scaled)
    step = 1 if rest > 0 else -1
    i = 0
    while rest:
        scaled[order[i % len(order)]] += step
        rest -= step
        i += 1
    return scaled


def _title(rng: random.Random, kind: EducationActivityType, unit: str, held_on: date) -> str:
    if kind is EducationActivityType.OPEN_DAY:
        return f"党建教育基地开放日:{rng.choice(VISITORS)}走进玫警初心教育基地"
    if kind is EducationActivityType.STUDY_VISIT:
        return f"{unit}党支部组织党员参观学习"
    if kind is EducationActivityType.LECTURE:
        return f"{rng.choice(LECTURES)}专题党课"
    if kind is EducationActivityType.OATH:
        return f"{unit}党支部新党员入党宣誓"
    if kind is EducationActivityType.CEREMONY_RETIREMENT:
        return f"{held_on.month}月民警荣休仪式"
    return rng.choice(OTHER_ACTIVITIES)


def _hotline(out: BrandCare, county: County, when: Timeline) -> None:
    """Six requests: one from the demo officer (he sees it), one more in 玫瑰 (its secretary
    handles it), the rest elsewhere (only admins and their own secretaries see those). Each
    falls in the latest year in which it had been handled as far as it says by the seed's day."""
    year = when.last_day.year

    def _at(month: int, day: int, hour: int) -> datetime:
        return when.at(date(year, month, day), hour)

    def active(unit: str, skip: int = 0) -> uuid.UUID:
        people = [
            m
            for m in county.unit_members[unit]
            if m["service_status"] is ServiceStatus.ACTIVE and m["id"] != county.meigui_officer_id
        ]
        return uuid.UUID(str(people[-1 - skip]["id"]))

    assert county.meigui_officer_id is not None
    received, progress, resolved = (
        HotlineStatus.RECEIVED,
        HotlineStatus.IN_PROGRESS,
        HotlineStatus.RESOLVED,
    )
    specs = [
        HotlineSpec(
            county.meigui_officer_id,
            _at(3, 12, 21),
            HotlineCategory.HEALTH,
            "父亲需到济南住院手术,希望协调就医。",
            (
                (received, "已受理 (received)", _at(3, 12, 21)),
                (progress, "已联系警医绿色通道定点医院,预约床位", _at(3, 13, 9)),
                (resolved, "已入院手术,术后回访家属,情况良好", _at(3, 20, 16)),
            ),
        ),
        HotlineSpec(
            active(MEIGUI),
            _at(9, 3, 22),
            HotlineCategory.WORK_PRESSURE,
            "连续夜班后睡眠不好,情绪低落。",
            (
                (received, "已受理 (received)", _at(9, 3, 22)),
                (progress, "支部书记谈心谈话,调整夜班轮换", _at(9, 4, 10)),
            ),
        ),
        HotlineSpec(
            active("榆山派出所"),
            _at(5, 18, 20),
            HotlineCategory.FAMILY,
            "配偶失业,子女上学费用有困难。",
            (
                (received, "已受理 (received)", _at(5, 18, 20)),
                (progress, "纳入困难民警帮扶名单", _at(5, 20, 9)),
                (resolved, "发放帮扶金,协调子女就近入学", _at(6, 2, 15)),
            ),
        ),
        HotlineSpec(
            active("交通警察大队"),
            _at(7, 8, 19),
            HotlineCategory.PSYCHOLOGICAL,
            "处置重大交通事故后反复回想现场。",
            (
                (received, "已受理 (received)", _at(7, 8, 19)),
                (progress, "安排心理咨询师一对一疏导", _at(7, 9, 14)),
                (resolved, "三次疏导后情况好转,定期回访", _at(8, 5, 10)),
            ),
        ),
        HotlineSpec(
            active("治安巡逻大队"),
            _at(11, 2, 23),
            HotlineCategory.HEALTH,
            "腰椎旧伤复发,需要专家门诊。",
            ((received, "已受理 (received)", _at(11, 2, 23)),),
        ),
        HotlineSpec(
            active("看守所"),
            _at(10, 15, 18),
            HotlineCategory.OTHER,
            "希望了解异地就医报销政策。",
            (
                (received, "已受理 (received)", _at(10, 15, 18)),
                (progress, "已转警务保障室解答", _at(10, 16, 11)),
            ),
        ),
    ]
    out.hotline += [_in_passed_year(spec, when) for spec in specs]


def _in_passed_year(spec: HotlineSpec, when: Timeline) -> HotlineSpec:
    """The request in the latest year in which all its steps had happened by `last_day`."""
    moments = [spec.received_at, *(at for _, _, at in spec.steps)]
    if max(moments).date() <= when.last_day:
        return spec
    earlier = [(status, note, at.replace(year=at.year - 1)) for status, note, at in spec.steps]
    return replace(
        spec,
        received_at=spec.received_at.replace(year=spec.received_at.year - 1),
        steps=tuple(earlier),
    )


def hotline_rows(
    data: BrandCare, admin_id: uuid.UUID | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The requests and their handling notes as rows; steps after the first are the admin's."""
    requests: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    for spec in data.hotline:
        request_id = new_id()
        status, _, last_at = spec.steps[-1]
        handled = len(spec.steps) > 1
        requests.append(
            {
                "id": request_id,
                "member_id": spec.member_id,
                "received_at": spec.received_at,
                "category": spec.category,
                "summary": spec.summary,
                "status": status,
                "handled_by": admin_id if handled else None,
                "created_by": None,
                "resolved_at": last_at if status is HotlineStatus.RESOLVED else None,
                "created_at": spec.received_at,
                "updated_at": last_at,
            }
        )
        for i, (step_status, note, at) in enumerate(spec.steps):
            notes.append(
                {
                    "id": new_id(),
                    "request_id": request_id,
                    "status": step_status,
                    "note": note,
                    "by_account_id": admin_id if i > 0 else None,
                    "recorded_at": at,
                }
            )
    return requests, notes
