"""Content comparison and three-way field merge for pushed documents (pure, no database).

RxDB keeps the state it last *sent* as its assumed master state, with a stale or missing
`updatedAt`, so a push is judged by content: `updatedAt` is server-owned and ignored, null and
absent are equal, `deleted` (absent = false) is compared like any other field. When the assumed
state no longer matches what is stored, the row is merged field by field with the assumed state as
the common ancestor, and every write that cannot be kept as sent ends up in a `FieldConflict`, so
nothing an officer wrote is lost.

Per field: only the client changed it -> the client's value; only the server changed it -> the
server's; both changed it to the same value -> that value; both changed it differently -> the
field's policy decides and, where a write is overruled, a conflict is recorded:

* `ServerWins` (the default for every field not listed): the server's value.
* `SetPolicy` (participants): a three-way set merge; elements are identified by a key.
* `TrackPolicy` (GPS tracks): append-only union of the points by time.
* `ForwardPolicy` (a visit's status): the furthest along of the two values.
* `TextPolicy` (officers' free text: concerns, resolution, observations, notes, a progress
  report): merged line by line against the ancestor with merge3, as version control merges a
  file. Changes to different lines are all kept; lines both sides added at the same place (two
  officers each appending a note) are all kept, the server's first; only where both changed or
  removed the same existing lines does the server's version of those lines stay, and the
  client's is logged (`text_lines`) and shown with the record as a competing version until
  someone settles it. Every line either side added is thus in the text or in a competing
  version. As in version control, changes to adjacent lines are changes to the same place. A
  retried push meets its own merge and changes nothing, as long as lines are not repeated word
  for word in the ancestor nor moved (their alignment is then ambiguous; a retry still loses no
  line, but may repeat one).

Deletes: if one side deleted the document and the other edited it, the delete wins, the other
fields are still merged into the tombstone (undeleting restores them) and the edits are logged.
"""

from __future__ import annotations

import hashlib
import json
import math
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Literal, TypeAlias, cast

from merge3 import Merge3, SequenceMatcherProtocol
from patiencediff import PatienceSequenceMatcher

JSON: TypeAlias = bool | int | float | str | Sequence["JSON"] | Mapping[str, "JSON"] | None
"""A decoded JSON value. Read-only container types, so callers may pass tuples or mappings."""

Document: TypeAlias = Mapping[str, JSON]
"""A synced document: its client-owned fields (server-owned ones are ignored)."""

DELETED = "deleted"
SERVER_OWNED_FIELDS = frozenset({"updatedAt"})
"""Fields never compared or merged: the server assigns them (`updatedAt` is only the pull cursor)."""

ConflictReason = Literal[
    "server_wins",  # a scalar both sides changed differently: the server's value was kept
    "set_element",  # a set element changed inconsistently (edited on both sides, or edited vs removed)
    "track_point",  # a track point replaced by the server's at the same time, or a removal undone
    "forward",  # both sides moved the status: the furthest along was kept
    "text_lines",  # both changed or removed the same lines of a text: the server's lines were kept
    "unknown_value",  # both sides changed a forward-only field and one value is not in its order
    "delete_vs_edit",  # one side deleted the document while the other edited it: the delete won
    "edit_of_deleted",  # a field edited by the side whose document the other side deleted
]
PushKind = Literal["insert", "update", "noop", "merged"]


@dataclass(frozen=True)
class FieldConflict:
    """One field whose concurrent writes could not all be kept as written, for the conflict log.

    `ancestor`, `client` and `server` are the field's values before the merge (the client's
    assumed master state, what it pushed, what was stored) and `result` the value stored. For
    `delete_vs_edit` the field is `deleted`.
    """

    field: str
    ancestor: JSON
    client: JSON
    server: JSON
    result: JSON
    reason: ConflictReason = "server_wins"

    def fingerprint(self) -> str:
        """A stable id of this conflict, for logging it once however often the push is retried.

        The server value is left out on purpose: when a push is retried after a lost response,
        the stored value already is the previous merge's result, but the ancestor, the client's
        write and the merged result are the same, so the retry yields the same fingerprint.
        """
        payload = [self.field, self.reason, self.ancestor, self.client, self.result]
        return hashlib.sha256(_stable_json(payload).encode()).hexdigest()


