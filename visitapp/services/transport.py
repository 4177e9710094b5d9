"""The one transport to the school server: HTTPS pinned to the certificate recorded at
enrollment (plain HTTP only on loopback), with urllib3's ``Retry`` on the session's adapter,
a cancellable session for the window's 取消, and the errors a call to the server can end in.

It lives among the services, not in :mod:`visitapp.protocol`: the protocol is shared with the
server and does no I/O, and only the client sends requests (the server never imports this).
The sync service (:mod:`visitapp.services.sync`) and the officer's calls
(:mod:`visitapp.services.officer`) both talk through :class:`ServerConnection`.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

from visitapp.domain.errors import Problem, UserError
from visitapp.messages import MESSAGES, placeholders
from visitapp.protocol.sync import MutationResult

log = logging.getLogger(__name__)
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 0.5
BACKOFF_MAX = 8.0
SERVER_ERRORS = (500, 502, 503, 504)
PIN_MISMATCH = "服务器证书与注册时记录的不一致，已拒绝连接。请联系学校资助专干。"
OFFLINE = "连接不上学校服务器（离线）。记录都保存在本机，回到学校后再同步即可。"


class SyncError(UserError):
    """A sync could not run at all; the message is a sentence for the teacher."""


class ServerRefused(UserError):
    """A call of the officer's screens the server answered with an error: the message is the
    server's sentence (Chinese), ``code`` its error code, ``status`` the HTTP status, and the
    message id and params the server said it by (see :func:`error_detail`), so a window says it
    in its own language."""

    def __init__(self, message: str, code: str = "", status: int = 0, message_id: str = "", **params: object):
        super().__init__(message, message_id, **params)
        self.code, self.status = code, status

    @classmethod
    def of(cls, response: requests.Response) -> ServerRefused:
        """The refusal the server's answer carries (its error code and sentence)."""
        said = error_detail(response)
        return cls(str(said), error_code(response), response.status_code, getattr(said, "message_id", ""),
                   **getattr(said, "params", {}))


class Offline(SyncError):
    """The school server could not be reached (refused, timed out, cut off)."""

    message_id = "sync.offline"


class DeviceRevoked(SyncError):
    """The school revoked or retired this computer; its student data has been wiped."""

    message_id = "sync.device_revoked"


class NotEnrolled(SyncError):
    """This computer has no device token: it was never enrolled with a school server."""

    message_id = "sync.not_enrolled"


class CertificateMismatch(SyncError):
    """The server at the enrolled address showed a certificate other than the pinned one."""

    message_id = "sync.certificate_mismatch"


class SyncCancelled(Exception):
    """The teacher pressed 取消 while a request was waiting on the server. Not a SyncError
    and not a requests error: it passes every retry loop and ends the sync at once."""


def is_loopback(url: str) -> bool:
    """Whether the URL's host is this machine (the only place plain HTTP is allowed)."""
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class AbandonableSession:
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


_PINNED_CONTEXT: Any = None


def _pinned_context() -> Any:
    """One TLS context for every pinned connection, made once. Without it urllib3 makes a
    context per connection and loads the system's CA certificates into it (about 45 ms a sync),
    which a pinned connection never uses: the fingerprint is the whole check."""
    global _PINNED_CONTEXT
    if _PINNED_CONTEXT is None:
        import ssl

        from urllib3.util.ssl_ import create_urllib3_context
        context = create_urllib3_context(cert_reqs=ssl.CERT_NONE)
        context.check_hostname = False
        _PINNED_CONTEXT = context
    return _PINNED_CONTEXT


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
        return {"assert_fingerprint": self._fingerprint, "cert_reqs": "CERT_NONE", "assert_hostname": False,
                "ssl_context": _pinned_context()}

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


_PROXIES: dict[str, dict[str, str]] = {}


def _environment_proxies(server_url: str) -> dict[str, str]:
    """The proxies the environment names for the school server (``HTTPS_PROXY``, ``NO_PROXY``,
    the system's settings on Windows and macOS), as requests would find them, looked up once
    per process and address: requests looked them up at every request, which walked the whole
    environment (~0.1 ms, a fiftieth of a sync with nothing to do; the registry on Windows).
    A proxy set after the first sync counts from the next start."""
    found = _PROXIES.get(server_url)
    if found is None:
        found = _PROXIES[server_url] = dict(requests.utils.get_environ_proxies(server_url))
    return found


