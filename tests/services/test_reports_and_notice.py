"""The officer's reports and the public notice's life cycle on the laptop (issue 6).

Reports run over a seeded demo school and are checked against the domain functions over the
fully-loaded records; the notice runs on a controllable clock so its period really ends.
The last test syncs objections, the closed notice and the final determinations to a real
school server and reads them back there.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.conftest import PASSPHRASE, add_student
from tests.services.test_services import _staff, fill
from visitapp.crypto import FAST_TEST_KDF
from visitapp.domain import DomainError, InvalidTransitionError, Level, ValidationError, VisitMode, term_of
from visitapp.domain import reports as domain_reports
from visitapp.services import create_profile
from visitapp.storage.models import MODEL_BY_KIND, ObjectionRow, OutboxRow
from visitapp.storage.records import entity_from_row

TODAY = dt.date.today()


@pytest.fixture(scope="module")
def demo_officer(tmp_path_factory):
    from visitapp.services.demo import seed_demo

    ws, _ = create_profile(tmp_path_factory.mktemp("officer") / "p", PASSPHRASE, role="officer",
                           staff_name="赵专干", kdf=FAST_TEST_KDF)
    seed_demo(ws, 80)
    yield ws
    ws.close()


def _everything(ws, kind: str) -> list:
    model = MODEL_BY_KIND[kind]
    with ws.profile.session() as s:
        return [entity_from_row(kind, r) for r in s.scalars(select(model))]


def test_the_server_cli_runs_the_same_functions():
    from sync_server.platform import notice as server_notice
    from sync_server.platform import quality as server_quality
    from visitapp.domain import notice as domain_notice

    assert server_quality.data_quality is domain_reports.data_quality
    assert server_quality.coverage is domain_reports.coverage
    assert server_notice.close_notice is domain_notice.close_notice
    assert server_notice.record_objection is domain_notice.record_objection


def test_data_quality_counts_are_the_lists_behind_them(demo_officer):
    ws = demo_officer
    term = ws.reports.current_term()
    late = max(TODAY, domain_reports.term_bounds(term)[1])  # every unvisited student is overdue by then
    report = ws.reports.data_quality(term, today=late)
    assert report.term == term and report.today == late
    # the service reads facts only; the result is the domain's over the fully loaded records
    full = domain_reports.data_quality(
        term, late, _everything(ws, "student"), _everything(ws, "visit"), _everything(ws, "determination"),
        _everything(ws, "growth_entry"), _everything(ws, "growth_profile_field"), _everything(ws, "assignment"),
        _everything(ws, "conflict"), notes=_everything(ws, "mentor_note"),
        applications=_everything(ws, "application"), reviews=_everything(ws, "record_review"))
    assert report == full
    for check in report.school:
        assert check.count == len(check.items)
        per_class = [c for k in report.classes for c in k.checks if c.code == check.code]
        assert sum(c.count for c in per_class) == check.count
        assert sorted(i.student_id for c in per_class for i in c.items) == sorted(i.student_id for i in check.items)
    overdue = {i.student_id for c in report.school if c.code == "overdue_visits" for i in c.items}
    unvisited = {r.id for r in ws.students.list_mine(term) if r.visit_status != "visited"}
    assert overdue == unvisited and overdue  # the demo school has students not yet visited
    names = {r.id: (r.name, r.class_name) for r in ws.students.list_mine(term)}
    assert all((i.name, i.class_name) == names[i.student_id] for c in report.school for i in c.items)


def test_coverage_matches_the_students_list(demo_officer):
    ws = demo_officer
    term = ws.reports.current_term()
    report = ws.reports.coverage(term)
    visits = next(c for c in report.school.coverages if c.code == "visits")
    mine = ws.students.coverage(term)
    assert (visits.covered, visits.total) == (mine.visited, mine.total)
    assert len(report.classes) == len({r.class_name for r in ws.students.list_mine(term)})
    for code in ("visits", "rewards", "growth_files", "mentors", "case_discussions"):
        school = next(c for c in report.school.coverages if c.code == code)
        rows = [next(c for c in r.coverages if c.code == code) for r in report.classes]
        assert sum(c.covered for c in rows) == school.covered and sum(c.total for c in rows) == school.total
        assert len(school.missing) == school.total - school.covered
    assert term in ws.reports.terms()


def test_teachers_get_no_school_reports(workspace):
    with pytest.raises(DomainError, match="资助专干"):
        workspace.reports.coverage()
    with pytest.raises(DomainError, match="资助专干"):
        workspace.reports.data_quality()
    with pytest.raises(DomainError, match="资助专干"):
        workspace.notices.list()


@pytest.fixture
def notice_setup(tmp_path):
    """An officer's laptop on a clock the test moves, with a published notice of two students."""
    clock = [dt.datetime.now().astimezone()]
    ws, _ = create_profile(tmp_path / "officer", PASSPHRASE, role="officer", staff_name="赵专干",
                           kdf=FAST_TEST_KDF, now=lambda: clock[0])
    students = [add_student(ws, name, assign=False) for name in ("张晓明", "李雨桐")]
    for st in students:
        v = ws.visits.create_draft(st.id)
        fill(ws, v.id)
        ws.visits.finalize(v.id)
    reviewers = [_staff(ws, n).id for n in ("甲老师", "乙老师", "丙老师")]
    meeting = ws.review.record_meeting(ws.students.current_term(), TODAY, reviewers, "纪要")
    for st, level in zip(students, (Level.ESPECIALLY, Level.RELATIVELY)):
        ws.review.determine(meeting.id, st.id, level)
    notice = ws.review.publish_notice(meeting.id, TODAY, TODAY + dt.timedelta(days=6))
    yield ws, clock, students, meeting, notice
    ws.close()


