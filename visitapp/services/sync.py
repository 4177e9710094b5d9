"""The client's sync service (docs/architecture.md, sync): push the outbox in batches, then pull until done.

- Resumable: the outbox row of a change goes only after the server acknowledged it, and the
  pull cursor moves in the same transaction as the changes it covers, so an interruption at
  any point just means the next sync starts where this one stopped.
- Idempotent: a mutation's id is its newest outbox row's id, so a retried batch (after a lost
  response) gets the server's first answer and nothing is applied twice.
- Careful: a pulled change never overwrites a record with pending local changes; the push of
  those changes then carries the older ``base_seq`` and the server records a conflict.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import requests
from pydantic import ValidationError
from sqlalchemy import delete, exists, select, update
from uuid6 import uuid7

from visitapp import messages
from visitapp.domain import ENTITY_BY_KIND
from visitapp.domain.errors import Problem
from visitapp.domain.tiers import school_only_fields
from visitapp.protocol.orphans import WipedRequest
from visitapp.crypto.errors import NotAReader
from visitapp.protocol.records import RecordInvalid, decode_tier_c, is_sealed, key_name_of, read_record_parts, sealed_form
from visitapp.protocol.sync import (
    MAX_BATCH, Change, EnrollResponse, MetaResponse, Mutation, PullResponse, PushRequest, PushResponse,
    decode_enrollment_code, unwrap_conflict_sealed, wrap_conflict_sealed,
)
from visitapp.services import settings
from visitapp.services.base import Identity, ServiceContext
from visitapp.services.keys import KEY_CALL_ERRORS, NOT_YET_PUBLISHED, EnrolledKeys, KeyDirectoryClient, KeyService
from visitapp.services.settings import (
    CONNECT_TIMEOUT_KEY, DEFERRED_PURGES_KEY, DEVICE_TOKEN_KEY, KEYS_MARKER_KEY, LAST_SYNC_AT_KEY, ORPHAN_NOTICES_KEY,
    READ_TIMEOUT_KEY, SERVER_FINGERPRINT_KEY, SERVER_URL_KEY, SYNC_CURSOR_KEY,
)
from visitapp.services.transport import (
    DEFAULT_BACKOFF, DEFAULT_RETRIES, AbandonableSession, DeviceRevoked, NotEnrolled, ServerConnection, SyncCancelled,
    SyncError, error_detail, make_http_session, said_reason,
)
from visitapp.services.tier_c import NOT_YET_READABLE, TierC
from visitapp.storage.models import MODEL_BY_KIND, OutboxRow, QuarantineRow, SealedWireRow, SyncErrorRow, UnopenedRow
from visitapp.storage.records import apply_to_row, insert_new_rows, row_parts

log = logging.getLogger(__name__)
# the settings a connection to the enrolled server is made of
CONNECTION_KEYS = (DEVICE_TOKEN_KEY, SERVER_URL_KEY, SERVER_FINGERPRINT_KEY, CONNECT_TIMEOUT_KEY, READ_TIMEOUT_KEY)
ProgressFn = Callable[[int, int, str], None]
PULL_PAGE = 1000
# whether anything waits to be pushed, and whether the last sync left problems: one statement
_OUTBOX_AND_ERRORS = select(exists(select(OutboxRow.seq)), exists(select(SyncErrorRow.id)))

_collector_lock = threading.Lock()
_collector_pauses = [0, False]  # syncs running now, whether the collector was on before the first


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while a sync runs (several may, on threads): a sync
    makes hundreds of thousands of short-lived objects, which reference counting frees; the
    collections they set off cost a tenth of a 4,000-record pull, and a full one on a large
    heap holds the interpreter lock, and so the window, for hundreds of milliseconds."""
    with _collector_lock:
        if _collector_pauses[0] == 0:
            _collector_pauses[1] = gc.isenabled()
            gc.disable()
        _collector_pauses[0] += 1
    try:
        yield
    finally:
        with _collector_lock:
            _collector_pauses[0] -= 1
            if _collector_pauses[0] == 0 and _collector_pauses[1]:
                gc.enable()


@dataclass
class SyncReport:
    pushed: int = 0
    pulled: int = 0
    conflicts: int = 0
    purged_students: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    # pulled records this laptop could not read: (record id, reason), kept aside, not fatal
    quarantined: list[tuple[str, str]] = field(default_factory=list)
    # changes the server kept as orphaned work for the officer (record id, reason); also in errors
    orphaned: list[tuple[str, str]] = field(default_factory=list)
    # key work that did not go through (a wrap refused, a device not certified): shown, not fatal
    warnings: list[str] = field(default_factory=list)
    # devices this officer's laptop certified in this sync (their enrollment binding checked out)
    certified_devices: list[str] = field(default_factory=list)
    # officer: tier C values on the server sealed again under the students' keys in this sync
    resealed: int = 0
    finished_at: dt.datetime | None = None
    cancelled: bool = False
    # (record id, stored reason) -> the reason with the message id the server said it by
    # (visitapp.domain.errors.Problem): the window says the errors and orphans in its language
    said: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.cancelled


class Enrollment(EnrollResponse):
    """The server's answer to an enrollment, and what this laptop did with its keys: the
    fingerprint its screen shows (the officer compares it), and ``keys_state`` —
    ``pinned``, ``not_yet_certified`` or ``not_yet_published`` (:class:`EnrolledKeys`)."""

    fingerprint: str | None = None
    keys_state: str = NOT_YET_PUBLISHED
    keys_certified: bool = False