@dataclass(frozen=True)
class FieldOutcome:
    """A policy's decision for one field: the merged value, and why it is a conflict if it is."""

    value: JSON
    conflict: ConflictReason | None = None


@dataclass(frozen=True)
class MergeResult:
    """The merged document (client-owned fields only), its conflicts, and whether to return it.

    `client_must_adopt` is true when the merged document differs in content from what the client
    pushed: the server then returns the row so that the client's conflict handler adopts it.
    """

    document: dict[str, JSON]
    conflicts: list[FieldConflict]
    client_must_adopt: bool


@dataclass(frozen=True)
class PushDecision:
    """What to do with one push row.

    `kind`: `insert` (new document, taken as sent), `update` (assumed state matched, taken as sent),
    `noop` (the stored document already has this content, e.g. a retry whose response was lost:
    no new version, no conflict) or `merged` (three-way merge). `document` holds the client-owned
    fields to store; the caller assigns a fresh `updatedAt` only when `changes_stored` is true.
    Return `document` to the client when `client_must_adopt` is true.
    """

    kind: PushKind
    document: dict[str, JSON]
    conflicts: list[FieldConflict]
    client_must_adopt: bool
    changes_stored: bool


# --- policies ---------------------------------------------------------------------------------


class FieldPolicy(ABC):
    """How one field's values compare and how a change both sides made differently is decided."""

    def same(self, a: JSON, b: JSON) -> bool:
        """Whether two values of this field are equal by content (null and absent are equal)."""
        return _canon(a) == _canon(b)

    def merge(self, ancestor: JSON, client: JSON, server: JSON) -> FieldOutcome:
        """Three-way merge of one field; `resolve` decides only when both sides changed it."""
        if self.same(client, ancestor):
            return FieldOutcome(server)
        if self.same(server, ancestor):
            return FieldOutcome(client)
        if self.same(client, server):
            # Keep the server's spelling (order, int vs float) so the stored row does not change.
            return FieldOutcome(server)
        return self.resolve(ancestor, client, server)

    def merge_unrelated(self, client: JSON, server: JSON) -> FieldOutcome:
        """Merge of two different values with no common ancestor: both sides changed the field."""
        return self.resolve(None, client, server)

    @abstractmethod
    def resolve(self, ancestor: JSON, client: JSON, server: JSON) -> FieldOutcome:
        """Decide a field both sides changed to different values."""


@dataclass(frozen=True)
class ServerWins(FieldPolicy):
    """Scalars: on a real conflict the stored value stays and the conflict is logged."""

    def resolve(self, ancestor: JSON, client: JSON, server: JSON) -> FieldOutcome:
        """Keep the server's value; the client is told by getting the row back."""
        return FieldOutcome(server, "server_wins")


SERVER_WINS = ServerWins()


@dataclass(frozen=True)
class ForwardPolicy(FieldPolicy):
    """A field that only moves forward through `order` (a visit's status) when both sides move it.

    A change only one side made is taken as is, also backwards (reopening a resolved visit is a
    deliberate edit; which transitions are allowed is the row validator's business). When both
    changed it, the furthest along wins and the conflict is logged, since the other side's write
    is overruled; a value outside `order` keeps the server's.
    """

    order: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.order or len(set(self.order)) != len(self.order):
            raise ValueError(f"a forward order needs distinct values, got {self.order!r}")

    def resolve(self, ancestor: JSON, client: JSON, server: JSON) -> FieldOutcome:
        """The furthest along of client and server; the server's if either is unknown."""
        known = isinstance(client, str) and isinstance(server, str)
        if known and client in self.order and server in self.order:
            ahead = self.order.index(client) > self.order.index(server)
            return FieldOutcome(client if ahead else server, "forward")
        return FieldOutcome(server, "unknown_value")


@dataclass(frozen=True)
class FirstField:
    """A set key: the first of `names` present (non-null) in a dict element, tagged with its name.

    Tagging keeps a member id and a volunteer's name from ever being taken as the same element.
    """

    names: tuple[str, ...]

    def __call__(self, element: JSON) -> JSON:
        """The key of `element`, or None when it has none (it is then identified by content)."""
        if isinstance(element, Mapping):
            for name in self.names:
                value = element.get(name)
                if value is not None:
                    return [name, value]
        return None


