"""The sync transport's retry policy (urllib3 ``Retry`` on the session's adapter), against a
real loopback HTTP server that misbehaves on purpose: what is repeated, what is not."""

from __future__ import annotations

import http.server
import threading

import pytest

from visitapp.services.transport import Offline, ServerConnection, make_http_session, make_retry


class Flaky(http.server.ThreadingHTTPServer):
    """``/cut``: the first ``cuts`` answers stop in the middle of their body; ``/busy``: the
    first ``busy`` answers are 503. Counts every request that arrived, by method and path."""

    def __init__(self, cuts: int = 0, busy: int = 0):
        self.cuts, self.busy = cuts, busy
        self.seen: list[tuple[str, str]] = []
        self.authorization: list[str | None] = []
        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # noqa: ANN002 - quiet
        pass

    def _answer(self) -> None:
        srv: Flaky = self.server  # type: ignore[assignment]
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        srv.seen.append((self.command, self.path))
        srv.authorization.append(self.headers.get("Authorization"))
        body = b'{"ok": true, "pad": "' + b"x" * 5000 + b'"}'
        if self.path == "/busy" and srv.busy > 0:
            srv.busy -= 1
            self.send_response(503)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.path == "/cut" and srv.cuts > 0:
            srv.cuts -= 1
            self.wfile.write(body[:100])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(body)

    do_GET = do_POST = _answer


def _call(http, method: str, url: str, token: str | None, **kwargs):
    """One request through the services' connection type (its error mapping), on ``http``."""
    return ServerConnection(http, "", token, 5.0, 20.0).request(method, url, **kwargs)


def test_a_body_cut_off_is_fetched_again_for_a_repeatable_call():
    srv = Flaky(cuts=2)
    try:
        http = make_http_session(srv.url, "", retries=3, backoff=0.01)
        r = _call(http, "GET", f"{srv.url}/cut", None)
        assert r.status_code == 200 and r.json()["ok"] is True
        assert srv.seen == [("GET", "/cut")] * 3
        # a push is idempotent by mutation id: repeated too
        srv.cuts = 1
        r = _call(http, "POST", f"{srv.url}/cut", "token", data=b"{}", json_body=True)
        assert r.status_code == 200 and srv.seen[-2:] == [("POST", "/cut")] * 2
    finally:
        srv.shutdown()


def test_a_call_that_must_not_repeat_is_sent_once():
    """An enrollment code is single-use, a platform apply is not to be doubled: a POST that
    reached the server is not sent again; the teacher reads "offline"."""
    srv = Flaky(cuts=5, busy=5)
    try:
        http = make_http_session(srv.url, "", retries=3, backoff=0.01, repeatable=("GET",),
                                 retry_server_errors=False)
        with pytest.raises(Offline):
            _call(http, "POST", f"{srv.url}/cut", None, data=b"{}", json_body=True)
        assert srv.seen == [("POST", "/cut")]
        r = _call(http, "POST", f"{srv.url}/busy", None, data=b"{}", json_body=True)
        assert r.status_code == 503 and srv.seen[-1] == ("POST", "/busy") and len(srv.seen) == 2
    finally:
        srv.shutdown()


def test_server_errors_are_retried_then_answered():
    srv = Flaky(busy=2)
    try:
        http = make_http_session(srv.url, "", retries=3, backoff=0.01)
        assert _call(http, "GET", f"{srv.url}/busy", None).status_code == 200
        assert len(srv.seen) == 3
        srv.busy = 10  # more than the retries: the last answer is given back, not an exception
        assert _call(http, "GET", f"{srv.url}/busy", None).status_code == 503
        assert len(srv.seen) == 3 + 4
    finally:
        srv.shutdown()


