"""Mentor notes (育人导师记录) for the students I mentor, including case discussions."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select

from visitapp.domain import MentorNote, MentorNoteKind, ValidationError
from visitapp.domain.errors import DomainError
from visitapp.services.base import ServiceContext, new_id
from visitapp.services.students import StudentListItem, StudentService
from visitapp.storage.models import AssignmentRow, MentorNoteRow, StudentRow as StudentTable
from visitapp.storage.records import entity_from_row


class MentorService:
    def __init__(self, ctx: ServiceContext, students: StudentService):
        self.ctx = ctx
        self.students = students

    def my_mentees(self) -> list[StudentListItem]:
        """The students I am mentor of this term, as list lines; refuses nothing."""
        me = self.ctx.identity.staff_id
        with self.ctx.profile.session() as s:
            ids = set(s.scalars(select(AssignmentRow.student_id).where(
                AssignmentRow.staff_id == me, AssignmentRow.role == "mentor", AssignmentRow.active.is_(True))))
        return [r for r in self.students.list_mine() if r.id in ids]

    def write_note(self, student_id: str, kind: MentorNoteKind | str, note_date: dt.date, text: str,
                   participants: tuple[str, ...] | list[str] = ()) -> MentorNote:
        """Write a mentor note about a student; refuses invalid fields (date, kind, empty text) and an unknown student."""
        now = self.ctx.now()
        note = MentorNote(id=new_id(), student_id=student_id, author_id=self.ctx.identity.staff_id,
                          kind=MentorNoteKind(kind), created_at=now, updated_at=now, note_date=note_date,
                          participants=tuple(participants), text=text)
        problems = note.problems(now.date())
        if problems:
            raise ValidationError(problems)
        with self.ctx.profile.session() as s, s.begin():
            if s.get(StudentTable, student_id) is None:
                raise DomainError("student.not_found")
            if not self.ctx.identity.is_officer and not s.scalar(select(AssignmentRow.id).where(
                    AssignmentRow.student_id == student_id, AssignmentRow.staff_id == self.ctx.identity.staff_id,
                    AssignmentRow.role == "mentor", AssignmentRow.active.is_(True))):
                raise DomainError("mentor.not_the_mentor")
            return self.ctx.write(s, note, "mentor_note.write", detail={"kind": note.kind.value})

    def edit_note(self, note_id: str, **changes: object) -> MentorNote:
        """Change my own mentor note; refuses another author's note, routing fields and (KeyError) an unknown note."""
        now = self.ctx.now()
        with self.ctx.profile.session() as s, s.begin():
            row = s.get(MentorNoteRow, note_id)
            if row is None:
                raise KeyError(f"没有这条导师记录：{note_id}")
            note: MentorNote = entity_from_row("mentor_note", row)
            if note.author_id != self.ctx.identity.staff_id:
                raise DomainError("mentor.not_the_author")
            illegal = set(changes) - {"note_date", "participants", "text", "kind"}
            if illegal:
                raise ValidationError({k: "field.not_editable" for k in illegal})
            if "participants" in changes:
                changes["participants"] = tuple(changes["participants"])  # type: ignore[arg-type]
            if "kind" in changes:
                changes["kind"] = MentorNoteKind(changes["kind"])
            note = dataclasses.replace(note, **changes, updated_at=now)  # type: ignore[arg-type]
            problems = note.problems(now.date())
            if problems:
                raise ValidationError(problems)
            return self.ctx.write(s, note, "mentor_note.edit", detail={"fields": sorted(changes)})

    def notes(self, student_id: str) -> list[MentorNote]:
        """A student's mentor notes this laptop may see, newest first; refuses nothing."""
        with self.ctx.profile.session() as s:
            notes = [entity_from_row("mentor_note", r) for r in
                     s.scalars(select(MentorNoteRow).where(MentorNoteRow.student_id == student_id))]
        return sorted(notes, key=lambda n: (n.note_date or dt.date.min, n.id), reverse=True)
