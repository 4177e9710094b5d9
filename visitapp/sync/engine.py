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
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from sqlalchemy import delete, select
from urllib3.util import Retry
from uuid6 import uuid7

from visitapp.domain import split_by_tier
from visitapp.storage.models import MODEL_BY_KIND, OutboxRow, QuarantineRow, SettingRow, SyncErrorRow
from visitapp.storage.records import apply_to_row, row_parts
from visitapp.sync.address import (
    CONNECT_TIMEOUT, CONNECT_TIMEOUT_KEY, LEGACY_SERVER_URL_KEY, READ_TIMEOUT, READ_TIMEOUT_KEY, SERVER_URL_KEY,
    is_loopback,
)
from visitapp.protocol.sync import (
    MAX_BATCH, EnrollResponse, MetaResponse, Mutation, PullResponse, PushRequest, PushResponse,
    decode_enrollment_code,
)
from visitapp.protocol.records import encode_tier_c
from visitapp.protocol.records import RecordInvalid, read_record, decode_tier_c

if TYPE_CHECKING:
    from visitapp.services.workspace import Workspace

log = logging.getLogger(__name__)
ProgressFn = Callable[[int, int, str], None]
PULL_PAGE = 1000
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 0.5
BACKOFF_MAX = 8.0
SERVER_ERRORS = (500, 502, 503, 504)
PIN_MISMATCH = "服务器证书与注册时记录的不一致，已拒绝连接。请联系学校资助专干。"
OFFLINE = "连接不上学校服务器（离线）。记录都保存在本机，回到学校后再同步即可。"


class SyncError(Exception):
    """A sync could not run at all; the message is a sentence for the teacher."""


class ServerRefused(Exception):
    """A call of the officer's screens the server answered with an error: the message is the
    server's sentence, ``code`` its error code, ``status`` the HTTP status."""

    def __init__(self, message: str, code: str = "", status: int = 0):
        super().__init__(message)
        self.code, self.status = code, status

    @classmethod
    def of(cls, response: requests.Response) -> ServerRefused:
        return cls(_error_detail(response), _error_code(response), response.status_code)


class Offline(SyncError):
    pass


class DeviceRevoked(SyncError):
    pass


class NotEnrolled(SyncError):
    pass


class CertificateMismatch(SyncError):
    """The server at the enrolled address showed a certificate other than the pinned one."""


class SyncCancelled(Exception):
    """The teacher pressed 取消 while a request was waiting on the server. Not a SyncError
    and not a requests error: it passes every retry loop and ends the sync at once."""


class _Abandonable:
    """The HTTP session of one cancellable sync. Each request waits in a helper thread; the
    sync thread waits on the request *or* the cancel event, whichever comes first, so 取消
    ends a sync within a fraction of a second even while a hung server holds the socket
    open. An abandoned request ends by itself at its timeout; it touches no local data (its
    answer is never read), so the outbox and the cursor stay as the last applied step left
    them: an abandoned push is sent again at the next sync (the server's idempotency answers
    it), an abandoned pull page is read again.

    ``on_answer`` runs once, at the first response of the server (any status): until then the
    server has not shown it is there, and the window says 正在连接, not 在线."""

    POLL = 0.05

    def __init__(self, inner: requests.Session, cancel: threading.Event,
                 on_answer: Callable[[], None] | None = None):
        self.inner = inner
        self.cancel = cancel
        self._on_answer = on_answer

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        if self.cancel.is_set():
            raise SyncCancelled()
        box: dict[str, Any] = {}
        done = threading.Event()

        def call() -> None:
            try:
                box["response"] = self.inner.request(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - handed to the sync thread below
                box["error"] = exc
            finally:
                done.set()

        threading.Thread(target=call, name="visitapp-sync-request", daemon=True).start()
        while not done.wait(self.POLL):
            if self.cancel.is_set():
                raise SyncCancelled()
        if "error" in box:
            raise box["error"]
        if self._on_answer is not None:
            answered, self._on_answer = self._on_answer, None
            answered()
        return box["response"]

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


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
    finished_at: dt.datetime | None = None
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors and not self.cancelled


class _PinRetry(Retry):
    """urllib3's retries (backoff with jitter), with two rules of this transport:

    - a certificate that does not match the pin is final: retrying cannot make it match, and
      the teacher should read the reason at once, not after the backoff;
    - any other TLS failure (a handshake cut by a flaky network) counts as a read error, so it
      is retried only for the methods this session may repeat.
    """

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):  # noqa: ANN001, ANN201
        if isinstance(error, urllib3.exceptions.SSLError):
            if _is_pin_mismatch(error):
                raise urllib3.exceptions.MaxRetryError(_pool, url, error) from error
            error = urllib3.exceptions.ProtocolError("TLS connection failed", error)
        return super().increment(method, url, response, error, _pool, _stacktrace)