class SyncService:
    """Enrollment and sync with the school server; the transport is :mod:`visitapp.services.transport`.
    Its :attr:`keys` (the workspace's ``keys``) talks to the key directory over this service's
    own connection."""

    def __init__(self, ctx: ServiceContext, connect_timeout: float | None = None, read_timeout: float | None = None,
                 retries: int = DEFAULT_RETRIES, backoff: float = DEFAULT_BACKOFF):
        """Timeouts left ``None`` come from the settings ``sync_connect_timeout`` and
        ``sync_read_timeout`` (seconds, :mod:`visitapp.services.settings`)."""
        self.ctx = ctx
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.retries = retries
        self.backoff = backoff
        self.keys = KeyService(ctx.profile, connect=self.key_directory)

    def key_directory(self, server: ServerConnection | None = None, memo_directory: bool = False) -> KeyDirectoryClient:
        """The key directory over ``server`` (default: a new connection to the enrolled server),
        with its session, address, token and timeouts. ``memo_directory``: one listing for the
        whole of one sync (see :class:`KeyDirectoryClient`)."""
        server = server or self.connect()
        return KeyDirectoryClient(server.http, server.url, server.token,
                                  timeout=(server.connect_timeout, server.read_timeout), memo_directory=memo_directory)

    @property
    def timeout(self) -> float:
        """The read timeout (kept for callers that set one number)."""
        return self.timeouts()[1]

    @timeout.setter
    def timeout(self, seconds: float) -> None:
        """The read timeout in seconds (for callers that set one number); refuses nothing."""
        self.read_timeout = seconds

    def timeouts(self) -> tuple[float, float]:
        """(connect, read) seconds of every call: those set here, else the settings."""
        with self.ctx.profile.session() as s:
            return self._timeouts(settings.read_many(s, CONNECT_TIMEOUT_KEY, READ_TIMEOUT_KEY))

    def _timeouts(self, found: dict[str, Any]) -> tuple[float, float]:
        return (self.connect_timeout or float(found[CONNECT_TIMEOUT_KEY]),
                self.read_timeout or float(found[READ_TIMEOUT_KEY]))

    def _setting(self, key: str) -> Any:
        with self.ctx.profile.session() as s:
            return settings.read(s, key)

    @property
    def enrolled(self) -> bool:
        """Whether this computer holds a device token of a school server."""
        return bool(self._setting(DEVICE_TOKEN_KEY))

    def last_sync_at(self) -> dt.datetime | None:
        """When the last complete sync ended, or None before the first."""
        value = self._setting(LAST_SYNC_AT_KEY)
        return dt.datetime.fromisoformat(value) if value else None

    def quarantined(self) -> list[tuple[str, str, str]]:
        """Pulled records set aside because this laptop cannot read them: (kind, id, reason)."""
        with self.ctx.profile.session() as s:
            return [(r.record_kind, r.record_id, r.reason)
                    for r in s.scalars(select(QuarantineRow).order_by(QuarantineRow.at, QuarantineRow.record_id))]

    def errors(self) -> list[tuple[str, str]]:
        """Per-record problems of the last sync: (record id, reason)."""
        with self.ctx.profile.session() as s:
            return [(r.record_id, r.reason) for r in s.scalars(select(SyncErrorRow).order_by(SyncErrorRow.id))]

    # -- HTTP ------------------------------------------------------------------------------------
    def connect(self, *, repeatable: tuple[str, ...] = ("GET", "POST"), retry_server_errors: bool = True,
                wipe_on_revoked: bool = True) -> ServerConnection:
        """The enrolled server's connection (pinned session, address, token, timeouts); refuses
        with :class:`NotEnrolled` before enrollment. Sync repeats its GETs and its pushes
        (idempotent by mutation id); the officer's calls repeat only GETs. A server answer
        ``device_revoked`` wipes this laptop (after uploading what it can) on any call."""
        with self.ctx.profile.session() as s:
            found = settings.read_many(s, *CONNECTION_KEYS)
        return self._connection(found, repeatable=repeatable, retry_server_errors=retry_server_errors,
                                wipe_on_revoked=wipe_on_revoked)

    def _connection(self, found: dict[str, Any], *, repeatable: tuple[str, ...] = ("GET", "POST"),
                    retry_server_errors: bool = True, wipe_on_revoked: bool = True) -> ServerConnection:
        """:meth:`connect` with the settings of :data:`CONNECTION_KEYS` already read."""
        token, url, fingerprint = found[DEVICE_TOKEN_KEY], found[SERVER_URL_KEY], found[SERVER_FINGERPRINT_KEY]
        if not token or not url:
            raise NotEnrolled("sync.not_enrolled")
        http = make_http_session(url, fingerprint, retries=self.retries, backoff=self.backoff,
                                 repeatable=repeatable, retry_server_errors=retry_server_errors)
        connect, read = self._timeouts(found)
        return ServerConnection(http, url.rstrip("/"), token, connect, read,
                                on_revoked=self._wipe if wipe_on_revoked else None)

    # -- enrollment ------------------------------------------------------------------------------
    def enroll(self, code: str, device_label: str = "") -> Enrollment:
        """Enroll this computer with the school server the code names and become its teacher;
        refuses (:class:`SyncError`) a damaged or spent code, and a certificate not the code's.
        Then makes and publishes this laptop's keys (:meth:`KeyService.enroll_device`; on the
        officer's laptop also the officer key); a server that cannot take them leaves the
        enrollment done and the keys "not yet published"."""
        try:
            server_url, fingerprint, secret = decode_enrollment_code(code)
        except ValueError as exc:
            raise SyncError(str(exc), getattr(exc, "message_id", "")) from None
        base = server_url.rstrip("/")
        # the code is single-use: a request that may have reached the server is not repeated
        http = make_http_session(base, fingerprint, retries=self.retries, backoff=self.backoff,
                                 repeatable=("GET",), retry_server_errors=False)
        connect, read = self.timeouts()
        server = ServerConnection(http, base, None, connect, read)
        try:
            response = server.request("POST", "/v1/enroll",
                                      json={"code": secret, "device_label": device_label or "visitapp"})
        finally:
            server.close()
        if response.status_code != 200:
            raise SyncError("sync.enroll_refused", detail=error_detail(response))
        enrolled = EnrollResponse.model_validate(response.json())
        old = self.ctx.identity
        with self.ctx.profile.session() as s, s.begin():
            settings.write(s, DEVICE_TOKEN_KEY, enrolled.token)
            settings.write(s, SERVER_URL_KEY, base)
            settings.write(s, SERVER_FINGERPRINT_KEY, fingerprint)
            settings.forget(s, KEYS_MARKER_KEY)  # another server, or a device of its own: key work anew
            self.ctx.set_identity(s, Identity(enrolled.staff_id, enrolled.staff_name, enrolled.role,
                                                 enrolled.device_id, enrolled.school_name, base))
            self._reattribute(s, old.staff_id, enrolled.staff_id)
        keys = self._enroll_keys(enrolled, code)
        return Enrollment(**enrolled.model_dump(), fingerprint=keys.fingerprint, keys_state=keys.state,
                          keys_certified=keys.certified)

    def _enroll_keys(self, enrolled: EnrollResponse, code: str) -> EnrolledKeys:
        try:
            server = self.connect(repeatable=("GET",), wipe_on_revoked=False)
        except SyncError as exc:
            log.warning("no connection for the device keys: %s", type(exc).__name__)
            return EnrolledKeys(None, NOT_YET_PUBLISHED)
        try:
            with self.keys.over(self.key_directory(server)):
                return self.keys.enroll_device(device_id=enrolled.device_id, staff_id=enrolled.staff_id,
                                               role=enrolled.role, school_id=enrolled.school_id, code=code)
        finally:
            server.close()

    def _reattribute(self, session: Any, old_staff: str, new_staff: str) -> None:
        """Work written before enrolling was signed with a local placeholder id; it is the
        enrolled teacher's work, so it is re-signed before its first push."""
        for model, column in ((MODEL_BY_KIND["visit"], "author_id"), (MODEL_BY_KIND["mentor_note"], "author_id"),
                              (MODEL_BY_KIND["growth_entry"], "author_id"), (MODEL_BY_KIND["application"], "author_id"),
                              (MODEL_BY_KIND["growth_profile_field"], "updated_by")):
            for row in session.scalars(select(model).where(getattr(model, column) == old_staff)):
                setattr(row, column, new_staff)

    def meta(self) -> MetaResponse:
        """The server's view of this device (school, staff, role, sequence); refuses
        (:class:`SyncError`) when the server does."""
        server = self.connect()
        try:
            response = server.request("GET", "/v1/sync/meta")
        finally:
            server.close()
        if response.status_code != 200:
            raise SyncError("sync.refused", detail=error_detail(response))
        return MetaResponse.model_validate(response.json())

    # -- sync -------------------------------------------------------------------------------------
    def run(self, progress: ProgressFn | None = None, cancel: threading.Event | None = None) -> SyncReport:
        """Push, then pull. With ``cancel`` (the window's 取消) every request can be abandoned:
        the sync returns a cancelled report within a fraction of a second of the event being
        set, at any point (waiting on the server, between two attempts, between batches). A
        step whose answer was applied stays applied; one still in flight is simply redone at
        the next sync. ``progress(0, 0, "connected")`` reports the server's first answer. The
        garbage collector waits meanwhile (:func:`collector_paused`)."""
        with collector_paused():
            return self._run(progress, cancel)

    def _run(self, progress: ProgressFn | None, cancel: threading.Event | None) -> SyncReport:
        report = SyncReport()
        # what the sync needs of the settings, read at once (a sync with nothing to do is
        # mostly such reads), and the last sync's problems cleared (a write only if there were any)
        with self.ctx.profile.session() as s, s.begin():
            state = settings.read_many(s, *CONNECTION_KEYS, SYNC_CURSOR_KEY, KEYS_MARKER_KEY, DEFERRED_PURGES_KEY)
            server = self._connection(state)
            # a change written from here on waits for the next sync, as one written during a push does
            outbox, errors = map(bool, s.connection().execute(_OUTBOX_AND_ERRORS).one())
            if errors:
                s.execute(delete(SyncErrorRow))
        if cancel is not None:
            server.http = AbandonableSession(server.http, cancel, on_answer=(
                lambda: progress(0, 0, "connected")) if progress else None)
        sent_any = False  # whether a push batch went up (its answers may list problems)
        try:
            keys_done_at = None  # the keys marker this sync finished its key work at
            with self.keys.over(self.key_directory(server, memo_directory=True)):
                tier_c = TierC(self.keys)
                sent_any = outbox and self._push(server, report, progress, cancel, tier_c)
                marker = None
                if not report.cancelled:
                    marker = self._pull(server, report, progress, cancel, tier_c, int(state[SYNC_CURSOR_KEY] or 0))
                if not report.cancelled:
                    # a purge deferred before, or by this pull, may go now; none waits otherwise
                    self._drop_notes_of_former_mentees(
                        run_deferred=bool(state[DEFERRED_PURGES_KEY]) or report.purged_students > 0)
                if not report.cancelled and not self._key_work_can_wait(report, marker, state[KEYS_MARKER_KEY]):
                    officer = self.ctx.identity.is_officer
                    keys = self.keys.after_sync(officer=officer)
                    report.warnings.extend(keys.warnings)
                    report.certified_devices.extend(keys.certified)
                    # keys fetched just now open what the pull could not
                    self._open_waiting(report, tier_c)
                    if officer and self.keys.has_officer_key():
                        report.resealed = self._reseal(server, tier_c, report)
                    if marker is not None and not report.cancelled and self.keys.key_work_settled(officer=officer):
                        keys_done_at = marker
                report.warnings.extend(tier_c.warnings)
                if report.warnings:
                    keys_done_at = None  # something did not go through: the next sync tries again
        except SyncCancelled:
            report.cancelled = True
        finally:
            server.close()
        report.finished_at = self.ctx.now()
        if not report.cancelled:
            with self.ctx.profile.session() as s, s.begin():
                settings.write_plain(s, LAST_SYNC_AT_KEY, report.finished_at.isoformat())
                if keys_done_at is not None and keys_done_at != state[KEYS_MARKER_KEY]:
                    settings.write(s, KEYS_MARKER_KEY, keys_done_at)
        # problems are written only by a push's answers (the last sync's were cleared above)
        report.errors = [(rid, report.said.get((rid, why), why)) for rid, why in self.errors()] if sent_any else []
        return report

    @staticmethod
    def _key_work_can_wait(report: SyncReport, marker: int | None, done_at: int | None) -> bool:
        """Whether this sync may skip its key work (the directory, the wraps, the re-seal queue,
        the officer's sharing): nothing was pushed or pulled, and the server's keys marker is
        ``done_at``, the one this laptop last finished its key work at (any change key work
        reads moves it; this laptop's own key writes forget the one kept). An older server
        sends none."""
        if marker is None or report.pushed or report.pulled or report.purged_students or report.quarantined:
            return False
        return int(done_at or 0) == marker

    def _pending_groups(self) -> list[tuple[str, str, list[OutboxRow]]]:
        """One group per record, its outbox rows in order. A group goes up at the place of
        its newest change, not its first: the folded mutation carries the record's current
        state, and that state may rest on records written in between (a notice published,
        then an objection recorded and handled, then the notice closed: sent in order of
        creation, the closed notice would arrive before its objection, which the server
        then refuses)."""
        with self.ctx.profile.session() as s:
            groups: OrderedDict[tuple[str, str], list[OutboxRow]] = OrderedDict()
            for row in s.scalars(select(OutboxRow).order_by(OutboxRow.seq)):
                groups.setdefault((row.record_kind, row.record_id), []).append(row)
        ordered = sorted(groups.items(), key=lambda item: item[1][-1].seq)
        return [(k, r, rows) for (k, r), rows in ordered]

    def _mutation(self, session: Any, kind: str, record_id: str, rows: list[OutboxRow], tier_c: TierC,
                  sealed_now: dict[str, str], kept_wire: dict[str, str], waiting: dict[str, Any]) -> Mutation:
        """Fold a record's outbox rows into one mutation carrying its current state, its tier C
        sealed (the string of its first attempt, if it was sent before: ``sealed_now`` collects
        the new ones, which the caller keeps before sending)."""
        newest = rows[-1]
        model = MODEL_BY_KIND[kind]
        row = session.get(model, record_id)
        base_seq = rows[0].base_seq
        if row is None or newest.op == "delete":
            return Mutation(mutation_id=newest.mutation_id, record_id=record_id, kind=kind, op="delete",
                            base_seq=base_seq, hlc=newest.hlc)
        routing, facts, sealed = row_parts(row)
        student_id = routing.get("student_id") or (record_id if kind == "student" else None)
        kept = kept_wire.get(newest.mutation_id)
        if kept is not None:
            sealed_wire = kept
        elif kind == "conflict":
            # a resolution: the server wants the chosen value as the record's own sealed part,
            # so it is sealed for the record the conflict is about
            sealed_wire = None
            if routing.get("resolution") == "value":
                value = (sealed or {}).get("resolution_value")
                field_name = "text" if routing.get("record_kind") == "mentor_note" else "value"
                sealed_wire = tier_c.seal(str(routing.get("record_kind") or ""), str(routing.get("record_id") or ""),
                                          None, student_id, {field_name: value})
        else:
            unopened = waiting.get(UnopenedRow.key(kind, record_id))
            if unopened is not None and not any(v not in (None, "", [], {}) for v in (sealed or {}).values()):
                # a record this laptop could not open, changed in tier A or B only: its tier C
                # goes back as it came, never as the empty values shown here
                sealed_wire = unopened.get("sealed")
            else:
                sealed_wire = tier_c.seal(kind, record_id, routing, student_id, sealed)
        if kept is None and sealed_wire is not None:
            sealed_now[newest.mutation_id] = sealed_wire
        return Mutation(mutation_id=newest.mutation_id, record_id=record_id, kind=kind, op="upsert",
                        student_id=student_id or None, base_seq=base_seq, hlc=row.hlc or newest.hlc,
                        routing=routing, facts=facts, sealed=sealed_wire)

    def _keep_sealed(self, sealed_now: dict[str, str]) -> None:
        """Keep the sealed strings of this batch before it is sent (a retry sends the same).
        Only new ones are here (``_mutation`` reuses a kept one), so they are inserted at once."""
        if not sealed_now:
            return
        with self.ctx.profile.session() as s, s.begin():
            s.add_all([SealedWireRow(id=mutation_id, sealed={"s": sealed}) for mutation_id, sealed in sealed_now.items()])

    @staticmethod
    def _chunk_state(session: Any, chunk: list[tuple[str, str, list[OutboxRow]]]) -> tuple[dict, dict, list]:
        """What ``_mutation`` needs of a batch, read in a query per kind instead of three per
        record: the sealed strings kept from earlier attempts, the records kept unopened, and
        the records (loaded into the session, where ``session.get`` then finds them)."""
        ids = [rows[-1].mutation_id for _k, _r, rows in chunk]
        kept = {row.id: row.sealed["s"] for row in session.scalars(
            select(SealedWireRow).where(SealedWireRow.id.in_(ids)))}
        keys = [UnopenedRow.key(k, r) for k, r, _rows in chunk]
        waiting = {row.id: row.change for row in session.scalars(select(UnopenedRow).where(UnopenedRow.id.in_(keys)))}
        by_kind: dict[str, list[str]] = {}
        for k, r, _rows in chunk:
            by_kind.setdefault(k, []).append(r)
        held: list = []  # the records themselves: the session's identity map holds them only while referenced
        for k, ids_of_kind in by_kind.items():
            model = MODEL_BY_KIND[k]
            held += session.scalars(select(model).where(model.id.in_(ids_of_kind)))
        return kept, waiting, held

    def _forget_sent_sealed(self) -> None:
        with self.ctx.profile.session() as s, s.begin():
            s.execute(delete(SealedWireRow).where(SealedWireRow.id.not_in(select(OutboxRow.mutation_id))))

    def _push(self, server: ServerConnection, report: SyncReport,
              progress: ProgressFn | None, cancel: threading.Event | None, tier_c: TierC) -> bool:
        """Push the outbox in batches; answers whether a batch was sent."""
        groups = self._pending_groups()
        total = len(groups)
        device_id = self.ctx.identity.device_id
        for start in range(0, total, MAX_BATCH):
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                return start > 0
            chunk = groups[start:start + MAX_BATCH]
            sealed_now: dict[str, str] = {}
            with self.ctx.profile.session() as s:
                kept, waiting, _held = self._chunk_state(s, chunk)
                mutations = [self._mutation(s, k, r, rows, tier_c, sealed_now, kept, waiting) for k, r, rows in chunk]
            self._keep_sealed(sealed_now)
            batch_id = hashlib.sha256("|".join(m.mutation_id for m in mutations).encode()).hexdigest()[:32]
            body = PushRequest(device_id=device_id, batch_id=batch_id, mutations=mutations)
            response = server.request("POST", "/v1/sync/push", data=body.model_dump_json().encode(),
                                      json_body=True)
            if response.status_code != 200:
                raise SyncError("sync.push_refused", detail=error_detail(response))
            result = PushResponse.model_validate(response.json())
            self._apply_push_results(chunk, result, report)
            self._forget_sent_sealed()
            if progress:
                progress(min(start + len(chunk), total), total, "push")
        return total > 0

    def _apply_push_results(self, chunk: list[tuple[str, str, list[OutboxRow]]], result: PushResponse,
                            report: SyncReport) -> None:
        by_record = {(k, r): rows for k, r, rows in chunk}
        kinds = {r: k for k, r, _rows in chunk}
        now = self.ctx.now().isoformat()
        sent: list[int] = []  # outbox rows the server took: deleted in one statement
        seqs: dict[str, list[dict]] = {}  # kind -> the records' new server_seq, one executemany each
        with self.ctx.profile.session() as s, s.begin():
            for res in result.results:
                kind = kinds.get(res.record_id)
                rows = by_record.get((kind, res.record_id), []) if kind else []
                if res.status in ("applied", "duplicate", "conflict"):
                    # the record's pending rows were all in this batch (``_pending_groups``): a
                    # row written since has a later seq and stays
                    sent.extend(r.seq for r in rows)
                    if kind and res.server_seq is not None and res.status != "conflict":
                        seqs.setdefault(kind, []).append({"id": res.record_id, "server_seq": res.server_seq})
                    report.pushed += 1
                    if res.status == "conflict":
                        report.conflicts += 1
                elif res.orphan_id and kind:
                    # the server keeps the change whole for the officer: sent, not waiting
                    max_seq = max((r.seq for r in rows), default=0)
                    s.execute(delete(OutboxRow).where(OutboxRow.record_kind == kind,
                                                      OutboxRow.record_id == res.record_id,
                                                      OutboxRow.seq <= max_seq))
                    why = ORPHANED_PREFIX + (res.reason or "rejected")
                    s.add(SyncErrorRow(record_kind=kind, record_id=res.record_id, reason=why[:500], at=now))
                    said = Problem(why, "server.kept_for_officer", reason=said_reason(res)) if res.reason else why
                    report.said[(res.record_id, why[:500])] = said
                    report.orphaned.append((res.record_id, said))
                    self._note_orphan(s, kind, res.record_id, res.orphan_id, res.reason, now)
                else:
                    if res.reason.startswith("mutation_id_reused") and rows:
                        # the server holds other content under this id (an older client's
                        # leftover): send the record again under a fresh id next time
                        newest = s.get(OutboxRow, rows[-1].seq)
                        if newest is not None:
                            newest.mutation_id = str(uuid7())
                    s.add(SyncErrorRow(record_kind=kind or "", record_id=res.record_id,
                                       reason=res.reason[:500] or "rejected", at=now))
                    report.said[(res.record_id, res.reason[:500])] = said_reason(res)
            for start in range(0, len(sent), 900):  # under SQLite's limit of bound parameters
                s.execute(delete(OutboxRow).where(OutboxRow.seq.in_(sent[start:start + 900])))
            for kind, values in seqs.items():
                # only records still here (a purge may have removed one meanwhile)
                model = MODEL_BY_KIND[kind]
                present = set(s.scalars(select(model.id).where(model.id.in_([v["id"] for v in values]))))
                values = [v for v in values if v["id"] in present]
                if values:
                    s.execute(update(model), values)

    def _pull(self, server: ServerConnection, report: SyncReport, progress: ProgressFn | None,
              cancel: threading.Event | None, tier_c: TierC, cursor: int | None = None) -> int | None:
        """Pull every page from ``cursor`` (default: the one kept); answers the last page's keys
        marker (None: an older server, or cancelled). While a page is applied the next one is
        already asked for (:class:`_PageFetch`): the server's time and the socket's overlap the
        laptop's. Pages are still applied one after the other, each in its own transaction with
        its cursor; a page fetched ahead and never applied (cancelled, or the page before it
        failed) is simply asked for again at the next sync."""
        if cursor is None:
            cursor = int(self._setting(SYNC_CURSOR_KEY) or 0)
        done, total = 0, None
        ahead: _PageFetch | None = None  # the next page, asked for while this one is applied
        while True:
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                return None
            if ahead is None:
                # only the first page's total is used (progress), so later pages skip the count
                response, page = _fetch_page(server, _page_params(cursor, count=total is None))
            else:
                response, page = ahead.result()
                ahead = None
            if response.status_code == 410:
                cursor = 0  # older than the server's tombstone horizon: read everything again
                with self.ctx.profile.session() as s, s.begin():
                    settings.write(s, SYNC_CURSOR_KEY, 0)
                continue
            if page is None:
                raise SyncError("sync.pull_refused", detail=error_detail(response))
            if total is None:
                total = page.total if page.total is not None else len(page.changes)
            if page.more:
                ahead = _PageFetch(server, _page_params(page.cursor, count=False))
            if page.changes or page.purge_students or page.cursor != cursor:
                self._apply_pull_page(page, report, tier_c)
            # else nothing to apply and the kept cursor is this one: no transaction
            cursor = page.cursor
            done += len(page.changes)
            if progress:
                progress(done, max(total, done), "pull")
            if not page.more:
                return page.keys_marker

    def _apply_pull_page(self, page: PullResponse, report: SyncReport, tier_c: TierC, *, again: bool = False) -> int:
        """Apply one pulled page in one transaction and move the cursor with it. ``again``: the
        changes kept unopened, applied once more now that keys arrived (no cursor, no purges)."""
        clock = None
        me = self.ctx.identity.staff_id
        now = self.ctx.now().isoformat()
        with self.ctx.profile.session() as s, s.begin():
            pending = {(k, r) for k, r in s.execute(select(OutboxRow.record_kind, OutboxRow.record_id))}
            clock = self.ctx.clock(s)
            rows = _rows_of_page(s, page)
            held = _quarantine_of_page(s, page)
            keys = [UnopenedRow.key(c.kind, c.record_id) for c in page.changes]
            unopened = {w.id: w for start in range(0, len(keys), 900) for w in s.scalars(
                select(UnopenedRow).where(UnopenedRow.id.in_(keys[start:start + 900])))}
            # records new to this laptop are inserted together after the loop (one executemany
            # per table); one that comes again in the same page becomes an ORM row first
            fresh: dict[tuple[Any, str], tuple] = {}
            # one flush for the page, not one per record (each lookup would flush the last)
            with s.no_autoflush:
                for change in page.changes:
                    model = MODEL_BY_KIND.get(change.kind)
                    if model is None:
                        continue  # a kind this version does not know: skip, a newer client will read it
                    if (change.kind, change.record_id) in pending:
                        continue  # never overwrite unpushed local work; the push will meet a conflict
                    row = rows.get((model, change.record_id))
                    again_in_page = fresh.pop((model, change.record_id), None)
                    if again_in_page is not None:
                        row = rows[(model, change.record_id)] = _row_of(model, again_in_page)
                        s.add(row)
                    aside = held.pop((change.kind, change.record_id), None)
                    if change.op == "delete":
                        _drop(s, aside)
                        if row is not None:
                            if row in s.new:  # added earlier in this page
                                s.expunge(row)
                            else:
                                s.delete(row)
                            del rows[(model, change.record_id)]
                        continue
                    waiting = unopened.get(UnopenedRow.key(change.kind, change.record_id))
                    if not again and waiting is None and aside is None and _is_own_echo(row, change):
                        # this laptop's own push coming back (the push recorded its server_seq):
                        # nothing to read, open or write; a version the server adjusted differs
                        # in routing or facts and is applied below
                        report.pulled += 1
                        continue
                    same_version = False
                    try:
                        try:
                            parts = _read_change(change, me, tier_c)
                            if waiting is not None:
                                s.delete(waiting)
                                del unopened[waiting.id]
                        except NotAReader:
                            parts = _read_change(change, me, None)
                            # the version this laptop holds, re-sealed by the officer (a re-seal
                            # keeps the record's hlc): its story here is that version's and stays
                            # (the author's own record above all); anything else is kept with its
                            # tier C empty (shown as 待资助专干授权后可查看) and opened at a later
                            # sync, once the officer's laptop shared the student's key
                            same_version = (waiting is None and row is not None and bool(row.sealed)
                                            and bool(row.hlc) and row.hlc == change.hlc)
                            if not same_version:
                                if waiting is None:
                                    waiting = UnopenedRow(id=UnopenedRow.key(change.kind, change.record_id),
                                                          record_kind=change.kind, record_id=change.record_id)
                                    s.add(waiting)
                                    unopened[waiting.id] = waiting  # a later change of the page finds it
                                waiting.change, waiting.at = change.model_dump(mode="json"), now
                                if again:
                                    continue  # still no key: the row stays as it was
                    except RecordInvalid as exc:
                        # defence in depth: a record this laptop cannot read is set aside and
                        # listed, the rest of the sync goes on (the local copy, if any, stays)
                        reason = exc.detail[:480]
                        log.warning("pulled record quarantined: %s %s (%s)", change.kind, change.record_id, exc.code)
                        if aside is None:
                            aside = QuarantineRow(record_kind=change.kind, record_id=change.record_id)
                            s.add(aside)
                        aside.server_seq, aside.reason, aside.at = change.server_seq, reason, now
                        held[(change.kind, change.record_id)] = aside
                        report.quarantined.append((change.record_id, reason))
                        continue
                    _drop(s, aside)  # a readable version replaces the one set aside
                    routing, facts, sealed_part = parts
                    if same_version:
                        sealed_part = row.sealed
                    elif sealed_part is not None and (sealed_form(change.sealed) or 0) < 1:
                        # not under the student's key: the server's own seal of a roster's values,
                        # which never carry the fields only the school writes (kept from here)
                        sealed_part = keep_fields_rosters_lack(change.kind, sealed_part,
                                                               None if row is None else row.sealed)
                    if row is None:
                        fresh[(model, change.record_id)] = (change.record_id, routing, facts, sealed_part,
                                                            change.server_seq, change.hlc)
                    else:
                        apply_to_row(row, routing, facts, sealed_part)
                        row.server_seq = change.server_seq
                        row.hlc = change.hlc
                    if change.hlc:
                        try:
                            clock.receive(change.hlc)
                        except ValueError:
                            pass
                    if not again:
                        report.pulled += 1
                        if change.kind == "conflict":
                            report.conflicts += 1
            by_model: dict[Any, list[tuple]] = {}
            for (model, _rid), record in fresh.items():
                by_model.setdefault(model, []).append(record)
            for model, records in by_model.items():
                insert_new_rows(s, model, records)
            if again:
                return page.cursor
            for student_id in page.purge_students:
                self._purge_student(s, student_id)
                report.purged_students += 1
            settings.write(s, SYNC_CURSOR_KEY, page.cursor)
        return page.cursor

    def _open_waiting(self, report: SyncReport, tier_c: TierC) -> None:
        """Apply again the pulled records kept unopened, now that this sync fetched keys:
        those whose key arrived get their tier C; the others wait for a later sync."""
        with self.ctx.profile.session() as s:
            kept = [r.change for r in s.scalars(select(UnopenedRow).order_by(UnopenedRow.at))]
        for start in range(0, len(kept), PULL_PAGE):
            changes = [Change.model_validate(c) for c in kept[start:start + PULL_PAGE]]
            self._apply_pull_page(PullResponse(changes=changes, cursor=0, more=False), report, tier_c, again=True)

    def _reseal(self, server: ServerConnection, tier_c: TierC, report: SyncReport) -> int:
        """Officer: what the server holds readable (from before the upgrade, or from a laptop
        that could not seal) or sealed to the officers only is sealed again under the students'
        content keys (made and shared first where none exists), and the server swaps it in and
        erases its readable copies (``sync_server.resealing``). Answers how many were swapped."""
        done, cursor = 0, 0
        while True:
            response = server.request("GET", "/v1/keys/reseal", params={"after": cursor})
            if response.status_code == 404:
                return done  # a server from before the re-sealing
            if response.status_code != 200:
                report.warnings.append(Problem("keys.reseal_failed", detail=error_detail(response)))
                return done
            page = response.json()
            items = []
            with self.ctx.profile.session() as s:
                # a record this laptop set aside as unreadable is left as the server holds it
                aside = set(s.scalars(select(QuarantineRow.record_id)))
            # the students' keys this page needs and this laptop lacks: made and shared at once
            wanted = [key_name_of(str((item.get("routing") or {}).get("record_kind") or "") if item["kind"] == "conflict"
                                  else item["kind"], item.get("student_id"))
                      for item in page["items"] if item.get("student_id") and item["record_id"] not in aside]
            try:
                self.keys.share_students([n for n in dict.fromkeys(wanted) if self.keys.content_key(n) is None],
                                         directory=tier_c.directory())
            except KEY_CALL_ERRORS as exc:
                report.warnings.append(Problem("keys.share_failed", detail=Problem.of_error(exc)))
            local = self._school_only_values(page["items"])
            for item in page["items"]:
                if item["record_id"] in aside:
                    continue
                resealed = self._reseal_one(item, tier_c, report, local)
                if resealed is not None:
                    items.append({"record_id": item["record_id"], "server_seq": item["server_seq"], "sealed": resealed})
            if items:
                answer = server.request("POST", "/v1/keys/reseal", json={"items": items})
                if answer.status_code != 200:
                    report.warnings.append(Problem("keys.reseal_failed", detail=error_detail(answer)))
                    return done
                done += int(answer.json()["resealed"])
            cursor = page["cursor"]
            if not page["more"]:
                return done

    def _school_only_values(self, items: list[dict]) -> dict[tuple[str, str], dict | None]:
        """This laptop's tier C of the page's records whose kind has fields only the school
        writes (a roster's seal lacks them): read in one query per kind, not one per record."""
        wanted: dict[str, list[str]] = {}
        for item in items:
            cls = ENTITY_BY_KIND.get(item["kind"])
            if cls is not None and item["kind"] in MODEL_BY_KIND and school_only_fields(cls):
                wanted.setdefault(item["kind"], []).append(item["record_id"])
        found: dict[tuple[str, str], dict | None] = {}
        with self.ctx.profile.session() as s:
            for kind, ids in wanted.items():
                model = MODEL_BY_KIND[kind]
                for start in range(0, len(ids), 900):
                    for row in s.scalars(select(model).where(model.id.in_(ids[start:start + 900]))):
                        found[(kind, row.id)] = row.sealed
        return found

    def _reseal_one(self, item: dict, tier_c: TierC, report: SyncReport,
                    local: dict[tuple[str, str], dict | None]) -> str | None:
        kind, record_id, student_id = item["kind"], item["record_id"], item.get("student_id")
        try:
            if kind == "conflict":
                routing = item.get("routing") or {}
                target_kind, target_id = str(routing.get("record_kind") or ""), str(routing.get("record_id") or "")
                sides = []
                for side in unwrap_conflict_sealed(item["sealed"]):
                    if side is None:
                        sides.append(None)
                        continue
                    values = tier_c.open(target_kind, target_id, None, student_id, side)
                    sides.append(self._seal_under_key(tier_c, target_kind, target_id, None, student_id, values))
                return wrap_conflict_sealed(*sides)
            values = tier_c.open(kind, record_id, item.get("routing"), student_id, item["sealed"])
            # what a roster replaced, the school's own fields go back in from here
            values = keep_fields_rosters_lack(kind, values, local.get((kind, record_id)))
            return self._seal_under_key(tier_c, kind, record_id, item.get("routing"), student_id, values)
        except NotAReader:
            return None  # sealed to officer devices other than this one: that laptop re-seals it
        except (RecordInvalid, ValueError, *KEY_CALL_ERRORS) as exc:
            report.warnings.append(Problem("keys.record_reseal_failed", record_id=record_id,
                                           detail=Problem.of_error(exc)))
            return None

    def _seal_under_key(self, tier_c: TierC, kind: str, record_id: str, routing: dict | None,
                        student_id: str | None, values: dict | None) -> str | None:
        key_name = key_name_of(kind, student_id)
        if student_id and self.keys.content_key(key_name) is None:
            # made here, and wrapped to its readers at once
            self.keys.share_student_key(key_name, directory=tier_c.directory())
        sealed = tier_c.seal(kind, record_id, routing, student_id, values)
        return sealed if is_sealed(sealed) else None

    def unopened(self) -> set[tuple[str, str]]:
        """Records this laptop holds without their tier C (no key for it yet): (kind, id)."""
        with self.ctx.profile.session() as s:
            return {(k, r) for k, r in s.execute(select(UnopenedRow.record_kind, UnopenedRow.record_id))}

    def _drop_notes_of_former_mentees(self, run_deferred: bool = True) -> None:
        """Mentor notes go to a student's mentors and officers only. A teacher who stops being
        a student's mentor but still visits the student keeps the student, not the notes
        (unless a note of theirs is still waiting to be pushed). Students whose purge waited
        for their pending changes go now (``run_deferred``), if those changes have been sent since."""
        if run_deferred:
            self._run_deferred_purges()
        if self.ctx.identity.is_officer:
            return
        assignments = MODEL_BY_KIND["assignment"]
        notes = MODEL_BY_KIND["mentor_note"]
        with self.ctx.profile.session() as s, s.begin():
            mentees = select(assignments.student_id).where(
                assignments.staff_id == self.ctx.identity.staff_id, assignments.role == "mentor",
                assignments.active.is_(True))
            pending = select(OutboxRow.record_id).where(OutboxRow.record_kind == "mentor_note")
            # a Core statement: the session holds no note, and the ORM's bulk delete first looked
            # for the rows it would remove from it (~0.3 ms of a teacher's sync with nothing to do)
            s.connection().execute(delete(notes.__table__).where(
                notes.student_id.not_in(mentees), notes.id.not_in(pending)))

    def _purge_student(self, session: Any, student_id: str) -> None:
        """The assignment ended: this laptop no longer keeps anything about the student, once
        nothing about the student waits to be sent. A change still waiting (written while this
        sync ran, or refused by an older server) keeps the student here; the purge is done at
        the end of a later sync, after the server acknowledged it (DESIGN.md §4)."""
        if pending_about(session, student_id):
            deferred = list(self._deferred(session))
            if student_id not in deferred:
                deferred.append(student_id)
            settings.write(session, DEFERRED_PURGES_KEY, deferred)
            return
        delete_student_data(session, student_id)
        self.keys.forget_student(student_id, session)

    def _deferred(self, session: Any) -> list[str]:
        return list(settings.read(session, DEFERRED_PURGES_KEY))

    def deferred_purges(self) -> list[str]:
        """Students whose purge waits for their pending changes to be sent."""
        with self.ctx.profile.session() as s:
            return self._deferred(s)

    def _run_deferred_purges(self) -> None:
        with self.ctx.profile.session() as s, s.begin():
            deferred = self._deferred(s)
            if not deferred:
                return
            waiting = []
            for student_id in deferred:
                if pending_about(s, student_id):
                    waiting.append(student_id)
                else:
                    delete_student_data(s, student_id)
                    self.keys.forget_student(student_id, s)
            settings.write(s, DEFERRED_PURGES_KEY, waiting)

    def _note_orphan(self, session: Any, kind: str, record_id: str, orphan_id: str, reason: str, at: str) -> None:
        """Remember, for the teacher's sync screen, what went to the officer's queue."""
        notices = list(settings.read(session, ORPHAN_NOTICES_KEY))
        notices.append({"kind": kind, "record_id": record_id, "orphan_id": orphan_id, "reason": reason[:500],
                        "at": at})
        settings.write(session, ORPHAN_NOTICES_KEY, notices[-ORPHAN_NOTICES_KEPT:])

    def orphaned(self) -> list[dict]:
        """Changes of this laptop the server kept as orphaned work for the officer, newest last."""
        return list(self._setting(ORPHAN_NOTICES_KEY))

    def _upload_before_wipe(self) -> tuple[int, set[tuple[str, str]], str]:
        """Push every pending change once more, directly (no retry loop: this runs inside one).
        A retired device's changes are applied as the teacher's; a revoked one's are kept as
        orphaned work. Returns (sent, records still unsent, the server's device state)."""
        groups = self._pending_groups()
        try:
            server = self.connect(wipe_on_revoked=False)
        except SyncError:
            return 0, {(k, r) for k, r, _rows in groups}, ""
        try:
            with self.keys.over(self.key_directory(server)):
                return self._upload_then_report(server, groups, TierC(self.keys))
        finally:
            server.close()

    def _upload_then_report(self, server: ServerConnection, groups: list, tier_c: TierC) -> tuple[int, set, str]:
        device_id = self.ctx.identity.device_id
        unsent = {(k, r) for k, r, _rows in groups}
        sent = 0
        try:
            for start in range(0, len(groups), MAX_BATCH):
                chunk = groups[start:start + MAX_BATCH]
                sealed_now: dict[str, str] = {}
                with self.ctx.profile.session() as s:
                    mutations = [self._mutation(s, k, r, rows, tier_c, sealed_now) for k, r, rows in chunk]
                self._keep_sealed(sealed_now)
                batch_id = hashlib.sha256("|".join(m.mutation_id for m in mutations).encode()).hexdigest()[:32]
                body = PushRequest(device_id=device_id, batch_id=batch_id, mutations=mutations)
                response = server.request("POST", "/v1/sync/push", data=body.model_dump_json().encode(),
                                          json_body=True)
                if response.status_code != 200:
                    break
                result = PushResponse.model_validate(response.json())
                self._apply_push_results(chunk, result, SyncReport())
                with self.ctx.profile.session() as s:
                    still = {(k, r) for k, r in s.execute(select(OutboxRow.record_kind, OutboxRow.record_id))}
                sent += sum(1 for k, r, _rows in chunk if (k, r) not in still)
                unsent = still
            state = ""
            if not unsent:
                wiped = WipedRequest(device_id=device_id, unsent=0)
                response = server.request("POST", "/v1/sync/wiped", data=wiped.model_dump_json().encode(),
                                          json_body=True)
                if response.status_code == 200:
                    state = str(response.json().get("state", ""))
        except (requests.RequestException, SyncError, ValueError) as exc:
            log.warning("upload before wipe failed: %s", type(exc).__name__)
            with self.ctx.profile.session() as s:
                unsent = {(k, r) for k, r in s.execute(select(OutboxRow.record_kind, OutboxRow.record_id))}
            state = ""
        return sent, unsent, state

    def _wipe(self) -> None:
        """The device was retired or revoked: first upload every pending change (DESIGN.md §4:
        no wipe deletes something unsent), then delete every record and the token. A record
        whose change could not be uploaded (the network failed meanwhile) stays, with its
        outbox row and the token, until the next call uploads it; everything else goes now."""
        _sent, unsent, state = self._upload_before_wipe()
        with self.ctx.profile.session() as s, s.begin():
            keep = {}
            for kind, record_id in unsent:
                keep.setdefault(kind, set()).add(record_id)
            for kind, model in MODEL_BY_KIND.items():
                ids = keep.get(kind)
                s.execute(delete(model).where(model.id.not_in(ids)) if ids else delete(model))
            # the keys are not in MODEL_BY_KIND: they go here, even while unsent changes wait —
            # a revoked laptop must not keep what opens the school's sealed values or signs as it
            self.keys.wipe(s)
            if unsent:
                # the cursor goes (the data it covered is gone); the token stays for the retry
                settings.forget(s, SYNC_CURSOR_KEY, DEFERRED_PURGES_KEY, KEYS_MARKER_KEY)
            else:
                s.execute(delete(OutboxRow))
                settings.forget(s, DEVICE_TOKEN_KEY, SYNC_CURSOR_KEY, DEFERRED_PURGES_KEY, KEYS_MARKER_KEY)
        if unsent:
            raise DeviceRevoked("sync.device_revoked_unsent", unsent=len(unsent))
        if state == "retired":
            raise DeviceRevoked("sync.device_retired")
        raise DeviceRevoked("sync.device_revoked_uploaded")


