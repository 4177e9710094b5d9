"""Issue 15, "done when": an officer walks an inspector from a family's application to the
posted notice and the final determination, with who entered and who reviewed every step.

Real processes: a school server over TLS (``visitapp-server init`` + ``serve``, laptops
enrolled with codes that pin its certificate), the class teacher's and the officer's laptops
(their services and sync engines, as their windows call them). The chain 申请 → 家访 → 审核 →
集体评议 → 公示 → 认定 crosses the wire at every step: the teacher records the application and
the visit, the officer returns the visit with a comment, the teacher amends it, the officer
approves the amendment, reviews, publishes and closes the notice, and the teacher's laptop
prints the sheet with the officer's name and date on its 审核人 line.
"""

from __future__ import annotations

import datetime as dt

import pypdf
import pytest

from tests.conftest import PASSPHRASE
from tests.e2e.server_process import ServerProcess
from visitapp.crypto import FAST_TEST_KDF
from visitapp.domain import VisitMode
from visitapp.services import create_profile
from visitapp.services.base import new_id

pytestmark = pytest.mark.slow
TODAY = dt.date.today()


def _text(path) -> str:
    return " ".join("".join(page.extract_text() for page in pypdf.PdfReader(str(path)).pages).split())


def _sync(*laptops) -> None:
    for ws in laptops:
        report = ws.sync.run()
        assert report.ok, report.errors
        assert ws.pending_count() == 0, "every change was accepted by the server"


def test_application_visit_review_notice_determination_across_the_wire(tmp_path):
    server = ServerProcess(tmp_path / "server")  # HTTPS with the certificate init made
    demo = server.init_demo(students=6, teachers=1)
    server.start()
    laptops = {}
    try:
        for key, role in (("officer", "officer"), ("teacher", "teacher")):
            staff = [s for s in demo["staff"] if s["role"] == role][0]
            ws, _ = create_profile(tmp_path / f"laptop-{key}", PASSPHRASE, kdf=FAST_TEST_KDF)
            # the teacher's code is made by the officer's laptop: it carries the officer key
            code = staff["enroll_code"] if key == "officer" else laptops["officer"].keys.officer_code(staff["enroll_code"])
            ws.sync.enroll(code, device_label=f"laptop-{key}")
            _sync(ws)
            laptops[key] = ws
        _sync(laptops["officer"], laptops["teacher"])  # certified, and given its students' keys
        teacher, officer = laptops["teacher"], laptops["officer"]
        student = teacher.students.list_mine()[0].id
        term = teacher.students.current_term()

        # 申请: the class teacher records the family's application; 家访: and visits the family
        application = teacher.applications.record(student, TODAY, "family",
                                                  ["application_form", "hardship_certificate"], "母亲务农，父亲长期患病")
        visit = teacher.visits.create_draft(student)
        teacher.visits.save_draft(visit.id, visit_date=TODAY, mode=VisitMode.ON_SITE,
                                  visitors=(teacher.identity.staff_name,), guardian_consent=True, narrative="入户走访。")
        teacher.visits.finalize(visit.id)
        _sync(teacher, officer)
        assert [a.id for a in officer.applications.for_student(student)] == [application.id]
        assert officer.applications.for_student(student)[0].details == "母亲务农，父亲长期患病"  # tier C, sealed in transit
        quality = {c.code: {i.student_id for i in c.items} for c in officer.reports.data_quality(term).school}
        assert student in quality["unreviewed_records"] and student not in quality["application_without_visit"]

        # 审核: the officer returns the visit with a comment; the teacher sees it and amends
        officer.record_reviews.review("visit", visit.id, "returned", "请补充家庭年收入")
        _sync(officer, teacher)
        returned = teacher.record_reviews.state("visit", visit.id)
        assert returned.status == "returned" and returned.review.comment == "请补充家庭年收入"
        amendment = teacher.visits.amend(visit.id, "按审核意见补充家庭年收入")
        teacher.visits.save_draft(amendment.id, annual_income_yuan=18000)
        teacher.visits.finalize(amendment.id)
        _sync(teacher, officer)
        assert [p.record_id for p in officer.record_reviews.pending() if p.student_id == student] == [amendment.id]
        officer.record_reviews.review("visit", amendment.id, "approved")

        # 集体评议 → 公示 → 认定
        reviewers = [officer.identity.staff_id, teacher.identity.staff_id, new_id()]
        meeting = officer.review.record_meeting(term, TODAY, reviewers, "评议纪要")
        officer.review.determine(meeting.id, student, "2")
        notice = officer.review.publish_notice(meeting.id, TODAY - dt.timedelta(days=8), TODAY - dt.timedelta(days=2))
        officer.notices.close(notice.id)
        _sync(officer, teacher)

        chain = officer.applications.chain(student, term)
        assert [(s.step, s.done) for s in chain.steps] == [(step, True) for step in
                                                            ("申请", "家访", "审核", "集体评议", "公示", "认定")]
        assert chain.steps[0].who == teacher.identity.staff_name and chain.steps[2].who == officer.identity.staff_name
        assert chain.steps[1].record_id == amendment.id  # the version that counts
        quality = {c.code: {i.student_id for i in c.items} for c in officer.reports.data_quality(term).school}
        assert all(student not in quality[code] for code in
                   ("application_without_visit", "visit_without_application", "unreviewed_records"))

        # the review reached the author's laptop and is printed there, with name and date
        assert teacher.record_reviews.state("visit", amendment.id).reviewed
        teacher.documents.print_visit(visit.id, tmp_path / "sheet.pdf")
        day = f"{TODAY.year} 年 {TODAY.month} 月 {TODAY.day} 日"
        assert f"审核人 {officer.identity.staff_name} {day}" in _text(tmp_path / "sheet.pdf")
        assert teacher.documents.verify_sheet(tmp_path / "sheet.pdf").status == "match"
        # the inspector's page: the whole chain, verifiable on the officer's laptop
        officer.documents.print_chain(student, tmp_path / "chain.pdf", term)
        text = _text(tmp_path / "chain.pdf")
        assert "六个环节均已完成" in text and "比较困难（已生效）" in text and "学生本人或家长申请" in text
        assert officer.documents.verify_sheet(tmp_path / "chain.pdf").status == "match"
    finally:
        for ws in laptops.values():
            ws.close()
        server.stop()
