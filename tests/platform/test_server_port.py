"""The connector wired to the real school server (``ServerSchoolData`` over ``ServerCore``) and
the ``visitapp-server platform ...`` commands, against the reference platform process."""

from __future__ import annotations

import json
import subprocess

from tests import forkserver
import sys

import pytest
import requests
from sqlalchemy import select

from visitapp.domain import (
    Assignment, AssignmentRole, Determination, GrowthKind, Level, ReviewMeeting, Visit, VisitMode, VisitStatus,
)
from visitapp.protocol.records import encode_tier_c, decode_tier_c

from sync_server.platform.model import derive_id
from tests.conftest import subprocess_env
from tests.platform.conftest import SCHOOL_CODE, TERM, TODAY, make_connector
from tests.server.conftest import backend, fresh_db_url  # noqa: F401 - fixture

pytestmark = pytest.mark.slow


@pytest.fixture
def core(backend, tmp_path):
    """A school server's core on SQLite and on PostgreSQL (a fresh schema per module)."""
    from sync_server.config import ServerPaths
    from sync_server.core import ServerCore
    from sync_server.db import Database
    paths = ServerPaths(tmp_path / "data")
    cipher = paths.create_key()
    core = ServerCore(paths, Database.open(fresh_db_url(backend, tmp_path)), cipher)
    core.init_school("阳光实验学校", "赵专干")
    yield core
    core.close()


def test_server_port_pull_push_and_audit(core, reference):
    from sync_server.models import AuditRow, Record
    from sync_server.platform.server_port import ServerSchoolData
    data = ServerSchoolData(core, district="梁溪区")
    conn = make_connector(data, reference.url)
    preview, aid = conn.pull(TERM)
    assert len(preview.new) == 40 and aid.added > 0
    students = data.students()
    assert len(students) == 40 and all(s.school_id == data.school().id for s in students)
    assert len([e for e in data.growth_entries() if e.kind == GrowthKind.AID]) == aid.added

    # the school typed an address (tier C) for one student; a roster update must not wipe it
    target = students[0]
    with core.db.write() as tx:
        rec = tx.session.get(Record, target.id)
        core.put_record(tx, record_id=rec.id, kind="student", student_id=rec.id, visibility="student",
                        author_staff=None, author_device=None, routing=json.loads(rec.routing),
                        facts=core.record_facts(rec), sealed=encode_tier_c({"address": "梁溪路1号", "phone": "13800000000"}),
                        existing=rec)
    url = reference.url + f"/reference/schools/{SCHOOL_CODE}/students/{target.platform_ref}"
    assert requests.patch(url, json={"class_name": "九年级(3)班"}, timeout=5).ok
    try:
        second, aid2 = conn.pull(TERM)
        assert [c.student_id for c in second.changed] == [target.id] and not second.new and aid2.added == 0
    finally:
        requests.patch(url, json={"class_name": target.class_name}, timeout=5)
    with core.db.read() as s:
        rec = s.get(Record, target.id)
        assert decode_tier_c(core.record_sealed(rec))["address"] == "梁溪路1号"
    assert next(s for s in data.students() if s.id == target.id).class_name == "九年级(3)班"

    # visits, a final determination and a mentor written on the server go up once
    s0, s1 = data.students()[:2]
    visit = Visit(id=derive_id("v", s0.id), student_id=s0.id, author_id="t", term=TERM, status=VisitStatus.FINAL,
                  visit_date=TODAY, mode=VisitMode.ON_SITE, visitors=("王老师", "李老师"), guardian_consent=True,
                  narrative="不应离开学校的叙述")
    data.save_records([visit,
                       ReviewMeeting(id="m1", term=TERM, meeting_date=TODAY, reviewers=("a", "b", "c")),
                       Determination(id="d1", student_id=s0.id, meeting_id="m1", term=TERM, level=Level.RELATIVELY,
                                     final=True, review_date=TODAY, visit_id=visit.id),
                       Assignment(id="a1", student_id=s1.id, staff_id="t2", role=AssignmentRole.MENTOR, term=TERM)],
                      "officer")
    result = conn.push(TERM)
    assert result.ok and result.sent == 3
    assert conn.push(TERM).items == 0  # the ledger lives in the server's database
    assert {st.status for st in data.export_states().values()} == {"sent"}
    ours = set(data.export_states())  # the reference platform also holds the other backend's run
    got = [x for x in reference.received()["items"] if x["item_id"] in ours]
    assert sorted(x["kind"] for x in got) == ["determination", "mentor", "visit"]
    assert "不应离开" not in json.dumps(got, ensure_ascii=False)

    events = data.exchanges()
    assert [e.operation for e in events].count("roster") == 2 and events[-1].operation == "upload"
    with core.db.read() as s:
        audit = s.execute(select(AuditRow).where(AuditRow.action == "platform_exchange")).scalars().all()
    assert len(audit) == len(events)
    assert json.loads(audit[-1].detail)["count"] == 3 and "visit_date" in json.loads(audit[-1].detail)["fields"]


