"""Use cases against a real profile: each writes its record, outbox row and audit event in one
transaction; lists, coverage, timelines and the officer's review."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import func, select

from tests.conftest import add_student
from visitapp.domain import (
    Conflict, DomainError, GrowthKind, ImmutableRecordError, Level, MentorNoteKind, ProfileField,
    ReviewerIndependenceError, Staff, ValidationError, VisitFirstError, VisitMode, VisitStatus,
)
from visitapp.services.base import new_id
from visitapp.storage.models import AuditEventRow, MentorNoteRow, OutboxRow
from visitapp.storage.records import upsert_entity

TODAY = dt.date.today()


def outbox(ws) -> list[tuple[str, str]]:
    with ws.profile.session() as s:
        return [(r.record_kind, r.record_id) for r in s.scalars(select(OutboxRow).order_by(OutboxRow.seq))]


def audit_actions(ws) -> list[str]:
    with ws.profile.session() as s:
        return list(s.scalars(select(AuditEventRow.action).order_by(AuditEventRow.seq)))


def fill(ws, visit_id: str, **extra):
    values = dict(visit_date=TODAY, mode=VisitMode.ON_SITE, visitors=("王老师", "李老师"), guardian_consent=True,
                  narrative="孩子很懂事。")
    values.update(extra)
    return ws.visits.save_draft(visit_id, **values)


def test_visit_life_cycle_writes_outbox_and_audit_each_step(workspace):
    student = add_student(workspace)
    visit = workspace.visits.create_draft(student.id)
    assert visit.visitors == ("王老师",)  # the author is prefilled as a visitor
    fill(workspace, visit.id)
    final = workspace.visits.finalize(visit.id)
    assert final.status == VisitStatus.FINAL
    assert audit_actions(workspace) == ["visit.create", "visit.edit", "visit.finalize"]
    visit_rows = [k for k in outbox(workspace) if k[0] == "visit"]
    assert visit_rows == [("visit", visit.id)] * 3
    assert workspace.pending_count() == 1  # three edits of one record fold into one pending change
    assert workspace.verify_audit_chain() == 3

    with pytest.raises(ImmutableRecordError):
        workspace.visits.save_draft(visit.id, narrative="偷偷改")
    with pytest.raises(ImmutableRecordError):
        workspace.visits.delete_draft(visit.id)
    assert workspace.visits.get(visit.id).narrative == "孩子很懂事。"

    amendment = workspace.visits.amend(visit.id, "补充家庭收入")
    with pytest.raises(DomainError):
        workspace.visits.amend(visit.id, "第二份更正")
    workspace.visits.save_draft(amendment.id, annual_income_yuan=24000)
    workspace.visits.finalize(amendment.id)
    assert workspace.visits.effective_status(visit.id) == VisitStatus.AMENDED
    voided = workspace.visits.void(amendment.id, "学生转学，记录作废")
    assert voided.status == VisitStatus.VOIDED


def test_validation_problems_name_the_field(workspace):
    student = add_student(workspace)
    visit = workspace.visits.create_draft(student.id)
    with pytest.raises(ValidationError) as err:
        workspace.visits.save_draft(visit.id, visit_date=TODAY + dt.timedelta(days=3))
    assert "visit_date" in err.value.problems
    with pytest.raises(ValidationError) as err:
        workspace.visits.finalize(visit.id)
    assert "narrative" in err.value.problems
    assert workspace.visits.get(visit.id).status == VisitStatus.DRAFT


def test_a_failed_write_leaves_nothing_behind(workspace):
    before = len(outbox(workspace))
    with pytest.raises(DomainError):
        workspace.visits.create_draft("no-such-student")
    assert len(outbox(workspace)) == before
    assert workspace.verify_audit_chain() == 0


def test_drafts_can_be_deleted_and_the_deletion_syncs(workspace):
    student = add_student(workspace)
    visit = workspace.visits.create_draft(student.id)
    workspace.visits.delete_draft(visit.id)
    with pytest.raises(KeyError):
        workspace.visits.get(visit.id)
    with workspace.profile.session() as s:
        ops = list(s.scalars(select(OutboxRow.op).where(OutboxRow.record_id == visit.id)))
    assert ops[-1] == "delete"


def test_coverage_changes_when_a_visit_is_finalized(workspace):
    students = [add_student(workspace, name) for name in ("张晓明", "李小红", "王大力")]
    add_student(workspace, "别人的学生", assign=False)
    assert workspace.students.coverage().label == "本学期已走访 0/3"
    visit = workspace.visits.create_draft(students[0].id)
    fill(workspace, visit.id)
    rows = {r.name: r for r in workspace.students.list_mine()}
    assert rows["张晓明"].visit_status == "draft" and "别人的学生" not in rows
    workspace.visits.finalize(visit.id)
    assert workspace.students.coverage().label == "本学期已走访 1/3"
    everyone = workspace.students.list_mine()
    assert [r.id for r in workspace.students.list_mine(limit=2, offset=1)] == [r.id for r in everyone[1:3]]


def test_a_student_off_the_roster_is_listed_but_not_counted_in_coverage(officer_workspace):
    """The platform dropped a student: their records stay and they stay listed, but coverage
    counts the roster, as the officer's coverage report does."""
    ws = officer_workspace
    add_student(ws, "甲", assign=False)
    add_student(ws, "乙", assign=False)
    add_student(ws, "已转学", assign=False, on_roster=False)
    rows = {r.name: r for r in ws.students.list_mine()}
    assert len(rows) == 3 and not rows["已转学"].on_roster and rows["甲"].on_roster
    assert ws.students.coverage().label == "本学期已走访 0/2"
    visits = next(c for c in ws.reports.coverage().school.coverages if c.code == "visits")
    assert visits.total == ws.students.coverage().total


