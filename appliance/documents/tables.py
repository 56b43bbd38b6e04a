"""Tables in files: a spreadsheet saved as CSV, an Excel workbook (.xlsx, known by its content),
or JSON (a list of objects), read into rows of text under their column names.

What the rows mean is the caller's (catalog/formats.py: products; orders/sheet.py: orders): this
module only reads, and refuses what can't be read with the reason in the owner's language. The
words that name the content ("no products found", "more than 50,000 rows") are the caller's
(``Words``); the ones about the file itself (not UTF-8, not valid CSV, an old .xls) are shared,
and keep the ``catalog.*`` msgids they had when only the catalog read tables.

Real files carry a byte-order mark, quoted multi-line cells, a title row or two above the header
in Excel, and dates and whole numbers stored as numbers: each cell reads as the same cell saved
as CSV would.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from appliance.kb.entry import EntryError

MAX_FILE_BYTES = 20 * 1024 * 1024
# An .xlsx is a zip: 20 MB of it can unpack to gigabytes of XML (a zip bomb). Real catalogs
# unpack to 5-10 times their size; this is ten times that.
MAX_XLSX_UNPACKED = 200 * 1024 * 1024
MAX_COLUMNS = 200
_EXCEL_ROWS = 1_048_576  # a sheet's last row in Excel: a row numbered past it is a forged file
_TITLE_ROWS = 5  # one-cell rows above a sheet's header taken for its title, at most
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and any password-protected Office file


@dataclass(frozen=True)
class Words:
    """The msgids that name what a file should hold, when it doesn't: the caller's."""

    empty: str  # nothing in the file
    web_page: str  # an HTML page where a table was expected
    not_a_list: str  # JSON that isn't a list of objects
    too_many: str  # more than ``max_rows`` rows ({n})
    list_keys: tuple[str, ...] = ()  # a JSON object's key holding the list ({"products": [...]})


@dataclass
class Table:
    """A file's rows as text, and the mapping the caller guessed for it."""

    name: str
    columns: list[str]
    rows: list[dict[str, str]]
    mapping: dict[str, Any] = field(default_factory=dict)
    # JSON products' own variants, kept with their product's row index
    variants: dict[int, list[dict[str, str]]] = field(default_factory=dict)
    # Each row's number in its sheet, where it isn't its index + 2 (a spreadsheet's header need
    # not be its first row, and blank rows are skipped): what an error names is what Excel shows.
    row_numbers: list[int] = field(default_factory=list)

    def where(self, i: int) -> str:
        """Row ``i`` as an error names it."""
        n = self.row_numbers[i] if i < len(self.row_numbers) else i + 2
        return f"{self.name} row {n}"


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")  # spreadsheets and WooCommerce write a byte-order mark
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise EntryError(f"{name} line {line}", "not UTF-8 text (save the file as UTF-8)", "entry.not_utf8") from None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _text_table(data: bytes, name: str, words: Words) -> Table:
    text = _decode(data, name)
    stripped = text.lstrip()
    if name.lower().endswith(".json") or stripped.startswith(("[", "{")):
        table = _json_table(text, name, words)
    else:
        if stripped.lower().startswith(("<!doctype", "<html")):
            raise EntryError(name, "this is a web page, not a CSV or JSON table", words.web_page)
        table = _csv_table(text, name, words)
    return table


def _csv_table(text: str, name: str, words: Words) -> Table:
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader, None)
        if not header:
            raise EntryError(name, "nothing found: the file is empty", words.empty)
        columns = [h.strip() for h in header]
        rows = []
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            rows.append({c: (values[i] if i < len(values) else "") for i, c in enumerate(columns) if c})
    except csv.Error as exc:
        raise EntryError(f"{name} line {reader.line_num}", f"not valid CSV ({exc})", "catalog.bad_csv") from None
    return Table(name, [c for c in columns if c], rows)


def _json_table(text: str, name: str, words: Words) -> Table:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EntryError(f"{name} line {exc.lineno}", f"not valid JSON ({exc.msg})", "entry.bad_json") from None
    if isinstance(data, dict):
        data = next((data[k] for k in words.list_keys if k in data), None)
    if not isinstance(data, list) or not all(isinstance(p, dict) for p in data):
        raise EntryError(name, "expected a list of objects", words.not_a_list)
    columns: dict[str, None] = {}
    rows, variants = [], {}
    for i, item in enumerate(data):
        row = {k: _text(v) for k, v in item.items() if k != "variants"}
        columns.update(dict.fromkeys(row))
        rows.append(row)
        if isinstance(item.get("variants"), list):
            variants[i] = [{k: _text(v) for k, v in var.items()} for var in item["variants"] if isinstance(var, dict)]
            for var in variants[i]:
                columns.update(dict.fromkeys(var))
    return Table(name, list(columns), rows, variants=variants)


def _is_xlsx(data: bytes, name: str) -> bool:
    """Whether the file is an Excel workbook, by its content (a catalog link's name says
    nothing); an old .xls or a locked workbook is refused here with what to do instead."""
    if data.startswith(_OLE2):
        raise EntryError(name, "an old Excel file (.xls) or a password-protected one", "catalog.xls")
    if data.startswith(b"PK\x03\x04"):
        return True
    if name.lower().endswith((".xlsx", ".xlsm")):  # a CSV or a web page would have been read as one
        raise EntryError(name, "not an Excel workbook, though named like one", "catalog.bad_xlsx")
    return False


