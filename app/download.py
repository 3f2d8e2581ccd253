"""Serving the xlsx exports (exports/) and stored files as downloads over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from access.viewer import Viewer
from app.endpoint import EndpointDeps, guarded
from exports.workbook import XLSX_MEDIA_TYPE, ExportHandler, ExportRequest, xlsx_bytes


def attachment_headers(file_name: str) -> dict[str, str]:
    """Content-Disposition with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987)."""
    fallback = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_" for c in file_name)
    return {
        "content-disposition": (
            f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name)}"
        ),
        "cache-control": "no-store",
    }


def export_routes(deps: EndpointDeps, exports: Mapping[str, ExportHandler]) -> list[Route]:
    """One `GET /export/<name>.xlsx` route per registered export."""

    def endpoint(handler: ExportHandler) -> Callable[[Request, Viewer], Awaitable[Response]]:
        async def run(request: Request, viewer: Viewer) -> Response:
            made = await handler(ExportRequest(viewer, request.query_params, deps))
            # Serialising a workbook is CPU work: off the event loop.
            body = await asyncio.to_thread(xlsx_bytes, made.workbook)
            return Response(
                body, media_type=XLSX_MEDIA_TYPE, headers=attachment_headers(made.file_name)
            )

        return run

    return [
        Route(f"/export/{name}.xlsx", guarded(deps, endpoint(handler)), methods=["GET"])
        for name, handler in exports.items()
    ]
