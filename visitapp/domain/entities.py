"""The entities of DESIGN.md §2 as frozen dataclasses.

Each field is marked with its privacy tier (``tier_a/b/c``). Entities are values: changing one
means ``dataclasses.replace`` through a rule in :mod:`visitapp.domain.rules`, which is where
the life-cycle rules live. ``problems()`` lists what is wrong with the values themselves.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass

from visitapp.domain.enums import (
    ApplicationChannel, ApplicationMaterial, ReviewVerdict,
    AidKind, AssignmentRole, ConflictStatus, GrowthKind, HardshipCategory, HardshipIndicator,
    Level, MentorNoteKind, NoticeStatus, PolicyMaterial, ProfileField, RewardKind, Role, Stage,
    VisitMode, VisitStatus,
)
from visitapp.domain.errors import Problem
from visitapp.domain.tiers import tier_a, tier_b, tier_c

__all__ = [
    "School", "Staff", "Device", "Student", "Assignment", "FamilyMember", "Visit",
    "GrowthProfileField", "GrowthEntry", "MentorNote", "ReviewMeeting", "Determination",
    "PublicNotice", "Objection", "Conflict", "AuditEvent", "SupportCentre", "support_centre_id",
    "profile_field_id", "mask_name",
    "MASKED_ID_RE", "ENTITY_BY_KIND", "Application", "RecordReview", "ReviewerAppointment",
]

# 18-character resident ID with the middle ten hidden: 3202**********1234 (last may be X).
MASKED_ID_RE = re.compile(r"^\d{4}\*{10}\d{3}[\dXx]$")
_FULL_ID_RE = re.compile(r"\d{17}[\dXx]")
_PROFILE_NAMESPACE = uuid.UUID("5b0b6f0e-3c52-4c1e-9d8e-6a1d2f4b7c11")


def profile_field_id(student_id: str, field_name: str) -> str:
    """One record per (student, field): its id is a UUIDv5 of both, the same on every device."""
    return str(uuid.uuid5(_PROFILE_NAMESPACE, f"{student_id}|{field_name}"))


def mask_name(name: str) -> str:
    """张晓明 -> 张*明, 李明 -> 李*, 欧阳娜娜 -> 欧**娜 (public notice masking)."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _not_future(day: dt.date | None, today: dt.date, message_id: str, problems: dict[str, str], key: str) -> None:
    if day is not None and day > today:
        problems[key] = Problem(message_id, today=today.isoformat())


@dataclass(frozen=True)
class School:
    id: str = tier_a()
    name: str = tier_b()
    district: str = tier_a(default="")


@dataclass(frozen=True)
class Staff:
    id: str = tier_a()
    school_id: str = tier_a()
    role: Role = tier_a()
    name: str = tier_b()
    active: bool = tier_a(default=True)


@dataclass(frozen=True)
class Device:
    id: str = tier_a()
    staff_id: str = tier_a()
    label: str = tier_a(default="")
    enrolled_at: dt.datetime | None = tier_a(default=None)
    revoked_at: dt.datetime | None = tier_a(default=None)


@dataclass(frozen=True)
class Student:
    id: str = tier_a()
    school_id: str = tier_a()
    class_name: str = tier_a()
    stage: Stage = tier_a()
    name: str = tier_b()
    masked_id: str = tier_b(default="")
    platform_ref: str = tier_a(default="")
    student_no: str = tier_a(default="")
    on_roster: bool = tier_a(default=True)
    gender: str = tier_b(default="")
    guardian_name: str = tier_b(default="")
    district: str = tier_b(default="")
    hardship_categories: tuple[HardshipCategory, ...] = tier_b(default=())
    auto_eligible: bool = tier_b(default=False)
    key_support: bool = tier_b(default=False)
    platform_level: Level | None = tier_b(default=None)
    # the first day of the term whose roster no longer had the student: retention counts from it
    left_on: dt.date | None = tier_b(default=None)
    address: str = tier_c(default="")
    phone: str = tier_c(default="")
    key_support_reason: str = tier_c(default="", school_only=True)  # why the officer designated 重点帮扶

    def problems(self) -> dict[str, str]:
        p: dict[str, str] = {}
        if not self.name.strip():
            p["name"] = Problem("student.name_missing")
        if not self.class_name.strip():
            p["class_name"] = Problem("student.class_missing")
        if self.masked_id and not MASKED_ID_RE.match(self.masked_id):
            p["masked_id"] = Problem("student.masked_id_form")
        for key in ("masked_id", "address", "phone", "guardian_name", "name"):
            if _FULL_ID_RE.search(getattr(self, key) or ""):
                p[key] = Problem("student.full_id_refused")
        return p


