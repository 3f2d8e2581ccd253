"""Wire forms of synced documents (sync/collection.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sync.collection import COLLECTIONS, Collection
from sync.pull import document_columns

_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "text": st.text(max_size=5),
    "enum": st.text(max_size=5),
    "int": st.integers(-5, 10**6),
    "datetime": st.text(max_size=25),
    "branch": st.uuids(),
    "member": st.uuids(),
    "json": st.text(max_size=5),
}


@st.composite
def rows(draw: st.DrawFn, collection: Collection) -> tuple[Any, ...]:
    values: list[Any] = [draw(st.text(min_size=1, max_size=36))]
    for f in collection.fields:
        optional = st.none() if not f.required else st.nothing()
        values.append(draw(_VALUES[f.kind] | optional))
    values.append(draw(st.integers(0, 2**53)))
    values.append(draw(st.booleans()))
    return tuple(values)


@given(data=st.data())
def test_rows_to_wire_equals_to_wire_row_by_row(data: st.DataObject) -> None:
    collection = data.draw(st.sampled_from(sorted(COLLECTIONS.values(), key=lambda c: c.key)))
    batch = data.draw(st.lists(rows(collection), max_size=4))
    names = [column.key for column in document_columns(collection)]
    named = [SimpleNamespace(**dict(zip(names, row, strict=True))) for row in batch]
    wire = collection.rows_to_wire(batch)
    assert wire == [collection.to_wire(row) for row in named]
    # Key order too: the fast pull path relies on it.
    assert [list(d) for d in wire] == [list(collection.to_wire(r)) for r in named]


def test_rows_to_wire_of_no_rows_is_empty() -> None:
    assert COLLECTIONS["visit"].rows_to_wire([]) == []
