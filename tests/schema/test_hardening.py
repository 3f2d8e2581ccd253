"""Limits, error codes and masking, production switches: each guarantee of the hardening issue."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from strawberry.extensions.validation_cache import _get_validate_cache

from app import graphql_http
from app.factory import create_app
from core.observability import formatter
from core.settings import DEV_SECRET_KEY, Settings, SettingsError
from schema.extensions import INTERNAL_MESSAGE
from tests.conftest import Api, ClientFor, World

# Document limits, error masking, introspection and settings are decided before any SQL
# runs: on SQLite alone (the sqlite_only rule in pyproject.toml).
pytestmark = pytest.mark.sqlite_only


REAL_KEY = "k" * 40
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


@pytest.fixture
def app_settings(db_url: str) -> Settings:
    return Settings(
        database_url=db_url,
        log_level="WARNING",
        max_query_depth=4,
        max_aliases=3,
        max_query_tokens=100,
    )


async def post(client: httpx.AsyncClient, query: str, **headers: str) -> httpx.Response:
    return await client.post("/graphql", json={"query": query}, headers=headers)


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body["errors"]]


def json_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The captured records as the service renders them."""
    render = formatter(json=True)
    return [json.loads(render.format(record)) for record in caplog.records]


async def test_query_deeper_than_the_limit_is_refused(api: Api) -> None:
    at_limit = "{ branches { edges { node { parent { name } } } } }"
    too_deep = "{ branches { edges { node { parent { parent { name } } } } } }"

    allowed = await post(api.client, at_limit)
    refused = await post(api.client, too_deep, accept=GRAPHQL_RESPONSE_JSON)

    assert "LIMIT_EXCEEDED" not in allowed.text
    assert refused.status_code == 400
    body = refused.json()
    assert "data" not in body
    assert codes(body) == ["LIMIT_EXCEEDED"]
    assert "depth" in body["errors"][0]["message"]


async def test_too_many_tokens_refused(api: Api) -> None:
    refused = await post(api.client, "{ " + "__typename " * 100 + "}")
    allowed = await post(api.client, "{ " + "__typename " * 98 + "}")

    body = refused.json()
    assert "data" not in body
    assert codes(body) == ["LIMIT_EXCEEDED"]
    assert "tokens" in body["errors"][0]["message"]
    assert allowed.json() == {"data": {"__typename": "Query"}}


async def test_too_many_aliases_refused(api: Api) -> None:
    def aliases(n: int) -> str:
        return "{ " + " ".join(f"a{i}: __typename" for i in range(n)) + " }"

    refused = (await post(api.client, aliases(4))).json()
    allowed = (await post(api.client, aliases(3))).json()

    assert "data" not in refused
    assert codes(refused) == ["LIMIT_EXCEEDED"]
    assert allowed == {"data": {"a0": "Query", "a1": "Query", "a2": "Query"}}