@dataclass(frozen=True)
class Assignment:
    id: str = tier_a()
    student_id: str = tier_a()
    staff_id: str = tier_a()
    role: AssignmentRole = tier_a()
    term: str = tier_a()
    active: bool = tier_a(default=True)
    assigned_by: str = tier_a(default="")
    created_at: dt.datetime | None = tier_a(default=None)


@dataclass(frozen=True)
class FamilyMember:
    relation: str = ""
    name: str = ""
    age: int | None = None
    occupation: str = ""
    health: str = ""


@dataclass(frozen=True)
class Visit:
    id: str = tier_a()
    student_id: str = tier_a()
    author_id: str = tier_a()
    term: str = tier_a(default="")
    status: VisitStatus = tier_a(default=VisitStatus.DRAFT)
    device_id: str = tier_a(default="")
    amends_id: str | None = tier_a(default=None)
    created_at: dt.datetime | None = tier_a(default=None)
    updated_at: dt.datetime | None = tier_a(default=None)
    finalized_at: dt.datetime | None = tier_a(default=None)
    # tier B: the facts the school needs for coverage, review and reporting
    visit_date: dt.date | None = tier_b(default=None)
    visit_time: dt.time | None = tier_b(default=None)
    mode: VisitMode | None = tier_b(default=None)
    visitors: tuple[str, ...] = tier_b(default=())
    hardship_indicators: tuple[HardshipIndicator, ...] = tier_b(default=())
    recommended_level: Level | None = tier_b(default=None)
    policy_materials: tuple[PolicyMaterial, ...] = tier_b(default=())
    guardian_consent: bool | None = tier_b(default=None)
    amendment_reason: str = tier_b(default="")
    void_reason: str = tier_b(default="")
    # tier C: the family's story; the server never reads it
    people_present: str = tier_c(default="")
    family_members: tuple[FamilyMember, ...] = tier_c(default=())
    annual_income_yuan: int | None = tier_c(default=None)
    income_sources: str = tier_c(default="")
    housing: str = tier_c(default="")
    major_expenses: str = tier_c(default="")
    student_needs: str = tier_c(default="")
    family_requests: str = tier_c(default="")
    narrative: str = tier_c(default="")
    follow_ups: str = tier_c(default="")

    def problems(self, today: dt.date) -> dict[str, str]:
        """Problems that stop even a draft from being saved (bad values, not missing ones)."""
        p: dict[str, str] = {}
        _not_future(self.visit_date, today, "date.visit_future", p, "visit_date")
        if self.annual_income_yuan is not None and not (0 <= self.annual_income_yuan <= 100_000_000):
            p["annual_income_yuan"] = Problem("visit.income_range")
        for i, member in enumerate(self.family_members):
            if member.age is not None and not (0 <= member.age <= 120):
                p[f"family_members[{i}].age"] = Problem("visit.member_age_range", n=i + 1)
            if not member.relation.strip():
                p[f"family_members[{i}].relation"] = Problem("visit.member_relation_missing", n=i + 1)
        if len(self.narrative) > 50_000:
            p["narrative"] = Problem("visit.narrative_too_long")
        return p

    def finalize_problems(self, today: dt.date) -> dict[str, str]:
        """Everything that must be true before a visit becomes a final, immutable record."""
        p = self.problems(today)
        if self.visit_date is None:
            p["visit_date"] = Problem("visit.date_missing")
        if self.mode is None:
            p["mode"] = Problem("visit.mode_missing")
        if not [v for v in self.visitors if v.strip()]:
            p["visitors"] = Problem("visit.visitors_missing")
        if self.guardian_consent is None:
            p["guardian_consent"] = Problem("visit.consent_missing")
        if not self.narrative.strip():
            p["narrative"] = Problem("visit.narrative_missing")
        if self.amends_id and not self.amendment_reason.strip():
            p["amendment_reason"] = Problem("visit.amendment_reason_missing")
        return p


