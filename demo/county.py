"""The demo county (`meijing seed --demo`), computed in memory from the article.

县局党委 → 机关党委 → 32 党支部 (three with 党小组), the task units the article names, 520 members
with their pipeline history, and the honours. Everything is drawn from one seeded random
generator, so two builds on the same day give the same county (only ids differ). Dates are
relative to the day of the build, so the pipeline and the reminders look current in any year.
demo/seed.py writes the rows.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from core.ids import new_id
from models import (
    BranchKind,
    HonourLevel,
    PartyStatus,
    PersonnelType,
    Post,
    ServiceStatus,
)
from resolvers.branch import branch_path
from resolvers.member import ID_CHECK, ID_WEIGHTS, years_after

RANDOM_SEED = 2022  # the year the bureau started building the brand
DEMO_MEMBERS = 520
PINGYIN_COUNTY_CODE = "370124"

ROOT_NAME = "平阴县公安局党委"
ORGAN_NAME = "平阴县公安局机关党委"
BUREAU = "平阴县公安局"
MEIGUI = "玫瑰派出所"


@dataclass(frozen=True, slots=True)
class UnitSpec:
    """One 党支部: the unit it serves, its brand, and how many members it has."""

    unit: str
    brand: str
    slogan: str
    size: int
    groups: tuple[str, ...] = ()


# The 32 branches, in the bureau's own order. Brands named in the article are used as given.
UNITS: tuple[UnitSpec, ...] = (
    UnitSpec("玫瑰派出所", "玫瑰红·枫桥情", "矛盾不上交、平安不出事、服务不缺位", 26),
    UnitSpec("榆山派出所", "榆山卫士", "守护城区万家灯火", 32),
    UnitSpec("榆山第二派出所", "红心向党 人民满意", "争创全市标杆 做群众贴心人", 26),
    UnitSpec("锦水派出所", "锦水先锋", "锦绣家园 平安锦水", 26),
    UnitSpec("东阿派出所", "阿胶故里 警心为民", "守护古镇 服务乡亲", 20),
    UnitSpec("孝直派出所", "孝润警心", "以孝立警 以诚为民", 18),
    UnitSpec("孔村派出所", "孔村红哨", "红哨站岗 平安到户", 17),
    UnitSpec("洪范池派出所", "泉城警韵", "护一池清泉 保一方平安", 15),
    UnitSpec("安城派出所", "安城守望", "守望相助 安居乐业", 16),
    UnitSpec("店子派出所", "店子先锋岗", "党员带头 村村平安", 18),
    UnitSpec("黄河专班", "党魂铸盾 锐鹰护航", "警徽耀黄河 守护黄河入济第一站", 10),
    UnitSpec(
        "刑事侦查大队",
        "利剑尖兵",
        "命案必破 小案快侦",
        31,
        ("侦查一中队党小组", "侦查二中队党小组", "刑事技术中队党小组"),
    ),
    UnitSpec("治安管理大队", "治安红盾", "防风险 保安全 护稳定", 18),
    UnitSpec(
        "交通警察大队",
        "畅安先锋",
        "一路畅通 一路平安",
        32,
        ("城区中队党小组", "事故处理中队党小组"),
    ),
    UnitSpec(
        "巡特警大队",
        "猎鹰突击",
        "召之即来 来之能战 战之必胜",
        26,
        ("特警一中队党小组", "特警二中队党小组"),
    ),
    UnitSpec("指挥中心", "红色枢纽", "一键通达 快速响应", 14),
    UnitSpec("法制大队", "法治护航", "让每一起案件都经得起检验", 9),
    UnitSpec("经济犯罪侦查大队", "经侦铁军", "守护群众钱袋子", 11),
    UnitSpec("食品药品与环境犯罪侦查大队", "舌尖卫士", "守护餐桌安全 守护绿水青山", 10),
    UnitSpec("禁毒大队", "禁毒利剑", "无毒平阴 你我共建", 9),
    UnitSpec("网络安全保卫大队", "网安先锋", "清朗网络 护航数字平阴", 11),
    UnitSpec("出入境管理大队", "国门窗口", "便民利企 服务零距离", 8),
    UnitSpec("看守所", "铁壁红心", "严格监管 文明管理", 14),
    UnitSpec("警务保障室", "后勤先锋", "保障有力 服务到位", 10),
    UnitSpec("政工室", "铸魂育警", "政治建警 从严治警", 12),
    UnitSpec("督察大队", "清风督察", "从严管党治警 护航执法公正", 8),
    UnitSpec("户政管理大队", "户政暖心", "一次办好 温暖人心", 9),
    UnitSpec("情报大队", "智慧情报", "数据赋能 精准导侦", 10),
    UnitSpec("治安巡逻大队", "夜巡守护", "夜间巡逻转起来 万家灯火安起来", 23),
    UnitSpec("拘留所", "春风化雨", "依法监管 教育挽救", 9),
    UnitSpec("县局办公室", "中枢引擎", "参谋有力 运转高效", 10),
    UnitSpec("反电信网络诈骗中心", "反诈尖兵", "全民反诈 守护平安", 12),
)


@dataclass(frozen=True, slots=True)
class TaskUnitSpec:
    name: str
    kind: BranchKind
    parent: str | None  # a unit of UNITS, None for the organ committee
    started_days_ago: int
    # (unit, how many) drawn from; the first person drawn leads the unit.
    draws: tuple[tuple[str, int], ...]
    roles: tuple[str, str, str] = ("队长", "副队长", "队员")
    ended_days_ago: int | None = None


TASK_UNITS: tuple[TaskUnitSpec, ...] = (
    TaskUnitSpec(
        "侵财案件破案尖刀队",
        BranchKind.TASK_FORCE,
        None,
        900,
        (("刑事侦查大队", 4), ("玫瑰派出所", 2), ("榆山派出所", 2), ("情报大队", 2)),
    ),
    TaskUnitSpec(
        "电信网络诈骗案件破案尖刀队",
        BranchKind.TASK_FORCE,
        None,
        620,
        (
            ("反电信网络诈骗中心", 4),
            ("网络安全保卫大队", 2),
            ("刑事侦查大队", 2),
            ("经济犯罪侦查大队", 2),
        ),
    ),
    TaskUnitSpec(
        "黄河防汛党员突击队",
        BranchKind.COMMANDO_TEAM,
        None,
        480,
        (("黄河专班", 4), ("巡特警大队", 4), ("治安巡逻大队", 2), ("洪范池派出所", 2)),
    ),
    TaskUnitSpec(
        "百日攻坚行动临时党小组",
        BranchKind.TEMPORARY_GROUP,
        None,
        150,
        (("治安管理大队", 3), ("治安巡逻大队", 3), ("指挥中心", 1), ("榆山第二派出所", 2)),
        ("组长", "副组长", "组员"),
        ended_days_ago=50,
    ),
    TaskUnitSpec(
        "民生小案攻坚小组",
        BranchKind.TASK_FORCE,
        MEIGUI,
        300,
        (("玫瑰派出所", 5), ("刑事侦查大队", 2), ("情报大队", 1), ("反电信网络诈骗中心", 1)),
        ("组长", "副组长", "组员"),
    ),
)

HONOURS: tuple[tuple[str, str, HonourLevel, date], ...] = (
    (MEIGUI, '全省"枫桥式公安派出所"', HonourLevel.PROVINCE, date(2023, 12, 1)),
    ("榆山第二派出所", "全市标杆派出所", HonourLevel.CITY, date(2024, 1, 1)),
    ("刑事侦查大队", "全县先进基层党组织", HonourLevel.COUNTY, date(2024, 7, 1)),
    ("交通警察大队", "全县先进基层党组织", HonourLevel.COUNTY, date(2024, 7, 1)),
    ("反电信网络诈骗中心", "全市反诈工作先进集体", HonourLevel.CITY, date(2024, 12, 1)),
)

# Posts of a branch committee beside the secretary, in the order bigger committees add them.
COMMITTEE_POSTS = (
    Post.ORGANISATION,
    Post.PUBLICITY,
    Post.DISCIPLINE,
    Post.DEPUTY_SECRETARY,
    Post.YOUTH,
)

SURNAMES = (
    "王王王张张张李李李刘刘陈杨杨赵孙孙马于于徐高高朱郭巩田孟宋韩任胡吕魏郑董崔侯姜尹谭"
    "肖袁冯孔牛程曹许石贾范苏邢岳武潘宁毕亓翟庞葛司薛聂贺"
)
MALE_CHARS = "伟磊强军勇涛斌超鹏杰浩明刚峰波辉亮鑫宇帅凯健龙晨昊阳俊博东海林雷飞成文志建国华永庆振兴立新平德运传广金"
FEMALE_CHARS = "静丽娜敏燕芳婷雪慧琳洁颖晶萍红霞倩悦琪蕾璐佳欣楠玉秀梅兰艳丹莉"
# Real people quoted in the article; the demo must not put invented personal data on them.
RESERVED_NAMES = frozenset({"朱磊", "巩伟"})
OTHER_COUNTY_CODES = ("370112", "370181", "371521", "370982", "371502")
MOBILE_PREFIXES: tuple[str, ...] = (
    *("134", "135", "136", "137", "138", "139", "150", "151", "152", "155", "157", "158"),
    *("159", "176", "177", "178", "180", "181", "182", "183", "185", "186", "187", "188"),
    *("189", "199"),
)

# Shares of members not on a branch committee, by pipeline status.
STATUS_WEIGHTS = {
    PartyStatus.FULL: 82,
    PartyStatus.PROBATIONARY: 5,
    PartyStatus.CANDIDATE: 3,
    PartyStatus.ACTIVIST: 5,
    PartyStatus.APPLICANT: 5,
}
STEP_REASONS = {
    PartyStatus.APPLICANT: "递交入党申请书",
    PartyStatus.ACTIVIST: "确定为入党积极分子",
    PartyStatus.CANDIDATE: "列为发展对象",
    PartyStatus.PROBATIONARY: "支部大会接收为预备党员",
    PartyStatus.FULL: "预备期满,按期转为正式党员",
}
FAST_TRACK_REASON = "火线发展:在专项攻坚任务中冲锋在前、表现突出"
RETIRED_COUNT = 26  # 5% of 520
FAST_TRACK_COUNT = 2
OVERDUE_PROBATION_COUNT = 2


@dataclass
class County:
    """The rows of the demo county, as dictionaries ready for bulk inserts."""

    branches: list[dict[str, Any]] = field(default_factory=list)
    honours: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    status_changes: list[dict[str, Any]] = field(default_factory=list)
    memberships: list[dict[str, Any]] = field(default_factory=list)
    unit_ids: dict[str, uuid.UUID] = field(default_factory=dict)
    # Members per unit (home branch or one of its 党小组), committee first.
    unit_members: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    meigui_secretary_id: uuid.UUID | None = None
    meigui_officer_id: uuid.UUID | None = None


def build_county(now: datetime) -> County:
    """The whole demo county, computed in memory. Dates are relative to `now`'s day."""
    return _CountyBuilder(now).build()