def test_notice_closes_only_after_its_period_with_every_objection_handled(notice_setup):
    ws, clock, students, meeting, notice = notice_setup
    [summary] = ws.notices.list()
    assert (summary.status, summary.determinations, summary.objections) == ("open", 2, 0)
    detail = ws.notices.detail(notice.id)
    assert [(x.masked_name, x.level_zh) for x in detail.view.lines] == [("张*明", "特别困难"), ("李*桐", "比较困难")]
    assert {s.student_id for s in detail.subjects} == {s.id for s in students}

    objection = ws.notices.record_objection(notice.id, TODAY, "反映该生家中新购轿车", students[0].id)
    with pytest.raises(ValidationError, match="公示期内"):
        ws.notices.record_objection(notice.id, TODAY + dt.timedelta(days=9), "晚到的异议")
    with pytest.raises(ValidationError, match="异议内容"):
        ws.notices.record_objection(notice.id, TODAY, "   ")
    with pytest.raises(DomainError, match="不在这份公示名单"):
        ws.notices.record_objection(notice.id, TODAY, "关于别人", "someone-else")
    # the content is tier C: sealed at rest, not a plain column
    with ws.profile.session() as s:
        assert s.get(ObjectionRow, objection.id).sealed["content"] == "反映该生家中新购轿车"

    # before the period ends: refused, with the reason, and nothing becomes final
    with pytest.raises(InvalidTransitionError, match="期满"):
        ws.notices.close(notice.id)
    assert ws.notices.detail(notice.id).view.can_close is False
    clock[0] += dt.timedelta(days=7)
    # after the period, an open objection still blocks
    blockers = ws.notices.close_blockers(notice.id)
    assert blockers == ["还有 1 条异议尚未处理。"]
    with pytest.raises(InvalidTransitionError, match="异议尚未处理"):
        ws.notices.close(notice.id)
    assert not any(d.final for d in ws.review.determinations(meeting.id))

    with pytest.raises(ValidationError):
        ws.notices.handle_objection(objection.id, "  ")
    handled = ws.notices.handle_objection(objection.id, "经核实为亲属车辆，认定无误，已向反映人说明。")
    assert handled.handled and handled.handled_on == clock[0].date()
    with pytest.raises(InvalidTransitionError):
        ws.notices.handle_objection(objection.id, "再处理一次")
    line = ws.notices.detail(notice.id).view.objections[0]
    assert (line.about, line.handled, line.content) == ("张*明", True, "反映该生家中新购轿车")
    assert ws.notices.detail(notice.id).view.can_close

    closed = ws.notices.close(notice.id)
    assert closed.status.value == "closed" and closed.closed_on == clock[0].date()
    assert all(d.final for d in ws.review.determinations(meeting.id))
    assert ws.notices.list()[0].status == "closed"
    # final means final: no new objection, no change of level, no reopening
    with pytest.raises(InvalidTransitionError):
        ws.notices.record_objection(notice.id, TODAY, "公示结束后的异议")
    with pytest.raises(InvalidTransitionError, match="已经生效"):
        ws.review.determine(meeting.id, students[1].id, Level.GENERALLY)
    with pytest.raises(InvalidTransitionError, match="已经结束"):
        ws.review.publish_notice(meeting.id, TODAY, TODAY + dt.timedelta(days=6))
    with pytest.raises(DomainError):
        ws.notices.close(notice.id)

    # every write is queued for sync and audited, and the chain holds
    with ws.profile.session() as s:
        kinds = [r.record_kind for r in s.scalars(select(OutboxRow))]
    assert kinds.count("objection") >= 2 and "public_notice" in kinds and kinds.count("determination") >= 2
    assert ws.verify_audit_chain() > 0