@dataclass(frozen=True)
class GrowthProfileField:
    id: str = tier_a()
    student_id: str = tier_a()
    field: ProfileField = tier_a()
    value: str = tier_c(default="")
    updated_by: str = tier_a(default="")
    updated_at: dt.datetime | None = tier_a(default=None)


@dataclass(frozen=True)
class GrowthEntry:
    id: str = tier_a()
    student_id: str = tier_a()
    kind: GrowthKind = tier_a()
    author_id: str = tier_a(default="")
    source: str = tier_a(default="school")  # school | platform
    created_at: dt.datetime | None = tier_a(default=None)
    entry_date: dt.date | None = tier_b(default=None)
    title: str = tier_b(default="")
    reward_kind: RewardKind | None = tier_b(default=None)
    aid_kind: AidKind | None = tier_b(default=None)
    programme: str = tier_b(default="")
    amount_yuan: float | None = tier_b(default=None)
    detail: str = tier_c(default="")
    # set when the author edits an entry a reviewer returned (issue 15); None: as first written
    updated_at: dt.datetime | None = tier_a(default=None)

    def problems(self, today: dt.date) -> dict[str, str]:
        p: dict[str, str] = {}
        if self.entry_date is None:
            p["entry_date"] = Problem("date.missing")
        _not_future(self.entry_date, today, "date.future", p, "entry_date")
        if not self.title.strip():
            p["title"] = Problem("growth.title_missing")
        if self.kind == GrowthKind.REWARD and self.reward_kind is None:
            p["reward_kind"] = Problem("growth.reward_kind_missing")
        if self.kind == GrowthKind.AID and self.aid_kind is None:
            p["aid_kind"] = Problem("growth.aid_kind_missing")
        if self.amount_yuan is not None and self.amount_yuan < 0:
            p["amount_yuan"] = Problem("growth.amount_negative")
        return p


@dataclass(frozen=True)
class MentorNote:
    id: str = tier_a()
    student_id: str = tier_a()
    author_id: str = tier_a()
    kind: MentorNoteKind = tier_a(default=MentorNoteKind.REGULAR)
    created_at: dt.datetime | None = tier_a(default=None)
    updated_at: dt.datetime | None = tier_a(default=None)
    conflict_of: str | None = tier_a(default=None)
    note_date: dt.date | None = tier_b(default=None)
    participants: tuple[str, ...] = tier_b(default=())
    text: str = tier_c(default="")

    def problems(self, today: dt.date) -> dict[str, str]:
        p: dict[str, str] = {}
        if self.note_date is None:
            p["note_date"] = Problem("date.missing")
        _not_future(self.note_date, today, "date.future", p, "note_date")
        if not self.text.strip():
            p["text"] = Problem("mentor.text_missing")
        if self.kind == MentorNoteKind.CASE_DISCUSSION and len([x for x in self.participants if x.strip()]) < 2:
            p["participants"] = Problem("mentor.discussion_participants")
        return p


@dataclass(frozen=True)
class ReviewMeeting:
    id: str = tier_a()
    term: str = tier_a()
    created_by: str = tier_a(default="")
    created_at: dt.datetime | None = tier_a(default=None)
    meeting_date: dt.date | None = tier_b(default=None)
    reviewers: tuple[str, ...] = tier_b(default=())  # staff ids
    minutes: str = tier_c(default="")

    def problems(self, today: dt.date) -> dict[str, str]:
        p: dict[str, str] = {}
        if self.meeting_date is None:
            p["meeting_date"] = Problem("meeting.date_missing")
        _not_future(self.meeting_date, today, "date.meeting_future", p, "meeting_date")
        if len(set(self.reviewers)) < 3:
            p["reviewers"] = Problem("meeting.reviewers_too_few")
        return p


