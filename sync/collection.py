"""The synced collections: their wire fields, how rows become documents, and row validation.

A document has three forms. The *wire* form is what GraphQL carries: list fields are JSON text,
because the contract keeps client-writable fields plain scalars. The *merge* form decodes those
lists, so participants merge as sets and tracks by point time. The *row* form is the table's
columns: ids as UUIDs, instants parsed, lists as canonical JSON text.
"""

from __future__ import annotations

import enum
import math
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, ClassVar, Literal

import orjson

from access.errors import ErrorCode, Problem
from core.global_id import global_id, global_id_uuid_or_none
from models import (
    DirectiveLevel,
    DirectivePriority,
    DirectiveProgress,
    DirectiveReceipt,
    DirectiveRecipient,
    Patrol,
    PatrolKind,
    RecipientStatus,
    Reminder,
    ReminderKind,
    ReminderResolution,
    ReminderStatus,
    ServiceAction,
    ServiceActionType,
    SyncedDocument,
    Visit,
    VisitCategory,
    VisitStatus,
    VolunteerRole,
)
from models.sync import (
    DIRECTIVE_KEY,
    DIRECTIVE_PROGRESS_KEY,
    DIRECTIVE_RECEIPT_KEY,
    DOCUMENT_ID_LENGTH,
    PATROL_KEY,
    REMINDER_KEY,
    SERVICE_ACTION_KEY,
    VISIT_KEY,
)
from sync.merge import (
    JSON,
    VISIT_POLICIES,
    Policies,
    SetPolicy,
    TextPolicy,
    TrackPolicy,
)

FieldKind = Literal["text", "enum", "int", "datetime", "branch", "member", "json"]

MAX_TEXT = 2000
MAX_LIST = 500
MAX_PEOPLE = 1_000_000
INSTANT_TEXT_LENGTH = 40
"""The text columns that keep an instant as sent are this long; Python reads any fraction length."""
MAX_LIST_TEXT = 100_000
"""A list field's JSON text at most (its elements may carry free text: names, notes)."""

FREE_TEXT = TextPolicy(max_length=MAX_TEXT)
"""Officers' prose (concerns, observations, notes), which they add to line by line over time.

Short identifying values (a village, an area, a title) stay scalars: lists filter and show them
as one value, and a line merge of two names would be a name nobody wrote.
"""


@dataclass(frozen=True)
class WireField:
    """One client-writable field: its wire name, its column, and what values it takes."""

    name: str
    column: str
    kind: FieldKind
    required: bool = True
    max_length: int = MAX_TEXT
    choices: frozenset[str] = frozenset()
    # For "json" fields: checks one element, returning a problem message or None.
    element: Callable[[Any], str | None] | None = None

    @property
    def text_column(self) -> str:
        """Datetime fields keep the text as sent beside the parsed instant."""
        return f"{self.column}_text"


WebFieldKind = Literal["member", "branch", "members", "label", "volunteers", "competing_versions"]


@dataclass(frozen=True)
class WebField:
    """A field of the document type for web frontends (phones' builders never select it),
    read from the wire field `source`; schema/sync.py resolves each kind:

    * member / branch: the Member / Branch a reference names (null outside the viewer's scope);
    * members: the Members a participants list names; volunteers: its outside volunteers;
    * label: the Chinese label of an enum field (`labels`: the enum, whose members have one);
    * competing_versions: the versions of its free text that lost a line merge.
    """

    name: str  # as in the contract, e.g. "categoryLabel"
    kind: WebFieldKind
    description: str
    source: str = ""
    labels: type[enum.Enum] | None = None

    @classmethod
    def label(cls, source: str, labels: type[enum.Enum], description: str) -> WebField:
        return cls(f"{source}Label", "label", description, source, labels)


COMPETING_VERSIONS = WebField(
    "competingVersions",
    "competing_versions",
    "Versions of its free-text fields that lost where both sides changed the same lines, "
    "oldest first, until settled; web frontends only (phones' builders never select it).",
)
PARTICIPANT_MEMBERS = WebField(
    "participantMembers", "members", "The members in participants, as members.", "participants"
)