@pytest.mark.slow
def test_objections_and_the_closed_notice_reach_the_school_server(tmp_path):
    from sync_server.platform.server_port import ServerSchoolData
    from tests.e2e.inprocess import InProcessServer

    server = InProcessServer(tmp_path)
    try:
        sid = server.student("王小丫")
        ws, _ = create_profile(tmp_path / "officer", PASSPHRASE, kdf=FAST_TEST_KDF)
        ws.sync.enroll(server.code(server.officer.id), device_label="officer-laptop")
        assert ws.identity.is_officer and ws.sync.run().ok
        v = ws.visits.create_draft(sid)
        ws.visits.save_draft(v.id, visit_date=TODAY - dt.timedelta(days=12), mode=VisitMode.ON_SITE,
                             visitors=("赵专干",), guardian_consent=True, narrative="家访记录")
        ws.visits.finalize(v.id)
        meeting = ws.review.record_meeting(term_of(TODAY - dt.timedelta(days=12)), TODAY - dt.timedelta(days=11),
                                           [ws.identity.staff_id, "r2", "r3"])
        ws.review.determine(meeting.id, sid, Level.RELATIVELY)
        start = TODAY - dt.timedelta(days=10)
        notice = ws.review.publish_notice(meeting.id, start, start + dt.timedelta(days=6))
        objection = ws.notices.record_objection(notice.id, start + dt.timedelta(days=1), "家长反映情况有出入", sid)
        report = ws.sync.run()
        assert report.ok, report.errors
        data = ServerSchoolData(server.core)
        [on_server] = data.objections()
        assert on_server.id == objection.id and not on_server.handled and on_server.content == ""  # tier C stays opaque

        ws.notices.handle_objection(objection.id, "已复核，情况属实部分已更正。")
        ws.notices.close(notice.id)
        report = ws.sync.run()
        assert report.ok, report.errors
        [on_server] = data.objections()
        assert on_server.handled and on_server.handled_on == TODAY
        [n] = data.notices()
        assert n.status.value == "closed" and n.closed_on == TODAY
        assert [d.final for d in data.determinations()] == [True]
        assert ws.pending_count() == 0

        # the server checks again: a laptop that un-finalizes a determination is refused there
        import dataclasses

        from visitapp.domain import Objection
        from visitapp.services.base import new_id
        from visitapp.storage.models import DeterminationRow
        with ws.profile.session() as s, s.begin():
            det = entity_from_row("determination", s.scalars(select(DeterminationRow)).one())
            ws.ctx.write(s, dataclasses.replace(det, final=False, level=Level.ESPECIALLY), "test.tamper")
            late = Objection(id=new_id(), notice_id=notice.id, received_on=start, content="晚到的异议")
            ws.ctx.write(s, late, "test.tamper")
        report = ws.sync.run()
        assert {rid for rid, _why in report.errors} == {det.id, late.id}
        assert any("已生效" in why for _rid, why in report.errors)
        assert [o.id for o in data.objections()] == [objection.id]
        [d] = data.determinations()
        assert d.final and d.level == Level.RELATIVELY
    finally:
        server.stop()


def test_publishing_without_dates_opens_seven_days_from_the_workspace_clock(notice_setup):
    ws, clock, _students, meeting, _notice = notice_setup
    clock[0] = clock[0] + dt.timedelta(days=3)  # the laptop's clock, not the machine's, decides
    again = ws.review.publish_notice(meeting.id)
    start = clock[0].date()
    assert (again.period_start, again.period_end) == (start, start + dt.timedelta(days=6))
