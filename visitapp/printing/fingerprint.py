"""What a printed page's QR code says, and how to compute it from the records.

Payload (ASCII, one line, fields separated by ``|``)::

    VA1|<kind>|<record id>|<version>|<hash>

- ``VA1``: format tag and version of this payload layout.
- ``kind``: ``visit`` (visit record sheet), ``growth_file`` (record id = the student's id),
  ``public_notice``, ``workload`` (a teacher's workload statement; record id =
  ``<staff id>:<term>``) or ``subject_access`` (everything about one student, for the
  guardian; record id = the student's id).
- ``version``: a short deterministic string that changes whenever the record changes in a way
  the database can see (status, amendments, timestamps); see the ``*_fingerprint`` functions.
- ``hash``: the first 16 hex digits of SHA-256 over the canonical JSON of exactly the record
  content the document prints (names, facts, texts), excluding print-time details (who printed
  it and when), so two prints of the same record carry the same hash.

``verify-sheet`` compares a scanned payload with the current ``(version, hash)`` that the lead's
storage computes with the same functions; see :mod:`visitapp.printing.verify`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from visitapp.domain.entities import (
    Determination, GrowthEntry, GrowthProfileField, MentorNote, PublicNotice, Student, Visit,
    mask_name,
)
from visitapp.domain.enums import Level
from visitapp.domain.rules import effective_status
from visitapp.domain.terms import term_label
from visitapp.domain.tiers import to_jsonable
from visitapp.domain.workload import WorkloadStatement

__all__ = [
    "PAYLOAD_TAG", "KINDS", "Fingerprint", "QrPayload", "content_hash", "parse_qr_payload",
    "visit_fingerprint", "growth_file_fingerprint", "notice_fingerprint", "notice_rows",
    "workload_fingerprint", "workload_record_id", "subject_access_fingerprint",
]

PAYLOAD_TAG = "VA1"
KINDS = ("visit", "growth_file", "public_notice", "workload", "subject_access", "chain")  # chain: issue 15
HASH_CHARS = 16
_VERSION_RE = re.compile(r"^[0-9A-Za-z._:+-]{1,64}$")
_ID_RE = re.compile(r"^[0-9A-Za-z._:-]{1,64}$")
_HASH_RE = re.compile(r"^[0-9a-f]{%d}$" % HASH_CHARS)


@dataclass(frozen=True)
class Fingerprint:
    """A record's identity on paper: kind, id, version and content hash."""

    kind: str
    record_id: str
    version: str
    hash: str
    # how the page's footer names the record, when its id is not for people to read (a term id
    # in it: ``2026-2027-1`` printed as 2026-2027学年第一学期); never in the QR code, never compared
    shown: str = field(default="", compare=False)

    @property
    def label(self) -> str:
        """The record number as printed under 记录编号."""
        return self.shown or self.record_id

    def payload(self) -> str:
        """The text the QR code holds."""
        return f"{PAYLOAD_TAG}|{self.kind}|{self.record_id}|{self.version}|{self.hash}"


QrPayload = Fingerprint  # a parsed payload is a fingerprint as it was when printed


def parse_qr_payload(text: str) -> Fingerprint | None:
    """The fingerprint in a scanned QR text, or ``None`` when it is not one of our codes."""
    parts = (text or "").strip().split("|")
    if len(parts) != 5 or parts[0] != PAYLOAD_TAG:
        return None
    _, kind, record_id, version, digest = parts
    if kind not in KINDS or not _ID_RE.match(record_id) or not _VERSION_RE.match(version):
        return None
    if not _HASH_RE.match(digest):
        return None
    return Fingerprint(kind, record_id, version, digest)


def content_hash(content: Any) -> str:
    """SHA-256 prefix of the canonical JSON of ``content`` (dataclasses, enums, dates allowed)."""
    blob = json.dumps(to_jsonable(content), ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:HASH_CHARS]


def _stamp(moments: Iterable[dt.datetime | None]) -> str:
    """The latest of ``moments`` as ``YYYYMMDDTHHMMSS`` in UTC (naive values taken as UTC)."""
    latest = None
    for m in moments:
        if m is None:
            continue
        if m.tzinfo is not None:
            m = m.astimezone(dt.timezone.utc).replace(tzinfo=None)
        latest = m if latest is None or m > latest else latest
    return latest.strftime("%Y%m%dT%H%M%S") if latest else "0"


