"""The push merge: content matching, three-way field merge, per-field policies, no lost write."""

from __future__ import annotations

import copy
import random
from collections.abc import Hashable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.collection import FREE_TEXT, VISIT
from sync.merge import (
    JSON,
    SERVER_WINS,
    VISIT_POLICIES,
    Document,
    FieldConflict,
    FieldOutcome,
    FieldPolicy,
    ForwardPolicy,
    MergeResult,
    PushDecision,
    SetPolicy,
    TextPolicy,
    TrackPolicy,
    decide_push_row,
    merge,
    same_content,
    text_lines,
)

Doc = dict[str, Any]

STATUS = ForwardPolicy(("open", "escalated", "resolved"))
PARTICIPANTS = SetPolicy()
VOLUNTEERS = SetPolicy.by_field("memberId", "name")
TRACK = TrackPolicy()
POLICIES: dict[str, FieldPolicy] = {
    "status": STATUS,
    "participants": PARTICIPANTS,
    "volunteers": VOLUNTEERS,
    "track": TRACK,
    "notes": FREE_TEXT,
}
T0 = 1_764_288_000_000  # 2025-11-28T00:00:00Z in epoch ms
CHINA = timezone(timedelta(hours=8))


def visit(**fields: Any) -> Doc:
    base: Doc = {
        "id": "9b2f0c1e-0000-4000-8000-000000000001",
        "branchId": "b1",
        "officerId": "m1",
        "village": "梅林村",
        "household": None,
        "category": "safety",
        "concerns": "路灯坏了",
        "resolution": None,
        "status": "open",
        "peopleReached": 3,
        "visitedAt": "2025-11-28T09:30:00+08:00",
        "updatedAt": 1_764_288_000_000.0,
        "deleted": False,
    }
    return base | fields


def point(seconds: int, lat: float = 25.1, lng: float = 118.1) -> Doc:
    return {"t": T0 + seconds * 1000, "lat": lat, "lng": lng}


def iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, CHINA).isoformat()


def doc_of(result: MergeResult | PushDecision) -> Doc:
    return cast(Doc, result.document)


def fields_in(result: MergeResult | PushDecision) -> set[str]:
    return {c.field for c in result.conflicts}


# --- named guarantees -------------------------------------------------------------------------


def test_assumed_state_matches_by_content_not_updated_at() -> None:
    stored = visit(updatedAt=1_764_288_123_456.0)
    # RxDB keeps what it sent as the assumed state: an older updatedAt, or none at all.
    for assumed in (visit(updatedAt=1_764_288_000_000.0), {**visit(), "updatedAt": None}):
        assert same_content(stored, assumed, VISIT_POLICIES)
        decision = decide_push_row(stored, assumed, visit(concerns="路灯已修"), VISIT_POLICIES)
        assert decision.kind == "update"
        assert decision.conflicts == []
        assert not decision.client_must_adopt
        assert doc_of(decision)["concerns"] == "路灯已修"
        assert "updatedAt" not in decision.document  # server-owned: the caller assigns it
    # A different content is not a match, whatever updatedAt says.
    stale = visit(concerns="旧诉求", updatedAt=stored["updatedAt"])
    assert decide_push_row(stored, stale, visit(concerns="新诉求")).kind == "merged"


def test_null_and_absent_are_equal() -> None:
    full = visit(household=None, resolution=None)
    sparse = {k: v for k, v in full.items() if v is not None}
    assert same_content(full, sparse)
    # deleted: absent and null mean false, and it counts.
    assert same_content({"id": "x"}, {"id": "x", "deleted": None})
    assert same_content({"id": "x"}, {"id": "x", "deleted": False})
    assert not same_content({"id": "x"}, {"id": "x", "deleted": True})
    # Nested too, and for set and track fields null, absent and [] are all "no elements".
    assert same_content({"v": [{"name": "a", "phone": None}]}, {"v": [{"name": "a"}]})
    assert same_content({"participants": None, "track": []}, {}, POLICIES)
    # Not everything falsy is null, and a boolean is not a number.
    assert not same_content({"household": ""}, {})
    assert not same_content({"peopleReached": 0}, {"peopleReached": False})
    assert same_content({"peopleReached": 3}, {"peopleReached": 3.0})
    assert decide_push_row(full, full, sparse).kind == "noop"


