"""Assignments of visitors and mentors (officer), and the school's staff list."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

from visitapp.domain import Assignment, AssignmentRole, Staff, term_of
from visitapp.domain.errors import DomainError
from visitapp.services.base import ServiceContext, new_id
from visitapp.storage.models import AssignmentRow, StaffRow, StudentRow
from visitapp.storage.records import entity_from_row


class AssignmentService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def assign(self, student_id: str, staff_id: str, role: AssignmentRole | str, term: str | None = None) -> Assignment:
        """Make a teacher a student's visitor or mentor for a term; refuses anyone but the officer, an unknown student or teacher."""
        if not self.ctx.identity.is_officer:
            raise DomainError("officer.assign_only")
        role = AssignmentRole(role)
        term = term or term_of(self.ctx.now().date())
        with self.ctx.profile.session() as s, s.begin():
            if s.get(StudentRow, student_id) is None:
                raise DomainError("student.not_found")
            if s.get(StaffRow, staff_id) is None:
                raise DomainError("staff.not_found")
            existing = s.scalar(select(AssignmentRow.id).where(
                AssignmentRow.student_id == student_id, AssignmentRow.staff_id == staff_id,
                AssignmentRow.role == role.value, AssignmentRow.term == term, AssignmentRow.active.is_(True)))
            if existing:
                return entity_from_row("assignment", s.get(AssignmentRow, existing))
            assignment = Assignment(id=new_id(), student_id=student_id, staff_id=staff_id, role=role, term=term,
                                    assigned_by=self.ctx.identity.staff_id, created_at=self.ctx.now())
            return self.ctx.write(s, assignment, "assignment.create", detail={"role": role.value})

    def end(self, assignment_id: str) -> Assignment:
        """End an assignment (the laptop drops the student at its next sync); refuses anyone but the officer and an unknown assignment."""
        if not self.ctx.identity.is_officer:
            raise DomainError("officer.end_assignment_only")
        with self.ctx.profile.session() as s, s.begin():
            row = s.get(AssignmentRow, assignment_id)
            if row is None:
                raise DomainError("assignment.not_found")
            assignment = dataclasses.replace(entity_from_row("assignment", row), active=False)
            return self.ctx.write(s, assignment, "assignment.end")

    def list(self, term: str | None = None) -> list[Assignment]:
        """The assignments of a term (default: the current one); refuses nothing."""
        with self.ctx.profile.session() as s:
            q = select(AssignmentRow).where(AssignmentRow.active.is_(True))
            if term:
                q = q.where(AssignmentRow.term == term)
            return [entity_from_row("assignment", r) for r in s.scalars(q)]


class StaffService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def list(self) -> list[Staff]:
        """The school's staff known to this laptop; refuses nothing."""
        with self.ctx.profile.session() as s:
            staff = [entity_from_row("staff", r) for r in s.scalars(select(StaffRow))]
        return sorted(staff, key=lambda x: (x.role != "officer", x.name))
