"""Roster import (``visitapp-server roster import FILE``) from .xlsx or .csv.

The whole file is checked before anything is written; the first bad cell stops the import
with its row and column named, and the database is left as it was. Students are matched by
平台编号 where the file has one, else by 学号; a new student's id is derived from the same
number (the one identity rule of every roster import, ``sync_server.platform.inbound``), so a
student the older rule gave a random id keeps it and is never added twice.

The file is the school's whole roster: a student the server has on its roster whom the file
does not name is taken off it (kept, never deleted) from the start of this term, and one it
names again is back on it — the platform pull's rule (:func:`~sync_server.platform.inbound.off_the_roster`),
so retention counts the same from either. A file that would take off more than half of the
roster is refused unless forced, as a platform pull is.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from sync_server.config import ServerError
from sync_server.core import ServerCore
from sync_server.platform import spreadsheet
from sync_server.platform.errors import FileFormatError
from sync_server.platform.inbound import RosterMatch, back_on_roster, is_mass_leaving, off_the_roster
from sync_server.platform.server_port import ServerSchoolData

from visitapp.domain import HardshipCategory, Stage, Student, split_by_tier, term_of
from visitapp.domain.enums import LABELS_ZH
from visitapp.protocol.records import encode_tier_c as seal_bytes

# column key -> accepted headers (Chinese first, the one the template uses)
COLUMNS: dict[str, tuple[str, ...]] = {
    "student_no": ("学号", "student_no"),
    "name": ("姓名", "name"),
    "class_name": ("班级", "class_name", "class"),
    "stage": ("学段", "stage"),
    "gender": ("性别", "gender"),
    "masked_id": ("身份证号", "身份证号（脱敏）", "masked_id"),
    "guardian_name": ("监护人", "guardian_name"),
    "hardship_categories": ("困难类别", "hardship_categories"),
    "auto_eligible": ("免申即享", "auto_eligible"),
    "key_support": ("重点帮扶", "key_support"),
    "platform_ref": ("平台编号", "platform_ref"),
    "address": ("住址", "address"),
    "phone": ("联系电话", "phone"),
}
REQUIRED = ("student_no", "name", "class_name", "stage")
_YES = {"是", "1", "true", "yes", "y", "√"}
_NO = {"否", "0", "false", "no", "n", ""}
_BY_LABEL = {label: code for code, label in LABELS_ZH.items()}


def _read_rows(path: Path) -> list[list[str]]:
    if path.suffix.lower() not in (".csv", ".xlsx", ".xlsm"):
        raise ServerError("名册文件必须是 .xlsx 或 .csv。")
    if not path.exists():
        raise ServerError(f"找不到文件 {path}。")
    try:
        return spreadsheet.read_rows(path)
    except FileFormatError as exc:
        raise ServerError(f"无法读取表格文件 {path.name}：{exc}") from None


def _flag(value: str, row: int, header: str) -> bool:
    v = value.strip().lower()
    if v in _YES:
        return True
    if v in _NO:
        return False
    raise ServerError(f"第 {row} 行，列“{header}”：“{value}”应为“是”或“否”。")


def parse_roster(path: Path) -> list[dict]:
    """Rows as dictionaries of Student fields; raises :class:`ServerError` at the first bad cell."""
    rows = _read_rows(Path(path))
    rows = [r for r in rows if any(c for c in r)]
    if not rows:
        raise ServerError("名册文件是空的。")
    header = rows[0]
    index: dict[str, int] = {}
    names: dict[str, str] = {}
    for i, cell in enumerate(header):
        for key, accepted in COLUMNS.items():
            if cell in accepted or cell.lower() in accepted:
                index[key], names[key] = i, cell
    missing = [COLUMNS[k][0] for k in REQUIRED if k not in index]
    if missing:
        raise ServerError(f"第 1 行（表头）：缺少必需的列“{'”“'.join(missing)}”。")
    out: list[dict] = []
    seen: dict[str, int] = {}
    for n, row in enumerate(rows[1:], start=2):
        def cell(key: str) -> str:
            i = index.get(key)
            return row[i].strip() if i is not None and i < len(row) else ""
        for key in REQUIRED:
            if not cell(key):
                raise ServerError(f"第 {n} 行，列“{names[key]}”：不能为空。")
        number = cell("student_no")
        if number in seen:
            raise ServerError(f"第 {n} 行，列“{names['student_no']}”：学号 {number} 与第 {seen[number]} 行重复。")
        seen[number] = n
        stage_text = cell("stage")
        stage_code = _BY_LABEL.get(stage_text, stage_text)
        if stage_code not in {s.value for s in Stage}:
            raise ServerError(f"第 {n} 行，列“{names['stage']}”：“{stage_text}”不是学段（学前、小学、初中、高中、中职）。")
        cats = []
        for part in re.split(r"[;；,，、/]", cell("hardship_categories")):
            part = part.strip()
            if not part:
                continue
            code = _BY_LABEL.get(part, part)
            if code not in {c.value for c in HardshipCategory}:
                raise ServerError(f"第 {n} 行，列“{names['hardship_categories']}”：“{part}”不是已知的困难类别。")
            cats.append(code)
        fields = {
            "student_no": number, "name": cell("name"), "class_name": cell("class_name"), "stage": stage_code,
            "gender": cell("gender"), "masked_id": cell("masked_id"), "guardian_name": cell("guardian_name"),
            "hardship_categories": cats, "platform_ref": cell("platform_ref"),
            "auto_eligible": _flag(cell("auto_eligible"), n, names.get("auto_eligible", "免申即享")),
            "key_support": _flag(cell("key_support"), n, names.get("key_support", "重点帮扶")),
            "address": cell("address"), "phone": cell("phone"),
        }
        if fields["phone"] and not re.fullmatch(r"[\d\-+ ()]{5,20}", fields["phone"]):
            raise ServerError(f"第 {n} 行，列“{names['phone']}”：电话号码格式不正确。")
        probe = Student(id="x", school_id="x", class_name=fields["class_name"], stage=Stage(stage_code),
                        name=fields["name"], masked_id=fields["masked_id"], guardian_name=fields["guardian_name"],
                        address=fields["address"], phone=fields["phone"])
        problems = probe.problems()
        if problems:
            key, message = next(iter(problems.items()))
            column = names.get(key, COLUMNS.get(key, (key,))[0])
            raise ServerError(f"第 {n} 行，列“{column}”：{message}。")
        out.append(fields)
    return out


def student_parts(student: Student) -> tuple[dict, dict, str | None]:
    """A student's routing, facts and sealed tier C, as the server stores a record."""
    routing, facts, sealed = split_by_tier(student)
    return routing, facts, seal_bytes(sealed)