def _xlsx_cell(value: Any) -> str:
    """A cell's value as the same cell saved as CSV reads: 185000 not 185000.0, a date as
    2026-11-22, an empty cell as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        # 15 significant digits, as Excel shows a number: a formula's 0.30000000000000004 is 0.3
        return str(int(value)) if value.is_integer() else f"{value:.15g}"
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _xlsx_table(data: bytes, name: str, words: Words, max_rows: int) -> Table:
    """The first sheet with anything in it, read by ``_sheet_table``. Cell values, never
    formulas (the value Excel saved with the file)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise EntryError(name, f"not a readable Excel workbook ({exc})", "catalog.bad_xlsx") from None
    if not any(p.filename == "xl/workbook.xml" for p in parts):  # a .docx, an .ods, a zip of CSVs
        raise EntryError(name, "a zip file, but not an Excel workbook", "catalog.bad_xlsx")
    # Checked before anything is unpacked: Python's zipfile never unpacks a part past the size
    # its directory declares (the CRC check fails instead), so this sum bounds the work.
    if sum(p.file_size for p in parts) > MAX_XLSX_UNPACKED:
        n = MAX_XLSX_UNPACKED // 2**20
        raise EntryError(name, f"unpacks to more than {n} MB", "catalog.xlsx_too_big", n=n)
    import openpyxl  # here: importing it costs a tenth of a second, and most catalogs are CSV

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        try:
            for sheet in workbook.worksheets:
                table = _sheet_table(sheet, name, words, max_rows)
                if table is not None:
                    return table
        finally:
            workbook.close()
    except EntryError:
        raise
    except Exception as exc:  # a damaged file fails anywhere inside openpyxl, with any error
        reason = f"not a readable Excel workbook ({type(exc).__name__}: {str(exc)[:200]})"
        raise EntryError(name, reason, "catalog.bad_xlsx") from None
    raise EntryError(name, "nothing found: the file is empty", words.empty)


def _sheet_table(sheet: Any, name: str, words: Words, max_rows: int) -> Table | None:
    """The sheet's table, or None when the sheet is empty. The header is the first row with two
    cells or more filled: a one-cell row above it is the sheet's title ("لیست قیمت آبان")."""
    # The dimension a file declares (A1:XFD1048576) is not trusted: padding every row to it
    # would be a million rows of 16,384 cells. Rows come as they are in the file, MAX_COLUMNS + 1
    # wide: the one past the limit tells a header that is too wide.
    sheet.reset_dimensions()
    titles: list[tuple[int, list[str]]] = []
    table = Table(name, [], [])
    for n, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True), start=1):
        if n > _EXCEL_ROWS:
            raise EntryError(name, f"a row past row {_EXCEL_ROWS}", "catalog.bad_xlsx")
        if table.columns:  # a data row only as wide as the header (the rest is not read, as in a CSV)
            values = values[: len(table.columns)]
        if values.count(None) == len(values):  # a missing row (a gap in the file) costs no more
            continue
        cells = [_xlsx_cell(v) for v in values]
        filled = sum(1 for c in cells if c.strip())
        if not filled:
            continue
        if table.columns:
            _add_row(table, n, cells, words, max_rows)
        elif filled == 1 and len(titles) < _TITLE_ROWS:
            titles.append((n, cells))
        else:
            header, *rest = [*titles, (n, cells)] if filled == 1 else [(n, cells)]
            _set_header(table, header[1])
            for m, row in rest:
                _add_row(table, m, row, words, max_rows)
    if not table.columns and titles:  # a one-column sheet: its first row is the header after all
        _set_header(table, titles[0][1])
        for m, row in titles[1:]:
            _add_row(table, m, row, words, max_rows)
    table.columns = [c for c in table.columns if c]  # positional while reading, as the rows' keys
    return table if table.columns else None


def _set_header(table: Table, cells: list[str]) -> None:
    if cells[MAX_COLUMNS:] and cells[MAX_COLUMNS].strip():
        n = MAX_COLUMNS
        raise EntryError(table.name, f"more than {n} columns", "catalog.too_many_columns", n=n)
    columns = [c.strip() for c in cells[:MAX_COLUMNS]]
    while columns and not columns[-1]:
        columns.pop()
    table.columns = columns


def _add_row(table: Table, n: int, cells: list[str], words: Words, max_rows: int) -> None:
    if len(table.rows) >= max_rows:  # stop reading: nothing past this could be imported
        raise EntryError(table.name, f"more than {max_rows} rows", words.too_many, n=max_rows)
    table.rows.append({c: (cells[i] if i < len(cells) else "") for i, c in enumerate(table.columns) if c})
    table.row_numbers.append(n)


def read(data: bytes, name: str, *, max_rows: int, words: Words) -> Table:
    """The file's columns and rows as text (the mapping is the caller's to guess); raises
    EntryError, with the reason in the owner's language, if it isn't a table."""
    if len(data) > MAX_FILE_BYTES:
        n = MAX_FILE_BYTES // 2**20
        raise EntryError(name, f"file larger than {n} MB", "entry.big_file", n=n)
    table = _xlsx_table(data, name, words, max_rows) if _is_xlsx(data, name) else _text_table(data, name, words)
    if not table.rows:
        raise EntryError(name, "nothing found: the file is empty", words.empty)
    if len(table.rows) > max_rows:
        raise EntryError(name, f"more than {max_rows} rows", words.too_many, n=max_rows)
    return table
