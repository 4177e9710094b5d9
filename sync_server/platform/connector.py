"""The connector: pull the roster and aid history down, push minimized facts up, reconcile.

It talks to the school only through the :class:`~sync_server.platform.port.SchoolData` port
and to the platform only through a transport (:class:`~sync_server.platform.http.HttpTransport`
or the file functions in :mod:`~sync_server.platform.files`). Every exchange is written to the
exchange log (direction, fields, record count, who, when, result), whether it worked or not.

Idempotency, end to end: roster students and aid entries get deterministic ids; upload items
carry ``item_id`` + content ``version``; a batch id is derived from the items it holds, so the
same pending items after a crash or a kill form the same batch again and the platform answers
it from memory instead of counting it twice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from visitapp.domain import term_of

from sync_server.platform import files
from sync_server.platform.errors import PlatformError, TransportError
from sync_server.platform.http import Transport
from sync_server.platform.inbound import (
    AID_WIRE_FIELDS, ROSTER_WIRE_FIELDS, RosterPreview, aid_entries, is_mass_leaving, preview_roster,
)
from sync_server.platform.model import ALLOW_LIST, STAT_KEYS, AidRecord, RosterRow, UploadItem, derive_id
from sync_server.platform.outbound import Snapshot, build_items, statistics
from sync_server.platform.port import ExchangeEvent, ExportState, SchoolData

BATCH_SIZE = 500


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class AidResult:
    received: int
    added: int
    already: int
    orphans: tuple[str, ...]  # platform refs of aid records about students not on our roster


@dataclass(frozen=True)
class PushResult:
    """What one push did. ``pending`` were left for the next run (the platform was unreachable)."""

    items: int
    sent: int
    duplicates: int
    rejected: tuple[tuple[str, str], ...]  # (item_id, reason)
    pending: int
    batches: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.pending and not self.error

    def summary_zh(self) -> str:
        text = (f"上报 {self.items} 条：新接收 {self.sent} 条，平台已有 {self.duplicates} 条，"
                f"被拒绝 {len(self.rejected)} 条，待上报 {self.pending} 条（{self.batches} 批）。")
        return text + (f"\n{self.error}" if self.error else "")


class PlatformConnector:
    """One school's exchanges with the platform, as the officer (``actor``) runs them."""

    def __init__(self, data: SchoolData, transport: Transport | None = None, actor: str = "cli",
                 now: Callable[[], dt.datetime] = utcnow, batch_size: int = BATCH_SIZE):
        self.data, self.transport, self.actor, self.now, self.batch_size = data, transport, actor, now, batch_size

    # -- audit ---------------------------------------------------------------------------------
    def _log(self, direction: str, channel: str, operation: str, fields: Sequence[str], count: int, result: str,
             detail: str = "") -> None:
        self.data.log_exchange(ExchangeEvent(id=str(uuid.uuid4()), at=self.now(), actor=self.actor,
                                             direction=direction, channel=channel, operation=operation,
                                             fields=tuple(fields), count=count, result=result, detail=detail[:500]))

    def _need_transport(self) -> Transport:
        if self.transport is None:
            raise PlatformError("没有配置平台地址：请用 --url 或环境变量 VISITAPP_PLATFORM_URL 指定，或改用文件交换。")
        return self.transport

    def default_term(self) -> str:
        return term_of(self.now().date())

    # -- down: roster ----------------------------------------------------------------------------
    def _fetch(self, what: str, fields: Sequence[str], call: str, term: str) -> list:
        """Download one kind of data from the platform, logging the exchange either way."""
        t = self._need_transport()
        try:
            rows = getattr(t, call)(term)
        except PlatformError as exc:
            self._log("down", t.channel, what, fields, 0, "failed", str(exc))
            raise
        self._log("down", t.channel, what, fields, len(rows), "ok")
        return rows

    def fetch_roster(self, term: str) -> list[RosterRow]:
        return self._fetch("roster", ROSTER_WIRE_FIELDS, "fetch_roster", term)

    def preview(self, rows: Sequence[RosterRow], term: str) -> RosterPreview:
        """What applying ``rows`` would change; nothing is written."""
        return preview_roster(self.data.school(), self.data.students(), rows, term)

    def apply(self, preview: RosterPreview, force: bool = False) -> RosterPreview:
        """Write a preview's students (one transaction in the server's port). A pull that would
        take more than half of the roster off it (a platform glitch, a wrong term, an empty
        file) is refused unless ``force``: nothing is deleted either way, but it would empty
        every teacher's list at the next sync."""
        on_roster = len(preview.changed) + len(preview.gone) + preview.unchanged
        if not force and is_mass_leaving(len(preview.gone), on_roster):
            raise PlatformError(f"这次名册会让 {len(preview.gone)} 名学生（超过现有名册的一半）不在名册中，"
                                "可能是平台数据或学期有误，已停止。核实无误后请加 --force 应用。")
        if not preview.is_noop:
            self.data.upsert_students(list(preview.students), self.actor)
        return preview

    # -- down: aid ---------------------------------------------------------------------------------
    def fetch_aid(self, term: str) -> list[AidRecord]:
        return self._fetch("aid", AID_WIRE_FIELDS, "fetch_aid", term)

    def store_aid(self, records: Sequence[AidRecord]) -> AidResult:
        """Aid records into growth files, once each (deterministic entry ids)."""
        entries, orphans = aid_entries(self.data.school(), self.data.students(), records)
        added = self.data.add_growth_entries(entries, self.actor) if entries else 0
        return AidResult(len(records), added, len(entries) - added, tuple(sorted({o.platform_ref for o in orphans})))

    def pull(self, term: str | None = None, apply: bool = True, force: bool = False) -> tuple[RosterPreview, AidResult | None]:
        """Roster (previewed; applied when ``apply``) then aid history (only after the roster is
        applied, so aid lands on the students it is about)."""
        term = term or self.default_term()
        preview = self.preview(self.fetch_roster(term), term)
        if not apply:
            return preview, None
        self.apply(preview, force=force)
        return preview, self.store_aid(self.fetch_aid(term))

    # -- up ----------------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        d = self.data
        return Snapshot(tuple(d.students()), tuple(d.visits()), tuple(d.determinations()),
                        tuple(d.growth_entries()), tuple(d.assignments()))

    def items(self, term: str | None = None) -> list[UploadItem]:
        return build_items(self.data.school().id, self.snapshot(), term)

    def pending_items(self, term: str | None = None) -> list[UploadItem]:
        """Items whose current version the platform has not acknowledged."""
        ledger = self.data.export_states()
        out = []
        for item in self.items(term):
            state = ledger.get(item.item_id)
            if state is None or state.status != "sent" or state.version != item.version:
                out.append(item)
        return out

    def push(self, term: str | None = None) -> PushResult:
        t = self._need_transport()
        todo = sorted(self.pending_items(term), key=lambda i: i.item_id)
        sent = dup = batches = 0
        rejected: list[tuple[str, str]] = []
        error = ""
        done = 0
        for start in range(0, len(todo), self.batch_size):
            chunk = todo[start:start + self.batch_size]
            batch_id = derive_id("batch", self.data.school().id, *(f"{i.item_id}:{i.version}" for i in chunk))
            fields = sorted({k for i in chunk for k in i.payload})
            self.data.save_export_states([self._state(i, "pending", "", batch_id) for i in chunk])
            try:
                receipt = t.upload(batch_id, term or "", [i.payload for i in chunk])
            except PlatformError as exc:
                error = str(exc)
                self.data.save_export_states([self._state(i, "failed", error, batch_id) for i in chunk])
                self._log("up", t.channel, "upload", fields, len(chunk), "failed", error)
                break
            batches += 1
            done += len(chunk)
            states = []
            for i in chunk:
                status, reason = receipt.results.get(i.item_id, ("rejected", "平台没有给出这一条的结果"))
                if status in ("accepted", "duplicate"):
                    # a replayed batch's first answer says "accepted": for this run it is a duplicate
                    fresh = status == "accepted" and not receipt.duplicate_batch
                    sent += fresh
                    dup += not fresh
                    states.append(self._state(i, "sent", "", batch_id))
                else:
                    rejected.append((i.item_id, reason))
                    states.append(self._state(i, "failed", reason or "平台拒绝", batch_id))
            self.data.save_export_states(states)
            bad = sum(1 for s in states if s.status == "failed")
            self._log("up", t.channel, "upload", fields, len(chunk), "ok" if not bad else "partial",
                      f"batch {batch_id}" + ("（重复批次，平台按首次应答返回）" if receipt.duplicate_batch else ""))
        return PushResult(len(todo), sent, dup, tuple(rejected), len(todo) - done, batches, error)

    def push_statistics(self, term: str | None = None) -> int:
        """The city's chart cells for ``term``; returns the number of cells sent."""
        t = self._need_transport()
        term = term or self.default_term()
        cells = self.statistics(term)
        batch_id = derive_id("stats", self.data.school().id, term, *(str(c.to_json()) for c in cells))
        try:
            t.upload_statistics(batch_id, term, cells)
        except PlatformError as exc:
            self._log("up", t.channel, "statistics", STAT_KEYS, len(cells), "failed", str(exc))
            raise
        self._log("up", t.channel, "statistics", STAT_KEYS, len(cells), "ok")
        return len(cells)

    def statistics(self, term: str):
        d = self.data
        return statistics(d.students(), d.visits(), d.determinations(), d.growth_entries(), d.assignments(), term)

    def _state(self, item: UploadItem, status: str, reason: str, batch_id: str, channel: str | None = None) -> ExportState:
        return ExportState(item_id=item.item_id, kind=item.kind, record_id=item.record_id, student_id=item.student_id,
                           version=item.version, status=status, reason=reason, batch_id=batch_id,
                           channel=channel or (self.transport.channel if self.transport else "file"), at=self.now())

    # -- files ---------------------------------------------------------------------------------
    def import_file(self, path: Path, apply: bool = True, term: str | None = None, force: bool = False):
        """A roster or aid file from the platform. Returns a RosterPreview or an AidResult."""
        term = term or self.default_term()
        try:
            parsed = files.parse_file(Path(path))
        except PlatformError as exc:
            self._log("down", "file", "import-file", (), 0, "failed", str(exc))
            raise
        if parsed.template == "roster":
            preview = self.preview(parsed.roster, term)
            if apply:
                try:
                    self.apply(preview, force=force)
                except PlatformError as exc:
                    self._log("down", "file", "import-file", ROSTER_WIRE_FIELDS, len(parsed.roster), "failed", str(exc))
                    raise
            self._log("down", "file", "import-file", ROSTER_WIRE_FIELDS, len(parsed.roster),
                      "ok" if apply else "preview", f"roster {Path(path).name}")
            return preview
        if apply:
            result = self.store_aid(parsed.aid)
        else:  # what it would add, without adding it
            entries, orphans = aid_entries(self.data.school(), self.data.students(), parsed.aid)
            known = {e.id for e in self.data.growth_entries()}
            fresh = sum(1 for e in entries if e.id not in known)
            result = AidResult(len(parsed.aid), 0, len(entries) - fresh, tuple(sorted({o.platform_ref for o in orphans})))
        self._log("down", "file", "import-file", AID_WIRE_FIELDS, len(parsed.aid), "ok" if apply else "preview",
                  f"aid {Path(path).name}")
        return result

    def export_file(self, path: Path, term: str | None = None, only_pending: bool = True) -> int:
        """The pending upload items and the statistics, in the template, for manual upload.
        The items are marked sent (channel ``file``): the officer uploads the file by hand."""
        items = self.pending_items(term) if only_pending else self.items(term)
        cells = self.statistics(term or self.default_term())
        fields = sorted({k for kind in ALLOW_LIST for k in ALLOW_LIST[kind]})
        try:
            files.write_upload(Path(path), items, cells)
        except (OSError, PlatformError) as exc:
            self._log("up", "file", "export-file", fields, len(items), "failed", str(exc))
            raise PlatformError(f"无法写出文件 {path}：{exc}") from None
        batch_id = derive_id("file", self.data.school().id, *(f"{i.item_id}:{i.version}" for i in items))
        self.data.save_export_states([self._state(i, "sent", "", batch_id, channel="file") for i in items])
        self._log("up", "file", "export-file", fields, len(items), "ok", Path(path).name)
        return len(items)

    # -- reports -----------------------------------------------------------------------------------
    def reconcile(self, term: str | None = None):
        from sync_server.platform.reconcile import reconcile
        term = term or self.default_term()
        snap = self.snapshot()  # one read of each kind, shared by the items and the report
        items = build_items(self.data.school().id, snap, None)
        return reconcile(term, snap.students, snap.visits, snap.determinations, snap.entries, snap.assignments,
                         items, self.data.export_states(), now=self.now())


__all__ = ["PlatformConnector", "PushResult", "AidResult", "TransportError", "BATCH_SIZE"]