async def test_page_size_above_maximum_is_refused_not_capped(api: Api, world: World) -> None:
    token = await api.login("admin")
    query = "query($n: Int) { members(first: $n) { totalCount edges { node { name } } } }"

    refused = await api(query, {"n": 101}, token=token, expect_errors=True)
    at_maximum = await api(query, {"n": 100}, token=token)

    assert refused["data"] is None
    [error] = refused["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert [p["field"] for p in error["extensions"]["problems"]] == ["first"]
    assert at_maximum["data"]["members"]["totalCount"] == 4


async def test_internal_errors_are_masked_with_code_and_request_id(
    client_for: ClientFor, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A database without tables: signing in fails deep inside SQLAlchemy.
    client = await client_for(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"))
    caplog.set_level(logging.INFO, logger="meijing")

    response = await post(
        client, 'mutation { login(username: "admin", password: "x") { __typename } }'
    )

    assert response.status_code == 200
    assert "no such table" not in response.text
    assert "SELECT" not in response.text
    body = response.json()
    [error] = body["errors"]
    assert error["message"] == INTERNAL_MESSAGE
    assert error["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": response.headers["x-request-id"],
    }
    [logged] = [line for line in json_lines(caplog) if line["event"] == "internal_error"]
    assert logged["request_id"] == response.headers["x-request-id"]
    assert logged["level"] == "error"
    assert "no such table: account" in logged["exception"]


async def test_failure_outside_execution_is_masked_too(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: object) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(graphql_http, "identify", broken)
    caplog.set_level(logging.INFO, logger="meijing")

    response = await post(api.client, "{ __typename }", authorization="Bearer x")

    assert response.status_code == 500
    assert "secret detail" not in response.text
    [error] = response.json()["errors"]
    assert error["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": response.headers["x-request-id"],
    }
    [logged] = [line for line in json_lines(caplog) if line["event"] == "internal_error"]
    assert logged["request_id"] == response.headers["x-request-id"]
    assert "secret detail" in logged["exception"]


async def test_expected_errors_are_not_logged_and_strawberry_logs_nothing(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    await post(api.client, "{ me { account { username } } }")
    await post(api.client, "{ nope }")

    assert [r.name for r in caplog.records if r.name.startswith("strawberry")] == []
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_unauthenticated_query_is_coded_unauthenticated(api: Api) -> None:
    anonymous = (await post(api.client, "{ me { account { username } } }")).json()
    bad_token = (
        await post(api.client, "{ me { account { username } } }", authorization="Bearer nope")
    ).json()

    for body, code in ((anonymous, "UNAUTHENTICATED"), (bad_token, "TOKEN_INVALID")):
        assert body["data"] is None
        [error] = body["errors"]
        assert error["path"] == ["me"]
        assert error["extensions"]["code"] == code
        assert error["extensions"]["requestId"]
    # A refused token is told apart from a missing one, by its code and in words.
    assert bad_token["errors"][0]["message"] != anonymous["errors"][0]["message"]


async def test_undefined_fragment_is_refused_not_crashed(api: Api) -> None:
    body = (await post(api.client, "{ ...Missing }")).json()

    assert "data" not in body
    assert set(codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}
    assert any("Unknown fragment 'Missing'" in e["message"] for e in body["errors"])


async def test_introspection_and_graphiql_off_in_production(
    client_for: ClientFor, db_url: str
) -> None:
    client = await client_for(Settings(env="production", secret_key=REAL_KEY, database_url=db_url))

    schema = (await post(client, "{ __schema { queryType { name } } }")).json()
    type_ = (await post(client, '{ __type(name: "Query") { name } }')).json()
    ide = await client.get("/graphql", headers={"accept": "text/html"})

    for body in (schema, type_):
        assert "data" not in body
        assert set(codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}
        assert "introspection" in body["errors"][0]["message"]
    assert ide.status_code == 404
    assert "graphiql" not in ide.text.lower()
    assert (await post(client, "{ __typename }")).json() == {"data": {"__typename": "Query"}}


async def test_field_suggestions_hidden_in_production(client_for: ClientFor, db_url: str) -> None:
    production = await client_for(
        Settings(env="production", secret_key=REAL_KEY, database_url=db_url)
    )
    development = await client_for(Settings(database_url=db_url))

    hidden = (await post(production, "{ branchs { totalCount } }")).json()
    shown = (await post(development, "{ branchs { totalCount } }")).json()

    assert "Did you mean" not in hidden["errors"][0]["message"]
    assert "Did you mean" in shown["errors"][0]["message"]


async def test_introspection_and_graphiql_on_in_development(api: Api) -> None:
    schema = (await post(api.client, "{ __schema { queryType { name } } }")).json()
    ide = await api.client.get("/graphql", headers={"accept": "text/html"})

    assert schema == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert ide.status_code == 200
    assert "graphiql" in ide.text.lower()


@pytest.mark.parametrize("secret_key", [DEV_SECRET_KEY, "", "too-short-to-be-real"])
def test_production_refuses_to_start_without_a_real_secret_key(
    secret_key: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'never.db'}"
    with pytest.raises(SettingsError, match="MEIJING_SECRET_KEY"):
        create_app(Settings(env="production", secret_key=secret_key, database_url=database_url))

    monkeypatch.setenv("MEIJING_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MEIJING_SECRET_KEY", secret_key)
    with pytest.raises(SettingsError):
        Settings.from_env().check()
    with pytest.raises(SettingsError):
        create_app()
    assert not (tmp_path / "never.db").exists()


async def test_production_starts_with_a_real_secret_key(client_for: ClientFor, db_url: str) -> None:
    client = await client_for(Settings(env="production", secret_key=REAL_KEY, database_url=db_url))

    assert (await client.get("/healthz")).status_code == 200


def validation_cache_hits() -> int:
    cache: Any = _get_validate_cache(512)  # strawberry's shared LRU for ValidationCache(512)
    return int(cache.cache_info().hits)


async def test_validation_with_limits_is_cached_across_requests(api: Api) -> None:
    # The limit rules are made once per schema; a fresh class per request would never hit.
    await post(api.client, "{ a: __typename }")
    before = validation_cache_hits()

    await post(api.client, "{ a: __typename }")

    assert validation_cache_hits() == before + 1


@pytest.mark.parametrize("how", ["literal", "variable"])
async def test_scalar_refusing_a_value_is_the_clients_error_not_internal(
    api: Api, how: str
) -> None:
    fields = 'branchId: "x", title: "t", level: COUNTY'
    if how == "literal":
        query = f'mutation {{ addHonour(input: {{{fields}, awardedOn: "2026-13-45"}}) {{ __typename }} }}'
        variables: dict[str, Any] = {}
    else:
        query = f"mutation($d: Date!) {{ addHonour(input: {{{fields}, awardedOn: $d}}) {{ __typename }} }}"
        variables = {"d": "2026-13-45"}

    response = await api.client.post("/graphql", json={"query": query, "variables": variables})

    body = response.json()
    assert "data" not in body
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "2026-13-45" in body["errors"][0]["message"]