def test_retried_push_is_a_noop() -> None:
    created = visit()
    first = decide_push_row(None, None, created, VISIT_POLICIES)
    assert first.kind == "insert"
    stored = first.document | {"updatedAt": 1_764_288_000_100.0}
    retry = decide_push_row(stored, None, created, VISIT_POLICIES)
    assert (retry.kind, retry.conflicts, retry.client_must_adopt, retry.changes_stored) == (
        "noop",
        [],
        False,
        False,
    )

    edited = visit(status="resolved", resolution="已修复")
    update = decide_push_row(stored, created, edited, VISIT_POLICIES)
    assert update.kind == "update"
    stored = update.document | {"updatedAt": 1_764_288_000_200.0}
    retry = decide_push_row(stored, created, edited, VISIT_POLICIES)
    assert retry.kind == "noop"
    assert not retry.changes_stored
    assert retry.conflicts == []


def test_retried_merged_push_changes_nothing_and_logs_the_same_conflicts() -> None:
    ancestor = visit(participants=["li"], volunteers=[{"name": "陈", "phone": "1"}])
    client = visit(
        concerns="client",
        participants=["li", "wang"],
        volunteers=[{"name": "陈", "phone": "2"}],
    )
    server = visit(
        concerns="server",
        participants=["li", "zhao"],
        volunteers=[{"name": "陈", "phone": "3"}],
    )
    first = decide_push_row(server, ancestor, client, POLICIES)
    assert first.kind == "merged"
    assert first.changes_stored
    assert first.client_must_adopt
    assert fields_in(first) == {"concerns", "volunteers"}
    # The response is lost; the phone sends the same row again against the merged state.
    retry = decide_push_row(first.document, ancestor, client, POLICIES)
    assert not retry.changes_stored
    assert retry.client_must_adopt
    assert same_content(retry.document, first.document, POLICIES)
    assert {c.fingerprint() for c in retry.conflicts} <= {c.fingerprint() for c in first.conflicts}


def test_fields_only_the_client_changed_are_taken() -> None:
    ancestor = visit()
    client = visit(concerns="路灯已报修", peopleReached=5, household="张家", updatedAt=None)
    server = visit(resolution="村委会协调", updatedAt=1_764_288_999_000.0)
    result = merge(ancestor, client, server, VISIT_POLICIES)
    assert doc_of(result)["concerns"] == "路灯已报修"
    assert doc_of(result)["peopleReached"] == 5
    assert doc_of(result)["household"] == "张家"
    assert doc_of(result)["resolution"] == "村委会协调"
    assert result.conflicts == []
    assert result.client_must_adopt  # it lacks the server's resolution
    assert "updatedAt" not in result.document


def test_fields_only_the_server_changed_are_kept() -> None:
    ancestor = visit(household="张家")
    client = visit(household="张家", concerns="client edit")
    server = visit(household=None, category="dispute", status="escalated")
    result = merge(ancestor, client, server, VISIT_POLICIES)
    assert doc_of(result)["household"] is None  # the server cleared it; the client did not touch
    assert doc_of(result)["category"] == "dispute"
    assert doc_of(result)["status"] == "escalated"
    assert doc_of(result)["concerns"] == "client edit"
    assert result.conflicts == []
    assert merge(ancestor, ancestor, server).document == merge(None, server, server).document


def test_scalar_conflict_keeps_server_value_and_is_logged() -> None:
    ancestor = visit(village="梅林村")
    client = visit(village="梅林东村")
    server = visit(village="梅林西村")
    result = merge(ancestor, client, server, VISIT_POLICIES)
    assert doc_of(result)["village"] == "梅林西村"
    assert result.client_must_adopt
    [conflict] = result.conflicts
    assert (conflict.field, conflict.reason) == ("village", "server_wins")
    assert (conflict.ancestor, conflict.client, conflict.server, conflict.result) == (
        "梅林村",
        "梅林东村",
        "梅林西村",
        "梅林西村",
    )
    # Both made the same change: no conflict. Two phones that created the same id: the fields
    # they set differently conflict against an empty ancestor.
    assert merge(ancestor, client, client).conflicts == []
    twins = merge(None, visit(village="东村"), visit(village="西村"))
    assert [(c.field, c.ancestor, c.result) for c in twins.conflicts] == [("village", None, "西村")]