@dataclass(frozen=True)
class SetPolicy(FieldPolicy):
    """A list merged as a set (participants): a three-way merge that respects both sides' removals.

    Elements are identified by `key(element)` (a JSON value), or by their whole content when
    `key` is None or returns None. Two elements with the same key are the same participant, whose
    content (a volunteer's phone, say) merges three-way too. The result is
    (ancestor ∪ added by the client ∪ added by the server) − removed by either, in the server's
    order followed by the client's additions. Conflicts: an element edited differently on both
    sides (the server's content wins), added by both with different content (the server's wins),
    or edited on one side and removed on the other (the removal wins, as for a deleted document).
    Null, absent and [] are equal; duplicates by key collapse to the first.
    """

    key: Callable[[JSON], JSON] | None = None

    @classmethod
    def by_field(cls, *names: str) -> SetPolicy:
        """Dict elements identified by the first of `names` they carry, e.g. ("memberId", "name")."""
        return cls(key=FirstField(names))

    def same(self, a: JSON, b: JSON) -> bool:
        """Equal as sets of elements (order and duplicates do not matter)."""
        left, right = _as_list(a), _as_list(b)
        if left is None or right is None:
            return _canon(a) == _canon(b)
        return {_canon(e) for e in left} == {_canon(e) for e in right}

    def resolve(self, ancestor: JSON, client: JSON, server: JSON) -> FieldOutcome:
        """The three-way set merge described on the class."""
        a_list, c_list, s_list = _as_list(ancestor), _as_list(client), _as_list(server)
        if a_list is None or c_list is None or s_list is None:
            # Not a list on some side (a bad value the validator let through): treat as a scalar.
            return FieldOutcome(server, "server_wins")
        a_items, c_items, s_items = self._index(a_list), self._index(c_list), self._index(s_list)
        merged: list[JSON] = []
        conflict = False
        for key in dict.fromkeys([*s_items, *c_items]):
            in_a, in_c, in_s = key in a_items, key in c_items, key in s_items
            if in_a and not (in_c and in_s):
                # Removed by at least one side: the removal stands; an edit on the other side
                # would silently vanish, so it is a conflict.
                kept = c_items.get(key) if in_c else s_items.get(key)
                if (in_c or in_s) and _canon(kept) != _canon(a_items[key]):
                    conflict = True
                continue
            element, clash = _merge_element(
                a_items.get(key), c_items.get(key), s_items.get(key), in_c, in_s
            )
            merged.append(element)
            conflict = conflict or clash
        return FieldOutcome(merged, "set_element" if conflict else None)

    def _index(self, elements: Iterable[JSON]) -> dict[Hashable, JSON]:
        index: dict[Hashable, JSON] = {}
        for element in elements:
            index.setdefault(self._key(element), element)
        return index

    def _key(self, element: JSON) -> Hashable:
        key: JSON = None
        if self.key is not None:
            try:
                key = self.key(element)
            except (KeyError, IndexError, TypeError, AttributeError):
                # A malformed element must not fail the whole row: identify it by content.
                key = None
        if key is None:
            return ("content", _canon(element))
        return ("key", _canon(key))


def _merge_element(
    ancestor: JSON, client: JSON, server: JSON, in_client: bool, in_server: bool
) -> tuple[JSON, bool]:
    """One kept set element: three-way on its content, the server's content on a clash."""
    if not in_server:
        return client, False
    if not in_client:
        return server, False
    a, c, s = _canon(ancestor), _canon(client), _canon(server)
    if c in (a, s):
        return server, False
    if s == a:
        return client, False
    return server, True