def make_http_session(server_url: str, fingerprint: str, *, retries: int = DEFAULT_RETRIES,
                      backoff: float = DEFAULT_BACKOFF, repeatable: tuple[str, ...] = ("GET", "POST"),
                      retry_server_errors: bool = True) -> requests.Session:
    """The one transport to the school server: HTTPS pinned to the enrolled certificate (plain
    HTTP only on loopback), with :func:`make_retry`'s policy on its adapter. The environment
    counts for its proxies only (:func:`_environment_proxies`): a CA bundle it names is not
    what a pinned connection checks, and a ``.netrc`` entry for the server's host would have
    replaced the device token with a password."""
    retry = make_retry(retries, backoff, repeatable=repeatable, retry_server_errors=retry_server_errors)
    session = requests.Session()
    session.trust_env = False
    session.proxies.update(_environment_proxies(server_url))
    if server_url.startswith("https://"):
        if not fingerprint:
            raise SyncError("sync.no_fingerprint")
        session.mount("https://", _PinnedAdapter(fingerprint, max_retries=retry))
    elif is_loopback(server_url):
        session.mount("http://", _RetryingAdapter(max_retries=retry))
    else:
        raise SyncError("sync.plain_http_refused")
    return session


@dataclass
class ServerConnection:
    """One enrolled server as the services call it: the session, the address, the device
    token and the timeouts. ``on_revoked`` runs when the server answers ``device_revoked``
    (the sync service wipes the laptop there) before :class:`DeviceRevoked` is raised."""

    http: Any  # a requests.Session or an AbandonableSession around one
    url: str
    token: str | None
    connect_timeout: float
    read_timeout: float
    on_revoked: Callable[[], None] | None = None

    def request(self, method: str, path: str, *, json_body: bool = False, timeout: float | None = None,
                **kwargs: Any) -> requests.Response:
        """One request to ``url + path``; the session's adapter does the retries. Refuses with
        :class:`Offline`, :class:`CertificateMismatch` or :class:`DeviceRevoked`. ``timeout``
        is the read timeout of a call that takes longer than a page (the platform exchange)."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if json_body:
            headers["Content-Type"] = "application/json"
        try:
            response = self.http.request(method, self.url + path, headers=headers,
                                         timeout=(self.connect_timeout, timeout or self.read_timeout),
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
        if response.status_code == 403 and error_code(response) == "device_revoked":
            if self.on_revoked is not None:
                self.on_revoked()
            raise DeviceRevoked("sync.device_revoked")
        return response

    def close(self) -> None:
        """Close the session's connections."""
        self.http.close()


def error_code(response: requests.Response) -> str:
    """The server's error code of a refused call (``device_revoked``, …), or empty."""
    try:
        return str(response.json().get("error", ""))
    except ValueError:
        return ""


# the codes a client said in its own language before servers sent a message id with them
OLDER_SERVER_CODES = frozenset({"officer_only", "platform_not_configured", "preview_stale", "unauthorized"})


def error_detail(response: requests.Response) -> str:
    """The server's sentence of a refused call, or its HTTP status: the Chinese ``detail`` as a
    :class:`~visitapp.domain.errors.Problem` with the message id and params the server sent
    (a window says it in its language), or, for an id this client does not know (a newer
    server), plain ``detail``. An older server sends no id: four codes have one here."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if not isinstance(body, dict):
        return f"HTTP {response.status_code}"
    detail = str(body.get("detail") or body.get("error") or response.status_code)
    message_id = str(body.get("message_id") or "")
    if not message_id and body.get("error") in OLDER_SERVER_CODES:
        message_id = f"server.{body['error']}"
    return _with_id(detail, message_id, body.get("params"))


def said_reason(result: MutationResult) -> str:
    """A pushed change's reason (``code: sentence``, Chinese) with the message id and params the
    server said it by, as :func:`error_detail` does for a refused call."""
    return _with_id(result.reason, result.message_id, result.params)


def _with_id(sentence: str, message_id: str, params: object) -> str:
    """``sentence`` said by ``message_id`` where this client has that id and can fill it."""
    if message_id not in MESSAGES or not isinstance(params, dict | None):
        return sentence
    params = params or {}
    if placeholders(MESSAGES[message_id][0]) - set(params) or {"message", "message_id"} & set(params):
        return sentence  # another version's sentence under the same id: not ours to fill
    return Problem(sentence, message_id, **params)
