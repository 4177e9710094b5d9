"""The HTTP JSON transport: signed requests, timeouts, retries with backoff and jitter.

A retry is always safe: reads are reads, and every upload carries a batch id the platform
remembers (a retried batch gets the first answer back and nothing is counted twice) and item
ids with content versions (the same fact sent in another batch is a duplicate, not a second
fact). Errors the platform gives for the request itself (4xx) are not retried.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from typing import Protocol
from urllib.parse import urlencode, urlsplit

import requests

from sync_server.platform.errors import TransportError
from sync_server.platform.model import AidRecord, RosterRow, StatCell, UploadReceipt
from sync_server.platform.signing import sign

API = "/api/v1"
RETRY_STATUSES = {408, 425, 429, 500, 502, 503, 504}


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
        self.retries_used = 0

    # -- plumbing ------------------------------------------------------------------------------
    def _delay(self, attempt: int) -> float:
        # exponential backoff with full jitter, so many schools retrying do not stampede together
        return random.uniform(0, min(self.backoff_cap, self.backoff * (2 ** attempt)))

    def request(self, method: str, path: str, query: dict | None = None, body: dict | None = None) -> dict:
        rel = f"{API}/schools/{self.school_code}{path}"
        if query:
            rel += "?" + urlencode(query)
        full_path = self._prefix + rel  # what the platform sees as the request path
        data = b"" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        last: str = ""
        for attempt in range(self.attempts):
            if attempt:
                self.retries_used += 1
                self._sleep(self._delay(attempt - 1))
            headers = sign(self.key, self.school_code, method, full_path, data)  # fresh timestamp each try
            headers["Content-Type"] = "application/json"
            try:
                resp = self.session.request(method, self.base_url + rel,
                                            data=data or None, headers=headers, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = f"无法连接平台（{type(exc).__name__}）"
                continue
            if resp.status_code in RETRY_STATUSES:
                last = f"平台暂时不可用（HTTP {resp.status_code}）"
                continue
            if resp.status_code >= 400:
                raise TransportError(f"平台拒绝了请求（HTTP {resp.status_code}）：{_reason(resp)}",
                                     status=resp.status_code)
            try:
                return resp.json()
            except ValueError:
                raise TransportError("平台的应答不是有效的 JSON。") from None
        raise TransportError(f"{last}，已重试 {self.attempts - 1} 次仍未成功；稍后可再次运行，不会重复上报。",
                             retryable=True)

    # -- operations ----------------------------------------------------------------------------
    def fetch_roster(self, term: str) -> list[RosterRow]:
        doc = self.request("GET", "/roster", {"term": term})
        try:
            return [RosterRow.from_json(r) for r in doc["students"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise TransportError(f"平台返回的名册格式不正确：{exc}") from None

    def fetch_aid(self, term: str) -> list[AidRecord]:
        doc = self.request("GET", "/aid", {"term": term})
        try:
            return [AidRecord.from_json(r) for r in doc["records"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise TransportError(f"平台返回的资助记录格式不正确：{exc}") from None

    def upload(self, batch_id: str, term: str, items: Sequence[dict]) -> UploadReceipt:
        doc = self.request("POST", "/uploads", body={"batch_id": batch_id, "term": term, "items": list(items)})
        return _receipt(doc)

    def upload_statistics(self, batch_id: str, term: str, cells: Sequence[StatCell]) -> UploadReceipt:
        doc = self.request("POST", "/statistics", body={"batch_id": batch_id, "term": term,
                                                        "cells": [c.to_json() for c in cells]})
        return _receipt(doc)


def _reason(resp: requests.Response) -> str:
    try:
        doc = resp.json()
        detail = doc.get("detail", doc)
        return detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False)[:300]
    except ValueError:
        return resp.text[:200]


def _receipt(doc: dict) -> UploadReceipt:
    try:
        return UploadReceipt(batch_id=str(doc["batch_id"]), duplicate_batch=bool(doc.get("duplicate_batch")),
                             results={r["item_id"]: (r["status"], r.get("reason", "")) for r in doc.get("results", [])})
    except (KeyError, TypeError) as exc:
        raise TransportError(f"平台的上报应答格式不正确：{exc}") from None
