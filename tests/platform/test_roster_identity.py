"""One identity rule for both roster imports (``visitapp-server roster import`` and
``visitapp-server platform import-file``): match by 平台编号, else by 学号; a new student's id
derived from the same number. Run through the commands an operator types, on the server's
SQLite database."""

from __future__ import annotations

import csv
import json

import pytest

from visitapp.domain import Stage, Student

from sync_server.cli import main
from sync_server.config import ServerPaths
from sync_server.core import ServerCore, new_id
from sync_server.platform import files
from sync_server.platform.inbound import student_id_for
from sync_server.platform.model import RosterRow
from sync_server.roster import student_parts

HEADER = ["学号", "姓名", "班级", "学段", "平台编号"]


@pytest.fixture
def server(tmp_path, capsys):
    data = tmp_path / "srv"

    def run(*args: str) -> dict:
        code = main(["--data-dir", str(data), *args])
        out, err = capsys.readouterr()
        assert code == 0, err
        return json.loads(out) if "--json" in args else {}

    run.data = data
    run("init", "--school", "实验小学", "--officer", "李专干", "--url", "https://192.168.1.10:8443")
    return run


def students(server) -> dict[str, dict]:
    """Every student record by id: its routing (学号, 平台编号) and its name."""
    from sqlalchemy import select

    from sync_server.models import Record
    core = ServerCore.open(ServerPaths(server.data))
    try:
        with core.db.read() as s:
            return {r.id: {**json.loads(r.routing), **core.record_facts(r)}
                    for r in s.execute(select(Record).where(Record.kind == "student")).scalars()}
    finally:
        core.close()


def write_csv(path, rows) -> str:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    return str(path)


def test_reimport_over_a_database_of_the_old_random_ids_adds_nobody(server, tmp_path):
    # what the school's roster import wrote before the one rule: random ids, matched by 学号
    core = ServerCore.open(ServerPaths(server.data))
    school_id, _ = core.school()
    old_ids = {}
    try:
        with core.db.write() as tx:
            for number, name, ref in (("2024001", "张晓明", ""), ("2024002", "李娜", "WX00000002")):
                sid = new_id()
                old_ids[number] = sid
                st = Student(id=sid, school_id=school_id, class_name="三年级1班", stage=Stage.PRIMARY, name=name,
                             student_no=number, platform_ref=ref)
                routing, facts, sealed = student_parts(st)
                core.put_record(tx, record_id=sid, kind="student", student_id=sid, visibility="student",
                                author_staff=None, author_device=None, routing=routing, facts=facts, sealed=sealed)
    finally:
        core.close()

    # the same students again, 2024001 now with a platform number, 2024002 renamed
    roster = write_csv(tmp_path / "roster.csv", [["2024001", "张晓明", "三年级2班", "小学", "WX00000001"],
                                                 ["2024002", "李娜娜", "三年级1班", "小学", ""]])
    assert server("roster", "import", roster, "--json") == {"added": 0, "updated": 2, "left": 0}
    after = students(server)
    assert {r["student_no"]: sid for sid, r in after.items()} == old_ids
    assert after[old_ids["2024001"]]["platform_ref"] == "WX00000001"
    assert after[old_ids["2024001"]]["class_name"] == "三年级2班"
    # a file without 平台编号 never clears the one the student has: it is how the platform finds them
    assert after[old_ids["2024002"]]["platform_ref"] == "WX00000002"
    assert after[old_ids["2024002"]]["name"] == "李娜娜"

    # the platform's roster of the same two students finds them by platform number
    platform_file = tmp_path / "platform.xlsx"
    files.write_roster(platform_file, [
        RosterRow(platform_ref=ref, name=name, class_name="三年级1班", stage=Stage.PRIMARY)
        for ref, name in (("WX00000001", "张晓明"), ("WX00000002", "李娜娜"))])
    preview = server("platform", "import-file", str(platform_file), "--json")
    assert preview["preview"]["new"] == [] and len(students(server)) == 2


def test_new_students_get_ids_derived_from_the_platform_number_else_the_student_number(server, tmp_path):
    roster = write_csv(tmp_path / "roster.csv", [["2024001", "张晓明", "三年级1班", "小学", "WX00000001"],
                                                 ["2024002", "李娜", "三年级1班", "小学", ""]])
    assert server("roster", "import", roster, "--json") == {"added": 2, "updated": 0, "left": 0}
    core = ServerCore.open(ServerPaths(server.data))
    school_id, _ = core.school()
    core.close()
    by_number = {r["student_no"]: sid for sid, r in students(server).items()}
    assert by_number == {"2024001": student_id_for(school_id, "WX00000001"),
                         "2024002": student_id_for(school_id, "", "2024002")}
    # the second import, and a later one that adds the platform number, update the same students
    assert server("roster", "import", roster, "--json") == {"added": 0, "updated": 2, "left": 0}
    roster = write_csv(tmp_path / "roster2.csv", [["2024001", "张晓明", "三年级1班", "小学", "WX00000001"],
                                                  ["2024002", "李娜", "三年级1班", "小学", "WX00000002"]])
    assert server("roster", "import", roster, "--json") == {"added": 0, "updated": 2, "left": 0}
    assert {r["student_no"]: sid for sid, r in students(server).items()} == by_number
    # a platform-pulled student the school's file then names by that number is one student too
    platform_file = tmp_path / "platform.xlsx"
    files.write_roster(platform_file, [RosterRow(platform_ref=ref, name=name, class_name="三年级1班",
                                                 stage=Stage.PRIMARY)
                                       for ref, name in (("WX00000001", "张晓明"), ("WX00000002", "李娜"),
                                                         ("WX00000003", "王五"))])
    preview = server("platform", "import-file", str(platform_file), "--json")
    assert [c["platform_ref"] for c in preview["preview"]["new"]] == ["WX00000003"]
    assert len(students(server)) == 3
    assert student_id_for(school_id, "WX00000003") in students(server)


def test_the_school_roster_reads_gbk_csv_and_xlsx_through_the_one_spreadsheet_module(server, tmp_path):
    import openpyxl
    gbk = tmp_path / "gbk.csv"
    with open(gbk, "w", newline="", encoding="gbk") as fh:  # what Excel on a Chinese Windows saves
        csv.writer(fh).writerows([HEADER, ["2024001", "张晓明", "三年级1班", "小学", ""]])
    assert server("roster", "import", str(gbk), "--json") == {"added": 1, "updated": 0, "left": 0}
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    book.active.append([2024001, "张晓明", "三年级2班", "小学", None])  # a 学号 typed as a number
    book.save(tmp_path / "r.xlsx")
    assert server("roster", "import", str(tmp_path / "r.xlsx"), "--json") == {"added": 0, "updated": 1, "left": 0}
    (student,) = students(server).values()
    assert student["student_no"] == "2024001" and student["class_name"] == "三年级2班"