def test_officer_sees_the_whole_school(officer_workspace):
    add_student(officer_workspace, "甲", assign=False)
    add_student(officer_workspace, "乙", assign=False)
    assert {r.name for r in officer_workspace.students.list_mine()} == {"甲", "乙"}


def test_growth_file_profile_entries_and_timeline(workspace):
    student = add_student(workspace)
    workspace.growth.set_profile_field(student.id, ProfileField.STRENGTHS, "擅长画画")
    workspace.growth.set_profile_field(student.id, "strengths", "擅长画画和书法")
    profile = workspace.growth.profile(student.id)
    assert profile[ProfileField.STRENGTHS].value == "擅长画画和书法"
    assert profile[ProfileField.INTERESTS].value == ""
    with pytest.raises(ValidationError):
        workspace.growth.add_entry(student.id, GrowthKind.REWARD, title="奖学金", entry_date=TODAY)
    workspace.growth.add_entry(student.id, GrowthKind.REWARD, reward_kind="scholarship", title="励志奖学金",
                               entry_date=TODAY - dt.timedelta(days=10), amount_yuan=1000.0)
    workspace.mentor.write_note(student.id, MentorNoteKind.REGULAR, TODAY, "谈心一次")
    visit = workspace.visits.create_draft(student.id)
    fill(workspace, visit.id, visit_date=TODAY - dt.timedelta(days=20))
    timeline = workspace.students.timeline(student.id)
    assert [i.kind for i in timeline] == ["mentor_note", "reward", "visit"]
    assert workspace.students.list_mine()[0].has_reward


def test_mentor_notes_edit_only_own_and_case_discussions(workspace):
    student = add_student(workspace)
    note = workspace.mentor.write_note(student.id, "regular", TODAY, "第一次谈心")
    edited = workspace.mentor.edit_note(note.id, text="第一次谈心，孩子愿意说话了")
    assert edited.text.endswith("说话了")
    with pytest.raises(ValidationError):
        workspace.mentor.write_note(student.id, "case_discussion", TODAY, "研讨", participants=("王老师",))
    workspace.mentor.write_note(student.id, "case_discussion", TODAY, "研讨", participants=("王老师", "心理老师"))
    assert len(workspace.mentor.notes(student.id)) == 2
    with workspace.profile.session() as s, s.begin():
        s.get(MentorNoteRow, note.id).author_id = "someone-else"
    with pytest.raises(DomainError):
        workspace.mentor.edit_note(note.id, text="改别人的")


