"""The client's sync engine (DESIGN.md §4): push the outbox in batches, then pull until done.

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
import hashlib
import ipaddress
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import delete, select
from uuid6 import uuid7

from visitapp.domain import ENTITY_BY_KIND, join_tiers, split_by_tier
from visitapp.storage.models import MODEL_BY_KIND, OutboxRow, SettingRow, SyncErrorRow
from visitapp.storage.records import apply_to_row, row_parts
from visitapp.sync.protocol import (
    MAX_BATCH, EnrollResponse, MetaResponse, Mutation, PullResponse, PushRequest, PushResponse,
    decode_enrollment_code, seal_bytes, unseal_bytes, unwrap_conflict_sealed,
)

if TYPE_CHECKING:
    from visitapp.services.workspace import Workspace

log = logging.getLogger(__name__)
ProgressFn = Callable[[int, int, str], None]
PULL_PAGE = 1000


class SyncError(Exception):
    """A sync could not run at all; the message is a sentence for the teacher."""


class Offline(SyncError):
    pass


class DeviceRevoked(SyncError):
    pass


class NotEnrolled(SyncError):
    pass


@dataclass
class SyncReport:
    pushed: int = 0
    pulled: int = 0
    conflicts: int = 0
    purged_students: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    # changes the server kept as orphaned work for the officer (record id, reason); also in errors
    orphaned: list[tuple[str, str]] = field(default_factory=list)
    finished_at: dt.datetime | None = None
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors and not self.cancelled


class _PinnedAdapter(HTTPAdapter):
    """HTTPS to the school's self-signed certificate, trusted by its SHA-256 fingerprint only."""

    def __init__(self, fingerprint: str, **kwargs: Any):
        self._fingerprint = fingerprint.replace(":", "").lower()
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["assert_fingerprint"] = self._fingerprint
        kwargs["cert_reqs"] = "CERT_NONE"
        kwargs["assert_hostname"] = False
        super().init_poolmanager(*args, **kwargs)


def _is_loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_http_session(server_url: str, fingerprint: str) -> requests.Session:
    session = requests.Session()
    if server_url.startswith("https://"):
        if not fingerprint:
            raise SyncError("缺少服务器证书指纹，无法安全连接。请使用学校提供的注册码。")
        session.mount("https://", _PinnedAdapter(fingerprint))
    elif not _is_loopback(server_url):
        raise SyncError("只允许在本机（loopback）上使用不加密的 http 连接；学校服务器必须使用 https。")
    return session


