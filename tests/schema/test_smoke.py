from __future__ import annotations

from tests.conftest import Api, World


async def test_admin_lists_branches_and_members(api: Api, world: World) -> None:
    token = await api.login("admin")
    body = await api(
        "{ branches(kind: BRANCH) { totalCount edges { node { name members { name phone } } } }"
        " members { totalCount } }",
        token=token,
    )
    assert body["data"]["branches"]["totalCount"] == 2
    assert body["data"]["members"]["totalCount"] == 4
