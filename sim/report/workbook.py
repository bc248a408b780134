"""report.xlsx: one sheet per table, the headline figures, and the scenario's assumptions.

Numbers are written as numbers with a number format (never as text), so a planner can sum and
chart them. Each table sheet has its header in row 1, frozen, with a filter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import polars as pl
import xlsxwriter

from welfare_sim.sim.report.i18n import Lang

# A column: (source column, header key in i18n.COLUMNS, kind), or (source column, kind) when the
# header key is the source column's name. Kinds: text, int, vnd, pct, dec1, dec2, period,
# district (name), kind/group (translated names), bool.
Column = tuple[str, str, str] | tuple[str, str]


@dataclass
class Sheet:
    name: str
    frame: pl.DataFrame
    columns: Sequence[Column]
    note: str = ""
    titles: dict[str, str] | None = None  # header text by source column, instead of i18n

    def __post_init__(self) -> None:
        self.columns = [c if len(c) == 3 else (c[0], c[0], c[1]) for c in self.columns]


class Book:
    def __init__(self, target: Path | BinaryIO, lang: Lang) -> None:
        self.lang = lang
        options = {"strings_to_numbers": False, "strings_to_urls": False, "in_memory": True}
        self.wb = xlsxwriter.Workbook(
            target if not isinstance(target, Path) else str(target), options
        )
        self.wb.set_properties({"title": lang.t("report"), "comments": "welfare-sim report"})
        self._formats: dict[str, Any] = {}
        self.header = self.wb.add_format(
            {"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDE6F0", "border": 1}
        )
        self.wrap = self.wb.add_format({"text_wrap": True, "valign": "top"})
        self.bold = self.wb.add_format({"bold": True})
        self.title = self.wb.add_format({"bold": True, "font_size": 13})

    def fmt(self, kind: str) -> Any:
        if kind not in self._formats:
            if kind in {"int", "vnd", "pct", "dec1", "dec2", "dec3"}:
                self._formats[kind] = self.wb.add_format({"num_format": self.lang.xl_format(kind)})
            else:
                self._formats[kind] = None
        return self._formats[kind]

    def cell(self, ws: Any, row: int, col: int, value: Any, kind: str) -> None:
        """Write one value: numbers as numbers (formatted), None/NaN as blank."""
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            ws.write_blank(row, col, None)
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value)
        elif isinstance(value, int | float):
            ws.write_number(row, col, value, self.fmt(kind))
        else:
            ws.write_string(row, col, str(value), self.wrap if kind == "wrap" else None)

    def table(self, sheet: Sheet) -> None:
        lang = self.lang
        ws = self.wb.add_worksheet(sheet.name)
        cols = [c for c in sheet.columns if c[0] in sheet.frame.columns]
        widths = []
        titles = sheet.titles or {}
        for j, (src, header, _kind) in enumerate(cols):
            title = titles.get(src) or lang.col(header)
            ws.write_string(0, j, title, self.header)
            widths.append(min(max(10, len(title) * 0.55 + 2), 28))
        frame = sheet.frame
        for j, (src, _header, kind) in enumerate(cols):
            series = frame[src]
            values = series.to_list()
            converted = [self._convert(v, kind) for v in values]
            for i, value in enumerate(converted):
                self.cell(ws, i + 1, j, value, kind)
            longest = max((len(str(v)) for v in converted[:200] if v is not None), default=0)
            if kind in {"vnd", "int"}:
                longest = int(longest * 1.35)
            widths[j] = min(max(widths[j], longest + 2), 60)
        for j, width in enumerate(widths):
            ws.set_column(j, j, width)
        ws.set_row(0, 45)
        ws.freeze_panes(1, 0)
        if cols:
            ws.autofilter(0, 0, max(frame.height, 1), len(cols) - 1)
        if sheet.note:
            ws.write_string(frame.height + 2, 0, sheet.note)

    def _convert(self, value: Any, kind: str) -> Any:
        lang = self.lang
        if value is None:
            return None
        if kind == "period":
            return lang.period(str(value))
        if kind == "kind":
            return lang.name("kind", str(value))
        if kind == "group":
            return lang.name("group", str(value))
        if kind == "bool":
            return lang.t("yes") if value else lang.t("no")
        if kind in {"int", "vnd"} and isinstance(value, float) and math.isfinite(value):
            return round(value)
        return value

    def rows(
        self,
        name: str,
        header: Sequence[str],
        rows: Sequence[Sequence[tuple[Any, str]]],
        widths: Sequence[int],
        title: str = "",
        notes: Sequence[str] = (),
    ) -> None:
        """A sheet of hand-built rows: each cell is (value, kind)."""
        ws = self.wb.add_worksheet(name)
        r = 0
        if title:
            ws.write_string(0, 0, title, self.title)
            r = 2
        for note in notes:
            ws.write_string(r, 0, note)
            r += 1
        if notes:
            r += 1
        top = r
        for j, text in enumerate(header):
            ws.write_string(r, j, text, self.header)
        for row in rows:
            r += 1
            for j, (value, kind) in enumerate(row):
                self.cell(ws, r, j, value, kind)
        for j, width in enumerate(widths):
            ws.set_column(j, j, width, self.wrap if width >= 40 else None)
        ws.freeze_panes(top + 1, 0)
        if rows:
            ws.autofilter(top, 0, r, len(header) - 1)

    def close(self) -> None:
        self.wb.close()
