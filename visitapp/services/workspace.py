"""The workspace: an open, unlocked profile with its services. This is what the CLI and the
UI hold; everything they do goes through it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from visitapp.crypto import KdfParams
from visitapp.services.assignments import AssignmentService, StaffService
from visitapp.services.audit import AuditService
from visitapp.services.base import GENESIS_HASH, Identity, ServiceContext, audit_hash, count_pending, new_id
from visitapp.services.conflicts import ConflictService
from visitapp.services.documents import DocumentService
from visitapp.services.growth import GrowthService
from visitapp.services.mentor import MentorService
from visitapp.services.notice import NoticeService
from visitapp.services.officer import OfficerService
from visitapp.services.officer_keys import OfficerKeysService
from visitapp.services.reports import ReportService
from visitapp.services.review import ReviewService
from visitapp.services.settings import SettingsService
from visitapp.services.students import StudentService
from visitapp.services.sync import SyncService
from visitapp.services.visits import VisitService
from visitapp.services.workload import WorkloadService
from visitapp.services.applications import ApplicationService
from visitapp.services.record_review import RecordReviewService
from visitapp.services.retention import RetentionService
from visitapp.services.support import SupportService
from visitapp.storage.models import AuditEventRow
from visitapp.storage.profile import Profile
from visitapp.storage.records import entity_from_row


PASSPHRASE_RESET = "profile.passphrase_reset"


class Workspace:
    def __init__(self, profile: Profile, now: Callable[[], dt.datetime] | None = None):
        self.profile = profile
        self.ctx = ServiceContext(profile, now)
        self.students = StudentService(self.ctx)
        self.visits = VisitService(self.ctx)
        self.growth = GrowthService(self.ctx)
        self.mentor = MentorService(self.ctx, self.students)
        self.review = ReviewService(self.ctx)
        self.assignments = AssignmentService(self.ctx)
        self.staff = StaffService(self.ctx)
        self.conflicts = ConflictService(self.ctx)
        self.settings = SettingsService(self.ctx)
        self.documents = DocumentService(self.ctx)
        self.reports = ReportService(self.ctx)
        self.notices = NoticeService(self.ctx)
        self.workload = WorkloadService(self.ctx)
        self.audit = AuditService(self.ctx)
        self.sync = SyncService(self.ctx)
        # issue 14: the one key service, over the sync service's connection (its pinned session,
        # address, token and timeouts) — nothing else builds a key-directory client
        self.keys = self.sync.keys
        self.officer = OfficerService(self.ctx, self.sync)
        self.officer_keys = OfficerKeysService(self.keys, self.officer)
        # issue 15: coverage 1 and 重点帮扶 (officer records), and the retention of leavers' data
        self.support = SupportService(self.ctx)
        self.retention = RetentionService(self)
        self.applications = ApplicationService(self.ctx)      # issue 15: 申请
        self.record_reviews = RecordReviewService(self.ctx)   # issue 15: 谁审核谁负责

        if not profile.locked:
            self.settings.upgrade()

    @property
    def path(self) -> Path:
        """The profile folder."""
        return self.profile.path

    @property
    def identity(self) -> Identity:
        """Who this profile is (staff, role, device, school, server)."""
        return self.ctx.identity

    @property
    def locked(self) -> bool:
        """Whether the profile's keys are dropped (idle lock or Ctrl+L)."""
        return self.profile.locked

    def pending_count(self) -> int:
        """Changes waiting to be sent at the next sync; refuses nothing."""
        with self.profile.session() as s:
            return count_pending(s)

    def lock(self) -> None:
        """Drop the keys from memory; refuses nothing."""
        self.profile.lock()

    def unlock(self, passphrase: str) -> None:
        """Take the keys back with the passphrase; refuses a wrong passphrase (with a growing delay)."""
        self.profile.unlock(passphrase)

    def unlock_with_recovery(self, recovery_key: str, new_passphrase: str) -> None:
        """After an idle lock: the recovery key replaces a forgotten passphrase."""
        self.profile.unlock_with_recovery(recovery_key, new_passphrase)
        self._audit_passphrase_reset()

    def change_passphrase(self, new_passphrase: str) -> None:
        """Re-wrap the keys under a new passphrase; refuses a weak passphrase."""
        self.profile.change_passphrase(new_passphrase)

    def _audit_passphrase_reset(self) -> None:
        # A reset by recovery key means someone held the printed sheet: the school sees it in
        # the audit trail like any other change made on this device.
        ident = self.identity
        with self.profile.session() as s, s.begin():
            self.ctx.audit(s, PASSPHRASE_RESET, "staff", ident.staff_id, {"via": "recovery_key"})

    def close(self) -> None:
        """Close the profile and release its process lock; refuses nothing."""
        self.profile.close()

    def verify_audit_chain(self) -> int:
        """Check this device's hash chain; return its length or raise ValueError at the first break."""
        with self.profile.session() as s:
            rows = s.scalars(select(AuditEventRow).where(AuditEventRow.device_id == self.identity.device_id)
                             .order_by(AuditEventRow.seq))
            prev, count = GENESIS_HASH, 0
            for row in rows:
                event = entity_from_row("audit_event", row)
                if event.prev_hash != prev or audit_hash(event) != event.hash:
                    raise ValueError(f"审计链在第 {event.seq} 条处断开")
                prev, count = event.hash, count + 1
        return count

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def create_profile(profile_dir: Path, passphrase: str, *, staff_name: str = "本机用户", role: str = "teacher",
                   school_name: str = "", kdf: KdfParams | None = None,
                   now: Callable[[], dt.datetime] | None = None) -> tuple[Workspace, str]:
    """A new profile. Returns the open workspace and the recovery key, to be shown once."""
    profile, recovery = Profile.create(Path(profile_dir), passphrase, kdf)
    ws = Workspace(profile, now)
    with profile.session() as s, s.begin():
        ws.ctx.set_identity(s, Identity(staff_id=new_id(), staff_name=staff_name, role=role,
                                        device_id=new_id(), school_name=school_name))
    return ws, recovery


def open_profile(profile_dir: Path, passphrase: str, now: Callable[[], dt.datetime] | None = None) -> Workspace:
    return Workspace(Profile.open(Path(profile_dir), passphrase), now)


def open_profile_with_recovery(profile_dir: Path, recovery_key: str, new_passphrase: str,
                               now: Callable[[], dt.datetime] | None = None) -> Workspace:
    """Open a profile whose passphrase is forgotten: the printed recovery key unlocks it and
    ``new_passphrase`` becomes its passphrase. A wrong or mistyped key, or a too short new
    passphrase, raises (RecoveryKeyError, WeakPassphrase) and changes nothing."""
    ws = Workspace(Profile.open_with_recovery(Path(profile_dir), recovery_key, new_passphrase), now)
    try:
        ws._audit_passphrase_reset()
    except BaseException:
        ws.close()
        raise
    return ws
