"""The officer's calls to the school server, beside sync: the platform exchange
(``/v1/platform/...``), orphaned work (``/v1/orphans``) and the school's devices
(``/v1/devices``). They are one kind of thing: officer-only requests over the enrolled
connection (:meth:`SyncService.connect`, so pinning, retries and revocation are sync's),
answered with the wire models of :mod:`visitapp.protocol`, refused with the server's sentence
as :class:`~visitapp.services.transport.ServerRefused`.

The school server does the exchange with the city platform; this laptop never talks to the
platform. A roster apply or an aid pull changes records on the server: the laptop receives
them at its next sync (the screen offers it). Orphaned work is what a laptop uploaded that the
server did not apply as its teacher's record; the officer accepts it, hands it to the teacher
now in charge, or discards it with a reason, and the server audits each decision.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from visitapp.protocol import platform as pp
from visitapp.protocol.orphans import DeviceList, OrphanItem, OrphanList, OrphanResolveResponse
from visitapp.crypto.errors import NotAReader
from visitapp.services.base import ServiceContext
from visitapp.services.keys import KEY_CALL_ERRORS
from visitapp.services.sync import SyncService
from visitapp.services.tier_c import TierC
from visitapp.services.transport import ServerRefused, SyncError
from visitapp.storage.models import MODEL_BY_KIND
from visitapp.storage.records import entity_from_row

log = logging.getLogger(__name__)
# a roster pull from the platform takes the platform's time as well as the server's
PLATFORM_TIMEOUT = 300.0


@dataclass(frozen=True)
class OrphanView:
    """One orphaned change as the officer's screen lists it: the wire item joined with the
    student's name from this laptop and a short excerpt of its text."""

    id: str
    kind: str
    record_id: str
    student_id: str | None
    student_name: str
    author_name: str
    code: str
    reason: str
    created_at: dt.datetime
    is_draft: bool
    visit_date: str
    mode: str
    made_while_assigned: bool | None
    excerpt: str
    status: str


@dataclass(frozen=True)
class DeviceView:
    """One of the school's devices with its times shortened to the minute for the screen."""

    id: str
    staff_name: str
    label: str
    last_seen_at: str
    state: str
    wiped_at: str


def _excerpt(o: OrphanItem, tier_c: TierC) -> str:
    """The first words of an orphaned change's text, opened on this laptop (the server holds
    it sealed); empty when this laptop holds no key for it."""
    try:
        values = tier_c.open(o.kind, o.record_id, o.routing, o.student_id, o.sealed) or {}
    except (NotAReader, ValueError):
        return ""
    for key in ("narrative", "text", "value", "family_situation"):
        value = values.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:60]
    return ""


