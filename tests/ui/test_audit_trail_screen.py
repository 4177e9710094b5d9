"""The officer's audit-trail screen, clicked: the events this laptop signed show as verified, the
summary is ``audit verify``'s, and an event edited in the database turns the summary red and
its row "Broken or forged"."""

from __future__ import annotations

from sqlalchemy import select, update

from tests.ui.helpers import click, idle
from visitapp.storage.models import AuditEventRow, StudentRow


def _statuses(screen) -> list[str]:
    column = screen.lines.columnCount() - 1
    return [screen.lines.index(r, column).data() for r in range(screen.lines.rowCount())]


def test_the_officer_sees_verified_events_and_a_broken_one(qtbot, unlocked, officer_template):
    w, ws = unlocked(officer_template)
    ws.keys.device_keys()  # the key made at enrollment; from now on events are signed
    with ws.profile.session() as s:
        student_id = s.scalars(select(StudentRow.id)).first()
    ws.visits.create_draft(student_id)
    w.nav.setCurrentRow(w.screens.indexOf(w.trail))  # the officer clicks 审计记录 in the list
    idle(qtbot, w)
    screen = w.trail
    assert w.screens.currentWidget() is screen and not w._nav_items[screen].isHidden()
    report = ws.audit.verify()
    assert report.intact and report.signed >= 1
    assert _statuses(screen).count("Verified") == report.signed
    assert screen.summary.text().startswith("Intact") and f"{report.signed} verified" in screen.summary.text()

    with ws.profile.session() as s, s.begin():
        newest_id, newest_seq = s.execute(select(AuditEventRow.id, AuditEventRow.seq)
                                          .where(AuditEventRow.device_id == ws.identity.device_id)
                                          .order_by(AuditEventRow.seq.desc())).first()
        s.execute(update(AuditEventRow).where(AuditEventRow.id == newest_id).values(action="determination.final")
                  .execution_options(synchronize_session=False))
    click(qtbot, screen.verify_button)
    idle(qtbot, w)
    assert screen.summary.text().startswith(f"Broken at event {newest_seq}")
    assert _statuses(screen)[0] == "Broken or forged"  # newest first
    assert screen.lines.index(0, 2).data() == "determination.final"


def _other_laptops_events(ws, actor_id: str, record_id: str, day) -> None:  # noqa: ANN001
    """Three events of a teacher's laptop, as the officer's sync brings them: a partial chain,
    properly linked, written on ``day``."""
    import dataclasses
    import datetime as dt

    from visitapp.domain.audit import audit_hash
    from visitapp.services.base import new_id
    from visitapp.storage.records import entity_from_row, upsert_entity
    with ws.profile.session() as s, s.begin():
        model = entity_from_row("audit_event", s.scalars(select(AuditEventRow)).first())
        prev = "f" * 64
        for seq, action in enumerate(("visit.create", "visit.update", "visit.finalize"), start=7):
            e = dataclasses.replace(model, id=new_id(), device_id="laptop-2", actor_id=actor_id, seq=seq,
                                    action=action, record_kind="visit", record_id=record_id, prev_hash=prev,
                                    at=dt.datetime.combine(day, dt.time(9, seq), tzinfo=dt.timezone.utc),
                                    signature="")
            e = dataclasses.replace(e, hash=audit_hash(e))
            upsert_entity(s, e)
            prev = e.hash


def test_the_officer_filters_the_trail_by_student_staff_and_day(qtbot, unlocked, officer_template):
    import datetime as dt

    from PySide6.QtCore import Qt

    w, ws = unlocked(officer_template)
    students = ws.students.list_mine()
    a, b = students[0], students[1]
    ws.visits.create_draft(a.id)
    visit_b = ws.visits.create_draft(b.id)
    (teacher_id, teacher), *_ = [(i, n) for i, n in ws.workload.teachers() if i != ws.identity.staff_id]
    _other_laptops_events(ws, teacher_id, visit_b.id, dt.date.today() - dt.timedelta(days=40))
    w.show_screen(w.trail)
    idle(qtbot, w)
    screen = w.trail

    def rows() -> list[tuple[str, str, str]]:  # (who, action, record kind), newest first
        return [tuple(screen.lines.index(r, c).data() for c in (1, 2, 3)) for r in range(screen.lines.rowCount())]

    everything = rows()
    assert len(everything) == len(ws.audit.show()) and ("李老师", "visit.create", "visit") in everything
    assert sum(who == teacher for who, _, _ in everything) == 3
    assert screen.shown.text() == f"{len(everything)} events shown"

    # the staff box: the keyboard walks down to the teacher
    screen.staff.setFocus()
    while screen.staff.currentText() != teacher:
        qtbot.keyClick(screen.staff, Qt.Key.Key_Down)
    idle(qtbot, w)
    assert rows() == [(teacher, "visit.finalize", "visit"), (teacher, "visit.update", "visit"),
                      (teacher, "visit.create", "visit")]
    screen.staff.setFocus()
    qtbot.keyClick(screen.staff, Qt.Key.Key_Home)  # back to 全部教职工
    idle(qtbot, w)
    assert rows() == everything

    # the student box: type the 学号, the box completes it, Enter chooses it
    def choose_student(number: str) -> None:
        screen.student.setFocus()
        qtbot.waitUntil(screen.student.hasFocus)
        screen.student.lineEdit().selectAll()
        qtbot.keyClicks(screen.student, number)
        qtbot.keyClick(screen.student, Qt.Key.Key_Return)
        idle(qtbot, w)

    choose_student(a.student_no)
    assert screen.student.currentData() == a.id and screen.student.currentText().startswith(f"{a.student_no} {a.name}")
    assert rows() == [("李老师", "visit.create", "visit")]  # the draft about A, nothing about B
    choose_student(b.student_no)
    about_b = rows()
    assert len(about_b) == 4 and {who for who, _, _ in about_b} == {"李老师", teacher}

    # from today on: the teacher's events of 40 days ago drop out; a year back they are there again
    click(qtbot, screen.since_on)
    idle(qtbot, w)
    assert rows() == [("李老师", "visit.create", "visit")]
    screen.since.setFocus()
    qtbot.keyClick(screen.since, Qt.Key.Key_Home)  # the year
    qtbot.keyClick(screen.since, Qt.Key.Key_Down)
    idle(qtbot, w)
    assert screen.since.date().toPython() == dt.date.today().replace(year=dt.date.today().year - 1)
    assert rows() == about_b
    assert screen.summary.text().startswith("Intact")  # verify still covers the whole trail
