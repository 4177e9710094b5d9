"""The admin CLI (DESIGN.md §11): each command works, ``--json`` prints one document, and
every failure is one line on stderr with a non-zero exit."""

from __future__ import annotations

import csv
import gzip
import json
import os
import stat

import pytest
from sqlalchemy import text

from sync_server.cli import main
from sync_server.config import ServerPaths
from sync_server.core import ServerCore
from sync_server.db import head_revision, make_engine
from tests.server.conftest import fresh_db_url
from visitapp.protocol.sync import decode_enrollment_code


@pytest.fixture
def cli(backend, tmp_path, capsys):
    url = fresh_db_url(backend, tmp_path)
    data = tmp_path / "srv"

    def run(*args: str, ok: bool = True):
        code = main(["--data-dir", str(data), "--db", url, *args])
        out, err = capsys.readouterr()
        if ok:
            assert code == 0, err
        else:
            assert code != 0
            assert err.startswith("错误：") and len(err.strip().splitlines()) == 1, err
        return out, err

    run.data = data
    run.url = url
    run("init", "--school", "实验小学", "--officer", "李专干", "--url", "https://192.168.1.10:8443")
    return run


def _json(out: str):
    return json.loads(out)


def test_init_files_and_refuses_twice(cli):
    paths = ServerPaths(cli.data)
    assert stat.S_IMODE(os.stat(paths.key_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(paths.cert_key_file).st_mode) == 0o600
    assert paths.cert_file.read_bytes().startswith(b"-----BEGIN CERTIFICATE")
    _, err = cli("init", "--school", "x", "--officer", "y", ok=False)
    assert "不能重复初始化" in err


def test_staff_enroll_code_devices(cli):
    out, _ = cli("staff", "add", "王芳", "--role", "teacher", "--json")
    staff = _json(out)
    assert staff["name"] == "王芳" and staff["role"] == "teacher"
    cli("staff", "add", "王芳", "--role", "teacher", ok=False)
    cli("staff", "add", "某人", "--role", "janitor", ok=False)
    out, _ = cli("enroll-code", "王芳", "--json")
    doc = _json(out)
    url, fp, secret = decode_enrollment_code(doc["code"])
    assert url == "https://192.168.1.10:8443" and fp == ServerPaths(cli.data).fingerprint()
    out, _ = cli("enroll-code", "王芳", "--url", "http://127.0.0.1:9999", "--json")
    assert decode_enrollment_code(_json(out)["code"])[1] == ""  # plain HTTP on loopback: nothing to pin
    cli("enroll-code", "没有这个人", ok=False)
    out, _ = cli("devices", "list", "--json")
    assert _json(out) == {"devices": []}
    _, err = cli("devices", "revoke", "nope", ok=False)
    assert "找不到设备" in err


def _write_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)


HEADER = ["学号", "姓名", "班级", "学段", "性别", "身份证号", "监护人", "困难类别", "免申即享", "重点帮扶", "联系电话"]


def _students(cli):
    core = ServerCore.open(ServerPaths(cli.data), cli.url)
    try:
        with core.db.read() as s:
            from sqlalchemy import select
            from sync_server.models import Record
            return {json.loads(r.routing)["student_no"]: core.record_facts(r)
                    for r in s.execute(select(Record).where(Record.kind == "student")).scalars()}
    finally:
        core.close()


def test_roster_import_and_assign(cli, tmp_path):
    good = tmp_path / "roster.csv"
    _write_csv(good, [HEADER,
                      ["2024001", "张晓明", "三年级1班", "小学", "男", "3202**********1234", "张建国", "低保；残疾", "是", "否", "13812345678"],
                      ["2024002", "李娜", "三年级1班", "小学", "女", "", "", "", "否", "是", ""]])
    out, _ = cli("roster", "import", str(good), "--json")
    assert _json(out) == {"added": 2, "updated": 0, "left": 0}
    students = _students(cli)
    assert students["2024001"]["name"] == "张晓明"
    assert students["2024001"]["hardship_categories"] == ["min_living", "disability"]
    out, _ = cli("roster", "import", str(good), "--json")
    assert _json(out) == {"added": 0, "updated": 2, "left": 0}
    cli("staff", "add", "王芳", "--role", "teacher")
    out, _ = cli("assign", "visitor", "王芳", "2024001", "--term", "2026-2027-1", "--json")
    assert _json(out)["active"] is True
    out, _ = cli("assign", "visitor", "王芳", "2024001", "--term", "2026-2027-1", "--end", "--json")
    assert _json(out)["active"] is False
    cli("assign", "visitor", "王芳", "9999999", ok=False)
    cli("assign", "boss", "王芳", "2024001", ok=False)