def test_participants_merge_as_sets_respecting_removals() -> None:
    ancestor: Doc = {"participants": ["li", "wang", "zhang"]}
    client: Doc = {"participants": ["wang", "zhang", "chen"]}  # removed li, added chen
    server: Doc = {"participants": ["zhao", "li", "wang"]}  # removed zhang, added zhao
    result = merge(ancestor, client, server, POLICIES)
    assert doc_of(result)["participants"] == ["zhao", "wang", "chen"]  # server order, then client
    assert result.conflicts == []
    assert result.client_must_adopt

    # Dict elements are identified by key: members by id, outside volunteers by name.
    ancestor = {"volunteers": [{"memberId": "m1"}, {"name": "陈大姐", "phone": "1"}]}
    client = {"volunteers": [{"memberId": "m1"}, {"name": "陈大姐", "phone": "2"}]}
    server = {"volunteers": [{"memberId": "m1", "role": "lead"}, {"name": "陈大姐", "phone": "1"}]}
    result = merge(ancestor, client, server, POLICIES)
    assert doc_of(result)["volunteers"] == [
        {"memberId": "m1", "role": "lead"},
        {"name": "陈大姐", "phone": "2"},
    ]
    assert result.conflicts == []

    # The same element edited differently on both sides: the server's content, logged.
    server = {
        "volunteers": [{"memberId": "m1"}, {"name": "陈大姐", "phone": "3"}, {"memberId": "m9"}]
    }
    result = merge(ancestor, client, server, POLICIES)
    assert doc_of(result)["volunteers"] == server["volunteers"]
    assert [(c.field, c.reason) for c in result.conflicts] == [("volunteers", "set_element")]

    # Removed on one side, edited on the other: removed, and the edit is in the log.
    server = {"volunteers": [{"memberId": "m1"}]}
    result = merge(ancestor, client, server, POLICIES)
    assert doc_of(result)["volunteers"] == [{"memberId": "m1"}]
    [conflict] = result.conflicts
    assert conflict.client == client["volunteers"]


def test_gps_track_is_append_only_union_by_time() -> None:
    ancestor: Doc = {"track": [point(0), point(10)]}
    client: Doc = {"track": [point(0), point(10), point(20), point(30)]}
    # The server got another phone's points meanwhile, one written as ISO-8601 (same instant).
    server: Doc = {
        "track": [point(0), {"t": "2025-11-28T08:00:10+08:00", "lat": 25.1, "lng": 118.1}]
    }
    server["track"].append(point(25, 25.3))
    result = merge(ancestor, client, server, POLICIES)
    times = [p["t"] for p in doc_of(result)["track"]]
    assert times == [T0, "2025-11-28T08:00:10+08:00", T0 + 20_000, T0 + 25_000, T0 + 30_000]
    assert result.conflicts == []

    # Same time, different coordinates: the server's point stays and the client's is logged.
    client = {"track": [point(0), point(10, 99.0), point(20)]}
    result = merge(ancestor, client, server, POLICIES)
    assert point(10, 99.0) not in doc_of(result)["track"]
    assert point(20) in doc_of(result)["track"]
    [conflict] = result.conflicts
    assert (conflict.field, conflict.reason, conflict.client) == (
        "track",
        "track_point",
        client["track"],
    )

    # A point is never removed by a merge, even when only the client "changed" the track.
    result = merge(ancestor, {"track": [point(10)]}, ancestor, POLICIES)
    assert doc_of(result)["track"] == [point(0), point(10)]
    assert [c.reason for c in result.conflicts] == ["track_point"]


def test_visit_status_only_moves_forward() -> None:
    def status(ancestor: str, client: str, server: str) -> tuple[JSON, list[str]]:
        result = merge(visit(status=ancestor), visit(status=client), visit(status=server), POLICIES)
        return doc_of(result)["status"], [c.reason for c in result.conflicts]

    assert status("open", "resolved", "escalated") == ("resolved", ["forward"])
    assert status("open", "escalated", "resolved") == ("resolved", ["forward"])
    assert status("open", "open", "escalated") == ("escalated", [])
    assert status("escalated", "resolved", "escalated") == ("resolved", [])
    # A value outside the order: the server's stays, logged.
    assert status("open", "closed", "escalated") == ("escalated", ["unknown_value"])
    assert status("open", "escalated", "closed") == ("closed", ["unknown_value"])
    # A one-sided reopen is a deliberate edit, not a race: it is taken.
    assert status("resolved", "open", "resolved") == ("open", [])
    with pytest.raises(ValueError):
        ForwardPolicy(("open", "open"))


def test_delete_against_edit_keeps_the_edit_in_the_conflict_log() -> None:
    ancestor = visit()
    edited = visit(concerns="补充：有积水", peopleReached=6)
    deleted = visit(deleted=True)
    for client, server in ((deleted, edited), (edited, deleted)):
        result = merge(ancestor, client, server, VISIT_POLICIES)
        # The delete wins; the edits also stay in the tombstone, so undeleting restores them.
        assert doc_of(result)["deleted"] is True
        assert doc_of(result)["concerns"] == "补充：有积水"
        logged = {c.field: c for c in result.conflicts}
        assert set(logged) == {"deleted", "concerns", "peopleReached"}
        assert logged["deleted"].reason == "delete_vs_edit"
        assert logged["concerns"].reason == "edit_of_deleted"
        assert "补充：有积水" in (logged["concerns"].client, logged["concerns"].server)
        assert logged["peopleReached"].result == 6
    # A delete nobody argued with is no conflict; neither is a delete by both sides.
    assert merge(ancestor, deleted, ancestor).conflicts == []
    assert merge(ancestor, deleted, visit(deleted=True, concerns="x")).conflicts == []


