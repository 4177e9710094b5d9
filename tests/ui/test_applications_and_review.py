"""Issue 15 through the real widgets: the class teacher records an application and prints the
student's chain; the officer reviews (已审核, 退回 with a required comment) and names a grade
leader; the author sees the review on the visit editor and the growth screen and edits a
returned growth entry through its dialog."""

from __future__ import annotations

import datetime as dt

import pypdf
from PySide6.QtCore import Qt

from tests.ui.helpers import click, idle, type_text
from visitapp.domain import GrowthKind, RecordReview, RewardKind, ReviewVerdict, VisitMode
from visitapp.ui.i18n import label
from visitapp.services.base import new_id
from visitapp.storage.records import upsert_entity

TODAY = dt.date.today()


def _nav(qtbot, w, screen) -> None:
    item = w._nav_items[screen]
    rect = w.nav.visualItemRect(item)
    qtbot.mouseClick(w.nav.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    idle(qtbot, w)
    assert w.screens.currentWidget() is screen


def test_the_class_teacher_records_an_application_and_prints_the_chain(qtbot, unlocked):
    w, ws = unlocked()
    opened = []
    w.ctx.open_file = opened.append
    a = w.applications
    _nav(qtbot, w, a)
    assert a.student.count() == len(ws.students.list_mine())
    sid = a.student.currentData()
    assert a.steps.rowCount() == 6 and a.record_button.isEnabled()
    click(qtbot, a.record_button)                 # no channel chosen: refused with the sentence
    idle(qtbot, w)
    assert a.error.isVisible() and "how the application was made" in a.error.text()  # English window, English
    a.channel.setCurrentIndex(a.channel.findData("family"))
    click(qtbot, a.materials["application_form"])
    click(qtbot, a.materials["income_proof"])
    type_text(qtbot, a.details, "父亲失业，母亲打零工")
    click(qtbot, a.record_button)
    idle(qtbot, w)
    (application,) = ws.applications.for_student(sid)
    assert [str(m) for m in application.materials] == ["application_form", "income_proof"]
    assert application.details == "父亲失业，母亲打零工" and str(application.channel) == "family"
    assert a.applications.rowCount() == 1 and not a.error.isVisible()
    first = a.steps.row_at(0)
    assert first.step == "申请" and first.done
    click(qtbot, a.print_button)
    idle(qtbot, w)
    assert len(opened) == 1
    text = "".join(p.extract_text() for p in pypdf.PdfReader(str(opened[0])).pages)
    assert "资助工作全过程记录" in text and "学生本人或家长申请" in text


def test_the_officer_reviews_returns_with_a_comment_and_names_a_grade_leader(qtbot, unlocked, officer_template):
    w, ws = unlocked(officer_template)
    r = w.record_review
    _nav(qtbot, w, r)
    assert r.pending.rowCount() > 2 and r.appoint_box.isVisible()
    r.table.selectRow(0)
    first = r.pending.row_at(0)
    click(qtbot, r.approve_button)
    idle(qtbot, w)
    assert ws.record_reviews.state(first.record_kind, first.record_id).reviewed
    assert first.record_id not in {p.record_id for p in ws.record_reviews.pending()}
    r.table.selectRow(0)
    second = r.pending.row_at(0)
    click(qtbot, r.return_button)                 # 退回 needs a comment
    idle(qtbot, w)
    assert r.error.isVisible() and "needs a comment" in r.error.text()
    type_text(qtbot, r.comment, "请补充家庭收入")
    click(qtbot, r.return_button)
    idle(qtbot, w)
    state = ws.record_reviews.state(second.record_kind, second.record_id)
    assert state.status == "returned" and state.review.comment == "请补充家庭收入"
    # a grade leader for 七年级
    leader = r.staff.itemData(0)
    type_text(qtbot, r.grade, "七年级")
    click(qtbot, r.appoint_button)
    idle(qtbot, w)
    assert [(x.staff_id, x.grade) for x in ws.record_reviews.appointments()] == [(leader, "七年级")]
    assert r.appointments.rowCount() == 1


def test_the_author_sees_the_review_and_edits_a_returned_entry(qtbot, unlocked):
    w, ws = unlocked()
    w.students.table.selectRow(1)
    sid = w.students.selected_id()
    entry = ws.growth.add_entry(sid, GrowthKind.REWARD, entry_date=TODAY, title="三好学生",
                                reward_kind=RewardKind.COMMENDATION)
    draft = ws.visits.create_draft(sid)
    ws.visits.save_draft(draft.id, visit_date=TODAY, mode=VisitMode.ON_SITE, visitors=("李老师",),
                         guardian_consent=True, narrative="入户走访。")
    visit = ws.visits.finalize(draft.id)
    officer = next(s for s in ws.staff.list() if str(s.role) == "officer")
    with ws.profile.session() as s, s.begin():   # as pulled from the school server
        upsert_entity(s, RecordReview(id=new_id(), student_id=sid, record_kind="growth_entry", record_id=entry.id,
                                      reviewer_id=officer.id, verdict=ReviewVerdict.RETURNED,
                                      created_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1),
                                      reviewed_on=TODAY, comment="请写明表彰级别"))
        upsert_entity(s, RecordReview(id=new_id(), student_id=sid, record_kind="visit", record_id=visit.id,
                                      reviewer_id=officer.id, verdict=ReviewVerdict.APPROVED,
                                      created_at=dt.datetime.now(dt.timezone.utc), reviewed_on=TODAY))
    click(qtbot, w.students.growth_button)
    idle(qtbot, w)
    g = w.growth
    row = next(i for i in range(g.model.rowCount()) if g.model.row_at(i).record_id == entry.id)
    review_column = g.model.columnCount() - 1
    assert g.model.index(row, review_column).data() == f"{label('returned')}：请写明表彰级别"
    assert not g.edit_returned.isEnabled()
    g.timeline.selectRow(row)
    assert g.edit_returned.isEnabled()

    def fake_exec(dialog):  # noqa: ANN001, ANN202
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        assert dialog.title.text() == "三好学生" and not dialog.entry_kind.isEnabled()
        dialog.title.clear()
        type_text(qtbot, dialog.title, "校级三好学生")
        dialog.hide()
        return True

    from visitapp.ui.screens import growth as growth_screen
    g.reward_dialog_factory = lambda parent, kind="reward": type(
        "D", (growth_screen.EntryDialog,), {"exec": fake_exec})(parent, kind)
    click(qtbot, g.edit_returned)
    idle(qtbot, w)
    edited = next(e for e in ws.growth.entries(sid) if e.id == entry.id)
    assert edited.title == "校级三好学生" and edited.updated_at is not None
    assert ws.record_reviews.state("growth_entry", entry.id).status == "resubmitted"
    # the visit editor shows who reviewed the record, and when
    w.show_screen(w.growth)
    w.show_screen(w.students)
    click(qtbot, w.students.visit_button)
    idle(qtbot, w)
    assert w.editor.visit.id == visit.id
    assert w.editor.review_line.isVisible()
    assert w.editor.review_line.text() == f"Reviewed by {officer.name} on {TODAY}."