def _staff(ws, name: str) -> Staff:
    staff = Staff(id=new_id(), school_id="school-1", role="teacher", name=name)
    with ws.profile.session() as s, s.begin():
        upsert_entity(s, staff)
    return staff


def test_officer_review_requires_visit_first(officer_workspace):
    ws = officer_workspace
    student = add_student(ws, assign=False)
    reviewers = [_staff(ws, n).id for n in ("甲老师", "乙老师", "丙老师")]
    meeting = ws.review.record_meeting(ws.students.current_term(), TODAY, reviewers, "评议纪要")
    with pytest.raises(VisitFirstError, match="先家访后认定"):
        ws.review.determine(meeting.id, student.id, Level.RELATIVELY)
    phone = ws.visits.create_draft(student.id)
    fill(ws, phone.id, mode=VisitMode.PHONE)
    ws.visits.finalize(phone.id)
    with pytest.raises(VisitFirstError):
        ws.review.determine(meeting.id, student.id, Level.RELATIVELY)
    visit = ws.visits.create_draft(student.id)
    fill(ws, visit.id)
    ws.visits.finalize(visit.id)
    determination = ws.review.determine(meeting.id, student.id, Level.RELATIVELY)
    assert determination.visit_id == visit.id and determination.level == Level.RELATIVELY
    again = ws.review.determine(meeting.id, student.id, Level.ESPECIALLY)
    assert again.id == determination.id  # one determination per student and meeting
    assert [d.level for d in ws.review.determinations(meeting.id)] == [Level.ESPECIALLY]


def test_a_review_needs_three_reviewers_and_not_only_the_visitor(officer_workspace):
    ws = officer_workspace
    me = ws.identity.staff_id
    with pytest.raises(ValidationError) as err:
        ws.review.record_meeting(ws.students.current_term(), TODAY, [me, me, me], "")
    assert "reviewers" in err.value.problems
    from visitapp.domain import rules
    with pytest.raises(ReviewerIndependenceError):
        rules.check_reviewer_independence({me}, {me})


def test_teachers_cannot_review_or_assign(workspace):
    student = add_student(workspace)
    with pytest.raises(DomainError, match="资助专干"):
        workspace.review.record_meeting("2026-2027-1", TODAY, ["a", "b", "c"])
    with pytest.raises(DomainError):
        workspace.assignments.assign(student.id, workspace.identity.staff_id, "mentor")


def test_officer_assigns_visitors_and_mentors(officer_workspace):
    ws = officer_workspace
    student = add_student(ws, assign=False)
    teacher = _staff(ws, "周老师")
    first = ws.assignments.assign(student.id, teacher.id, "mentor")
    assert ws.assignments.assign(student.id, teacher.id, "mentor").id == first.id
    assert ws.students.list_mine()[0].mentor_names == ("周老师",)
    ws.assignments.end(first.id)
    assert ws.students.list_mine()[0].mentor_names == ()
    with pytest.raises(DomainError):
        ws.assignments.assign(student.id, "nobody", "visitor")


def test_conflict_resolution_writes_the_value_back_and_is_audited(workspace):
    student = add_student(workspace)
    workspace.growth.set_profile_field(student.id, "strengths", "我写的")
    field_id = workspace.growth.profile(student.id)[ProfileField.STRENGTHS].id
    conflict = Conflict(id=new_id(), record_kind="growth_profile_field", record_id=field_id,
                        field_name="strengths", student_id=student.id, local_value="我写的", remote_value="同事写的")
    with workspace.profile.session() as s, s.begin():
        upsert_entity(s, conflict)
    assert [c.remote_value for c in workspace.conflicts.list_open()] == ["同事写的"]
    with pytest.raises(ValidationError):
        workspace.conflicts.resolve(conflict.id, "合并", "")
    resolved = workspace.conflicts.resolve(conflict.id, "我写的；同事写的", "两人说的都对，合并")
    assert resolved.status.value == "resolved" and resolved.resolved_by == workspace.identity.staff_id
    assert workspace.growth.profile(student.id)[ProfileField.STRENGTHS].value == "我写的；同事写的"
    assert workspace.conflicts.list_open() == []
    assert "conflict.resolve" in audit_actions(workspace)
    assert ("conflict", conflict.id) in outbox(workspace)