class _CountyBuilder:
    def __init__(self, now: datetime) -> None:
        self.now = now
        self.today = now.date()
        self.rng = random.Random(RANDOM_SEED)
        self.county = County()
        self.names: set[str] = set(RESERVED_NAMES)
        self.police_numbers: set[str] = set()
        self.id_numbers: set[str] = set()
        self.phones: set[str] = set()
        self.exceptions: Counter[str] = Counter()

    def build(self) -> County:
        root = self._branch(None, BranchKind.COMMITTEE, ROOT_NAME, 0, unit=BUREAU)
        root.update(
            brand_name="玫警初心 智慧党建", brand_slogan="党建带队建、队建促工作、工作凝警心"
        )
        organ = self._branch(root, BranchKind.ORGAN_COMMITTEE, ORGAN_NAME, 1, unit=BUREAU)
        plan = self._plan()
        for order, spec in enumerate(UNITS, start=1):
            branch = self._branch(organ, BranchKind.BRANCH, f"{spec.unit}党支部", order, spec.unit)
            branch.update(brand_name=spec.brand, brand_slogan=spec.slogan)
            self.county.unit_ids[spec.unit] = branch["id"]
            groups = [
                self._branch(branch, BranchKind.GROUP, name, i)["id"]
                for i, name in enumerate(spec.groups, start=1)
            ]
            self._members(spec, branch["id"], groups, plan[spec.unit])
        for task in TASK_UNITS:
            self._task_unit(organ, task)
        for unit, title, level, awarded_on in HONOURS:
            self.county.honours.append(
                {
                    "id": new_id(),
                    "branch_id": self.county.unit_ids[unit],
                    "title": title,
                    "level": level,
                    "awarded_on": awarded_on,
                    "created_at": self.now,
                }
            )
        meigui = self.county.unit_members[MEIGUI]
        self.county.meigui_secretary_id = meigui[0]["id"]
        self.county.meigui_officer_id = next(
            m["id"]
            for m in meigui
            if m["post"] is Post.MEMBER
            and m["personnel_type"] is PersonnelType.POLICE
            and m["party_status"] is PartyStatus.FULL
            and m["service_status"] is ServiceStatus.ACTIVE
        )
        return self.county

    # --- organisation -------------------------------------------------------------------

    def _branch(
        self,
        parent: dict[str, Any] | None,
        kind: BranchKind,
        name: str,
        sort_order: int,
        unit: str | None = None,
    ) -> dict[str, Any]:
        branch_id = new_id()
        row: dict[str, Any] = {
            "id": branch_id,
            "parent_id": parent["id"] if parent else None,
            "path": branch_path(parent["path"] if parent else None, branch_id),
            "depth": parent["depth"] + 1 if parent else 0,
            "kind": kind,
            "name": name,
            "unit_name": unit,
            "brand_name": None,
            "brand_slogan": None,
            "sort_order": sort_order,
            "starts_on": None,
            "ends_on": None,
            "created_at": self.now,
            "updated_at": self.now,
        }
        self.county.branches.append(row)
        return row

    def _task_unit(self, organ: dict[str, Any], spec: TaskUnitSpec) -> None:
        parent_id = self.county.unit_ids[spec.parent] if spec.parent else organ["id"]
        parent = next(b for b in self.county.branches if b["id"] == parent_id)
        # After the parent's branches and groups.
        order = 1 + sum(1 for b in self.county.branches if b["parent_id"] == parent_id)
        unit = self._branch(parent, spec.kind, spec.name, order)
        starts_on = self.today - timedelta(days=spec.started_days_ago)
        unit["starts_on"] = starts_on
        if spec.ended_days_ago is not None:
            unit["ends_on"] = self.today - timedelta(days=spec.ended_days_ago)
        drawn: list[dict[str, Any]] = []
        for source, how_many in spec.draws:
            taken = {m["id"] for m in drawn}
            pool = [
                m
                for m in self.county.unit_members[source]
                if m["service_status"] is ServiceStatus.ACTIVE
                and m["party_status"] in (PartyStatus.FULL, PartyStatus.PROBATIONARY)
                and m["id"] not in taken
            ]
            # The home unit's secretary leads a unit opened inside that branch.
            lead = [pool.pop(0)] if spec.parent == source and not drawn else []
            drawn += lead + self.rng.sample(pool, how_many - len(lead))
        leader, deputy, member = spec.roles
        for i, person in enumerate(drawn):
            self.county.memberships.append(
                {
                    "id": new_id(),
                    "task_unit_id": unit["id"],
                    "member_id": person["id"],
                    "role": leader if i == 0 else deputy if i == 1 else member,
                    "joined_on": max(starts_on, person["party_status_since"]),
                    "created_at": self.now,
                }
            )

    # --- members ------------------------------------------------------------------------

    def _plan(self) -> dict[str, list[tuple[PartyStatus, bool]]]:
        """Who is retired and where each pipeline status falls, over non-committee places."""
        places = [
            (spec.unit, i) for spec in UNITS for i in range(spec.size - _committee_size(spec))
        ]
        retired = set(self.rng.sample(range(len(places)), RETIRED_COUNT))
        statuses = list(STATUS_WEIGHTS)
        weights = list(STATUS_WEIGHTS.values())
        plan: dict[str, list[tuple[PartyStatus, bool]]] = {spec.unit: [] for spec in UNITS}
        for index, (unit, _) in enumerate(places):
            if index in retired:
                plan[unit].append((PartyStatus.FULL, True))
            else:
                plan[unit].append((self.rng.choices(statuses, weights)[0], False))
        return plan

    def _members(
        self,
        spec: UnitSpec,
        branch_id: uuid.UUID,
        groups: list[uuid.UUID],
        plan: list[tuple[PartyStatus, bool]],
    ) -> None:
        people: list[dict[str, Any]] = []
        posts = (Post.SECRETARY, *COMMITTEE_POSTS[: _committee_size(spec) - 1])
        # The branch committee sits in the branch itself; everyone else in a 党小组 if it has any.
        for post in posts:
            people.append(
                self._person(branch_id, post, PersonnelType.POLICE, PartyStatus.FULL, False, 32, 56)
            )
        for i, (status, retired) in enumerate(plan):
            home = groups[i % len(groups)] if groups else branch_id
            if retired:
                people.append(self._person(home, Post.MEMBER, PersonnelType.POLICE, status, True))
                continue
            kind = PersonnelType.POLICE if self.rng.random() < 0.58 else PersonnelType.AUXILIARY
            young = status is not PartyStatus.FULL
            low, high = (22, 35) if young else (26, 58 if kind is PersonnelType.POLICE else 48)
            people.append(self._person(home, Post.MEMBER, kind, status, False, low, high))
        self.county.unit_members[spec.unit] = people

    def _person(
        self,
        branch_id: uuid.UUID,
        post: Post,
        kind: PersonnelType,
        status: PartyStatus,
        retired: bool,
        min_age: int = 26,
        max_age: int = 58,
    ) -> dict[str, Any]:
        rng = self.rng
        male = rng.random() < (0.82 if kind is PersonnelType.POLICE else 0.7)
        retired_on: date | None = None
        if retired:
            birthday = self._birthday(60, 65)
            retired_on = years_after(birthday, 60)
        else:
            birthday = self._birthday(min_age, max_age)
        history = self._history(status, birthday)
        member_id = new_id()
        for step in history:
            step["member_id"] = member_id
        self.county.status_changes += history
        joined = next(
            (s["effective_on"] for s in history if s["to_status"] is PartyStatus.PROBATIONARY), None
        )
        row: dict[str, Any] = {
            "id": member_id,
            "branch_id": branch_id,
            "name": self._name(male),
            "personnel_type": kind,
            "party_status": status,
            "party_status_since": history[-1]["effective_on"],
            "post": post,
            "police_number": self._police_number(kind),
            "birthday": birthday,
            "joined_party_on": joined,
            "phone": self._phone(),
            "id_number": self._id_number(birthday, male),
            "service_status": ServiceStatus.RETIRED if retired else ServiceStatus.ACTIVE,
            "retired_on": retired_on,
            "created_at": self.now,
            "updated_at": self.now,
        }
        self.county.members.append(row)
        return row

    def _birthday(self, min_age: int, max_age: int) -> date:
        # Ages in whole years on `today`; a birthday at least 30 days past keeps the bounds exact.
        latest = years_after(self.today, -min_age) - timedelta(days=30)
        earliest = years_after(self.today, -max_age - 1) + timedelta(days=1)
        return earliest + timedelta(days=self.rng.randrange((latest - earliest).days))

    def _days_ago(self, low: int, high: int) -> date:
        return self.today - timedelta(days=self.rng.randint(low, high))

    def _history(self, status: PartyStatus, birthday: date) -> list[dict[str, Any]]:
        """The pipeline from application to `status`, with dates that respect the rules.

        An activist is cultivated a year before becoming a candidate and probation lasts a year,
        except a few recorded fast-track (火线发展) steps. Everyone applied at 18 or older.
        """
        rng = self.rng
        dates: dict[PartyStatus, date] = {}
        fast_track = False
        if status is PartyStatus.FULL:
            earliest = years_after(birthday, 21)
            latest = self.today - timedelta(days=400)
            joined = earliest + timedelta(days=rng.randrange(max(1, (latest - earliest).days)))
            dates[PartyStatus.PROBATIONARY] = joined
            dates[PartyStatus.FULL] = years_after(joined, 1) + timedelta(days=rng.randint(0, 20))
        elif status is PartyStatus.PROBATIONARY:
            overdue = self._take("overdue", OVERDUE_PROBATION_COUNT)
            dates[status] = self._days_ago(370, 420) if overdue else self._days_ago(20, 340)
        elif status is PartyStatus.CANDIDATE:
            dates[status] = self._days_ago(15, 250)
        elif status is PartyStatus.ACTIVIST:
            dates[status] = self._days_ago(10, 700)
        else:
            dates[status] = self._days_ago(10, 400)
        if PartyStatus.PROBATIONARY in dates:
            dates[PartyStatus.CANDIDATE] = dates[PartyStatus.PROBATIONARY] - timedelta(
                days=rng.randint(60, 180)
            )
        if PartyStatus.CANDIDATE in dates:
            fast_track = status is PartyStatus.PROBATIONARY and self._take(
                "fast_track", FAST_TRACK_COUNT
            )
            cultivation = rng.randint(120, 300) if fast_track else rng.randint(366, 520)
            dates[PartyStatus.ACTIVIST] = dates[PartyStatus.CANDIDATE] - timedelta(days=cultivation)
        if PartyStatus.ACTIVIST in dates:
            dates[PartyStatus.APPLICANT] = dates[PartyStatus.ACTIVIST] - timedelta(
                days=rng.randint(60, 300)
            )
        rows: list[dict[str, Any]] = []
        previous: PartyStatus | None = None
        for step in PartyStatus:
            if step not in dates:
                break
            early = fast_track and step is PartyStatus.CANDIDATE
            rows.append(
                {
                    "id": new_id(),
                    "from_status": previous,
                    "to_status": step,
                    "effective_on": dates[step],
                    "fast_track": early,
                    "reason": FAST_TRACK_REASON if early else STEP_REASONS[step],
                    "by_account_id": None,
                    "recorded_at": self.now,
                }
            )
            previous = step
        return rows

    def _take(self, exception: str, limit: int) -> bool:
        """The first `limit` eligible people get the exception: deterministic and bounded."""
        if self.exceptions[exception] >= limit:
            return False
        self.exceptions[exception] += 1
        return True

    # --- personal details ---------------------------------------------------------------

    def _name(self, male: bool) -> str:
        rng = self.rng
        chars = MALE_CHARS if male else FEMALE_CHARS
        while True:
            given = "".join(rng.choice(chars) for _ in range(rng.choice((1, 2, 2))))
            name = rng.choice(SURNAMES) + given
            if name not in self.names:
                self.names.add(name)
                return name

    def _police_number(self, kind: PersonnelType) -> str:
        while True:
            if kind is PersonnelType.POLICE:
                number = str(self.rng.randint(100000, 999999))
            else:
                number = f"F{self.rng.randint(10000, 99999)}"
            if number not in self.police_numbers:
                self.police_numbers.add(number)
                return number

    def _phone(self) -> str:
        while True:
            phone = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if phone not in self.phones:
                self.phones.add(phone)
                return phone

    def _id_number(self, birthday: date, male: bool) -> str:
        rng = self.rng
        while True:
            area = PINGYIN_COUNTY_CODE if rng.random() < 0.85 else rng.choice(OTHER_COUNTY_CODES)
            # The sequence number's last digit is odd for men, even for women.
            number = id_number(area, birthday, rng.randrange(500) * 2 + (1 if male else 0))
            if number not in self.id_numbers:
                self.id_numbers.add(number)
                return number


def _committee_size(spec: UnitSpec) -> int:
    """Secretary plus 委员: bigger branches elect bigger committees."""
    if spec.size >= 25:
        return 6
    if spec.size >= 20:
        return 5
    if spec.size >= 12:
        return 4
    return 3


def id_number(area: str, birthday: date, sequence: int) -> str:
    """A resident ID number (GB 11643): area, birthday, sequence (odd for men), check character."""
    body = f"{area}{birthday:%Y%m%d}{sequence:03d}"
    total = sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True))
    return body + ID_CHECK[total % 11]