def import_roster(core: ServerCore, path: Path, actor: str = "cli", *, force: bool = False,
                  today: dt.date | None = None) -> dict:
    """Make the server's roster the file's, in one transaction: add or update the students it
    names, take off the roster those it does not. Students are matched and new ids derived by
    the rule every roster import follows (:class:`~sync_server.platform.inbound.RosterMatch`): by
    平台编号, else by 学号. Raises :class:`ServerError` (nothing written) when the file would take
    off more than half of the roster and ``force`` is not given."""
    rows = parse_roster(Path(path))
    data = ServerSchoolData(core)
    school_id = data.school().id
    current = data.students()
    match = RosterMatch(current)
    term = term_of(today or dt.date.today())
    students: list[Student] = []
    named: set[str] = set()
    added = updated = 0
    for fields in rows:
        sid, existing = match.id_for(school_id, fields["platform_ref"], fields["student_no"])
        named.add(sid)
        values = dict(class_name=fields["class_name"], stage=Stage(fields["stage"]), name=fields["name"],
                      masked_id=fields["masked_id"], student_no=fields["student_no"], gender=fields["gender"],
                      guardian_name=fields["guardian_name"],
                      hardship_categories=tuple(HardshipCategory(c) for c in fields["hardship_categories"]),
                      auto_eligible=fields["auto_eligible"], key_support=fields["key_support"],
                      address=fields["address"], phone=fields["phone"])
        if fields["platform_ref"] or existing is None:
            # a file without 平台编号 never clears the one a platform pull gave: it is the match key
            values["platform_ref"] = fields["platform_ref"]
        if existing is None:
            students.append(Student(id=sid, school_id=school_id, **values))
            added += 1
        else:
            students.append(back_on_roster(existing, **values))
            updated += 1
    leaving = [off_the_roster(s, term) for s in current if s.on_roster and s.id not in named]
    if not force and is_mass_leaving(len(leaving), sum(s.on_roster for s in current)):
        raise ServerError(f"这份名册会让 {len(leaving)} 名学生（超过现有名册的一半）不在名册中，"
                          "可能是文件不完整，已停止，没有做任何修改。核实无误后请加 --force 导入。")
    data.upsert_students(students + leaving, actor, event="roster_import",
                         detail={"added": added, "updated": updated, "left": len(leaving)})
    return {"added": added, "updated": updated, "left": len(leaving)}
