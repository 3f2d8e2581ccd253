"""An execution fast path for `pull<Name>` queries: the response built directly from the rows.

A pull page is 1,000 flat documents of ~13 scalar fields. graphql-core completes them one field
of one object at a time (resolver lookup, type checks, path bookkeeping), which costs more than
the database and serialisation together: measured here, ~34 pages/s typed against ~460 pages/s
for the same rows serialised with orjson. For the few selection sets RxDB's builders send, this
extension answers the operation itself, after parsing, validation, limits and authentication
ran as usual and inside the response cache, metrics and error shaping, so only completion is
skipped.

It must be indistinguishable from normal execution, byte for byte: tests/schema/test_fast_pull.py
compares both over random selection sets. So it recognises only what it can prove equal — one
operation selecting one pull field, plain fields and `__typename` (aliases allowed) — and
leaves anything else (fragments, directives, repeated response keys, a value normal execution
would coerce or refuse, any exception from the pull) to normal execution, which then produces
the result or the error exactly as it always has.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, cast

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLBoolean,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_non_null_type,
)
from graphql.execution.values import get_argument_values, get_variable_values
from prometheus_client import Counter
from strawberry.extensions import SchemaExtension

from schema.context import Context, Info
from sync import collection as collections
from sync.collection import Collection

TYPENAME = "__typename"
GRAPHQL_MAX_INT = 2_147_483_647
_PLAN_CACHE_SIZE = 256

_NONE = type(None)
# The Python type a value must already have for the scalar to pass it through unchanged; any
# other value is left to normal execution, which coerces it or reports the error.
_IDENTITY_TYPES: dict[str, type] = {
    GraphQLString.name: str,
    GraphQLID.name: str,
    GraphQLInt.name: int,
    GraphQLFloat.name: float,
    GraphQLBoolean.name: bool,
}

FAST_PULLS = Counter(
    "meijing_fast_pull_total",
    "Recognised pull queries: answered by the fast path, or left to normal execution.",
    ["outcome"],
)

ROOT_FIELDS: dict[str, Collection] = {
    f"pull{c.name}": c for c in (collections.VISIT, collections.PATROL, collections.SERVICE_ACTION)
}


class NotRecognised(Exception):
    """The document or the values are not ones the fast path can prove it answers identically."""


@dataclass(frozen=True, slots=True)
class Column:
    """One selected field of a document or checkpoint: its response key and how it is checked."""

    key: str
    name: str  # field name; TYPENAME for __typename
    kind: type  # the Python type the value must have
    nullable: bool
    constant: str | None = None  # the value of __typename


@dataclass(frozen=True, slots=True)
class Plan:
    """What a recognised operation selects, computed once per document and operation name."""

    collection: Collection
    key: str  # response key of the root field
    field: FieldNode
    operation: OperationDefinitionNode
    bulk: tuple[tuple[str, str], ...]  # (response key, "documents" | "checkpoint" | TYPENAME)
    bulk_typename: str
    documents: tuple[Column, ...]
    checkpoint: tuple[Column, ...]


def _columns(
    selection: SelectionSetNode | None, kind: GraphQLObjectType, known: Iterable[str]
) -> tuple[Column, ...]:
    """The selected fields, all among `known`: fields the pull fills in as plain values (a
    field added for web frontends may have its own resolver, which only normal execution runs).
    """
    if selection is None:
        raise NotRecognised("a leaf where an object was expected")
    columns: list[Column] = []
    for node in _plain_fields(selection):
        key = node.alias.value if node.alias else node.name.value
        name = node.name.value
        if node.selection_set is not None or node.arguments:
            raise NotRecognised("not a plain scalar field")
        if name == TYPENAME:
            columns.append(Column(key, name, str, False, kind.name))
            continue
        definition = kind.fields.get(name)
        if definition is None or name not in known:
            raise NotRecognised("not a field the pull fills in")
        scalar = _IDENTITY_TYPES.get(get_named_type(definition.type).name)
        if scalar is None:
            raise NotRecognised("not a built-in scalar")
        columns.append(Column(key, name, scalar, not is_non_null_type(definition.type)))
    _unique(c.key for c in columns)
    return tuple(columns)


def _plain_fields(selection: SelectionSetNode) -> Iterator[FieldNode]:
    for node in selection.selections:
        if not isinstance(node, FieldNode) or node.directives:
            raise NotRecognised("fragments and directives take the normal path")
        yield node


def _unique(keys: Iterable[str]) -> None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:  # graphql-core would merge the fields: not worth proving equal
            raise NotRecognised("repeated response key")
        seen.add(key)


def _object_type(kind: Any) -> GraphQLObjectType:
    named = get_named_type(kind)
    if not isinstance(named, GraphQLObjectType):
        raise NotRecognised("not an object type")
    return named


def plan(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> Plan:
    """The plan for a document the fast path answers; raises NotRecognised for any other."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != len(document.definitions):
        raise NotRecognised("fragment definitions")
    if operation_name is None:
        if len(operations) != 1:
            raise NotRecognised("no single operation")
        operation = operations[0]
    else:
        named = [o for o in operations if o.name and o.name.value == operation_name]
        if len(named) != 1:
            raise NotRecognised("operation not found")
        operation = named[0]
    if operation.operation is not OperationType.QUERY or operation.directives:
        raise NotRecognised("not a plain query")
    roots = list(_plain_fields(operation.selection_set))
    if len(roots) != 1:
        raise NotRecognised("not exactly one root field")
    root = roots[0]
    collection = ROOT_FIELDS.get(root.name.value)
    query_type = schema.query_type
    if collection is None or query_type is None or root.selection_set is None:
        raise NotRecognised("not a pull field")
    pull_field = query_type.fields[root.name.value]
    bulk_type = _object_type(pull_field.type)
    if not isinstance(pull_field.type, GraphQLNonNull):
        raise NotRecognised("nullable pull field")
    bulk: list[tuple[str, str]] = []
    documents: tuple[Column, ...] = ()
    checkpoint: tuple[Column, ...] = ()
    for node in _plain_fields(root.selection_set):
        key = node.alias.value if node.alias else node.name.value
        name = node.name.value
        if node.arguments:
            raise NotRecognised("arguments below the root")
        if name == TYPENAME:
            if node.selection_set is not None:
                raise NotRecognised("selection on __typename")
        elif name == "documents":
            kind = _object_type(bulk_type.fields[name].type)
            documents = _columns(node.selection_set, kind, collection.wire_names)
        elif name == "checkpoint":
            kind = _object_type(bulk_type.fields[name].type)
            checkpoint = _columns(node.selection_set, kind, ("id", "updatedAt"))
        else:
            raise NotRecognised("unknown field of the pull result")
        bulk.append((key, name))
    _unique(k for k, _ in bulk)
    return Plan(
        collection=collection,
        key=root.alias.value if root.alias else root.name.value,
        field=root,
        operation=operation,
        bulk=tuple(bulk),
        bulk_typename=bulk_type.name,
        documents=documents,
        checkpoint=checkpoint,
    )