@dataclass(frozen=True)
class Collection:
    """A synced collection: `name` as in the contract (Visit -> pullVisit, pushVisit, ...).

    schema/sync.py builds its GraphQL types and root fields from this alone: `description`
    documents the document type, `web_fields` follow its wire fields.
    """

    name: str
    key: str  # stable lower-case key stored in logs: "visit", "patrol", "service_action"
    model: type[SyncedDocument]
    fields: tuple[WireField, ...]
    policies: Policies = field(default_factory=dict)
    description: str = ""
    web_fields: tuple[WebField, ...] = ()
    # Phones push it (push<Name>, <Name>Input); pull-only collections say otherwise.
    pull_only: ClassVar[bool] = False

    @property
    def by_name(self) -> dict[str, WireField]:
        return {f.name: f for f in self.fields}

    @property
    def wire_names(self) -> tuple[str, ...]:
        """Every field of the wire type, in contract order."""
        return ("id", *(f.name for f in self.fields), "updatedAt", "deleted")

    @property
    def json_fields(self) -> tuple[WireField, ...]:
        return tuple(f for f in self.fields if f.kind == "json")

    @property
    def free_text_fields(self) -> tuple[str, ...]:
        """Wire names of the prose fields, merged line by line (`sync.merge.TextPolicy`)."""
        return tuple(
            f.name for f in self.fields if isinstance(self.policies.get(f.name), TextPolicy)
        )

    # --- forms ----------------------------------------------------------------------------

    def to_wire(self, row: Any) -> dict[str, Any]:
        """A row (ORM object or named row with the table's columns) as a wire document."""
        doc: dict[str, Any] = {"id": row.id}
        for f in self.fields:
            value = getattr(row, f.text_column if f.kind == "datetime" else f.column)
            if value is not None:
                if f.kind == "branch":
                    value = global_id("Branch", value)
                elif f.kind == "member":
                    value = global_id("Member", value)
            doc[f.name] = value
        doc["updatedAt"] = float(row.updated_at)
        doc["deleted"] = bool(row.deleted)
        return doc

    def rows_to_wire(self, rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
        """Rows of `sync.pull.document_columns` as wire documents; the same as `to_wire` each.

        Positional: a pull page is 1,000 rows, and `to_wire`'s thirteen attribute lookups on
        SQLAlchemy rows cost ~25 µs a row, more than the rest of the page's work together.
        """
        names = self.wire_names
        references = [
            (index, f.name, "Branch" if f.kind == "branch" else "Member")
            for index, f in enumerate(self.fields, start=1)
            if f.kind in ("branch", "member")
        ]
        documents = []
        for row in rows:
            doc = dict(zip(names, row, strict=True))
            for index, name, type_name in references:
                value = row[index]
                if value is not None:
                    doc[name] = global_id(type_name, value)
            doc["updatedAt"] = float(doc["updatedAt"])
            doc["deleted"] = bool(doc["deleted"])
            documents.append(doc)
        return documents

    def wire_to_merge(self, doc: Mapping[str, Any]) -> dict[str, JSON]:
        """Decodes list fields for the merge; the caller has checked that they decode."""
        out: dict[str, JSON] = dict(doc)
        for f in self.json_fields:
            value = out.get(f.name)
            if isinstance(value, str):
                out[f.name] = orjson.loads(value)
        return out

    def merge_to_wire(self, doc: Mapping[str, JSON], updated_at: int) -> dict[str, Any]:
        """A merged document back on the wire, with its stamp."""
        out: dict[str, Any] = {"id": doc.get("id")}
        for f in self.fields:
            value = doc.get(f.name)
            if f.kind == "json" and value is not None and not isinstance(value, str):
                value = encode_list(value)
            out[f.name] = value
        out["updatedAt"] = float(updated_at)
        out["deleted"] = bool(doc.get("deleted"))
        return out

    def to_columns(self, doc: Mapping[str, JSON]) -> dict[str, Any]:
        """A validated merge-form document as column values (without the bookkeeping ones)."""
        values: dict[str, Any] = {"id": doc["id"], "deleted": bool(doc.get("deleted"))}
        for f in self.fields:
            value = doc.get(f.name)
            if f.kind == "datetime":
                values[f.text_column] = value
                values[f.column] = parse_instant(value) if isinstance(value, str) else None
            elif f.kind == "branch":
                values[f.column] = global_id_uuid_or_none(str(value), "Branch") if value else None
            elif f.kind == "member":
                values[f.column] = global_id_uuid_or_none(str(value), "Member") if value else None
            elif f.kind == "json":
                values[f.column] = encode_list(value if value is not None else [])
            else:
                values[f.column] = value
        return values

    # --- validation -----------------------------------------------------------------------

    def decode_input(self, doc: Mapping[str, Any]) -> tuple[dict[str, JSON], list[Problem]]:
        """A pushed wire document in merge form, or the problems that stop it being read.

        A field the collection does not have is a problem too (only a hand-written document,
        such as an admin's correction of a quarantined row, can carry one).
        """
        problems: list[Problem] = []
        out: dict[str, JSON] = {}
        known = self.wire_names
        for name, value in doc.items():
            if name not in known:
                problems.append(Problem(name, "未知字段 (unknown field)", ErrorCode.INVALID))
                continue
            spec = self.by_name.get(name)
            if spec is not None and spec.kind == "json" and isinstance(value, str):
                bad = unstorable_character(value)
                if bad is not None:
                    problems.append(invalid_character(name, bad))
                    continue
                try:
                    out[name] = orjson.loads(value)
                except orjson.JSONDecodeError:
                    problems.append(
                        Problem(name, "不是有效的 JSON 列表 (not a JSON list)", ErrorCode.INVALID)
                    )
                    continue
            else:
                out[name] = value
        return out, problems

    def unstorable(self, doc: Mapping[str, JSON]) -> list[Problem]:
        """The fields of a merge-form document holding a character no database text can hold.

        For an assumed state, which is never stored but may be logged as a conflict's ancestor:
        everything else about it may be stale or odd without harm.
        """
        problems: list[Problem] = []
        for name, value in doc.items():
            bad = _unstorable_in(value)
            if bad is not None:
                problems.append(invalid_character(name, bad))
        return problems

    def validate(self, doc: Mapping[str, JSON]) -> list[Problem]:
        """Everything wrong with a merge-form document that would be stored, without the database.

        References (does the branch exist, is it in scope) are checked by the caller in bulk.
        """
        problems: list[Problem] = []
        doc_id = doc.get("id")
        if not isinstance(doc_id, str) or not doc_id.strip():
            problems.append(Problem("id", "不能为空 (required)", ErrorCode.REQUIRED))
        elif (bad := unstorable_character(doc_id)) is not None:
            problems.append(invalid_character("id", bad))
        elif len(doc_id) > DOCUMENT_ID_LENGTH:
            problems.append(
                Problem("id", f"最多 {DOCUMENT_ID_LENGTH} 个字符 (too long)", ErrorCode.TOO_LONG)
            )
        for f in self.fields:
            problem = _check_field(f, doc.get(f.name))
            if problem is not None:
                problems.append(problem)
        deleted = doc.get("deleted")
        if deleted is not None and not isinstance(deleted, bool):
            problems.append(Problem("deleted", "须为布尔值 (must be a boolean)", ErrorCode.INVALID))
        return problems

    def references(self, doc: Mapping[str, JSON]) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
        """The branch and member ids a valid document refers to (participants included)."""
        branches: set[uuid.UUID] = set()
        members: set[uuid.UUID] = set()
        for f in self.fields:
            value = doc.get(f.name)
            if f.kind == "branch" and isinstance(value, str):
                raw = global_id_uuid_or_none(value, "Branch")
                if raw is not None:
                    branches.add(raw)
            elif f.kind == "member" and isinstance(value, str):
                raw = global_id_uuid_or_none(value, "Member")
                if raw is not None:
                    members.add(raw)
            elif f.kind == "json" and isinstance(value, list):
                members |= _member_refs(value)
        return branches, members


def unstorable_character(text: str) -> str | None:
    """The first character of `text` that no database text can hold, as "U+XXXX", or None.

    PostgreSQL text refuses NUL; UTF-8 has no lone surrogates (JSON may escape one, and
    JavaScript strings hold them), so no driver can send one.
    """
    if "\x00" in text:
        return "U+0000"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return f"U+{ord(text[error.start]):04X}"
    return None


def invalid_character(field_name: str | None, character: str) -> Problem:
    """The problem of a value holding a character no database text can hold."""
    return Problem(
        field_name,
        f"含有无法保存的字符 {character} (contains a character that cannot be stored: {character})",
        ErrorCode.INVALID_CHARACTER,
    )


_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
"""A NUL in orjson's output: `\u0000` after an even number of backslashes (a literal backslash
is written `\\`, so `\\u0000` is text, not a NUL)."""


def _unstorable_in(value: JSON) -> str | None:
    """`unstorable_character` anywhere in a JSON value: strings, object keys, nested."""
    if isinstance(value, str):
        return unstorable_character(value)
    if value is None or isinstance(value, bool | int | float):
        return None
    try:
        # One pass in C: orjson escapes a NUL and refuses a lone surrogate.
        encoded = orjson.dumps(value)
    except TypeError:
        return _unstorable_walk(value)
    return "U+0000" if b"\\u0000" in encoded and _ESCAPED_NUL.search(encoded) else None


def _unstorable_walk(value: JSON) -> str | None:
    """`_unstorable_in`, element by element (only for what orjson refuses to encode)."""
    if isinstance(value, str):
        return unstorable_character(value)
    if isinstance(value, Mapping):
        for key, item in value.items():
            bad = (unstorable_character(key) if isinstance(key, str) else None) or (
                _unstorable_walk(item)
            )
            if bad is not None:
                return bad
    elif isinstance(value, Sequence):
        for item in value:
            bad = _unstorable_walk(item)
            if bad is not None:
                return bad
    return None


def encode_list(value: JSON) -> str:
    """Canonical JSON text of a list field (compact, UTF-8, order kept)."""
    return orjson.dumps(value).decode()


def parse_instant(text: str) -> datetime | None:
    """An ISO-8601 date-time with an offset, else None."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _member_refs(elements: Sequence[JSON]) -> set[uuid.UUID]:
    refs: set[uuid.UUID] = set()
    for element in elements:
        value = element.get("memberId") if isinstance(element, Mapping) else element
        if isinstance(value, str):
            raw = global_id_uuid_or_none(value, "Member")
            if raw is not None:
                refs.add(raw)
    return refs


def _check_field(f: WireField, value: JSON) -> Problem | None:
    bad = _unstorable_in(value)
    if bad is not None:
        return invalid_character(f.name, bad)
    if value is None or (isinstance(value, str) and not value.strip() and f.kind != "json"):
        if f.required:
            return Problem(f.name, "不能为空 (required)", ErrorCode.REQUIRED)
        return None
    if f.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            return Problem(f.name, "须为整数 (must be an integer)", ErrorCode.INVALID)
        if not 0 <= value <= MAX_PEOPLE:
            return Problem(f.name, f"须在 0 到 {MAX_PEOPLE} 之间 (out of range)", ErrorCode.INVALID)
        return None
    if f.kind == "json":
        if not isinstance(value, list):
            return Problem(f.name, "须为 JSON 列表 (must be a JSON list)", ErrorCode.INVALID)
        if len(value) > MAX_LIST:
            return Problem(f.name, f"最多 {MAX_LIST} 项 (too many elements)", ErrorCode.TOO_LONG)
        for element in value:
            message = f.element(element) if f.element else None
            if message is not None:
                return Problem(f.name, message, ErrorCode.INVALID)
        try:
            text = encode_list(value)
        except TypeError:
            # Its strings are storable (checked above): orjson refused a number wider than
            # 64 bits (or a value that is not JSON), which the JSON text could not keep.
            return Problem(
                f.name,
                "含有无法保存的数值 (holds a number JSON text cannot keep)",
                ErrorCode.INVALID,
            )
        if len(text) > f.max_length:
            return Problem(f.name, f"最多 {f.max_length} 个字符 (too long)", ErrorCode.TOO_LONG)
        return None
    if not isinstance(value, str):
        return Problem(f.name, "须为文本 (must be a string)", ErrorCode.INVALID)
    if len(value) > f.max_length:
        return Problem(f.name, f"最多 {f.max_length} 个字符 (too long)", ErrorCode.TOO_LONG)
    if f.kind == "enum" and value not in f.choices:
        allowed = ", ".join(sorted(f.choices))
        return Problem(f.name, f"无效取值 (must be one of: {allowed})", ErrorCode.INVALID)
    if f.kind == "datetime" and parse_instant(value) is None:
        return Problem(
            f.name,
            "须为带时区的 ISO-8601 时间 (ISO-8601 date-time with offset)",
            ErrorCode.INVALID,
        )
    if f.kind == "branch" and global_id_uuid_or_none(value, "Branch") is None:
        return Problem(f.name, "不是有效的支部编号 (not a Branch id)", ErrorCode.INVALID)
    if f.kind == "member" and global_id_uuid_or_none(value, "Member") is None:
        return Problem(f.name, "不是有效的党员编号 (not a Member id)", ErrorCode.INVALID)
    return None


def _values(kind: type[enum.Enum]) -> frozenset[str]:
    return frozenset(str(m.value) for m in kind)


def _member_element(element: Any) -> str | None:
    if isinstance(element, str) and global_id_uuid_or_none(element, "Member") is not None:
        return None
    return "参与人须为党员编号 (participants are Member ids)"


def _track_point(element: Any) -> str | None:
    message = "轨迹点须为 {t: ISO-8601, lat, lng} (track points are {t, lat, lng})"
    if not isinstance(element, Mapping) or not isinstance(element.get("t"), str):
        return message
    if parse_instant(element["t"]) is None:
        return message
    for axis, bound in (("lat", 90.0), ("lng", 180.0)):
        value = element.get(axis)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return message
        if not math.isfinite(value) or abs(value) > bound:
            return f"{axis} 超出范围 ({axis} out of range)"
    return None


def _service_participant(element: Any) -> str | None:
    message = "参与人须为 {memberId} 或 {name, role} (participants are {memberId} or {name, role})"
    if not isinstance(element, Mapping):
        return message
    member = element.get("memberId")
    if member is not None:
        ok = isinstance(member, str) and global_id_uuid_or_none(member, "Member") is not None
        return None if ok else message
    name, role = element.get("name"), element.get("role")
    if not isinstance(name, str) or not name.strip() or len(name) > 50:
        return message
    if role is not None and role not in _values(VolunteerRole):
        return f"志愿者身份无效 (role must be one of: {', '.join(sorted(_values(VolunteerRole)))})"
    phone = element.get("phone")
    if phone is not None and (not isinstance(phone, str) or len(phone) > 20):
        return message
    return None


BRANCH = WireField("branchId", "branch_id", "branch")
OFFICER = WireField("officerId", "officer_id", "member")

VISIT = Collection(
    name="Visit",
    key=VISIT_KEY,
    model=Visit,
    fields=(
        BRANCH,
        OFFICER,
        WireField("village", "village", "text", max_length=100),
        WireField("household", "household", "text", required=False, max_length=100),
        WireField("category", "category", "enum", choices=_values(VisitCategory)),
        WireField("concerns", "concerns", "text", required=False),
        WireField("resolution", "resolution", "text", required=False),
        WireField("status", "status", "enum", choices=frozenset(("open", "escalated", "resolved"))),
        WireField("peopleReached", "people_reached", "int"),
        WireField("visitedAt", "visited_at", "datetime", max_length=INSTANT_TEXT_LENGTH),
    ),
    policies={**VISIT_POLICIES, "concerns": FREE_TEXT, "resolution": FREE_TEXT},
    description="A village visit (走访) recorded by a field officer, usually offline.",
    web_fields=(
        WebField(
            "officer",
            "member",
            "The officer who made the visit; null outside your scope.",
            "officerId",
        ),
        WebField("branch", "branch", "The branch the visit belongs to.", "branchId"),
        WebField.label("category", VisitCategory, "Chinese label of the category, e.g. 入户走访."),
        WebField.label("status", VisitStatus, "Chinese label of the status, e.g. 已解决."),
        COMPETING_VERSIONS,
    ),
)

PATROL = Collection(
    name="Patrol",
    key=PATROL_KEY,
    model=Patrol,
    fields=(
        BRANCH,
        OFFICER,
        WireField("kind", "kind", "enum", choices=_values(PatrolKind)),
        WireField("area", "area", "text", max_length=100),
        WireField("startedAt", "started_at", "datetime", max_length=INSTANT_TEXT_LENGTH),
        WireField(
            "endedAt", "ended_at", "datetime", required=False, max_length=INSTANT_TEXT_LENGTH
        ),
        WireField(
            "participants",
            "participants",
            "json",
            required=False,
            max_length=MAX_LIST_TEXT,
            element=_member_element,
        ),
        WireField(
            "track",
            "track",
            "json",
            required=False,
            max_length=MAX_LIST_TEXT,
            element=_track_point,
        ),
        WireField("observations", "observations", "text", required=False),
    ),
    policies={
        "participants": SetPolicy(),
        "track": TrackPolicy("t"),
        "observations": FREE_TEXT,
    },
    description=(
        "A patrol (巡逻, kind day or night 夜间巡逻). participants: JSON text, a list of Member "
        'ids; track: JSON text, a list of GPS points {"t": ISO-8601, "lat": , "lng": }, '
        "append-only."
    ),
    web_fields=(
        WebField(
            "officer",
            "member",
            "The officer who recorded the patrol; null outside your scope.",
            "officerId",
        ),
        WebField("branch", "branch", "The branch the patrol belongs to.", "branchId"),
        WebField.label("kind", PatrolKind, "Chinese label of the kind, e.g. 夜间巡逻."),
        PARTICIPANT_MEMBERS,
        COMPETING_VERSIONS,
    ),
)

SERVICE_ACTION = Collection(
    name="ServiceAction",
    key=SERVICE_ACTION_KEY,
    model=ServiceAction,
    fields=(
        BRANCH,
        OFFICER,
        WireField("type", "type", "enum", choices=_values(ServiceActionType)),
        WireField("title", "title", "text", max_length=200),
        WireField("place", "place", "text", required=False, max_length=100),
        WireField("happenedAt", "happened_at", "datetime", max_length=INSTANT_TEXT_LENGTH),
        WireField(
            "participants",
            "participants",
            "json",
            required=False,
            max_length=MAX_LIST_TEXT,
            element=_service_participant,
        ),
        WireField("peopleReached", "people_reached", "int"),
        WireField("difficultiesSolved", "difficulties_solved", "int"),
        WireField("bannersReceived", "banners_received", "int"),
        WireField("notes", "notes", "text", required=False),
    ),
    policies={"participants": SetPolicy.by_field("memberId", "name"), "notes": FREE_TEXT},
    description=(
        "A community-service action (为民服务行动): type is a ServiceActionType value. "
        'participants: JSON text, a list of {"memberId": Member id} or volunteers '
        '{"name", "role": old_party_member | grid_leader | party_volunteer | other, "phone"}.'
    ),
    web_fields=(
        WebField(
            "officer",
            "member",
            "The officer who recorded the action; null outside your scope.",
            "officerId",
        ),
        WebField("branch", "branch", "The branch the action belongs to.", "branchId"),
        WebField.label(
            "type", ServiceActionType, "Chinese label of the type, e.g. 夜间巡逻转起来."
        ),
        PARTICIPANT_MEMBERS,
        WebField(
            "volunteers", "volunteers", "The outside volunteers in participants.", "participants"
        ),
        COMPETING_VERSIONS,
    ),
)


# --- directives (see sync/directive.py for the push rules and the design) ---------------------


@dataclass(frozen=True)
class PullOnlyCollection(Collection):
    """A collection phones only pull: the server writes it, so it has no push and no input type.

    Its fields are read as stored (kind "text" for instants and ids the server made) and put on
    the wire here: instants as ISO-8601 text, enums by value, ids of other objects as Relay ids.
    """

    node_types: Mapping[str, str] = field(default_factory=dict)
    pull_only: ClassVar[bool] = True

    def to_wire(self, row: Any) -> dict[str, Any]:
        return self._finish(super().to_wire(row))

    def rows_to_wire(self, rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
        return [self._finish(doc) for doc in super().rows_to_wire(rows)]

    def _finish(self, doc: dict[str, Any]) -> dict[str, Any]:
        for name, value in doc.items():
            if isinstance(value, datetime):
                doc[name] = value.astimezone(UTC).isoformat()
            elif isinstance(value, enum.Enum):
                doc[name] = value.value
            elif isinstance(value, uuid.UUID):
                doc[name] = global_id(self.node_types.get(name, "Node"), value)
        return doc


DIRECTIVE = PullOnlyCollection(
    name="Directive",
    key=DIRECTIVE_KEY,
    model=DirectiveRecipient,
    fields=(
        WireField("directiveId", "directive_id", "text"),
        WireField("parentId", "parent_id", "text", required=False),
        WireField("level", "level", "enum", choices=_values(DirectiveLevel)),
        BRANCH,
        WireField("memberId", "officer_id", "member", required=False),
        WireField("title", "title", "text"),
        WireField("content", "content", "text"),
        WireField("priority", "priority", "enum", choices=_values(DirectivePriority)),
        WireField("deadline", "deadline", "text"),
        WireField("status", "status", "enum", choices=_values(RecipientStatus)),
        WireField("dispatchedAt", "dispatched_at", "text"),
        WireField("signedAt", "signed_at", "text", required=False),
        WireField("lastReportedAt", "last_reported_at", "text", required=False),
        WireField("closedAt", "closed_at", "text", required=False),
    ),
    node_types={"directiveId": "Directive"},
    description=(
        "A directive (上级指令) as one recipient received it: a row of its dispatch tree, "
        "pull-only. id: the recipient row, which receipts and progress reports name; level: "
        "county_committee | organ_committee | branch | member; status: pending | signed | "
        "in_progress | closed; instants are ISO-8601 text."
    ),
    web_fields=(
        WebField("branch", "branch", "The branch the recipient belongs to.", "branchId"),
        WebField.label("level", DirectiveLevel, "Chinese label of the level, e.g. 支部."),
        WebField.label("priority", DirectivePriority, "Chinese label of the priority, e.g. 紧急."),
        WebField.label(
            "status", RecipientStatus, "Chinese label of the recipient's status, e.g. 已签收."
        ),
    ),
)

SIGNER = WireField("officerId", "officer_id", "member", required=False)

DIRECTIVE_RECEIPT = Collection(
    name="DirectiveReceipt",
    key=DIRECTIVE_RECEIPT_KEY,
    model=DirectiveReceipt,
    fields=(
        BRANCH,
        SIGNER,
        WireField("signedAt", "signed_at", "datetime", max_length=INSTANT_TEXT_LENGTH),
    ),
    description=(
        "签收: a recipient's signature of a directive. id: the id of the Directive document "
        "signed (one receipt per recipient); officerId: the signer (me.member.id)."
    ),
)

DIRECTIVE_PROGRESS = Collection(
    name="DirectiveProgress",
    key=DIRECTIVE_PROGRESS_KEY,
    model=DirectiveProgress,
    fields=(
        WireField("recipientId", "recipient_id", "text", max_length=DOCUMENT_ID_LENGTH),
        BRANCH,
        SIGNER,
        WireField("text", "text", "text"),
        WireField("percent", "percent", "int", required=False),
        WireField("stage", "stage", "text", required=False, max_length=50),
        WireField("reportedAt", "reported_at", "datetime", max_length=INSTANT_TEXT_LENGTH),
    ),
    # A report is one member's, but they may edit it on two devices: no line of it is lost.
    policies={"text": FREE_TEXT},
    description=(
        "A progress report on a directive: recipientId names the Directive document; percent "
        "0-100 and stage (e.g. 已部署) are optional; reportedAt is ISO-8601 with offset."
    ),
    # No competingVersions: a report's text merges line by line, but the web shows reports
    # inside their directive, where nobody settles conflicts.
    web_fields=(
        WebField(
            "reporter",
            "member",
            "The member who reported; null outside your scope.",
            "officerId",
        ),
    ),
)

# --- reminders (pull-only; generated and answered on the server, see resolvers/reminder.py) ---


@dataclass(frozen=True)
class DatedPullOnlyCollection(PullOnlyCollection):
    """A pull-only collection with calendar days among its fields: put on the wire as ISO text."""

    def _finish(self, doc: dict[str, Any]) -> dict[str, Any]:
        for name, value in doc.items():
            if isinstance(value, date) and not isinstance(value, datetime):
                doc[name] = value.isoformat()
        return super()._finish(doc)


REMINDER = DatedPullOnlyCollection(
    name="Reminder",
    key=REMINDER_KEY,
    model=Reminder,
    fields=(
        WireField("kind", "kind", "enum", choices=_values(ReminderKind)),
        WireField("title", "title", "text"),
        BRANCH,
        WireField("memberId", "officer_id", "member", required=False),
        WireField("dueOn", "due_on", "text"),
        WireField("status", "status", "enum", choices=_values(ReminderStatus)),
        WireField("period", "period", "text", required=False),
        WireField("ledgerItemId", "ledger_item_id", "text", required=False),
        WireField("subjectMemberId", "subject_member_id", "member", required=False),
        WireField("directiveRecipientId", "directive_recipient_id", "text", required=False),
        WireField("acknowledgedAt", "acknowledged_at", "text", required=False),
        WireField("resolvedAt", "resolved_at", "text", required=False),
        WireField(
            "resolution",
            "resolution",
            "enum",
            required=False,
            choices=_values(ReminderResolution),
        ),
    ),
    node_types={"ledgerItemId": "LedgerItem"},
    description=(
        "A supervision reminder (督导提醒) to the phone's branch or member, pull-only; answered "
        "on the web (acknowledgeReminder, resolveReminder). kind: ledger_due | ledger_overdue | "
        "activist_year_complete | probation_ending | directive_deadline | directive_unsigned; "
        "status: open | acknowledged | resolved; dueOn: YYYY-MM-DD; instants are ISO-8601 text; "
        "directiveRecipientId names the Directive document it is about."
    ),
    web_fields=(
        WebField.label("kind", ReminderKind, "Chinese label of the kind, e.g. 台账逾期."),
        WebField.label("status", ReminderStatus, "Chinese label of the status, e.g. 待处理."),
    ),
)
SYNCED: tuple[Collection, ...] = (
    VISIT,
    PATROL,
    SERVICE_ACTION,
    DIRECTIVE,
    REMINDER,
    DIRECTIVE_RECEIPT,
    DIRECTIVE_PROGRESS,
)
"""Every synced collection, in the contract's order (of pull<Name>, push<Name>, stream<Name>)."""

COLLECTIONS: dict[str, Collection] = {c.key: c for c in SYNCED if not c.pull_only}
"""Collections phones push and pull (each has pull<Name>, push<Name> and stream<Name>)."""

PULL_ONLY: dict[str, Collection] = {c.key: c for c in SYNCED if c.pull_only}
"""Collections phones only pull (pull<Name> and stream<Name>; a push to them does not exist)."""

ALL_COLLECTIONS: dict[str, Collection] = {**COLLECTIONS, **PULL_ONLY}
"""Every synced collection: what the stream, tombstone purge and branch moves go through."""