def test_merge_does_not_share_containers_with_its_inputs() -> None:
    ancestor: Doc = {"participants": ["li"], "meta": {"a": [1]}}
    client: Doc = {"participants": ["li", "wang"], "meta": {"a": [1]}}
    result = merge(ancestor, client, ancestor, POLICIES)
    doc_of(result)["participants"].append("x")
    doc_of(result)["meta"]["a"].append(2)
    assert client == {"participants": ["li", "wang"], "meta": {"a": [1]}}


# --- free text, merged line by line ----------------------------------------------------------


def concerns_merge(ancestor: str | None, client: str | None, server: str | None) -> MergeResult:
    return merge(
        visit(concerns=ancestor), visit(concerns=client), visit(concerns=server), VISIT.policies
    )


def shown(result: MergeResult | PushDecision) -> list[tuple[str, tuple[str, ...]]]:
    """The competing versions a reader of the record is shown: field and the lines it lacks."""
    versions = []
    for conflict in result.conflicts:
        policy_ = VISIT.policies.get(conflict.field)
        if isinstance(policy_, TextPolicy):
            lines = policy_.competing(conflict)
            if lines is not None:
                versions.append((conflict.field, lines))
    return versions


def test_notes_two_officers_appended_are_both_in_the_record() -> None:
    ancestor = "5月1日 路灯坏了"
    server = "5月1日 路灯坏了\n5月2日 电工周三来修"
    client = "5月1日 路灯坏了\n5月2日 已拍照上报"

    result = concerns_merge(ancestor, client, server)

    # The server's note first, then the phone's: the same order however often it is merged.
    assert doc_of(result)["concerns"] == "5月1日 路灯坏了\n5月2日 电工周三来修\n5月2日 已拍照上报"
    assert result.conflicts == []
    assert result.client_must_adopt
    # The reply was lost and the phone pushes again: the record already holds its note.
    retry = decide_push_row(
        result.document, visit(concerns=ancestor), visit(concerns=client), VISIT.policies
    )
    assert (retry.changes_stored, retry.conflicts) == (False, [])


def test_changes_to_different_lines_are_all_kept() -> None:
    ancestor = "路灯坏了\n垃圾清运\n井盖松动\n噪音扰民"
    server = "路灯坏了（东头）\n垃圾清运\n井盖松动\n噪音扰民"  # edited the first line
    client = "路灯坏了\n垃圾清运\n噪音扰民（已劝导）"  # removed the third, edited the fourth

    result = concerns_merge(ancestor, client, server)

    assert doc_of(result)["concerns"] == "路灯坏了（东头）\n垃圾清运\n噪音扰民（已劝导）"
    assert result.conflicts == []
    # As in version control, changes to adjacent lines are one place: both changed it.
    result = concerns_merge(
        "路灯坏了\n噪音扰民", "路灯坏了\n噪音扰民（已劝导）", "路灯坏了（东头）\n噪音扰民"
    )
    assert doc_of(result)["concerns"] == "路灯坏了（东头）\n噪音扰民"
    assert shown(result) == [("concerns", ("噪音扰民（已劝导）",))]


def test_a_line_both_changed_keeps_the_servers_and_shows_the_phones_as_competing() -> None:
    ancestor = "路灯坏了\n垃圾清运\n待处理"
    server = "路灯坏了\n垃圾清运\n已派电工"
    client = "群众反映：路灯坏了\n垃圾清运\n已自行修复\n群众满意"  # and the first line

    result = concerns_merge(ancestor, client, server)

    assert doc_of(result)["concerns"] == "群众反映：路灯坏了\n垃圾清运\n已派电工"
    [conflict] = result.conflicts
    assert (conflict.field, conflict.reason) == ("concerns", "text_lines")
    assert (conflict.ancestor, conflict.client, conflict.server) == (ancestor, client, server)
    assert conflict.result == "群众反映：路灯坏了\n垃圾清运\n已派电工"
    assert shown(result) == [("concerns", ("已自行修复", "群众满意"))]


def test_a_line_removed_on_one_side_and_changed_on_the_other_competes() -> None:
    result = concerns_merge("甲\n乙", "甲", "甲\n乙（已核实）")

    assert doc_of(result)["concerns"] == "甲\n乙（已核实）"
    assert [c.reason for c in result.conflicts] == ["text_lines"]
    assert shown(result) == [("concerns", ())]  # the phone's version removed the line