def test_the_environment_names_the_proxy_and_nothing_else(monkeypatch, tmp_path):
    """A proxy the environment names carries the sync's requests (looked up once per address,
    not per request); a ``.netrc`` entry for the server does not replace the device token."""
    proxy = Flaky()
    server = f"http://127.0.0.1:{Flaky().server_address[1]}"
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password not-the-token\n")
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("http_proxy", proxy.url)
    monkeypatch.setenv("NETRC", str(netrc))
    http = make_http_session(server, "", retries=0)
    assert _call(http, "GET", server + "/v1/sync/pull", "device-token").status_code == 200
    assert proxy.seen == [("GET", server + "/v1/sync/pull")]  # an absolute address: a proxy's request
    assert proxy.authorization == ["Bearer device-token"]


def test_nobody_listening_is_offline():
    srv = Flaky()
    url = srv.url
    srv.shutdown()
    srv.server_close()
    http = make_http_session(url, "", retries=2, backoff=0.01)
    with pytest.raises(Offline, match="离线"):
        _call(http, "GET", f"{url}/v1/sync/meta", "t")


def test_the_policy_backs_off_with_jitter():
    retry = make_retry(3, 0.5)
    assert retry.backoff_jitter == 0.5 and retry.backoff_factor == 0.5 and retry.backoff_max == 8.0
    assert retry.total == 3 and retry.other == 0 and retry.redirect == 0
    assert set(retry.allowed_methods) == {"GET", "POST"}


def test_plain_http_off_this_machine_is_refused():
    from visitapp.services.transport import SyncError
    with pytest.raises(SyncError, match="https"):
        make_http_session("http://192.168.1.10:8443", "")
    with pytest.raises(SyncError, match="指纹"):
        make_http_session("https://192.168.1.10:8443", "")


def test_timeouts_default_to_a_school_lan_and_follow_the_settings(workspace):
    assert workspace.sync.timeouts() == (5.0, 20.0)
    workspace.settings.set("sync_read_timeout", 45)
    assert workspace.sync.timeouts() == (5.0, 45.0)
    workspace.sync.connect_timeout = 2
    assert workspace.sync.timeouts() == (2, 45.0)
    from visitapp.domain import ValidationError
    with pytest.raises(ValidationError):
        workspace.settings.set("sync_connect_timeout", 0)


def test_the_server_address_is_one_setting_that_sync_reads(workspace):
    """The Settings screen and sync use one key; an address sync could not use is refused."""
    from visitapp.domain import ValidationError
    from visitapp.services import settings
    from visitapp.services.settings import LEGACY_SERVER_URL_KEY, SCHEMA_VERSION_KEY, SERVER_URL_KEY
    from visitapp.storage.models import SettingRow

    workspace.settings.set(SERVER_URL_KEY, "")  # not enrolled: an empty address is fine
    for bad in ("http://192.168.1.10:8443", "ftp://school", "https://school:port", "192.168.1.10"):
        with pytest.raises(ValidationError):
            workspace.settings.set(SERVER_URL_KEY, bad)
    with workspace.profile.session() as s, s.begin():
        settings.write(s, "device_token", "tok")
        settings.write(s, "server_fingerprint", "ab" * 32)
        settings.forget(s, SERVER_URL_KEY, SCHEMA_VERSION_KEY)  # as a profile of version 1 left it
        s.add(SettingRow(id=LEGACY_SERVER_URL_KEY, value="https://10.0.0.5:8443"))
    from visitapp.services.workspace import Workspace
    workspace = Workspace(workspace.profile)  # what opening the profile does: its settings upgraded
    # a profile enrolled by an older version still finds its server, under the one key
    assert workspace.sync.connect().url == "https://10.0.0.5:8443"
    assert workspace.settings.get(SERVER_URL_KEY) == "https://10.0.0.5:8443"
    with workspace.profile.session() as s:
        assert s.get(SettingRow, LEGACY_SERVER_URL_KEY) is None
    workspace.settings.set(SERVER_URL_KEY, " https://10.0.0.9:8443/ ")
    assert workspace.settings.get(SERVER_URL_KEY) == "https://10.0.0.9:8443"
    assert workspace.sync.connect().url == "https://10.0.0.9:8443"
    with pytest.raises(ValidationError):
        workspace.settings.set(SERVER_URL_KEY, "")  # enrolled: sync needs an address
