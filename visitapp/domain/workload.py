"""A teacher's aid workload statement for one term (工作量认定, plan §7).

The plan asks schools to count the aid work teachers do — home visits, mentoring, case
discussions, growth records, collective reviews — toward their workload and their
professional title (职称评定). Everything needed is already in the records; this module only
counts it, by rules written down once here (and in the statement's own captions):

- 实地家访: finalized on-site visits (voided ones are not counted) that the
  teacher authored in the term. An amendment is a correction of a visit, not a second visit,
  so only originals count; a visit later amended still counts once.
- 电话/视频家访: the same for phone and video visits, counted apart: the plan's 家访 means
  on-site (实地走访), so these never add to the on-site figure.
- 导师记录: mentor notes (regular and psychological) the teacher wrote in the term; conflict
  copies are the same note written twice and are not counted.
- 常态化研讨: mentor notes of kind case discussion (the plan's sixth coverage).
- 成长奖励登记: rewards the teacher entered in growth files (not those from the platform).
- 参加集体评议: review meetings of the term the teacher sat on as a reviewer.
- 记录审核: reviews of finalized visits and growth entries (谁审核谁负责) the teacher made in the
  term, as the officer or as a grade leader named reviewer; 已审核 and 退回 both count (a return
  is work done too).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from visitapp.domain.entities import GrowthEntry, MentorNote, RecordReview, ReviewMeeting, Student, Visit, mask_name
from visitapp.domain.enums import GrowthKind, MentorNoteKind, VisitMode, VisitStatus
from visitapp.domain.terms import term_bounds, term_of

__all__ = ["WORK_KINDS", "WorkItem", "WorkloadStatement", "workload_statement"]

# (code, label) in the order the statement prints them
WORK_KINDS: tuple[tuple[str, str], ...] = (
    ("on_site_visit", "实地家访"),
    ("other_visit", "电话/视频家访"),
    ("mentor_note", "导师记录"),
    ("case_discussion", "常态化研讨"),
    ("reward", "成长奖励登记"),
    ("review", "参加集体评议"),
    ("record_review", "记录审核"),
)
WORK_LABELS = dict(WORK_KINDS)


@dataclass(frozen=True)
class WorkItem:
    """One counted piece of work. ``about`` names the student masked (张*明) and their class,
    or the meeting, so the statement can go to a committee outside the school."""

    kind: str
    day: dt.date | None
    record_id: str
    about: str


@dataclass(frozen=True)
class WorkloadStatement:
    staff_id: str
    staff_name: str
    term: str
    items: tuple[WorkItem, ...]

    def count(self, kind: str) -> int:
        return sum(1 for it in self.items if it.kind == kind)

    @property
    def counts(self) -> tuple[tuple[str, str, int], ...]:
        """(code, label, count) for every kind, zeros included."""
        return tuple((code, label, self.count(code)) for code, label in WORK_KINDS)


def _in_term(day: dt.date | None, term: str, first: dt.date, last: dt.date) -> bool:
    return day is not None and first <= day <= last


def workload_statement(staff_id: str, staff_name: str, term: str, *, visits: Iterable[Visit],
                       notes: Iterable[MentorNote], entries: Iterable[GrowthEntry],
                       meetings: Iterable[ReviewMeeting], students: Mapping[str, Student],
                       reviews: Iterable[RecordReview] = ()) -> WorkloadStatement:
    """Count ``staff_id``'s aid work in ``term`` from the records given (any records may be
    passed: those of other people, other terms, drafts and copies are left out here)."""
    first, last = term_bounds(term)

    def about(student_id: str) -> str:
        st = students.get(student_id)
        return f"{mask_name(st.name)}（{st.class_name}）" if st is not None else "（名册外学生）"

    items: list[WorkItem] = []
    for v in visits:
        if v.author_id != staff_id or v.amends_id or v.status != VisitStatus.FINAL:
            continue
        if (v.term or (term_of(v.visit_date) if v.visit_date else "")) != term:
            continue
        kind = "on_site_visit" if v.mode == VisitMode.ON_SITE else "other_visit"
        items.append(WorkItem(kind, v.visit_date, v.id, about(v.student_id)))
    for n in notes:
        if n.author_id != staff_id or n.conflict_of or not _in_term(n.note_date, term, first, last):
            continue
        kind = "case_discussion" if n.kind == MentorNoteKind.CASE_DISCUSSION else "mentor_note"
        items.append(WorkItem(kind, n.note_date, n.id, about(n.student_id)))
    for e in entries:
        if (e.kind != GrowthKind.REWARD or e.author_id != staff_id or e.source != "school"
                or not _in_term(e.entry_date, term, first, last)):
            continue
        items.append(WorkItem("reward", e.entry_date, e.id, about(e.student_id)))
    for m in meetings:
        if m.term != term or staff_id not in m.reviewers:
            continue
        items.append(WorkItem("review", m.meeting_date, m.id, "集体评议"))
    for r in reviews:
        if r.reviewer_id != staff_id or not _in_term(r.reviewed_on, term, first, last):
            continue
        items.append(WorkItem("record_review", r.reviewed_on, r.id, about(r.student_id)))
    order = {code: i for i, (code, _label) in enumerate(WORK_KINDS)}
    items.sort(key=lambda it: (order[it.kind], it.day or dt.date.min, it.record_id))
    return WorkloadStatement(staff_id, staff_name, term, tuple(items))