def test_a_version_that_only_adds_lines_to_the_others_is_taken_whole() -> None:
    # Both changed the line the same way and the phone also added one: nothing competes.
    result = concerns_merge("路灯坏了", "路灯坏了（东头）\n已报修", "路灯坏了（东头）")
    assert doc_of(result)["concerns"] == "路灯坏了（东头）\n已报修"
    assert (result.conflicts, result.client_must_adopt) == ([], False)
    # The other way round: the server's version holds the phone's, which adopts it.
    result = concerns_merge("路灯坏了", "路灯坏了（东头）", "路灯坏了（东头）\n已报修")
    assert doc_of(result)["concerns"] == "路灯坏了（东头）\n已报修"
    assert (result.conflicts, result.client_must_adopt) == ([], True)
    # Not when the longer one puts back a line the other removed: that competes.
    result = concerns_merge("路灯坏了", "路灯坏了\n已报修", "已修好")
    assert doc_of(result)["concerns"] == "已修好"
    assert shown(result) == [("concerns", ("已报修",))]


def test_a_merge_too_long_for_the_field_keeps_the_servers_and_the_phones_competes() -> None:
    short = TextPolicy(max_length=12)
    # Each side fits; both notes together would not, and nobody wrote that text.
    outcome = short.merge("路灯坏了", "路灯坏了\n已拍照上报", "路灯坏了\n电工周三来")
    assert outcome == FieldOutcome("路灯坏了\n电工周三来", "text_lines")
    conflict = FieldConflict(
        "concerns", "路灯坏了", "路灯坏了\n已拍照上报", outcome.value, outcome.value, "text_lines"
    )
    assert short.competing(conflict) == ("已拍照上报",)
    assert short.merge("路灯坏了", "路灯坏了\n甲", "路灯坏了\n乙").value == "路灯坏了\n乙\n甲"


def test_free_text_fields_are_merged_by_lines_and_names_are_not() -> None:
    from sync.collection import COLLECTIONS

    assert {key: c.free_text_fields for key, c in COLLECTIONS.items()} == {
        "visit": ("concerns", "resolution"),
        "patrol": ("observations",),
        "service_action": ("notes",),
        "directive_receipt": (),
        "directive_progress": ("text",),
    }
    # A village both renamed stays a scalar conflict: two names merged would be neither.
    result = merge(visit(), visit(village="东梅林村"), visit(village="梅林新村"), VISIT.policies)
    assert doc_of(result)["village"] == "梅林新村"
    assert [(c.field, c.reason) for c in result.conflicts] == [("village", "server_wins")]
    resolution = merge(
        visit(resolution="已调解"),
        visit(resolution="已调解\n双方签字"),
        visit(resolution="已调解\n回访满意"),
        VISIT.policies,
    )
    assert doc_of(resolution)["resolution"] == "已调解\n回访满意\n双方签字"


def test_a_fully_merged_text_conflict_is_not_shown_as_competing() -> None:
    # The phone edited a note while another device deleted the visit: the edit is merged into
    # the tombstone and logged, but nothing of it is missing from the record.
    result = merge(visit(), visit(concerns="路灯坏了\n已修好"), visit(deleted=True), VISIT.policies)
    assert [(c.field, c.reason) for c in result.conflicts] == [
        ("deleted", "delete_vs_edit"),
        ("concerns", "edit_of_deleted"),
    ]
    assert shown(result) == []
    # A whole-value conflict logged before notes were merged by lines lost the phone's line.
    older = FieldConflict(
        "concerns",
        "路灯坏了",
        "路灯坏了\n已拍照",
        "路灯坏了\n电工周三来",
        "路灯坏了\n电工周三来",
        "server_wins",
    )
    assert FREE_TEXT.competing(older) == ("已拍照",)


# --- properties -------------------------------------------------------------------------------

NAMES = ["li", "wang", "zhang", "zhao", "chen"]
TIMES = [T0 + i * 1000 for i in range(6)]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from(["", "a", "b"]))
statuses = st.sampled_from(["open", "escalated", "resolved", "closed", None])
participants = st.one_of(st.none(), st.lists(st.sampled_from(NAMES), unique=True, max_size=4))
volunteer = st.one_of(
    st.builds(
        lambda m, role: {"memberId": m, "role": role}, st.sampled_from(["m1", "m2"]), scalars
    ),
    st.builds(lambda n, ph: {"name": n, "phone": ph}, st.sampled_from(NAMES), scalars),
)
volunteers = st.lists(volunteer, max_size=4, unique_by=VOLUNTEERS._key)
# The same instant is written either as epoch ms or as ISO-8601 in China time.
points = st.builds(
    lambda t, lat, as_iso: {"t": iso(t) if as_iso else t, "lat": lat, "lng": 118.0},
    st.sampled_from(TIMES),
    st.sampled_from([25.0, 25.5]),
    st.booleans(),
)
tracks = st.one_of(st.none(), st.lists(points, max_size=5))
# Few distinct lines, so that sides often write, move or remove the same line.
LINES = ["路灯坏了", "已报修", "电工周三来", "群众满意", "噪音扰民"]
texts = st.one_of(
    st.none(), st.just(""), st.lists(st.sampled_from(LINES), max_size=6).map("\n".join)
)
# An officer's notes as they are written: no line repeated word for word.
distinct_texts = st.one_of(
    st.none(), st.lists(st.sampled_from(LINES), unique=True, max_size=4).map("\n".join)
)


