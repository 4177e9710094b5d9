"""谁审核谁负责 (issue 15): reviewers review finalized visits and growth entries — 已审核, or
退回 with a comment the author acts on (a visit by an amendment, a growth entry by editing
it). The officer reviews every grade; the officer names grade leaders (年级组长) as reviewers
of one grade, as synced, audited ``reviewer_appointment`` records. Nobody reviews their own
record; the school server refuses it again (``sync_server.sync.review``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from visitapp.domain import (
    DomainError, GrowthEntry, RecordReview, ReviewerAppointment, ReviewVerdict, ValidationError, Visit, VisitStatus,
    rules,
)
from visitapp.domain.enums import REVIEWABLE_KINDS
from visitapp.domain.record_review import (
    RESUBMITTED, UNREVIEWED, ReviewState, latest_reviews, review_refusal, review_state,
)
from visitapp.services.base import ServiceContext, new_id
from visitapp.storage.models import (
    GrowthEntryRow, RecordReviewRow, ReviewerAppointmentRow, StaffRow, StudentRow, VisitRow,
)
from visitapp.storage.records import entity_from_row

_MODEL = {"visit": VisitRow, "growth_entry": GrowthEntryRow}


@dataclass(frozen=True)
class PendingRecord:
    """A record waiting for this reviewer, as the review screen lists it."""

    record_kind: str
    record_id: str
    student_id: str
    student_label: str
    author_name: str
    day: dt.date | None
    summary: str
    status: str  # unreviewed | resubmitted


class RecordReviewService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    # -- reviewers ------------------------------------------------------------------------------
    def appoint(self, staff_id: str, grade: str) -> ReviewerAppointment:
        """The officer names a grade leader reviewer of the classes whose names start with ``grade``."""
        if not self.ctx.identity.is_officer:
            raise DomainError("officer.appoint_reviewer_only")
        grade = grade.strip()
        if not grade:
            raise ValidationError({"grade": "reviewer.grade_missing"})
        with self.ctx.profile.session() as s, s.begin():
            if s.get(StaffRow, staff_id) is None:
                raise DomainError("staff.not_found")
            appointment = ReviewerAppointment(id=new_id(), staff_id=staff_id, grade=grade,
                                              appointed_by=self.ctx.identity.staff_id, created_at=self.ctx.now())
            return self.ctx.write(s, appointment, "reviewer.appoint", detail={"staff_id": staff_id})

    def end_appointment(self, appointment_id: str) -> ReviewerAppointment:
        """End a grade leader's appointment as reviewer, audited and synced; refuses anyone but the officer and an unknown appointment."""
        if not self.ctx.identity.is_officer:
            raise DomainError("officer.end_reviewer_only")
        with self.ctx.profile.session() as s, s.begin():
            row = s.get(ReviewerAppointmentRow, appointment_id)
            if row is None:
                raise DomainError("reviewer.not_found")
            ended = dataclasses.replace(entity_from_row("reviewer_appointment", row), active=False)
            return self.ctx.write(s, ended, "reviewer.end", detail={"staff_id": ended.staff_id})

    def appointments(self) -> list[ReviewerAppointment]:
        """The active reviewer appointments (grade leaders); refuses nothing."""
        with self.ctx.profile.session() as s:
            return [entity_from_row("reviewer_appointment", r) for r in
                    s.scalars(select(ReviewerAppointmentRow).where(ReviewerAppointmentRow.active.is_(True)))]

    def is_reviewer(self) -> bool:
        """Whether I review records (the officer, or an appointed grade leader); refuses nothing."""
        me = self.ctx.identity
        return me.is_officer or any(a.staff_id == me.staff_id for a in self.appointments())

    # -- reviewing ------------------------------------------------------------------------------
    def _record(self, s, kind: str, record_id: str) -> Visit | GrowthEntry | None:  # noqa: ANN001
        if kind not in REVIEWABLE_KINDS:
            raise DomainError("record_review.wrong_kind")
        row = s.get(_MODEL[kind], record_id)
        return None if row is None else entity_from_row(kind, row)

    def refusal(self, kind: str, record_id: str) -> str | None:
        """Why I may not review this record now (a sentence), or ``None``."""
        with self.ctx.profile.session() as s:
            return self._refusal(s, kind, record_id)

    def _refusal(self, s, kind: str, record_id: str) -> str | None:  # noqa: ANN001
        me = self.ctx.identity
        record = self._record(s, kind, record_id)
        student = s.get(StudentRow, record.student_id) if record is not None else None
        appointments = [entity_from_row("reviewer_appointment", r) for r in s.scalars(select(ReviewerAppointmentRow))]
        return review_refusal(me.staff_id, me.is_officer, appointments, record,
                              student.class_name if student is not None else "")

    def review(self, kind: str, record_id: str, verdict: ReviewVerdict | str, comment: str = "") -> RecordReview:
        """Approve (已审核) or return (退回, with a comment) a finalized visit or growth entry, audited and synced; refuses my own record, a record outside my grade, a draft, and a return without a comment."""
        verdict = ReviewVerdict(verdict)
        now = self.ctx.now()
        with self.ctx.profile.session() as s, s.begin():
            refused = self._refusal(s, kind, record_id)
            if refused:
                raise DomainError(refused)
            record = self._record(s, kind, record_id)
            review = RecordReview(id=new_id(), student_id=record.student_id, record_kind=kind, record_id=record_id,
                                  reviewer_id=self.ctx.identity.staff_id, verdict=verdict, created_at=now,
                                  reviewed_on=now.date(), comment=comment.strip())
            problems = review.problems()
            if problems:
                raise ValidationError(problems)
            return self.ctx.write(s, review, f"record_review.{verdict.value}",
                                  detail={"record_kind": kind, "record_id": record_id})

    def reviews_of(self, record_id: str) -> list[RecordReview]:
        """Every review of one record, oldest first; refuses nothing."""
        with self.ctx.profile.session() as s:
            found = [entity_from_row("record_review", r) for r in
                     s.scalars(select(RecordReviewRow).where(RecordReviewRow.record_id == record_id))]
        return sorted(found, key=lambda r: (r.created_at or dt.datetime.min.replace(tzinfo=dt.timezone.utc), r.id))

    def state(self, kind: str, record_id: str) -> ReviewState:
        """The record's review state (unreviewed, approved or returned, by whom and when); refuses a kind that is not reviewable."""
        with self.ctx.profile.session() as s:
            record = self._record(s, kind, record_id)
            reviews = [entity_from_row("record_review", r) for r in
                       s.scalars(select(RecordReviewRow).where(RecordReviewRow.record_id == record_id))]
        if record is None:
            return ReviewState(UNREVIEWED)
        return review_state(record, latest_reviews(reviews).get(record_id))

    def states_for_student(self, student_id: str) -> dict[str, ReviewState]:
        """Review state of each of the student's visits and growth entries, by record id."""
        with self.ctx.profile.session() as s:
            reviews = [entity_from_row("record_review", r) for r in
                       s.scalars(select(RecordReviewRow).where(RecordReviewRow.student_id == student_id))]
            records = [entity_from_row(kind, r) for kind, model in _MODEL.items()
                       for r in s.scalars(select(model).where(model.student_id == student_id))]
        latest = latest_reviews(reviews)
        return {r.id: review_state(r, latest.get(r.id)) for r in records}

    def staff_name(self, staff_id: str) -> str:
        """A staff member's name as this laptop knows it (empty if unknown); refuses nothing."""
        if staff_id == self.ctx.identity.staff_id:
            return self.ctx.identity.staff_name
        with self.ctx.profile.session() as s:
            row = s.get(StaffRow, staff_id)
            return (row.facts or {}).get("name", "") if row is not None else ""

    def reviewer_line(self, visit_id: str) -> tuple[str, str]:
        """What the visit sheet's 审核人 line prints: the name and date of the review that
        approved the record (已审核), or two blanks — a returned record has no reviewer yet."""
        state = self.state("visit", visit_id)
        if not state.reviewed or state.review is None:
            return "", ""
        r = state.review
        day = f"{r.reviewed_on.year} 年 {r.reviewed_on.month} 月 {r.reviewed_on.day} 日" if r.reviewed_on else ""
        return self.staff_name(r.reviewer_id), day

    def pending(self) -> list[PendingRecord]:
        """The finalized visits (current versions) and school growth entries I may review and
        that wait for a review (never reviewed, or edited after 退回)."""
        me = self.ctx.identity
        with self.ctx.profile.session() as s:
            appointments = [entity_from_row("reviewer_appointment", r) for r in s.scalars(select(ReviewerAppointmentRow))]
            students = {r.id: entity_from_row("student", r) for r in s.scalars(select(StudentRow))}
            visits = [entity_from_row("visit", r) for r in s.scalars(select(VisitRow).where(VisitRow.status != "draft"))]
            entries = [entity_from_row("growth_entry", r) for r in s.scalars(select(GrowthEntryRow))]
            reviews = [entity_from_row("record_review", r) for r in s.scalars(select(RecordReviewRow))]
            names = {r.id: (r.facts or {}).get("name", "") for r in s.scalars(select(StaffRow))}
        latest = latest_reviews(reviews)
        out: list[PendingRecord] = []
        current = [v for v in rules.current_version(visits) if v.status == VisitStatus.FINAL]
        for record in [*current, *entries]:
            student = students.get(record.student_id)
            if student is None:
                continue
            if review_refusal(me.staff_id, me.is_officer, appointments, record, student.class_name):
                continue
            state = review_state(record, latest.get(record.id))
            if state.status not in (UNREVIEWED, RESUBMITTED):
                continue
            if isinstance(record, Visit):
                kind, day, summary = "visit", record.visit_date, f"家访记录（{'、'.join(record.visitors)}）"
            else:
                kind, day, summary = "growth_entry", record.entry_date, f"成长档案：{record.title}"
            out.append(PendingRecord(kind, record.id, student.id, f"{student.name}（{student.class_name}）",
                                     names.get(record.author_id, ""), day, summary, state.status))
        return sorted(out, key=lambda p: (p.day or dt.date.min, p.record_id))

    # -- the author's answer to 退回 -------------------------------------------------------------
    def edit_returned_entry(self, entry_id: str, **changes: object) -> GrowthEntry:
        """The author edits a growth entry a reviewer returned; it then waits for review again.
        (A returned visit is corrected by an amendment, ``VisitService.amend``.)"""
        now = self.ctx.now()
        with self.ctx.profile.session() as s, s.begin():
            row = s.get(GrowthEntryRow, entry_id)
            if row is None:
                raise DomainError("growth.not_found")
            entry: GrowthEntry = entity_from_row("growth_entry", row)
            if entry.author_id != self.ctx.identity.staff_id:
                raise DomainError("growth.not_the_author")
            reviews = [entity_from_row("record_review", r) for r in
                       s.scalars(select(RecordReviewRow).where(RecordReviewRow.record_id == entry_id))]
            state = review_state(entry, latest_reviews(reviews).get(entry_id))
            if state.status != ReviewVerdict.RETURNED:
                raise DomainError("growth.only_returned_editable")
            edited = dataclasses.replace(entry, updated_at=now, **changes)  # type: ignore[arg-type]
            problems = edited.problems(now.date())
            if problems:
                raise ValidationError(problems)
            return self.ctx.write(s, edited, "growth_entry.edit_returned", detail={"fields": sorted(changes)})
