"""The plain inputs and outputs of printing: a sheet header, print jobs and the print report.

Printing never touches a database or a screen: callers (the CLI, the desktop client) load the
domain entities, wrap them in these dataclasses and hand them to :mod:`visitapp.printing.render`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from visitapp.domain.entities import (
    Application, Assignment, AuditEvent, Conflict, Determination, GrowthEntry, GrowthProfileField, MentorNote,
    Objection, PublicNotice, RecordReview, Student, Visit,
)
from visitapp.domain.workload import WorkloadStatement
from visitapp.printing.fingerprint import (
    content_hash,
    Fingerprint, growth_file_fingerprint, notice_fingerprint, subject_access_fingerprint, visit_fingerprint,
    workload_fingerprint,
)

__all__ = [
    "SheetHeader", "VisitSheetJob", "GrowthFileJob", "PublicNoticeJob", "WorkloadJob", "SubjectAccessJob", "PrintJob",
    "RecordPages", "PrintReport", "PrintCancelled",
]


CONFIDENTIAL = "内部资料 注意保密"


@dataclass(frozen=True)
class SheetHeader:
    """What every page says about where and when it was printed.

    ``school`` is the school's name, ``term_label`` e.g. ``2026-2027学年第一学期``
    (:func:`visitapp.domain.term_label`), ``printed_by`` the name of the person printing.
    """

    school: str
    term_label: str
    printed_at: dt.datetime
    printed_by: str
    # the boxed mark at the top left of every page; "" for a document meant to be posted
    # (the public notice), which must not tell the families reading it that it is secret
    mark: str = CONFIDENTIAL


@dataclass(frozen=True)
class VisitSheetJob:
    """A visit record sheet (家访记录表). ``amendments``: the records that amend this visit.

    ``visit.visitors`` are printed as given: pass names, not staff ids. ``reviewer`` is the
    name printed in the reviewer's signature block (blank line when empty).
    """

    visit: Visit
    student: Student
    header: SheetHeader
    amendments: Sequence[Visit] = ()
    reviewer: str = ""
    reviewed_on: str = ""  # printed in the 审核人 line's date cell (issue 15); blank: written by hand

    def fingerprint(self) -> Fingerprint:
        """Kind, id, version and content hash of what this sheet prints."""
        fp = visit_fingerprint(self.visit, self.student, self.amendments)
        if self.reviewer or self.reviewed_on:  # the 审核人 line is printed content too (issue 15)
            return Fingerprint(fp.kind, fp.record_id, fp.version,
                               content_hash({"sheet": fp.hash, "reviewer": self.reviewer, "on": self.reviewed_on}))
        return fp


@dataclass(frozen=True)
class GrowthFileJob:
    """A student's aid growth file (资助成长档案): profile, visits, entries and mentor notes.

    ``profile`` maps a :class:`~visitapp.domain.ProfileField` code to the field record or its
    text. ``staff_names`` (optional) turns author ids of mentor notes into names.
    """

    student: Student
    header: SheetHeader
    profile: Mapping[str, GrowthProfileField | str] = field(default_factory=dict)
    visits: Sequence[Visit] = ()
    entries: Sequence[GrowthEntry] = ()
    notes: Sequence[MentorNote] = ()
    staff_names: Mapping[str, str] = field(default_factory=dict)

    def fingerprint(self) -> Fingerprint:
        """Kind, id (the student's), version and content hash of what this file prints."""
        return growth_file_fingerprint(self.student, self.profile, self.visits, self.entries,
                                       self.notes)


@dataclass(frozen=True)
class PublicNoticeJob:
    """A public notice list (公示名单): masked names, classes and levels only."""

    notice: PublicNotice
    rows: Sequence[tuple[Student, Determination]]
    header: SheetHeader
    # whom a family with an objection turns to (the officer who opened the notice)
    contact: str = ""

    def fingerprint(self) -> Fingerprint:
        """Kind, id, version and content hash of what this notice prints."""
        return notice_fingerprint(self.notice, self.rows)


@dataclass(frozen=True)
class WorkloadJob:
    """A teacher's aid workload statement for a term (工作量统计表), for 工作量认定 and 职称评定:
    counts and the list of counted work, students masked; the officer signs it."""

    statement: WorkloadStatement
    header: SheetHeader
    school_officer: str = ""  # printed under the signature line, when known

    def fingerprint(self) -> Fingerprint:
        """Kind ``workload``, id ``<staff id>:<term>``, the counts as version."""
        return workload_fingerprint(self.statement)


@dataclass(frozen=True)
class SubjectAccessJob:
    """Everything held about one student, for the guardian (个人信息查阅副本)."""

    student: Student
    header: SheetHeader
    assignments: Sequence[Assignment] = ()
    visits: Sequence[Visit] = ()
    profile: Sequence[GrowthProfileField] = ()
    entries: Sequence[GrowthEntry] = ()
    notes: Sequence[MentorNote] = ()
    determinations: Sequence[Determination] = ()
    objections: Sequence[Objection] = ()
    conflicts: Sequence[Conflict] = ()
    applications: Sequence[Application] = ()
    reviews: Sequence[RecordReview] = ()
    audit: Sequence[AuditEvent] = ()
    staff_names: Mapping[str, str] = field(default_factory=dict)

    def records(self) -> list:
        return [*self.assignments, *self.visits, *self.profile, *self.entries, *self.notes,
                *self.determinations, *self.objections, *self.conflicts, *self.applications, *self.reviews]

    def fingerprint(self) -> Fingerprint:
        """Kind ``subject_access``, id = the student's. Exports of the copy itself are left
        out of it, so making the copy (which is audited) does not outdate the copy."""
        audit = [e.hash for e in self.audit if e.action != "subject_access.export"]
        return subject_access_fingerprint(self.student, self.records(), audit)


PrintJob = VisitSheetJob | GrowthFileJob | PublicNoticeJob | WorkloadJob | SubjectAccessJob


@dataclass(frozen=True)
class RecordPages:
    """Where one record's document sits in the PDF (pages are 1-based, inclusive)."""

    kind: str
    record_id: str
    version: str
    hash: str
    first_page: int
    page_count: int


@dataclass
class PrintReport:
    """What was printed: pages, records and the characters the font could not draw.

    ``missing_glyphs`` holds every character that was printed as the placeholder 〓 instead;
    a caller should tell the user (a name with such a character must be written by hand).
    """

    pages: int = 0
    records: list[RecordPages] = field(default_factory=list)
    missing_glyphs: set[str] = field(default_factory=set)
    cancelled: bool = False
    path: Path | None = None

    @property
    def record_ids(self) -> list[str]:
        """The ids of the records printed, in page order."""
        return [r.record_id for r in self.records]

    def summary_zh(self) -> str:
        """One sentence for the user."""
        if self.cancelled:
            return f"打印已取消，未生成文件（已排版 {len(self.records)} 份）。"
        text = f"已生成 {len(self.records)} 份文档，共 {self.pages} 页。"
        if self.missing_glyphs:
            chars = "".join(sorted(self.missing_glyphs))
            text += f"字库缺少以下字符，已以“〓”代替，请手工补写：{chars}"
        return text


class PrintCancelled(Exception):
    """Raised inside a build when the caller's cancel event is set."""
