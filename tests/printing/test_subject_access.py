"""The guardian's copy (个人信息查阅副本, PIPL arts. 44–45): every record about the student the
officer's laptop holds, field by field, with who entered what; nothing about another student;
audited; verifiable by its QR code."""

from __future__ import annotations

import dataclasses

import pytest

from tests.conftest import add_student
from tests.services.test_documents import TODAY, finalized_visit, text_of
from visitapp.domain import DomainError, GrowthKind, RecordReview, ReviewVerdict, RewardKind
from visitapp.services.base import new_id
from visitapp.storage.models import AuditEventRow
from visitapp.storage.records import upsert_entity
from sqlalchemy import select


def _two_families(ws):
    child = add_student(ws, "张晓明", assign=False, guardian_name="张建国", address="清扬路幸福家园12幢305室",
                        phone="139****6688", hardship_categories=("min_living",))
    other = add_student(ws, "李小红", assign=False, guardian_name="李大山", address="人民路8号", phone="137****1111")
    finalized_visit(ws, child, narrative="母亲患尿毒症每周透析三次，父亲打零工。")
    finalized_visit(ws, other, narrative="另一家的故事：奶奶抚养，父母外出务工。")
    ws.growth.set_profile_field(child.id, "strengths", "擅长绘画，多次获奖")
    ws.growth.set_profile_field(other.id, "strengths", "长跑第一")
    ws.growth.add_entry(child.id, GrowthKind.REWARD, entry_date=TODAY, title="三好学生", reward_kind=RewardKind.COMMENDATION)
    ws.growth.add_entry(other.id, GrowthKind.REWARD, entry_date=TODAY, title="优秀班干部", reward_kind=RewardKind.COMMENDATION)
    ws.applications.record(child.id, TODAY, "family", ("application_form",), details="家长说明：母亲长期透析")
    ws.applications.record(other.id, TODAY, "class_teacher", details="班主任推荐：奶奶年迈")
    with ws.profile.session() as s, s.begin():  # a grade leader's review of each child's visit, as synced
        for student, comment in ((child, "请补充透析费用"), (other, "请补充奶奶收入")):
            visit = ws.visits.for_student(student.id)[0]
            upsert_entity(s, RecordReview(id=new_id(), student_id=student.id, record_kind="visit", record_id=visit.id,
                                          reviewer_id="leader", verdict=ReviewVerdict.RETURNED, reviewed_on=TODAY,
                                          comment=comment))
    return child, other


def test_the_copy_holds_everything_about_the_child_and_nothing_about_another(officer_workspace, tmp_path):
    ws = officer_workspace
    child, other = _two_families(ws)
    job = ws.documents.subject_access_job(child.id)
    assert {r.student_id for r in job.records()} == {child.id}
    assert len(job.visits) == 1 and len(job.profile) == 1 and len(job.entries) == 1
    assert len(job.applications) == 1 and len(job.reviews) == 1
    assert job.audit and all(e.record_id in {child.id, *(r.id for r in job.records())} for e in job.audit)
    report = ws.documents.print_subject_access(child.id, tmp_path / "copy.pdf")
    text = text_of(tmp_path / "copy.pdf").replace("\n", "")
    for value in ("张晓明", "张建国", "清扬路幸福家园12幢305室", "139****6688", "母亲患尿毒症每周透析三次", "擅长绘画",
                  "三好学生", "低保", "家访记录定稿", "赵专干", "资助申请", "学生本人或家长申请", "认定申请表",
                  "家长说明：母亲长期透析", "记录审核", "退回", "请补充透析费用", "登记资助申请"):
        assert value in text, value
    for value in ("李小红", "李大山", "人民路8号", "奶奶抚养", "长跑第一", "优秀班干部", "奶奶年迈", "请补充奶奶收入"):
        assert value not in text, value
    assert report.records[0].kind == "subject_access"
    assert ws.documents.verify_sheet(tmp_path / "copy.pdf").status == "match"
    # the export itself is audited, with counts only
    with ws.profile.session() as s:
        event = s.scalars(select(AuditEventRow).where(AuditEventRow.action == "subject_access.export")).one()
    assert event.record_id == child.id and set(event.detail) == {"records", "audit_events", "pages"}
    # a record added since: the paper copy is no longer complete
    ws.growth.add_entry(child.id, GrowthKind.REWARD, entry_date=TODAY, title="进步之星", reward_kind=RewardKind.COMMENDATION)
    assert ws.documents.verify_sheet(tmp_path / "copy.pdf").status == "outdated"


def test_only_the_officer_makes_the_copy_and_other_teachers_drafts_stay_out(officer_workspace, workspace, tmp_path):
    child = add_student(workspace, "张晓明")
    with pytest.raises(DomainError):
        workspace.documents.subject_access_job(child.id)
    ws = officer_workspace
    child, _other = _two_families(ws)
    draft = dataclasses.replace(ws.visits.create_draft(child.id), id=new_id(), author_id="another-teacher",
                                narrative="别的老师还没写完的草稿")
    with ws.profile.session() as s, s.begin():
        upsert_entity(s, draft)
    assert draft.id not in {v.id for v in ws.documents.subject_access_job(child.id).visits}