def _page_params(cursor: int, *, count: bool) -> dict[str, Any]:
    """The query of a pull page; ``count``: with the total beyond the cursor (progress)."""
    return {"cursor": cursor, "limit": PULL_PAGE, **({} if count else {"total": "false"})}


def _read_page(body: bytes) -> PullResponse:
    """A pull page's JSON read by pydantic's own parser, a third of what ``json.loads`` and
    then validating the dictionaries cost. A page that parser refuses (a lone surrogate in a
    text, which ``json.loads`` reads and the record checks then quarantine) is read the old
    way, so such a record is still set aside alone, not the page with it."""
    try:
        return PullResponse.model_validate_json(body)
    except ValidationError:
        return PullResponse.model_validate(json.loads(body))


def _fetch_page(server: ServerConnection, params: dict[str, Any]) -> tuple[requests.Response, PullResponse | None]:
    """One pull page: the server's answer and, for a 200, the page read from it."""
    response = server.request("GET", "/v1/sync/pull", params=params)
    return response, _read_page(response.content) if response.status_code == 200 else None


class _PageFetch:
    """A pull page asked for and read (:func:`_fetch_page`) in a helper thread while the sync
    thread applies the page before it. The helper touches no local data: its connection has no
    ``on_revoked``, so a ``device_revoked`` answer wipes the laptop only from :meth:`result`,
    in the sync thread, once the page before is committed — where the sequential pull wiped it.
    Cancelling needs nothing here: the sync's session (:class:`AbandonableSession`) ends the
    helper's request, which :meth:`result` then raises as :class:`SyncCancelled`.

    A daemon thread rather than a ``concurrent.futures`` executor: an executor's workers are
    joined at interpreter exit, so a page request to a server that never answers would hold
    up closing the app until its timeout."""

    def __init__(self, server: ServerConnection, params: dict[str, Any]):
        self._on_revoked = server.on_revoked
        self._done = threading.Event()
        self._answer: tuple[requests.Response, PullResponse | None] | None = None
        self._error: BaseException | None = None
        quiet = replace(server, on_revoked=None)
        threading.Thread(target=self._fetch, args=(quiet, params), name="visitapp-pull-ahead", daemon=True).start()

    def _fetch(self, server: ServerConnection, params: dict[str, Any]) -> None:
        try:
            self._answer = _fetch_page(server, params)
        except BaseException as exc:  # noqa: BLE001 - raised in the sync thread by result()
            self._error = exc
        finally:
            self._done.set()

    def result(self) -> tuple[requests.Response, PullResponse | None]:
        """The answer and its page, as :func:`_fetch_page` gives them, or what it raised."""
        self._done.wait()
        if self._error is not None:
            if isinstance(self._error, DeviceRevoked) and self._on_revoked is not None:
                self._on_revoked()  # wipes, and raises its own DeviceRevoked
            raise self._error
        assert self._answer is not None
        return self._answer


