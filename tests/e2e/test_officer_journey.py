"""Issue 6, "done when": an officer, as a new user would, pulls a roster from the reference
platform, assigns visits, receives synced visits, records the review, publishes the notice,
pushes results, and reads a reconciliation report with nothing unexplained.

Real processes: the school server and the reference city platform exactly as
``visitapp --demo --officer`` starts them (:class:`visitapp.app.DemoServer`). The officer works
in the real window (enrolled through the welcome screen, then the platform, assignments,
review, notice and coverage screens, clicked with qtbot); the teacher's laptop is the same
services and sync engine the teacher's window calls (that window is clicked in tests/ui).
Every number the officer reads is checked against what the platform itself holds and received.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import Counter

import pytest
import requests
from PySide6.QtCore import QDate, Qt
from sqlalchemy import select

from tests.conftest import PASSPHRASE
from tests.ui.conftest import make_window, real_backend  # noqa: F401 - fixtures of the officer's window
from tests.ui.helpers import click, idle, type_text
from tests.ui.server import server_available
from tests.ui.test_sync import _enrolled_window
from visitapp.crypto import FAST_TEST_KDF
from visitapp.domain import AssignmentRole, InvalidTransitionError, Level, VisitMode
from visitapp.services import create_profile
from visitapp.storage.models import GrowthEntryRow, StudentRow, VisitRow
from visitapp.storage.records import entity_from_row

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not server_available(), reason="sync_server is not in this tree")]

STUDENTS, TEACHERS = 20, 2


# -- reading the laptops and the platform ----------------------------------------------------------
def _all(ws, kind: str, model) -> list:
    with ws.profile.session() as s:
        return [entity_from_row(kind, r) for r in s.scalars(select(model))]


def platform_roster(db, code: str) -> dict[str, dict]:
    """What the reference platform holds for the school (its own SQLite file, read only)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return {ref: json.loads(doc) for ref, doc in conn.execute(
            "SELECT ref, doc FROM students WHERE school=? AND on_roster=1", (code,))}


def platform_aid_count(db, code: str) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT count(*) FROM aid WHERE school=?", (code,)).fetchone()[0]


def _wait_platform(qtbot, w, timeout=60000):
    qtbot.waitUntil(lambda: not w.platform._busy and w.ctx.tasks.pending() == 0, timeout=timeout)


def _sync(qtbot, w):
    with qtbot.waitSignal(w.sync.finished, timeout=60000) as done:
        w.start_sync()
    idle(qtbot, w)
    report = done.args[0]
    assert report is not None and report.ok, getattr(report, "errors", None)
    return report


def _click_cell(qtbot, table, row, col):
    index = table.model().index(row, col)
    table.scrollTo(index)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(index).center())


def _choose(combo, data) -> None:
    index = combo.findData(data)
    assert index >= 0, f"{data!r} is not offered"
    combo.setCurrentIndex(index)


def _other_level(level: Level) -> Level:
    return Level.GENERALLY if level != Level.GENERALLY else Level.RELATIVELY


@pytest.fixture
def demo(tmp_path):
    from visitapp.app import DemoServer

    server = DemoServer(tmp_path / "demo", students=STUDENTS, teachers=TEACHERS)
    yield server
    server.stop()


@pytest.fixture
def teacher(tmp_path, demo):
    ws, _ = create_profile(tmp_path / "teacher-laptop", PASSPHRASE, kdf=FAST_TEST_KDF)
    ws.sync.enroll(demo.codes["teacher"], device_label="teacher-laptop")
    yield ws
    ws.close()


