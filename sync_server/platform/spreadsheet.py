"""Every spreadsheet the server reads or writes: the first sheet of an .xlsx or a .csv as rows
of strings, and sheets of rows out to .xlsx (or one .csv per sheet).

xlsx goes through openpyxl's streaming modes (``read_only=True`` to read, ``write_only=True``
to write): tests/benchmarks/bench_spreadsheet.py measured them against the hand-written reader
and writer they replace (decision ``spreadsheet-openpyxl-streaming``). CSV may be UTF-8 (with
or without BOM) or GBK/GB18030, what Excel on a Chinese Windows writes (decision 005),
detected by strict decoding; anything else is refused with the line named.

Reading is defensive, because these files come from outside: a size limit and a row limit
refuse early (the sheet's declared dimension is checked before its rows are read), a part that
would unpack to more than ``MAX_XML_BYTES`` is refused as a zip bomb, and formulas are never
evaluated: a formula cell reads as ``=<formula>``, so the callers' checks refuse it. Errors are
:class:`~sync_server.platform.errors.FileFormatError` with the row named where there is one.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from sync_server.platform.errors import FileFormatError

MAX_FILE_BYTES = 40 * 1024 * 1024
MAX_ROWS = 60_000  # more students than any school has; a larger file is refused before parsing
MAX_COLUMNS = 1000
MAX_XML_BYTES = 400 * 1024 * 1024  # an uncompressed part larger than this is a zip bomb, not a roster

# (sheet title, header, rows) — what the writers take
Sheet = tuple[str, Sequence[str], Iterable[Sequence[object]]]


def cell_text(value: object) -> str:
    """A cell's value as the text a person sees: whole numbers without ``.0``, dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


# -- reading -------------------------------------------------------------------------------------
def read_rows(path: Path, *, max_rows: int = MAX_ROWS, max_bytes: int = MAX_FILE_BYTES) -> list[list[str]]:
    """The first sheet (xlsx) or the file (csv) as rows of stripped strings, limits checked.
    Row ``i`` of the list is line ``i + 1`` of the file (empty rows are kept as ``[]``)."""
    path = Path(path)
    if not path.exists():
        raise FileFormatError(f"找不到文件 {path}。")
    size = path.stat().st_size
    if size > max_bytes:
        raise FileFormatError(f"文件 {path.name} 有 {size // (1024 * 1024)} MB，超过上限 "
                              f"{max_bytes // (1024 * 1024)} MB，已拒绝。")
    if size == 0:
        raise FileFormatError(f"文件 {path.name} 是空的。")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path.read_bytes(), max_rows=max_rows)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, max_rows)
    raise FileFormatError("表格文件必须是 .xlsx 或 .csv。")


def decode_csv(raw: bytes) -> str:
    """UTF-8 (BOM or not), else GB18030; anything else refused with the first bad line named."""
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise FileFormatError("文件含有空字符（可能是 UTF-16 或二进制文件），请另存为 UTF-8 或 GBK 编码的 CSV。", row=line)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError:
            line = raw[: utf8_error.start].count(b"\n") + 1
            raise FileFormatError("无法识别的字符编码（只接受 UTF-8 或 GBK/GB18030），请用 Excel 另存为“CSV UTF-8”。",
                                  row=line) from None


def _too_many(rows: int, max_rows: int) -> FileFormatError:
    return FileFormatError(f"文件超过 {max_rows} 行数据（已读到第 {rows} 行），已拒绝；请按学校分批导入。")


def read_csv(raw: bytes, *, max_rows: int = MAX_ROWS) -> list[list[str]]:
    text = decode_csv(raw)
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            rows.append([c.strip() for c in row])
            if len(rows) > max_rows + 1:
                raise _too_many(len(rows), max_rows)
    except csv.Error as exc:
        raise FileFormatError(f"CSV 格式错误：{exc}", row=len(rows) + 1) from None
    return rows


