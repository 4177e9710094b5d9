"""The end of a minor's records, on the officer's laptop (issue 15; PIPL arts. 19, 47).

A student who left the roster is kept for the school's retention period (the setting
``retention_school_years``, default 3; :mod:`visitapp.domain.retention`). When it has passed:

1. :meth:`RetentionService.archive` prints the long-term archive PDF
   (:mod:`visitapp.printing.archive`): the growth file, every visit sheet, the determinations
   and everything else held about the student. It is made here because only an officer's
   laptop can read all of tier C (the server holds tier C as opaque bytes);
2. :meth:`RetentionService.erase` first syncs (nothing about the student may wait unsent),
   checks the archive still shows every record, then asks the server to erase the student
   (``POST /v1/retention/erase`` with the archive's SHA-256); the server tombstones every
   record and answers the deletion record; this laptop then deletes its own copy at once and
   rewrites its database file, and the other laptops purge the student at their next sync
   (a teacher's only after its pending changes are sent: the engine's purge waits for them).
   The minutes of collective reviews (集体评议, school records that outlive the child) are kept,
   with the student's name, number and id replaced by 〔已删除学生〕 first and sent up before the
   server is asked (:func:`visitapp.domain.retention.redact_student`); the deletion record counts
   them (``review_meeting_minutes_redacted``).

Both steps are audited here (the deletion record: kinds, counts, when, who; no content).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text

from visitapp.services.sync import delete_student_data, pending_about
from visitapp.domain import DomainError, VisitStatus
from visitapp.domain.reports import class_sort_key
from visitapp.domain.retention import is_due, redact_student, retention_ends
from visitapp.services.reports import load_without_sealed
from visitapp.storage.models import MODEL_BY_KIND, OutboxRow, ReviewMeetingRow, SettingRow, StudentRow, VisitRow
from visitapp.storage.records import entity_from_row

if TYPE_CHECKING:
    from visitapp.printing.archive import ArchiveJob
    from visitapp.services.workspace import Workspace

__all__ = ["RetentionService", "LeftStudent", "Erasure", "ErasedStudent", "ARCHIVES_KEY"]

log = logging.getLogger(__name__)
ARCHIVES_KEY = "retention_archives"  # student id -> the archive made of them (encrypted setting)
ERASED_KEY = "retention_erased"  # student id -> the server's deletion record (ids and counts only)


@dataclass(frozen=True)
class LeftStudent:
    """A student off the roster, with where their retention stands."""

    student_id: str
    name: str
    class_name: str
    student_no: str
    left_on: dt.date | None
    retention_ends: dt.date | None
    due: bool
    records: int
    archived_sha256: str  # "" until the archive is made


@dataclass(frozen=True)
class Erasure:
    """The deletion record the server answered: what kinds, how many, when, who."""

    student_id: str
    erased_at: str
    erased_by: str
    counts: dict[str, int]
    archive_sha256: str
    local_records: int


@dataclass(frozen=True)
class ErasedStudent:
    """A student this laptop erased, from the deletion record the server answered (ids and
    counts only: the name went with the records)."""

    student_id: str
    erased_at: str
    records: int       # erased on the server at the erase, orphaned work included
    late_erased: int   # of those, changes that arrived late and were erased by a later call


class RetentionService:
    def __init__(self, ws: Workspace):
        self.ws = ws
        self.ctx = ws.ctx

    def _require_officer(self) -> None:
        if not self.ctx.identity.is_officer:
            raise DomainError("officer.retention_only")

    def school_years(self) -> int:
        """The school's retention period in school years (the setting retention_school_years); refuses nothing."""
        return int(self.ws.settings.get("retention_school_years"))

    def _archives(self, session: Any) -> dict[str, dict]:
        row = session.get(SettingRow, ARCHIVES_KEY)
        return dict(row.secret or {}) if row is not None else {}

    def _count(self, session: Any, student_id: str) -> int:
        total = 0
        for kind, model in MODEL_BY_KIND.items():
            if kind not in ("student", "audit_event") and hasattr(model, "student_id"):
                total += len(session.execute(select(model.id).where(model.student_id == student_id)).all())
        return total + 1

    def left_students(self, today: dt.date | None = None) -> list[LeftStudent]:
        """Every student off the roster, those due first, then by class."""
        self._require_officer()
        today = today or self.ctx.now().date()
        years = self.school_years()
        with self.ctx.profile.session() as s:
            archives = self._archives(s)
            gone = load_without_sealed(s, "student", StudentRow.on_roster.is_(False))
            out = [LeftStudent(st.id, st.name, st.class_name, st.student_no, st.left_on,
                               retention_ends(st.left_on, years) if st.left_on else None,
                               is_due(st.on_roster, st.left_on, today, years), self._count(s, st.id),
                               archives.get(st.id, {}).get("sha256", "")) for st in gone]
        out.sort(key=lambda r: (not r.due, class_sort_key(r.class_name), r.student_no, r.name))
        return out

    # -- 1. the archive -------------------------------------------------------------------------
    def _jobs(self, student_id: str) -> tuple[ArchiveJob, Any, list]:
        from visitapp.printing.archive import ArchiveJob
        docs = self.ws.documents
        contents = docs.subject_access_job(student_id)
        student = contents.student
        years = self.school_years()
        job = ArchiveJob(contents, student.left_on, retention_ends(student.left_on, years) if student.left_on else None,
                         years)
        with self.ctx.profile.session() as s:
            visit_ids = [vid for (vid,) in s.execute(
                select(VisitRow.id).where(VisitRow.student_id == student_id, VisitRow.amends_id.is_(None),
                                          VisitRow.status.in_([VisitStatus.FINAL, VisitStatus.VOIDED]))
                .order_by(VisitRow.finalized_at))]
        return job, docs.growth_file_job(student_id), [docs.visit_job(v) for v in visit_ids]

    def archive(self, student_id: str, out: Path, today: dt.date | None = None) -> str:
        """Print the long-term archive of a student whose retention has passed to ``out``;
        returns the file's SHA-256 (what the erase sends and the deletion record keeps)."""
        self._require_officer()
        self._check_due(student_id, today)
        from visitapp.printing.archive import file_sha256, render_archive
        job, growth, sheets = self._jobs(student_id)
        report = render_archive(job, growth, sheets, Path(out))
        digest = file_sha256(Path(out))
        with self.ctx.profile.session() as s, s.begin():
            archives = self._archives(s)
            archives[student_id] = {"sha256": digest, "contents": job.fingerprint().hash,
                                    "at": self.ctx.now().isoformat(), "pages": report.pages}
            row = s.get(SettingRow, ARCHIVES_KEY) or SettingRow(id=ARCHIVES_KEY)
            row.secret = archives
            s.add(row)
            self.ctx.audit(s, "retention.archive", "student", student_id,
                           {"records": len(job.contents.records()), "pages": report.pages, "sha256": digest})
        return digest

    def _check_due(self, student_id: str, today: dt.date | None) -> None:
        today = today or self.ctx.now().date()
        with self.ctx.profile.session() as s:
            found = load_without_sealed(s, "student", StudentRow.id == student_id)
        if not found:
            raise DomainError("student.not_found")
        st = found[0]
        if st.on_roster:
            raise DomainError("retention.on_roster")
        if not is_due(st.on_roster, st.left_on, today, self.school_years()):
            if not st.left_on:
                raise DomainError("retention.not_due_unknown")
            raise DomainError("retention.not_due", ends=retention_ends(st.left_on, self.school_years()).isoformat())

    # -- 2. the erase ---------------------------------------------------------------------------
    def erased(self) -> dict[str, dict]:
        """Students this laptop erased: id -> the deletion record the server answered."""
        with self.ctx.profile.session() as s:
            row = s.get(SettingRow, ERASED_KEY)
            return dict(row.secret or {}) if row is not None else {}

    def erase(self, student_id: str, today: dt.date | None = None) -> Erasure:
        """Erase the student from the server, then from this laptop (see the module's text).
        Again for a student already erased: the server also erases what laptops sent about
        the student since (kept as orphaned work meanwhile, never dropped unseen)."""
        self._require_officer()
        engine = self.ws.sync
        before = self.erased().get(student_id)
        if before is not None:
            record, _late = self._erase_again(student_id, before)
            return Erasure(student_id, str(record.get("erased_at", "")), str(record.get("erased_by", "")),
                           dict(record.get("counts", {})), before["archive_sha256"], 0)
        self._check_due(student_id, today)
        if not engine.enrolled:
            raise DomainError("retention.not_enrolled")
        report = engine.run()  # send what is waiting, receive what others sent, before deciding
        if not report.ok:
            raise DomainError("retention.sync_incomplete", reasons="；".join(reason for _rid, reason in report.errors[:3]))
        with self.ctx.profile.session() as s:
            if _pending_about(s, student_id):
                raise DomainError("retention.unsent_changes")
            archived = self._archives(s).get(student_id)
        if not archived:
            raise DomainError("retention.archive_first")
        job, _growth, _sheets = self._jobs(student_id)
        if job.fingerprint().hash != archived.get("contents"):
            raise DomainError("retention.archive_stale")
        redacted = self._redact_minutes(job.contents.student)
        if redacted:
            # the redacted minutes reach the server before the student is erased there
            report = engine.run()
            with self.ctx.profile.session() as s:
                unsent = s.execute(select(OutboxRow.seq).where(OutboxRow.record_kind == "review_meeting",
                                                              OutboxRow.record_id.in_(redacted))).first()
            if not report.ok or unsent is not None:
                raise DomainError("retention.sync_incomplete",
                                  reasons="；".join(reason for _rid, reason in report.errors[:3]) or "集体评议记录未上传")
        record = self._post(student_id, archived["sha256"], redacted)
        with self.ctx.profile.session() as s, s.begin():
            erased = s.get(SettingRow, ERASED_KEY) or SettingRow(id=ERASED_KEY)
            erased.secret = {**(erased.secret or {}), student_id: record}
            s.add(erased)
            local = self._count(s, student_id)
            _delete_student(s, student_id)
            archives = self._archives(s)
            archives.pop(student_id, None)
            row = s.get(SettingRow, ARCHIVES_KEY)
            if row is not None:
                row.secret = archives
            self.ctx.audit(s, "retention.erase", "student", student_id,
                           {"counts": record.get("counts", {}), "local_records": local,
                            "archive_sha256": archived["sha256"]})
        self._rewrite_file()
        engine.run()  # the erase's audit event goes up now; a failure here is retried next sync
        return Erasure(student_id, str(record.get("erased_at", "")), str(record.get("erased_by", "")),
                       dict(record.get("counts", {})), archived["sha256"], local)

    def erased_students(self) -> list[ErasedStudent]:
        """The students this laptop erased, the latest first; refuses anyone but the officer."""
        self._require_officer()
        out = []
        for sid, record in self.erased().items():
            counts = {k: int(v) for k, v in dict(record.get("counts", {})).items()}
            out.append(ErasedStudent(sid, str(record.get("erased_at", "")), sum(counts.values()),
                                     int(record.get("late_erased", 0))))
        return sorted(out, key=lambda e: (e.erased_at, e.student_id), reverse=True)

    def erase_late_work(self, student_id: str) -> int:
        """Erase, for a student already erased, the changes laptops sent about them since (kept
        as orphaned work meanwhile: print them from 孤立记录 first if the archive needs them);
        answers how many this call erased. Refuses a student this laptop did not erase
        (``retention.not_erased``) and, from the server, anyone but the officer."""
        self._require_officer()
        before = self.erased().get(student_id)
        if before is None:
            raise DomainError("retention.not_erased")
        _record, late = self._erase_again(student_id, before)
        return late

    def _erase_again(self, student_id: str, before: dict) -> tuple[dict, int]:
        """The erase asked again: the server erases what arrived late and answers the deletion
        record with its count added; kept here, with the count this laptop saw erased."""
        record = self._post(student_id, before["archive_sha256"])
        late = max(0, int(record.get("counts", {}).get("orphaned_work", 0))
                   - int(before.get("counts", {}).get("orphaned_work", 0)))
        with self.ctx.profile.session() as s, s.begin():
            erased = s.get(SettingRow, ERASED_KEY) or SettingRow(id=ERASED_KEY)
            kept = {**record, "late_erased": int(before.get("late_erased", 0)) + late}
            erased.secret = {**(erased.secret or {}), student_id: kept}
            s.add(erased)
            if late:
                self.ctx.audit(s, "retention.erase_late", "student", student_id, {"orphaned_work": late})
        return record, late

    def _post(self, student_id: str, sha256: str, redacted: list[str] | None = None) -> dict:
        return self.ws.officer.erase_student(student_id, sha256, self.school_years(), redacted or [])

    def _redact_minutes(self, student: Any) -> list[str]:
        """Replace the student's name, number and id in every review meeting's minutes that
        names them (audited per meeting, ids only); answers the meetings changed."""
        changed: list[str] = []
        with self.ctx.profile.session() as s, s.begin():
            for row in s.scalars(select(ReviewMeetingRow).order_by(ReviewMeetingRow.id)):
                meeting = entity_from_row("review_meeting", row)
                minutes = redact_student(meeting.minutes or "", student.name, student.student_no, student.id)
                if minutes == (meeting.minutes or ""):
                    continue
                self.ctx.write(s, dataclasses.replace(meeting, minutes=minutes), "review_meeting.redact",
                               detail={"erased_student": student.id})
                changed.append(meeting.id)
        return changed

    def _rewrite_file(self) -> None:
        """VACUUM, so the erased rows' envelopes do not stay in the file's free pages or WAL."""
        engine = self.ctx.profile.engine
        if engine is None:
            return
        try:
            self._vacuum(engine)
        except Exception as exc:  # noqa: BLE001 - the rows are deleted; only the file's free pages wait
            log.warning("retention: VACUUM of the profile failed: %s", type(exc).__name__)

    @staticmethod
    def _vacuum(engine: Any) -> None:
        with engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        raw = engine.raw_connection()
        conn = raw.driver_connection
        before = conn.isolation_level
        try:
            conn.isolation_level = None  # VACUUM cannot run inside a transaction
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.isolation_level = before  # the pool hands this connection out again
            raw.close()


def _pending_about(session: Any, student_id: str) -> bool:
    return pending_about(session, student_id)


def _delete_student(session: Any, student_id: str) -> None:
    delete_student_data(session, student_id)
    # what the engine's purge keeps: queued changes (none: checked above) and set-aside copies
    session.execute(OutboxRow.__table__.delete().where(OutboxRow.record_id == student_id))
