"""Two years of the demo county's field records: visits, patrols, service actions.

The years are those of demo/timeline.py: the twelve months ending with the seed's day (what
`dashboard(period: "P12M")` reads) and the twelve before them, so no record is dated after the
seed's moment. Shaped so the article's figures come out of real queries: the service actions
of the recent year solve 356 difficulties (解决群众困难350余起), bring 96 banners (锦旗96面) and
use all six actions (六项行动) plus the 护蕾行动 and 星空护学 campaigns. Police stations visit
villages most, the patrol brigade patrols most at night, and every branch records 为民服务 about
monthly. The earlier year is the same county's quieter one, so the dashboard's year-on-year
figures compare with something: each unit did 85% of its recent work, fewer difficulties were
solved and fewer banners received, and its cases are all settled by now.

Documents are built in the wire's merge form and turned into columns by the same
`Collection.to_columns` the sync push uses, so a phone pulls them exactly as if officers had
pushed them. Each year comes from its own seeded random generator over its window, so two
builds on the same day give the same records (only the county's member and branch ids differ). Stamps are given by demo/seed.py when it writes
them.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from core.global_id import global_id
from demo.county import MEIGUI, RESERVED_NAMES, SURNAMES, County
from demo.timeline import Timeline
from models import (
    PatrolKind,
    ServiceActionType,
    ServiceStatus,
    VisitCategory,
    VisitStatus,
    VolunteerRole,
)
from resolvers.period import BUREAU_TZ
from sync.collection import PATROL, SERVICE_ACTION, VISIT, Collection
from sync.merge import JSON

RANDOM_SEED = 2026
CHINA = BUREAU_TZ  # the bureau's calendar (UTC+8)
YEAR_DAYS = 365  # the days a year's draws are made over, then placed in its window
DIFFICULTIES_SOLVED = 356  # 解决群众困难350余起
BANNERS_RECEIVED = 96  # 收到锦旗96面
DELETED_VISITS = 6  # duplicates officers deleted: tombstones a fresh phone pulls too


@dataclass(frozen=True, slots=True)
class YearShape:
    """What one demo year of field records comes to."""

    # The recent year (the twelve months ending with the seed's day), or the one before it.
    recent: bool
    random_seed: int
    # Share of each unit's yearly workload (`Beat`) done in the year.
    volume: float
    difficulties_solved: int
    banners_received: int
    deleted_visits: int
    # Visits of the last this many days before the seed may still be open; None: every case is
    # settled by now.
    open_for_days: int | None


THIS_YEAR = YearShape(
    True, RANDOM_SEED, 1.0, DIFFICULTIES_SOLVED, BANNERS_RECEIVED, DELETED_VISITS, 120
)
LAST_YEAR = YearShape(False, RANDOM_SEED - 1, 0.85, 288, 67, 4, None)
FIELD_YEARS = (LAST_YEAR, THIS_YEAR)  # oldest first

# The county seat (平阴县城); each unit's beat lies within a few kilometres of its own centre.
COUNTY_LAT, COUNTY_LNG = 36.2891, 116.4559


@dataclass(frozen=True, slots=True)
class Beat:
    """How much of each kind of record a unit writes in the year, and where."""

    visits: int
    patrols: int
    night_share: float
    actions: int
    places: tuple[str, ...]
    # Field units use all six actions; desk units a few of them.
    action_types: tuple[ServiceActionType, ...]


SIX = (
    ServiceActionType.VISIT,
    ServiceActionType.LED_SCREEN,
    ServiceActionType.FORUM,
    ServiceActionType.LOUDSPEAKER,
    ServiceActionType.NIGHT_PATROL,
    ServiceActionType.SECURITY_EXPERIENCE,
)
CAMPAIGNS = (ServiceActionType.CAMPAIGN_HULEI, ServiceActionType.CAMPAIGN_XINGKONG)
DESK_ACTIONS = (
    ServiceActionType.VISIT,
    ServiceActionType.LED_SCREEN,
    ServiceActionType.FORUM,
    ServiceActionType.SECURITY_EXPERIENCE,
)

# Villages and neighbourhoods on each station's beat (illustrative names around 平阴).
STATION_PLACES: dict[str, tuple[str, ...]] = {
    MEIGUI: ("玫瑰村", "南栾湾村", "外山村", "胡坡村", "于庄村", "东落星村", "西张营村"),
    "榆山派出所": ("锦东社区", "翠屏社区", "青龙社区", "府前社区", "东关社区", "西关社区"),
    "榆山第二派出所": ("刁山坡村", "龙桥社区", "黄河社区", "东城社区", "南关村", "大屯村"),
    "锦水派出所": ("锦水社区", "北桥村", "南桥村", "双泉村", "南门村", "东天宫村"),
    "东阿派出所": ("东阿村", "南市村", "北市村", "永济村", "姜沟村", "罗庄村", "张海村"),
    "孝直派出所": ("孝直村", "前转湾村", "后转湾村", "白庄村", "赵庄村", "东毛铺村"),
    "孔村派出所": ("孔村", "胡庄村", "李沟村", "大寨村", "南毛村", "刘官庄村"),
    "洪范池派出所": ("洪范村", "纸坊村", "书院村", "东张村", "天池村", "丁泉村"),
    "安城派出所": ("安城村", "南石硖村", "北石硖村", "刘庄村", "东湿口村", "王楼村"),
    "店子派出所": ("店子村", "北大峪村", "南大峪村", "东峪村", "双庙村", "黄河村"),
    "黄河专班": ("黄河入济第一生态警务站", "田山灌区", "黄河滩区东阿段", "黄河滩区玫瑰段"),
}
COUNTY_PLACES = tuple(v for places in STATION_PLACES.values() for v in places[:3])
SCHOOLS = (
    "平阴县第一中学",
    "平阴县实验中学",
    "玫瑰镇中心小学",
    "东阿镇中学",
    "锦水街道中心小学",
    "孝直镇中心小学",
    "洪范池镇中学",
    "榆山街道中心幼儿园",
)


def _beats() -> dict[str, Beat]:
    """The yearly workload of each of the 32 units (their names as in demo_county.UNITS)."""
    from demo.county import UNITS

    field_actions = SIX + CAMPAIGNS
    beats: dict[str, Beat] = {}
    for spec in UNITS:
        unit = spec.unit
        if unit in STATION_PLACES and unit != "黄河专班":
            beats[unit] = Beat(110, 50, 0.35, 22, STATION_PLACES[unit], field_actions)
        elif unit == "黄河专班":
            beats[unit] = Beat(40, 60, 0.25, 14, STATION_PLACES[unit], SIX)
        elif unit == "治安巡逻大队":
            beats[unit] = Beat(20, 150, 0.7, 16, COUNTY_PLACES, SIX)
        elif unit == "巡特警大队":
            beats[unit] = Beat(20, 100, 0.5, 14, COUNTY_PLACES, SIX)
        elif unit == "交通警察大队":
            beats[unit] = Beat(30, 60, 0.2, 16, COUNTY_PLACES, (*SIX, *CAMPAIGNS))
        elif unit == "反电信网络诈骗中心":
            beats[unit] = Beat(60, 0, 0.0, 18, COUNTY_PLACES, DESK_ACTIONS)
        elif unit == "网络安全保卫大队":
            beats[unit] = Beat(24, 6, 0.3, 12, COUNTY_PLACES, (*DESK_ACTIONS, *CAMPAIGNS))
        else:
            beats[unit] = Beat(24, 6, 0.3, 12, COUNTY_PLACES, DESK_ACTIONS)
    return beats


# --- what happened on a visit, by category -------------------------------------------------

VISIT_STORIES: dict[VisitCategory, tuple[tuple[str, str], ...]] = {
    VisitCategory.HOUSEHOLD: (
        ("了解家庭人口和生产生活情况", "登记联系方式,发放警民联系卡"),
        ("群众反映夜间路灯不亮", "联系村委会报修,三日内修复"),
        ("询问身份证补办流程", "讲解户政窗口办理流程,预约上门服务"),
    ),
    VisitCategory.DISPUTE_MEDIATION: (
        ("邻里宅基地边界纠纷", "现场勘测说明政策,双方签订调解协议"),
        ("赡养老人费用分摊纠纷", "联合村调委会调解,子女按月分摊"),
        ("土地承包地界争议", "召集双方及村干部现场调解,重新立界"),
        ("饲养犬只扰民引发争执", "劝导拴养犬只,双方握手言和"),
    ),
    VisitCategory.FRAUD_PREVENTION: (
        ("老人接到冒充客服退款电话", "讲解常见电诈手法,帮助安装国家反诈中心App"),
        ("村民询问网络刷单兼职是否可信", "识破刷单诈骗,提醒不转账不透露验证码"),
        ("群众收到冒充公检法短信", "核实为诈骗短信,拦截成功,未造成损失"),
    ),
    VisitCategory.SAFETY_CHECK: (
        ("院内电动车私拉电线充电", "当场拆除飞线,发放消防安全提示"),
        ("柴草堆放靠近房屋", "督促清理,消除火灾隐患"),
        ("冬季燃煤取暖未装烟道", "指导安装烟道和一氧化碳报警器"),
    ),
    VisitCategory.HELP_REQUEST: (
        ("走失老人家属求助", "调取监控沿路寻找,两小时后安全寻回"),
        ("农用三轮车被盗求助", "立案侦查,车辆追回发还"),
        ("独居老人家中漏水求助", "联系网格员和维修人员上门处理"),
    ),
    VisitCategory.ELDERLY_CARE: (
        ("独居老人生活困难", "联系村委会落实帮扶,每月上门探望"),
        ("留守儿童放学无人看护", "协调学校和村妇联,纳入课后托管"),
        ("孤寡老人药品短缺", "代购常用药品,开通警医绿色通道联系"),
    ),
    VisitCategory.SCHOOL_SAFETY: (
        ("校门口上下学交通拥堵", "联合交警设置护学岗,错峰放学"),
        ("学校周边有流动摊贩聚集", "会同市场监管清理,规范经营"),
        ("家长反映学生沉迷网络游戏", "进校开展网络安全和防沉迷讲座"),
    ),
}
CATEGORY_WEIGHTS = {
    VisitCategory.HOUSEHOLD: 30,
    VisitCategory.DISPUTE_MEDIATION: 14,
    VisitCategory.FRAUD_PREVENTION: 20,
    VisitCategory.SAFETY_CHECK: 12,
    VisitCategory.HELP_REQUEST: 9,
    VisitCategory.ELDERLY_CARE: 10,
    VisitCategory.SCHOOL_SAFETY: 5,
}
PATROL_NOTES = (
    "巡查重点部位{n}处,未见异常",
    "劝离深夜聚集人员一处,提醒商户关好门窗",
    "发现一处监控损坏,已通知维修",
    "查验可疑车辆{n}辆,均无问题",
    "提醒夜市摊主注意防火防盗",
    None,
)
PATROL_AREAS = ("驻地主街", "商业街区", "农贸市场周边", "学校周边", "黄河沿岸", "工业园区")

# Who solves difficulties: relative chances that a difficulty was solved at an action of a type.
DIFFICULTY_WEIGHTS = {
    ServiceActionType.VISIT: 3.0,
    ServiceActionType.FORUM: 3.0,
    ServiceActionType.NIGHT_PATROL: 1.2,
    ServiceActionType.SECURITY_EXPERIENCE: 0.5,
    ServiceActionType.LOUDSPEAKER: 0.2,
    ServiceActionType.LED_SCREEN: 0.0,
    ServiceActionType.CAMPAIGN_HULEI: 1.0,
    ServiceActionType.CAMPAIGN_XINGKONG: 1.0,
}
AUDIENCE = {
    ServiceActionType.VISIT: (15, 80),
    ServiceActionType.LED_SCREEN: (200, 1500),
    ServiceActionType.FORUM: (30, 120),
    ServiceActionType.LOUDSPEAKER: (300, 2000),
    ServiceActionType.NIGHT_PATROL: (10, 60),
    ServiceActionType.SECURITY_EXPERIENCE: (40, 200),
    ServiceActionType.CAMPAIGN_HULEI: (80, 400),
    ServiceActionType.CAMPAIGN_XINGKONG: (100, 600),
}


FIELD_COLLECTIONS = (VISIT, PATROL, SERVICE_ACTION)


@dataclass
class FieldYear:
    """The year's documents per collection, in merge form (wire names, lists decoded)."""

    visits: list[dict[str, JSON]] = field(default_factory=list)
    patrols: list[dict[str, JSON]] = field(default_factory=list)
    service_actions: list[dict[str, JSON]] = field(default_factory=list)

    def by_collection(self) -> list[tuple[Collection, list[dict[str, JSON]]]]:
        return list(
            zip(FIELD_COLLECTIONS, (self.visits, self.patrols, self.service_actions), strict=True)
        )