ORPHAN_NOTICES_KEPT = 200
ORPHANED_PREFIX = messages.text("server.kept_for_officer", messages.ZH, reason="")


def pending_about(session: Any, student_id: str) -> bool:
    """Does a change about this student still wait in the outbox?"""
    pending: dict[str, list[str]] = {}
    for kind, record_id in session.execute(select(OutboxRow.record_kind, OutboxRow.record_id)):
        pending.setdefault(kind, []).append(record_id)
    for kind, ids in pending.items():
        if kind == "student" and student_id in ids:
            return True
        model = MODEL_BY_KIND.get(kind)
        if model is None or not hasattr(model, "student_id"):
            continue
        for i in range(0, len(ids), 500):
            if session.execute(select(model.id).where(model.student_id == student_id,
                                                      model.id.in_(ids[i:i + 500])).limit(1)).first():
                return True
    return False


def delete_student_data(session: Any, student_id: str) -> None:
    for kind, model in MODEL_BY_KIND.items():
        column = "id" if kind == "student" else "student_id"
        if hasattr(model, column):
            session.execute(delete(model).where(getattr(model, column) == student_id))


def _rows_of_page(session: Any, page: PullResponse) -> dict[tuple[Any, str], Any]:
    """The local rows a pulled page touches, loaded a few hundred per query."""
    ids: dict[Any, list[str]] = {}
    for change in page.changes:
        model = MODEL_BY_KIND.get(change.kind)
        if model is not None:
            ids.setdefault(model, []).append(change.record_id)
    rows = {}
    for model, wanted in ids.items():
        for i in range(0, len(wanted), 500):
            for row in session.scalars(select(model).where(model.id.in_(wanted[i:i + 500]))):
                rows[(model, row.id)] = row
    return rows


