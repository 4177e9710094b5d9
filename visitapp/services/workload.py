"""The teacher's aid workload statement (工作量认定, plan §7): per teacher and term, as data
for the screen and scripts, an xlsx, and a printed page with the officer's signature block
and a QR code of its content hash (checked by ``verify-sheet``).

A teacher may make their own statement; the officer, whose laptop holds the whole school,
anyone's. How each figure is counted is in :mod:`visitapp.domain.workload`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from visitapp.domain import DomainError, term_label, term_of
from visitapp.domain.workload import WORK_LABELS, WorkloadStatement, workload_statement
from visitapp.services.base import ServiceContext, sheet_header
from visitapp.storage.models import (
    GrowthEntryRow, MentorNoteRow, RecordReviewRow, ReviewMeetingRow, StaffRow, StudentRow, VisitRow,
)
from visitapp.storage.records import entity_from_row

if TYPE_CHECKING:  # reportlab loads when something is printed
    from visitapp.printing import PrintReport, WorkloadJob


class WorkloadService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def _staff_name(self, s, staff_id: str) -> str:  # noqa: ANN001 - a Session
        ident = self.ctx.identity
        if staff_id == ident.staff_id:
            return ident.staff_name
        row = s.get(StaffRow, staff_id)
        if row is None:
            raise DomainError("staff.not_on_this_computer")
        return (row.facts or {}).get("name", "")

    def teachers(self) -> list[tuple[str, str]]:
        """(staff id, name) of the people whose statement this laptop can make: oneself, and
        for an officer every staff member it knows, by name."""
        ident = self.ctx.identity
        people = {ident.staff_id: ident.staff_name}
        if ident.is_officer:
            with self.ctx.profile.session() as s:
                for row in s.scalars(select(StaffRow).where(StaffRow.active.is_(True))):
                    people.setdefault(row.id, (row.facts or {}).get("name", ""))
        return sorted(people.items(), key=lambda p: (p[0] != ident.staff_id, p[1], p[0]))

    def terms(self) -> list[str]:
        """Terms with visits or meetings on this laptop, and the current one; newest first."""
        found = {term_of(self.ctx.now().date())}
        with self.ctx.profile.session() as s:
            for column in (VisitRow.term, ReviewMeetingRow.term):
                found.update(t for t in s.scalars(select(column).distinct()) if t)
        return sorted(found, reverse=True)

    def statement(self, staff_id: str | None = None, term: str | None = None) -> WorkloadStatement:
        """The statement of ``staff_id`` (default: me) for ``term`` (default: this term).
        Refuses a teacher asking for someone else's."""
        ident = self.ctx.identity
        staff_id = staff_id or ident.staff_id
        if staff_id != ident.staff_id and not ident.is_officer:
            raise DomainError("workload.own_only")
        term = term or term_of(self.ctx.now().date())
        with self.ctx.profile.session() as s:
            name = self._staff_name(s, staff_id)
            visits = [entity_from_row("visit", r) for r in s.scalars(
                select(VisitRow).where(VisitRow.author_id == staff_id, VisitRow.status == "final",
                                       VisitRow.amends_id.is_(None)))]
            notes = [entity_from_row("mentor_note", r) for r in s.scalars(
                select(MentorNoteRow).where(MentorNoteRow.author_id == staff_id))]
            entries = [entity_from_row("growth_entry", r) for r in s.scalars(
                select(GrowthEntryRow).where(GrowthEntryRow.author_id == staff_id, GrowthEntryRow.kind == "reward"))]
            meetings = [entity_from_row("review_meeting", r) for r in s.scalars(
                select(ReviewMeetingRow).where(ReviewMeetingRow.term == term))]
            reviews = [entity_from_row("record_review", r) for r in s.scalars(
                select(RecordReviewRow).where(RecordReviewRow.reviewer_id == staff_id))]
            wanted = {x.student_id for x in (*visits, *notes, *entries, *reviews)}
            students = {r.id: entity_from_row("student", r) for r in s.scalars(
                select(StudentRow).where(StudentRow.id.in_(wanted)))} if wanted else {}
        return workload_statement(staff_id, name, term, visits=visits, notes=notes, entries=entries,
                                  meetings=meetings, students=students, reviews=reviews)

    def job(self, staff_id: str | None = None, term: str | None = None) -> WorkloadJob:
        """The print job of a teacher's workload statement for a term; refuses what statement refuses."""
        from visitapp.printing import WorkloadJob

        st = self.statement(staff_id, term)
        header = sheet_header(self.ctx, st.term)
        ident = self.ctx.identity
        return WorkloadJob(st, header, ident.staff_name if ident.is_officer else "")

    def print(self, out: Path, staff_id: str | None = None, term: str | None = None) -> PrintReport:
        """Print the statement to a PDF (A4)."""
        from visitapp.printing import render_batch
        return render_batch([self.job(staff_id, term)], out)

    def current_fingerprint(self, record_id: str) -> tuple[str, str] | None:
        """(version, hash) of the statement printed under ``record_id`` (``<staff>:<term>``),
        as the records stand now; ``None`` when this laptop cannot make it."""
        staff_id, _, term = record_id.partition(":")
        try:
            fp = self.job(staff_id, term).fingerprint()
        except (DomainError, ValueError):
            return None
        return fp.version, fp.hash

    def export_xlsx(self, out: Path, staff_id: str | None = None, term: str | None = None) -> Path:
        """The statement as a workbook: a summary sheet and the list of counted work."""
        from openpyxl import Workbook
        from openpyxl.styles import Font

        st = self.statement(staff_id, term)
        wb = Workbook()
        summary = wb.active
        summary.title = "汇总"
        summary.append(["学校", self.ctx.identity.school_name])
        summary.append(["学期", term_label(st.term)])
        summary.append(["教师", st.staff_name])
        summary.append([])
        summary.append(["工作内容", "次数"])
        for _code, label, n in st.counts:
            summary.append([label, n])
        for row in (1, 2, 3, 5):
            summary.cell(row=row, column=1).font = Font(bold=True)
        summary.column_dimensions["A"].width = 18
        summary.column_dimensions["B"].width = 28
        items = wb.create_sheet("明细")
        items.append(["序号", "日期", "工作内容", "对象", "记录编号"])
        for i, it in enumerate(st.items, 1):
            items.append([i, it.day, WORK_LABELS[it.kind], it.about, it.record_id])
        for col, width in zip("ABCDE", (6, 12, 14, 24, 40)):
            items.column_dimensions[col].width = width
        out = Path(out)
        wb.save(out)
        return out
