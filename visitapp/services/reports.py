"""The officer's reports over the laptop's whole-school data: data quality ("3 × 100%,
3 × zero errors") and the six full coverages (六个全覆盖), officer only.

The report logic is the domain's (:mod:`visitapp.domain.reports`, the same functions the school
server's CLI runs); this service only reads the records they need. It reads the plain columns
and the tier-B ``facts`` envelope of each row, never the tier-C ``sealed`` one: no report needs
a family's story, and a school's 30,000 records then decrypt in a fraction of the time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from visitapp.domain import ENTITY_BY_KIND, DomainError, join_tiers, term_of
from visitapp.domain.reports import CoverageReport, DataQualityReport, class_sort_key, coverage, data_quality
from visitapp.services.base import ServiceContext
from visitapp.services.settings import SettingsService
from visitapp.storage.encrypted import cipher_of, decrypt_value
from visitapp.storage.models import (
    MODEL_BY_KIND, AssignmentRow, DeterminationRow, ReviewMeetingRow, StudentRow, VisitRow,
)

_NOT_ROUTING = {"facts", "sealed", "server_seq", "hlc"}


def load_without_sealed(session: Any, kind: str, *where: Any) -> list[Any]:
    """Entities of ``kind`` from their tier-A columns and tier-B facts (tier-C fields keep
    their defaults). Used where only facts matter: reports, lists."""
    model = MODEL_BY_KIND[kind]
    props = [p for p in model.__mapper__.column_attrs if p.key not in _NOT_ROUTING]
    names = [p.key for p in props]
    query = select(*(getattr(model, n) for n in names), model.facts)
    for condition in where:
        query = query.where(condition)
    cls = ENTITY_BY_KIND[kind]
    table = model.__tablename__
    cipher = cipher_of(session)
    out = []
    for row in session.execute(query):
        routing = dict(zip(names, row[:-1]))
        sealed_facts = row[-1]
        facts = decrypt_value(cipher, table, routing["id"], "facts", sealed_facts.envelope) if sealed_facts else None
        out.append(join_tiers(cls, routing, facts))
    return out


@dataclass(frozen=True)
class ReportStudent:
    """A student a report points at: enough to name them and open their growth file."""

    student_id: str
    name: str
    class_name: str


class ReportService:
    """Data quality and coverage for a term, over everything the officer's laptop holds."""

    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def _require_officer(self) -> None:
        if not self.ctx.identity.is_officer:
            raise DomainError("officer.reports_only")

    def current_term(self) -> str:
        """The school term of today; refuses nothing."""
        return term_of(self.ctx.now().date())

    def terms(self) -> list[str]:
        """Terms with records on this laptop, and the current one; newest first."""
        self._require_officer()
        found = {self.current_term()}
        with self.ctx.profile.session() as s:
            for column in (VisitRow.term, AssignmentRow.term, DeterminationRow.term, ReviewMeetingRow.term):
                found.update(t for t in s.scalars(select(column).distinct()) if t)
        return sorted(found, reverse=True)

    def data_quality(self, term: str | None = None, today: dt.date | None = None) -> DataQualityReport:
        """Nine checks per class and for the school; every count is the list behind it. How
        often a mentor must write is the setting ``mentor_note_days``."""
        self._require_officer()
        term = term or self.current_term()
        every = int(SettingsService(self.ctx).get("mentor_note_days"))
        with self.ctx.profile.session() as s:
            return data_quality(
                term, today or self.ctx.now().date(), load_without_sealed(s, "student"),
                load_without_sealed(s, "visit", VisitRow.status != "draft"),
                load_without_sealed(s, "determination"), load_without_sealed(s, "growth_entry"),
                load_without_sealed(s, "growth_profile_field"), load_without_sealed(s, "assignment"),
                load_without_sealed(s, "conflict"), notes=load_without_sealed(s, "mentor_note"),
                mentor_note_days=every, applications=load_without_sealed(s, "application"),
                reviews=load_without_sealed(s, "record_review"))

    def coverage(self, term: str | None = None) -> CoverageReport:
        """The six full coverages per class and for the school."""
        self._require_officer()
        term = term or self.current_term()
        with self.ctx.profile.session() as s:
            return coverage(
                term, load_without_sealed(s, "student"), load_without_sealed(s, "visit", VisitRow.status != "draft"),
                load_without_sealed(s, "determination"), load_without_sealed(s, "growth_entry"),
                load_without_sealed(s, "growth_profile_field"), load_without_sealed(s, "assignment"),
                load_without_sealed(s, "mentor_note"), support_centre=self._centre(term))

    def _centre(self, term: str) -> bool:
        """Coverage 1 (学生发展支持中心): recorded by the officer per term (issue 15)."""
        from visitapp.services.support import SupportService
        return SupportService(self.ctx).centre_recorded(term)

    def students(self, student_ids: list[str] | tuple[str, ...]) -> list[ReportStudent]:
        """Names and classes of the students behind a coverage (its ``missing`` ids), in
        class order."""
        self._require_officer()
        ids = list(dict.fromkeys(student_ids))
        found: list = []
        with self.ctx.profile.session() as s:
            for start in range(0, len(ids), 500):
                found += load_without_sealed(s, "student", StudentRow.id.in_(ids[start:start + 500]))
        found.sort(key=lambda st: (class_sort_key(st.class_name), st.student_no, st.name))
        return [ReportStudent(st.id, st.name, st.class_name) for st in found]
