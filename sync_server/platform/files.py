"""File exchange: the xlsx/csv templates schools upload to and download from the platform by hand.

Files are read and written by :mod:`sync_server.platform.spreadsheet` (limits, encodings,
openpyxl's streaming modes). Reading is defensive, because these files come from outside:
formulas (``=HYPERLINK(...)``, ``=cmd|...``, ``+``/``@``/``-`` prefixes) are refused, never
evaluated or stored; CSV may be UTF-8 (with or without BOM) or GBK/GB18030 (what Excel on a
Chinese Windows writes), detected by strict decoding; anything else is refused. The whole
file is checked before anything is returned, and the first bad cell is named by row and
column (:class:`~sync_server.platform.errors.FileFormatError`), so a bad file changes nothing.

Writing escapes any cell that a spreadsheet would take for a formula.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from visitapp.domain import MASKED_ID_RE, AidKind, HardshipCategory, Level, Stage
from visitapp.domain.enums import LABELS_ZH, label_zh

from sync_server.platform import spreadsheet
from sync_server.platform.errors import FileFormatError
from sync_server.platform.model import ALLOW_LIST, STAT_KEYS, AidRecord, RosterRow, StatCell, UploadItem

MAX_FILE_BYTES = spreadsheet.MAX_FILE_BYTES
MAX_ROWS = spreadsheet.MAX_ROWS

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
def read_table(path: Path) -> list[list[str]]:
    """The first sheet (xlsx) or the file (csv) as rows of stripped strings, limits checked."""
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".xlsx", ".xlsm"):
        raise FileFormatError("交换文件必须是 .xlsx 或 .csv。")
    return spreadsheet.read_rows(path, max_rows=MAX_ROWS, max_bytes=MAX_FILE_BYTES)


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
_write = spreadsheet.write_sheets


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
    out = []
    for title, rows in spreadsheet.read_sheets(Path(path)).items():
        if rows:
            extra = {} if Path(path).suffix.lower() == ".csv" else {"_sheet": title}
            out += [{**extra, **dict(zip(rows[0], r))} for r in rows[1:]]
    return out