def _is_pin_mismatch(exc: BaseException | None) -> bool:
    """urllib3's ``assert_fingerprint`` refusal, wherever it sits in the exception chain."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if "Fingerprints did not match" in str(exc):
            return True
        reason = getattr(exc, "reason", None)
        args = [a for a in getattr(exc, "args", ()) if isinstance(a, BaseException)]
        exc = reason if isinstance(reason, BaseException) else (args[0] if args else exc.__cause__ or exc.__context__)
    return False


def make_retry(retries: int = DEFAULT_RETRIES, backoff: float = DEFAULT_BACKOFF, *,
               repeatable: tuple[str, ...] = ("GET", "POST"), retry_server_errors: bool = True) -> Retry:
    """The retry policy of one session. A refused or timed-out connection is always retried
    (nothing reached the server). A request cut after it was sent, and a 5xx answer, are
    retried only for ``repeatable`` methods: pull and meta are reads, and a push is
    idempotent by mutation id; an enrollment (its code is single-use) and the platform's
    POSTs are not repeated. Backoff doubles from ``backoff`` seconds, plus up to ``backoff``
    of random jitter so a classroom of laptops does not retry in step."""
    return _PinRetry(total=retries, connect=retries, read=retries, status=retries, other=0, redirect=0,
                     allowed_methods=frozenset(repeatable),
                     status_forcelist=SERVER_ERRORS if retry_server_errors else (),
                     backoff_factor=backoff, backoff_jitter=backoff, backoff_max=BACKOFF_MAX,
                     raise_on_status=False, respect_retry_after_header=True)


class _RetryingAdapter(HTTPAdapter):
    """urllib3's ``Retry`` covers a request up to its response's headers; requests reads the
    body afterwards, outside it. A body cut off by the network (a pull page is most of the
    bytes of a sync) goes through the same ``Retry`` here: its method rules, its counts and
    its backoff, so a repeatable call is sent again and any other one fails as before."""

    def send(self, request: Any, stream: bool = False, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        retry = self.max_retries
        while True:
            response = super().send(request, stream=True, **kwargs)
            if stream:
                return response
            try:
                response.content  # noqa: B018 - read the whole body now, inside the policy
                return response
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError,
                    requests.exceptions.ContentDecodingError) as exc:
                response.close()
                try:
                    retry = retry.increment(request.method, request.url,
                                            error=urllib3.exceptions.ProtocolError("response cut off", exc))
                except urllib3.exceptions.MaxRetryError:
                    raise exc from None
                except urllib3.exceptions.ProtocolError:
                    raise exc from None  # a method this session does not repeat
                log.warning("response to %s %s cut off; retrying (%r)", request.method, request.url, retry)
                retry.sleep()


class _PinnedAdapter(_RetryingAdapter):
    """HTTPS to the school's self-signed certificate, trusted by its SHA-256 fingerprint only.

    The school has no certificate authority, so there is no chain to verify: urllib3's
    ``assert_fingerprint`` replaces it, checked right after the handshake and before a byte of
    the request is sent. Chain verification is turned off here, in the pool settings of every
    connection, whatever ``verify`` the session or the environment (``REQUESTS_CA_BUNDLE``)
    asks for: requests would otherwise turn it back on per request and refuse the
    self-signed certificate before the pin is ever checked.
    """

    def __init__(self, fingerprint: str, **kwargs: Any):
        self._fingerprint = fingerprint.replace(":", "").strip().lower()
        super().__init__(**kwargs)

    def _pin(self) -> dict[str, Any]:
        return {"assert_fingerprint": self._fingerprint, "cert_reqs": "CERT_NONE", "assert_hostname": False}

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs.update(self._pin())
        super().init_poolmanager(*args, **kwargs)

    def build_connection_pool_key_attributes(self, request: Any, verify: Any, cert: Any = None):  # noqa: ANN201
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, False, cert)
        pool_kwargs.pop("ca_certs", None)
        pool_kwargs.pop("ca_cert_dir", None)
        pool_kwargs.update(self._pin())
        return host_params, pool_kwargs

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        super().cert_verify(conn, url, False, cert)


def make_http_session(server_url: str, fingerprint: str, *, retries: int = DEFAULT_RETRIES,
                      backoff: float = DEFAULT_BACKOFF, repeatable: tuple[str, ...] = ("GET", "POST"),
                      retry_server_errors: bool = True) -> requests.Session:
    """The one transport to the school server: HTTPS pinned to the enrolled certificate (plain
    HTTP only on loopback), with :func:`make_retry`'s policy on its adapter."""
    retry = make_retry(retries, backoff, repeatable=repeatable, retry_server_errors=retry_server_errors)
    session = requests.Session()
    if server_url.startswith("https://"):
        if not fingerprint:
            raise SyncError("缺少服务器证书指纹，无法安全连接。请使用学校提供的注册码。")
        session.mount("https://", _PinnedAdapter(fingerprint, max_retries=retry))
    elif is_loopback(server_url):
        session.mount("http://", _RetryingAdapter(max_retries=retry))
    else:
        raise SyncError("只允许在本机（loopback）上使用不加密的 http 连接；学校服务器必须使用 https。")
    return session