class SyncEngine:
    def __init__(self, ws: Workspace, timeout: float = 30.0, retries: int = 3, backoff: float = 0.5):
        self.ws = ws
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    # -- settings helpers ----------------------------------------------------------------------
    def _setting(self, key: str, default: Any = None) -> Any:
        with self.ws.profile.session() as s:
            row = s.get(SettingRow, key)
            if row is None:
                return default
            return row.secret if row.secret is not None else row.value

    def _put_setting(self, session: Any, key: str, value: Any = None, secret: Any = None) -> None:
        row = session.get(SettingRow, key) or SettingRow(id=key)
        row.value = value
        row.secret = secret
        session.add(row)

    @property
    def platform(self):  # -> PlatformClient
        """The officer's platform calls over this engine's session and token."""
        from visitapp.sync.platform_client import PlatformClient
        return PlatformClient(self)

    @property
    def enrolled(self) -> bool:
        return bool(self._setting("device_token"))

    def last_sync_at(self) -> dt.datetime | None:
        value = self._setting("last_sync_at")
        return dt.datetime.fromisoformat(value) if value else None

    def errors(self) -> list[tuple[str, str]]:
        with self.ws.profile.session() as s:
            return [(r.record_id, r.reason) for r in s.scalars(select(SyncErrorRow).order_by(SyncErrorRow.id))]

    # -- HTTP ------------------------------------------------------------------------------------
    def _http(self) -> tuple[requests.Session, str, str]:
        token = self._setting("device_token")
        url = self._setting("server_url_v1")
        if not token or not url:
            raise NotEnrolled("这台电脑还没有在学校服务器注册，无法同步。")
        return make_http_session(url, self._setting("server_fingerprint", "")), url, token

    def _call(self, http: requests.Session, method: str, url: str, token: str | None,
              json_body: bool = False, *, timeout: float | None = None, retry_server_errors: bool = True,
              **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if json_body:
            headers["Content-Type"] = "application/json"
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                response = http.request(method, url, headers=headers, timeout=timeout or self.timeout, **kwargs)
            except requests.exceptions.SSLError as exc:
                raise SyncError("服务器证书与注册时记录的不一致，已拒绝连接。请联系学校资助专干。") from exc
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError) as exc:  # a dropped or cut connection
                if attempt == self.retries:
                    raise Offline("连接不上学校服务器（离线）。记录都保存在本机，回到学校后再同步即可。") from exc
                time.sleep(delay)
                delay *= 2
                continue
            if response.status_code >= 500 and attempt < self.retries and retry_server_errors:
                time.sleep(delay)
                delay *= 2
                continue
            if response.status_code == 403 and _error_code(response) == "device_revoked":
                self._wipe()
                raise DeviceRevoked("学校已停用这台电脑的同步权限，本机上的学生资料已清除。")
            return response
        raise Offline("学校服务器暂时无法处理请求，请稍后再同步。")

    # -- enrollment ------------------------------------------------------------------------------
    def enroll(self, code: str, device_label: str = "") -> EnrollResponse:
        try:
            server_url, fingerprint, secret = decode_enrollment_code(code)
        except ValueError as exc:
            raise SyncError(str(exc)) from None
        base = server_url.rstrip("/")
        http = make_http_session(base, fingerprint)
        response = self._call(http, "POST", f"{base}/v1/enroll", None,
                              json={"code": secret, "device_label": device_label or "visitapp"})
        if response.status_code != 200:
            raise SyncError(f"注册失败：{_error_detail(response)}")
        enrolled = EnrollResponse.model_validate(response.json())
        from visitapp.services.base import Identity  # late: services import this module
        old = self.ws.identity
        with self.ws.profile.session() as s, s.begin():
            self._put_setting(s, "device_token", secret=enrolled.token)
            self._put_setting(s, "server_url_v1", base)
            self._put_setting(s, "server_fingerprint", fingerprint)
            self.ws.ctx.set_identity(s, Identity(enrolled.staff_id, enrolled.staff_name, enrolled.role,
                                                 enrolled.device_id, enrolled.school_name, base))
            self._reattribute(s, old.staff_id, enrolled.staff_id)
        return enrolled

    def _reattribute(self, session: Any, old_staff: str, new_staff: str) -> None:
        """Work written before enrolling was signed with a local placeholder id; it is the
        enrolled teacher's work, so it is re-signed before its first push."""
        for model, column in ((MODEL_BY_KIND["visit"], "author_id"), (MODEL_BY_KIND["mentor_note"], "author_id"),
                              (MODEL_BY_KIND["growth_entry"], "author_id"),
                              (MODEL_BY_KIND["growth_profile_field"], "updated_by")):
            for row in session.scalars(select(model).where(getattr(model, column) == old_staff)):
                setattr(row, column, new_staff)

    def meta(self) -> MetaResponse:
        http, url, token = self._http()
        response = self._call(http, "GET", f"{url}/v1/sync/meta", token)
        if response.status_code != 200:
            raise SyncError(f"服务器拒绝了请求：{_error_detail(response)}")
        return MetaResponse.model_validate(response.json())

    # -- sync -------------------------------------------------------------------------------------
    def run(self, progress: ProgressFn | None = None, cancel: threading.Event | None = None) -> SyncReport:
        report = SyncReport()
        http, url, token = self._http()
        with self.ws.profile.session() as s, s.begin():
            s.execute(delete(SyncErrorRow))
        self._push(http, url, token, report, progress, cancel)
        if not report.cancelled:
            self._pull(http, url, token, report, progress, cancel)
        report.finished_at = self.ws.ctx.now()
        if not report.cancelled:
            with self.ws.profile.session() as s, s.begin():
                self._put_setting(s, "last_sync_at", report.finished_at.isoformat())
        report.errors = self.errors()
        return report

    def _pending_groups(self) -> list[tuple[str, str, list[OutboxRow]]]:
        """One group per record, its outbox rows in order. A group goes up at the place of
        its newest change, not its first: the folded mutation carries the record's current
        state, and that state may rest on records written in between (a notice published,
        then an objection recorded and handled, then the notice closed: sent in order of
        creation, the closed notice would arrive before its objection, which the server
        then refuses)."""
        with self.ws.profile.session() as s:
            groups: OrderedDict[tuple[str, str], list[OutboxRow]] = OrderedDict()
            for row in s.scalars(select(OutboxRow).order_by(OutboxRow.seq)):
                groups.setdefault((row.record_kind, row.record_id), []).append(row)
        ordered = sorted(groups.items(), key=lambda item: item[1][-1].seq)
        return [(k, r, rows) for (k, r), rows in ordered]

    def _mutation(self, session: Any, kind: str, record_id: str, rows: list[OutboxRow]) -> Mutation:
        """Fold a record's outbox rows into one mutation carrying its current state."""
        newest = rows[-1]
        model = MODEL_BY_KIND[kind]
        row = session.get(model, record_id)
        base_seq = rows[0].base_seq
        if row is None or newest.op == "delete":
            return Mutation(mutation_id=newest.mutation_id, record_id=record_id, kind=kind, op="delete",
                            base_seq=base_seq, hlc=newest.hlc)
        routing, facts, sealed = row_parts(row)
        student_id = routing.get("student_id") or (record_id if kind == "student" else None)
        sealed_wire = seal_bytes(sealed)
        if kind == "conflict":
            # a resolution: the server wants the chosen value as the record's own sealed part
            sealed_wire = None
            if routing.get("resolution") == "value":
                value = (sealed or {}).get("resolution_value")
                field_name = "text" if routing.get("record_kind") == "mentor_note" else "value"
                sealed_wire = seal_bytes({field_name: value})
        return Mutation(mutation_id=newest.mutation_id, record_id=record_id, kind=kind, op="upsert",
                        student_id=student_id or None, base_seq=base_seq, hlc=row.hlc or newest.hlc,
                        routing=routing, facts=facts, sealed=sealed_wire)

    def _push(self, http: requests.Session, url: str, token: str, report: SyncReport,
              progress: ProgressFn | None, cancel: threading.Event | None) -> None:
        groups = self._pending_groups()
        total = len(groups)
        device_id = self.ws.identity.device_id
        for start in range(0, total, MAX_BATCH):
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                return
            chunk = groups[start:start + MAX_BATCH]
            with self.ws.profile.session() as s:
                mutations = [self._mutation(s, k, r, rows) for k, r, rows in chunk]
            batch_id = hashlib.sha256("|".join(m.mutation_id for m in mutations).encode()).hexdigest()[:32]
            body = PushRequest(device_id=device_id, batch_id=batch_id, mutations=mutations)
            response = self._call(http, "POST", f"{url}/v1/sync/push", token,
                                  data=body.model_dump_json().encode(), json_body=True)
            if response.status_code != 200:
                raise SyncError(f"上传被服务器拒绝：{_error_detail(response)}")
            result = PushResponse.model_validate(response.json())
            self._apply_push_results(chunk, result, report)
            if progress:
                progress(min(start + len(chunk), total), total, "push")

    def _apply_push_results(self, chunk: list[tuple[str, str, list[OutboxRow]]], result: PushResponse,
                            report: SyncReport) -> None:
        by_record = {(k, r): rows for k, r, rows in chunk}
        kinds = {r: k for k, r, _rows in chunk}
        now = self.ws.ctx.now().isoformat()
        with self.ws.profile.session() as s, s.begin():
            for res in result.results:
                kind = kinds.get(res.record_id)
                rows = by_record.get((kind, res.record_id), []) if kind else []
                if res.status in ("applied", "duplicate", "conflict"):
                    max_seq = max((r.seq for r in rows), default=0)
                    s.execute(delete(OutboxRow).where(OutboxRow.record_kind == kind,
                                                      OutboxRow.record_id == res.record_id,
                                                      OutboxRow.seq <= max_seq))
                    record = s.get(MODEL_BY_KIND[kind], res.record_id) if kind else None
                    if record is not None and res.server_seq is not None and res.status != "conflict":
                        record.server_seq = res.server_seq
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
                    report.orphaned.append((res.record_id, why))
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

    def _pull(self, http: requests.Session, url: str, token: str, report: SyncReport,
              progress: ProgressFn | None, cancel: threading.Event | None) -> None:
        cursor = int(self._setting("sync_cursor", 0) or 0)
        done, total = 0, None
        while True:
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                return
            response = self._call(http, "GET", f"{url}/v1/sync/pull", token,
                                  params={"cursor": cursor, "limit": PULL_PAGE})
            if response.status_code == 410:
                cursor = 0  # older than the server's tombstone horizon: read everything again
                with self.ws.profile.session() as s, s.begin():
                    self._put_setting(s, "sync_cursor", 0)
                continue
            if response.status_code != 200:
                raise SyncError(f"下载被服务器拒绝：{_error_detail(response)}")
            page = PullResponse.model_validate(response.json())
            if total is None:
                total = page.total if page.total is not None else len(page.changes)
            cursor = self._apply_pull_page(page, report)
            done += len(page.changes)
            if progress:
                progress(done, max(total, done), "pull")
            if not page.more:
                self._drop_notes_of_former_mentees()
                return

    def _apply_pull_page(self, page: PullResponse, report: SyncReport) -> int:
        clock = None
        with self.ws.profile.session() as s, s.begin():
            pending = {(k, r) for k, r in s.execute(select(OutboxRow.record_kind, OutboxRow.record_id))}
            clock = self.ws.ctx.clock(s)
            rows = _rows_of_page(s, page)
            # one flush for the page, not one per record (each lookup would flush the last)
            with s.no_autoflush:
                for change in page.changes:
                    model = MODEL_BY_KIND.get(change.kind)
                    if model is None:
                        continue  # a kind this version does not know: skip, a newer client will read it
                    if (change.kind, change.record_id) in pending:
                        continue  # never overwrite unpushed local work; the push will meet a conflict
                    row = rows.get((model, change.record_id))
                    if change.op == "delete":
                        if row is not None:
                            if row in s.new:  # added earlier in this page
                                s.expunge(row)
                            else:
                                s.delete(row)
                            del rows[(model, change.record_id)]
                        continue
                    if change.kind == "conflict":
                        routing, facts, sealed = _conflict_from_server(change, self.ws.identity.staff_id)
                    else:
                        routing, facts, sealed = change.routing, change.facts, unseal_bytes(change.sealed)
                    if row is None:
                        row = rows[(model, change.record_id)] = model(id=change.record_id)
                        s.add(row)
                    entity = join_tiers(ENTITY_BY_KIND[change.kind], routing, facts, sealed)
                    routing, facts, sealed_part = split_by_tier(entity)
                    apply_to_row(row, routing, facts, sealed_part)
                    row.server_seq = change.server_seq
                    row.hlc = change.hlc
                    if change.hlc:
                        try:
                            clock.receive(change.hlc)
                        except ValueError:
                            pass
                    report.pulled += 1
                    if change.kind == "conflict":
                        report.conflicts += 1
            for student_id in page.purge_students:
                self._purge_student(s, student_id)
                report.purged_students += 1
            self._put_setting(s, "sync_cursor", page.cursor)
        return page.cursor

    def _drop_notes_of_former_mentees(self) -> None:
        """Mentor notes go to a student's mentors and officers only. A teacher who stops being
        a student's mentor but still visits the student keeps the student, not the notes
        (unless a note of theirs is still waiting to be pushed). Students whose purge waited
        for their pending changes go now, if those changes have been sent since."""
        self._run_deferred_purges()
        if self.ws.identity.is_officer:
            return
        assignments = MODEL_BY_KIND["assignment"]
        notes = MODEL_BY_KIND["mentor_note"]
        with self.ws.profile.session() as s, s.begin():
            mentees = select(assignments.student_id).where(
                assignments.staff_id == self.ws.identity.staff_id, assignments.role == "mentor",
                assignments.active.is_(True))
            pending = select(OutboxRow.record_id).where(OutboxRow.record_kind == "mentor_note")
            s.execute(delete(notes).where(notes.student_id.not_in(mentees), notes.id.not_in(pending)))

    def _purge_student(self, session: Any, student_id: str) -> None:
        """The assignment ended: this laptop no longer keeps anything about the student, once
        nothing about the student waits to be sent. A change still waiting (written while this
        sync ran, or refused by an older server) keeps the student here; the purge is done at
        the end of a later sync, after the server acknowledged it (DESIGN.md §4)."""
        if _pending_about(session, student_id):
            deferred = list(self._deferred(session))
            if student_id not in deferred:
                deferred.append(student_id)
            self._put_setting(session, DEFERRED_PURGES, value=deferred)
            return
        _delete_student_data(session, student_id)

    def _deferred(self, session: Any) -> list[str]:
        row = session.get(SettingRow, DEFERRED_PURGES)
        return list(row.value or []) if row is not None else []

    def deferred_purges(self) -> list[str]:
        """Students whose purge waits for their pending changes to be sent."""
        with self.ws.profile.session() as s:
            return self._deferred(s)

    def _run_deferred_purges(self) -> None:
        with self.ws.profile.session() as s, s.begin():
            deferred = self._deferred(s)
            if not deferred:
                return
            waiting = []
            for student_id in deferred:
                if _pending_about(s, student_id):
                    waiting.append(student_id)
                else:
                    _delete_student_data(s, student_id)
            self._put_setting(s, DEFERRED_PURGES, value=waiting)

    def _note_orphan(self, session: Any, kind: str, record_id: str, orphan_id: str, reason: str, at: str) -> None:
        """Remember, for the teacher's sync screen, what went to the officer's queue."""
        row = session.get(SettingRow, ORPHAN_NOTICES)
        notices = list(row.secret or []) if row is not None else []
        notices.append({"kind": kind, "record_id": record_id, "orphan_id": orphan_id, "reason": reason[:500],
                        "at": at})
        self._put_setting(session, ORPHAN_NOTICES, secret=notices[-ORPHAN_NOTICES_KEPT:])

    def orphaned(self) -> list[dict]:
        """Changes of this laptop the server kept as orphaned work for the officer, newest last."""
        return list(self._setting(ORPHAN_NOTICES, []) or [])

    def _upload_before_wipe(self) -> tuple[int, set[tuple[str, str]], str]:
        """Push every pending change once more, directly (no retry loop: this runs inside one).
        A retired device's changes are applied as the teacher's; a revoked one's are kept as
        orphaned work. Returns (sent, records still unsent, the server's device state)."""
        groups = self._pending_groups()
        unsent = {(k, r) for k, r, _rows in groups}
        sent = 0
        try:
            http, url, token = self._http()
        except SyncError:
            return 0, unsent, ""
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        device_id = self.ws.identity.device_id
        try:
            for start in range(0, len(groups), MAX_BATCH):
                chunk = groups[start:start + MAX_BATCH]
                with self.ws.profile.session() as s:
                    mutations = [self._mutation(s, k, r, rows) for k, r, rows in chunk]
                batch_id = hashlib.sha256("|".join(m.mutation_id for m in mutations).encode()).hexdigest()[:32]
                body = PushRequest(device_id=device_id, batch_id=batch_id, mutations=mutations)
                response = http.request("POST", f"{url}/v1/sync/push", headers=headers, timeout=self.timeout,
                                        data=body.model_dump_json().encode())
                if response.status_code != 200:
                    break
                result = PushResponse.model_validate(response.json())
                self._apply_push_results(chunk, result, SyncReport())
                with self.ws.profile.session() as s:
                    still = {(k, r) for k, r in s.execute(select(OutboxRow.record_kind, OutboxRow.record_id))}
                sent += sum(1 for k, r, _rows in chunk if (k, r) not in still)
                unsent = still
            state = ""
            if not unsent:
                response = http.request("POST", f"{url}/v1/sync/wiped", headers=headers, timeout=self.timeout,
                                        data=json.dumps({"device_id": device_id, "unsent": 0}).encode())
                if response.status_code == 200:
                    state = str(response.json().get("state", ""))
        except (requests.RequestException, ValueError) as exc:
            log.warning("upload before wipe failed: %s", type(exc).__name__)
            with self.ws.profile.session() as s:
                unsent = {(k, r) for k, r in s.execute(select(OutboxRow.record_kind, OutboxRow.record_id))}
            state = ""
        return sent, unsent, state

    def _wipe(self) -> None:
        """The device was retired or revoked: first upload every pending change (DESIGN.md §4:
        no wipe deletes something unsent), then delete every record and the token. A record
        whose change could not be uploaded (the network failed meanwhile) stays, with its
        outbox row and the token, until the next call uploads it; everything else goes now."""
        _sent, unsent, state = self._upload_before_wipe()
        with self.ws.profile.session() as s, s.begin():
            keep = {}
            for kind, record_id in unsent:
                keep.setdefault(kind, set()).add(record_id)
            for kind, model in MODEL_BY_KIND.items():
                ids = keep.get(kind)
                s.execute(delete(model).where(model.id.not_in(ids)) if ids else delete(model))
            if unsent:
                # the cursor goes (the data it covered is gone); the token stays for the retry
                s.execute(delete(SettingRow).where(SettingRow.id.in_(["sync_cursor", DEFERRED_PURGES])))
            else:
                s.execute(delete(OutboxRow))
                s.execute(delete(SettingRow).where(SettingRow.id.in_(["device_token", "sync_cursor",
                                                                       DEFERRED_PURGES])))
        if unsent:
            raise DeviceRevoked(f"学校已停用这台电脑的同步权限，本机上的学生资料已清除；还有 {len(unsent)} 条修改未能上传，"
                                "暂时保留在本机，下次连接学校服务器时会自动上传。")
        if state == "retired":
            raise DeviceRevoked("这台电脑已按计划退役：未同步的修改已全部上传到学校服务器，本机上的学生资料已清除。")
        raise DeviceRevoked("学校已停用（注销）这台电脑的同步权限，本机上的学生资料已清除；清除前未同步的修改（如有）已上传，"
                            "交学校资助专干核实，不会丢失。")


