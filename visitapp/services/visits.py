"""Visit use cases: draft, edit, finalize, amend, void, delete a draft. Each is one
transaction that writes the record, its outbox row and its audit event."""

from __future__ import annotations

from sqlalchemy import select

from visitapp.domain import Visit, VisitStatus, rules
from visitapp.domain.errors import DomainError
from visitapp.services.base import ServiceContext, new_id
from visitapp.storage.models import StudentRow, UnopenedRow, VisitRow
from visitapp.storage.records import entity_from_row


class VisitService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def _load(self, session, visit_id: str) -> Visit:  # noqa: ANN001
        row = session.get(VisitRow, visit_id)
        if row is None:
            raise KeyError(f"没有这条家访记录：{visit_id}")
        return entity_from_row("visit", row)

    def get(self, visit_id: str) -> Visit:
        """One visit record; refuses (KeyError) an unknown id."""
        with self.ctx.profile.session() as s:
            return self._load(s, visit_id)

    def is_unopened(self, visit_id: str) -> bool:
        """Whether this laptop holds the visit without its tier C (the family's story): it was
        sealed to readers this laptop is not yet one of (shown as 待资助专干授权后可查看; it
        opens at the sync after the officer shares the student's key)."""
        with self.ctx.profile.session() as s:
            return s.get(UnopenedRow, UnopenedRow.key("visit", visit_id)) is not None

    def for_student(self, student_id: str) -> list[Visit]:
        """The student's visits I may see (others' drafts are not mine), newest first."""
        me = self.ctx.identity.staff_id
        with self.ctx.profile.session() as s:
            visits = [entity_from_row("visit", r) for r in
                      s.scalars(select(VisitRow).where(VisitRow.student_id == student_id))]
        visits = [v for v in visits if v.status != VisitStatus.DRAFT or v.author_id == me]
        return sorted(visits, key=lambda v: (v.visit_date is not None, v.visit_date, v.created_at or 0), reverse=True)

    def effective_status(self, visit_id: str) -> VisitStatus:
        """A visit's status counting its corrections (amended when a final correction supersedes it); refuses an unknown id."""
        with self.ctx.profile.session() as s:
            visit = self._load(s, visit_id)
            siblings = [entity_from_row("visit", r) for r in
                        s.scalars(select(VisitRow).where(VisitRow.amends_id == visit_id))]
        return rules.effective_status(visit, siblings)

    def create_draft(self, student_id: str) -> Visit:
        """A new draft visit of a student; refuses an unknown student."""
        ident = self.ctx.identity
        now = self.ctx.now()
        with self.ctx.profile.session() as s, s.begin():
            if s.get(StudentRow, student_id) is None:
                raise DomainError("visit.student_not_found")
            visit = Visit(id=new_id(), student_id=student_id, author_id=ident.staff_id,
                          device_id=ident.device_id, created_at=now, updated_at=now,
                          visitors=(ident.staff_name,) if ident.staff_name else ())
            return self.ctx.write(s, visit, "visit.create")

    def save_draft(self, visit_id: str, **changes: object) -> Visit:
        """Save changes to a draft; refuses a finalized record, routing fields and bad values (a date in the future, an income out of range)."""
        with self.ctx.profile.session() as s, s.begin():
            visit = rules.edit_visit(self._load(s, visit_id), self.ctx.now(), **changes)
            return self.ctx.write(s, visit, "visit.edit", detail={"fields": sorted(changes)})

    def finalize(self, visit_id: str) -> Visit:
        """Make a draft a final, immutable record; refuses anything but a draft and a draft missing date, mode, visitors, consent or narrative."""
        with self.ctx.profile.session() as s, s.begin():
            visit = rules.finalize_visit(self._load(s, visit_id), self.ctx.now())
            return self.ctx.write(s, visit, "visit.finalize")

    def amend(self, visit_id: str, reason: str) -> Visit:
        """Start a correction of a final visit, with its reason; refuses a non-final visit, an empty reason and a second open correction."""
        ident = self.ctx.identity
        with self.ctx.profile.session() as s, s.begin():
            original = self._load(s, visit_id)
            if s.get(UnopenedRow, UnopenedRow.key("visit", visit_id)) is not None:
                # a correction copies the record's story: from an unopened record it would copy none
                raise DomainError("visit.unopened_not_amended")
            pending = s.scalar(select(VisitRow.id).where(VisitRow.amends_id == visit_id,
                                                         VisitRow.status == "draft"))
            if pending:
                raise DomainError("visit.open_amendment")
            amendment = rules.amend_visit(original, reason, new_id(), ident.staff_id,
                                          ident.device_id, self.ctx.now())
            return self.ctx.write(s, amendment, "visit.amend", detail={"amends": visit_id})

    def void(self, visit_id: str, reason: str) -> Visit:
        """Void a final visit, with its reason; refuses a draft, an already voided visit and an empty reason."""
        with self.ctx.profile.session() as s, s.begin():
            visit = rules.void_visit(self._load(s, visit_id), reason, self.ctx.now())
            return self.ctx.write(s, visit, "visit.void")

    def delete_draft(self, visit_id: str) -> None:
        """Delete a draft; refuses a finalized record (void it instead)."""
        with self.ctx.profile.session() as s, s.begin():
            visit = self._load(s, visit_id)
            rules.ensure_deletable(visit)
            self.ctx.write(s, visit, "visit.delete_draft", op="delete")