def _row(number: str, name: str) -> list[str]:
    return [number, name, "三年级1班", "小学", "", "", "", "", "否", "否", ""]


def test_a_full_roster_import_takes_the_missing_off_the_roster_from_this_term_and_back(cli, tmp_path):
    import datetime as dt

    from visitapp.domain import term_bounds, term_of

    def retention_list() -> dict[str, dict]:
        out, _ = cli("retention", "list", "--json")
        return {r["student_no"]: r for r in _json(out)["students"]}

    roster = tmp_path / "roster.csv"
    _write_csv(roster, [HEADER, _row("2024001", "张晓明"), _row("2024002", "李娜"), _row("2024003", "王五")])
    out, _ = cli("roster", "import", str(roster), "--json")
    assert _json(out) == {"added": 3, "updated": 0, "left": 0}
    assert retention_list() == {}

    _write_csv(roster, [HEADER, _row("2024001", "张晓明"), _row("2024003", "王五")])
    out, _ = cli("roster", "import", str(roster), "--json")
    assert _json(out) == {"added": 0, "updated": 2, "left": 1}
    # the platform pull's rule: off the roster from the first day of the term whose roster lacks them
    start = term_bounds(term_of(dt.date.today()))[0]
    gone = retention_list()
    assert list(gone) == ["2024002"]
    assert gone["2024002"]["left_on"] == start.isoformat()
    assert gone["2024002"]["retention_ends"] == start.replace(year=start.year + 3).isoformat()
    assert gone["2024002"]["due"] is False
    assert _students(cli)["2024002"]["name"] == "李娜"  # kept, never deleted

    # importing the same file again does not move the day they left
    out, _ = cli("roster", "import", str(roster), "--json")
    assert _json(out) == {"added": 0, "updated": 2, "left": 0}
    assert retention_list()["2024002"]["left_on"] == start.isoformat()

    # back on the roster: the leaving day is cleared, retention stops counting
    _write_csv(roster, [HEADER, _row("2024001", "张晓明"), _row("2024002", "李娜"), _row("2024003", "王五")])
    out, _ = cli("roster", "import", str(roster), "--json")
    assert _json(out) == {"added": 0, "updated": 3, "left": 0}
    assert retention_list() == {}
    assert _students(cli)["2024002"]["left_on"] is None


def test_a_roster_file_that_would_take_off_most_of_the_school_needs_force(cli, tmp_path):
    roster = tmp_path / "roster.csv"
    _write_csv(roster, [HEADER, *(_row(f"20240{n:02d}", f"学生{n}") for n in range(1, 13))])
    cli("roster", "import", str(roster))
    _write_csv(roster, [HEADER, _row("2024001", "学生1")])  # a truncated file
    _, err = cli("roster", "import", str(roster), ok=False)
    assert "11 名学生" in err and "--force" in err
    out, _ = cli("retention", "list", "--json")
    assert _json(out)["students"] == []  # nothing written
    out, _ = cli("roster", "import", str(roster), "--force", "--json")
    assert _json(out) == {"added": 0, "updated": 1, "left": 11}


@pytest.mark.parametrize("row,where", [
    (["2024003", "王五", "三年级2班", "大学", "", "", "", "", "否", "否", ""], "第 3 行，列“学段”"),
    (["2024003", "", "三年级2班", "小学", "", "", "", "", "否", "否", ""], "第 3 行，列“姓名”"),
    (["2024003", "王五", "三年级2班", "小学", "", "320211200001011234", "", "", "否", "否", ""], "第 3 行，列“身份证号”"),
    (["2024003", "王五", "三年级2班", "小学", "", "", "", "低保；外星", "否", "否", ""], "第 3 行，列“困难类别”"),
    (["2024003", "王五", "三年级2班", "小学", "", "", "", "", "也许", "否", ""], "第 3 行，列“免申即享”"),
    (["2024001", "王五", "三年级2班", "小学", "", "", "", "", "否", "否", ""], "第 3 行，列“学号”"),
    (["2024003", "王五", "三年级2班", "小学", "", "", "", "", "否", "否", "'; DROP TABLE records;--"], "第 3 行，列“联系电话”"),
])
def test_roster_bad_row_changes_nothing(cli, tmp_path, row, where):
    bad = tmp_path / "bad.csv"
    _write_csv(bad, [HEADER, ["2024001", "张晓明", "三年级1班", "小学", "", "", "", "", "否", "否", ""], row])
    _, err = cli("roster", "import", str(bad), ok=False)
    assert where in err, err
    assert _students(cli) == {}