def run_cli(data_dir, *args, env_extra=None):
    return forkserver.run([sys.executable, "-m", "sync_server", "--data-dir", str(data_dir), *args],
                          env=subprocess_env(**(env_extra or {})), capture_output=True, text=True, timeout=120)


def test_platform_cli_end_to_end(tmp_path, reference):
    from sync_server.platform.reference.store import demo_key
    d = tmp_path / "srv"
    assert run_cli(d, "init", "--school", "阳光实验学校", "--officer", "赵专干").returncode == 0
    key = tmp_path / "platform.key"
    key.write_text(demo_key(SCHOOL_CODE).hex())
    r = run_cli(d, "platform", "configure", "--school-code", SCHOOL_CODE, "--key-file", str(key), "--district", "梁溪区")
    assert r.returncode == 0, r.stderr
    env = {"VISITAPP_PLATFORM_URL": reference.url}

    r = run_cli(d, "platform", "--term", TERM, "pull", "--preview", "--json", env_extra=env)
    doc = json.loads(r.stdout)
    assert r.returncode == 0 and not doc["applied"] and len(doc["preview"]["new"]) == 40
    r = run_cli(d, "platform", "--term", TERM, "pull", "--yes", "--json", env_extra=env)
    assert json.loads(r.stdout)["applied"] and json.loads(r.stdout)["aid"]["added"] > 0
    r = run_cli(d, "platform", "--term", TERM, "pull", "--yes", "--json", env_extra=env)
    doc = json.loads(r.stdout)
    assert doc["preview"]["new"] == [] and doc["preview"]["unchanged"] == 40 and doc["aid"]["added"] == 0

    r = run_cli(d, "platform", "--url", reference.url, "--term", TERM, "push", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["statistics_cells"] >= 1
    r = run_cli(d, "platform", "--term", TERM, "reconcile", "--json", "--xlsx", str(tmp_path / "r.xlsx"))
    doc = json.loads(r.stdout)
    assert r.returncode == 0 and doc["counts"]["not_visited"] == 40 and (tmp_path / "r.xlsx").exists()
    r = run_cli(d, "platform", "--term", TERM, "coverage", "--svg", str(tmp_path / "c.svg"))
    assert r.returncode == 0 and "家访全覆盖：0.0%（0/40）" in r.stdout and (tmp_path / "c.svg").read_text().startswith("<svg")
    r = run_cli(d, "platform", "--term", TERM, "quality", "--json", "--today", "2026-12-20")
    doc = json.loads(r.stdout)
    assert next(c for c in doc["school"] if c["code"] == "overdue_visits")["count"] == 40

    bad = tmp_path / "bad.csv"
    bad.write_text("平台编号,姓名,班级,学段\nWX1,=HYPERLINK(\"x\"),一班,小学\n", encoding="utf-8")
    r = run_cli(d, "platform", "import-file", str(bad))
    assert r.returncode == 1 and r.stderr.strip().count("\n") == 0
    assert "第 2 行，列“姓名”" in r.stderr and "Traceback" not in r.stderr
    r = run_cli(d, "platform", "--url", "http://127.0.0.1:9", "--retries", "1", "pull", "--yes")
    assert r.returncode == 1 and "无法连接平台" in r.stderr


def test_notice_and_schedule_commands(tmp_path, reference, capsys, monkeypatch):
    """In-process (no subprocess start-up): the notice life cycle and one scheduled round."""
    from sync_server.cli import main
    from sync_server.config import ServerPaths
    from sync_server.core import ServerCore
    from sync_server.platform.reference.store import demo_key
    from sync_server.platform.server_port import ServerSchoolData, save_platform_settings

    d = tmp_path / "srv"
    assert main(["--data-dir", str(d), "init", "--school", "阳光实验学校", "--officer", "赵专干"]) == 0
    paths = ServerPaths.resolve(str(d))
    save_platform_settings(paths, url=reference.url, school_code=SCHOOL_CODE, district="梁溪区",
                           key=demo_key(SCHOOL_CODE))
    monkeypatch.delenv("VISITAPP_PLATFORM_URL", raising=False)
    capsys.readouterr()
    assert main(["--data-dir", str(d), "platform", "--term", TERM, "schedule", "--every", "1s", "--once"]) == 0
    assert "名册预览：新增 40 名" in capsys.readouterr().out

    core = ServerCore.open(paths)
    try:
        data = ServerSchoolData(core)
        s0 = data.students()[0]
        visit = Visit(id="v1", student_id=s0.id, author_id="t", term=TERM, status=VisitStatus.FINAL, visit_date=TODAY,
                      mode=VisitMode.ON_SITE, visitors=("王老师",), guardian_consent=True, narrative="x")
        data.save_records([visit, ReviewMeeting(id="m1", term=TERM, meeting_date=TODAY, reviewers=("a", "b", "c")),
                           Determination(id="d1", student_id=s0.id, meeting_id="m1", term=TERM,
                                         level=Level.ESPECIALLY, review_date=TODAY, visit_id="v1")], "officer")
    finally:
        core.close()

    def cli(*args) -> tuple[int, str, str]:
        code = main(["--data-dir", str(d), "platform", "--term", TERM, *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, err = cli("notice", "open", "m1", "--start", "2026-11-10", "--end", "2026-11-16", "--json")
    assert code == 0, err
    view = json.loads(out)
    notice_id = view["notice_id"]
    assert view["lines"][0]["level_zh"] == "特别困难" and view["lines"][0]["masked_name"] != s0.name
    code, out, err = cli("notice", "objection", notice_id, "--received", "2026-11-12", "--content", "有异议",
                         "--student", s0.id, "--json")
    objection_id = json.loads(out)["objections"][0]["objection_id"]
    code, out, err = cli("notice", "close", notice_id, "--today", "2026-11-20")
    assert code == 1 and "异议尚未处理" in err
    code, out, err = cli("notice", "handle", objection_id, "--handling", "已核实并答复", "--on", "2026-11-14")
    assert code == 0, err
    code, out, err = cli("notice", "close", notice_id, "--today", "2026-11-15")
    assert code == 1 and "期满" in err
    code, out, err = cli("notice", "close", notice_id, "--today", "2026-11-20")
    assert code == 0 and "已结束" in out
    code, out, err = cli("push", "--json")
    assert code == 0, err
    assert json.loads(out)["sent"] == 2  # the visit and the now-final determination
    got = [x for x in reference.received()["items"] if x["student_ref"] == s0.platform_ref and x["kind"] == "determination"]
    assert got and got[-1]["level"] == "1"
    code, out, err = cli("schedule", "--every", "soon")
    assert code == 1 and "时间间隔" in err