def build_field_year(county: County, when: Timeline) -> FieldYear:
    """The recent demo year of field records for `county`, computed in memory."""
    return _YearBuilder(county, THIS_YEAR, when).build()


def build_field_years(county: County, when: Timeline) -> list[FieldYear]:
    """Every demo year of field records (FIELD_YEARS, oldest first), computed in memory.

    A unit patrols around the same centre every year: the earlier year takes the centres the
    recent one drew, so the recent year stays drawn exactly as it is on its own.
    """
    this_year = _YearBuilder(county, THIS_YEAR, when)
    built = {True: this_year.build()}
    for shape in FIELD_YEARS:
        if not shape.recent:
            built[False] = _YearBuilder(county, shape, when, this_year.centres).build()
    return [built[shape.recent] for shape in FIELD_YEARS]


def happened_at(document: dict[str, JSON]) -> str:
    """The moment a document records (ISO text with +08:00), whichever collection it is in."""
    for name in ("visitedAt", "startedAt", "happenedAt"):
        value = document.get(name)
        if isinstance(value, str):
            return value
    raise KeyError("document has no time")


def record_rows(
    collection: Collection, documents: list[dict[str, JSON]], stamps: list[int]
) -> list[dict[str, Any]]:
    """Table rows of `documents` with their stamps, through the sync layer's own column form."""
    rows: list[dict[str, Any]] = []
    for document, stamp in zip(documents, stamps, strict=True):
        row = collection.to_columns(document)
        row["updated_at"] = stamp
        row["created_at"] = datetime.fromisoformat(happened_at(document)).astimezone(UTC)
        row["updated_by"] = None
        row["updated_device"] = None
        rows.append(row)
    return rows


