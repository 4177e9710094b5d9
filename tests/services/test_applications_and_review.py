"""Issue 15 on one laptop: applications (申请) and who may record them, the review of records
(谁审核谁负责) with independence, 退回 and the author's answer, the chain of one student and
term, and the data-quality checks that count what is missing."""

from __future__ import annotations

import dataclasses

import pytest

from tests.conftest import add_student
from tests.services.test_documents import TODAY, finalized_visit
from tests.services.test_services import _staff
from visitapp.domain import DomainError, GrowthKind, RewardKind, ValidationError, term_of
from visitapp.services.base import Identity

TERM = term_of(TODAY)


def _as(ws, staff, role="teacher"):  # noqa: ANN001, ANN202
    """The same laptop acting as another staff member (the server enrols each on its own)."""
    with ws.profile.session() as s, s.begin():
        ws.ctx.set_identity(s, Identity(staff.id, staff.name, role, ws.identity.device_id, "测试学校"))


def test_class_teacher_records_an_application_and_others_may_not(workspace):
    mine = add_student(workspace, "张晓明")
    other = add_student(workspace, "李小红", assign=False)
    app = workspace.applications.record(mine.id, TODAY, "family", ["application_form", "hardship_certificate"],
                                        details="父亲去年重病住院")
    assert app.term == TERM and app.author_id == workspace.identity.staff_id
    assert [a.id for a in workspace.applications.for_student(mine.id)] == [app.id]
    with pytest.raises(DomainError, match="班主任"):
        workspace.applications.record(other.id, TODAY, "family")
    with pytest.raises(ValidationError) as bad:
        workspace.applications.record(mine.id, None, None)
    assert set(bad.value.problems) >= {"applied_on", "channel"}
    # audited like every record, without the family's words
    with workspace.profile.session() as s:
        from sqlalchemy import select
        from visitapp.storage.models import AuditEventRow, OutboxRow
        actions = s.scalars(select(AuditEventRow.action).where(AuditEventRow.record_id == app.id)).all()
        queued = s.scalars(select(OutboxRow.record_kind).where(OutboxRow.record_id == app.id)).all()
        details = s.scalars(select(AuditEventRow.detail).where(AuditEventRow.record_id == app.id)).all()
    assert actions == ["application.record"] and queued == ["application"]
    assert "重病" not in str(details)


def test_review_independence_return_and_the_authors_answer(officer_workspace):
    ws = officer_workspace
    officer = ws.identity
    teacher = _staff(ws, "王老师")
    leader = _staff(ws, "年级组长")
    student = add_student(ws, "张晓明", class_name="七年级(1)班", assign=False)
    _as(ws, teacher)
    visit = finalized_visit(ws, student)
    entry = ws.growth.add_entry(student.id, GrowthKind.REWARD, entry_date=TODAY, title="三好学生",
                                reward_kind=RewardKind.COMMENDATION)
    # a teacher who is not a reviewer may not review
    assert "审核人" in ws.record_reviews.refusal("visit", visit.id)
    with ws.profile.session() as s, s.begin():
        ws.ctx.set_identity(s, officer)
    appointment = ws.record_reviews.appoint(leader.id, "七年级")
    # the officer reviews the teacher's visit; the officer's own record is not the officer's to review
    review = ws.record_reviews.review("visit", visit.id, "approved")
    assert ws.record_reviews.state("visit", visit.id).reviewed
    assert ws.record_reviews.reviewer_line(visit.id)[0] == "赵专干"
    own = finalized_visit(ws, student)
    with pytest.raises(DomainError, match="不能审核自己"):
        ws.record_reviews.review("visit", own.id, "approved")
    # the grade leader returns the growth entry with a comment (a comment is required)
    _as(ws, leader)
    assert ws.record_reviews.is_reviewer()
    with pytest.raises(ValidationError):
        ws.record_reviews.review("growth_entry", entry.id, "returned", "")
    ws.record_reviews.review("growth_entry", entry.id, "returned", "请写明表彰的级别")
    assert ws.record_reviews.state("growth_entry", entry.id).status == "returned"
    # only its author edits it; then it waits for review again
    with pytest.raises(DomainError, match="作者"):
        ws.record_reviews.edit_returned_entry(entry.id, title="校级三好学生")
    _as(ws, teacher)
    ws.record_reviews.edit_returned_entry(entry.id, title="校级三好学生")
    assert ws.record_reviews.state("growth_entry", entry.id).status == "resubmitted"
    # an approved entry stays append-only
    _as(ws, leader)
    assert {p.record_id: p.status for p in ws.record_reviews.pending()} == {entry.id: "resubmitted", own.id: "unreviewed"}
    ws.record_reviews.review("growth_entry", entry.id, "approved")
    _as(ws, teacher)
    with pytest.raises(DomainError, match="退回"):
        ws.record_reviews.edit_returned_entry(entry.id, title="再改")
    # once the appointment ends, the grade leader reviews no more
    with ws.profile.session() as s, s.begin():
        ws.ctx.set_identity(s, officer)
    ws.record_reviews.end_appointment(appointment.id)
    _as(ws, leader)
    assert "审核人" in ws.record_reviews.refusal("visit", own.id)
    assert review.reviewer_id == officer.staff_id


