"""Two of the plan's coverages that only the officer can record (issue 15, plan §5):

- coverage 1, 学生发展支持中心全覆盖: the school's student development support centre, recorded
  per term with its name and the evidence seen (evidence is tier C, sealed like other tier C);
- 重点帮扶 (key-support students, coverages 5 and 6 count them): designated or withdrawn on the
  officer's desktop with a reason (tier C: a reason is about the family).

Both are officer-authoritative records (the server refuses a teacher's), synced and audited;
the audit event names the record and the fields, never the values.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select

from visitapp.domain import DomainError, ValidationError
from visitapp.domain.entities import Student, SupportCentre, support_centre_id
from visitapp.services.base import ServiceContext
from visitapp.storage.models import StudentRow, SupportCentreRow
from visitapp.storage.records import entity_from_row

__all__ = ["SupportService", "SUPPORT_CENTRE_RULE_ZH", "KEY_SUPPORT_RULE_ZH"]

# the plan's words (无锡市学生资助工作方案 §5), shown under the screens' forms
SUPPORT_CENTRE_RULE_ZH = ("学生发展支持中心全覆盖：每所学校建立学生发展支持中心，统筹做好家庭经济困难学生的"
                          "资助育人工作。每学期由资助专干登记中心名称和佐证材料（场地、值班安排、工作记录等）；"
                          "登记后，六个全覆盖中的第一项才计为已覆盖。")
KEY_SUPPORT_RULE_ZH = ("重点帮扶对象：由学校认定需要重点关注和帮扶的家庭经济困难学生，为其配备育人导师"
                       "（一生一导师），并每学期开展常态化研讨。认定或取消都须说明理由，并记入审计日志。")


class SupportService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def _require_officer(self) -> None:
        if not self.ctx.identity.is_officer:
            raise DomainError("officer.support_only")

    # -- coverage 1 ---------------------------------------------------------------------------
    def record_centre(self, term: str, name: str, evidence: str,
                      established_on: dt.date | None = None) -> SupportCentre:
        """Record (or correct) the support centre of ``term``: one record per term."""
        self._require_officer()
        now = self.ctx.now()
        centre = SupportCentre(id=support_centre_id(term), term=term, recorded_by=self.ctx.identity.staff_id,
                               recorded_at=now, name=name.strip(), established_on=established_on,
                               evidence=evidence.strip())
        problems = centre.problems()
        if problems:
            raise ValidationError(problems)
        with self.ctx.profile.session() as s, s.begin():
            before = s.get(SupportCentreRow, centre.id)
            action = "support_centre.record" if before is None else "support_centre.edit"
            return self.ctx.write(s, centre, action, detail={"term": term, "fields": ["name", "evidence"]})

    def centre(self, term: str) -> SupportCentre | None:
        """The support centre recorded for a term, or None; refuses nothing."""
        with self.ctx.profile.session() as s:
            row = s.get(SupportCentreRow, support_centre_id(term))
            if row is None:  # recorded under another id (an older record): any of the term's
                row = s.scalars(select(SupportCentreRow).where(SupportCentreRow.term == term)).first()
            return entity_from_row("support_centre", row) if row is not None else None

    def centre_recorded(self, term: str) -> bool:
        """What coverage 1 counts: a centre with a name and evidence recorded for the term."""
        found = self.centre(term)
        return found is not None and not found.problems()

    # -- 重点帮扶 -------------------------------------------------------------------------------
    def set_key_support(self, student_id: str, designated: bool, reason: str) -> Student:
        """Designate a student for key support (or withdraw it), with the reason why."""
        self._require_officer()
        if not reason.strip():
            raise ValidationError({"key_support_reason": "support.reason_missing"})
        with self.ctx.profile.session() as s, s.begin():
            row = s.get(StudentRow, student_id)
            if row is None:
                raise DomainError("student.not_found")
            student: Student = entity_from_row("student", row)
            if not student.on_roster:
                raise DomainError("support.not_on_roster")
            changed = dataclasses.replace(student, key_support=bool(designated), key_support_reason=reason.strip())
            action = "student.key_support" if designated else "student.key_support_withdrawn"
            return self.ctx.write(s, changed, action, detail={"fields": ["key_support", "key_support_reason"],
                                                              "key_support": bool(designated)})