@dataclass(frozen=True)
class Determination:
    id: str = tier_a()
    student_id: str = tier_a()
    meeting_id: str = tier_a()
    term: str = tier_a()
    created_by: str = tier_a(default="")
    created_at: dt.datetime | None = tier_a(default=None)
    final: bool = tier_a(default=False)
    level: Level = tier_b(default=Level.NONE)
    visit_id: str = tier_b(default="")
    review_date: dt.date | None = tier_b(default=None)


@dataclass(frozen=True)
class PublicNotice:
    id: str = tier_a()
    meeting_id: str = tier_a()
    term: str = tier_a()
    status: NoticeStatus = tier_a(default=NoticeStatus.OPEN)
    created_by: str = tier_a(default="")
    created_at: dt.datetime | None = tier_a(default=None)
    title: str = tier_b(default="")
    period_start: dt.date | None = tier_b(default=None)
    period_end: dt.date | None = tier_b(default=None)
    closed_on: dt.date | None = tier_b(default=None)

    def problems(self) -> dict[str, str]:
        p: dict[str, str] = {}
        if self.period_start is None or self.period_end is None:
            p["period"] = Problem("notice.period_missing")
        elif self.period_end < self.period_start:
            p["period"] = Problem("notice.period_reversed")
        elif (self.period_end - self.period_start).days + 1 < 5:
            p["period"] = Problem("notice.period_too_short")
        return p


@dataclass(frozen=True)
class Objection:
    id: str = tier_a()
    notice_id: str = tier_a()
    student_id: str = tier_a(default="")
    handled: bool = tier_a(default=False)
    created_at: dt.datetime | None = tier_a(default=None)
    received_on: dt.date | None = tier_b(default=None)
    handled_on: dt.date | None = tier_b(default=None)
    content: str = tier_c(default="")
    handling: str = tier_c(default="")


@dataclass(frozen=True)
class Conflict:
    """Both sides of a disagreement, kept readable until a person resolves it."""

    id: str = tier_a()
    record_kind: str = tier_a()
    record_id: str = tier_a()
    field_name: str = tier_a(default="")
    status: ConflictStatus = tier_a(default=ConflictStatus.OPEN)
    student_id: str = tier_a(default="")
    local_author: str = tier_a(default="")
    remote_author: str = tier_a(default="")
    created_at: dt.datetime | None = tier_a(default=None)
    resolved_by: str = tier_a(default="")
    resolved_at: dt.datetime | None = tier_a(default=None)
    # as the server made it: whose value is current (winner) and whose was kept aside (loser);
    # for a mentor note, the id of the conflict copy that holds the kept-aside version
    winner_staff: str = tier_a(default="")
    loser_staff: str = tier_a(default="")
    copy_id: str = tier_a(default="")
    resolution: str = tier_a(default="")  # winner | loser | value, once resolved
    reason: str = tier_b(default="")
    local_value: object = tier_c(default=None)
    remote_value: object = tier_c(default=None)
    resolution_value: object = tier_c(default=None)


@dataclass(frozen=True)
class AuditEvent:
    """One link of the hash-chained audit trail. Tier A only: logs never carry B or C values."""

    id: str = tier_a()
    seq: int = tier_a()
    at: dt.datetime = tier_a()
    actor_id: str = tier_a()
    device_id: str = tier_a()
    action: str = tier_a()
    record_kind: str = tier_a()
    record_id: str = tier_a()
    prev_hash: str = tier_a()
    hash: str = tier_a()
    detail: dict = tier_a(default_factory=dict)  # field names and counts, never values
    # the device's Ed25519 signature of ``hash`` (base64), empty on a laptop enrolled before
    # devices had signing keys; not part of the hash it signs
    signature: str = tier_a(default="")


def support_centre_id(term: str) -> str:
    """One support-centre record per term: its id is a UUIDv5 of the term, the same on every
    officer's laptop (two officers recording it edit one record)."""
    return str(uuid.uuid5(_PROFILE_NAMESPACE, f"support_centre|{term}"))


