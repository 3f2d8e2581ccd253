""".xlsx exports over HTTP: sheets formatted for printing, behind the same bearer token.

Small on purpose: a `Sheet` is a title, Chinese headers and rows; `workbook_bytes` lays every
sheet out the way a branch prints it for an inspection (bold shaded header repeated on each
page, column widths, frozen header, landscape A4 fitted to the page width); `xlsx_endpoint`
turns a function building sheets for a viewer into a Starlette endpoint that answers refusals
as JSON: 401 without a valid token, 403 outside the viewer's scope, 400 for bad parameters.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.auth import ViewerCache, authenticate
from app.clock import Clock
from app.db import Sessionmaker
from app.settings import Settings
from resolvers.errors import Forbidden, InputError, Problem
from resolvers.viewer import Viewer

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Cell = str | int | float | date | datetime | None
# Excel refuses sheet titles longer than this.
MAX_TITLE = 31
DEFAULT_WIDTH = 14

_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")


@dataclass(frozen=True, slots=True)
class Sheet:
    """One worksheet: `headers` in Chinese, `rows` of plain values; `widths` in characters."""

    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    widths: Sequence[int] = field(default_factory=tuple)
    # Printed at the top of every page (e.g. the unit and the period).
    caption: str | None = None
    # Number format per column (e.g. "0.0%"), None for the default.
    formats: Sequence[str | None] = field(default_factory=tuple)


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    """The workbook as .xlsx bytes (CPU work: call it through a thread, see `xlsx_response`)."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for sheet in sheets:
        ws = book.create_sheet(sheet.title[:MAX_TITLE])
        ws.append(list(sheet.headers))
        for row in sheet.rows:
            ws.append(list(row))
        for col, header in enumerate(sheet.headers, start=1):
            cell = ws.cell(row=1, column=col)
            cell.value = header
            cell.font = Font(bold=True)
            cell.fill = _HEADER_FILL
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            width = sheet.widths[col - 1] if col - 1 < len(sheet.widths) else DEFAULT_WIDTH
            ws.column_dimensions[get_column_letter(col)].width = width
        for row_cells in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=len(sheet.headers)):
            for cell in row_cells:
                cell.border = _BORDER
                fmt = (
                    sheet.formats[cell.column - 1] if cell.column - 1 < len(sheet.formats) else None
                )
                if fmt and cell.row > 1:
                    cell.number_format = fmt
        ws.freeze_panes = "A2"
        ws.print_title_rows = "1:1"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.horizontalCentered = True
        if sheet.caption:
            ws.oddHeader.center.text = sheet.caption
        ws.oddFooter.center.text = "第 &P 页 / 共 &N 页"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def xlsx_response(sheets: Sequence[Sheet], filename: str) -> Response:
    """The workbook as a download; built in a thread so the event loop keeps serving."""
    content = await asyncio.to_thread(workbook_bytes, sheets)
    return Response(
        content,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


def error_response(
    request: Request, status: int, code: str, message: str, problems: Sequence[Problem] = ()
) -> JSONResponse:
    """A refusal shaped like a GraphQL error, so clients read one format everywhere."""
    extensions: dict[str, Any] = {
        "code": code,
        "requestId": str(getattr(request.state, "request_id", "")),
    }
    if problems:
        extensions["problems"] = [
            {"field": p.field, "message": p.message, "code": p.code.value} for p in problems
        ]
    return JSONResponse(
        {"errors": [{"message": message, "extensions": extensions}]}, status_code=status
    )


Build = Callable[[AsyncSession, Viewer, Request], Awaitable[tuple[list[Sheet], str]]]
"""Reads the request's parameters, checks them and the viewer's scope, returns sheets and the
file name; raises InputError (400) or Forbidden (403)."""


@dataclass(frozen=True, slots=True)
class ExportServices:
    settings: Settings
    sessionmaker: Sessionmaker
    clock: Clock
    viewer_cache: ViewerCache


def xlsx_endpoint(
    services: ExportServices, build: Build
) -> Callable[[Request], Awaitable[Response]]:
    """A GET endpoint serving what `build` returns as an .xlsx download."""

    async def endpoint(request: Request) -> Response:
        viewer, problem = await authenticate(
            request.headers.get("authorization"),
            services.settings.secret_key,
            services.sessionmaker,
            services.clock,
            services.viewer_cache,
        )
        if viewer is None:
            return error_response(
                request, 401, "UNAUTHENTICATED", problem or "请先登录 (authentication required)"
            )
        try:
            async with services.sessionmaker() as db:
                sheets, filename = await build(db, viewer, request)
        except InputError as error:
            return error_response(request, 400, "BAD_USER_INPUT", str(error), error.problems)
        except Forbidden as error:
            return error_response(request, 403, "FORBIDDEN", str(error))
        return await xlsx_response(sheets, filename)

    return endpoint
