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
