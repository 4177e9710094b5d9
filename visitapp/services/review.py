"""The collective review (集体评议) and its determinations (认定), officer only.

A determination needs a finalized on-site visit of the same term (先家访后认定), and a
visitor may not be the only reviewer of the student they visited."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from visitapp.domain import (
    Determination, InvalidTransitionError, Level, NoticeStatus, PublicNotice, ReviewMeeting, ValidationError, rules,
)
from visitapp.domain.errors import DomainError
from visitapp.services.base import ServiceContext, new_id
from visitapp.storage.models import DeterminationRow, PublicNoticeRow, ReviewMeetingRow, StudentRow, VisitRow
from visitapp.storage.records import entity_from_row


class ReviewService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def _require_officer(self) -> None:
        if not self.ctx.identity.is_officer:
            raise DomainError("officer.review_only")

    def record_meeting(self, term: str, meeting_date: dt.date, reviewers: tuple[str, ...] | list[str],
                       minutes: str = "") -> ReviewMeeting:
        """Record a review meeting of a term; refuses anyone but the officer and invalid fields (date, reviewers)."""
        self._require_officer()
        now = self.ctx.now()
        meeting = ReviewMeeting(id=new_id(), term=term, created_by=self.ctx.identity.staff_id, created_at=now,
                                meeting_date=meeting_date, reviewers=tuple(reviewers), minutes=minutes)
        problems = meeting.problems(now.date())
        if problems:
            raise ValidationError(problems)
        with self.ctx.profile.session() as s, s.begin():
            return self.ctx.write(s, meeting, "review_meeting.record", detail={"reviewers": len(reviewers)})

    def determine(self, meeting_id: str, student_id: str, level: Level | str) -> Determination:
        """A student's aid level decided at a meeting; refuses anyone but the officer, no finalized on-site visit this term (先家访后认定) and a visitor as sole reviewer."""
        self._require_officer()
        now = self.ctx.now()
        with self.ctx.profile.session() as s, s.begin():
            meeting_row = s.get(ReviewMeetingRow, meeting_id)
            if meeting_row is None:
                raise DomainError("meeting.not_found")
            if s.get(StudentRow, student_id) is None:
                raise DomainError("student.not_found")
            meeting: ReviewMeeting = entity_from_row("review_meeting", meeting_row)
            visits = [entity_from_row("visit", r) for r in
                      s.scalars(select(VisitRow).where(VisitRow.student_id == student_id))]
            visit = rules.check_visit_first(student_id, meeting.term, visits)
            visitor_ids = {v.author_id for v in visits if v.id == visit.id}
            rules.check_reviewer_independence(meeting.reviewers, visitor_ids)
            existing = s.scalar(select(DeterminationRow.id).where(
                DeterminationRow.meeting_id == meeting_id, DeterminationRow.student_id == student_id))
            if existing and s.get(DeterminationRow, existing).final:
                raise InvalidTransitionError("review.determination_final")
            determination = Determination(
                id=existing or new_id(), student_id=student_id, meeting_id=meeting_id, term=meeting.term,
                created_by=self.ctx.identity.staff_id, created_at=now, level=Level(level),
                visit_id=visit.id, review_date=meeting.meeting_date)
            return self.ctx.write(s, determination, "determination.record")

    def meetings(self, term: str | None = None) -> list[ReviewMeeting]:
        """Review meetings of a term (default: every term); refuses nothing."""
        with self.ctx.profile.session() as s:
            q = select(ReviewMeetingRow)
            if term:
                q = q.where(ReviewMeetingRow.term == term)
            return [entity_from_row("review_meeting", r) for r in s.scalars(q)]

    def determinations(self, meeting_id: str) -> list[Determination]:
        """The determinations made at one meeting; refuses nothing."""
        with self.ctx.profile.session() as s:
            return [entity_from_row("determination", r) for r in
                    s.scalars(select(DeterminationRow).where(DeterminationRow.meeting_id == meeting_id))]

    def publish_notice(self, meeting_id: str, period_start: dt.date | None = None,
                       period_end: dt.date | None = None, title: str = "") -> PublicNotice:
        """Open the public notice (公示) of a meeting's determinations for a period (≥ 5 days);
        by default seven days from today on this workspace's clock."""
        self._require_officer()
        period_start = period_start or self.ctx.now().date()
        period_end = period_end or period_start + dt.timedelta(days=6)
        with self.ctx.profile.session() as s, s.begin():
            meeting_row = s.get(ReviewMeetingRow, meeting_id)
            if meeting_row is None:
                raise DomainError("meeting.not_found")
            if not s.scalar(select(DeterminationRow.id).where(DeterminationRow.meeting_id == meeting_id)):
                raise DomainError("review.no_determinations")
            existing = s.scalar(select(PublicNoticeRow.id).where(PublicNoticeRow.meeting_id == meeting_id))
            if existing and s.get(PublicNoticeRow, existing).status != NoticeStatus.OPEN:
                # re-publishing would reopen a closed notice whose determinations are final
                raise InvalidTransitionError("review.notice_closed_republish")
            meeting: ReviewMeeting = entity_from_row("review_meeting", meeting_row)
            notice = PublicNotice(
                id=existing or new_id(), meeting_id=meeting_id, term=meeting.term,
                created_by=self.ctx.identity.staff_id, created_at=self.ctx.now(),
                title=title or "家庭经济困难学生认定结果公示", period_start=period_start, period_end=period_end)
            problems = notice.problems()
            if problems:
                raise ValidationError(problems)
            return self.ctx.write(s, notice, "public_notice.publish")

    def notices(self) -> list[PublicNotice]:
        """The public notices of determinations; refuses nothing."""
        with self.ctx.profile.session() as s:
            return [entity_from_row("public_notice", r) for r in s.scalars(select(PublicNoticeRow))]