@st.composite
def text_edits(draw: st.DrawFn, ancestor: str | None, side: str) -> str | None:
    """An edit as the app makes it: lines kept, changed, removed, inserted or appended; each
    new line is new text (`side` tells the sides' lines apart, and one side may repeat one)."""

    def new_line() -> str:
        return f"{side}{draw(st.integers(0, 3))}"

    lines: list[str] = []
    for line in text_lines(ancestor):
        action = draw(st.sampled_from(["keep", "keep", "change", "remove", "insert"]))
        if action == "keep":
            lines.append(line)
        elif action == "change":
            lines.append(new_line())
        elif action == "insert":
            lines += [line, new_line()]
    if draw(st.booleans()):
        lines.append(new_line())
    return "\n".join(lines) if lines else draw(st.sampled_from([None, ""]))


FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "concerns": scalars,
    "peopleReached": scalars,
    "status": statuses,
    "participants": participants,
    "volunteers": volunteers,
    "track": tracks,
    "notes": texts,
    "deleted": st.one_of(st.none(), st.booleans()),
}


@st.composite
def documents(draw: st.DrawFn, append_only: bool = False) -> Doc:
    document: Doc = {"id": "d1"}
    for name, values in FIELDS.items():
        if draw(st.booleans()) or name == "status":
            document[name] = draw(distinct_texts if name == "notes" and append_only else values)
    return document


@st.composite
def edits(draw: st.DrawFn, ancestor: Doc, append_only: bool = False, side: str = "c") -> Doc:
    """A side's version of `ancestor`: each field kept, rewritten or dropped.

    `append_only`: edits as the app makes them, tracks only growing and notes edited by lines.
    """
    edited: Doc = {"id": "d1", "updatedAt": draw(st.floats(0, 1e13) | st.none())}
    for name, values in FIELDS.items():
        choice = draw(st.sampled_from(["keep", "keep", "change", "drop"]))
        if name == "notes" and append_only and choice != "keep":
            edited[name] = draw(text_edits(ancestor.get("notes"), side))
        elif name == "track" and append_only and choice != "keep":
            # Appended points at times nobody used yet: an ordinary, valid track edit.
            old = ancestor.get("track") or []
            used = {TRACK._time(p) for p in old}
            fresh = [t for t in TIMES if TRACK._time({"t": t}) not in used]
            new = draw(st.lists(st.sampled_from(fresh), unique=True)) if fresh else []
            edited[name] = [*old, *({"t": t, "lat": 26.0, "lng": 119.0} for t in new)]
        elif choice == "keep":
            if name in ancestor:
                edited[name] = copy.deepcopy(ancestor[name])
        elif choice == "change":
            edited[name] = draw(values)
    return edited


@st.composite
def histories(draw: st.DrawFn, append_only: bool = False) -> tuple[Doc, Doc, Doc]:
    ancestor = draw(documents(append_only))
    client = draw(edits(ancestor, append_only, "c"))
    return ancestor, client, draw(edits(ancestor, append_only, "s"))


def policy(name: str) -> FieldPolicy:
    return POLICIES.get(name, SERVER_WINS)


def all_fields(*docs: Document) -> set[str]:
    return {k for d in docs for k in d if k not in {"updatedAt", "deleted"}}


def keyed(policy_: SetPolicy, value: Any) -> dict[Hashable, Any]:
    return policy_._index(value or [])


def track_ids(value: Any) -> set[Hashable]:
    return TRACK._identities(value or [])


def write_is_kept(name: str, ancestor: Any, side: Any, result: Any) -> bool:
    """Whether what one side wrote to a field (relative to the ancestor) is in the result."""
    field_policy = policy(name)
    if isinstance(field_policy, SetPolicy):
        a, s, r = (keyed(field_policy, v) for v in (ancestor, side, result))
        added_or_edited = [k for k in s if k not in a or not field_policy.same([a[k]], [s[k]])]
        removed = [k for k in a if k not in s]
        return all(k in r and field_policy.same([r[k]], [s[k]]) for k in added_or_edited) and all(
            k not in r for k in removed
        )
    if isinstance(field_policy, TrackPolicy):
        old, new, merged = track_ids(ancestor), track_ids(side), track_ids(result)
        return new <= merged and not ((old - new) & merged)
    if isinstance(field_policy, TextPolicy):
        # Lines are what a text write is made of (the exact text is kept when nothing merged).
        added = set(text_lines(side)) - set(text_lines(ancestor))
        return added <= set(text_lines(result))
    return field_policy.same(side, result)


