"""Spreadsheet exports (.xlsx), formatted the way a branch prints them for an inspection: a title
row, bold bordered Chinese headers, wrapped text, the header frozen and repeated on every printed
page, landscape A4 fitted to the page width, page numbers.

Each domain writes one `ExportHandler`; app/factory.py registers it and app/download.py serves it
at `GET /export/<name>.xlsx?...` (bearer token, 401/403/400 as JSON). A handler lays its workbook
out with `add_table` (a titled table) or `sheets_workbook` (several plain sheets of figures, each
with a caption printed on every page). Nothing here knows about HTTP.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from access.errors import ErrorCode, InputError
from access.viewer import Viewer
from core.clock import Clock
from core.db import Sessionmaker
from core.settings import Settings

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Cell = str | int | float | date | datetime | None
MAX_SHEET_TITLE = 31  # Excel refuses longer sheet titles
HEADER_FONT = Font(name="宋体", bold=True, size=11)
TITLE_FONT = Font(name="黑体", bold=True, size=16)
BODY_FONT = Font(name="宋体", size=10.5)
HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")
_THIN = Side(style="thin", color="000000")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)


class ExportDeps(Protocol):
    """What a handler reads from the app: its settings, sessions and clock."""

    @property
    def settings(self) -> Settings: ...
    @property
    def sessionmaker(self) -> Sessionmaker: ...
    @property
    def clock(self) -> Clock: ...


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What an export handler gets: the viewer, the query string and the app's dependencies."""

    viewer: Viewer
    params: Mapping[str, str]
    deps: ExportDeps

    def require(self, name: str) -> str:
        """A query parameter that must be given (REQUIRED on `name` otherwise)."""
        value = (self.params.get(name) or "").strip()
        if not value:
            raise InputError.one(name, f"缺少参数 {name} (missing parameter)", ErrorCode.REQUIRED)
        return value


@dataclass(frozen=True, slots=True)
class ExportFile:
    file_name: str  # shown to people; Chinese is fine
    workbook: Workbook


ExportHandler = Callable[[ExportRequest], Awaitable[ExportFile]]


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    width: float  # in characters; a CJK character counts about two
    centred: bool = False


def add_table(
    workbook: Workbook,
    sheet_title: str,
    heading: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    first_sheet: bool = False,
) -> Worksheet:
    """A sheet with a merged title row, one header row and the rows, ready to print."""
    if first_sheet:
        sheet = workbook.active
        assert sheet is not None
        sheet.title = sheet_title
    else:
        sheet = workbook.create_sheet(sheet_title)
    width = len(columns)
    sheet.append([heading])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.cell(1, 1).font = TITLE_FONT
    sheet.cell(1, 1).alignment = Alignment(horizontal="center", vertical="center")
    sheet.row_dimensions[1].height = 30
    sheet.append([c.header for c in columns])
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(2, index)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = CENTRE
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    for row in rows:
        sheet.append(list(row))
        for index, column in enumerate(columns, start=1):
            cell = sheet.cell(sheet.max_row, index)
            cell.font = BODY_FONT
            cell.border = BORDER
            cell.alignment = CENTRE if column.centred else WRAP
    format_for_print(sheet, title_rows="1:2")
    return sheet


def format_for_print(sheet: Worksheet, title_rows: str) -> None:
    """Header frozen on screen and repeated on paper; landscape A4, fitted to the page width."""
    first_body_row = int(title_rows.split(":")[1]) + 1
    sheet.freeze_panes = f"A{first_body_row}"
    sheet.print_title_rows = title_rows
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as needed
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.5
    footer = sheet.oddFooter
    if footer is not None:
        footer.center.text = "第 &P 页,共 &N 页"


@dataclass(frozen=True, slots=True)
class Sheet:
    """One worksheet of figures: Chinese `headers`, plain `rows`, `widths` in characters."""

    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    widths: Sequence[float] = field(default_factory=tuple)
    caption: str | None = None  # printed at the top of every page (the unit and the period)
    formats: Sequence[str | None] = field(default_factory=tuple)  # per column, e.g. "0.0%"


def sheets_workbook(sheets: Sequence[Sheet]) -> Workbook:
    """A workbook with one printable sheet per `Sheet`: header bold, shaded, frozen, repeated."""
    workbook = Workbook()
    for index, sheet in enumerate(sheets):
        if index == 0:
            ws = workbook.active
            assert ws is not None
            ws.title = sheet.title[:MAX_SHEET_TITLE]
        else:
            ws = workbook.create_sheet(sheet.title[:MAX_SHEET_TITLE])
        ws.append(list(sheet.headers))
        for row in sheet.rows:
            ws.append(list(row))
        for col in range(1, len(sheet.headers) + 1):
            header = ws.cell(1, col)
            header.font = HEADER_FONT
            header.fill = HEADER_FILL
            header.alignment = CENTRE
            width = sheet.widths[col - 1] if col - 1 < len(sheet.widths) else 14
            ws.column_dimensions[get_column_letter(col)].width = width
        for row_number in range(1, ws.max_row + 1):
            for col in range(1, len(sheet.headers) + 1):
                cell = ws.cell(row_number, col)
                cell.border = BORDER
                fmt = sheet.formats[col - 1] if col - 1 < len(sheet.formats) else None
                if row_number > 1:
                    cell.font = BODY_FONT
                    if fmt:
                        cell.number_format = fmt
        format_for_print(ws, title_rows="1:1")
        header_text = ws.oddHeader
        if sheet.caption and header_text is not None:
            header_text.center.text = sheet.caption
    return workbook


def xlsx_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