@dataclass(frozen=True)
class TrackPolicy(FieldPolicy):
    """An append-only list of points {time_field: ISO-8601 or epoch ms, "lat", "lng", ...}.

    Points are identified by their instant (ISO and epoch ms denoting the same instant are the
    same time; naive ISO is taken as UTC). Whenever client and server differ, the result is the
    union of both by time, sorted by time, so a merge never removes a point. At a time both
    sides have, the server's points stay; if that drops a client point, or if the union undoes a
    point removal one side made, the conflict is logged. Null, absent and [] are equal; points
    whose time cannot be read are identified by content and sorted after all others.
    """

    time_field: str = "t"

    def same(self, a: JSON, b: JSON) -> bool:
        """Equal as sets of points (order does not matter: the track is sorted by time)."""
        left, right = _as_list(a), _as_list(b)
        if left is None or right is None:
            return _canon(a) == _canon(b)
        return self._identities(left) == self._identities(right)

    def merge(self, ancestor: JSON, client: JSON, server: JSON) -> FieldOutcome:
        """Union by point time, even when only one side changed the track (append-only)."""
        a_list, c_list, s_list = _as_list(ancestor), _as_list(client), _as_list(server)
        if a_list is None or c_list is None or s_list is None:
            return super().merge(ancestor, client, server)
        if self.same(client, server):
            return FieldOutcome(server)
        c_groups, s_groups = self._groups(c_list), self._groups(s_list)
        merged: list[JSON] = []
        conflict = False
        for when in sorted(c_groups.keys() | s_groups.keys()):
            if when not in s_groups:
                merged.extend(c_groups[when])
                continue
            merged.extend(s_groups[when])
            if when in c_groups and not (
                self._identities(c_groups[when]) <= self._identities(s_groups[when])
            ):
                conflict = True  # a client point at this time lost to the server's
        in_merged = self._identities(merged)
        in_client, in_server = self._identities(c_list), self._identities(s_list)
        for point in self._identities(a_list) & in_merged:
            if point not in in_client or point not in in_server:
                conflict = True  # a removal (not allowed on a track) undone: keep a record of it
        return FieldOutcome(merged, "track_point" if conflict else None)

    def merge_unrelated(self, client: JSON, server: JSON) -> FieldOutcome:
        """Union by point time, as always (a track is append-only whatever the ancestor)."""
        return self.merge(None, client, server)

    def resolve(self, ancestor: JSON, client: JSON, server: JSON) -> FieldOutcome:
        """Only reached for a value that is not a list: keep the server's, as for a scalar."""
        return FieldOutcome(server, "server_wins")

    def _time(self, point: JSON) -> tuple[int, int, str]:
        if isinstance(point, Mapping):
            instant = _instant_us(point.get(self.time_field))
            if instant is not None:
                return (0, instant, "")
        return (1, 0, _stable_json(point))

    def _identity(self, point: JSON) -> Hashable:
        when = self._time(point)
        if when[0] == 0 and isinstance(point, Mapping):
            rest = {k: v for k, v in point.items() if k != self.time_field}
            return (when, _canon(rest))
        return (when, None)

    def _identities(self, points: Iterable[JSON]) -> set[Hashable]:
        return {self._identity(p) for p in points}

    def _groups(self, points: Iterable[JSON]) -> dict[tuple[int, int, str], list[JSON]]:
        groups: dict[tuple[int, int, str], list[JSON]] = {}
        for point in points:
            groups.setdefault(self._time(point), []).append(point)
        return groups


# Patience diff, as Breezy pairs it with merge3: it anchors on lines that occur once in both
# texts, so notes align on what is unique in them, in near-linear time. merge3's default,
# difflib's matcher, either ignores lines frequent in a long text (autojunk: 1,000 lines of one
# kind, changed at both ends, became one conflict over all of them) or, without that, took
# 39 s on 1,000 lines of two kinds, a push holding its row lock all along (bench/merge.py).
# merge3 types its matcher with a protocol the matchers' stubs do not declare; they agree at
# run time.
LINE_MATCHER = cast("type[SequenceMatcherProtocol[str]]", PatienceSequenceMatcher)


def text_lines(value: JSON) -> tuple[str, ...]:
    """The lines of a free-text value (null and "" have none); line ends are not part of a line."""
    return tuple(value.splitlines()) if isinstance(value, str) else ()


@dataclass(frozen=True)
class CompetingLines:
    """A place where both sides changed or removed the same existing lines, differently."""

    ancestor: tuple[str, ...]
    server: tuple[str, ...]
    client: tuple[str, ...]


@dataclass(frozen=True)
class TextMerge:
    """A line-by-line merge of free text: the merged lines, and where the client's competes.

    At each competing place the server's lines are in `lines`; the client's are only in
    `competing`.
    """

    lines: tuple[str, ...]
    competing: tuple[CompetingLines, ...]


