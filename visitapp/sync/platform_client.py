"""The officer's desktop side of the platform exchange: calls the school server's
``/v1/platform/...`` endpoints with the sync engine's pinned HTTPS session and device token,
and returns plain frozen data for the screens.

The school server does the exchange with the city platform; this laptop never talks to the
platform. A roster apply or an aid pull changes records on the server: the laptop receives
them at its next sync (the screen offers it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from visitapp.sync import platform_protocol as pp
from visitapp.sync.engine import ServerRefused
from visitapp.sync.platform_protocol import FieldChange, ReconLine, StudentChange

if TYPE_CHECKING:
    from visitapp.sync.engine import SyncEngine


class PlatformCallError(ServerRefused):
    """The server refused or could not do the exchange; the message is the server's sentence.
    ``code`` is its error code (``platform_not_configured``, ``preview_stale``, …)."""


@dataclass(frozen=True)
class PlatformStatus:
    configured: bool
    url: str
    school_code: str
    district: str
    term: str
    problem: str


@dataclass(frozen=True)
class RosterPreview:
    preview_id: str
    term: str
    new: tuple[StudentChange, ...]
    changed: tuple[StudentChange, ...]
    gone: tuple[StudentChange, ...]
    unchanged: int
    summary: str

    @property
    def is_noop(self) -> bool:
        return not (self.new or self.changed or self.gone)


@dataclass(frozen=True)
class RosterApplied:
    applied: bool
    term: str
    new: int
    changed: int
    gone: int
    summary: str


@dataclass(frozen=True)
class AidPulled:
    term: str
    received: int
    added: int
    already: int
    orphans: tuple[str, ...]
    summary: str


@dataclass(frozen=True)
class KindCount:
    kind: str
    items: int
    sent: int
    failed: int
    pending: int


@dataclass(frozen=True)
class PushOutcome:
    term: str
    items: int
    sent: int
    duplicates: int
    rejected: tuple[tuple[str, str, str], ...]  # (item_id, kind, reason)
    pending: int
    batches: int
    error: str
    statistics_cells: int
    ok: bool
    by_kind: tuple[KindCount, ...]
    summary: str


@dataclass(frozen=True)
class Reconciliation:
    term: str
    generated_at: dt.datetime
    not_visited: tuple[ReconLine, ...]
    off_roster: tuple[ReconLine, ...]
    level_mismatch: tuple[ReconLine, ...]
    exports: tuple[ReconLine, ...]

    SECTIONS = ("not_visited", "off_roster", "level_mismatch", "exports")

    @property
    def counts(self) -> dict[str, int]:
        return {k: len(getattr(self, k)) for k in self.SECTIONS}


@dataclass(frozen=True)
class Exchange:
    id: str
    at: dt.datetime
    actor: str
    direction: str
    channel: str
    operation: str
    fields: tuple[str, ...]
    count: int
    result: str
    detail: str


def _changes(items: list[pp.StudentChangeModel]) -> tuple[StudentChange, ...]:
    return tuple(StudentChange(c.student_id, c.platform_ref, c.name, c.class_name,
                               tuple(FieldChange(f.field, f.old, f.new) for f in c.changes)) for c in items)


def _lines(items: list[pp.ReconLineModel]) -> tuple[ReconLine, ...]:
    return tuple(ReconLine(**x.model_dump()) for x in items)


class PlatformClient:
    """``/v1/platform/...`` over the engine's session (certificate pinning, retries, revocation)."""

    def __init__(self, engine: SyncEngine, timeout: float = 300.0):
        self.engine = engine
        # a roster pull from the platform takes the platform's time as well as the server's
        self.timeout = timeout

    def _request(self, method: str, path: str, body: dict | None = None, params: dict | None = None):
        # a 502 already means the server retried the platform: do not multiply the wait; and a
        # POST that may have reached the server is not sent again
        http, url, token = self.engine._http(repeatable=("GET",), retry_server_errors=False)
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs["json"] = body
        if params:
            kwargs["params"] = params
        response = self.engine._call(http, method, f"{url}/v1/platform/{path}", token, timeout=self.timeout,
                                     **kwargs)
        if response.status_code != 200:
            raise PlatformCallError.of(response)
        return response

    def _json(self, model, method: str, path: str, body: dict | None = None, params: dict | None = None):
        return model.model_validate(self._request(method, path, body, params).json())

    def status(self) -> PlatformStatus:
        s = self._json(pp.PlatformStatus, "GET", "status")
        return PlatformStatus(s.configured, s.url, s.school_code, s.district, s.term, s.problem)

    def preview_roster(self, term: str | None = None) -> RosterPreview:
        p = self._json(pp.RosterPreviewResponse, "POST", "roster/preview", {"term": term})
        return RosterPreview(p.preview_id, p.term, _changes(p.new), _changes(p.changed), _changes(p.gone),
                             p.unchanged, p.summary)

    def apply_roster(self, preview: RosterPreview, force: bool = False) -> RosterApplied:
        a = self._json(pp.RosterApplyResponse, "POST", "roster/apply",
                       {"preview_id": preview.preview_id, "term": preview.term, "force": force})
        return RosterApplied(a.applied, a.term, a.new, a.changed, a.gone, a.summary)

    def pull_aid(self, term: str | None = None) -> AidPulled:
        a = self._json(pp.AidPullResponse, "POST", "aid/pull", {"term": term})
        return AidPulled(a.term, a.received, a.added, a.already, tuple(a.orphans), a.summary)

    def push(self, term: str | None = None, statistics: bool = True) -> PushOutcome:
        p = self._json(pp.PushResponse, "POST", "push", {"term": term, "statistics": statistics})
        return PushOutcome(p.term, p.items, p.sent, p.duplicates,
                           tuple((r.item_id, r.kind, r.reason) for r in p.rejected), p.pending, p.batches, p.error,
                           p.statistics_cells, p.ok,
                           tuple(KindCount(k.kind, k.items, k.sent, k.failed, k.pending) for k in p.by_kind),
                           p.summary)

    def reconciliation(self, term: str | None = None) -> Reconciliation:
        r = self._json(pp.ReconciliationResponse, "GET", "reconciliation", params={"term": term} if term else None)
        return Reconciliation(r.term, dt.datetime.fromisoformat(r.generated_at), _lines(r.not_visited),
                              _lines(r.off_roster), _lines(r.level_mismatch), _lines(r.exports))

    def save_reconciliation_xlsx(self, path: Path, term: str | None = None) -> Path:
        """Download the report's workbook to ``path`` (written whole or not at all)."""
        response = self._request("GET", "reconciliation.xlsx", params={"term": term} if term else None)
        path = Path(path)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(response.content)
        tmp.replace(path)
        return path

    def exchanges(self, last: int = 200) -> tuple[Exchange, ...]:
        doc = self._json(pp.ExchangeList, "GET", "exchanges", params={"last": last})
        return tuple(Exchange(e.id, dt.datetime.fromisoformat(e.at), e.actor, e.direction, e.channel, e.operation,
                              tuple(e.fields), e.count, e.result, e.detail) for e in doc.exchanges)
