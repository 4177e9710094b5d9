"""The port between the connector and the school's data, and an in-memory implementation.

The connector and the reports only ever see domain entities (``visitapp.domain``) and the
small records below; the school server implements :class:`SchoolData` over its own tables
(:mod:`sync_server.platform.server_port`). :class:`MemorySchoolData` is the reference
implementation used by unit tests and benchmarks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from visitapp.domain import (
    Application, Assignment, Conflict, Determination, GrowthEntry, GrowthProfileField, MentorNote, Objection,
    PublicNotice, RecordReview, ReviewMeeting, School, Student, Visit,
)


@dataclass(frozen=True)
class ExportState:
    """Where one upload item stands: ``pending`` (built, not yet acknowledged), ``sent`` or
    ``failed`` (with the platform's or the transport's reason)."""

    item_id: str
    kind: str
    record_id: str
    student_id: str
    version: str
    status: str
    reason: str = ""
    batch_id: str = ""
    channel: str = ""  # http | file
    at: dt.datetime | None = None


@dataclass(frozen=True)
class ExchangeEvent:
    """One audited exchange with the platform: never values, only what, how many, who, when."""

    id: str
    at: dt.datetime
    actor: str
    direction: str  # down | up
    channel: str  # http | file
    operation: str  # roster | aid | upload | statistics | import-file | export-file
    fields: tuple[str, ...]
    count: int
    result: str  # ok | partial | failed
    detail: str = ""


@runtime_checkable
class SchoolData(Protocol):
    """What the connector needs from the school server. Lists are whole-school snapshots."""

    def school(self) -> School: ...
    def students(self) -> list[Student]: ...
    def visits(self) -> list[Visit]: ...
    def determinations(self) -> list[Determination]: ...
    def growth_entries(self) -> list[GrowthEntry]: ...
    def profile_fields(self) -> list[GrowthProfileField]: ...
    def assignments(self) -> list[Assignment]: ...
    def mentor_notes(self) -> list[MentorNote]: ...
    def conflicts(self) -> list[Conflict]: ...
    def meetings(self) -> list[ReviewMeeting]: ...
    def notices(self) -> list[PublicNotice]: ...
    def objections(self) -> list[Objection]: ...
    def applications(self) -> list[Application]: ...
    def reviews(self) -> list[RecordReview]: ...

    def upsert_students(self, students: Sequence[Student], actor: str) -> None:
        """Insert or replace students by id (one transaction)."""

    def add_growth_entries(self, entries: Sequence[GrowthEntry], actor: str) -> int:
        """Append entries whose id is not there yet; return how many were new."""

    def save_records(self, records: Sequence[object], actor: str) -> None:
        """Insert or replace officer-authoritative records (notices, objections, determinations)."""

    def export_states(self) -> dict[str, ExportState]: ...
    def save_export_states(self, states: Sequence[ExportState]) -> None: ...
    def log_exchange(self, event: ExchangeEvent) -> None: ...
    def exchanges(self) -> list[ExchangeEvent]: ...


@dataclass
class MemorySchoolData:
    """A whole school in memory. Good for tests, benchmarks and the officer's desktop demo."""

    school_entity: School
    student_list: list[Student] = field(default_factory=list)
    visit_list: list[Visit] = field(default_factory=list)
    determination_list: list[Determination] = field(default_factory=list)
    entry_list: list[GrowthEntry] = field(default_factory=list)
    profile_list: list[GrowthProfileField] = field(default_factory=list)
    assignment_list: list[Assignment] = field(default_factory=list)
    note_list: list[MentorNote] = field(default_factory=list)
    conflict_list: list[Conflict] = field(default_factory=list)
    meeting_list: list[ReviewMeeting] = field(default_factory=list)
    notice_list: list[PublicNotice] = field(default_factory=list)
    objection_list: list[Objection] = field(default_factory=list)
    application_list: list[Application] = field(default_factory=list)
    review_list: list[RecordReview] = field(default_factory=list)
    ledger: dict[str, ExportState] = field(default_factory=dict)
    log: list[ExchangeEvent] = field(default_factory=list)

    @classmethod
    def from_demo(cls, demo) -> MemorySchoolData:
        """From ``visitapp.domain.demo.generate_school(...)``."""
        return cls(demo.school, list(demo.students), list(demo.visits), [], list(demo.growth_entries),
                   list(demo.profile_fields), list(demo.assignments), list(demo.mentor_notes))

    def school(self) -> School:
        return self.school_entity

    def students(self) -> list[Student]:
        return list(self.student_list)

    def visits(self) -> list[Visit]:
        return list(self.visit_list)

    def determinations(self) -> list[Determination]:
        return list(self.determination_list)

    def growth_entries(self) -> list[GrowthEntry]:
        return list(self.entry_list)

    def profile_fields(self) -> list[GrowthProfileField]:
        return list(self.profile_list)

    def assignments(self) -> list[Assignment]:
        return list(self.assignment_list)

    def mentor_notes(self) -> list[MentorNote]:
        return list(self.note_list)

    def conflicts(self) -> list[Conflict]:
        return list(self.conflict_list)

    def meetings(self) -> list[ReviewMeeting]:
        return list(self.meeting_list)

    def notices(self) -> list[PublicNotice]:
        return list(self.notice_list)

    def objections(self) -> list[Objection]:
        return list(self.objection_list)

    def applications(self) -> list[Application]:
        return list(self.application_list)

    def reviews(self) -> list[RecordReview]:
        return list(self.review_list)

    def upsert_students(self, students: Sequence[Student], actor: str) -> None:
        by_id = {s.id: i for i, s in enumerate(self.student_list)}
        for s in students:
            if s.id in by_id:
                self.student_list[by_id[s.id]] = s
            else:
                by_id[s.id] = len(self.student_list)
                self.student_list.append(s)

    def add_growth_entries(self, entries: Sequence[GrowthEntry], actor: str) -> int:
        known = {e.id for e in self.entry_list}
        new = [e for e in entries if e.id not in known]
        self.entry_list.extend(new)
        return len(new)

    def save_records(self, records: Sequence[object], actor: str) -> None:
        lists = {PublicNotice: self.notice_list, Objection: self.objection_list,
                 Determination: self.determination_list, ReviewMeeting: self.meeting_list,
                 Visit: self.visit_list, Assignment: self.assignment_list, Conflict: self.conflict_list,
                 Application: self.application_list, RecordReview: self.review_list}
        for rec in records:
            target = lists[type(rec)]
            _replace_by_id(target, rec)

    def export_states(self) -> dict[str, ExportState]:
        return dict(self.ledger)

    def save_export_states(self, states: Sequence[ExportState]) -> None:
        for s in states:
            self.ledger[s.item_id] = s

    def log_exchange(self, event: ExchangeEvent) -> None:
        self.log.append(event)

    def exchanges(self) -> list[ExchangeEvent]:
        return list(self.log)


def _replace_by_id(target: list, rec: object) -> None:
    rid = rec.id  # type: ignore[attr-defined]
    for i, existing in enumerate(target):
        if existing.id == rid:
            target[i] = rec
            return
    target.append(rec)


def replace(entity, **changes):
    """``dataclasses.replace`` re-exported for callers that only import the port."""
    return dataclasses.replace(entity, **changes)


def by_student(records: Iterable, attr: str = "student_id") -> dict[str, list]:
    """Group records by student id."""
    out: dict[str, list] = {}
    for r in records:
        out.setdefault(getattr(r, attr), []).append(r)
    return out