def merge_text(ancestor: JSON, client: JSON, server: JSON) -> TextMerge:
    """Three-way merge of free text by lines (merge3 and patience diff, as Breezy merges files).

    Lines only one side changed, added or removed: that side's. Lines both sides added at the
    same place (two officers each appending a note): the server's, then those of the client's
    that the server's do not already hold, so that a retried push, whose stored text already is
    this merge, adds nothing twice. Existing lines both sides changed or removed: if one side's
    version there is the other's (non-empty) version plus new lines, that one; otherwise the
    server's. The client's version there competes when it removed the lines, or when some line
    of it is nowhere in the merged text.
    """
    base, ours, theirs = text_lines(ancestor), text_lines(server), text_lines(client)
    lines: list[str] = []
    contested: list[CompetingLines] = []
    for region in Merge3(base, ours, theirs, sequence_matcher=LINE_MATCHER).merge_groups():
        if region[0] != "conflict":
            lines.extend(region[1])
            continue
        _, old, kept, sent = region
        if not old:
            lines.extend(kept)
            lines.extend(_missing(sent, kept))
        elif _extends(kept, sent, old):
            lines.extend(kept)
        elif _extends(sent, kept, old):
            lines.extend(sent)
        else:
            lines.extend(kept)
            contested.append(CompetingLines(tuple(old), tuple(kept), tuple(sent)))
    merged = set(lines)
    competing = tuple(
        place for place in contested if not place.client or not merged.issuperset(place.client)
    )
    return TextMerge(tuple(lines), competing)


def _extends(longer: Sequence[str], shorter: Sequence[str], old: Sequence[str]) -> bool:
    """Whether `longer` is the non-empty `shorter` plus new lines only (none of `old`)."""
    extra = Counter(longer) - Counter(shorter)
    return bool(shorter) and not Counter(shorter) - Counter(longer) and not extra & Counter(old)


def _missing(sent: Sequence[str], kept: Sequence[str]) -> list[str]:
    """The lines of `sent` that `kept` lacks (counting repeats), in `sent`'s order."""
    spare = Counter(kept)
    missing: list[str] = []
    for line in sent:
        if spare[line]:
            spare[line] -= 1
        else:
            missing.append(line)
    return missing


@dataclass(frozen=True)
class TextPolicy(FieldPolicy):
    """Free text (a visit's concerns, a patrol's observations): merged line by line.

    See `merge_text`. Where the client's version competes, the server's lines stay and the
    conflict is logged (`text_lines`) with the client's whole text, from which `competing`
    recovers the competing lines for whoever reads the record. The result keeps the server's
    or the client's exact text when it has the same lines, and is joined by newlines otherwise.
    A value that is not text (a bad value the validator will refuse) is treated as a scalar.

    `max_length`: the field's limit. Two versions that fit may merge into a text that does not;
    the server's then stays and the client's whole version competes, rather than the row being
    quarantined for a length nobody wrote.
    """

    max_length: int | None = None

    def resolve(self, ancestor: JSON, client: JSON, server: JSON) -> FieldOutcome:
        """The line merge of both sides' changes; a conflict only where a version competes."""
        if not all(_is_text(v) for v in (ancestor, client, server)):
            return FieldOutcome(server, "server_wins")
        merged = merge_text(ancestor, client, server)
        value = _spelled(merged.lines, server, client)
        if self.max_length is not None and isinstance(value, str) and len(value) > self.max_length:
            return FieldOutcome(server, "text_lines")
        return FieldOutcome(value, "text_lines" if merged.competing else None)

    def merge_unrelated(self, client: JSON, server: JSON) -> FieldOutcome:
        """No ancestor: every line is an addition, so both texts are kept (the server's first).

        A client with no text at all against the server's text may have cleared it or never had
        it: the server's text stays and, as for any field, the client's value is logged.
        """
        if _is_text(client) and not text_lines(client) and text_lines(server):
            return FieldOutcome(server, "server_wins")
        return self.resolve(None, client, server)

    def competing(self, conflict: FieldConflict) -> tuple[str, ...] | None:
        """What a logged client version wrote that the record lacks; None if nothing competes.

        The lines are the client's that are neither in the result nor in the ancestor (none
        when it only removed lines), in its order. A `text_lines` conflict always competes.
        Any other conflict of a text field (a whole-value conflict logged before text was
        merged by lines, an edit of a deleted record) competes only when a line merge of the
        client's version into the result would still add or contest something: a fully merged
        version is no competitor.
        """
        ancestor, client, result = conflict.ancestor, conflict.client, conflict.result
        if not all(_is_text(v) for v in (ancestor, client, result)):
            return None
        if conflict.reason != "text_lines" and self.holds(ancestor, client, result):
            return None
        known = set(text_lines(result)) | set(text_lines(ancestor))
        return tuple(dict.fromkeys(line for line in text_lines(client) if line not in known))

    def holds(self, ancestor: JSON, client: JSON, result: JSON) -> bool:
        """Whether `result` holds the client's change of `ancestor`: merging it in again would
        add no line and contest none."""
        if not all(_is_text(v) for v in (ancestor, client, result)):
            return self.same(client, result)
        merged = merge_text(ancestor, client, result)
        return not merged.competing and set(text_lines(result)).issuperset(merged.lines)