def test_roster_xlsx_and_broken_files(cli, tmp_path):
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["学号", "姓名", "班级", "学段"])
    ws.append([2024101, "周小雨", "一年级2班", "primary"])
    path = tmp_path / "roster.xlsx"
    wb.save(path)
    out, _ = cli("roster", "import", str(path), "--json")
    assert _json(out)["added"] == 1
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 this is not really a zip")
    _, err = cli("roster", "import", str(broken), ok=False)
    assert "无法读取表格文件" in err
    missing = tmp_path / "nohead.csv"
    _write_csv(missing, [["姓名", "班级"], ["王五", "一班"]])
    _, err = cli("roster", "import", str(missing), ok=False)
    assert "第 1 行" in err and "学号" in err
    cli("roster", "import", str(tmp_path / "roster.txt"), ok=False)


def test_backup_holds_no_plaintext(cli, tmp_path):
    roster = tmp_path / "r.csv"
    _write_csv(roster, [HEADER, ["2024001", "张晓明", "三年级1班", "小学", "", "", "", "", "否", "否", "13812345678"]])
    cli("roster", "import", str(roster))
    out, _ = cli("backup", str(tmp_path / "backup.json.gz"), "--json")
    doc = json.loads(gzip.decompress((tmp_path / "backup.json.gz").read_bytes()))
    assert doc["format"] == "visitapp-server-backup" and _json(out)["rows"] > 0
    blob = json.dumps(doc, ensure_ascii=False)
    assert "张晓明" not in blob and "13812345678" not in blob and "records" in doc["tables"]


def test_demo_school_is_deterministic(cli, backend, tmp_path, capsys):
    out, _ = cli("demo-school", "--students", "30", "--teachers", "3", "--json")
    doc = _json(out)
    assert doc["students"] == 30 and [s["role"] for s in doc["staff"]] == ["officer", "teacher", "teacher", "teacher"]
    assert all(decode_enrollment_code(s["enroll_code"]) for s in doc["staff"])
    other = tmp_path / "again"
    other.mkdir()
    url2 = f"sqlite:///{other / 'again.db'}"
    assert main(["--data-dir", str(other / "d"), "--db", url2, "init", "--school", "实验小学", "--officer", "李专干"]) == 0
    assert main(["--data-dir", str(other / "d"), "--db", url2, "demo-school", "--students", "30", "--teachers", "3",
                 "--json"]) == 0
    doc2 = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [s["name"] for s in doc2["staff"]] == [s["name"] for s in doc["staff"]]
    first = _students(cli)
    core = ServerCore.open(ServerPaths(other / "d"), url2)
    try:
        with core.db.read() as s:
            from sqlalchemy import select
            from sync_server.models import Record
            second = {json.loads(r.routing)["student_no"]: core.record_facts(r)["name"]
                      for r in s.execute(select(Record).where(Record.kind == "student")).scalars()}
    finally:
        core.close()
    assert {k: v["name"] for k, v in first.items()} == second


def test_newer_database_is_refused(cli):
    engine = make_engine(cli.url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()
    _, err = cli("staff", "list", ok=False)
    assert "比本服务器程序更新" in err
    engine = make_engine(cli.url)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999_future"
        conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head_revision()})
    engine.dispose()


def test_plain_http_only_on_loopback_and_bad_args(cli, capsys):
    _, err = cli("serve", "--host", "0.0.0.0", "--no-tls", ok=False)
    assert "回环" in err
    code = main(["staff", "add"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("错误：") and len(err.strip().splitlines()) == 1