@given(histories(), st.randoms(use_true_random=False))
def test_merge_is_deterministic(history: tuple[Doc, Doc, Doc], rng: random.Random) -> None:
    ancestor, client, server = history
    before = copy.deepcopy(history)
    first = merge(ancestor, client, server, POLICIES)
    again = merge(ancestor, client, server, POLICIES)
    assert first == again
    assert (ancestor, client, server) == before  # inputs untouched

    def shuffled(doc: Doc) -> Doc:
        items = list(doc.items())
        rng.shuffle(items)
        return dict(items)

    # Nor does it depend on the order of a document's keys.
    other = merge(shuffled(ancestor), shuffled(client), shuffled(server), POLICIES)
    assert other.document == first.document
    assert sorted(other.conflicts, key=repr) == sorted(first.conflicts, key=repr)


@given(histories(append_only=True))
def test_client_equal_to_ancestor_yields_the_server_document(
    history: tuple[Doc, Doc, Doc],
) -> None:
    ancestor, _, server = history
    # The client's copy of the ancestor: same content, no updatedAt, nulls dropped.
    client = {k: v for k, v in ancestor.items() if v is not None}
    result = merge(ancestor, client, server, POLICIES)
    assert same_content(result.document, server, POLICIES)
    assert result.conflicts == []


@given(histories(append_only=True))
def test_server_equal_to_ancestor_yields_the_client_document(
    history: tuple[Doc, Doc, Doc],
) -> None:
    ancestor, client, _ = history
    server = ancestor | {"updatedAt": 1e12}
    result = merge(ancestor, client, server, POLICIES)
    assert same_content(result.document, client, POLICIES)
    assert result.conflicts == []
    assert not result.client_must_adopt


@given(histories())
def test_no_track_point_is_ever_lost(history: tuple[Doc, Doc, Doc]) -> None:
    ancestor, client, server = history
    result = merge(ancestor, client, server, POLICIES)
    merged = track_ids(result.document.get("track"))
    assert track_ids(server.get("track")) <= merged
    if not track_ids(client.get("track")) <= merged:
        assert "track" in fields_in(result)


@given(histories())
def test_every_write_is_in_the_final_state_or_in_the_conflict_log(
    history: tuple[Doc, Doc, Doc],
) -> None:
    ancestor, client, server = history
    result = merge(ancestor, client, server, POLICIES)
    logged = fields_in(result)
    for name in all_fields(ancestor, client, server):
        old, new = ancestor.get(name), result.document.get(name)
        for side in (client, server):  # the server's state is other officers' writes
            wrote = not policy(name).same(old, side.get(name))
            if wrote and name not in logged:
                assert write_is_kept(name, old, side.get(name), new), name
    flags = [bool(d.get("deleted")) for d in (ancestor, client, server)]
    for flag in flags[1:]:
        if flag != flags[0] and "deleted" not in logged:
            assert result.document["deleted"] is flag
    # The result differs from what the client sent only where the server changed it or the log
    # says why; and the client is told exactly when it differs.
    for name in all_fields(client, result.document):
        if not policy(name).same(client.get(name), result.document.get(name)):
            changed_by_server = not policy(name).same(ancestor.get(name), server.get(name))
            assert changed_by_server or name in logged, name
    assert result.client_must_adopt == (not same_content(result.document, client, POLICIES))


@given(histories())
def test_set_elements_both_sides_kept_are_kept(history: tuple[Doc, Doc, Doc]) -> None:
    ancestor, client, server = history
    result = merge(ancestor, client, server, POLICIES)
    for name in ("participants", "volunteers"):
        set_policy = policy(name)
        assert isinstance(set_policy, SetPolicy)
        a, c, s, r = (
            keyed(set_policy, d.get(name)) for d in (ancestor, client, server, result.document)
        )
        for key in c.keys() & s.keys():
            assert key in r, (name, key)
        for key in a.keys() - c.keys() - s.keys():
            assert key not in r


