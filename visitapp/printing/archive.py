"""The long-term archive of a student whose retention has passed (学生资助长期档案, issue 15).

Before a student's records are erased from the school server and every laptop, the officer
prints them to one PDF that the school keeps (on paper or on its archive disk) for as long as
the rules on student-aid files require. It holds, in this order:

1. the archive's cover and contents: every record about the student field by field (the
   roster entry, assignments, visits, the growth file's traits and entries, mentor notes,
   determinations, objections, conflicts) and who entered or changed what and when — the same
   sections as the guardian's subject access copy, under the archive's own heading;
2. the aid growth file (资助成长档案) as it prints on its own;
3. every finalized visit's record sheet (家访记录表), amendments on their original's sheet.

Each part carries its own QR code, so a page can still be checked with ``verify-sheet`` for as
long as the records exist; the file's SHA-256 goes into the server's deletion record.

PDF/A: the open-source reportlab (5.x, what ships here) cannot write PDF/A (that is ReportLab
PLUS), and no validator (veraPDF) is available here to check a converted file, so the archive
is an ordinary PDF 1.4 with its font embedded and subset; see docs/decisions/lifecycle-*.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reportlab.platypus import Paragraph

from visitapp.printing.documents import GrowthFileJob, PrintReport, SheetHeader, SubjectAccessJob, VisitSheetJob
from visitapp.printing.fingerprint import Fingerprint, content_hash
from visitapp.printing.layout import STYLES, TextSink, Title, fmt_date, spacer, subtitle

__all__ = ["ArchiveJob", "render_archive", "file_sha256"]


@dataclass(frozen=True)
class ArchiveJob:
    """The archive's first part: everything about the student (``contents``, the same data as a
    subject access copy), with the day they left the roster and the end of the retention."""

    contents: SubjectAccessJob
    left_on: dt.date | None
    retention_ends: dt.date | None
    school_years: int

    @property
    def header(self) -> SheetHeader:
        return self.contents.header

    def fingerprint(self) -> Fingerprint:
        """Kind ``archive``, id the student's; the hash covers every record printed and the
        audit events about them, except those the archive and copies themselves add (making
        the archive must not outdate it; a changed record must)."""
        c = self.contents
        audit = [e.hash for e in c.audit if not e.action.startswith(("retention.", "subject_access."))]
        records = c.records()
        return Fingerprint("archive", c.student.id, f"{len(records)}.{len(audit)}",
                           content_hash({"student": c.student, "records": records, "audit": audit,
                                         "left_on": self.left_on, "ends": self.retention_ends}))

    def story(self, t: TextSink) -> list:
        from visitapp.printing.subject_access import subject_access_story

        st = self.contents.student
        cover = [
            spacer(4),
            Title(t.raw("学生资助长期档案"), size=19),
            subtitle(t, f"学校：{self.header.school}", f"学生：{st.name}（{st.class_name}）",
                     f"归档日期：{fmt_date(self.header.printed_at.date())}"),
            spacer(3),
            Paragraph(t(f"该学生于 {fmt_date(self.left_on) if self.left_on else '（日期不详）'} 起不在本校名册。"
                        f"按学校规定，其资料在离开名册后保存 {self.school_years} 个学年，保存期于 "
                        f"{fmt_date(self.retention_ends) if self.retention_ends else '（不详）'} 届满。"
                        "本档案收录学校在家访记录系统中保存的关于该学生的全部记录（家访记录、资助成长档案、"
                        "家庭经济困难认定等）及其填写与修改情况；归档后，这些记录将从学校服务器和所有教师的电脑上删除，"
                        "删除记录（删除了哪些类别、多少条、何时、由谁）由审计日志保存。本档案涉及未成年人及家庭隐私，"
                        "请按学生资助档案的规定妥善保管。"), STYLES["body"]),
        ]
        # the subject access sections, without that document's own title and guardian text
        return cover + subject_access_story(self.contents, t, head=False)


def render_archive(job: ArchiveJob, growth_file: GrowthFileJob, visit_sheets: Sequence[VisitSheetJob],
                   out: Path) -> PrintReport:
    """The whole archive in one PDF at ``out``."""
    from visitapp.printing.render import render_batch

    return render_batch([job, growth_file, *visit_sheets], out)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