def _row_of(model: type, record: tuple) -> Any:
    """An ORM row of a pulled record kept for :func:`insert_new_rows`, when the page brings it again."""
    record_id, routing, facts, sealed, server_seq, hlc = record
    row = apply_to_row(model(id=record_id), routing, facts, sealed)
    row.server_seq, row.hlc = server_seq, hlc
    return row


def _is_own_echo(row: Any, change: Any) -> bool:
    """Whether a pulled change is the very version this laptop holds: the one it pushed (same
    ``server_seq``, which the push result gave, same hlc) with the routing and facts it sent.
    Its sealed part is then the one sent too: the server cannot change it, and a re-seal is a
    new ``server_seq``."""
    if row is None or not change.hlc or row.server_seq != change.server_seq or row.hlc != change.hlc:
        return False
    routing, facts, _sealed = row_parts(row)
    return routing == change.routing and facts == change.facts


def _quarantine_of_page(session: Any, page: PullResponse) -> dict[tuple[str, str], Any]:
    """The records of this page already set aside, by (kind, id)."""
    ids = list({change.record_id for change in page.changes})
    held = {}
    for i in range(0, len(ids), 500):
        for row in session.scalars(select(QuarantineRow).where(QuarantineRow.record_id.in_(ids[i:i + 500]))):
            held[(row.record_kind, row.record_id)] = row
    return held