@given(histories(append_only=True), st.booleans())
def test_a_retried_push_changes_nothing_and_logs_nothing_new(
    history: tuple[Doc, Doc, Doc], believes_new: bool
) -> None:
    ancestor, client, server = history
    assumed = None if believes_new else ancestor
    first = decide_push_row(server, assumed, client, POLICIES)
    stored = first.document if first.changes_stored else server
    retry = decide_push_row(stored, assumed, client, POLICIES)
    assert not retry.changes_stored
    assert same_content(retry.document, stored, POLICIES)
    assert {c.fingerprint() for c in retry.conflicts} <= {c.fingerprint() for c in first.conflicts}


def test_policy_helpers_are_total_on_bad_values() -> None:
    # A bad value that slipped past validation must not fail the batch: it is treated as a scalar.
    result = merge({"track": "junk"}, {"track": [point(1)]}, {"track": 5}, POLICIES)
    assert result.document["track"] == 5
    assert [c.reason for c in result.conflicts] == ["server_wins"]
    weird: list[JSON] = [{"t": "not a time", "lat": 1.0}, {"t": float("nan")}, "x"]
    outcome = TRACK.merge([], weird, [point(1)])
    assert outcome.conflict is None
    assert cast(list[JSON], outcome.value)[0] == point(1)
    assert len(cast(list[JSON], outcome.value)) == 4

    def by_id(element: JSON) -> JSON:
        return cast(Mapping[str, JSON], element)["id"]  # a TypeError on a string element

    outcome = SetPolicy(key=by_id).merge([], ["a"], [{"id": 1}])
    assert outcome == SetPolicy(key=by_id).merge(None, ["a"], [{"id": 1}])
    assert outcome.value == [{"id": 1}, "a"]


def test_a_push_without_ancestor_logs_a_cleared_field_the_server_kept() -> None:
    # A phone created the visit, its reply was lost, another device edited it, and the phone then
    # cleared `concerns`: with no common ancestor the null is a change too, kept in the log.
    stored = visit(concerns="噪音扰民", status="escalated")
    pushed = visit(concerns=None, status="resolved")

    decision = decide_push_row(stored, None, pushed, VISIT.policies)

    assert decision.kind == "merged"
    assert doc_of(decision)["concerns"] == "噪音扰民"
    assert doc_of(decision)["status"] == "resolved"  # forward-only: the furthest along wins
    logged = {(c.field, c.client) for c in decision.conflicts}
    assert ("concerns", None) in logged and ("status", "resolved") in logged


@given(texts, texts, texts)
def test_every_line_either_side_added_is_in_the_record_or_a_competing_version(
    ancestor: str | None, client: str | None, server: str | None
) -> None:
    """The line merge's guarantee, for any ancestor, server and phone text.

    A side *added* a line when its text has the line and the ancestor's does not. Every line the
    server added is in the result. Every line the phone added is in the result too, except at
    places where both sides changed or removed the same existing lines and the phone's version
    lost there; exactly then a `text_lines` conflict is logged, and the record shows it as a
    competing version whose lines are the phone's added lines the result lacks. So the result
    and the competing versions together hold every added line.
    """
    result = concerns_merge(ancestor, client, server)
    merged = set(text_lines(doc_of(result)["concerns"]))
    old, mine, theirs = (set(text_lines(v)) for v in (ancestor, client, server))

    assert theirs - old <= merged
    if not result.conflicts:
        assert mine - old <= merged
    else:
        assert [c.reason for c in result.conflicts] == ["text_lines"]
        assert text_lines(doc_of(result)["concerns"]) != text_lines(client)  # it did lose
    # Every logged conflict is shown, with exactly the added lines the result lacks.
    versions = shown(result)
    assert len(versions) == len(result.conflicts)
    competing = {line for _, lines in versions for line in lines}
    assert competing == (mine - old) - merged
    assert mine - old <= merged | competing


@given(
    distinct_texts.flatmap(lambda a: st.tuples(st.just(a), text_edits(a, "c"), text_edits(a, "s")))
)
def test_a_retried_text_merge_changes_nothing_and_logs_nothing_new(
    history: tuple[str | None, str | None, str | None],
) -> None:
    """A push retried after its reply was lost meets its own merge as the stored text: nothing
    changes and no conflict is new. For notes as the app edits them (lines kept, changed,
    removed or inserted in place; none repeated word for word in the ancestor): where lines are
    repeated or moved their alignment is ambiguous, and a retry may align them otherwise and
    repeat a line or log the place as competing (by the property above, it loses no line)."""
    ancestor, client, server = (visit(concerns=v) for v in history)
    first = decide_push_row(server, ancestor, client, VISIT.policies)
    stored = first.document if first.changes_stored else server
    retry = decide_push_row(stored, ancestor, client, VISIT.policies)
    assert not retry.changes_stored
    assert {c.fingerprint() for c in retry.conflicts} <= {c.fingerprint() for c in first.conflicts}