# -- what each document prints (the hashed content) -------------------------------------------

def _student_content(student: Student) -> dict[str, Any]:
    return {
        "id": student.id, "name": student.name, "class_name": student.class_name,
        "stage": student.stage, "masked_id": student.masked_id, "student_no": student.student_no,
        "gender": student.gender, "guardian_name": student.guardian_name,
        "hardship_categories": list(student.hardship_categories),
        "key_support": student.key_support, "auto_eligible": student.auto_eligible,
        "platform_level": student.platform_level, "address": student.address,
        "phone": student.phone,
    }


_VISIT_PRINTED = (
    "id", "status", "amends_id", "term", "visit_date", "visit_time", "mode", "visitors",
    "people_present", "family_members", "annual_income_yuan", "income_sources", "housing",
    "major_expenses", "hardship_indicators", "student_needs", "family_requests",
    "policy_materials", "recommended_level", "guardian_consent", "narrative", "follow_ups",
    "amendment_reason", "void_reason", "finalized_at",
)


def _visit_content(visit: Visit) -> dict[str, Any]:
    return {name: getattr(visit, name) for name in _VISIT_PRINTED}


def visit_sheet_content(visit: Visit, student: Student, amendments: Sequence[Visit] = ()) -> dict:
    """Everything a visit record sheet prints about the record (hashed into its QR code)."""
    return {
        "kind": "visit",
        "visit": _visit_content(visit),
        "effective_status": effective_status(visit, amendments),
        "student": _student_content(student),
        "amendments": [
            {"id": a.id, "status": a.status, "reason": a.amendment_reason,
             "finalized_at": a.finalized_at, "updated_at": a.updated_at}
            for a in sorted(amendments, key=_visit_sort_key)
        ],
    }


def _visit_sort_key(v: Visit) -> tuple:
    return (v.created_at or v.updated_at or dt.datetime.min, v.id)


def visit_fingerprint(visit: Visit, student: Student, amendments: Sequence[Visit] = ()) -> Fingerprint:
    """Kind ``visit``. Version: ``<effective status>.<number of amendments>.<latest stamp>``,
    where the stamp is the latest ``updated_at``/``finalized_at`` of the visit and its
    amendments (UTC, ``YYYYMMDDTHHMMSS``). Finalizing, voiding or amending changes it."""
    amendments = list(amendments)
    status = effective_status(visit, amendments)
    stamp = _stamp([visit.updated_at, visit.finalized_at]
                   + [a.updated_at for a in amendments] + [a.finalized_at for a in amendments])
    version = f"{status}.{len(amendments)}.{stamp}"
    return Fingerprint("visit", visit.id, version,
                       content_hash(visit_sheet_content(visit, student, amendments)))


def _profile_values(profile: Mapping[str, GrowthProfileField | str]) -> dict[str, str]:
    out = {}
    for key, value in profile.items():
        out[str(key)] = value.value if isinstance(value, GrowthProfileField) else str(value or "")
    return out


def growth_file_content(student: Student, profile: Mapping[str, GrowthProfileField | str],
                        visits: Sequence[Visit], entries: Sequence[GrowthEntry],
                        notes: Sequence[MentorNote]) -> dict:
    """Everything a growth file prints (hashed into its QR code)."""
    return {
        "kind": "growth_file",
        "student": _student_content(student),
        "profile": _profile_values(profile),
        "visits": [
            {"id": v.id, "status": effective_status(v, visits), "visit_date": v.visit_date,
             "mode": v.mode, "visitors": v.visitors, "recommended_level": v.recommended_level,
             "student_needs": v.student_needs}
            for v in sorted(visits, key=lambda v: (v.visit_date or dt.date.min, v.id))
        ],
        "entries": [
            {"id": e.id, "kind": e.kind, "entry_date": e.entry_date, "title": e.title,
             "reward_kind": e.reward_kind, "aid_kind": e.aid_kind, "programme": e.programme,
             "amount_yuan": e.amount_yuan, "detail": e.detail, "source": e.source}
            for e in sorted(entries, key=lambda e: (e.entry_date or dt.date.min, e.id))
        ],
        "notes": [
            {"id": n.id, "kind": n.kind, "note_date": n.note_date,
             "participants": n.participants, "text": n.text}
            for n in sorted(notes, key=lambda n: (n.note_date or dt.date.min, n.id))
        ],
    }


