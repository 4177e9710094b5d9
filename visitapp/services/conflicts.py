"""Conflicts: both values readable until a person chooses one or merges them, with a reason.
The resolution is written back to the record it concerns, audited, and synced."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

from visitapp.domain import Conflict, ConflictStatus, GrowthProfileField, MentorNote, ProfileField
from visitapp.domain.errors import DomainError
from visitapp.domain.rules import require_reason
from visitapp.services.base import ServiceContext
from visitapp.storage.models import ConflictRow, GrowthProfileFieldRow, MentorNoteRow
from visitapp.storage.records import entity_from_row


class ConflictService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def list_open(self) -> list[Conflict]:
        """Conflicts still waiting for a person to choose or merge; refuses nothing."""
        with self.ctx.profile.session() as s:
            return [entity_from_row("conflict", r) for r in
                    s.scalars(select(ConflictRow).where(ConflictRow.status == "open"))]

    def get(self, conflict_id: str) -> Conflict:
        """One conflict; refuses (KeyError) an unknown id."""
        with self.ctx.profile.session() as s:
            row = s.get(ConflictRow, conflict_id)
            if row is None:
                raise KeyError(f"没有这条冲突记录：{conflict_id}")
            return entity_from_row("conflict", row)

    def resolve(self, conflict_id: str, value: object, reason: str) -> Conflict:
        """Keep ``value`` (one side, or a hand-made merge) and close the conflict."""
        reason = require_reason(reason, "reason.conflict_missing")
        now = self.ctx.now()
        me = self.ctx.identity.staff_id
        with self.ctx.profile.session() as s, s.begin():
            row = s.get(ConflictRow, conflict_id)
            if row is None:
                raise DomainError("conflict.not_found")
            conflict: Conflict = entity_from_row("conflict", row)
            if conflict.status == ConflictStatus.RESOLVED:
                raise DomainError("conflict.already_resolved")
            if conflict.record_kind == "growth_profile_field":
                field_row = s.get(GrowthProfileFieldRow, conflict.record_id)
                if field_row is not None:
                    record = entity_from_row("growth_profile_field", field_row)
                else:
                    record = GrowthProfileField(id=conflict.record_id, student_id=conflict.student_id,
                                                field=ProfileField(conflict.field_name))
                record = dataclasses.replace(record, value=str(value), updated_by=me, updated_at=now)
                self.ctx.write(s, record, "conflict.apply", detail={"conflict": conflict_id})
            elif conflict.record_kind == "mentor_note":
                note_row = s.get(MentorNoteRow, conflict.record_id)
                if note_row is not None:
                    note: MentorNote = entity_from_row("mentor_note", note_row)
                    note = dataclasses.replace(note, text=str(value), updated_at=now)
                    self.ctx.write(s, note, "conflict.apply", detail={"conflict": conflict_id})
            resolved = dataclasses.replace(conflict, status=ConflictStatus.RESOLVED, resolved_by=me,
                                           resolved_at=now, resolution_value=value, reason=reason,
                                           resolution=_choice(conflict, value))
            return self.ctx.write(s, resolved, "conflict.resolve")


def _choice(conflict: Conflict, value: object) -> str:
    """How the server should apply the decision: keep the current value (winner), restore the
    kept-aside one (loser), or write a merged value."""
    if conflict.record_kind not in ("growth_profile_field", "mentor_note"):
        return "winner"  # e.g. a possible duplicate visit: nothing to write, the flag is closed
    mine_lost = conflict.loser_staff and conflict.loser_staff == conflict.local_author
    winner_value = conflict.remote_value if mine_lost else conflict.local_value
    loser_value = conflict.local_value if mine_lost else conflict.remote_value
    if value == winner_value:
        return "winner"
    if value == loser_value:
        return "loser"
    return "value"
