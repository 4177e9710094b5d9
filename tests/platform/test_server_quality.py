"""``visitapp-server platform quality`` runs every check the officer's laptop runs (issue 15):
the chain's two (申请 without a visit, a visit without its 申请), unreviewed records and mentor
notes overdue by ``--mentor-note-days``, over a hand-built school where every number is known.
In process, on the server's SQLite and PostgreSQL databases."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from visitapp.domain import (
    Application, ApplicationChannel, Assignment, AssignmentRole, GrowthEntry, GrowthKind, MentorNote, MentorNoteKind,
    RecordReview, ReviewVerdict, RewardKind, Stage, Student, Visit, VisitMode, VisitStatus,
)

from sync_server.cli import main
from sync_server.config import ServerPaths
from sync_server.core import ServerCore
from sync_server.platform.server_port import ServerSchoolData
from tests.server.conftest import backend, fresh_db_url  # noqa: F401 - fixture

TERM = "2026-2027-1"
TODAY = "2026-12-20"
NAMES = {"a": "张一", "b": "李二", "c": "王三", "d": "赵四", "e": "钱五", "f": "孙六"}


@pytest.fixture
def server(backend, tmp_path, capsys):
    url, data = fresh_db_url(backend, tmp_path), tmp_path / "srv"

    def run(*args: str, ok: bool = True) -> tuple[int, str, str]:
        code = main(["--data-dir", str(data), "--db", url, *args])
        out, err = capsys.readouterr()
        assert (code == 0) is ok, err
        return code, out, err

    run("init", "--school", "实验小学", "--officer", "李专干")
    core = ServerCore.open(ServerPaths(data), url)
    try:
        _build_school(ServerSchoolData(core))
    finally:
        core.close()
    return run


def _build_school(data: ServerSchoolData) -> None:
    school = data.school().id
    day = dt.date(2026, 10, 12)

    def student(key: str, **kw) -> Student:
        return Student(id=key, school_id=school, class_name="三年级1班", stage=Stage.PRIMARY, name=NAMES[key],
                       masked_id="3202**********1234", platform_ref=f"WX{key}", student_no=f"2024{key}", **kw)

    def visit(key: str) -> Visit:
        return Visit(id=f"v-{key}", student_id=key, author_id="t1", term=TERM, status=VisitStatus.FINAL,
                     visit_date=day, mode=VisitMode.ON_SITE, visitors=("王老师",), guardian_consent=True)

    def application(key: str) -> Application:
        return Application(id=f"app-{key}", student_id=key, term=TERM, author_id="officer", applied_on=day,
                           channel=ApplicationChannel.FAMILY)

    def review(record_kind: str, record_id: str, key: str, verdict: ReviewVerdict) -> RecordReview:
        return RecordReview(id=f"r-{record_id}", student_id=key, record_kind=record_kind, record_id=record_id,
                            reviewer_id="officer", verdict=verdict, reviewed_on=day,
                            created_at=dt.datetime(2026, 10, 13, tzinfo=dt.timezone.utc))

    def mentor(key: str) -> Assignment:
        return Assignment(id=f"m-{key}", student_id=key, staff_id="t2", role=AssignmentRole.MENTOR, term=TERM)

    data.upsert_students([
        student("a"),                    # applied, visited, visit approved; its reward nobody reviewed
        student("b"),                    # applied, never visited
        student("c"),                    # visited without applying; the visit nobody reviewed
        student("d", auto_eligible=True),  # 免申即享: needs no application; its visit was returned
        student("e", key_support=True),  # mentor last wrote 19 days before TODAY
        student("f", key_support=True),  # mentor wrote (a case discussion) 5 days before TODAY
    ], "officer")
    data.save_records([
        application("a"), visit("a"), review("visit", "v-a", "a", ReviewVerdict.APPROVED),
        application("b"),
        visit("c"),
        visit("d"), review("visit", "v-d", "d", ReviewVerdict.RETURNED),
        mentor("e"), mentor("f"),
    ], "officer")
    data.add_growth_entries([GrowthEntry(id="g-a", student_id="a", kind=GrowthKind.REWARD, author_id="t1",
                                         entry_date=day, title="三好学生", reward_kind=RewardKind.COMMENDATION)], "officer")
    data.save_records([
        MentorNote(id="n-e", student_id="e", author_id="t2", note_date=dt.date(2026, 12, 1)),
        MentorNote(id="n-f", student_id="f", author_id="t2", kind=MentorNoteKind.CASE_DISCUSSION,
                   note_date=dt.date(2026, 12, 15), participants=("孙老师", "李专干")),
    ], "officer")


def _checks(server, *extra: str) -> dict[str, set[str]]:
    _, out, _ = server("platform", "--term", TERM, "quality", "--json", "--today", TODAY, *extra)
    return {c["code"]: {NAMES[i["student_id"]] for i in c["items"]} for c in json.loads(out)["school"]}


def test_the_server_report_has_the_chain_review_and_mentor_checks(server):
    checks = _checks(server, "--mentor-note-days", "14")
    assert checks == {
        "missing_fields": set(),
        "overdue_visits": {"李二", "孙六", "钱五"},        # no on-site visit 60 days into the term
        "key_without_mentor": set(),
        "hardship_without_reward": {"赵四"},              # 免申即享, no reward this school year
        "file_without_visit": set(),
        "mentor_notes_overdue": {"钱五"},                 # 19 days > 14; 孙六's 5 days are not
        "no_case_discussion": {"钱五"},                   # past mid-term, 孙六 had one
        "duplicate_visits": set(),
        "stale_conflicts": set(),
        "application_without_visit": {"李二"},
        "visit_without_application": {"王三"},            # 赵四 is 免申即享
        "unreviewed_records": {"张一", "王三", "赵四"},    # 张一's reward, 王三's visit, 赵四's returned visit
    }


def test_mentor_note_days_is_the_schools_setting_with_its_bounds(server):
    assert _checks(server)["mentor_notes_overdue"] == set()  # the default, 30 days: 19 is not overdue
    assert _checks(server, "--mentor-note-days", "7")["mentor_notes_overdue"] == {"钱五"}
    _, _, err = server("platform", "quality", "--mentor-note-days", "3", ok=False)
    assert "7–180" in err
    # the table for people names the term in words, as every screen and printout does
    _, out, _ = server("platform", "--term", TERM, "quality", "--today", TODAY, "--mentor-note-days", "14")
    assert out.startswith("数据质量报告（2026-2027学年第一学期，2026-12-20）")
    assert "已申请但本学期未实地家访：1" in out and "已定稿记录未审核（谁审核谁负责）：3" in out
    assert "导师记录" in out and "2026-2027-1" not in out
