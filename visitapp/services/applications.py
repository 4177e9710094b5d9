"""Applications (申请, issue 15): the officer, or the student's class teacher (the visitor
assigned to the student), records that a family applied — when, how, which papers were
handed in (tier B) and what the family said (tier C, sealed). Each write goes through
``ServiceContext.write`` (record + outbox row + audit event), so it syncs and is audited like
every record; the school server checks again who may write it.

The chain 申请 → 家访 → 审核 → 集体评议 → 公示 → 认定 of one student and term is read from the
records of that student and term (:func:`visitapp.domain.applications.application_chain`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select

from visitapp.domain import Application, ApplicationChannel, ApplicationMaterial, DomainError, ValidationError, term_of
from visitapp.domain.applications import Chain, application_chain
from visitapp.services.base import ServiceContext, new_id
from visitapp.storage.models import (
    ApplicationRow, AssignmentRow, DeterminationRow, PublicNoticeRow, RecordReviewRow, ReviewMeetingRow, StaffRow,
    StudentRow, VisitRow,
)
from visitapp.storage.records import entity_from_row


class ApplicationService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def _is_class_teacher(self, s, student_id: str) -> bool:  # noqa: ANN001
        return s.scalar(select(AssignmentRow.id).where(
            AssignmentRow.student_id == student_id, AssignmentRow.staff_id == self.ctx.identity.staff_id,
            AssignmentRow.role == "visitor", AssignmentRow.active.is_(True)).limit(1)) is not None

    def may_record(self, student_id: str) -> bool:
        """Whether I may record an application for this student (the officer, or the student's class teacher); refuses nothing."""
        if self.ctx.identity.is_officer:
            return True
        with self.ctx.profile.session() as s:
            return self._is_class_teacher(s, student_id)

    def record(self, student_id: str, applied_on: dt.date, channel: ApplicationChannel | str,
               materials: tuple[ApplicationMaterial | str, ...] | list = (), details: str = "",
               term: str | None = None) -> Application:
        """Record a family's application (or a teacher's recommendation), audited and queued for sync; refuses (ValidationError) a missing date or channel, a future date, over-long details, and anyone but the officer or the class teacher."""
        now = self.ctx.now()
        application = Application(
            id=new_id(), student_id=student_id, term=term or term_of(applied_on or now.date()),  # the term applied in
            author_id=self.ctx.identity.staff_id, created_at=now, updated_at=now, applied_on=applied_on,
            channel=ApplicationChannel(channel) if channel else None, materials=tuple(ApplicationMaterial(m) for m in materials),
            details=details)
        problems = application.problems(now.date())
        if problems:
            raise ValidationError(problems)
        with self.ctx.profile.session() as s, s.begin():
            if s.get(StudentRow, student_id) is None:
                raise DomainError("student.not_found")
            if not self.ctx.identity.is_officer and not self._is_class_teacher(s, student_id):
                raise DomainError("application.record_not_allowed")
            return self.ctx.write(s, application, "application.record",
                                  detail={"channel": application.channel.value, "materials": len(application.materials)})

    def edit(self, application_id: str, **changes: object) -> Application:
        """Correct an application (its author or the officer)."""
        with self.ctx.profile.session() as s, s.begin():
            row = s.get(ApplicationRow, application_id)
            if row is None:
                raise DomainError("application.not_found")
            current: Application = entity_from_row("application", row)
            if current.author_id != self.ctx.identity.staff_id and not self.ctx.identity.is_officer:
                raise DomainError("application.edit_not_allowed")
            if "channel" in changes:
                changes["channel"] = ApplicationChannel(changes["channel"])
            if "materials" in changes:
                changes["materials"] = tuple(ApplicationMaterial(m) for m in changes["materials"])  # type: ignore[union-attr]
            updated = dataclasses.replace(current, updated_at=self.ctx.now(), **changes)  # type: ignore[arg-type]
            problems = updated.problems(self.ctx.now().date())
            if problems:
                raise ValidationError(problems)
            return self.ctx.write(s, updated, "application.edit", detail={"fields": sorted(changes)})

    def for_student(self, student_id: str) -> list[Application]:
        """The student's applications, newest first; refuses nothing."""
        with self.ctx.profile.session() as s:
            rows = s.scalars(select(ApplicationRow).where(ApplicationRow.student_id == student_id))
            found = [entity_from_row("application", r) for r in rows]
        return sorted(found, key=lambda a: (a.applied_on or dt.date.min, a.id), reverse=True)

    def list(self, term: str | None = None) -> list[Application]:
        """All applications on this laptop (of one term if given), newest first; refuses nothing."""
        with self.ctx.profile.session() as s:
            q = select(ApplicationRow)
            if term:
                q = q.where(ApplicationRow.term == term)
            found = [entity_from_row("application", r) for r in s.scalars(q)]
        return sorted(found, key=lambda a: (a.applied_on or dt.date.min, a.id), reverse=True)

    def staff_names(self) -> dict[str, str]:
        """Staff id → name as this laptop knows them (for the chain's who-did-what); refuses nothing."""
        with self.ctx.profile.session() as s:
            names = {r.id: (r.facts or {}).get("name", "") for r in s.scalars(select(StaffRow))}
        names.setdefault(self.ctx.identity.staff_id, self.ctx.identity.staff_name)
        return names

    def chain(self, student_id: str, term: str | None = None) -> Chain:
        """申请 → 家访 → 审核 → 集体评议 → 公示 → 认定 for one student and term, from this laptop's records."""
        term = term or term_of(self.ctx.now().date())
        with self.ctx.profile.session() as s:
            row = s.get(StudentRow, student_id)
            if row is None:
                raise DomainError("student.not_found_id", student_id=student_id)
            student = entity_from_row("student", row)
            load = lambda kind, model, *where: [entity_from_row(kind, r) for r in s.scalars(select(model).where(*where))]  # noqa: E731
            applications = load("application", ApplicationRow, ApplicationRow.student_id == student_id)
            visits = load("visit", VisitRow, VisitRow.student_id == student_id, VisitRow.status != "draft")
            reviews = load("record_review", RecordReviewRow, RecordReviewRow.student_id == student_id)
            determinations = load("determination", DeterminationRow, DeterminationRow.student_id == student_id)
            meeting_ids = [d.meeting_id for d in determinations]
            meetings = load("review_meeting", ReviewMeetingRow, ReviewMeetingRow.id.in_(meeting_ids))
            notices = load("public_notice", PublicNoticeRow, PublicNoticeRow.meeting_id.in_(meeting_ids))
        return application_chain(student, term, applications, visits, reviews, meetings, determinations, notices,
                                 self.staff_names())