class SyncEngine:
    def __init__(self, ws: Workspace, connect_timeout: float | None = None, read_timeout: float | None = None,
                 retries: int = DEFAULT_RETRIES, backoff: float = DEFAULT_BACKOFF):
        """Timeouts left ``None`` come from the settings ``sync_connect_timeout`` and
        ``sync_read_timeout`` (seconds), else :data:`CONNECT_TIMEOUT` / :data:`READ_TIMEOUT`."""
        self.ws = ws
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.retries = retries
        self.backoff = backoff

    @property
    def timeout(self) -> float:
        """The read timeout (kept for callers that set one number)."""
        return self._timeouts()[1]

    @timeout.setter
    def timeout(self, seconds: float) -> None:
        self.read_timeout = seconds

    def _timeouts(self) -> tuple[float, float]:
        connect = self.connect_timeout or float(self._setting(CONNECT_TIMEOUT_KEY, None) or CONNECT_TIMEOUT)
        read = self.read_timeout or float(self._setting(READ_TIMEOUT_KEY, None) or READ_TIMEOUT)
        return connect, read

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

    def quarantined(self) -> list[tuple[str, str, str]]:
        """Pulled records set aside because this laptop cannot read them: (kind, id, reason)."""
        with self.ws.profile.session() as s:
            return [(r.record_kind, r.record_id, r.reason)
                    for r in s.scalars(select(QuarantineRow).order_by(QuarantineRow.at, QuarantineRow.record_id))]

    def errors(self) -> list[tuple[str, str]]:
        with self.ws.profile.session() as s:
            return [(r.record_id, r.reason) for r in s.scalars(select(SyncErrorRow).order_by(SyncErrorRow.id))]

    # -- HTTP ------------------------------------------------------------------------------------
    def _http(self, *, repeatable: tuple[str, ...] = ("GET", "POST"),
              retry_server_errors: bool = True) -> tuple[requests.Session, str, str]:
        """The enrolled server's session, address and device token. Sync repeats its GETs and
        its pushes (idempotent by mutation id); the platform client repeats only GETs."""
        token = self._setting("device_token")
        url = self._setting(SERVER_URL_KEY) or self._setting(LEGACY_SERVER_URL_KEY)
        if not token or not url:
            raise NotEnrolled("这台电脑还没有在学校服务器注册，无法同步。")
        http = make_http_session(url, self._setting("server_fingerprint", ""), retries=self.retries,
                                 backoff=self.backoff, repeatable=repeatable,
                                 retry_server_errors=retry_server_errors)
        return http, url.rstrip("/"), token

    def _call(self, http: requests.Session, method: str, url: str, token: str | None,
              json_body: bool = False, *, timeout: float | None = None, **kwargs: Any) -> requests.Response:
        """One request; the session's adapter does the retries. ``timeout`` is the read timeout
        for a call that takes longer than a page (the platform exchange)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if json_body:
            headers["Content-Type"] = "application/json"
        connect, read = self._timeouts()
        try:
            response = http.request(method, url, headers=headers, timeout=(connect, timeout or read),
                                    allow_redirects=False, **kwargs)
        except requests.exceptions.SSLError as exc:
            if _is_pin_mismatch(exc):
                raise CertificateMismatch(PIN_MISMATCH) from exc
            raise Offline(OFFLINE) from exc
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError) as exc:  # refused, timed out, or cut off
            if _is_pin_mismatch(exc):
                raise CertificateMismatch(PIN_MISMATCH) from exc
            raise Offline(OFFLINE) from exc
        if response.status_code == 403 and _error_code(response) == "device_revoked":
            self._wipe()
            raise DeviceRevoked("学校已停用这台电脑的同步权限，本机上的学生资料已清除。")
        return response

    # -- enrollment ------------------------------------------------------------------------------
    def enroll(self, code: str, device_label: str = "") -> EnrollResponse:
        try:
            server_url, fingerprint, secret = decode_enrollment_code(code)
        except ValueError as exc:
            raise SyncError(str(exc)) from None
        base = server_url.rstrip("/")
        # the code is single-use: a request that may have reached the server is not repeated
        http = make_http_session(base, fingerprint, retries=self.retries, backoff=self.backoff,
                                 repeatable=("GET",), retry_server_errors=False)
        response = self._call(http, "POST", f"{base}/v1/enroll", None,
                              json={"code": secret, "device_label": device_label or "visitapp"})
        if response.status_code != 200:
            raise SyncError(f"注册失败：{_error_detail(response)}")
        enrolled = EnrollResponse.model_validate(response.json())
        from visitapp.services.base import Identity  # late: services import this module
        old = self.ws.identity
        with self.ws.profile.session() as s, s.begin():
            self._put_setting(s, "device_token", secret=enrolled.token)
            self._put_setting(s, SERVER_URL_KEY, base)
            s.execute(delete(SettingRow).where(SettingRow.id == LEGACY_SERVER_URL_KEY))
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
        """Push, then pull. With ``cancel`` (the window's 取消) every request can be abandoned:
        the sync returns a cancelled report within a fraction of a second of the event being
        set, at any point (waiting on the server, between two attempts, between batches). A
        step whose answer was applied stays applied; one still in flight is simply redone at
        the next sync. ``progress(0, 0, "connected")`` reports the server's first answer."""
        report = SyncReport()
        http, url, token = self._http()
        if cancel is not None:
            http = _Abandonable(http, cancel, on_answer=(lambda: progress(0, 0, "connected")) if progress else None)
        try:
            with self.ws.profile.session() as s, s.begin():
                s.execute(delete(SyncErrorRow))
            self._push(http, url, token, report, progress, cancel)
            if not report.cancelled:
                self._pull(http, url, token, report, progress, cancel)
        except SyncCancelled:
            report.cancelled = True
        finally:
            http.close()
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
        sealed_wire = encode_tier_c(sealed)
        if kind == "conflict":
            # a resolution: the server wants the chosen value as the record's own sealed part
            sealed_wire = None
            if routing.get("resolution") == "value":
                value = (sealed or {}).get("resolution_value")
                field_name = "text" if routing.get("record_kind") == "mentor_note" else "value"
                sealed_wire = encode_tier_c({field_name: value})
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
            # only the first page's total is used (progress), so later pages skip the count
            response = self._call(http, "GET", f"{url}/v1/sync/pull", token,
                                  params={"cursor": cursor, "limit": PULL_PAGE,
                                          **({} if total is None else {"total": "false"})})
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
        me = self.ws.identity.staff_id
        now = self.ws.ctx.now().isoformat()
        with self.ws.profile.session() as s, s.begin():
            pending = {(k, r) for k, r in s.execute(select(OutboxRow.record_kind, OutboxRow.record_id))}
            clock = self.ws.ctx.clock(s)
            rows = _rows_of_page(s, page)
            held = _quarantine_of_page(s, page)
            # one flush for the page, not one per record (each lookup would flush the last)
            with s.no_autoflush:
                for change in page.changes:
                    model = MODEL_BY_KIND.get(change.kind)
                    if model is None:
                        continue  # a kind this version does not know: skip, a newer client will read it
                    if (change.kind, change.record_id) in pending:
                        continue  # never overwrite unpushed local work; the push will meet a conflict
                    row = rows.get((model, change.record_id))
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
                    try:
                        entity = _read_change(change, me)
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
                    if row is None:
                        row = rows[(model, change.record_id)] = model(id=change.record_id)
                        s.add(row)
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


def _read_change(change: Any, me: str) -> Any:
    """A pulled record read by the kind's typed model (:mod:`visitapp.protocol.records`, the
    schema the server checks pushes with), each part for its own tier only, or
    :class:`RecordInvalid`."""
    if change.kind == "conflict":
        routing, facts, sealed = _conflict_from_server(change, me)
    else:
        routing, facts, sealed = change.routing, change.facts, decode_tier_c(change.sealed)
    if not isinstance(routing, dict):
        raise RecordInvalid("invalid_record", "routing 应为对象")
    if "id" not in routing:
        routing = {**routing, "id": change.record_id}
    entity = read_record(change.kind, routing, facts, sealed)
    if entity.id != change.record_id:
        raise RecordInvalid("id_mismatch", "记录内容中的 id 与记录 ID 不一致")
    student = getattr(entity, "student_id", None)
    if change.kind != "student" and student and change.student_id and student != change.student_id:
        raise RecordInvalid("student_mismatch", "记录内容中的学生与服务器登记的学生不一致")
    return entity


def _conflict_from_server(change: Any, me: str) -> tuple[dict, dict, dict]:
    """A server conflict record -> the local Conflict's parts. The server wraps the two opaque
    values without reading them (:func:`unwrap_conflict_sealed`); here they are opened, and
    "local" is the side this teacher wrote. A blob in no known format: :class:`RecordInvalid`."""
    routing = dict(change.routing)
    facts = dict(change.facts or {})
    doc = decode_tier_c(change.sealed) if change.sealed else {"format": "visitapp-conflict-v1"}
    if doc.get("format") != "visitapp-conflict-v1":
        raise RecordInvalid("sealed_format", "冲突记录的内容格式未知")
    winner_sealed, loser_sealed = doc.get("winner"), doc.get("loser")
    winner, loser = _single_value(decode_tier_c(winner_sealed)), _single_value(decode_tier_c(loser_sealed))
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
