"""Response compression (app/compression.py): what is compressed, for whom, and what is not."""

from __future__ import annotations

import base64
import dataclasses
import gzip
import uuid
from pathlib import Path
from typing import Any

import brotli
import httpx
import pytest
import zstandard

from access.scope import Scope
from core.clock import FrozenClock
from core.db import Sessionmaker
from core.global_id import global_id
from core.settings import Settings
from demo.seed import seed_catalogs
from sync.collection import VISIT
from sync.push import PushRow, Writer, push
from tests.conftest import Api, World

PULL = """query($n: Int!) {
  pullVisit(limit: $n) {
    documents { id branchId officerId village household category concerns resolution status
                peopleReached visitedAt updatedAt deleted }
    checkpoint { id updatedAt }
  }
}"""
DECODE = {
    "gzip": gzip.decompress,
    "br": brotli.decompress,
    "zstd": lambda data: zstandard.ZstdDecompressor().decompressobj().decompress(data),
}


@pytest.fixture
def app_settings(settings: Settings, tmp_path: Path) -> Settings:
    return dataclasses.replace(settings, storage_dir=str(tmp_path / "files"))


async def add_visits(sessionmaker: Sessionmaker, world: World, clock: FrozenClock, n: int) -> None:
    admin = Writer(world.admin.id, None, Scope("all", writable=True))
    rows = [
        PushRow(
            {
                "id": str(uuid.uuid4()),
                "branchId": global_id("Branch", world.meigui.id),
                "officerId": global_id("Member", world.officer_member.id),
                "village": f"玫瑰村{i % 9}组",
                "category": "household",
                "concerns": "邻里纠纷,已上门调解" if i % 3 == 0 else None,
                "status": "open",
                "peopleReached": i % 5 + 1,
                "visitedAt": "2026-11-20T10:00:00+08:00",
            }
        )
        for i in range(n)
    ]
    await push(sessionmaker, VISIT, admin, rows, clock())


async def raw_post(
    api: Api, query: str, variables: dict[str, Any], token: str, **headers: str
) -> tuple[httpx.Response, bytes]:
    """The response and its body exactly as it came over the wire (not decoded)."""
    request = api.client.build_request(
        "POST",
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}", **headers},
    )
    response = await api.client.send(request, stream=True)
    wire = b"".join([chunk async for chunk in response.aiter_raw()])
    await response.aclose()
    return response, wire


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
async def test_a_pull_page_is_compressed_when_the_client_accepts_it(
    api: Api, world: World, sessionmaker: Sessionmaker, clock: FrozenClock, encoding: str
) -> None:
    await add_visits(sessionmaker, world, clock, 100)
    token = await api.login("officer.meigui")

    plain, plain_wire = await raw_post(
        api, PULL, {"n": 100}, token, **{"accept-encoding": "identity"}
    )
    packed, packed_wire = await raw_post(
        api, PULL, {"n": 100}, token, **{"accept-encoding": encoding}
    )

    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == encoding
    assert "accept-encoding" in packed.headers["vary"].lower()
    assert DECODE[encoding](packed_wire) == plain_wire
    assert len(packed_wire) * 4 < len(plain_wire)


async def test_the_best_encoding_the_client_accepts_is_chosen(
    api: Api, world: World, sessionmaker: Sessionmaker, clock: FrozenClock
) -> None:
    """Browsers and okhttp send several; an older client only gzip."""
    await add_visits(sessionmaker, world, clock, 20)
    token = await api.login("officer.meigui")

    browser, _ = await raw_post(
        api, PULL, {"n": 20}, token, **{"accept-encoding": "gzip, deflate, br"}
    )
    old, _ = await raw_post(api, PULL, {"n": 20}, token, **{"accept-encoding": "gzip"})

    assert browser.headers["content-encoding"] == "br"
    assert old.headers["content-encoding"] == "gzip"


async def test_small_responses_are_sent_as_they_are(api: Api, world: World) -> None:
    token = await api.login("officer.meigui")

    response, wire = await raw_post(api, "{ __typename }", {}, token, **{"accept-encoding": "gzip"})

    assert "content-encoding" not in response.headers
    assert wire == b'{"data":{"__typename":"Query"}}'


async def test_a_compressed_response_keeps_its_request_id(
    api: Api, world: World, sessionmaker: Sessionmaker, clock: FrozenClock
) -> None:
    await add_visits(sessionmaker, world, clock, 20)
    token = await api.login("officer.meigui")

    response, _ = await raw_post(
        api, PULL, {"n": 20}, token, **{"accept-encoding": "gzip", "x-request-id": "phone-42"}
    )

    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["x-request-id"] == "phone-42"


@pytest.mark.parametrize(
    ("content_type", "compressed"),
    [("text/plain", True), ("application/pdf", False), ("image/jpeg", False)],
)
async def test_downloads_arrive_intact_and_compressed_only_when_it_helps(
    api: Api,
    world: World,
    sessionmaker: Sessionmaker,
    clock: FrozenClock,
    content_type: str,
    compressed: bool,
) -> None:
    """Text compresses; PDFs, photos and workbooks are compressed already, so they are sent
    as stored (with their length) rather than squeezed again for nothing."""
    await seed_catalogs(sessionmaker, clock)
    token = await api.login("secretary.meigui")
    content = ("支委会会议纪要:研究发展党员工作。\n" * 200).encode()
    entry = await api(
        """mutation($input: CreateLedgerEntryInput!) {
             createLedgerEntry(input: $input) { ... on LedgerEntryPayload { entry { id } } }
           }""",
        {
            "input": {
                "branchId": global_id("Branch", world.meigui.id),
                "itemCode": "L02",
                "occurredOn": "2026-11-12",
                "title": "11月支部委员会会议",
            }
        },
        token=token,
    )
    attachment = await api(
        """mutation($input: AddLedgerAttachmentInput!) {
             addLedgerAttachment(input: $input) {
               ... on LedgerAttachmentPayload { attachment { downloadPath } }
             }
           }""",
        {
            "input": {
                "entryId": entry["data"]["createLedgerEntry"]["entry"]["id"],
                "fileName": "纪要",
                "contentType": content_type,
                "contentBase64": base64.b64encode(content).decode(),
            }
        },
        token=token,
    )
    path = attachment["data"]["addLedgerAttachment"]["attachment"]["downloadPath"]

    response = await api.client.get(
        path, headers={"authorization": f"Bearer {token}", "accept-encoding": "gzip, br"}
    )

    assert response.content == content  # httpx decodes whatever was applied
    assert ("content-encoding" in response.headers) is compressed
    if not compressed:
        assert response.headers["content-length"] == str(len(content))


async def test_workbook_exports_are_not_compressed_again(api: Api, world: World) -> None:
    token = await api.login("admin")

    response = await api.client.get(
        "/export/dashboard.xlsx",
        params={"period": "2026"},
        headers={"authorization": f"Bearer {token}", "accept-encoding": "gzip, br"},
    )

    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert response.content[:2] == b"PK"  # a zip container, compressed already
