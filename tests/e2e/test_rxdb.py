"""The real client: RxDB's replicateGraphQL (memory storage, graphql-ws for the stream), wired as
the README tells phone developers, against a real uvicorn server on each database.

Each test runs one scenario of tests/e2e/rxdb/scenario.mjs in Node and asserts on the JSON it
reports. `make test` installs the Node project (`npm ci` from its lock file); without Node or
that install these tests fail, since a skipped real-client test would prove nothing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from schema.node import to_global_id
from sync.stream_guard import SIGNED_OUT
from tests.conftest import TEST_PASSWORD, World
from tests.e2e.test_server import (
    Server,
    graphql,
    production_env,
    serving,
)
from tests.schema.test_sync import PULL_VISIT, PUSH_VISIT, visit

pytestmark = pytest.mark.e2e

HARNESS = Path(__file__).resolve().parent / "rxdb"
SCENARIO_SECONDS = 120.0
"""Only so a hung client fails the test instead of the run; each scenario bounds its waits."""

LOGIN = """mutation($u: String!, $p: String!, $d: String) {
  login(username: $u, password: $p, deviceId: $d) {
    ... on SignInSuccess { accessToken session { id } }
  }
}"""


@pytest.fixture(scope="session")
def node() -> str:
    """Node and the installed harness; a failure (not a skip) when either is missing."""
    found = shutil.which("node")
    if found is None:
        pytest.fail("node (20 or later) is needed for the RxDB tests: apt-get install nodejs npm")
    if not (HARNESS / "node_modules" / "rxdb" / "package.json").exists():
        pytest.fail(f"the RxDB harness is not installed: run `make test` (npm ci in {HARNESS})")
    return found


@pytest.fixture
def server(db_url: str, world: World, tmp_path: Path) -> Iterator[Server]:
    # A revoked session's stream ends within a second, not the production default's five.
    env = production_env(db_url, MEIJING_LOG_LEVEL="INFO", MEIJING_SESSION_CACHE_SECONDS="1")
    with serving(env, tmp_path / "server.log") as started:
        yield started


async def sign_in(server: Server, username: str, device: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0) as client:
        data = await graphql(client, LOGIN, u=username, p=TEST_PASSWORD, d=device)
    signed_in: dict[str, Any] = data["login"]
    return signed_in


async def config_for(server: Server, world: World, **devices: str) -> dict[str, Any]:
    """What a scenario needs: the server's URLs, the officer's ids and one token per device."""
    tokens, sessions = {}, {}
    for name, device in devices.items():
        signed_in = await sign_in(server, "officer.meigui", device)
        tokens[name] = signed_in["accessToken"]
        sessions[name] = signed_in["session"]["id"]
    return {
        "http": f"{server.url}/graphql",
        "ws": server.url.replace("http://", "ws://") + "/graphql",
        "branchId": to_global_id("Branch", world.meigui.id),
        "officerId": to_global_id("Member", world.officer_member.id),
        "tokens": tokens,
        "sessionId": sessions.get("a"),
    }


def run_scenario(node: str, server: Server, name: str, config: dict[str, Any]) -> dict[str, Any]:
    """Runs `node scenario.mjs <name>` and returns the JSON it printed last."""
    try:
        finished = subprocess.run(
            [node, "scenario.mjs", name],
            cwd=HARNESS,
            input=json.dumps(config).encode(),
            capture_output=True,
            timeout=SCENARIO_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"scenario {name} hung:\n{exc.stderr!r}\nserver:\n{server.stop()}")
    stdout, stderr = finished.stdout.decode(), finished.stderr.decode()
    if finished.returncode != 0:
        pytest.fail(f"scenario {name} failed:\n{stderr}\n{stdout}\nserver:\n{server.stop()}")
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return result


def content(doc: dict[str, Any] | None) -> dict[str, Any]:
    """A document without the server's stamp, JSON-text fields parsed (the server may
    reformat them)."""
    assert doc is not None
    shown = {k: v for k, v in doc.items() if k not in ("updatedAt", "deleted", "_deleted")}
    for field in ("participants", "track"):
        if isinstance(shown.get(field), str):
            shown[field] = json.loads(shown[field])
    return shown


async def test_rxdb_pushes_and_pulls_visits_patrols_and_service_actions(
    node: str, server: Server, world: World
) -> None:
    config = await config_for(server, world, a="phone-a", b="phone-b")
    result = run_scenario(node, server, "pushAndPull", config)
    assert result["errors"] == [], json.dumps(result["errors"], ensure_ascii=False)
    for collection in ("visit", "patrol", "serviceAction"):
        sent = result["sent"][collection]
        [received] = result["received"][collection]
        assert content(received) == content(sent), collection
        assert isinstance(received["updatedAt"], float | int)


async def test_rxdb_update_and_delete_reach_a_second_client(
    node: str, server: Server, world: World
) -> None:
    config = await config_for(server, world, a="phone-a", b="phone-b")
    result = run_scenario(node, server, "updateAndDelete", config)
    assert result["before"]["kept"] is not None and result["before"]["dropped"] is not None
    assert result["waits"] == ["seen", "seen"], result
    kept = result["after"]["kept"]
    assert (kept["concerns"], kept["status"]) == ("道路积水", "escalated")
    assert result["after"]["dropped"] is None
    assert result["errors"] == [], json.dumps(result["errors"], ensure_ascii=False)


async def test_rxdb_concurrent_edits_merge_three_way_on_both_clients(
    node: str, server: Server, world: World
) -> None:
    config = await config_for(server, world, a="phone-a", b="phone-b")
    result = run_scenario(node, server, "merge", config)
    assert result["waits"] == ["seen", "seen"], result
    # Each side's own field survives; on the field both changed the server's (A's) value wins.
    for side in ("a", "b"):
        doc = result[side]
        assert (doc["concerns"], doc["resolution"], doc["household"]) == (
            "邻里纠纷",
            "已调解",
            "张家(A)",
        ), side
    # B's conflict handler was handed the merge to adopt.
    assert [c["realMasterState"]["resolution"] for c in result["conflictsAtB"]] == ["已调解"]
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0) as client:
        admin = (await sign_in(server, "admin", "console"))["accessToken"]
        logged = await graphql(
            client,
            "{ syncConflicts(first: 20) { edges { node { documentId field client server } } } }",
            admin,
        )
    conflicts = [e["node"] for e in logged["syncConflicts"]["edges"]]
    assert [(c["documentId"], c["field"]) for c in conflicts] == [(result["id"], "household")]
    assert result["errors"] == [], json.dumps(result["errors"], ensure_ascii=False)


async def test_rxdb_pulls_every_document_across_several_pages(
    node: str, server: Server, world: World
) -> None:
    config = await config_for(server, world, a="phone-a")
    written = [visit(world) for _ in range(25)]
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0) as client:
        for batch in (written[:12], written[12:]):  # two stamps, so pages straddle a stamp
            rows = [{"assumedMasterState": None, "newDocumentState": d} for d in batch]
            data = await graphql(client, PUSH_VISIT, config["tokens"]["a"], rows=rows)
            assert data == {"pushVisit": []}
    result = run_scenario(node, server, "paging", {**config, "pullBatchSize": 10})
    assert sorted(result["ids"]) == sorted(d["id"] for d in written)
    handler_pages = [p["size"] for p in result["pages"] if p["origin"] == "handler"]
    assert handler_pages[:3] == [10, 10, 5]
    assert result["errors"] == [], json.dumps(result["errors"], ensure_ascii=False)


async def test_rxdb_receives_a_live_change_within_2_seconds(
    node: str, server: Server, world: World
) -> None:
    config = await config_for(server, world, a="phone-a", b="phone-b")
    result = run_scenario(node, server, "live", config)
    assert result["outcome"] == "seen", result
    assert result["received"]["village"] == "实时村"
    assert result["streamed"] >= 2  # the warm-up and the change came over the stream
    assert result["errors"] == [], json.dumps(result["errors"], ensure_ascii=False)


async def test_graphql_ws_client_is_told_why_its_stream_ends_when_the_session_is_revoked(
    node: str, server: Server, world: World
) -> None:
    config = await config_for(server, world, a="phone-a")
    result = run_scenario(node, server, "signedOut", config)
    assert result["events"] >= 1
    told = {"code": SIGNED_OUT.code, "reason": SIGNED_OUT.reason}
    assert result["closes"] == [told], result
    assert result["end"] == {"error": told}, result


async def test_rxdb_two_replicas_on_one_session_keep_every_edit(
    node: str, server: Server, world: World
) -> None:
    config = await config_for(server, world, a="phone-a")
    result = run_scenario(node, server, "twoReplicas", config)
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0) as client:
        pulled = await graphql(client, PULL_VISIT, config["tokens"]["a"], checkpoint=None, limit=10)
        admin = (await sign_in(server, "admin", "console"))["accessToken"]
        logged = await graphql(
            client, "{ syncConflicts(first: 20) { edges { node { documentId } } } }", admin
        )
    [stored] = pulled["pullVisit"]["documents"]
    edits = {"peopleReached": 9, "resolution": "已送医", "concerns": "独居老人需定期探访"}
    kept_everywhere = result["waits"] == ["seen", "seen"] and {k: stored[k] for k in edits} == edits
    # Or: the server logged the overruled edit and handed B its state to adopt.
    told_b = any(
        e["node"]["documentId"] == result["id"] for e in logged["syncConflicts"]["edges"]
    ) and any(c["realMasterState"]["peopleReached"] == 9 for c in result["conflictsAtB"])
    assert kept_everywhere or told_b, json.dumps({"stored": stored, **result}, ensure_ascii=False)
