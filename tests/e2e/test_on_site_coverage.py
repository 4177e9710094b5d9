"""Coverage means on-site (issue 12, item 6), through a real server process and two laptops.

A hand-built school: of the teacher's students, one was only called (a finalized phone visit),
one was called and video-called, one was visited at home, one not at all. Everywhere a visit
is counted (the teacher's 本学期已走访, the officer's 家访全覆盖 and data-quality checks, the
server's coverage / quality / reconciliation commands, the city statistics) only the home
visit counts, the calls are shown as such, and 先家访后认定 refuses the same students, on
the laptop and on the server.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.conftest import PASSPHRASE
from tests.e2e.server_process import ServerProcess
from visitapp.crypto import FAST_TEST_KDF
from visitapp.domain import Level, ProfileField, VisitFirstError, VisitMode, rules
from visitapp.domain.reports import VISITS_RULE_ZH
from visitapp.services import create_profile

pytestmark = pytest.mark.slow
TODAY = dt.date.today()


def _visit(ws, student_id: str, mode: VisitMode) -> str:
    v = ws.visits.create_draft(student_id)
    ws.visits.save_draft(v.id, visit_date=TODAY, mode=mode, visitors=(ws.identity.staff_name,),
                         guardian_consent=True, narrative=f"{mode} 家访")
    return ws.visits.finalize(v.id).id


@pytest.fixture
def school(tmp_path):
    server = ServerProcess(tmp_path / "server")
    demo = server.init_demo(students=12, teachers=1)
    server.start()
    laptops = {}
    for key, role in (("teacher", "teacher"), ("officer", "officer")):
        staff = [s for s in demo["staff"] if s["role"] == role][0]
        ws, _ = create_profile(tmp_path / f"laptop-{key}", PASSPHRASE, kdf=FAST_TEST_KDF)
        ws.sync.enroll(staff["enroll_code"], device_label=f"laptop-{key}")
        assert ws.sync.run().ok
        laptops[key] = ws
    yield server, laptops
    for ws in laptops.values():
        ws.close()
    server.stop()


def test_phone_and_video_visits_are_shown_but_never_counted(school):
    server, laptops = school
    teacher, officer = laptops["teacher"], laptops["officer"]
    mine = [r for r in teacher.students.list_mine() if r.on_roster]
    assert len(mine) >= 4 and all(r.visit_status == "not_visited" for r in mine)
    phone, called, home, none = (r.id for r in mine[:4])
    _visit(teacher, phone, VisitMode.PHONE)
    _visit(teacher, called, VisitMode.PHONE)
    _visit(teacher, called, VisitMode.VIDEO)
    _visit(teacher, home, VisitMode.ON_SITE)
    for sid in (phone, home):  # a growth file, so the 成长档案无家访记录 check applies to both
        teacher.growth.set_profile_field(sid, ProfileField.STRENGTHS, "爱画画")
    report = teacher.sync.run()
    assert report.ok, report.errors
    term = teacher.students.current_term()

    # the teacher's list and 本学期已走访
    status = {r.id: r.visit_status for r in teacher.students.list_mine()}
    assert (status[phone], status[called], status[home], status[none]) == ("remote", "remote", "visited", "not_visited")
    cov = teacher.students.coverage()
    assert (cov.visited, cov.remote) == (1, 2) and cov.total == len(mine)
    assert cov.label.startswith(f"本学期已走访 1/{len(mine)}") and "仅电话/视频家访，未实地走访" in cov.label

    # the officer's reports, after the officer's laptop synced the visits down
    assert officer.sync.run().ok
    coverage = officer.reports.coverage(term)
    visits = next(c for c in coverage.school.coverages if c.code == "visits")
    assert visits.total == 12 and visits.covered == 1
    assert {phone, called, none} <= set(visits.missing) and home not in visits.missing
    notes = dict(visits.notes)
    assert notes[phone] == "电话家访 1 次，未实地走访"
    assert notes[called] == "电话家访 1 次、视频家访 1 次，未实地走访"
    assert none not in notes
    quality = officer.reports.data_quality(term)
    no_visit = {i.student_id: i.detail for c in quality.school if c.code == "file_without_visit" for i in c.items}
    assert phone in no_visit and "电话家访 1 次，未实地走访" in no_visit[phone] and home not in no_visit

    # the gate agrees: no determination for a student who was only called, on the laptop…
    meeting = officer.review.record_meeting(term, TODAY, ("评议甲", "评议乙", "评议丙"))
    for sid in (phone, called, none):
        with pytest.raises(VisitFirstError):
            officer.review.determine(meeting.id, sid, Level.RELATIVELY)
    officer.review.determine(meeting.id, home, Level.RELATIVELY)
    assert officer.sync.run().ok

    # …and on the server, whose own reports count the same way
    out = json.loads(server.cli("platform", "--term", term, "coverage", "--json").stdout)
    school_visits = next(c for c in out["school"]["coverages"] if c["code"] == "visits")
    assert (school_visits["covered"], school_visits["total"]) == (1, 12)
    assert VISITS_RULE_ZH in server.cli("platform", "--term", term, "coverage").stdout
    recon = json.loads(server.cli("platform", "--term", term, "reconcile", "--json").stdout)
    not_visited = {x["student_id"]: x["detail"] for x in recon["not_visited"]}
    assert home not in not_visited and {phone, called, none} <= set(not_visited)
    assert "电话家访 1 次，未实地走访" in not_visited[phone] and "未实地走访" not in not_visited[none]
    text = server.cli("platform", "--term", term, "reconcile").stdout
    assert "电话、视频家访不计" in text
    dq = json.loads(server.cli("platform", "--term", term, "quality", "--json").stdout)
    server_no_visit = {i["student_id"] for c in dq["school"] if c["code"] == "file_without_visit" for i in c["items"]}
    assert phone in server_no_visit and home not in server_no_visit


def test_the_rule_is_one_rule():
    """The counts and the gate read the same definition (rules.counts_as_visit)."""
    from visitapp.domain import Visit, VisitStatus
    base = dict(student_id="s", author_id="t", term="2026-2027-1", status=VisitStatus.FINAL, visit_date=TODAY)
    visits = [Visit(id="p", mode=VisitMode.PHONE, **base), Visit(id="v", mode=VisitMode.VIDEO, **base),
              Visit(id="n", mode=None, **base)]
    assert rules.visited_on_site("2026-2027-1", visits) == set()
    with pytest.raises(VisitFirstError):
        rules.check_visit_first("s", "2026-2027-1", visits)
    assert rules.remote_only("2026-2027-1", visits) == {"s": "电话家访 1 次、视频家访 1 次，未实地走访"}
    visits.append(Visit(id="o", mode=VisitMode.ON_SITE, **base))
    assert rules.visited_on_site("2026-2027-1", visits) == {"s"}
    assert rules.check_visit_first("s", "2026-2027-1", visits).id == "o"
    assert rules.remote_only("2026-2027-1", visits) == {}