def test_officer_pulls_assigns_reviews_publishes_pushes_and_reconciles(qtbot, make_window, real_backend,  # noqa: F811
                                                                      demo, teacher, tmp_path):
    assert demo.platform is not None, "visitapp --demo --officer starts a reference platform"
    code, platform_db = demo.platform.CODE, tmp_path / "demo" / "platform.db"
    today = dt.date.today()

    # -- 1. the officer enrolls with the code, as on the welcome screen; the first sync runs ------
    w, first = _enrolled_window(qtbot, make_window, real_backend, demo.codes["officer"])
    ws = w.ctx.ws
    assert first is not None and first.ok and ws.identity.is_officer
    before = {s.platform_ref: s for s in _all(ws, "student", StudentRow)}
    assert len(before) == STUDENTS

    # -- 2. roster: the preview shows what the platform holds, nothing changes until applied -------
    w.show_screen(w.platform)
    idle(qtbot, w)
    p = w.platform
    click(qtbot, p.pull_button)
    _wait_platform(qtbot, w)
    preview, held = p.preview, platform_roster(platform_db, code)
    assert {c.platform_ref for c in preview.new} == held.keys() - before.keys() and len(preview.new) == 3
    assert {c.platform_ref for c in preview.gone} == before.keys() - held.keys() and len(preview.gone) == 2
    assert len(preview.changed) + preview.unchanged == len(held.keys() & before.keys())
    for change in preview.changed:
        for f in change.changes:  # each change is the platform's value, field by field
            assert f.new == held[change.platform_ref][{"platform_level": "level"}.get(f.field, f.field)], f
    assert any(f.field == "class_name" and f.new == "一年级(2)班" for c in preview.changed for f in c.changes)
    assert len(_all(ws, "student", StudentRow)) == STUDENTS  # a preview changes nothing
    click(qtbot, p.apply_button)
    _wait_platform(qtbot, w)
    click(qtbot, p.aid_button)
    _wait_platform(qtbot, w)
    assert p.state.text().startswith("Aid records:")
    with qtbot.waitSignal(w.sync.finished, timeout=60000):
        click(qtbot, p.sync_button)
    idle(qtbot, w)
    students = {s.id: s for s in _all(ws, "student", StudentRow)}
    on_roster = {sid for sid, s in students.items() if s.on_roster}
    gone = {sid for sid, s in students.items() if not s.on_roster}
    assert {students[sid].platform_ref for sid in on_roster} == held.keys()
    assert {students[sid].platform_ref for sid in gone} == {c.platform_ref for c in preview.gone}
    for sid in on_roster:  # the laptop now has the platform's level of every student
        level = held[students[sid].platform_ref]["level"]
        assert students[sid].platform_level == (Level(level) if level else None)
    aid = [e for e in _all(ws, "growth_entry", GrowthEntryRow) if e.source == "platform"]
    assert len(aid) == platform_aid_count(platform_db, code)  # every aid record landed, once

    # -- 3. assign the teacher as visitor of the students who joined ------------------------------
    assert teacher.sync.run().ok
    teacher_id = teacher.identity.staff_id
    joined = sorted((sid for sid in on_roster if students[sid].platform_ref not in before),
                    key=lambda sid: students[sid].platform_ref)
    w.show_screen(w.assignments)
    idle(qtbot, w)
    a = w.assignments
    for sid in joined:
        _choose(a.student, sid)
        _choose(a.staff, teacher_id)
        _choose(a.role, AssignmentRole.VISITOR)
        click(qtbot, a.assign_button)
        idle(qtbot, w)
    assignments = ws.assignments.list()
    assert {x.student_id for x in assignments if x.staff_id == teacher_id and x.role == AssignmentRole.VISITOR} \
        >= set(joined)
    assert a.model.rowCount() == len(assignments)
    assert _sync(qtbot, w).pushed >= len(joined)

    # -- 4. the teacher receives exactly their students and visits offline -------------------------
    assert teacher.sync.run().ok
    theirs = {x.student_id for x in assignments if x.staff_id == teacher_id}
    assert {r.id for r in teacher.students.list_mine()} == theirs
    mine = {s.id: s for s in _all(teacher, "student", StudentRow) if s.id in theirs}
    with_level = sorted((sid for sid in theirs if mine[sid].on_roster and mine[sid].platform_level),
                        key=lambda sid: (sid not in joined, mine[sid].platform_ref))
    visited, draft_only = with_level[:3], with_level[3]
    assert len(visited) == 3 and visited[0] in joined
    for sid in visited:
        v = teacher.visits.create_draft(sid)
        teacher.visits.save_draft(v.id, visit_date=today, mode=VisitMode.ON_SITE, visitors=("李老师", "王老师"),
                                  guardian_consent=True, narrative="入户走访，了解家庭情况。")
        teacher.visits.finalize(v.id)
    unfinished = teacher.visits.create_draft(draft_only)
    teacher.visits.save_draft(unfinished.id, visit_date=today, mode=VisitMode.ON_SITE, narrative="未写完")
    assert teacher.pending_count() >= 4
    assert _all(ws, "visit", VisitRow) == []  # still only on the teacher's laptop
    assert teacher.sync.run().ok and teacher.pending_count() == 0

    # -- 5. the officer receives the finalized visits (never the teacher's draft) ------------------
    _sync(qtbot, w)
    visits = _all(ws, "visit", VisitRow)
    assert sorted(v.student_id for v in visits) == sorted(visited)
    assert all(str(v.status) == "final" for v in visits)

    # -- 6. collective review: a meeting, determinations; none without a finalized visit ----------
    w.show_screen(w.review)
    idle(qtbot, w)
    r = w.review
    r.date.setDate(QDate(today.year, today.month, today.day))
    for i in range(r.reviewers.count()):  # the whole staff reviews: the visitor is not alone
        r.reviewers.item(i).setCheckState(Qt.CheckState.Checked)
    click(qtbot, r.record_button)
    idle(qtbot, w)
    assert r.meetings.count() == 1 and r.meeting_error.text() == ""
    _choose(r.student, draft_only)
    click(qtbot, r.determine_button)
    idle(qtbot, w)
    assert "Visit first, then determine" in r.det_error.text() and r.det_model.rowCount() == 0
    chosen = {visited[0]: students[visited[0]].platform_level}  # agrees with the platform
    chosen |= {sid: _other_level(students[sid].platform_level) for sid in visited[1:]}  # differs
    for sid, level in chosen.items():
        _choose(r.student, sid)
        _choose(r.level, level)
        click(qtbot, r.determine_button)
        idle(qtbot, w)
        assert r.det_error.text() == ""
    assert r.det_model.rowCount() == len(chosen)

    # -- 7. the public notice: published for 7 days, printed ---------------------------------------
    printed = []
    w.ctx.open_file = printed.append
    click(qtbot, r.notice_button)
    idle(qtbot, w)
    assert printed and printed[0].read_bytes().startswith(b"%PDF")
    w.show_screen(w.notices)
    idle(qtbot, w)
    n = w.notices
    assert n.notices_model.rowCount() == 1 and n.lines_model.rowCount() == len(chosen)
    assert not any(students[sid].name in (n.lines_model.index(i, 1).data() for i in range(len(chosen)))
                   for sid in chosen)  # masked names only
    assert not n.close_button.isEnabled() and "can be closed only after it" in n.blockers.text()  # the period has not ended
    n.received.setDate(QDate(today.year, today.month, today.day))
    _choose(n.about, visited[1])
    type_text(qtbot, n.content, "家长认为认定等级偏低")
    click(qtbot, n.record_button)
    idle(qtbot, w)
    assert n.objections_model.rowCount() == 1 and n.objections_model.index(0, 3).data() == "Not yet"
    _click_cell(qtbot, n.objections, 0, 0)
    type_text(qtbot, n.handling, "经复核家庭情况，维持原认定")
    click(qtbot, n.handle_button)
    idle(qtbot, w)
    assert n.objections_model.index(0, 3).data() == today.isoformat()
    assert not n.close_button.isEnabled()  # handled, but the period still runs
    with pytest.raises(InvalidTransitionError, match="不能结束公示"):  # the service refuses too, whatever a button says
        ws.notices.close(n.current_notice())

    # a week later (the laptop's clock, the one the services read)
    week_later = dt.datetime.now().astimezone() + dt.timedelta(days=7)
    ws.ctx.now = lambda: week_later
    n.refresh()
    idle(qtbot, w)
    assert n.close_button.isEnabled() and n.blockers.text() == ""
    click(qtbot, n.close_button)
    idle(qtbot, w)
    determinations = ws.review.determinations(ws.review.meetings()[0].id)
    assert {d.student_id: d.level for d in determinations} == chosen and all(d.final for d in determinations)
    assert _sync(qtbot, w).pushed > 0 and ws.pending_count() == 0

    # -- 8. push to the platform: per kind, and a second push sends nothing --------------------------
    mentors = {x.id for x in ws.assignments.list()
               if x.role == AssignmentRole.MENTOR and x.student_id in on_roster}
    w.show_screen(w.platform)
    idle(qtbot, w)
    click(qtbot, p.push_button)
    _wait_platform(qtbot, w)
    kinds = {k.kind: (k.items, k.sent, k.failed, k.pending) for k in p.kind_model.rows}
    assert kinds == {"visit": (3, 3, 0, 0), "determination": (3, 3, 0, 0),
                     "mentor": (len(mentors), len(mentors), 0, 0)}
    assert p.rejected_model.rowCount() == 0
    received = requests.get(demo.platform.url + "/reference/received", params={"school": code}, timeout=5).json()
    assert Counter(i["kind"] for i in received["items"]) == {k: v[1] for k, v in kinds.items()}
    refs = {sid: students[sid].platform_ref for sid in students}
    assert sorted(i["student_ref"] for i in received["items"] if i["kind"] == "visit") == \
        sorted(refs[sid] for sid in visited)
    assert {i["student_ref"]: i["level"] for i in received["items"] if i["kind"] == "determination"} == \
        {refs[sid]: level.value for sid, level in chosen.items()}
    assert all(i["review_date"] == today.isoformat() for i in received["items"] if i["kind"] == "determination")
    # the statistics for the city's charts agree with what was done, small cells suppressed
    cells = received["statistics"][-1]["cells"]
    by_stage = Counter(students[sid].stage.value for sid in on_roster)
    for cell in cells:
        group = {sid for sid in on_roster if students[sid].stage.value == cell["stage"]}
        if cell["suppressed"]:
            assert len(group) < 5 and cell["students"] is None
        else:
            assert (cell["students"], cell["visited"], cell["determined"]) == \
                (by_stage[cell["stage"]], len(group & set(visited)), len(group & set(chosen)))
    assert sum(by_stage.values()) == len(on_roster) and {c["stage"] for c in cells} == set(by_stage)

    click(qtbot, p.push_button)
    _wait_platform(qtbot, w)
    assert not any(k.items for k in p.kind_model.rows) and p.push_summary.text().startswith("Pushed 0")
    again = requests.get(demo.platform.url + "/reference/received", params={"school": code}, timeout=5).json()
    assert again["items"] == received["items"]

    # -- 9. reconciliation: every line explained ------------------------------------------------------
    click(qtbot, p.report_button)
    _wait_platform(qtbot, w)
    report = p.report
    assert {x.student_id for x in report.not_visited} == on_roster - set(visited)
    assert draft_only in {x.student_id for x in report.not_visited}  # a draft is not a visit
    assert {x.student_id for x in report.off_roster} == gone
    mismatch = {sid for sid, level in chosen.items() if level != students[sid].platform_level}
    assert {x.student_id for x in report.level_mismatch} == mismatch and len(mismatch) == 2
    for x in report.level_mismatch:
        assert (x.platform_level, x.school_level) == (students[x.student_id].platform_level.value,
                                                      chosen[x.student_id].value)
    from visitapp.ui.screens.platform import SECTIONS
    assert report.exports == []  # nothing pending, nothing failed
    assert [p.section_models[k].rowCount() for k, _title in SECTIONS] == \
        [len(on_roster) - 3, len(gone), len(mismatch), 0]

    # -- 10. the officer's own coverage and data-quality numbers agree --------------------------------
    w.show_screen(w.coverage)
    idle(qtbot, w)
    assert w.coverage.model.index(0, 2).data().startswith(f"3/{len(on_roster)}")
    w.show_screen(w.students)  # the students who left stay listed, but are no one to visit
    idle(qtbot, w)
    assert w.students.model.rowCount() == len(students)
    assert w.students.coverage_label.text() == f"Visited this term: 3/{len(on_roster)}"
    coverage = ws.reports.coverage()
    visits_coverage = next(c for c in coverage.school.coverages if c.code == "visits")
    assert (visits_coverage.covered, set(visits_coverage.missing)) == (3, on_roster - set(visited))
    mentor_coverage = next(c for c in coverage.school.coverages if c.code == "mentors")
    key = {sid for sid in on_roster if students[sid].key_support}
    mentored = {x.student_id for x in ws.assignments.list() if x.role == AssignmentRole.MENTOR}
    assert (mentor_coverage.covered, mentor_coverage.total) == (len(key & mentored), len(key))
    quality = {c.code: {i.student_id for i in c.items} for c in ws.reports.data_quality().school}
    assert quality["key_without_mentor"] == key - mentored
    assert quality["duplicate_visits"] == set() and quality["stale_conflicts"] == set()
    assert not quality["file_without_visit"] & set(visited)
