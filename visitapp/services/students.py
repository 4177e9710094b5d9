"""My students: the list with visit status and coverage, one student, and a student's timeline."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import case, select

from visitapp.domain import (
    GrowthEntry, MentorNote, Student, Visit, VisitMode, VisitStatus, label_zh, term_of,
)
from visitapp.domain.reports import class_sort_key
from visitapp.services.base import ServiceContext
from visitapp.storage.encrypted import cipher_of, decrypt_value
from visitapp.storage.models import (
    AssignmentRow, GrowthEntryRow, MentorNoteRow, StaffRow, StudentRow as StudentTable, VisitRow,
)
from visitapp.storage.records import entity_from_row

NOT_VISITED, DRAFT, VISITED = "not_visited", "draft", "visited"
REMOTE = "remote"  # finalized phone or video visits only: shown as such, not 已走访 (not on site)


@dataclass(frozen=True)
class StudentListItem:
    """One line of the "my students" list: plain, frozen data for screens and scripts."""

    id: str
    name: str
    class_name: str
    stage: str
    hardship_categories: tuple[str, ...]
    key_support: bool
    auto_eligible: bool
    visit_status: str
    mentor_names: tuple[str, ...]
    has_reward: bool
    masked_id: str
    student_no: str = ""
    on_roster: bool = True  # False: the platform's roster no longer has them; their records stay


@dataclass(frozen=True)
class VisitProgress:
    """How many of my students this term had an on-site visit (the school-wide figure is
    :class:`visitapp.domain.reports.Coverage`)."""

    visited: int   # finalized on-site visits only (the rule of 先家访后认定)
    total: int
    term: str
    remote: int = 0  # students with phone or video visits only: shown, not counted

    @property
    def label(self) -> str:
        extra = f"（另有 {self.remote} 人仅电话/视频家访，未实地走访）" if self.remote else ""
        return f"本学期已走访 {self.visited}/{self.total}{extra}"


@dataclass(frozen=True)
class TimelineItem:
    kind: str          # visit | reward | aid | psych_support | activity | mentor_note
    date: dt.date | None
    title: str
    record_id: str
    detail: str = ""


class StudentService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def current_term(self) -> str:
        """The school term of today; refuses nothing."""
        return term_of(self.ctx.now().date())

    def _scope(self, query):  # noqa: ANN001, ANN202
        """Teachers see the students assigned to them; officers the whole school."""
        ident = self.ctx.identity
        if ident.is_officer:
            return query
        mine = select(AssignmentRow.student_id).where(AssignmentRow.staff_id == ident.staff_id,
                                                      AssignmentRow.active.is_(True))
        return query.where(StudentTable.id.in_(mine))

    def list_mine(self, term: str | None = None, limit: int | None = None, offset: int = 0) -> list[StudentListItem]:
        """My students (officers: the whole school), ordered by class and student number.

        Only the page asked for is decrypted, so the first screen of a large profile is quick.
        The whole list is read on every start (5,000 students at a large school), so it is
        built in one pass over plain columns: no ORM objects, no intermediate records."""
        term = term or self.current_term()
        with self.ctx.profile.session() as s:
            # Plain columns and the tier-B envelope only: the tier-C column (address, phone) stays
            # sealed. The tier-B facts of a student are about 250 bytes, most of them what the
            # list shows, so one small envelope per student is opened (see the README).
            # classes in school order (一年级 before 三年级 before 七年级 before 高一), not by code
            # point (七 sorts before 三); the few class names are ranked here so SQL can page
            class_names = s.scalars(self._scope(select(StudentTable.class_name).distinct())).all()
            ranked = sorted(class_names, key=class_sort_key)
            class_rank = case({name: i for i, name in enumerate(ranked)}, value=StudentTable.class_name,
                              else_=len(ranked)) if ranked else StudentTable.class_name
            query = self._scope(select(StudentTable.id, StudentTable.class_name, StudentTable.stage,
                                       StudentTable.student_no, StudentTable.on_roster,
                                       StudentTable.facts)).order_by(
                class_rank, StudentTable.student_no, StudentTable.id)
            if limit:
                query = query.offset(offset).limit(limit)
            cipher = cipher_of(s)
            listed = s.execute(query).all()
            ids = [row[0] for row in listed]
            status = self._visit_status(s, term, ids)
            mentors = self._mentor_names(s, ids)
            rewarded = set(_in_chunks(s, select(GrowthEntryRow.student_id).where(GrowthEntryRow.kind == "reward"),
                                      GrowthEntryRow.student_id, ids, scalars=True))
            result = []
            append = result.append
            for sid, class_name, stage, student_no, on_roster, sealed in listed:
                facts = (decrypt_value(cipher, "students", sid, "facts", sealed.envelope) if sealed else None) or {}
                append(StudentListItem(
                    id=sid, name=facts.get("name", ""), class_name=class_name, stage=stage,
                    hardship_categories=tuple(facts.get("hardship_categories", ())),
                    key_support=bool(facts.get("key_support")), auto_eligible=bool(facts.get("auto_eligible")),
                    visit_status=status.get(sid, NOT_VISITED), mentor_names=tuple(mentors.get(sid, ())),
                    has_reward=sid in rewarded, masked_id=facts.get("masked_id", ""),
                    student_no=student_no, on_roster=on_roster is not False,
                ))
            return result

    def _visit_status(self, session, term: str, ids: list[str]) -> dict[str, str]:  # noqa: ANN001
        """已走访 is a finalized on-site visit of the term (:func:`visitapp.domain.rules.counts_as_visit`,
        the rule of 先家访后认定); a student with phone or video visits only is ``remote``."""
        status: dict[str, str] = {}
        visits = list(_in_chunks(session, select(VisitRow.student_id, VisitRow.id, VisitRow.status, VisitRow.term,
                                                 VisitRow.amends_id, VisitRow.facts), VisitRow.student_id, ids))
        superseded = {amends for _s, _i, st, _t, amends, _f in visits if amends and st == "final"}
        cipher = cipher_of(session)
        for student_id, visit_id, st, visit_term, _amends, sealed in visits:
            if st == "final" and visit_term == term and visit_id not in superseded:
                # only the final visits of the term open their small facts envelope, for the mode
                facts = (decrypt_value(cipher, "visits", visit_id, "facts", sealed.envelope) if sealed else None) or {}
                if facts.get("mode") == str(VisitMode.ON_SITE):
                    status[student_id] = VISITED
                elif status.get(student_id) != VISITED:
                    status[student_id] = REMOTE
            elif st == "draft" and visit_term in (term, "") and status.get(student_id) not in (VISITED, REMOTE):
                status[student_id] = DRAFT  # a draft not yet dated has no term: still begun
        return status

    def _mentor_names(self, session, ids: list[str]) -> dict[str, list[str]]:  # noqa: ANN001
        pairs = list(_in_chunks(session, select(AssignmentRow.student_id, AssignmentRow.staff_id).where(
            AssignmentRow.role == "mentor", AssignmentRow.active.is_(True)), AssignmentRow.student_id, ids))
        staff_ids = sorted({staff_id for _student, staff_id in pairs})
        cipher = cipher_of(session)
        # Only the names: columns and one envelope per mentor, not ORM rows opened whole.
        names = {staff_id: ((decrypt_value(cipher, "staff", staff_id, "facts", sealed.envelope) if sealed else None)
                            or {}).get("name", "")
                 for staff_id, sealed in _in_chunks(session, select(StaffRow.id, StaffRow.facts), StaffRow.id,
                                                    staff_ids)}
        mentors: dict[str, list[str]] = defaultdict(list)
        for student_id, staff_id in pairs:
            mentors[student_id].append(names.get(staff_id, staff_id[:8]))
        return mentors

    def coverage(self, term: str | None = None) -> VisitProgress:
        """How many of my students had an on-site visit this term; refuses nothing."""
        term = term or self.current_term()
        # the roster's students: one the platform dropped stays listed (their records stay)
        # but is no longer someone to visit, as in the officer's coverage report
        rows = [r for r in self.list_mine(term) if r.on_roster]
        return VisitProgress(sum(1 for r in rows if r.visit_status == VISITED), len(rows), term,
                        sum(1 for r in rows if r.visit_status == REMOTE))

    def get(self, student_id: str) -> Student:
        """One student; refuses (KeyError) an unknown id."""
        with self.ctx.profile.session() as s:
            row = s.get(StudentTable, student_id)
            if row is None:
                raise KeyError(f"没有这个学生：{student_id}")
            return entity_from_row("student", row)

    def timeline(self, student_id: str) -> list[TimelineItem]:
        """Visits, growth entries and mentor notes of a student, newest first."""
        items: list[TimelineItem] = []
        with self.ctx.profile.session() as s:
            for row in s.scalars(select(VisitRow).where(VisitRow.student_id == student_id)):
                v: Visit = entity_from_row("visit", row)
                if v.status == VisitStatus.DRAFT and v.author_id != self.ctx.identity.staff_id:
                    continue
                title = f"{label_zh(v.mode) or '家访'}（{label_zh(v.status)}）"
                items.append(TimelineItem("visit", v.visit_date, title, v.id, ", ".join(v.visitors)))
            for row in s.scalars(select(GrowthEntryRow).where(GrowthEntryRow.student_id == student_id)):
                e: GrowthEntry = entity_from_row("growth_entry", row)
                sub = label_zh(e.reward_kind or e.aid_kind) if (e.reward_kind or e.aid_kind) else ""
                items.append(TimelineItem(e.kind.value, e.entry_date, e.title, e.id,
                                          "·".join(x for x in (label_zh(e.kind), sub, e.programme) if x)))
            for row in s.scalars(select(MentorNoteRow).where(MentorNoteRow.student_id == student_id)):
                n: MentorNote = entity_from_row("mentor_note", row)
                items.append(TimelineItem("mentor_note", n.note_date, label_zh(n.kind), n.id,
                                          n.text[:60]))
        items.sort(key=lambda i: (i.date or dt.date.min, i.record_id), reverse=True)
        return items


def _in_chunks(session, query, column, ids: list[str], scalars: bool = False, size: int = 500):  # noqa: ANN001, ANN201
    """Run ``query`` restricted to ``column IN ids``, a chunk at a time (SQLite's variable limit).

    For long lists one scan filtered here beats many IN queries."""
    if len(ids) > 4 * size:
        wanted = set(ids)
        rows = session.scalars(query) if scalars else session.execute(query)
        if scalars:
            yield from (r for r in rows if (getattr(r, column.key) if hasattr(r, "__table__") else r) in wanted)
        else:
            index = list(query.selected_columns).index(column) if column in list(query.selected_columns) else 0
            yield from (r for r in rows if r[index] in wanted)
        return
    for start in range(0, len(ids), size):
        chunk = query.where(column.in_(ids[start:start + size]))
        yield from (session.scalars(chunk) if scalars else session.execute(chunk))
