"""The public notice (公示) on the officer's laptop: objections received during the period,
how each was handled, and closing the notice, which makes its determinations final.

The rules are the domain's (:mod:`visitapp.domain.notice`, the same ones the school server's
CLI enforces): an objection only while the notice is open and inside its period; closing only
after the period has ended with every objection handled. Each write goes through
``ServiceContext.write`` (record + outbox row + audit event), so objections, the closed notice
and the final determinations reach the school server at the next sync like any other record.
The notice itself is opened by :meth:`visitapp.services.review.ReviewService.publish_notice`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from visitapp.domain import DomainError, Objection, PublicNotice
from visitapp.domain import notice as rules
from visitapp.domain.notice import NoticeView
from visitapp.domain.reports import class_sort_key
from visitapp.services.base import ServiceContext, new_id
from visitapp.storage.models import (
    DeterminationRow, ObjectionRow, PublicNoticeRow, ReviewMeetingRow, StudentRow,
)
from visitapp.storage.records import entity_from_row


@dataclass(frozen=True)
class NoticeSummary:
    """One line of the officer's list of notices."""

    notice_id: str
    meeting_id: str
    meeting_date: dt.date | None
    term: str
    title: str
    period_start: dt.date | None
    period_end: dt.date | None
    status: str  # open | closed
    closed_on: dt.date | None
    determinations: int
    objections: int
    open_objections: int


@dataclass(frozen=True)
class NoticeSubject:
    """A student on the notice, as the officer's own screen names them (to say what an
    objection is about); the published list itself shows masked names only."""

    student_id: str
    label: str


@dataclass(frozen=True)
class NoticeDetail:
    summary: NoticeSummary
    view: NoticeView  # masked lines, objections with content and handling, can_close, blockers
    subjects: tuple[NoticeSubject, ...]


class NoticeService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def _require_officer(self) -> None:
        if not self.ctx.identity.is_officer:
            raise DomainError("officer.notice_only")

    def _today(self) -> dt.date:
        return self.ctx.now().date()

    @staticmethod
    def _notice(s, notice_id: str) -> PublicNotice:  # noqa: ANN001
        row = s.get(PublicNoticeRow, notice_id)
        if row is None:
            raise DomainError("notice.not_found")
        return entity_from_row("public_notice", row)

    @staticmethod
    def _objections(s, notice_id: str) -> list[Objection]:  # noqa: ANN001
        return [entity_from_row("objection", r) for r in
                s.scalars(select(ObjectionRow).where(ObjectionRow.notice_id == notice_id))]

    @staticmethod
    def _determinations(s, meeting_id: str) -> list:  # noqa: ANN001
        return [entity_from_row("determination", r) for r in
                s.scalars(select(DeterminationRow).where(DeterminationRow.meeting_id == meeting_id))]

    def _summary(self, s, notice: PublicNotice) -> NoticeSummary:  # noqa: ANN001
        meeting = s.get(ReviewMeetingRow, notice.meeting_id)
        meeting_date = entity_from_row("review_meeting", meeting).meeting_date if meeting is not None else None
        objections = self._objections(s, notice.id)
        count = len(s.scalars(select(DeterminationRow.id).where(
            DeterminationRow.meeting_id == notice.meeting_id)).all())
        return NoticeSummary(notice.id, notice.meeting_id, meeting_date, notice.term, notice.title,
                             notice.period_start, notice.period_end, notice.status.value, notice.closed_on,
                             count, len(objections), sum(1 for o in objections if not o.handled))

    # -- reading ------------------------------------------------------------------------------------
    def list(self) -> list[NoticeSummary]:
        """Every notice on this laptop, the newest period first."""
        self._require_officer()
        with self.ctx.profile.session() as s:
            notices = [entity_from_row("public_notice", r) for r in s.scalars(select(PublicNoticeRow))]
            out = [self._summary(s, n) for n in notices]
        return sorted(out, key=lambda n: (n.period_start or dt.date.min, n.notice_id), reverse=True)

    def detail(self, notice_id: str) -> NoticeDetail:
        """The masked list, the objections with their content and handling, and whether (or
        why not) the notice can close today."""
        self._require_officer()
        with self.ctx.profile.session() as s:
            notice = self._notice(s, notice_id)
            determinations = self._determinations(s, notice.meeting_id)
            students = [entity_from_row("student", r) for r in
                        (s.get(StudentRow, d.student_id) for d in determinations) if r is not None]
            objections = self._objections(s, notice_id)
            summary = self._summary(s, notice)
        view = rules.notice_view(notice, determinations, students, objections, self._today())
        subjects = tuple(NoticeSubject(st.id, f"{st.name}（{st.class_name}）")
                         for st in sorted(students, key=lambda st: (class_sort_key(st.class_name), st.student_no, st.id)))
        return NoticeDetail(summary, view, subjects)

    # -- writing ------------------------------------------------------------------------------------
    def record_objection(self, notice_id: str, received_on: dt.date, content: str,
                         student_id: str = "") -> Objection:
        """An objection received during the period; its content is tier C (sealed)."""
        self._require_officer()
        with self.ctx.profile.session() as s, s.begin():
            notice = self._notice(s, notice_id)
            if student_id and not s.scalar(select(DeterminationRow.id).where(
                    DeterminationRow.meeting_id == notice.meeting_id, DeterminationRow.student_id == student_id)):
                raise DomainError("notice.student_not_listed")
            objection = rules.record_objection(notice, new_id(), received_on, content, self.ctx.now(), student_id)
            return self.ctx.write(s, objection, "objection.record",
                                  detail={"notice_id": notice_id, "about_student": bool(student_id)})

    def handle_objection(self, objection_id: str, handling: str, handled_on: dt.date | None = None) -> Objection:
        """Record how an objection was handled (tier C), dated today unless told otherwise."""
        self._require_officer()
        with self.ctx.profile.session() as s, s.begin():
            row = s.get(ObjectionRow, objection_id)
            if row is None:
                raise DomainError("objection.not_found")
            objection = entity_from_row("objection", row)
            if self._notice(s, objection.notice_id).status.value != "open":
                raise DomainError("notice.closed_objection_locked")
            handled = rules.handle_objection(objection, handling, handled_on or self._today())
            return self.ctx.write(s, handled, "objection.handle", detail={"notice_id": objection.notice_id})

    def close_blockers(self, notice_id: str) -> list[str]:
        """Why the notice cannot close today (empty when it can)."""
        self._require_officer()
        with self.ctx.profile.session() as s:
            return rules.close_blockers(self._notice(s, notice_id), self._objections(s, notice_id), self._today())

    def close(self, notice_id: str) -> PublicNotice:
        """Close the notice and make its meeting's determinations final, in one transaction;
        refused (with the reasons) before the period ends or while an objection is open."""
        self._require_officer()
        with self.ctx.profile.session() as s, s.begin():
            notice = self._notice(s, notice_id)
            closed, finals = rules.close_notice(notice, self._determinations(s, notice.meeting_id),
                                                self._objections(s, notice_id), self._today())
            self.ctx.write(s, closed, "public_notice.close", detail={"determinations": len(finals)})
            for determination in finals:
                self.ctx.write(s, determination, "determination.final", detail={"notice_id": notice_id})
            return closed