DEFERRED_PURGES = "deferred_purges"
ORPHAN_NOTICES = "orphaned_notices"
ORPHAN_NOTICES_KEPT = 200
ORPHANED_PREFIX = "未能作为您的记录写入，已交学校资助专干处理（内容已保存在服务器，不会丢失）："


def _pending_about(session: Any, student_id: str) -> bool:
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


def _delete_student_data(session: Any, student_id: str) -> None:
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


def _conflict_from_server(change: Any, me: str) -> tuple[dict, dict, dict]:
    """A server conflict record -> the local Conflict's parts. The server wraps the two opaque
    values without reading them (:func:`unwrap_conflict_sealed`); here they are opened, and
    "local" is the side this teacher wrote."""
    routing = dict(change.routing)
    facts = dict(change.facts or {})
    winner_sealed, loser_sealed = unwrap_conflict_sealed(change.sealed) if change.sealed else (None, None)
    winner, loser = _single_value(unseal_bytes(winner_sealed)), _single_value(unseal_bytes(loser_sealed))
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


def _error_code(response: requests.Response) -> str:
    try:
        return str(response.json().get("error", ""))
    except ValueError:
        return ""


def _error_detail(response: requests.Response) -> str:
    try:
        body = response.json()
        return str(body.get("detail") or body.get("error") or response.status_code)
    except ValueError:
        return f"HTTP {response.status_code}"