def _is_text(value: JSON) -> bool:
    return value is None or isinstance(value, str)


def _spelled(lines: tuple[str, ...], server: JSON, client: JSON) -> JSON:
    """Merged lines as text: a side's own text when the lines are its lines, so that a field
    the merge left as one side wrote it compares equal to that side (line ends and all)."""
    for side in (server, client):
        if text_lines(side) == lines:
            return side
    return "\n".join(lines) if lines else None


Policies: TypeAlias = Mapping[str, FieldPolicy]
"""Per collection: field name -> policy. Fields not listed are `SERVER_WINS`."""

VISIT_STATUS_ORDER = ("open", "escalated", "resolved")
VISIT_POLICIES: Policies = MappingProxyType({"status": ForwardPolicy(VISIT_STATUS_ORDER)})


# --- documents --------------------------------------------------------------------------------


def same_content(a: Document, b: Document, policies: Policies | None = None) -> bool:
    """Whether two documents are equal in every client-owned field.

    `updatedAt` is ignored, null and absent are equal, `deleted` counts (absent/null = false),
    and lists compare in order unless the field's policy makes them a set or a track.
    """
    policies = policies or {}
    for name in _fields(a, b):
        if not policies.get(name, SERVER_WINS).same(a.get(name), b.get(name)):
            return False
    return _canon(_flag(a)) == _canon(_flag(b))


def merge(
    ancestor: Document | None,
    client: Document,
    server: Document,
    policies: Policies | None = None,
) -> MergeResult:
    """Three-way merge of a pushed document with the stored one; `ancestor` is the assumed state.

    An `ancestor` of None (the client believes the document is new, e.g. its create's reply was
    lost and another device has edited it since) means no common ancestor: every field the two
    sides hold differently, a null against a value included, is decided by its policy as a change
    both made, so the client's value is logged wherever it does not survive. The result has the
    client-owned fields of both sides (never `updatedAt`) and always a `deleted` flag. Inputs
    are not modified and the result shares no containers with them.
    """
    policies = policies or {}
    base: Document = ancestor or {}
    document: dict[str, JSON] = {}
    conflicts: list[FieldConflict] = []
    names = _fields(server, client, base)
    for name in names:
        old, mine, theirs = base.get(name), client.get(name), server.get(name)
        policy = policies.get(name, SERVER_WINS)
        if ancestor is None and not policy.same(mine, theirs):
            outcome = policy.merge_unrelated(mine, theirs)
        else:
            outcome = policy.merge(old, mine, theirs)
        if outcome.value is not None or name in client or name in server:
            document[name] = _plain(outcome.value)
        if outcome.conflict is not None:
            conflicts.append(_conflict(name, old, mine, theirs, outcome.value, outcome.conflict))

    old_flag, client_flag, server_flag = _flag(base), _flag(client), _flag(server)
    if _canon(client_flag) == _canon(old_flag):
        deleted = server_flag
    elif _canon(server_flag) == _canon(old_flag):
        deleted = client_flag
    else:
        deleted = server_flag  # both changed it: the same value for booleans
    document[DELETED] = _plain(deleted)

    client_deleted = client_flag is True and old_flag is not True
    server_deleted = server_flag is True and old_flag is not True
    if deleted is True and client_deleted != server_deleted:
        # Delete wins over edit: a tombstone is what the deleting officer meant, and the other
        # side's edits stay both in the tombstone's fields and in the log, so an admin can restore.
        editor = server if client_deleted else client
        edited = [
            n for n in names if not policies.get(n, SERVER_WINS).same(base.get(n), editor.get(n))
        ]
        if edited:
            conflicts.append(
                _conflict(DELETED, old_flag, client_flag, server_flag, deleted, "delete_vs_edit")
            )
            # Logged even where the field has a conflict of its own already: a retry of the same
            # push meets the merged field without that conflict, and must find its entry here.
            for name in edited:
                conflicts.append(
                    _conflict(
                        name,
                        base.get(name),
                        client.get(name),
                        server.get(name),
                        document.get(name),
                        "edit_of_deleted",
                    )
                )

    return MergeResult(
        document=document,
        conflicts=conflicts,
        client_must_adopt=not same_content(document, client, policies),
    )


