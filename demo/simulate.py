"""`meijing simulate`: N phones × M offline records against a running server, like a busy day.

Each simulated device signs in with its own device id, reads its `officerId` / `branchId` from
`me`, writes visits offline in chunks and syncs after each chunk through the reference client
(`sync.client.SyncClient`, which speaks the wire contract exactly as RxDB does). At the end every
device pulls its collection again from an empty store and checks that each record it wrote is
on the server; a missing record makes the run fail. Quarantined rows are counted from
`myQuarantinedRows`, the query a phone uses to learn what of its own was set aside.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from sync.client import LocalStore, SyncClient, SyncError
from sync.collection import VISIT

LOGIN = """
mutation SimulateLogin($username: String!, $password: String!, $deviceId: String!) {
  login(username: $username, password: $password, deviceId: $deviceId,
        deviceName: "meijing simulate") {
    ... on SignInSuccess { accessToken }
    ... on AuthError { code message }
  }
}
"""
ME = "{ me { member { id } branch { id } } }"
QUARANTINED = "{ myQuarantinedRows(first: 1) { totalCount } }"

VILLAGES = ["东关村", "西关村", "孔村", "玫瑰镇", "榆山村", "安城村", "洪范池村", "锦水村"]
CATEGORIES = ["household", "fraud_prevention", "safety_check", "dispute_mediation", "help_request"]

Progress = Callable[[int], None]


@dataclass
class DeviceResult:
    """What one simulated phone did."""

    device_id: str
    written: int = 0
    pushed: int = 0
    conflicts: int = 0
    missing: list[str] = field(default_factory=list)


@dataclass
class SimulationResult:
    """The whole run: per device, plus wall time."""

    devices: list[DeviceResult]
    seconds: float
    quarantined: int  # the account's rows set aside by the server (all its devices)

    @property
    def written(self) -> int:
        return sum(d.written for d in self.devices)

    @property
    def missing(self) -> int:
        return sum(len(d.missing) for d in self.devices)

    @property
    def conflicts(self) -> int:
        return sum(d.conflicts for d in self.devices)


class SimulationError(Exception):
    """The server refused the simulator (bad credentials, unreachable): nothing to simulate."""


async def _graphql(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str = ""
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = await http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        body = response.json()
    except (httpx.TransportError, ValueError) as exc:
        raise SimulationError(f"服务器无法访问 (server unreachable): {exc}") from exc
    if body.get("errors"):
        raise SimulationError(str(body["errors"][0].get("message")))
    return body["data"]


async def _sign_in(http: httpx.AsyncClient, username: str, password: str, device_id: str) -> str:
    data = await _graphql(
        http, LOGIN, {"username": username, "password": password, "deviceId": device_id}
    )
    result = data["login"]
    if "accessToken" not in result:
        raise SimulationError(
            f"登录失败 (sign-in failed): {result.get('code')} {result.get('message')}"
        )
    return str(result["accessToken"])


def _visit(n: int, device: int, officer_id: str, branch_id: str) -> dict[str, Any]:
    return {
        "branchId": branch_id,
        "officerId": officer_id,
        "village": VILLAGES[(n + device) % len(VILLAGES)],
        "household": f"{n % 97 + 1}号",
        "category": CATEGORIES[n % len(CATEGORIES)],
        "status": "open",
        "visitedAt": f"2026-11-{n % 28 + 1:02d}T{9 + n % 9:02d}:{n % 60:02d}:00+08:00",
        "peopleReached": 1 + n % 5,
        "concerns": "模拟走访: 群众诉求",
    }


async def _run_device(
    http: httpx.AsyncClient,
    index: int,
    username: str,
    password: str,
    records: int,
    chunk: int,
    advance: Progress,
) -> DeviceResult:
    device_id = f"simulate-{index + 1:03d}"
    result = DeviceResult(device_id)
    token = await _sign_in(http, username, password, device_id)
    me = (await _graphql(http, ME, {}, token))["me"]
    if me["member"] is None or me["branch"] is None:
        raise SimulationError(f"{username} 没有党员或支部 (has no member or branch to write as)")
    client = SyncClient(http, token, push_batch=chunk)
    written: list[str] = []
    while len(written) < records:
        size = min(chunk, records - len(written))
        for _ in range(size):
            written.append(
                client.create(
                    VISIT, _visit(len(written), index, me["member"]["id"], me["branch"]["id"])
                )
            )
        report = await client.push(VISIT)
        result.pushed += report.pushed
        result.conflicts += report.conflicts
        advance(size)
    result.written = len(written)
    # Check from the server's side: a fresh store pulls everything this device may see.
    check = SyncClient(http, token, store=LocalStore(), page_size=1000)
    await check.pull(VISIT)
    on_server = {doc["id"] for doc in check.documents(VISIT)}
    result.missing = [doc_id for doc_id in written if doc_id not in on_server]
    return result


async def simulate(
    url: str,
    username: str,
    password: str,
    devices: int,
    records: int,
    chunk: int = 100,
    advance: Progress = lambda _: None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> SimulationResult:
    """Runs `devices` phones concurrently, each writing `records` visits; see the module doc."""
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, timeout=60, transport=transport) as http:
        try:
            results = await asyncio.gather(
                *(
                    _run_device(http, i, username, password, records, chunk, advance)
                    for i in range(devices)
                )
            )
        except SyncError as exc:
            raise SimulationError(f"同步失败 (sync failed): {exc}") from exc
        seconds = time.perf_counter() - started
        token = await _sign_in(http, username, password, "simulate-check")
        quarantine = await _graphql(http, QUARANTINED, {}, token)
    return SimulationResult(
        list(results), seconds, int(quarantine["myQuarantinedRows"]["totalCount"])
    )