def _drop(session: Any, row: Any) -> None:
    if row is None:
        return
    if row in session.new:
        session.expunge(row)
    else:
        session.delete(row)


def keep_fields_rosters_lack(kind: str, values: dict | None, local: dict | None) -> dict | None:
    """``values`` (tier C from the server's roster seal, which holds the roster's fields only)
    with the fields only the school writes (:func:`visitapp.domain.tiers.school_only_fields`) taken from ``local`` (this laptop's copy) where ``values`` has none."""
    cls = ENTITY_BY_KIND.get(kind)
    fields = school_only_fields(cls) if cls is not None else ()
    if not fields or not local:
        return values
    merged = dict(values or {})
    for name in fields:
        if not merged.get(name) and local.get(name):
            merged[name] = local[name]
    return merged


def _read_change(change: Any, me: str, tier_c: TierC | None) -> tuple[dict, dict, dict]:
    """A pulled record read by the kind's typed model (:mod:`visitapp.protocol.records`, the
    schema the server checks pushes with), each part for its own tier only, as the parts its
    entity splits into (what is stored), or :class:`RecordInvalid`; its tier C opened with
    ``tier_c`` (:class:`NotAReader`: no key here yet), or left empty when ``tier_c`` is None."""
    if change.kind == "conflict":
        routing, facts, sealed = _conflict_from_server(change, me, tier_c)
    elif tier_c is None:
        routing, facts, sealed = change.routing, change.facts, None
    else:
        routing, facts, sealed = change.routing, change.facts, tier_c.open(
            change.kind, change.record_id, change.routing, change.student_id or (
                change.record_id if change.kind == "student" else None), change.sealed)
    if not isinstance(routing, dict):
        raise RecordInvalid("invalid_record", "routing 应为对象")
    if "id" not in routing:
        routing = {**routing, "id": change.record_id}
    parts = read_record_parts(change.kind, routing, facts, sealed)
    if _field_of(parts, "id") != change.record_id:
        raise RecordInvalid("id_mismatch", "记录内容中的 id 与记录 ID 不一致")
    student = _field_of(parts, "student_id")
    if change.kind != "student" and student and change.student_id and student != change.student_id:
        raise RecordInvalid("student_mismatch", "记录内容中的学生与服务器登记的学生不一致")
    return parts


