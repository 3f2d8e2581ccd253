"""`GET /files/ledger/<attachment id>`: an attachment's bytes, for whoever may read its entry."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from access.errors import id_parameter
from access.viewer import Viewer
from app.download import attachment_headers
from app.endpoint import EndpointDeps, NotFound, guarded
from core.storage import FileMissing, storage_for
from resolvers.ledger import readable_attachment, verify_content


def file_routes(deps: EndpointDeps) -> list[Route]:
    storage = storage_for(deps.settings)

    async def ledger_file(request: Request, viewer: Viewer) -> Response:
        wanted = id_parameter(
            str(request.path_params["attachment_id"]),
            "LedgerAttachment",
            "id",
            "无效的附件编号 (invalid attachment id)",
        )
        async with deps.sessionmaker() as db:
            attachment = await readable_attachment(db, viewer, wanted)
        try:
            content = await storage.get(attachment.sha256)
        except FileMissing as exc:
            raise NotFound("附件文件缺失 (the file's bytes are missing)") from exc
        if not verify_content(attachment, content):
            raise RuntimeError(f"stored bytes of attachment {attachment.id} do not match")
        return Response(
            content,
            media_type=attachment.content_type,
            headers={
                **attachment_headers(attachment.file_name),
                "x-content-type-options": "nosniff",
            },
        )

    return [Route("/files/ledger/{attachment_id}", guarded(deps, ledger_file), methods=["GET"])]