def test_settings_plain_and_validated(workspace):
    assert workspace.settings.get("language") == "zh_CN"
    workspace.settings.set("idle_lock_minutes", 5)
    assert workspace.settings.get("idle_lock_minutes") == 5
    with pytest.raises(ValidationError):
        workspace.settings.set("idle_lock_minutes", 0)


def test_audit_chain_detects_a_rewritten_event(workspace):
    student = add_student(workspace)
    workspace.visits.create_draft(student.id)
    workspace.visits.create_draft(student.id)
    with workspace.profile.session() as s, s.begin():
        row = s.scalars(select(AuditEventRow).order_by(AuditEventRow.seq)).first()
        row.action = "visit.delete_draft"
    with pytest.raises(ValueError, match="审计链"):
        workspace.verify_audit_chain()
    with workspace.profile.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEventRow)) == 2
    assert dataclasses.is_dataclass(student)


def test_settings_are_one_declared_table(workspace, tmp_path):
    """Every key is declared once with its type and default; people change only their own keys;
    the language is read from the table before unlocking (no second copy beside the profile)."""
    from visitapp.services.settings import BY_KEY, DEFAULTS, SCHEMA_VERSION, language_before_unlock

    assert workspace.settings.get("idle_lock_minutes") == 10 and "device_token" not in DEFAULTS
    assert all(isinstance(s.default, s.type) for s in BY_KEY.values())
    with pytest.raises(KeyError):
        workspace.settings.set("device_token", "forged")  # the application's own key
    with pytest.raises(KeyError):
        workspace.settings.get("server_url_v2")  # not a setting: a typo is not a silent None
    assert workspace.settings.get("settings_schema_version") == SCHEMA_VERSION
    assert language_before_unlock(workspace.path) == "zh_CN"
    workspace.settings.set("language", "en")
    assert language_before_unlock(workspace.path) == "en"
    assert not (workspace.path / "ui.json").exists()
    assert language_before_unlock(tmp_path / "no-profile-here") == "zh_CN"


def test_settings_read_many_and_write_plain_agree_with_the_unit_of_work(workspace):
    """``read_many`` reads columns, not rows: it still sees what the session has not flushed,
    decrypts the secret keys, and gives defaults for keys never written; ``write_plain``
    writes a plain key at once and refuses a secret one (it would land unencrypted)."""
    from visitapp.services import settings
    from visitapp.services.settings import DEVICE_TOKEN_KEY, KEYS_MARKER_KEY, LAST_SYNC_AT_KEY, SYNC_CURSOR_KEY
    from visitapp.storage.models import SettingRow

    with workspace.profile.session() as s, s.begin():
        settings.write(s, DEVICE_TOKEN_KEY, "token-1")
        settings.write(s, SYNC_CURSOR_KEY, 41)
        found = settings.read_many(s, DEVICE_TOKEN_KEY, SYNC_CURSOR_KEY, KEYS_MARKER_KEY)  # nothing flushed yet
    assert found == {DEVICE_TOKEN_KEY: "token-1", SYNC_CURSOR_KEY: 41, KEYS_MARKER_KEY: 0}
    with workspace.profile.session() as s:
        assert s.get(SettingRow, DEVICE_TOKEN_KEY).value is None  # the token went to the encrypted column
    with workspace.profile.session() as s, s.begin():
        settings.write_plain(s, LAST_SYNC_AT_KEY, "2026-12-03T10:00:00+08:00")
        settings.write_plain(s, LAST_SYNC_AT_KEY, "2026-12-03T11:00:00+08:00")
        with pytest.raises(ValueError):
            settings.write_plain(s, DEVICE_TOKEN_KEY, "plain")
    with workspace.profile.session() as s:
        assert settings.read(s, LAST_SYNC_AT_KEY) == "2026-12-03T11:00:00+08:00"
        assert settings.read_many(s, DEVICE_TOKEN_KEY, LAST_SYNC_AT_KEY) == {
            DEVICE_TOKEN_KEY: "token-1", LAST_SYNC_AT_KEY: "2026-12-03T11:00:00+08:00"}
