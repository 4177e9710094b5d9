"""File exchange: the xlsx/csv templates schools upload to and download from the platform by hand.

Reading is defensive, because these files come from outside: a size and a row limit refuse
early; formulas (``=HYPERLINK(...)``, ``=cmd|...``, ``+``/``@``/``-`` prefixes) are refused,
never evaluated or stored; CSV may be UTF-8 (with or without BOM) or GBK/GB18030 (what Excel
on a Chinese Windows writes), detected by strict decoding; anything else is refused. The whole
file is checked before anything is returned, and the first bad cell is named by row and
column (:class:`~sync_server.platform.errors.FileFormatError`), so a bad file changes nothing.

Writing escapes any cell that a spreadsheet would take for a formula.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from visitapp.domain import MASKED_ID_RE, AidKind, HardshipCategory, Level, Stage
from visitapp.domain.enums import LABELS_ZH, label_zh

from sync_server.platform.errors import FileFormatError
from sync_server.platform.model import ALLOW_LIST, STAT_KEYS, AidRecord, RosterRow, StatCell, UploadItem

MAX_FILE_BYTES = 40 * 1024 * 1024
MAX_ROWS = 60_000  # more students than any school has; a larger file is refused before parsing

# template -> ordered (key, Chinese header, required)
ROSTER_COLUMNS = (
    ("platform_ref", "平台编号", True), ("name", "姓名", True), ("masked_id", "身份证号（脱敏）", False),
    ("school_code", "学校代码", False), ("school_name", "学校", False), ("district", "区", False),
    ("class_name", "班级", True), ("stage", "学段", True), ("hardship_categories", "困难类别", False),
    ("auto_eligible", "免申即享", False), ("level", "平台认定等级", False),
)
AID_COLUMNS = (
    ("aid_id", "资助记录编号", True), ("platform_ref", "平台编号", True), ("aid_kind", "资助类型", True),
    ("title", "名称", True), ("date", "日期", True), ("programme", "项目", False), ("amount_yuan", "金额（元）", False),
)
UPLOAD_HEADERS = {
    "item_id": "上报编号", "version": "版本", "kind": "类型", "student_ref": "平台编号", "term": "学期",
    "visit_date": "家访日期", "mode": "家访方式", "visitor_count": "家访人数", "level": "认定等级",
    "review_date": "评议日期", "reward_kind": "奖励类型", "entry_date": "奖励日期",
    "mentor_ref": "导师编号", "active": "在岗",
}
UPLOAD_SHEETS = {"visit": "家访", "determination": "认定", "reward": "成长奖励", "mentor": "育人导师"}
STAT_HEADERS = {"district": "区", "stage": "学段", "suppressed": "已抑制（少于5人）", "students": "学生数",
                "visited": "已家访", "determined": "已认定", "rewarded": "有成长奖励", "key_support": "重点帮扶",
                "mentored": "有育人导师"}

_BY_LABEL = {label: code for code, label in LABELS_ZH.items()}
_YES = {"是", "1", "true", "yes", "y", "√"}
_NO = {"否", "0", "false", "no", "n", ""}
_REF_RE = re.compile(r"^[A-Za-z0-9_\-]{1,40}$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_FULL_ID_RE = re.compile(r"\d{17}[\dXx]")
_DANGEROUS_START = ("=", "+", "@", "\t", "\r")


@dataclass(frozen=True)
class ParsedFile:
    """What a file held: exactly one of the two lists is filled."""

    template: str  # roster | aid
    roster: tuple[RosterRow, ...] = ()
    aid: tuple[AidRecord, ...] = ()


# -- reading -------------------------------------------------------------------------------------
def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _check_size(path: Path) -> None:
    if not path.exists():
        raise FileFormatError(f"找不到文件 {path}。")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise FileFormatError(f"文件 {path.name} 有 {size // (1024 * 1024)} MB，超过上限 "
                              f"{MAX_FILE_BYTES // (1024 * 1024)} MB，已拒绝。")
    if size == 0:
        raise FileFormatError(f"文件 {path.name} 是空的。")


def _too_many(rows: int) -> FileFormatError:
    return FileFormatError(f"文件超过 {MAX_ROWS} 行数据（已读到第 {rows} 行），已拒绝；请按学校分批导入。")


def read_table(path: Path) -> list[list[str]]:
    """The first sheet (xlsx) or the file (csv) as rows of stripped strings, limits checked."""
    path = Path(path)
    _check_size(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path.read_bytes())
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    raise FileFormatError("交换文件必须是 .xlsx 或 .csv。")


def _decode(raw: bytes) -> str:
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


def _read_csv(raw: bytes) -> list[list[str]]:
    text = _decode(raw)
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            rows.append([c.strip() for c in row])
            if len(rows) > MAX_ROWS + 1:
                raise _too_many(len(rows))
    except csv.Error as exc:
        raise FileFormatError(f"CSV 格式错误：{exc}", row=len(rows) + 1) from None
    return rows


_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
MAX_XML_BYTES = 400 * 1024 * 1024  # an uncompressed part larger than this is a zip bomb, not a roster


def _col_index(ref: str) -> int:
    n = 0
    for ch in ref:
        if "A" <= ch <= "Z":
            n = n * 26 + ord(ch) - 64
        else:
            break
    return n - 1


def _first_sheet(zf) -> str:
    import xml.etree.ElementTree as ET
    wb = ET.fromstring(zf.read("xl/workbook.xml"))
    sheet = wb.find(f"{_NS}sheets/{_NS}sheet")
    if sheet is None:
        raise FileFormatError("工作簿里没有工作表。")
    rid = sheet.get(f"{_REL_NS}id")
    rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    for rel in rels:
        if rel.get("Id") == rid:
            target = rel.get("Target", "").lstrip("/")
            return target if target.startswith("xl/") else "xl/" + target
    return "xl/worksheets/sheet1.xml"


_ROW_RE = re.compile(r"<row\b([^>]*?)(?:/>|>(.*?)</row>)", re.S)
_CELL_RE = re.compile(r"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_T_RE = re.compile(r"<t\b[^>]*>(.*?)</t>|<t\b[^>]*/>", re.S)
_F_RE = re.compile(r"<f\b[^>]*?(?:/>|>(.*?)</f>)", re.S)
_V_RE = re.compile(r"<v>(.*?)</v>", re.S)
_ATTR_R = re.compile(r'\br="([A-Z]{1,3})?(\d+)?"')
_ATTR_T = re.compile(r'\bt="(\w+)"')
_DIM_RE = re.compile(r'<dimension\b[^>]*\bref="[A-Z]*\d*:?[A-Z]*(\d+)"')


def _fast_rows(data: bytes, shared: list[str]) -> list[list[str]] | None:
    """The sheet's rows by regular expressions over its XML: four times faster than an XML
    parser on a 50,000-row roster. Used only for the unprefixed, UTF-8 XML that Excel, WPS
    and openpyxl write; ``None`` sends anything else to the XML parser."""
    from html import unescape
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    start = text.find("<sheetData")
    if start < 0:
        return None
    dim = _DIM_RE.search(text, 0, start)
    if dim and int(dim.group(1)) > MAX_ROWS + 1:
        raise _too_many(int(dim.group(1)))  # refuse a huge sheet before reading its rows
    rows: list[list[str]] = []
    cols = _COL_CACHE
    for m in _ROW_RE.finditer(text, start):
        ra = _ATTR_R.search(m.group(1))
        number = int(ra.group(2)) if ra and ra.group(2) else len(rows) + 1
        if number > MAX_ROWS + 1:
            raise _too_many(number)
        while len(rows) < number - 1:  # keep row numbers true for messages
            rows.append([])
        body_all = m.group(2) or ""
        found = _CELL_STRICT.findall(body_all)
        if len(found) != body_all.count("<c ") + body_all.count("<c>"):
            found = [(_letters(a), _kind(a), b) for a, b in _CELL_RE.findall(body_all)]
        row: list[str] = []
        for letters, kind, body in found:
            if body.startswith("<v>") and body.endswith("</v>"):
                value = body[3:-4]
                if kind == "s":
                    value = shared[int(value)]
                elif value.endswith(".0") and kind in ("", "n"):
                    value = value[:-2]
            elif not body:
                value = ""
            elif "<f" in body:
                f = _F_RE.search(body)
                value = "=" + ((f.group(1) if f else "") or "")
            elif kind == "inlineStr":
                value = "".join(_T_RE.findall(body))
            else:
                v = _V_RE.search(body)
                value = v.group(1) if v else ""
                if kind == "s" and value:
                    value = shared[int(value)]
            if "&" in value and kind != "s":
                value = unescape(value)
            col = cols.get(letters)
            if col is None:
                col = cols[letters] = _col_index(letters) if letters else -1
            if col == len(row) or col < 0:
                row.append(value.strip())
            else:
                if col > 1000:
                    raise FileFormatError("列数过多，已拒绝。", row=number)
                while len(row) < col:
                    row.append("")
                row.append(value.strip())
        rows.append(row)
    return rows


_COL_CACHE: dict[str, int] = {}
_CELL_STRICT = re.compile(r'<c r="([A-Z]{1,3})\d+"(?: s="\d+")?(?: t="(\w+)")?(?: s="\d+")?\s*(?:/>|>(.*?)</c>)', re.S)


def _letters(attrs: str) -> str:
    m = _ATTR_R.search(attrs)
    return (m.group(1) or "") if m else ""


def _kind(attrs: str) -> str:
    m = _ATTR_T.search(attrs)
    return m.group(1) if m else ""


def _place(row: list[str], ref_match, value: str, number: int) -> None:
    col = _col_index(ref_match.group(1)) if ref_match and ref_match.group(1) else len(row)
    if col > 1000:
        raise FileFormatError("列数过多，已拒绝。", row=number)
    while len(row) < col:
        row.append("")
    row.append(value)


def _read_xlsx(path: Path) -> list[list[str]]:
    """A streaming reader of the first sheet's values (openpyxl is ten times slower on a
    50,000-row roster). A formula cell is kept as ``=<formula>`` so the checks refuse it."""
    import xml.etree.ElementTree as ET
    import zipfile
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileFormatError(f"无法读取 {path.name}：文件已损坏或不是 xlsx（{type(exc).__name__}）。") from None
    try:
        with zf:
            for info in zf.infolist():
                if info.file_size > MAX_XML_BYTES:
                    raise FileFormatError(f"无法读取 {path.name}：其中的 {info.filename} 解压后过大，已拒绝。")
            sheet_name = _first_sheet(zf)
            shared: list[str] = []
            if "xl/sharedStrings.xml" in zf.namelist():
                with zf.open("xl/sharedStrings.xml") as fh:
                    for _ev, el in ET.iterparse(fh):
                        if el.tag == f"{_NS}si":
                            shared.append("".join(t.text or "" for t in el.iter(f"{_NS}t")))
                            el.clear()
            head = zf.open(sheet_name).read(4096)
            if b"<sheetData" in head or (b"<sheetData" not in head and b":sheetData" not in head
                                         and not head.startswith((b"\xff\xfe", b"\xfe\xff"))):
                fast = _fast_rows(zf.read(sheet_name), shared)
                if fast is not None:
                    return fast
            rows: list[list[str]] = []
            row_tag, cell_tag, dim_tag = f"{_NS}row", f"{_NS}c", f"{_NS}dimension"
            f_tag, v_tag, t_tag = f"{_NS}f", f"{_NS}v", f"{_NS}t"
            cells: list[tuple[str | None, str]] = []
            with zf.open(sheet_name) as fh:
                for _ev, el in ET.iterparse(fh):  # "end" events only: the cheapest way through
                    tag = el.tag
                    if tag == cell_tag:
                        kind = el.get("t")
                        f = el.find(f_tag)
                        if f is not None:
                            text = "=" + (f.text or "")
                        else:
                            v = el.find(v_tag)
                            if kind == "s":
                                text = shared[int(v.text or 0)] if v is not None else ""
                            elif kind == "inlineStr":
                                text = "".join(t.text or "" for t in el.iter(t_tag))
                            else:
                                text = v.text or "" if v is not None else ""
                                if text.endswith(".0") and kind in (None, "n"):
                                    text = text[:-2]
                        cells.append((el.get("r"), text.strip()))
                        el.clear()
                    elif tag == row_tag:
                        number = int(el.get("r") or len(rows) + 1)
                        if number > MAX_ROWS + 1:
                            raise _too_many(number)
                        while len(rows) < number - 1:  # keep row numbers true for messages
                            rows.append([])
                        row: list[str] = []
                        for ref, text in cells:
                            col = _col_index(ref) if ref else len(row)
                            if col > 1000:
                                raise FileFormatError("列数过多，已拒绝。", row=number)
                            while len(row) < col:
                                row.append("")
                            row.append(text)
                        rows.append(row)
                        cells.clear()
                        el.clear()
                    elif tag == dim_tag:
                        digits = "".join(ch for ch in el.get("ref", "").split(":")[-1] if ch.isdigit())
                        if digits and int(digits) > MAX_ROWS + 1:
                            raise _too_many(int(digits))  # refuse a huge sheet before reading its rows
                return rows
    except FileFormatError:
        raise
    except (KeyError, ET.ParseError, ValueError, IndexError, zipfile.BadZipFile, OSError) as exc:
        raise FileFormatError(f"无法读取 {path.name}：文件内容损坏（{type(exc).__name__}）。") from None


def _header_index(header: list[str], columns) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, cell in enumerate(header):
        for key, zh, _req in columns:
            if cell in (zh, key):
                index[key] = i
    return index


def detect_template(header: list[str]) -> str:
    if _header_index(header, AID_COLUMNS).keys() >= {"aid_id"}:
        return "aid"
    if _header_index(header, ROSTER_COLUMNS).keys() >= {"platform_ref", "name"}:
        return "roster"
    raise FileFormatError("表头与任何模板都不符：名册需要“平台编号、姓名、班级、学段”，资助记录需要"
                          "“资助记录编号、平台编号、资助类型、名称、日期”。", row=1)


def parse_file(path: Path, expect: str | None = None) -> ParsedFile:
    """Read and fully validate a roster or aid file; raise at the first bad cell."""
    rows = read_table(path)
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise FileFormatError("文件是空的。")
    header = rows[0]
    template = detect_template(header)
    if expect and template != expect:
        raise FileFormatError(f"这是{'资助记录' if template == 'aid' else '名册'}文件，而这里需要"
                              f"{'资助记录' if expect == 'aid' else '名册'}文件。", row=1)
    columns = AID_COLUMNS if template == "aid" else ROSTER_COLUMNS
    index = _header_index(header, columns)
    missing = [zh for key, zh, req in columns if req and key not in index]
    if missing:
        raise FileFormatError(f"缺少必需的列“{'”“'.join(missing)}”。", row=1)
    names = {key: zh for key, zh, _ in columns}
    parse_row = _aid_row if template == "aid" else _roster_row
    out = []
    seen: dict[str, int] = {}
    unique_key = "aid_id" if template == "aid" else "platform_ref"
    for n, row in enumerate(rows[1:], start=2):
        if not any(row):
            continue
        cells = {}
        for key, i in index.items():
            value = row[i] if i < len(row) else ""
            _check_cell(value, n, names[key])
            cells[key] = value
        for i, value in enumerate(row):  # columns we do not read must not smuggle formulas either
            if i not in index.values():
                _check_cell(value, n, header[i] if i < len(header) else f"第{i + 1}列")
        for key, zh, req in columns:
            if req and not cells.get(key):
                raise FileFormatError("不能为空。", row=n, column=zh)
        rec = parse_row(cells, n, names)
        uid = cells[unique_key]
        if uid in seen:
            raise FileFormatError(f"{names[unique_key]} {uid} 与第 {seen[uid]} 行重复。", row=n, column=names[unique_key])
        seen[uid] = n
        out.append(rec)
    if template == "aid":
        return ParsedFile("aid", aid=tuple(out))
    return ParsedFile("roster", roster=tuple(out))


def _check_cell(value: str, row: int, column: str) -> None:
    if not value:
        return
    if value.startswith(_DANGEROUS_START) or (value.startswith("-") and not _is_number(value)):
        raise FileFormatError(f"单元格以“{value[:1]}”开头，疑似公式（{value[:30]}），已拒绝；请只保留文字或数值。",
                              row=row, column=column)
    if _CONTROL_RE.search(value):
        raise FileFormatError("单元格含有控制字符，已拒绝。", row=row, column=column)
    if len(value) > 200:
        raise FileFormatError("单元格内容过长（超过 200 个字符）。", row=row, column=column)


def _is_number(value: str) -> bool:
    try:
        float(value)
        return True
    except ValueError:
        return False


def _code(value: str, allowed: Iterable[str]) -> str | None:
    code = _BY_LABEL.get(value, value)
    return code if code in set(allowed) else None


def _flag(value: str, row: int, column: str) -> bool:
    v = value.strip().lower()
    if v in _YES:
        return True
    if v in _NO:
        return False
    raise FileFormatError(f"“{value}”应为“是”或“否”。", row=row, column=column)


def _ref(value: str, row: int, column: str) -> str:
    if not _REF_RE.match(value):
        raise FileFormatError(f"“{value[:40]}”不是有效的平台编号（字母、数字、-、_，最多 40 位）。", row=row, column=column)
    return value


def _roster_row(c: dict, n: int, names: dict) -> RosterRow:
    ref = _ref(c["platform_ref"], n, names["platform_ref"])
    name = c["name"]
    if len(name) > 30:
        raise FileFormatError("姓名过长（最多 30 个字）。", row=n, column=names["name"])
    for key in ("name", "masked_id", "class_name", "school_name"):
        if _FULL_ID_RE.search(c.get(key, "")):
            raise FileFormatError("含有完整身份证号；平台交换只允许脱敏号码（如 3202**********1234）。",
                                  row=n, column=names[key])
    masked = c.get("masked_id", "")
    if masked and not MASKED_ID_RE.match(masked):
        raise FileFormatError(f"“{masked}”不是脱敏身份证号（应如 3202**********1234）。", row=n, column=names["masked_id"])
    stage = _code(c["stage"], (s.value for s in Stage))
    if stage is None:
        raise FileFormatError(f"“{c['stage']}”不是学段（学前、小学、初中、高中、中职）。", row=n, column=names["stage"])
    cats = []
    for part in re.split(r"[;；,，、/]", c.get("hardship_categories", "")):
        part = part.strip()
        if not part:
            continue
        code = _code(part, (h.value for h in HardshipCategory))
        if code is None:
            raise FileFormatError(f"“{part}”不是已知的困难类别。", row=n, column=names["hardship_categories"])
        cats.append(HardshipCategory(code))
    level = None
    if c.get("level"):
        code = _code(c["level"], (lv.value for lv in Level))
        if code is None:
            raise FileFormatError(f"“{c['level']}”不是认定等级（特别困难、比较困难、一般困难、不认定）。",
                                  row=n, column=names["level"])
        level = Level(code)
    return RosterRow(platform_ref=ref, name=name, class_name=c["class_name"], stage=Stage(stage), masked_id=masked,
                     school_code=c.get("school_code", ""), school_name=c.get("school_name", ""),
                     district=c.get("district", ""), hardship_categories=tuple(sorted(set(cats))),
                     auto_eligible=_flag(c.get("auto_eligible", ""), n, names["auto_eligible"]), level=level)


def _date(value: str, row: int, column: str) -> dt.date:
    if re.fullmatch(r"\d{5}", value.strip()):  # an Excel date serial (1900 system)
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(value.strip()))
    text = value.strip().replace("/", "-").replace(".", "-")
    try:
        return dt.date.fromisoformat(text[:10]) if len(text) >= 10 else dt.date(*map(int, text.split("-")))
    except (ValueError, TypeError):
        raise FileFormatError(f"“{value}”不是日期（应如 2026-09-15）。", row=row, column=column) from None


def _aid_row(c: dict, n: int, names: dict) -> AidRecord:
    aid_id = _ref(c["aid_id"], n, names["aid_id"])
    ref = _ref(c["platform_ref"], n, names["platform_ref"])
    kind = _code(c["aid_kind"], (k.value for k in AidKind))
    if kind is None:
        raise FileFormatError(f"“{c['aid_kind']}”不是资助类型（助学金、学杂费减免、午餐费减免、社会资助项目）。",
                              row=n, column=names["aid_kind"])
    amount = None
    if c.get("amount_yuan"):
        try:
            amount = float(c["amount_yuan"])
        except ValueError:
            raise FileFormatError(f"“{c['amount_yuan']}”不是金额。", row=n, column=names["amount_yuan"]) from None
        if amount < 0 or amount > 1_000_000:
            raise FileFormatError("金额应在 0 到 100 万元之间。", row=n, column=names["amount_yuan"])
    return AidRecord(aid_id=aid_id, platform_ref=ref, aid_kind=kind, title=c["title"],
                     date=_date(c["date"], n, names["date"]), programme=c.get("programme", ""), amount_yuan=amount)


# -- writing -------------------------------------------------------------------------------------
def _safe(value: object) -> object:
    """A cell a spreadsheet will show as text, never run as a formula."""
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value


def _write(path: Path, sheets: Sequence[tuple[str, list[str], Iterable[list]]]) -> None:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        title, header, rows = sheets[0]
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            for r in rows:
                w.writerow([_safe(v) for v in r])
        for title, header, rows in sheets[1:]:
            with open(path.with_name(f"{path.stem}_{title}.csv"), "w", encoding="utf-8-sig", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(header)
                for r in rows:
                    w.writerow([_safe(v) for v in r])
        return
    if suffix != ".xlsx":
        raise FileFormatError("导出文件名必须以 .xlsx 或 .csv 结尾。")
    write_xlsx(path, [(title, header, ([_safe(v) for v in r] for r in rows)) for title, header, rows in sheets])


def _col_letters(i: int) -> str:
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


_XML_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_PKG = "http://schemas.openxmlformats.org"


def write_xlsx(path: Path, sheets: Sequence[tuple[str, list[str], Iterable[list]]]) -> None:
    """A plain xlsx (inline strings and numbers, one row of headers per sheet) that Excel, WPS
    and openpyxl open. Written directly: openpyxl needs over a minute for 50,000 rows here."""
    import zipfile
    from xml.sax.saxutils import escape, quoteattr

    def cell(ref: str, v: object) -> str:
        if v is None or v == "":
            return ""
        if isinstance(v, bool):
            v = "是" if v else "否"
        if isinstance(v, (int, float)):
            return f'<c r="{ref}"><v>{v}</v></c>'
        text = escape(_XML_BAD.sub("", str(v)))
        return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        names = []
        for n, (title, header, rows) in enumerate(sheets, 1):
            names.append(title[:31])
            cols = [_col_letters(i) for i in range(max(len(header), 1) + 64)]
            parts = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                     f'<worksheet xmlns="{_PKG}/spreadsheetml/2006/main"><sheetData>']
            for r_no, row in enumerate([header, *rows], 1):
                parts.append(f'<row r="{r_no}">' + "".join(cell(f"{cols[i]}{r_no}", v) for i, v in enumerate(row))
                             + "</row>")
            parts.append("</sheetData></worksheet>")
            z.writestr(f"xl/worksheets/sheet{n}.xml", "".join(parts))
        overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
                            f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                            for n in range(1, len(names) + 1))
        z.writestr("[Content_Types].xml", f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{_PKG}/package/2006/'
                   'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                   'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
                   '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
                   f'sheet.main+xml"/>{overrides}</Types>')
        z.writestr("_rels/.rels", f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}/package/2006/'
                   f'relationships"><Relationship Id="rId1" Type="{_PKG}/officeDocument/2006/relationships/'
                   'officeDocument" Target="xl/workbook.xml"/></Relationships>')
        sheets_xml = "".join(f'<sheet name={quoteattr(name)} sheetId="{n}" r:id="rId{n}"/>'
                             for n, name in enumerate(names, 1))
        z.writestr("xl/workbook.xml", f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_PKG}/spreadsheetml/'
                   f'2006/main" xmlns:r="{_PKG}/officeDocument/2006/relationships"><sheets>{sheets_xml}</sheets>'
                   '</workbook>')
        rels = "".join(f'<Relationship Id="rId{n}" Type="{_PKG}/officeDocument/2006/relationships/worksheet" '
                       f'Target="worksheets/sheet{n}.xml"/>' for n in range(1, len(names) + 1))
        z.writestr("xl/_rels/workbook.xml.rels", f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns='
                   f'"{_PKG}/package/2006/relationships">{rels}</Relationships>')


def write_roster(path: Path, rows: Sequence[RosterRow]) -> None:
    """A roster in the template (what the platform's download looks like)."""
    def values(r: RosterRow) -> list:
        return [r.platform_ref, r.name, r.masked_id, r.school_code, r.school_name, r.district, r.class_name,
                label_zh(r.stage.value), "、".join(label_zh(c.value) for c in r.hardship_categories),
                "是" if r.auto_eligible else "否", label_zh(r.level.value) if r.level else ""]
    _write(path, [("名册", [zh for _, zh, _ in ROSTER_COLUMNS], (values(r) for r in rows))])


def write_aid(path: Path, records: Sequence[AidRecord]) -> None:
    """Aid history in the template."""
    _write(path, [("资助记录", [zh for _, zh, _ in AID_COLUMNS],
                   ([r.aid_id, r.platform_ref, label_zh(r.aid_kind), r.title, r.date.isoformat(), r.programme,
                     r.amount_yuan if r.amount_yuan is not None else ""] for r in records))])


def write_upload(path: Path, items: Sequence[UploadItem], cells: Sequence[StatCell]) -> None:
    """The school's report for manual upload: one sheet per kind (xlsx) or one file (csv),
    allow-listed columns only, plus the statistics sheet."""
    stats = ("统计", [STAT_HEADERS[k] for k in STAT_KEYS],
             ([_stat_value(c, k) for k in STAT_KEYS] for c in cells))
    if Path(path).suffix.lower() == ".csv":
        keys = list(dict.fromkeys(k for kind in ALLOW_LIST for k in ALLOW_LIST[kind]))
        _write(path, [("上报", [UPLOAD_HEADERS[k] for k in keys],
                       ([_upload_value(i.payload, k) for k in keys] for i in items)), stats])
        return
    sheets = []
    for kind, title in UPLOAD_SHEETS.items():
        keys = ALLOW_LIST[kind]
        sheets.append((title, [UPLOAD_HEADERS[k] for k in keys],
                       [[_upload_value(i.payload, k) for k in keys] for i in items if i.kind == kind]))
    _write(path, [*sheets, stats])


def _upload_value(payload: dict, key: str) -> object:
    v = payload.get(key)
    if key in ("kind", "mode", "level", "reward_kind") and v is not None:
        return label_zh(v) if key != "kind" else UPLOAD_SHEETS.get(v, v)
    if isinstance(v, bool):
        return "是" if v else "否"
    return "" if v is None else v


def _stat_value(cell: StatCell, key: str) -> object:
    v = getattr(cell, key)
    if key == "stage":
        return label_zh(v)
    if isinstance(v, bool):
        return "是" if v else "否"
    return "" if v is None else v


def read_upload_file(path: Path) -> list[dict]:
    """The rows of an exported upload file (csv or xlsx) as dicts keyed by header; for tests
    and for the reference platform's manual-upload check."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        rows = _read_csv(path.read_bytes())
        return [dict(zip(rows[0], r)) for r in rows[1:]]
    import openpyxl
    wb = openpyxl.load_workbook(path, read_only=True)
    out = []
    for ws in wb.worksheets:
        rows = [[_cell_text(v) for v in r] for r in ws.iter_rows(values_only=True)]
        if rows:
            out += [{"_sheet": ws.title, **dict(zip(rows[0], r))} for r in rows[1:]]
    wb.close()
    return out
