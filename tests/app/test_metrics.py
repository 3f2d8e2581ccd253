"""GET /metrics: who may read it, and that its labels never take what a client sends."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from app.factory import create_app
from core.settings import Settings, SettingsError
from tests.conftest import Api, ClientFor, World

METRICS_TOKEN = "m" * 40
SECRET_KEY = "k" * 40


def production(db_url: str, metrics_token: str | None = None) -> Settings:
    return Settings(
        env="production",
        secret_key=SECRET_KEY,
        database_url=db_url,
        log_level="WARNING",
        metrics_token=metrics_token,
    )


async def test_production_without_a_metrics_token_serves_no_metrics(
    client_for: ClientFor, db_url: str
) -> None:
    client = await client_for(production(db_url))

    response = await client.get("/metrics")

    assert response.status_code == 404
    assert "meijing_" not in response.text


async def test_production_metrics_need_the_metrics_token(
    client_for: ClientFor, db_url: str, world: World
) -> None:
    client = await client_for(production(db_url, metrics_token=METRICS_TOKEN))
    api = Api(client)
    user_token = await api.login("admin")

    async def scrape(authorization: str | None) -> tuple[int, str | None]:
        headers = {"Authorization": authorization} if authorization else {}
        response = await client.get("/metrics", headers=headers)
        if response.status_code == 200:
            return 200, None
        assert "meijing_" not in response.text
        assert response.headers["www-authenticate"] == 'Bearer realm="metrics"'
        return response.status_code, response.json()["errors"][0]["extensions"]["code"]

    assert await scrape(None) == (401, "UNAUTHENTICATED")
    assert await scrape(f"Bearer {METRICS_TOKEN[:-1]}") == (401, "TOKEN_INVALID")
    assert await scrape(f"Bearer {METRICS_TOKEN}x") == (401, "TOKEN_INVALID")
    # A user's access token, even an admin's, is not the metrics token.
    assert await scrape(f"Bearer {user_token}") == (401, "TOKEN_INVALID")
    assert await scrape(f"Bearer {METRICS_TOKEN}") == (200, None)


async def test_development_serves_metrics_to_anyone(api: Api) -> None:
    response = await api.client.get("/metrics")

    assert response.status_code == 200
    assert "meijing_http_requests_total" in response.text


@pytest.mark.parametrize("token", ["", "short", "x" * 31])
def test_production_refuses_a_weak_metrics_token(token: str, tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'never.db'}"
    environ = {
        "MEIJING_ENV": "production",
        "MEIJING_SECRET_KEY": SECRET_KEY,
        "MEIJING_METRICS_TOKEN": token,
        "DATABASE_URL": database_url,
    }
    if token == "":
        # Empty is unset: no /metrics at all, which is a valid choice.
        assert Settings.from_env(environ).metrics_token is None
        return
    with pytest.raises(SettingsError, match="MEIJING_METRICS_TOKEN"):
        create_app(Settings.from_env(environ))


def test_metrics_operations_are_read_from_the_environment_and_checked() -> None:
    names = Settings.from_env({"MEIJING_METRICS_OPERATIONS": " SignIn, Renew ,,MyDay"})
    assert names.metrics_operations == ("SignIn", "Renew", "MyDay")
    with pytest.raises(SettingsError, match="MEIJING_METRICS_OPERATIONS"):
        Settings(metrics_operations=("SignIn", "drop table")).check()


async def test_operation_names_a_client_invents_never_become_labels(api: Api) -> None:
    invented = f"Probe_{uuid.uuid4().hex}"
    # A name this server does not know, from an anonymous client, with and without an error.
    await api(f"query {invented} {{ __typename }}")
    await api(f"query {invented}_me {{ me {{ account {{ username }} }} }}", expect_errors=True)
    await api.client.get(f"/{invented}")

    text = (await api.client.get("/metrics")).text

    assert invented not in text
    assert 'meijing_graphql_operations_total{operation="other",type="query"}' in text
    assert 'meijing_graphql_errors_total{code="UNAUTHENTICATED",operation="other"}' in text


async def test_operation_names_the_schema_knows_and_configured_ones_are_labels(
    client_for: ClientFor, db_url: str
) -> None:
    client = await client_for(
        Settings(database_url=db_url, log_level="WARNING", metrics_operations=("MyDay",))
    )
    api = Api(client)
    # RxDB's builders name operations after the root field: PullVisit, PushVisit, onStream.
    for name in ("PullVisit", "branches", "MyDay"):
        await api(f"query {name} {{ __typename }}")

    text = (await client.get("/metrics")).text

    for name in ("PullVisit", "branches", "MyDay"):
        assert f'meijing_graphql_operations_total{{operation="{name}",type="query"}}' in text
