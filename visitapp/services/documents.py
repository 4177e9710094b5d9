"""Printing use cases: gather a record's data and hand plain dataclasses to
:mod:`visitapp.printing`; check a scanned sheet against the current records."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import select

from typing import TYPE_CHECKING

from visitapp.domain import DomainError, PublicNotice, VisitStatus
from visitapp.domain.reports import class_sort_key

if TYPE_CHECKING:  # reportlab loads when something is printed, not when the app starts
    from visitapp.printing import (
        GrowthFileJob, PrintReport, PublicNoticeJob, SheetHeader, SubjectAccessJob, VisitSheetJob,
    )
from visitapp.services.base import ServiceContext, sheet_header
from visitapp.services.students import StudentService
from visitapp.services.workload import WorkloadService
from visitapp.storage.models import (
    ApplicationRow, AssignmentRow, AuditEventRow, ConflictRow, DeterminationRow, GrowthEntryRow, GrowthProfileFieldRow, MentorNoteRow,
    ObjectionRow, PublicNoticeRow, RecordReviewRow, StaffRow, StudentRow, UnopenedRow, VisitRow,
)
from visitapp.storage.records import entity_from_row


class _LazyJobs:
    """A sized, lazy sequence of print jobs: the batch knows its total for progress, while
    each record is read from the database only when its turn comes (bounded memory)."""

    def __init__(self, ids: list[str], build: Callable[[str], object]):
        self._ids = ids
        self._build = build

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[object]:
        for record_id in self._ids:
            yield self._build(record_id)


class DocumentService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def header(self, term: str | None = None) -> SheetHeader:
        """The school and term header every printed sheet carries; refuses nothing."""
        return sheet_header(self.ctx, term)

    # -- jobs -------------------------------------------------------------------------------------
    def visit_job(self, visit_id: str) -> VisitSheetJob:
        """The print job of one visit sheet; refuses an unknown visit."""
        with self.ctx.profile.session() as s:
            row = s.get(VisitRow, visit_id)
            if row is None:
                raise DomainError("visit.not_found_id", visit_id=visit_id)
            visit = entity_from_row("visit", row)
            if visit.status == VisitStatus.DRAFT:
                raise DomainError("visit.draft_not_printed")
            if s.get(UnopenedRow, UnopenedRow.key("visit", visit_id)) is not None:
                raise DomainError("visit.unopened_not_printed")
            student = entity_from_row("student", s.get(StudentRow, visit.student_id))
            amendments = [entity_from_row("visit", r) for r in
                          s.scalars(select(VisitRow).where(VisitRow.amends_id == visit_id, VisitRow.status != "draft"))]
        from visitapp.printing import VisitSheetJob
        from visitapp.services.record_review import RecordReviewService
        # the 审核人 line: the review of the version that counts (the latest final amendment)
        current = max((a for a in amendments if a.status == VisitStatus.FINAL),
                      key=lambda a: a.finalized_at or a.created_at or self.ctx.now(), default=visit)
        reviewer, reviewed_on = RecordReviewService(self.ctx).reviewer_line(current.id)
        return VisitSheetJob(visit, student, self.header(visit.term or None), tuple(amendments), reviewer,
                             reviewed_on)

    def growth_file_job(self, student_id: str) -> GrowthFileJob:
        """The print job of a student's growth file; refuses an unknown student."""
        me = self.ctx.identity.staff_id
        with self.ctx.profile.session() as s:
            row = s.get(StudentRow, student_id)
            if row is None:
                raise DomainError("student.not_found_id", student_id=student_id)
            student = entity_from_row("student", row)
            profile = {r.field: entity_from_row("growth_profile_field", r) for r in
                       s.scalars(select(GrowthProfileFieldRow).where(GrowthProfileFieldRow.student_id == student_id))}
            visits = [entity_from_row("visit", r) for r in s.scalars(select(VisitRow).where(VisitRow.student_id == student_id))]
            visits = [v for v in visits if v.status != VisitStatus.DRAFT or v.author_id == me]
            entries = [entity_from_row("growth_entry", r) for r in
                       s.scalars(select(GrowthEntryRow).where(GrowthEntryRow.student_id == student_id))]
            notes = [entity_from_row("mentor_note", r) for r in
                     s.scalars(select(MentorNoteRow).where(MentorNoteRow.student_id == student_id))]
            staff = {r.id: (r.facts or {}).get("name", "") for r in s.scalars(select(StaffRow))}
        from visitapp.printing import GrowthFileJob
        return GrowthFileJob(student, self.header(), profile, tuple(visits), tuple(entries), tuple(notes), staff)

    def notice_for_meeting(self, meeting_id: str) -> PublicNotice:
        """The public notice of a meeting's determinations; refuses an unknown meeting."""
        with self.ctx.profile.session() as s:
            row = s.scalars(select(PublicNoticeRow).where(PublicNoticeRow.meeting_id == meeting_id)).first()
            if row is None:
                row = s.get(PublicNoticeRow, meeting_id)  # the notice's own id works too
            if row is None:
                raise DomainError("review.notice_not_published")
            return entity_from_row("public_notice", row)

    def notice_job(self, meeting_id: str) -> PublicNoticeJob:
        """The print job of a public notice; refuses an unknown notice."""
        notice = self.notice_for_meeting(meeting_id)
        with self.ctx.profile.session() as s:
            rows = []
            for d_row in s.scalars(select(DeterminationRow).where(DeterminationRow.meeting_id == notice.meeting_id)):
                determination = entity_from_row("determination", d_row)
                student_row = s.get(StudentRow, determination.student_id)
                if student_row is not None:
                    rows.append((entity_from_row("student", student_row), determination))
            opened_by = s.get(StaffRow, notice.created_by) if notice.created_by else None
            officer = (opened_by.facts or {}).get("name", "") if opened_by is not None else ""
        if not officer and notice.created_by == self.ctx.identity.staff_id:
            officer = self.ctx.identity.staff_name
        from visitapp.printing import PublicNoticeJob
        # posted on a board for families to read: no 内部资料 mark, and a person to turn to
        header = dataclasses.replace(self.header(notice.term), mark="")
        contact = f"{officer}老师" if officer else ""
        return PublicNoticeJob(notice, tuple(rows), header, contact)

    # -- printing ---------------------------------------------------------------------------------
    def print_visit(self, visit_id: str, out: Path) -> PrintReport:
        """Write one visit sheet as a PDF in the prints folder; refuses what visit_job refuses."""
        from visitapp.printing import render_batch
        return render_batch([self.visit_job(visit_id)], out)

    def visit_ids(self, class_name: str | None = None, term: str | None = None,
                  unopened: bool = False) -> list[str]:
        """Finalized visits (not amendments: they print on their original's sheet) of my
        students, optionally of one class and/or one term, ordered by class and date; those
        this laptop cannot open yet (待资助专干授权后可查看) only with ``unopened``, and then
        only they."""
        students = {r.id: r for r in StudentService(self.ctx).list_mine(term)}
        with self.ctx.profile.session() as s:
            query = select(VisitRow.id, VisitRow.student_id).where(VisitRow.status.in_(["final", "voided"]),
                                                                   VisitRow.amends_id.is_(None))
            if term:
                query = query.where(VisitRow.term == term)
            waiting = set(s.scalars(select(UnopenedRow.record_id).where(UnopenedRow.record_kind == "visit")))
            found = [(vid, sid) for vid, sid in s.execute(query) if sid in students
                     and (class_name is None or students[sid].class_name == class_name)
                     and (vid in waiting) == unopened]
        found.sort(key=lambda p: (class_sort_key(students[p[1]].class_name), students[p[1]].student_no, p[0]))
        return [vid for vid, _sid in found]

    def print_visits(self, out: Path, class_name: str | None = None, term: str | None = None,
                     progress: Callable[[int, int], None] | None = None,
                     cancel: threading.Event | None = None) -> PrintReport:
        """Write several visit sheets as one PDF; refuses what visit_job refuses."""
        ids = self.visit_ids(class_name, term)
        if not ids:
            raise DomainError("visit.none_to_print")
        from visitapp.printing import render_batch
        return render_batch(_LazyJobs(ids, self.visit_job), out, progress=progress, cancel=cancel)

    def subject_access_job(self, student_id: str) -> SubjectAccessJob:
        """Everything this laptop holds about one student (officers only: theirs is the whole
        school's copy). Other teachers' drafts are left out: they are not records yet."""
        if not self.ctx.identity.is_officer:
            raise DomainError("officer.access_copy_only")
        me = self.ctx.identity.staff_id

        def about(model):  # noqa: ANN001, ANN202
            return select(model).where(model.student_id == student_id)

        with self.ctx.profile.session() as s:
            row = s.get(StudentRow, student_id)
            if row is None:
                raise DomainError("student.not_found_id", student_id=student_id)
            student = entity_from_row("student", row)
            load = lambda kind, model: [entity_from_row(kind, r) for r in s.scalars(about(model))]  # noqa: E731
            visits = [v for v in load("visit", VisitRow) if v.status != VisitStatus.DRAFT or v.author_id == me]
            job_parts = dict(
                assignments=load("assignment", AssignmentRow), visits=visits,
                profile=load("growth_profile_field", GrowthProfileFieldRow), entries=load("growth_entry", GrowthEntryRow),
                notes=load("mentor_note", MentorNoteRow), determinations=load("determination", DeterminationRow),
                objections=load("objection", ObjectionRow), conflicts=load("conflict", ConflictRow),
                applications=load("application", ApplicationRow), reviews=load("record_review", RecordReviewRow))
            ids = {student_id} | {r.id for records in job_parts.values() for r in records}
            audit = [entity_from_row("audit_event", r) for r in s.scalars(
                select(AuditEventRow).where(AuditEventRow.record_id.in_(ids)).order_by(AuditEventRow.at, AuditEventRow.seq))]
            staff = {r.id: (r.facts or {}).get("name", "") for r in s.scalars(select(StaffRow))}
        staff.setdefault(me, self.ctx.identity.staff_name)
        from visitapp.printing import SubjectAccessJob
        return SubjectAccessJob(student, self.header(), audit=tuple(audit), staff_names=staff,
                                **{k: tuple(v) for k, v in job_parts.items()})

    def print_subject_access(self, student_id: str, out: Path) -> PrintReport:
        """Print the guardian's copy of everything held about the student; audited (who, when,
        how many records: never their content)."""
        job = self.subject_access_job(student_id)
        from visitapp.printing import render_batch
        report = render_batch([job], out)
        with self.ctx.profile.session() as s, s.begin():
            self.ctx.audit(s, "subject_access.export", "student", student_id,
                           {"records": len(job.records()), "audit_events": len(job.audit), "pages": report.pages})
        return report

    def print_growth_file(self, student_id: str, out: Path) -> PrintReport:
        """Write a student's growth file as a PDF; refuses what growth_file_job refuses."""
        from visitapp.printing import render_batch
        return render_batch([self.growth_file_job(student_id)], out)

    def print_notice(self, meeting_id: str, out: Path) -> PrintReport:
        """Write a public notice as a PDF; refuses what notice_job refuses."""
        from visitapp.printing import render_batch
        return render_batch([self.notice_job(meeting_id)], out)

    def chain_job(self, student_id: str, term: str | None = None):  # noqa: ANN201 - printing.chain.ChainJob
        """One student's 申请 → 家访 → 审核 → 集体评议 → 公示 → 认定 (issue 15)."""
        from visitapp.printing.chain import ChainJob
        from visitapp.services.applications import ApplicationService
        chain = ApplicationService(self.ctx).chain(student_id, term)
        return ChainJob(chain, self.header(chain.term))

    def print_chain(self, student_id: str, out: Path, term: str | None = None) -> PrintReport:
        """Print one page of the student's chain 申请 → 家访 → 审核 → 集体评议 → 公示 → 认定 for a term, with its QR; refuses an unknown student."""
        from visitapp.printing import render_batch
        return render_batch([self.chain_job(student_id, term)], out)

    # -- verification -----------------------------------------------------------------------------
    def current_fingerprint(self, kind: str, record_id: str) -> tuple[str, str] | None:
        """The fingerprint a printed sheet of this record carries now (to check a paper copy); refuses an unknown record."""
        try:
            if kind == "visit":
                fp = self.visit_job(record_id).fingerprint()
            elif kind == "growth_file":
                fp = self.growth_file_job(record_id).fingerprint()
            elif kind == "public_notice":
                fp = self.notice_job(record_id).fingerprint()
            elif kind == "subject_access":
                fp = self.subject_access_job(record_id).fingerprint()
            elif kind == "chain":  # issue 15
                student_id, _, term = record_id.partition(":")
                fp = self.chain_job(student_id, term).fingerprint()
            elif kind == "workload":
                return WorkloadService(self.ctx).current_fingerprint(record_id)
            else:
                return None
        except DomainError:
            return None
        return fp.version, fp.hash

    def verify_sheet(self, path: Path):  # noqa: ANN201 - visitapp.printing.Verdict, loaded lazily
        """Whether a printed sheet's QR code matches the record as stored now; refuses nothing (a mismatch is the answer)."""
        from visitapp.printing import verify_sheet
        return verify_sheet(path, self.current_fingerprint)
