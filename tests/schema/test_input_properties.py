"""Properties over every mutation outside the sync push, and every query: whatever a signed-in
admin sends — NUL characters, texts far over any length, numbers beyond every column, dates out
of range, real and forged ids — the answer is a result or a typed error, never an internal
error.

The arguments are drawn from the served schema, so a mutation added later is covered as it
lands. Field names steer the draws towards values that get past the first checks (real ids
for `...Id`, dates for `...On`, periods for `period`), where the database is reached.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    get_named_type,
    is_composite_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import FrozenClock
from core.db import Sessionmaker
from core.global_id import global_id
from core.settings import Settings
from demo.seed import seed_catalogs
from schema import build_schema
from tests.conftest import Api, World

SCHEMA = build_schema(Settings())._schema
assert SCHEMA.mutation_type is not None and SCHEMA.query_type is not None
# The sync push has its own contract (rows are quarantined, never refused): sync/push.py.
MUTATIONS = {n: f for n, f in SCHEMA.mutation_type.fields.items() if not n.startswith("push")}
QUERIES = dict(SCHEMA.query_type.fields)

# Lengths around the limits the models and resolvers use, and far beyond them.
LONG = st.sampled_from([33, 51, 65, 101, 129, 201, 256, 501, 1001, 2001, 4001, 20_001, 200_001])
NASTY_TEXT = st.one_of(
    st.text(max_size=30),
    st.text(max_size=10).map(lambda s: f"{s}\x00{s}"),
    LONG.map(lambda n: "长" * n),
    LONG.map(lambda n: "a" * n),
    st.sampled_from(["", " ", "\t\n", "1e19", "-1", "null", "[]", "{}", '[{"memberId": 1}]']),
)
# What a form would send: most draws are plausible, so that the one nasty value of an example
# meets a resolver and the database rather than an early refusal of another argument.
PLAIN_TEXT = st.one_of(
    st.sampled_from(
        ["玫瑰村", "支委会会议", "学习贯彻重要讲话精神", "已整改", "zhang.san", "备注"]
    ),
    st.text(alphabet="党支部会议纪要整改学习玫瑰村abc123 ", min_size=1, max_size=40),
)
TEXT = st.one_of(PLAIN_TEXT, PLAIN_TEXT, PLAIN_TEXT, NASTY_TEXT)
DATES = st.sampled_from(
    [
        "2026-05-12",
        "2026-11-27",
        "2026-12-10",
        "0001-01-01",
        "9999-12-31",
        "2026-02-30",
        "1999-12-31",
    ]
)
DATETIMES = st.sampled_from(
    [
        "2026-12-20T18:00:00+08:00",
        "2026-11-20T10:00:00+08:00",
        "0001-01-01T00:00:00+00:00",
        "9999-12-31T23:59:59-12:00",
        "2026-12-20T18:00:00",
    ]
)
PERIODS = st.sampled_from(["2026", "2026-Q2", "2026-05", "2026-13", "0000", "9999-Q4", "2026-Q9"])
CODES = st.sampled_from(["L02", "L06", "L24", "A01", "A21", "A24", "A28", "B1", "B5", "Z99"])
PLAIN_INTS = st.integers(0, 100)
INTS = st.one_of(
    PLAIN_INTS,
    PLAIN_INTS,
    st.integers(-5, 100_000),
    st.sampled_from([-(2**31), 2**31 - 1, 2**31, -(2**31) - 1, 10**19, 2**63]),
)
FLOATS = st.one_of(
    st.floats(0, 10),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e19, -1e19, 1e308, 2.0**63, 0.5, 100.0]),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | INTS | NASTY_TEXT,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def text_for(name: str, ids: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """Strings steered by the argument's name, with nasty ones always possible."""
    lowered = name.lower()
    if lowered.endswith(("id", "ids")):
        steered: st.SearchStrategy[Any] = ids
    elif lowered.endswith("on") or lowered in {"from", "to", "deadline"}:
        steered = DATES
    elif lowered.endswith("at"):
        steered = DATETIMES
    elif lowered in {"period", "month"}:
        steered = PERIODS
    elif lowered.endswith("code"):
        steered = CODES
    else:
        return TEXT
    return st.one_of(steered, steered, steered, NASTY_TEXT)