def _check(columns: tuple[Column, ...], rows: list[dict[str, Any]]) -> None:
    """Raises NotRecognised unless every value passes its scalar unchanged."""
    for column in columns:
        if column.constant is not None:
            continue
        # map/itemgetter/set run in C: ~30 µs per field over a 1,000-document page.
        try:
            values = list(map(itemgetter(column.name), rows))
        except KeyError:
            raise NotRecognised("a document without the field") from None
        kinds = set(map(type, values))
        allowed = {column.kind, _NONE} if column.nullable else {column.kind}
        if not kinds <= allowed:
            raise NotRecognised("a value normal execution would coerce or refuse")
        present = [v for v in values if v is not None] if column.nullable else values
        if column.kind is int and present:
            if min(present) < -GRAPHQL_MAX_INT - 1 or max(present) > GRAPHQL_MAX_INT:
                raise NotRecognised("an Int out of range")
        elif column.kind is float and not all(map(math.isfinite, present)):
            raise NotRecognised("a Float that is not finite")


def _project(columns: tuple[Column, ...], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The documents as normal execution completes them: selection order, aliases, typename."""
    if not rows:
        return []
    keys = tuple(c.key for c in columns)
    names = tuple(c.name for c in columns)
    # RxDB's builders select every field in contract order, which is the wire order: then the
    # documents already are the response, provided every row has exactly those keys in order.
    if keys == names and TYPENAME not in names and all(tuple(row) == keys for row in rows):
        return rows
    if not columns:
        return [{} for _ in rows]
    constants = {c.key: c.constant for c in columns if c.constant is not None}
    fields = [c for c in columns if c.constant is None]
    if not fields:
        return [dict(constants) for _ in rows]
    getter = itemgetter(*(c.name for c in fields))
    field_keys = tuple(c.key for c in fields)
    if len(fields) == 1:
        values: Any = ((v,) for v in map(getter, rows))
    else:
        values = map(getter, rows)
    if not constants:
        return [dict(zip(field_keys, v, strict=True)) for v in values]
    out = []
    for row_values in values:
        by_key = dict(zip(field_keys, row_values, strict=True))
        out.append({k: constants[k] if k in constants else by_key[k] for k in keys})
    return out


@dataclass(frozen=True, slots=True)
class _ContextOnly:
    """pull_bulk reads only `info.context`; the fast path has a context but no resolver Info."""

    context: Context


async def answer(
    schema: GraphQLSchema, found: Plan, context: Context, variables: dict[str, Any] | None
) -> dict[str, Any]:
    """The `data` of the operation, through the same pull_bulk as the resolvers.

    Raises NotRecognised when normal execution must answer instead; any exception pull_bulk
    raises (limit, authentication, resync) propagates and the caller falls back, so errors are
    produced by normal execution and come out identical.
    """
    from schema.sync import pull_bulk  # schema.sync imports the schema package's types

    coerced = get_variable_values(
        schema, found.operation.variable_definitions or (), variables or {}
    )
    if isinstance(coerced, list):
        raise NotRecognised("variables do not coerce")
    query_type = schema.query_type
    assert query_type is not None
    arguments = get_argument_values(query_type.fields[found.field.name.value], found.field, coerced)
    limit = arguments["limit"]
    raw_checkpoint = arguments.get("checkpoint")
    checkpoint = None if raw_checkpoint is None else _InputCheckpoint.of(raw_checkpoint)
    documents, end = await pull_bulk(
        cast(Info, _ContextOnly(context)), found.collection, checkpoint, limit
    )
    bulk: dict[str, Any] = {}
    for key, name in found.bulk:
        if name == TYPENAME:
            bulk[key] = found.bulk_typename
        elif name == "documents":
            _check(found.documents, documents)
            bulk[key] = _project(found.documents, documents)
        elif end is None:
            bulk[key] = None
        else:
            [row] = _project_checked(found.checkpoint, [end.as_dict()])
            bulk[key] = row
    return {found.key: bulk}


def _project_checked(columns: tuple[Column, ...], rows: list[dict[str, Any]]) -> list[Any]:
    _check(columns, rows)
    return _project(columns, rows)


@dataclass(frozen=True, slots=True)
class _InputCheckpoint:
    """The coerced checkpoint argument with the attributes pull_bulk reads from strawberry's."""

    id: str
    updated_at: float

    @classmethod
    def of(cls, value: Any) -> _InputCheckpoint:
        if isinstance(value, dict):
            return cls(
                value["id"], value["updatedAt"] if "updatedAt" in value else value["updated_at"]
            )
        return cls(value.id, value.updated_at)


_plans: OrderedDict[tuple[str, str | None], Plan | None] = OrderedDict()


def cached_plan(
    schema: GraphQLSchema, query: str, document: DocumentNode, name: str | None
) -> Plan | None:
    """The plan of a query string, or None; cached, as RxDB sends the same few strings.

    Keyed by the text, like the parser's cache the document comes from. Plans depend only on
    the sync types, which every schema built by build_schema shares.
    """
    key = (query, name)
    if key in _plans:
        _plans.move_to_end(key)
        return _plans[key]
    try:
        found: Plan | None = plan(schema, document, name)
    except (NotRecognised, KeyError):
        found = None
    _plans[key] = found
    if len(_plans) > _PLAN_CACHE_SIZE:
        _plans.popitem(last=False)
    return found


class FastPull(SchemaExtension):
    """Answers recognised pull queries without graphql-core's per-field completion.

    Listed before ResponseCacheExtension, which leaves an answered operation alone: pull pages
    deliberately bypass the response cache. A device asks for each page once (the checkpoint is
    in the variables), so the cache would only fill with ~1 MB of Python objects per 1,000-row
    page that nobody asks for again, evicting the answers that do repeat — measured, the server
    grew from ~110 to ~200 MiB over one initial pull. A hit would also skip device tracking.
    """

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        document = execution.graphql_document
        if (
            execution.result is None
            and isinstance(context, Context)
            and document is not None
            and execution.query is not None
        ):
            schema = execution.schema._schema
            found = cached_plan(schema, execution.query, document, execution.operation_name)
            if found is not None:
                try:
                    data = await answer(schema, found, context, execution.variables)
                except Exception:  # normal execution raises it again and reports it identically
                    FAST_PULLS.labels("fallback").inc()
                else:
                    FAST_PULLS.labels("answered").inc()
                    execution.result = ExecutionResult(data=data, errors=None)
        yield