def _read_xlsx(path: Path, max_rows: int) -> list[list[str]]:
    import openpyxl

    broken = f"无法读取 {path.name}：文件已损坏或不是 xlsx"
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.file_size > MAX_XML_BYTES:
                    raise FileFormatError(f"无法读取 {path.name}：其中的 {info.filename} 解压后过大，已拒绝。")
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileFormatError(f"{broken}（{type(exc).__name__}）。") from None
    try:
        # data_only=False: a formula reads as its text ("=..."), never as a cached result
        book = openpyxl.load_workbook(path, read_only=True, data_only=False, keep_links=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds (InvalidFileException, KeyError,
        # XML parse errors, ...) for a broken file; each one is "not a readable xlsx" to the officer
        raise FileFormatError(f"{broken}（{type(exc).__name__}）。") from None
    try:
        if not book.worksheets:
            raise FileFormatError("工作簿里没有工作表。")
        sheet = book.worksheets[0]
        declared = _declared_rows(sheet)
        if declared > max_rows + 1:
            raise _too_many(declared, max_rows)  # refuse a huge sheet before reading its rows
        # the declared dimension is not trusted for columns: rows are padded to it, and a file
        # that claims A1:XFD1048576 would make every row 16,384 cells
        sheet.reset_dimensions()
        rows: list[list[str]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > max_rows + 1:
                raise _too_many(number, max_rows)
            if len(values) > MAX_COLUMNS:
                raise FileFormatError("列数过多，已拒绝。", row=number)
            row = [cell_text(v) for v in values]
            while row and not row[-1]:
                row.pop()
            rows.append(row)
        return rows
    except FileFormatError:
        raise
    except Exception as exc:  # noqa: BLE001 - as above: a broken sheet part
        raise FileFormatError(f"无法读取 {path.name}：文件内容损坏（{type(exc).__name__}）。") from None
    finally:
        book.close()


def _declared_rows(sheet) -> int:
    try:
        return int(sheet.max_row or 0)  # from the sheet's <dimension>, read without reading rows
    except (TypeError, ValueError):
        return 0


def read_sheets(path: Path) -> dict[str, list[list[str]]]:
    """Every sheet of an xlsx (by title) as rows of strings; a csv as one sheet named after the
    file. For files the server wrote itself (exports checked by tests and the reference platform)."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        return {path.stem: read_csv(path.read_bytes())}
    import openpyxl
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return {ws.title: [[cell_text(v) for v in r] for r in ws.iter_rows(values_only=True)]
                for ws in book.worksheets}
    finally:
        book.close()


# -- writing -------------------------------------------------------------------------------------
def shown_as_text(value: object) -> object:
    """A cell a spreadsheet will show as text, never run as a formula."""
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value


def write_sheets(path: Path, sheets: Sequence[Sheet]) -> None:
    """Sheets to ``path``: an .xlsx with one worksheet each, or for .csv one file per sheet
    (the first at ``path``, the others at ``<stem>_<title>.csv``, UTF-8 with BOM so Excel
    reads the Chinese). Any cell that a spreadsheet would take for a formula is escaped."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        for n, (title, header, rows) in enumerate(sheets):
            target = path if n == 0 else path.with_name(f"{path.stem}_{title}.csv")
            with open(target, "w", encoding="utf-8-sig", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(header)
                for r in rows:
                    w.writerow([shown_as_text(v) for v in r])
        return
    if suffix != ".xlsx":
        raise FileFormatError("导出文件名必须以 .xlsx 或 .csv 结尾。")
    write_xlsx(path, [(title, header, ([shown_as_text(v) for v in r] for r in rows)) for title, header, rows in sheets])


def write_xlsx(path: Path, sheets: Sequence[Sheet]) -> None:
    """A plain xlsx (one row of headers per sheet) that Excel, WPS and openpyxl open, written
    row by row by openpyxl's ``write_only`` mode. Booleans are written as 是/否, characters XML
    cannot hold are dropped, and strings are always strings (a leading ``=`` is not a formula)."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = openpyxl.Workbook(write_only=True)
    for title, header, rows in sheets:
        ws = book.create_sheet(title[:31])

        def cell(v: object):
            if v is None or v == "":
                return None
            if isinstance(v, bool):
                return "是" if v else "否"
            if isinstance(v, (int, float)):
                return v
            text = ILLEGAL_CHARACTERS_RE.sub("", str(v))
            if text.startswith("="):  # openpyxl would store it as a formula
                c = WriteOnlyCell(ws, text)
                c.data_type = "s"
                return c
            return text

        ws.append([cell(v) for v in header])
        for r in rows:
            ws.append([cell(v) for v in r])
    book.save(path)
