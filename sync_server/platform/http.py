"""The HTTP JSON transport: signed requests, timeouts, retries with backoff and jitter.

Retries are urllib3's ``Retry`` on the session's adapter (as the laptops' sync engine does),
with exponential backoff and full jitter so many schools retrying do not stampede together.
A retry is always safe: reads are reads, and every upload carries a batch id the platform
remembers (a retried batch gets the first answer back and nothing is counted twice) and item
ids with content versions (the same fact sent in another batch is a duplicate, not a second
fact), so GET and POST are both repeated. Errors the platform gives for the request itself
(4xx other than 408/425/429) are not retried. A retry resends the request as signed the first
time: the platform accepts its timestamp for ``signing.MAX_SKEW`` (5 minutes), longer than
the default tries take even when each one times out (6 × 35 s plus at most 8 s between).

Answers are read into the platform models (``RosterWire``, ``AidWire``, ``ReceiptWire`` in
:mod:`sync_server.platform.model`): one definition of each message, checked by pydantic.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from typing import Protocol
from urllib.parse import urlencode, urlsplit

import requests
from pydantic import ValidationError
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

from sync_server.platform.errors import TransportError
from sync_server.platform.model import AidRecord, RosterRow, StatCell, UploadReceipt
from sync_server.platform.wire import (
    AidResponse, RosterResponse, StatCellModel, StatisticsRequest, UploadRequest, UploadResponse,
)
from sync_server.platform.signing import sign

API = "/api/v1"
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
# both are idempotent here: reads, and uploads by batch id (see above)
REPEATABLE_METHODS = frozenset({"GET", "POST"})


class _FullJitterRetry(Retry):
    """urllib3's ``Retry`` with full jitter: the n-th retry waits a uniform random time up to
    ``backoff_factor * 2**(n-1)`` (at most ``backoff_max``), the first retry included (urllib3's
    own formula waits nothing before it). ``sleeper`` is replaced by tests."""

    sleeper: Callable[[float], None] = staticmethod(time.sleep)

    def get_backoff_time(self) -> float:
        errors = len(self.history)  # no redirects are followed here
        if errors == 0:
            return 0.0
        return random.uniform(0, min(self.backoff_max, self.backoff_factor * (2 ** (errors - 1))))

    def _sleep_backoff(self) -> None:
        self.sleeper(self.get_backoff_time())


class Transport(Protocol):
    """What the connector needs from a way of exchanging data with the platform."""

    channel: str

    def fetch_roster(self, term: str) -> list[RosterRow]: ...
    def fetch_aid(self, term: str) -> list[AidRecord]: ...
    def upload(self, batch_id: str, term: str, items: Sequence[dict]) -> UploadReceipt: ...
    def upload_statistics(self, batch_id: str, term: str, cells: Sequence[StatCell]) -> UploadReceipt: ...


class HttpTransport:
    """The platform's HTTP API (see the reference platform's OpenAPI document)."""

    channel = "http"

    def __init__(self, base_url: str, school_code: str, key: bytes, *, timeout: tuple[float, float] = (5.0, 30.0),
                 attempts: int = 6, backoff: float = 0.5, backoff_cap: float = 8.0,
                 sleep: Callable[[float], None] = time.sleep, session: requests.Session | None = None):
        if not base_url.startswith(("http://", "https://")):
            raise TransportError(f"平台地址“{base_url}”无效，应以 http:// 或 https:// 开头。")
        self.base_url = base_url.rstrip("/")
        self._prefix = urlsplit(self.base_url).path.rstrip("/")
        self.school_code, self.key = school_code, key
        self.timeout, self.attempts, self.backoff, self.backoff_cap = timeout, max(1, attempts), backoff, backoff_cap
        self._sleep = sleep
        self.session = session or requests.Session()
        self._adapter = HTTPAdapter()
        self.session.mount("http://", self._adapter)
        self.session.mount("https://", self._adapter)
        self.retries_used = 0

    # -- plumbing ------------------------------------------------------------------------------
    def _retry(self) -> Retry:
        """The policy of one request, from the current settings (tests change them on the fly)."""
        policy = type("PlatformRetry", (_FullJitterRetry,), {"sleeper": staticmethod(self._sleep)})
        retries = self.attempts - 1
        return policy(total=retries, connect=retries, read=retries, status=retries, other=0, redirect=0,
                      allowed_methods=REPEATABLE_METHODS, status_forcelist=RETRY_STATUSES,
                      backoff_factor=self.backoff, backoff_max=self.backoff_cap,
                      raise_on_status=False, respect_retry_after_header=False)

    def request(self, method: str, path: str, query: dict | None = None, body: dict | None = None) -> dict:
        rel = f"{API}/schools/{self.school_code}{path}"
        if query:
            rel += "?" + urlencode(query)
        full_path = self._prefix + rel  # what the platform sees as the request path
        data = b"" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        headers = sign(self.key, self.school_code, method, full_path, data)
        headers["Content-Type"] = "application/json"
        self._adapter.max_retries = self._retry()
        again = f"，已重试 {self.attempts - 1} 次仍未成功；稍后可再次运行，不会重复上报。"
        try:
            resp = self.session.request(method, self.base_url + rel, data=data or None, headers=headers,
                                        timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            self.retries_used += self.attempts - 1
            raise TransportError(f"无法连接平台（{type(exc).__name__}）{again}", retryable=True) from None
        history = getattr(getattr(resp.raw, "retries", None), "history", ())
        self.retries_used += len(history)
        if resp.status_code in RETRY_STATUSES:
            raise TransportError(f"平台暂时不可用（HTTP {resp.status_code}）{again}", retryable=True)
        if resp.status_code >= 400:
            raise TransportError(f"平台拒绝了请求（HTTP {resp.status_code}）：{_reason(resp)}",
                                 status=resp.status_code)
        try:
            return resp.json()
        except ValueError:
            raise TransportError("平台的应答不是有效的 JSON。") from None

    # -- operations ----------------------------------------------------------------------------
    def fetch_roster(self, term: str) -> list[RosterRow]:
        doc = self.request("GET", "/roster", {"term": term})
        try:
            return [s.to_row() for s in RosterResponse.model_validate(doc).students]
        except (ValidationError, ValueError) as exc:
            raise TransportError(f"平台返回的名册格式不正确：{_first_problem(exc)}") from None

    def fetch_aid(self, term: str) -> list[AidRecord]:
        doc = self.request("GET", "/aid", {"term": term})
        try:
            return [r.to_record() for r in AidResponse.model_validate(doc).records]
        except (ValidationError, ValueError) as exc:
            raise TransportError(f"平台返回的资助记录格式不正确：{_first_problem(exc)}") from None

    def upload(self, batch_id: str, term: str, items: Sequence[dict]) -> UploadReceipt:
        body = UploadRequest(batch_id=batch_id, term=term, items=list(items))
        return _receipt(self.request("POST", "/uploads", body=body.model_dump()))

    def upload_statistics(self, batch_id: str, term: str, cells: Sequence[StatCell]) -> UploadReceipt:
        body = StatisticsRequest(batch_id=batch_id, term=term, cells=[StatCellModel.from_cell(c) for c in cells])
        return _receipt(self.request("POST", "/statistics", body=body.model_dump()))


def _first_problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        return f"{'.'.join(map(str, error['loc']))}：{error['msg']}"
    return str(exc)


def _reason(resp: requests.Response) -> str:
    try:
        doc = resp.json()
        detail = doc.get("detail", doc)
        return detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False)[:300]
    except ValueError:
        return resp.text[:200]


def _receipt(doc: dict) -> UploadReceipt:
    try:
        return UploadResponse.model_validate(doc).to_receipt()
    except ValidationError as exc:
        raise TransportError(f"平台的上报应答格式不正确：{_first_problem(exc)}") from None
