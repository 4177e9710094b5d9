"""The platform's HTTP transport against a scripted HTTP server on loopback (a thread, no
process): which answers are retried, for which methods, with what waits, and how a
malformed answer is reported."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sync_server.platform.errors import TransportError
from sync_server.platform.http import HttpTransport
from sync_server.platform.signing import H_SIGNATURE, H_TIMESTAMP, verify

KEY = b"k" * 32
ROSTER = {"term": "2026-2027-1", "school_code": "WX-1", "students": [
    {"platform_ref": "WX00000001", "name": "张晓明", "class_name": "三年级1班", "stage": "primary",
     "masked_id": None, "hardship_categories": ["min_living"], "level": "2"}]}


class Script:
    """Answers per path, consumed in order (the last one repeats); records every request."""

    def __init__(self, answers: dict[str, list[tuple[int, object]]]):
        self.answers, self.seen = answers, []

    def __enter__(self) -> Script:
        script = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = self.path.split("?")[0].rsplit("/", 1)[-1]
                script.seen.append((self.command, path, body, dict(self.headers)))
                queue = script.answers[path]
                status, doc = queue.pop(0) if len(queue) > 1 else queue[0]
                data = doc.encode() if isinstance(doc, str) else json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *args) -> None:  # keep the test output clean
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def transport(url: str, sleeps: list, attempts: int = 4) -> HttpTransport:
    return HttpTransport(url, "WX-1", KEY, attempts=attempts, backoff=0.5, backoff_cap=0.8, sleep=sleeps.append,
                         timeout=(2, 5))


def test_temporary_answers_are_retried_with_full_jitter_then_read_into_the_model():
    sleeps: list[float] = []
    with Script({"roster": [(503, {"detail": "busy"}), (429, {}), (200, ROSTER)]}) as srv:
        t = transport(srv.url, sleeps)
        (row,) = t.fetch_roster("2026-2027-1")
    assert row.platform_ref == "WX00000001" and row.masked_id == "" and row.level.value == "2"
    assert [m for m, *_ in srv.seen] == ["GET"] * 3 and t.retries_used == 2
    # the n-th wait is uniform up to backoff × 2^(n-1), capped: the first retry waits too
    assert len(sleeps) == 2 and 0 <= sleeps[0] <= 0.5 and 0 <= sleeps[1] <= 0.8
    # every try is the request as signed: the platform's check accepts each one
    for method, _path, body, headers in srv.seen:
        assert verify(KEY, method, "/api/v1/schools/WX-1/roster?term=2026-2027-1", headers[H_TIMESTAMP],
                      headers[H_SIGNATURE], body) is None


def test_an_upload_is_repeated_on_a_server_error_and_a_refusal_is_final():
    sleeps: list[float] = []
    receipt = {"batch_id": "b1", "duplicate_batch": False, "results": [{"item_id": "i1", "status": "accepted"}]}
    with Script({"uploads": [(502, "bad gateway"), (200, receipt)], "statistics": [(400, {"detail": "学期不对"})]}) as srv:
        t = transport(srv.url, sleeps)
        got = t.upload("b1", "2026-2027-1", [{"item_id": "i1"}])
        assert got.results == {"i1": ("accepted", "")}
        with pytest.raises(TransportError) as err:
            t.upload_statistics("b2", "2026-2027-1", [])
    assert [(m, p) for m, p, *_ in srv.seen] == [("POST", "uploads")] * 2 + [("POST", "statistics")]
    assert err.value.status == 400 and "学期不对" in str(err.value) and not err.value.retryable


def test_still_unavailable_after_every_try_and_a_malformed_answer_are_sentences():
    sleeps: list[float] = []
    with Script({"roster": [(503, {})], "aid": [(200, {"term": "x", "school_code": "WX-1", "records": [{}]})]}) as srv:
        t = transport(srv.url, sleeps, attempts=3)
        with pytest.raises(TransportError) as err:
            t.fetch_roster("2026-2027-1")
        assert "HTTP 503" in str(err.value) and "已重试 2 次" in str(err.value) and err.value.retryable
        assert len(srv.seen) == 3
        with pytest.raises(TransportError) as err:
            t.fetch_aid("2026-2027-1")
    assert "资助记录格式不正确" in str(err.value) and "records.0.aid_id" in str(err.value)