def decide_push_row(
    stored: Document | None,
    assumed: Document | None,
    new: Document,
    policies: Policies | None = None,
) -> PushDecision:
    """The whole per-row rule of a push, judged by content (see the sync contract).

    No stored document: insert `new` (also when the client assumed one: it may have been purged).
    Stored equals `new`: a no-op, so a retry whose response was lost changes nothing. Assumed
    equals stored: an ordinary update. Otherwise a three-way merge, with an empty ancestor when
    the client believes the document is new (two phones created the same id). A retried merge
    yields the same document (`changes_stored` false) and conflicts with the same fingerprints.
    """
    if stored is None:
        return PushDecision("insert", _client_owned(new), [], False, True)
    if same_content(stored, new, policies):
        return PushDecision("noop", _client_owned(stored), [], False, False)
    if assumed is not None and same_content(assumed, stored, policies):
        return PushDecision("update", _client_owned(new), [], False, True)
    result = merge(assumed, new, stored, policies)
    return PushDecision(
        "merged",
        result.document,
        result.conflicts,
        result.client_must_adopt,
        not same_content(result.document, stored, policies),
    )


# --- helpers ----------------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _fields(*documents: Document) -> list[str]:
    """Client-owned field names of the documents, first seen first (`deleted` handled apart)."""
    names: dict[str, None] = {}
    for document in documents:
        for name in document:
            if name != DELETED and name not in SERVER_OWNED_FIELDS:
                names.setdefault(name)
    return list(names)


def _flag(document: Document) -> JSON:
    value = document.get(DELETED)
    return False if value is None else value


def _client_owned(document: Document) -> dict[str, JSON]:
    plain = {k: _plain(v) for k, v in document.items() if k not in SERVER_OWNED_FIELDS}
    plain[DELETED] = _plain(_flag(document))
    return plain


def _conflict(
    name: str, ancestor: JSON, client: JSON, server: JSON, result: JSON, reason: ConflictReason
) -> FieldConflict:
    return FieldConflict(
        name, _plain(ancestor), _plain(client), _plain(server), _plain(result), reason
    )


def _as_list(value: JSON) -> list[JSON] | None:
    """A list field's elements (null = empty), or None when the value is not a list."""
    if value is None:
        return []
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        return None
    return list(value)


def _canon(value: object) -> Hashable:
    """A hashable form equal exactly when two JSON values are equal by content.

    Null and absent dict keys are equal at every depth, 1 == 1.0, but True != 1 (Python would
    say they are equal), and NaN equals itself so that comparisons stay reflexive.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("num", value)
    if isinstance(value, float):
        if math.isnan(value):
            return ("nan",)
        return ("num", int(value) if value.is_integer() else value)
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, Mapping):
        return ("dict", frozenset((k, _canon(v)) for k, v in value.items() if v is not None))
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        return ("list", tuple(_canon(v) for v in value))
    return ("other", type(value).__name__, repr(value))


def _plain(value: JSON) -> JSON:
    """A deep copy as dicts and lists, so results never alias the caller's containers."""
    if isinstance(value, str) or value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return [_plain(v) for v in value]


def _stable_json(value: JSON) -> str:
    """Canonical JSON text: the same across processes, unlike the hash order of sets."""
    return json.dumps(
        _plain(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=repr
    )


def _instant_us(value: JSON) -> int | None:
    """Microseconds since the epoch of an ISO-8601 string or epoch milliseconds, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value * 1000
    if isinstance(value, float):
        scaled = value * 1000
        return round(scaled) if math.isfinite(scaled) else None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return (moment - _EPOCH) // _MICROSECOND
    return None