def _field_of(parts: tuple[dict, dict, dict], name: str) -> Any:
    """A field of a record's split parts, whichever tier holds it (None: the kind has none)."""
    for part in parts:
        if name in part:
            return part[name]
    return None


def _conflict_from_server(change: Any, me: str, tier_c: TierC | None) -> tuple[dict, dict, dict]:
    """A server conflict record -> the local Conflict's parts. The server wraps the two opaque
    values without reading them (:func:`unwrap_conflict_sealed`); here they are opened, and
    "local" is the side this teacher wrote. A blob in no known format: :class:`RecordInvalid`."""
    routing = dict(change.routing)
    facts = dict(change.facts or {})
    doc = decode_tier_c(change.sealed) if change.sealed else {"format": "visitapp-conflict-v1"}
    if doc.get("format") != "visitapp-conflict-v1":
        raise RecordInvalid("sealed_format", "冲突记录的内容格式未知")
    winner_sealed, loser_sealed = doc.get("winner"), doc.get("loser")
    kind, record_id = str(routing.get("record_kind") or ""), str(routing.get("record_id") or "")

    def side(sealed: str | None) -> Any:
        if sealed is None:
            return None
        if tier_c is None:
            return NOT_YET_READABLE
        try:
            return _single_value(tier_c.open(kind, record_id, None, change.student_id, sealed))
        except NotAReader:
            return NOT_YET_READABLE

    winner, loser = side(winner_sealed), side(loser_sealed)
    mine_lost = routing.get("loser_staff") == me
    routing["local_author"] = (routing.get("loser_staff") if mine_lost else routing.get("winner_staff")) or ""
    routing["remote_author"] = (routing.get("winner_staff") if mine_lost else routing.get("loser_staff")) or ""
    routing = {k: ("" if v is None and k in ("winner_staff", "loser_staff", "copy_id", "resolution") else v)
               for k, v in routing.items()}
    if "resolution_reason" in facts:
        facts["reason"] = facts.pop("resolution_reason")
    sealed = {"local_value": loser if mine_lost else winner, "remote_value": winner if mine_lost else loser}
    return routing, facts, sealed


def _single_value(sealed: dict[str, Any] | None) -> Any:
    """A profile field's sealed part is {"value": …}, a note's {"text": …}: show the text."""
    if isinstance(sealed, dict) and len(sealed) == 1:
        return next(iter(sealed.values()))
    return sealed