def values(
    type_: GraphQLInputType, name: str, ids: st.SearchStrategy[str]
) -> st.SearchStrategy[Any]:
    """Values for an argument or input field of `type_`, nullable ones sometimes null."""
    if isinstance(type_, GraphQLNonNull):
        return values_of(type_.of_type, name, ids)
    return st.one_of(values_of(type_, name, ids), st.none())


def values_of(type_: Any, name: str, ids: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    if isinstance(type_, GraphQLList):
        return st.lists(values(type_.of_type, name, ids), max_size=3)
    if isinstance(type_, GraphQLEnumType):
        return st.sampled_from(sorted(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        required = {
            key: values(f.type, key, ids)
            for key, f in type_.fields.items()
            if isinstance(f.type, GraphQLNonNull) and f.default_value is None
        }
        optional = {
            key: values(f.type, key, ids) for key, f in type_.fields.items() if key not in required
        }
        return st.fixed_dictionaries(required, optional=optional)
    assert isinstance(type_, GraphQLScalarType), type_
    scalar = type_.name
    if scalar == "Int":
        return INTS
    if scalar == "Float":
        return FLOATS
    if scalar == "Boolean":
        return st.booleans()
    if scalar == "Date":
        return st.one_of(DATES, DATES, DATES, NASTY_TEXT)
    if scalar == "DateTime":
        return st.one_of(DATETIMES, DATETIMES, DATETIMES, NASTY_TEXT)
    if scalar == "JSON":
        return JSON_VALUES
    return text_for(name, ids)


def operation(kind: str, name: str, field: GraphQLField) -> str:
    definitions = ", ".join(f"${arg}: {spec.type}" for arg, spec in field.args.items())
    arguments = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    selection = " { __typename }" if is_composite_type(get_named_type(field.type)) else ""
    head = f"{kind}({definitions})" if definitions else kind
    call = f"{name}({arguments})" if arguments else name
    return f"{head} {{ {call}{selection} }}"


def shown(value: Any) -> str:
    """Variables as a failure message can show them: long strings cut short."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) < 600 else f"{text[:600]}… ({len(text)} characters)"


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    return settings


@pytest.fixture
async def admin_token(
    api: Api, world: World, sessionmaker: Sessionmaker, clock: FrozenClock
) -> str:
    await seed_catalogs(sessionmaker, clock)
    return await api.login("admin")


async def send_each(
    api: Api,
    world: World,
    token: str,
    kind: str,
    fields: dict[str, GraphQLField],
    data: st.DataObject,
) -> None:
    """Sends every field once with drawn arguments; fails on the first internal error."""
    real_ids = [
        *(global_id("Branch", b.id) for b in (world.committee, world.organ, world.meigui)),
        *(global_id("Branch", b.id) for b in (world.yushan, world.meigui_group, world.task_force)),
        *(global_id("Member", m.id) for m in (world.officer_member, world.meigui_member)),
        global_id("Member", world.yushan_member.id),
    ]
    ids = st.one_of(*[st.sampled_from(real_ids)] * 4, NASTY_TEXT)
    for name, field in sorted(fields.items()):
        variables = {
            arg: data.draw(values(spec.type, arg, ids), label=f"{name}.{arg}")
            for arg, spec in field.args.items()
        }

        response = await api.client.post(
            "/graphql",
            content=json.dumps({"query": operation(kind, name, field), "variables": variables}),
            headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
        )

        codes = [e.get("extensions", {}).get("code") for e in response.json().get("errors", [])]
        assert response.status_code != 500 and "INTERNAL_SERVER_ERROR" not in codes, (
            f"{name} {shown(variables)} -> {response.status_code} {response.text[:300]}"
        )


# Each example sends every field once, so each run covers all of them.
PROPERTY = settings(
    max_examples=10,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@PROPERTY
@given(data=st.data())
async def test_no_mutation_input_is_an_internal_error(
    api: Api, world: World, admin_token: str, data: st.DataObject
) -> None:
    await send_each(api, world, admin_token, "mutation", MUTATIONS, data)


@PROPERTY
@given(data=st.data())
async def test_no_query_argument_is_an_internal_error(
    api: Api, world: World, admin_token: str, data: st.DataObject
) -> None:
    await send_each(api, world, admin_token, "query", QUERIES, data)