class _YearBuilder:
    def __init__(
        self,
        county: County,
        shape: YearShape,
        when: Timeline,
        centres: dict[str, tuple[float, float]] | None = None,
    ) -> None:
        self.county = county
        self.shape = shape
        self.when = when
        self.first_day, self.day_count = when.days(when.recent if shape.recent else when.earlier)
        self.rng = random.Random(shape.random_seed)
        self.year = FieldYear()
        self.volunteer_names: list[str] = []
        # Each unit's patrol centre: drawn here unless given (then no draw is made for it).
        self.given_centres = centres
        self.centres: dict[str, tuple[float, float]] = {}

    def build(self) -> FieldYear:
        beats = _beats()
        for unit, beat in beats.items():
            people = [
                m
                for m in self.county.unit_members[unit]
                if m["service_status"] is ServiceStatus.ACTIVE
            ]
            if self.given_centres is not None:
                centre = self.given_centres[unit]
            else:
                centre = (
                    COUNTY_LAT + self.rng.uniform(-0.12, 0.12),
                    COUNTY_LNG + self.rng.uniform(-0.15, 0.15),
                )
            self.centres[unit] = centre
            # round(n * 1.0) == n: a full year draws exactly as many records as its beat says.
            volume = self.shape.volume
            for _ in range(round(beat.visits * volume)):
                self.year.visits.append(self._visit(people, beat))
            for _ in range(round(beat.patrols * volume)):
                self.year.patrols.append(self._patrol(people, beat, centre))
            actions = round(beat.actions * volume)
            for month in range(actions):
                self.year.service_actions.append(self._action(people, beat, month, actions))
        self._delete_duplicates()
        self._share_out_outcomes()
        for documents in (self.year.visits, self.year.patrols, self.year.service_actions):
            documents.sort(key=lambda d: (happened_at(d), str(d["id"])))
        return self.year

    # --- helpers ----------------------------------------------------------------------------

    def _id(self) -> str:
        # Phones make UUIDv4 ids; drawn from the seeded generator so builds repeat exactly.
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _moment(self, day: date, earliest: int, latest: int) -> datetime:
        minute = self.rng.randrange(earliest * 60, latest * 60)
        return datetime(day.year, day.month, day.day, tzinfo=CHINA) + timedelta(minutes=minute)

    def _on(self, offset: int) -> date:
        """The day `offset` of a 365-day year, placed in the window's days: the generator draws
        the same numbers whatever day the seed runs on (so the same counts of each kind)."""
        return self.first_day + timedelta(days=offset * self.day_count // YEAR_DAYS)

    def _day(self) -> date:
        return self._on(self.rng.randrange(YEAR_DAYS))

    def _owner(self, people: list[dict[str, Any]]) -> dict[str, JSON]:
        officer = self.rng.choice(people)
        return {
            "branchId": global_id("Branch", officer["branch_id"]),
            "officerId": global_id("Member", officer["id"]),
        }

    # --- the three collections --------------------------------------------------------------

    def _visit(self, people: list[dict[str, Any]], beat: Beat) -> dict[str, JSON]:
        rng = self.rng
        category = rng.choices(list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values()))[0]
        concerns, resolution = rng.choice(VISIT_STORIES[category])
        when = self._moment(self._day(), 8, 18)
        # Most are settled on the spot; the last months' open cases are still being worked on.
        roll = rng.random()
        status = VisitStatus.RESOLVED
        open_for = self.shape.open_for_days
        if roll < 0.06:
            status = VisitStatus.ESCALATED
        elif (
            roll < 0.14
            and open_for is not None
            and (self.when.today - when.date()).days <= open_for
        ):
            status = VisitStatus.OPEN
        village = rng.choice(beat.places)
        return {
            "id": self._id(),
            **self._owner(people),
            "village": village,
            "household": f"{rng.randint(1, 9)}组{rng.randint(1, 60)}号",
            "category": category.value,
            "concerns": concerns,
            "resolution": resolution if status is VisitStatus.RESOLVED else None,
            "status": status.value,
            "peopleReached": rng.randint(1, 6)
            if category is not VisitCategory.SCHOOL_SAFETY
            else rng.randint(20, 120),
            "visitedAt": when.isoformat(),
            "deleted": False,
        }

    def _patrol(
        self, people: list[dict[str, Any]], beat: Beat, centre: tuple[float, float]
    ) -> dict[str, JSON]:
        rng = self.rng
        night = rng.random() < beat.night_share
        kind = PatrolKind.NIGHT if night else PatrolKind.DAY
        day = self._day()
        start = self._moment(day, 20, 23) if night else self._moment(day, 8, 16)
        end = start + timedelta(minutes=rng.randint(90, 240))
        owner = self._owner(people)
        crew = rng.sample(people, min(len(people), rng.randint(1, 3)))
        participants = list(
            dict.fromkeys([owner["officerId"], *(global_id("Member", m["id"]) for m in crew)])
        )
        lat, lng = centre[0] + rng.uniform(-0.02, 0.02), centre[1] + rng.uniform(-0.02, 0.02)
        points = rng.randint(3, 6)
        track: list[JSON] = []
        for i in range(points):
            at = start + (end - start) * i / (points - 1)
            lat += rng.uniform(-0.004, 0.004)
            lng += rng.uniform(-0.004, 0.004)
            track.append({"t": at.isoformat(), "lat": round(lat, 6), "lng": round(lng, 6)})
        note = rng.choice(PATROL_NOTES)
        area = rng.choice(beat.places) + rng.choice(PATROL_AREAS)
        return {
            "id": self._id(),
            **owner,
            "kind": kind.value,
            "area": area,
            "startedAt": start.isoformat(),
            "endedAt": end.isoformat(),
            "participants": participants,
            "track": track,
            "observations": note.format(n=rng.randint(3, 15)) if note else None,
            "deleted": False,
        }

    def _action(
        self, people: list[dict[str, Any]], beat: Beat, index: int, count: int
    ) -> dict[str, JSON]:
        rng = self.rng
        # Each type the unit uses comes round in turn; the rest of the year is drawn at random.
        if index < len(beat.action_types):
            kind = beat.action_types[index]
        else:
            kind = rng.choice(beat.action_types)
        # About monthly: the index-th of the year's `count` falls in its own stretch of the year.
        stretch = YEAR_DAYS // count
        day = self._on(index * stretch + rng.randrange(stretch))
        evening = kind in (ServiceActionType.NIGHT_PATROL, ServiceActionType.CAMPAIGN_XINGKONG)
        when = self._moment(day, 19, 22) if evening else self._moment(day, 9, 17)
        village = rng.choice(beat.places)
        school = rng.choice(SCHOOLS)
        title, place = {
            ServiceActionType.VISIT: (f"走访动起来·{village}入户走访", village),
            ServiceActionType.LED_SCREEN: ("LED屏幕亮起来·反诈防骗提示滚动播放", f"{village}LED屏"),
            ServiceActionType.FORUM: (
                f"警民恳谈会开起来·{village}恳谈会",
                f"{village}党群服务中心",
            ),
            ServiceActionType.LOUDSPEAKER: ("农村大喇叭喊起来·防诈防火广播", f"{village}广播站"),
            ServiceActionType.NIGHT_PATROL: (f"夜间巡逻转起来·{village}联防夜巡", village),
            ServiceActionType.SECURITY_EXPERIENCE: (
                "安防体验请进来·警营开放日",
                "县局党建文化阵地",
            ),
            ServiceActionType.CAMPAIGN_HULEI: (f"护蕾行动·{school}自护安全课", school),
            ServiceActionType.CAMPAIGN_XINGKONG: (f"星空护学·{school}晚自习放学护学岗", school),
        }[kind]
        owner = self._owner(people)
        crew = rng.sample(people, min(len(people), rng.randint(2, 5)))
        participants: list[JSON] = [
            {"memberId": m}
            for m in dict.fromkeys(
                [owner["officerId"], *(global_id("Member", p["id"]) for p in crew)]
            )
        ]
        for _ in range(rng.randint(1, 3)):
            role = rng.choice(
                (
                    VolunteerRole.OLD_PARTY_MEMBER,
                    VolunteerRole.GRID_LEADER,
                    VolunteerRole.PARTY_VOLUNTEER,
                )
            )
            participants.append({"name": self._volunteer(), "role": role.value})
        low, high = AUDIENCE[kind]
        return {
            "id": self._id(),
            **owner,
            "type": kind.value,
            "title": title,
            "place": place,
            "happenedAt": when.isoformat(),
            "participants": participants,
            "peopleReached": rng.randint(low, high),
            "difficultiesSolved": 0,
            "bannersReceived": 0,
            "notes": None,
            "deleted": False,
        }

    def _volunteer(self) -> str:
        # Volunteers come back: a village's 老党员 and 网格长 join again and again.
        if len(self.volunteer_names) >= 60 or (self.volunteer_names and self.rng.random() < 0.6):
            return self.rng.choice(self.volunteer_names)
        while True:
            name = self.rng.choice(SURNAMES) + self.rng.choice("建国秀英玉兰德山桂芳长海凤霞")
            if name not in RESERVED_NAMES and name not in self.volunteer_names:
                self.volunteer_names.append(name)
                return name

    # --- the year's totals --------------------------------------------------------------------

    def _share_out_outcomes(self) -> None:
        """Exactly the shape's difficulties solved and banners received for the year.

        Handed out one by one, so the totals are exact while their spread stays uneven: banners
        go where difficulties were solved, more where more were.
        """
        rng = self.rng
        actions = self.year.service_actions
        weights = [DIFFICULTY_WEIGHTS[ServiceActionType(str(a["type"]))] for a in actions]
        shape = self.shape
        solved = Counter(rng.choices(range(len(actions)), weights, k=shape.difficulties_solved))
        helped = sorted(solved)
        banners = Counter(
            rng.choices(helped, [solved[i] for i in helped], k=shape.banners_received)
        )
        for i, action in enumerate(actions):
            action["difficultiesSolved"] = solved[i]
            action["bannersReceived"] = banners[i]
            if banners[i]:
                action["notes"] = f"群众赠送锦旗{banners[i]}面"

    def _delete_duplicates(self) -> None:
        """A few visits were recorded twice on a phone; the officer deleted the copy."""
        for original in self.rng.sample(self.year.visits, self.shape.deleted_visits):
            copy = dict(original, id=self._id(), deleted=True)
            self.year.visits.append(copy)
