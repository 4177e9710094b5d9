"""Growth file use cases: profile fields (one record per student and field) and append-only
growth entries (rewards, aid, psychological support, activities)."""

from __future__ import annotations

from sqlalchemy import select

from visitapp.domain import (
    GrowthEntry, GrowthKind, GrowthProfileField, ProfileField, ValidationError, profile_field_id,
)
from visitapp.domain.errors import DomainError
from visitapp.services.base import ServiceContext, new_id
from visitapp.storage.models import GrowthEntryRow, GrowthProfileFieldRow, StudentRow
from visitapp.storage.records import entity_from_row


class GrowthService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def profile(self, student_id: str) -> dict[ProfileField, GrowthProfileField]:
        """A student's growth-file fields, by field; refuses nothing (missing fields are absent)."""
        with self.ctx.profile.session() as s:
            rows = s.scalars(select(GrowthProfileFieldRow).where(GrowthProfileFieldRow.student_id == student_id))
            found = {ProfileField(r.field): entity_from_row("growth_profile_field", r) for r in rows}
        return {f: found.get(f, GrowthProfileField(id=profile_field_id(student_id, f), student_id=student_id,
                                                   field=f)) for f in ProfileField}

    def set_profile_field(self, student_id: str, field: ProfileField | str, value: str) -> GrowthProfileField:
        """Write one growth-file field; refuses a value over 20,000 characters and an unknown student."""
        field = ProfileField(field)
        if len(value) > 20_000:
            raise ValidationError({"value": "field.too_long"})
        with self.ctx.profile.session() as s, s.begin():
            if s.get(StudentRow, student_id) is None:
                raise DomainError("student.not_found")
            record = GrowthProfileField(id=profile_field_id(student_id, field), student_id=student_id,
                                        field=field, value=value, updated_by=self.ctx.identity.staff_id,
                                        updated_at=self.ctx.now())
            return self.ctx.write(s, record, "growth_profile.edit", detail={"field": field.value})

    def add_entry(self, student_id: str, kind: GrowthKind | str, **fields: object) -> GrowthEntry:
        """Add a growth entry of a kind (reward, aid, support, activity); refuses the kind's invalid fields and an unknown student."""
        now = self.ctx.now()
        entry = GrowthEntry(id=new_id(), student_id=student_id, kind=GrowthKind(kind),
                            author_id=self.ctx.identity.staff_id, created_at=now, **fields)  # type: ignore[arg-type]
        problems = entry.problems(now.date())
        if problems:
            raise ValidationError(problems)
        with self.ctx.profile.session() as s, s.begin():
            if s.get(StudentRow, student_id) is None:
                raise DomainError("student.not_found")
            return self.ctx.write(s, entry, "growth_entry.add", detail={"kind": entry.kind.value})

    def entries(self, student_id: str) -> list[GrowthEntry]:
        """A student's growth entries, oldest first; refuses nothing."""
        with self.ctx.profile.session() as s:
            rows = s.scalars(select(GrowthEntryRow).where(GrowthEntryRow.student_id == student_id))
            entries = [entity_from_row("growth_entry", r) for r in rows]
        return sorted(entries, key=lambda e: (e.entry_date is not None, e.entry_date), reverse=True)