class OfficerService:
    def __init__(self, ctx: ServiceContext, sync: SyncService, platform_timeout: float = PLATFORM_TIMEOUT):
        self.ctx = ctx
        self.sync = sync
        self.platform_timeout = platform_timeout

    def _request(self, method: str, path: str, *, platform: bool = False, **kwargs: Any):
        # the platform's calls: a 502 already means the server retried the platform, so do not
        # multiply the wait, and a POST that may have reached the server is not sent again
        server = (self.sync.connect(repeatable=("GET",), retry_server_errors=False) if platform
                  else self.sync.connect())
        try:
            response = server.request(method, path, timeout=self.platform_timeout if platform else None, **kwargs)
        finally:
            server.close()
        if response.status_code != 200:
            raise ServerRefused.of(response)
        return response

    def _platform(self, model, method: str, path: str, body: dict | None = None, params: dict | None = None):
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs["json"] = body
        if params:
            kwargs["params"] = params
        return model.model_validate(self._request(method, f"/v1/platform/{path}", platform=True, **kwargs).json())

    # -- retention (issue 15) ----------------------------------------------------------------------
    def erase_student(self, student_id: str, archive_sha256: str, school_years: int,
                      redacted_minutes: list[str] | None = None) -> dict:
        """Ask the server to erase a leaver whose retention has passed, naming the archive made
        first and the review meetings whose minutes this laptop redacted of the student;
        refuses (ServerRefused) a student still on the roster, not yet due, or a device that is
        not the officer's. Answers the server's deletion record."""
        body = {"student_id": student_id, "archive_sha256": archive_sha256, "school_years": school_years}
        if redacted_minutes:
            body["redacted_minutes"] = list(redacted_minutes)
        return self._request("POST", "/v1/retention/erase", json=body).json()

    # -- the platform exchange -------------------------------------------------------------------
    def platform_status(self) -> pp.PlatformStatus:
        """Whether the server has the city platform configured, and the current term; refuses
        (ServerRefused) a device that is not the officer's."""
        return self._platform(pp.PlatformStatus, "GET", "status")

    def preview_roster(self, term: str | None = None) -> pp.RosterPreviewResponse:
        """What a roster pull would add, change and take off, changing nothing; refuses when
        the platform is not configured or cannot be reached."""
        return self._platform(pp.RosterPreviewResponse, "POST", "roster/preview", {"term": term})

    def apply_roster(self, preview: pp.RosterPreviewResponse, force: bool = False) -> pp.RosterApplyResponse:
        """Apply exactly the previewed changes; refuses a preview gone stale and, unless
        ``force``, one that would take more than half of the roster off."""
        return self._platform(pp.RosterApplyResponse, "POST", "roster/apply",
                              {"preview_id": preview.preview_id, "term": preview.term, "force": force})

    def pull_aid(self, term: str | None = None) -> pp.AidPullResponse:
        """Bring the platform's aid records of the term onto the server; refuses when the
        platform is not configured or cannot be reached."""
        return self._platform(pp.AidPullResponse, "POST", "aid/pull", {"term": term})

    def push_to_platform(self, term: str | None = None, statistics: bool = True) -> pp.PlatformPushResponse:
        """Send what is pending for the term (allow-listed facts, no free text) and its
        statistics; refuses when the platform is not configured."""
        return self._platform(pp.PlatformPushResponse, "POST", "push", {"term": term, "statistics": statistics})

    def reconciliation(self, term: str | None = None) -> pp.ReconciliationResponse:
        """Where the platform and the school disagree for the term; refuses a teacher's device."""
        return self._platform(pp.ReconciliationResponse, "GET", "reconciliation",
                              params={"term": term} if term else None)

    def save_reconciliation_xlsx(self, path: Path, term: str | None = None) -> Path:
        """Download the report's workbook to ``path`` (written whole or not at all); refuses as
        :meth:`reconciliation` does."""
        response = self._request("GET", "/v1/platform/reconciliation.xlsx", platform=True,
                                 params={"term": term} if term else None)
        path = Path(path)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(response.content)
        tmp.replace(path)
        return path

    def exchanges(self, last: int = 200) -> list[pp.ExchangeModel]:
        """The last exchanges with the platform, newest first; refuses a teacher's device."""
        return self._platform(pp.ExchangeList, "GET", "exchanges", params={"last": last}).exchanges

    # -- orphaned work and devices ---------------------------------------------------------------
    def orphans(self, status: str = "open") -> list[OrphanView]:
        """Orphaned work with this status; refuses a teacher's device."""
        items = OrphanList.model_validate(self._request("GET", "/v1/orphans", params={"status": status}).json())
        return [self._view(o) for o in items.orphans]

    def _student_name(self, student_id: str | None) -> str:
        if not student_id:
            return ""
        with self.ctx.profile.session() as s:
            row = s.get(MODEL_BY_KIND["student"], student_id)
            return entity_from_row("student", row).name if row is not None else ""

    def _view(self, o: OrphanItem) -> OrphanView:
        facts = o.facts or {}
        return OrphanView(
            id=o.id, kind=o.kind, record_id=o.record_id, student_id=o.student_id,
            student_name=self._student_name(o.student_id), author_name=o.author_name, code=o.code,
            reason=o.reason, created_at=dt.datetime.fromisoformat(o.created_at),
            is_draft=o.kind == "visit" and o.routing.get("status", "draft") == "draft",
            visit_date=str(facts.get("visit_date") or ""), mode=str(facts.get("mode") or ""),
            made_while_assigned=o.made_while_assigned, excerpt=_excerpt(o, TierC(self.sync.keys)), status=str(o.status))

    def resolve_orphan(self, orphan_id: str, action: str, reason: str = "", to_staff: str | None = None
                       ) -> OrphanResolveResponse:
        """Accept, hand over or discard one orphaned change; refuses one already resolved, a
        discard without a reason and a handover to nobody."""
        body = {"action": action, "reason": reason, "to_staff": to_staff}
        return OrphanResolveResponse.model_validate(
            self._request("POST", f"/v1/orphans/{orphan_id}/resolve", json=body).json())

    def devices(self) -> list[DeviceView]:
        """The school's devices and their states; refuses a teacher's device."""
        items = DeviceList.model_validate(self._request("GET", "/v1/devices").json()).devices
        return [DeviceView(d.id, d.staff_name, d.label, (d.last_seen_at or "")[:16].replace("T", " "), d.state,
                           (d.wiped_at or "")[:16].replace("T", " ")) for d in items]

    def device_action(self, device_id: str, action: str) -> list[DeviceView]:
        """Retire, revoke or reinstate a device, then list them again; refuses what the
        server's device rules refuse."""
        self._request("POST", f"/v1/devices/{device_id}/{action}")
        if action == "revoke":
            self._rotate_keys_after_revoking(device_id)
        return self.devices()

    def _rotate_keys_after_revoking(self, device_id: str) -> None:
        """Every student whose key the revoked device held moves to a new key epoch at once (on
        this officer laptop, which holds the officer key): new writes use a key it never gets."""
        keys = self.sync.keys
        try:
            server = self.sync.connect(repeatable=("GET",))
        except SyncError:
            return
        try:
            with keys.over(self.sync.key_directory(server)):
                if keys.has_officer_key():
                    keys.rotate_after_revocation(device_id)
        except KEY_CALL_ERRORS as exc:  # the next sync rotates what is left (KeyService.after_sync)
            log.warning("key rotation after revoking %s not done: %s", device_id, type(exc).__name__)
        finally:
            server.close()