def growth_file_fingerprint(student: Student, profile: Mapping[str, GrowthProfileField | str],
                            visits: Sequence[Visit], entries: Sequence[GrowthEntry],
                            notes: Sequence[MentorNote]) -> Fingerprint:
    """Kind ``growth_file``, record id = the student's id. Version:
    ``<visits>.<entries>.<notes>.<latest stamp>`` (counts, then the latest timestamp of any
    record shown), so any new or edited record makes an older printout outdated."""
    stamps = [v.updated_at for v in visits] + [v.finalized_at for v in visits]
    stamps += [e.created_at for e in entries] + [n.updated_at or n.created_at for n in notes]
    stamps += [f.updated_at for f in profile.values() if isinstance(f, GrowthProfileField)]
    version = f"{len(visits)}.{len(entries)}.{len(notes)}.{_stamp(stamps)}"
    return Fingerprint("growth_file", student.id, version,
                       content_hash(growth_file_content(student, profile, visits, entries, notes)))


def notice_rows(rows: Iterable[tuple[Student, Determination]]) -> list[tuple[str, str, Level]]:
    """The rows a public notice prints: (masked name, class, level), determined students only,
    ordered by class then masked name. Nothing else about a student ever reaches the notice."""
    out = [(mask_name(s.name), s.class_name, d.level) for s, d in rows if d.level != Level.NONE]
    out.sort(key=lambda r: (_class_key(r[1]), r[0], r[2]))
    return out


_NUMERALS = {c: str(i) for i, c in enumerate("零一二三四五六七八九", 0)}


def _class_key(name: str) -> list:
    """Natural order for class names: 初一（2）班 < 初二（1）班 < 初二（10）班."""
    text = "".join(_NUMERALS.get(c, c) for c in name)
    return [(0, int(tok), "") if tok.isdigit() else (1, 0, tok)
            for tok in re.findall(r"\d+|\D+", text)]


def notice_content(notice: PublicNotice, rows: Iterable[tuple[Student, Determination]]) -> dict:
    """Everything a public notice prints (hashed into its QR code)."""
    return {
        "kind": "public_notice", "id": notice.id, "term": notice.term, "title": notice.title,
        "period_start": notice.period_start, "period_end": notice.period_end,
        "status": notice.status, "rows": notice_rows(rows),
    }


def notice_fingerprint(notice: PublicNotice, rows: Iterable[tuple[Student, Determination]]) -> Fingerprint:
    """Kind ``public_notice``. Version: ``<status>.<rows printed>.<created stamp>``."""
    rows = list(rows)
    version = f"{notice.status}.{len(notice_rows(rows))}.{_stamp([notice.created_at])}"
    return Fingerprint("public_notice", notice.id, version, content_hash(notice_content(notice, rows)))


def workload_record_id(staff_id: str, term: str) -> str:
    """The record id a workload statement is printed under: ``<staff id>:<term>``."""
    return f"{staff_id}:{term}"


def workload_fingerprint(statement: WorkloadStatement) -> Fingerprint:
    """Kind ``workload``. Version: the counts in print order (``3.1.4.0.2.1``), so a statement
    printed before more work was recorded reads as outdated; hash: every counted item."""
    version = ".".join(str(n) for _code, _label, n in statement.counts)
    content = {"staff": statement.staff_name, "term": statement.term,
               "items": [(it.kind, it.day, it.record_id, it.about) for it in statement.items]}
    return Fingerprint("workload", workload_record_id(statement.staff_id, statement.term), version,
                       content_hash(content), shown=shown_record_id(statement.staff_id, statement.term))


def shown_record_id(owner_id: str, term: str) -> str:
    """A ``<id>:<term>`` record number as the footer prints it: the term in words."""
    return f"{owner_id}（{term_label(term)}）"


def subject_access_fingerprint(student: Student, records: Sequence[Any], audit_hashes: Sequence[str]) -> Fingerprint:
    """Kind ``subject_access``, record id = the student's id. Version: how many records and
    audit events it prints; hash: every printed record whole, and the audit events' hashes."""
    content = {"student": student, "records": list(records), "audit": list(audit_hashes)}
    return Fingerprint("subject_access", student.id, f"{len(records)}.{len(audit_hashes)}", content_hash(content))
