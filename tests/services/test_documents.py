"""Printing wired to the records: the documents service and the print/verify-sheet commands."""

from __future__ import annotations

import datetime as dt
import json
import subprocess

import pypdf
import pytest

from tests.conftest import PASSPHRASE, PYTHON, add_student, set_aside_story, subprocess_env
from visitapp.domain import DomainError, Level, VisitMode

TODAY = dt.date.today()


def finalized_visit(ws, student, narrative="家长很配合。"):
    visit = ws.visits.create_draft(student.id)
    ws.visits.save_draft(visit.id, visit_date=TODAY, mode=VisitMode.ON_SITE, visitors=("王老师",),
                         guardian_consent=True, narrative=narrative)
    return ws.visits.finalize(visit.id)


def text_of(path) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(str(path)).pages)


def test_print_visit_then_verify_match_outdated_unknown(workspace, tmp_path):
    student = add_student(workspace, "张晓明", masked_id="3202**********1234")
    visit = finalized_visit(workspace, student)
    report = workspace.documents.print_visit(visit.id, tmp_path / "v.pdf")
    assert report.record_ids == [visit.id]
    text = text_of(tmp_path / "v.pdf")
    assert "张晓明" in text and "3202**********1234" in text and "内部资料" in text
    assert workspace.documents.verify_sheet(tmp_path / "v.pdf").status == "match"
    amendment = workspace.visits.amend(visit.id, "补充")
    workspace.visits.finalize(amendment.id)
    assert workspace.documents.verify_sheet(tmp_path / "v.pdf").status == "outdated"
    other = add_student(workspace, "李小红")
    other_visit = finalized_visit(workspace, other)
    workspace.documents.print_visit(other_visit.id, tmp_path / "o.pdf")
    workspace.visits.void(other_visit.id, "录错学生")
    with workspace.profile.session() as s, s.begin():
        from visitapp.storage.models import VisitRow
        s.delete(s.get(VisitRow, other_visit.id))  # as if it belonged to another school's database
    assert workspace.documents.verify_sheet(tmp_path / "o.pdf").status == "unknown"


def test_drafts_are_not_printed_for_the_archive(workspace, tmp_path):
    student = add_student(workspace)
    draft = workspace.visits.create_draft(student.id)
    with pytest.raises(DomainError, match="草稿"):
        workspace.documents.print_visit(draft.id, tmp_path / "d.pdf")


def test_batch_by_class_has_one_sheet_per_visit(workspace, tmp_path):
    a = add_student(workspace, "甲同学", class_name="七(1)班")
    b = add_student(workspace, "乙同学", class_name="七(2)班")
    finalized_visit(workspace, a)
    finalized_visit(workspace, b)
    seen = []
    report = workspace.documents.print_visits(tmp_path / "c.pdf", class_name="七(1)班",
                                              progress=lambda d, t: seen.append((d, t)))
    assert len(report.records) == 1 and seen[-1] == (1, 1)
    assert "甲同学" in text_of(tmp_path / "c.pdf") and "乙同学" not in text_of(tmp_path / "c.pdf")
    with pytest.raises(DomainError):
        workspace.documents.print_visits(tmp_path / "none.pdf", class_name="九(9)班")


def test_public_notice_of_a_meeting(officer_workspace, tmp_path):
    ws = officer_workspace
    student = add_student(ws, "张晓明", assign=False, hardship_categories=("min_living",))
    finalized_visit(ws, student)
    from tests.services.test_services import _staff
    reviewers = [_staff(ws, n).id for n in ("甲", "乙", "丙")]
    meeting = ws.review.record_meeting(ws.students.current_term(), TODAY, reviewers, "纪要")
    with pytest.raises(DomainError):
        ws.review.publish_notice(meeting.id, TODAY, TODAY + dt.timedelta(days=6))
    ws.review.determine(meeting.id, student.id, Level.ESPECIALLY)
    with pytest.raises(Exception):
        ws.review.publish_notice(meeting.id, TODAY, TODAY + dt.timedelta(days=2))  # shorter than 5 days
    ws.review.publish_notice(meeting.id, TODAY, TODAY + dt.timedelta(days=6))
    ws.documents.print_notice(meeting.id, tmp_path / "n.pdf")
    text = text_of(tmp_path / "n.pdf")
    assert "张*明" in text and "张晓明" not in text and "低保" not in text and "3202" not in text


def test_print_and_verify_commands(tmp_path):
    passfile = tmp_path / "p.txt"
    passfile.write_text(PASSPHRASE)
    base = [PYTHON, "-m", "visitapp", "--profile", str(tmp_path / "prof"), "--passphrase-file", str(passfile)]

    def run(*args):
        return subprocess.run([*base, *args], capture_output=True, text=True, env=subprocess_env(), timeout=180)

    assert run("init", "--insecure-fast-kdf").returncode == 0
    assert run("demo-data", "--students", "24").returncode == 0
    students = json.loads(run("students", "--json").stdout)["students"]
    first_class = next(s["class_name"] for s in students if s["visit_status"] == "visited")
    out = run("print", "visits", "--class", first_class, "-o", str(tmp_path / "all.pdf"), "--json")
    assert out.returncode == 0, out.stderr
    printed = json.loads(out.stdout)
    assert printed["pages"] >= len(printed["records"]) > 0
    verdict = run("verify-sheet", str(tmp_path / "all.pdf"), "--json")
    assert verdict.returncode == 0 and json.loads(verdict.stdout)["status"] == "match"
    # a visit this laptop holds without its story (issue 14: sealed to readers it is not yet
    # one of) is left out of the batch and said so, not filed on paper with an empty story
    from visitapp.services import open_profile
    ws = open_profile(tmp_path / "prof", PASSPHRASE)
    try:
        set_aside_story(ws, printed["records"][0])
    finally:
        ws.close()
    out = run("print", "visits", "--class", first_class, "-o", str(tmp_path / "rest.pdf"), "--json")
    assert out.returncode == 0 and printed["records"][0] not in json.loads(out.stdout)["records"]
    assert "另有 1 条记录的家庭情况内容待资助专干授权后可查看，本次未打印" in out.stderr
    out = run("print", "growth-file", students[0]["student_no"], "-o", str(tmp_path / "g.pdf"))
    assert out.returncode == 0 and "已生成 1 份文档" in out.stdout
    bad = run("print", "visits", "-o", str(tmp_path / "x.pdf"))
    assert bad.returncode == 1 and "--class" in bad.stderr
    missing = run("verify-sheet", str(tmp_path / "nothing.png"))
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