@dataclass(frozen=True)
class SupportCentre:
    """Coverage 1 of the plan's six (学生发展支持中心全覆盖): the school's student development
    support centre in a term, as the officer records it. The evidence (what was seen: the room,
    the duty roster, the records kept) is tier C."""

    id: str = tier_a()
    term: str = tier_a()
    recorded_by: str = tier_a(default="")
    recorded_at: dt.datetime | None = tier_a(default=None)
    name: str = tier_b(default="")
    established_on: dt.date | None = tier_b(default=None)
    evidence: str = tier_c(default="")

    def problems(self) -> dict[str, str]:
        p: dict[str, str] = {}
        if not self.name.strip():
            p["name"] = Problem("support.centre_name_missing")
        if not self.evidence.strip():
            p["evidence"] = Problem("support.evidence_missing")
        return p


# -- issue 15: applications (申请) and the review of records (谁审核谁负责) ---------------------------
@dataclass(frozen=True)
class Application:
    """A family's application for aid (资助申请), or the class teacher's recommendation, in one
    term. It is linked to that term's visit, review and determination of the same student by
    (student, term): the chain is read, not stored, so it never points at a stale record."""

    id: str = tier_a()
    student_id: str = tier_a()
    term: str = tier_a()
    author_id: str = tier_a()
    created_at: dt.datetime | None = tier_a(default=None)
    updated_at: dt.datetime | None = tier_a(default=None)
    applied_on: dt.date | None = tier_b(default=None)
    channel: ApplicationChannel | None = tier_b(default=None)
    materials: tuple[ApplicationMaterial, ...] = tier_b(default=())
    # tier C: what the family wrote or said about its situation, sealed like a visit's story
    details: str = tier_c(default="")

    def problems(self, today: dt.date) -> dict[str, str]:
        p: dict[str, str] = {}
        if self.applied_on is None:
            p["applied_on"] = Problem("application.date_missing")
        _not_future(self.applied_on, today, "date.applied_future", p, "applied_on")
        if self.channel is None:
            p["channel"] = Problem("application.channel_missing")
        if len(self.details) > 20_000:
            p["details"] = Problem("application.details_too_long")
        return p


@dataclass(frozen=True)
class RecordReview:
    """One reviewer's verdict on one finalized visit or growth entry (谁审核谁负责). Append-only:
    a later review of the same record (after an amendment or an edit) is a new record."""

    id: str = tier_a()
    student_id: str = tier_a()
    record_kind: str = tier_a()
    record_id: str = tier_a()
    reviewer_id: str = tier_a()
    verdict: ReviewVerdict = tier_a()
    created_at: dt.datetime | None = tier_a(default=None)
    reviewed_on: dt.date | None = tier_b(default=None)
    # tier C: a returned record's comment may quote the family's story it questions
    comment: str = tier_c(default="")

    def problems(self) -> dict[str, str]:
        p: dict[str, str] = {}
        if self.verdict == ReviewVerdict.RETURNED and not self.comment.strip():
            p["comment"] = Problem("record_review.return_comment_missing")
        if len(self.comment) > 5_000:
            p["comment"] = Problem("record_review.comment_too_long")
        return p


@dataclass(frozen=True)
class ReviewerAppointment:
    """The officer names a grade leader (年级组长) as reviewer of one grade's records; the
    officer reviews every grade without one. ``grade`` is the start of the class names it
    covers, e.g. ``七年级``."""

    id: str = tier_a()
    staff_id: str = tier_a()
    grade: str = tier_a()
    active: bool = tier_a(default=True)
    appointed_by: str = tier_a(default="")
    created_at: dt.datetime | None = tier_a(default=None)


ENTITY_BY_KIND: dict[str, type] = {
    "student": Student, "staff": Staff, "assignment": Assignment, "visit": Visit,
    "growth_profile_field": GrowthProfileField, "growth_entry": GrowthEntry,
    "mentor_note": MentorNote, "review_meeting": ReviewMeeting, "determination": Determination,
    "public_notice": PublicNotice, "objection": Objection, "conflict": Conflict,
    "audit_event": AuditEvent, "support_centre": SupportCentre,
    "application": Application, "record_review": RecordReview, "reviewer_appointment": ReviewerAppointment,
}
