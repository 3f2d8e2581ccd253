"""GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/): methods, media types,
status codes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.factory import create_app
from app.graphql_http import negotiate
from core.clock import FrozenClock
from core.db import Sessionmaker
from core.settings import Settings, SettingsError
from models import Account
from tests.conftest import Api, World

# HTTP framing, media types and status codes are decided before any SQL runs: on SQLite
# alone (the sqlite_only rule in pyproject.toml).
pytestmark = pytest.mark.sqlite_only


GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"


def media_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


async def post_json(
    client: httpx.AsyncClient, body: dict[str, Any], accept: str = JSON
) -> httpx.Response:
    return await client.post("/graphql", json=body, headers={"accept": accept})


def error_codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json()["errors"]]


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE_JSON])
async def test_get_query_works_in_the_accepted_media_type(api: Api, accept: str) -> None:
    response = await api.client.get(
        "/graphql", params={"query": "{ __typename }"}, headers={"accept": accept}
    )

    assert response.status_code == 200
    assert media_type(response) == accept
    assert response.headers["content-type"].endswith("charset=utf-8")
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_get_with_variables_and_operation_name(api: Api) -> None:
    response = await api.client.get(
        "/graphql",
        params={
            "query": "query A { a: __typename } query B($s: Boolean!) { b: __typename @skip(if: $s) }",
            "operationName": "B",
            "variables": '{"s": false}',
        },
    )

    assert response.json() == {"data": {"b": "Query"}}


async def test_missing_accept_means_graphql_response_json(api: Api) -> None:
    request = api.client.build_request("POST", "/graphql", json={"query": "{ __typename }"})
    del request.headers["accept"]

    response = await api.client.send(request)

    assert response.status_code == 200
    assert media_type(response) == GRAPHQL_RESPONSE_JSON


async def test_unacceptable_accept_is_406(api: Api) -> None:
    response = await api.client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"accept": "text/xml"}
    )

    assert response.status_code == 406
    assert error_codes(response) == ["NOT_ACCEPTABLE"]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, GRAPHQL_RESPONSE_JSON),
        ("", GRAPHQL_RESPONSE_JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("application/json", JSON),
        (
            "application/graphql-response+json; charset=utf-8, application/json; charset=utf-8",
            GRAPHQL_RESPONSE_JSON,
        ),
        ("application/json, application/graphql-response+json", GRAPHQL_RESPONSE_JSON),
        ("application/graphql-response+json;q=0.5, application/json", JSON),
        ("application/graphql-response+json;q=0, */*;q=0.1", JSON),
        ("text/html, */*;q=0.8", JSON),
        ("text/html", None),
        ("application/json;q=0", None),
        ("application/json;q=nonsense", None),
    ],
)
def test_accept_negotiation(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept) == expected


async def test_get_with_a_mutation_is_refused_with_405(
    api: Api, world: World, sessionmaker: Sessionmaker
) -> None:
    mutation = 'mutation { login(username: "admin", password: "wrong") { __typename } }'

    response = await api.client.get("/graphql", params={"query": mutation})

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert error_codes(response) == ["METHOD_NOT_ALLOWED"]
    async with sessionmaker() as db:  # halted: the wrong password was never counted
        failures = await db.scalar(select(Account.failed_logins).where(Account.username == "admin"))
    assert failures == 0


async def test_post_with_invalid_json_is_400(api: Api) -> None:
    response = await api.client.post(
        "/graphql", content=b'{"query":', headers={"content-type": JSON}
    )

    assert response.status_code == 400
    assert error_codes(response) == ["BAD_REQUEST"]
    assert (
        response.json()["errors"][0]["extensions"]["requestId"] == response.headers["x-request-id"]
    )


@pytest.mark.parametrize(
    "body",
    [b"{}", b'{"qeury": "{ __typename }"}', b'{"query": null}'],
    ids=["empty", "typo", "null"],
)
async def test_post_without_query_is_400(api: Api, body: bytes) -> None:
    response = await api.client.post("/graphql", content=body, headers={"content-type": JSON})

    assert response.status_code == 400
    assert error_codes(response) == ["BAD_REQUEST"]


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b"5",
        b'"{ __typename }"',
        b"null",
        b'{"query": 5}',
        b'{"query": "{ __typename }", "variables": [7]}',
        b'{"query": "{ __typename }", "operationName": 7}',
        b'{"query": "{ __typename }", "extensions": "x"}',
    ],
)
async def test_post_that_is_not_a_well_formed_request_is_400(api: Api, body: bytes) -> None:
    response = await api.client.post("/graphql", content=body, headers={"content-type": JSON})

    assert response.status_code == 400
    assert error_codes(response) == ["BAD_REQUEST"]


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/jsonx", None]
)
async def test_unsupported_content_type_is_415(api: Api, content_type: str | None) -> None:
    request = api.client.build_request("POST", "/graphql", content=b'{"query": "{ __typename }"}')
    if content_type is None:
        request.headers.pop("content-type", None)
    else:
        request.headers["content-type"] = content_type

    response = await api.client.send(request)

    assert response.status_code == 415
    assert error_codes(response) == ["UNSUPPORTED_MEDIA_TYPE"]


async def test_content_type_with_charset_is_accepted(api: Api) -> None:
    response = await api.client.post(
        "/graphql",
        content=b'{"query": "{ __typename }"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )

    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(("accept", "status"), [(JSON, 200), (GRAPHQL_RESPONSE_JSON, 400)])
async def test_syntax_error_in_the_document(api: Api, accept: str, status: int) -> None:
    response = await post_json(api.client, {"query": "{ me { "}, accept)

    assert response.status_code == status
    assert media_type(response) == accept
    body = response.json()
    assert "data" not in body  # a request error: execution never began
    assert error_codes(response) == ["GRAPHQL_PARSE_FAILED"]
    assert body["errors"][0]["locations"] == [{"line": 1, "column": 8}]


@pytest.mark.parametrize(("accept", "status"), [(JSON, 200), (GRAPHQL_RESPONSE_JSON, 400)])
async def test_validation_error(api: Api, accept: str, status: int) -> None:
    response = await post_json(api.client, {"query": "{ nope }"}, accept)

    assert response.status_code == status
    assert "data" not in response.json()
    assert error_codes(response) == ["GRAPHQL_VALIDATION_FAILED"]


@pytest.mark.parametrize(("accept", "status"), [(JSON, 200), (GRAPHQL_RESPONSE_JSON, 400)])
async def test_variables_that_do_not_coerce(api: Api, accept: str, status: int) -> None:
    body = {
        "query": "query($n: Int) { members(first: $n) { totalCount } }",
        "variables": {"n": "many"},
    }

    response = await post_json(api.client, body, accept)

    assert response.status_code == status
    assert "data" not in response.json()
    assert "$n" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(("accept", "status"), [(JSON, 200), (GRAPHQL_RESPONSE_JSON, 400)])
async def test_unknown_operation_name(api: Api, accept: str, status: int) -> None:
    body = {"query": "query A { __typename }", "operationName": "B"}

    response = await post_json(api.client, body, accept)

    assert response.status_code == status
    assert "data" not in response.json()
    assert error_codes(response) == ["OPERATION_RESOLUTION_FAILURE"]


async def test_empty_operation_name_means_none(api: Api) -> None:
    response = await post_json(api.client, {"query": "{ __typename }", "operationName": ""})

    assert response.json() == {"data": {"__typename": "Query"}}


async def test_field_error_is_a_partial_response_with_200(api: Api) -> None:
    response = await post_json(
        api.client, {"query": "{ me { account { username } } }"}, GRAPHQL_RESPONSE_JSON
    )

    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None  # present, though null: execution ran
    assert error_codes(response) == ["UNAUTHENTICATED"]


async def test_other_methods_are_405(api: Api) -> None:
    response = await api.client.put("/graphql", json={"query": "{ __typename }"})

    assert response.status_code == 405
    assert "POST" in response.headers["allow"]


async def test_head_is_refused_with_the_methods_allowed(api: Api) -> None:
    response = await api.client.head("/graphql", params={"query": "{ __typename }"})

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


# --- the body limit (MEIJING_MAX_BODY_BYTES) --------------------------------------------------

BODY_LIMIT = 100_000
CHUNK = 64 * 1024


@dataclass
class Exchange:
    """One request driven through the ASGI app by hand, counting the body bytes it read."""

    status_code: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    bytes_read: int = 0

    def json(self) -> Any:
        return json.loads(self.body)


async def exchange(app: Any, body_size: int, *, declare_length: bool) -> Exchange:
    """POSTs `body_size` bytes of a JSON query padded with spaces, in 64 KiB chunks."""
    head = b'{"query": "{ __typename }"'
    payload = head + b" " * (body_size - len(head) - 1) + b"}"
    chunks = iter([payload[i : i + CHUNK] for i in range(0, len(payload), CHUNK)])
    result = Exchange()

    async def receive() -> dict[str, Any]:
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        result.bytes_read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            result.status_code = message["status"]
            result.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            result.body += message.get("body", b"")

    headers = [(b"content-type", b"application/json"), (b"accept", JSON.encode())]
    if declare_length:
        headers.append((b"content-length", str(body_size).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("meijing.test", 80),
    }
    await app(scope, receive, send)
    return result


@pytest.fixture
async def limited_app(db_url: str, clock: FrozenClock) -> AsyncIterator[Any]:
    settings = Settings(
        database_url=db_url,
        log_level="WARNING",
        max_body_bytes=BODY_LIMIT,
        ledger_attachment_max_bytes=1000,
    )
    application = create_app(settings, clock=clock)
    yield application
    await application.state.engine.dispose()


async def test_body_declared_larger_than_the_limit_is_refused_before_it_is_read(
    limited_app: Any,
) -> None:
    response = await exchange(limited_app, 10_000_000, declare_length=True)

    assert response.status_code == 413
    assert response.bytes_read == 0


async def test_undeclared_body_is_refused_once_it_passes_the_limit(limited_app: Any) -> None:
    response = await exchange(limited_app, 10_000_000, declare_length=False)

    assert response.status_code == 413
    assert response.bytes_read <= BODY_LIMIT + CHUNK


@pytest.mark.parametrize("declare_length", [True, False])
async def test_body_at_the_limit_is_served(limited_app: Any, declare_length: bool) -> None:
    response = await exchange(limited_app, BODY_LIMIT, declare_length=declare_length)

    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_body_too_large_answers_in_the_graphql_error_shape(limited_app: Any) -> None:
    response = await exchange(limited_app, BODY_LIMIT + 1, declare_length=False)

    [error] = response.json()["errors"]
    assert error["extensions"] == {
        "code": "PAYLOAD_TOO_LARGE",
        "requestId": response.headers["x-request-id"],
    }
    assert str(BODY_LIMIT) in error["message"]
    assert response.headers["content-type"].startswith(JSON)
    # The rest of the body was never read: the connection cannot carry another request.
    assert response.headers["connection"] == "close"


def test_settings_refuse_a_body_limit_too_small_for_the_largest_attachment() -> None:
    with pytest.raises(SettingsError, match="MEIJING_MAX_BODY_BYTES"):
        Settings(max_body_bytes=10 * 1024 * 1024).check()
    Settings().check()  # the defaults fit together