def test_chain_and_data_quality_checks(officer_workspace):
    ws = officer_workspace
    teacher = _staff(ws, "王老师")
    applied_visited = add_student(ws, "张晓明", assign=False)
    applied_only = add_student(ws, "李小红", assign=False)
    visited_only = add_student(ws, "王大力", assign=False)
    auto = add_student(ws, "赵小花", assign=False, auto_eligible=True)
    officer = ws.identity
    for st in (applied_visited, applied_only):
        ws.applications.record(st.id, TODAY, "family", ["application_form"])
    _as(ws, teacher)
    visits = {st.id: finalized_visit(ws, st) for st in (applied_visited, visited_only, auto)}
    with ws.profile.session() as s, s.begin():
        ws.ctx.set_identity(s, officer)
    ws.record_reviews.review("visit", visits[applied_visited.id].id, "approved")
    report = ws.reports.data_quality(TERM, today=TODAY)
    found = {c.code: {i.student_id for i in c.items} for c in report.school}
    assert found["application_without_visit"] == {applied_only.id}
    assert found["visit_without_application"] == {visited_only.id}       # 免申即享 (auto) needs none
    assert found["unreviewed_records"] == {visited_only.id, auto.id}
    chain = ws.applications.chain(applied_visited.id, TERM)
    assert [(s.step, s.done) for s in chain.steps] == [
        ("申请", True), ("家访", True), ("审核", True), ("集体评议", False), ("公示", False), ("认定", False)]
    assert chain.steps[2].who == "赵专干"
    auto_chain = ws.applications.chain(auto.id, TERM)
    assert auto_chain.steps[0].done and "免申即享" in auto_chain.steps[0].detail
    assert not ws.applications.chain(visited_only.id, TERM).steps[0].done


def test_the_reviewer_and_the_chain_are_printed_and_verifiable(officer_workspace, tmp_path):
    from tests.services.test_documents import text_of
    ws = officer_workspace
    teacher = _staff(ws, "王老师")
    student = add_student(ws, "张晓明", assign=False)
    officer = ws.identity
    ws.applications.record(student.id, TODAY, "class_teacher", ["application_form"])
    _as(ws, teacher)
    visit = finalized_visit(ws, student)
    with ws.profile.session() as s, s.begin():
        ws.ctx.set_identity(s, officer)
    blank = ws.documents.print_visit(visit.id, tmp_path / "before.pdf")
    ws.record_reviews.review("visit", visit.id, "approved")
    ws.documents.print_visit(visit.id, tmp_path / "after.pdf")
    day = f"{TODAY.year} 年 {TODAY.month} 月 {TODAY.day} 日"
    assert "审核人" in text_of(tmp_path / "before.pdf") and day not in text_of(tmp_path / "before.pdf")
    assert f"审核人 赵专干 {day}" in " ".join(text_of(tmp_path / "after.pdf").split())
    # the sheet printed before the review no longer shows what the records hold
    assert ws.documents.verify_sheet(tmp_path / "before.pdf").status == "outdated"
    assert ws.documents.verify_sheet(tmp_path / "after.pdf").status == "match"
    assert blank.records[0].hash != ws.documents.visit_job(visit.id).fingerprint().hash
    ws.documents.print_chain(student.id, tmp_path / "chain.pdf", TERM)
    text = text_of(tmp_path / "chain.pdf").replace("\n", "")
    for words in ("资助工作全过程记录", "班主任推荐", "实地走访", "已审核", "尚未评议", "尚未完成：集体评议、公示、认定"):
        assert words in text, words
    # the footer names the term in words; the QR keeps the id verify-sheet looks up (so a sheet
    # printed before the footer changed verifies as before)
    from visitapp.domain import term_label
    from visitapp.printing.verify import read_qr_payloads
    assert f"记录编号：{student.id}（{term_label(TERM)}）" in text and f"{student.id}:{TERM}" not in text
    assert any(f"|chain|{student.id}:{TERM}|" in p for p in read_qr_payloads(tmp_path / "chain.pdf"))
    assert ws.documents.verify_sheet(tmp_path / "chain.pdf").status == "match"


def test_print_chain_from_the_command_line_and_verify_it(tmp_path, capsys):
    """``visitapp print chain STUDENT`` as a class teacher runs it, then ``verify-sheet``."""
    import json

    from tests.conftest import PASSPHRASE
    from visitapp.cli import main
    from visitapp.services import open_profile

    passfile = tmp_path / "p.txt"
    passfile.write_text(PASSPHRASE)
    base = ["--profile", str(tmp_path / "prof"), "--passphrase-file", str(passfile)]
    assert main([*base, "init", "--insecure-fast-kdf"]) == 0
    with open_profile(tmp_path / "prof", PASSPHRASE) as ws:
        student = add_student(ws, "陈小雨")
        ws.applications.record(student.id, TODAY, "family", ["application_form"])
    capsys.readouterr()
    assert main([*base, "print", "chain", "陈小雨", "--term", TERM, "-o", str(tmp_path / "c.pdf"), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["records"] == [f"{student.id}:{TERM}"] and printed["pages"] == 1
    assert main([*base, "verify-sheet", str(tmp_path / "c.pdf"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "match"
    with open_profile(tmp_path / "prof", PASSPHRASE) as ws:  # a visit later: the page is outdated
        finalized_visit(ws, student)
    assert main([*base, "verify-sheet", str(tmp_path / "c.pdf"), "--json"]) == 3  # outdated
    assert json.loads(capsys.readouterr().out)["status"] == "outdated"
