"""The officer's platform endpoints (``/v1/platform/...``): what ``visitapp-server platform``
does on the command line, for the officer's desktop (DESIGN.md §7, "platform exchange and
reconciliation").

Same bearer token as the sync endpoints; only an officer's device may call them, and a server
serves one school, so the officer's own school is the only one there is. The server does the
exchange with the city platform (its address, school code and key are the server's settings,
``visitapp-server platform configure``); the desktop never talks to the platform.

A roster pull is two calls: ``roster/preview`` answers the changes and a ``preview_id`` (a hash
of exactly those changes); ``roster/apply`` pulls again and applies only if the changes are
still the same, else 409 ``preview_stale``: the officer applies what they read, nothing else.
That needs no state on the server, so it holds with several server processes too.

Errors are ``{error, detail}`` like every other endpoint: the platform not configured is a 409,
the platform unreachable or refusing is a 502 with the connector's sentence.
"""

# no "from __future__ import annotations": FastAPI resolves the local Who alias at definition
import dataclasses
import hashlib
import json
import tempfile
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from sync_server.core import Principal, ServerCore
from sync_server.platform.errors import PlatformError, TransportError
from sync_server.sync import ApiError

from visitapp.protocol.platform import (
    TERM_PATTERN, XLSX_MEDIA_TYPE, AidPullResponse, ExchangeList, ExchangeModel, FieldChangeModel, PlatformStatus,
    PushKindCount, PlatformPushRequest as PushRequest, PlatformPushResponse as PushResponse, ReconciliationResponse,
    ReconLineModel, RejectedItem, RosterApplyRequest, RosterApplyResponse, RosterPreviewResponse, StudentChangeModel,
    TermRequest,
)
from visitapp.protocol.sync import ErrorBody

# the officer waits for the answer: fewer, shorter retries than the CLI's scheduled runs
HTTP_ATTEMPTS = 3
HTTP_TIMEOUT = (5.0, 60.0)

_ERRORS = {
    401: ("unauthorized", "设备令牌无效，本机可能未在本校注册。"),
    403: ("officer_only", "只有学校资助专干可以与市平台交换数据。"),
    409: ("platform_not_configured", "服务器尚未配置市平台：请在学校服务器上运行 visitapp-server platform configure。"),
    413: ("too_large", "请求内容超过 32 MiB 的上限，请分批发送。"),
    422: ("invalid_request", "请求字段不正确：term：学期格式应如 2026-2027-1。"),
    502: ("platform_unreachable", "无法连接平台（ConnectionError），已重试 2 次仍未成功；稍后可再次运行，不会重复上报。"),
    503: ("unavailable", "数据库暂时无法写入，请稍后重试。"),
}


def _responses(*codes: int, extra: dict[int, tuple[str, str]] | None = None) -> dict:
    table = {**_ERRORS, **(extra or {})}
    return {c: {"model": ErrorBody, "description": table[c][1],
                "content": {"application/json": {"example": {"error": table[c][0], "detail": table[c][1]}}}}
            for c in codes}


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(x) for x in value]
    return getattr(value, "value", value)


def _change(c) -> StudentChangeModel:
    return StudentChangeModel(student_id=c.student_id, platform_ref=c.platform_ref, name=c.name,
                              class_name=c.class_name,
                              changes=[FieldChangeModel(field=f.field, old=_plain(f.old), new=_plain(f.new))
                                       for f in c.changes])


def preview_model(preview) -> RosterPreviewResponse:
    """The preview as the officer reads it, with the id that names exactly these changes."""
    groups = {name: [_change(c) for c in getattr(preview, name)] for name in ("new", "changed", "gone")}
    canonical = json.dumps({"term": preview.term, **{k: [m.model_dump() for m in v] for k, v in groups.items()}},
                           ensure_ascii=False, sort_keys=True, default=str)
    preview_id = hashlib.sha256(canonical.encode()).hexdigest()[:32]
    return RosterPreviewResponse(preview_id=preview_id, term=preview.term, unchanged=preview.unchanged,
                                 summary=preview.summary_zh(), **groups)


def _platform_error(exc: PlatformError) -> ApiError:
    if isinstance(exc, TransportError):
        code = "platform_refused" if exc.status is not None else "platform_unreachable"
        return ApiError(502, code, exc)
    return ApiError(409, "platform_error", exc)


class _PlatformCall:
    """One officer request's connector to the platform (not an exchange-log entry: those are
    ``ExchangeEvent`` in the connector, ``PlatformExchangeRow`` on disk, ``ExchangeModel`` on the wire)."""

    def __init__(self, core: ServerCore, who: Principal, need_platform: bool):
        from sync_server.platform.assembly import connector, platform_setup

        if not who.is_officer:
            raise ApiError(403, "officer_only", "server.officer_only.platform")
        setup = platform_setup(core)
        self.url, self.school_code, self.district, self.problem = (setup.url, setup.school_code, setup.district,
                                                                   setup.problem)
        try:
            # the log and the audit name the officer by staff id: staff names are tier B
            self.connector = connector(core, setup, actor=who.staff_id, need_platform=need_platform,
                                       attempts=HTTP_ATTEMPTS, timeout=HTTP_TIMEOUT)
        except PlatformError as exc:  # PlatformNotConfigured, or an address the transport refuses
            raise ApiError(409, "platform_not_configured", exc) from None
        self.data = self.connector.data

    def term(self, term: str | None) -> str:
        return term or self.connector.default_term()


def router(core: ServerCore, principal) -> APIRouter:
    """The ``/v1/platform`` routes; ``principal`` is the app's bearer-token dependency."""
    api = APIRouter(prefix="/v1/platform", tags=["platform"])
    Who = Annotated[Principal, Depends(principal)]

    @api.get("/status", response_model=PlatformStatus, summary="Is the city platform configured on this server?",
             responses=_responses(401, 403))
    def status(who: Who) -> PlatformStatus:
        ex = _PlatformCall(core, who, need_platform=False)
        return PlatformStatus(configured=not ex.problem, url=ex.url, school_code=ex.school_code,
                              district=ex.district, term=ex.term(None), problem=ex.problem)

    @api.post("/roster/preview", response_model=RosterPreviewResponse,
              summary="Pull the roster of a term from the platform and answer what applying it would change",
              responses=_responses(400, 401, 403, 409, 413, 422, 502, 503, extra={
                  400: ("malformed_json", "请求内容不是有效的 JSON。")}))
    def roster_preview(body: TermRequest, who: Who) -> RosterPreviewResponse:
        ex = _PlatformCall(core, who, need_platform=True)
        term = ex.term(body.term)
        try:
            return preview_model(ex.connector.preview(ex.connector.fetch_roster(term), term))
        except PlatformError as exc:
            raise _platform_error(exc) from None

    @api.post("/roster/apply", response_model=RosterApplyResponse,
              summary="Apply a previewed roster (pulled again; refused if it no longer matches the preview)",
              responses=_responses(400, 401, 403, 409, 413, 422, 502, 503, extra={
                  400: ("malformed_json", "请求内容不是有效的 JSON。"),
                  409: ("preview_stale", "平台名册或学校名册在预览之后有了变化，请重新预览后再应用。")}))
    def roster_apply(body: RosterApplyRequest, who: Who) -> RosterApplyResponse:
        ex = _PlatformCall(core, who, need_platform=True)
        term = ex.term(body.term)
        try:
            preview = ex.connector.preview(ex.connector.fetch_roster(term), term)
            if preview_model(preview).preview_id != body.preview_id:
                raise ApiError(409, "preview_stale", "server.preview_stale.apply")
            ex.connector.apply(preview, force=body.force)
        except PlatformError as exc:
            if isinstance(exc, TransportError):
                raise _platform_error(exc) from None
            raise ApiError(409, "roster_suspicious", exc) from None
        return RosterApplyResponse(applied=not preview.is_noop, term=term, new=len(preview.new),
                                   changed=len(preview.changed), gone=len(preview.gone), summary=preview.summary_zh())

    @api.post("/aid/pull", response_model=AidPullResponse,
              summary="Pull the aid history into growth files (each platform record lands once)",
              responses=_responses(400, 401, 403, 409, 413, 422, 502, 503, extra={
                  400: ("malformed_json", "请求内容不是有效的 JSON。")}))
    def aid_pull(body: TermRequest, who: Who) -> AidPullResponse:
        ex = _PlatformCall(core, who, need_platform=True)
        term = ex.term(body.term)
        try:
            result = ex.connector.store_aid(ex.connector.fetch_aid(term))
        except PlatformError as exc:
            raise _platform_error(exc) from None
        summary = f"资助记录：收到 {result.received} 条，新增 {result.added} 条，已有 {result.already} 条"
        summary += f"，名册外 {len(result.orphans)} 名学生。" if result.orphans else "。"
        return AidPullResponse(term=term, summary=summary, **dataclasses.asdict(result))

    @api.post("/push", response_model=PushResponse,
              summary="Push the allow-listed facts not yet acknowledged, then the statistics of the term",
              responses=_responses(400, 401, 403, 409, 413, 422, 503, extra={
                  400: ("malformed_json", "请求内容不是有效的 JSON。")}))
    def push(body: PushRequest, who: Who) -> PushResponse:
        ex = _PlatformCall(core, who, need_platform=True)
        term = ex.term(body.term)
        scope = None if body.all_terms else term
        todo = ex.connector.pending_items(scope)
        result = ex.connector.push(scope)
        error, cells = result.error, 0
        if body.statistics and not error:
            try:
                cells = ex.connector.push_statistics(term)
            except PlatformError as exc:
                error = f"统计数据未能上报：{exc}"
        states = ex.data.export_states()
        kind_of = {i.item_id: i.kind for i in todo}
        tally: dict[str, Counter] = {}
        for item in todo:
            state = states.get(item.item_id)
            outcome = state.status if state is not None and state.version == item.version else "pending"
            tally.setdefault(item.kind, Counter())[{"sent": "sent", "failed": "failed"}.get(outcome, "pending")] += 1
        by_kind = [PushKindCount(kind=k, items=sum(c.values()), sent=c["sent"], failed=c["failed"],
                                 pending=c["pending"]) for k, c in sorted(tally.items())]
        summary = result.summary_zh() + (f"\n统计：已上报 {cells} 个单元格。" if cells else "")
        if error and error != result.error:
            summary += f"\n{error}"
        return PushResponse(term=term, items=result.items, sent=result.sent, duplicates=result.duplicates,
                            rejected=[RejectedItem(item_id=i, kind=kind_of.get(i, ""), reason=r)
                                      for i, r in result.rejected],
                            pending=result.pending, batches=result.batches, error=error, statistics_cells=cells,
                            ok=result.ok and not error, by_kind=by_kind, summary=summary)

    def _report(who: Principal, term: str | None):
        ex = _PlatformCall(core, who, need_platform=False)
        return ex.connector.reconcile(ex.term(term))

    TermQuery = Annotated[str | None, Query(pattern=TERM_PATTERN, examples=["2026-2027-1"])]

    @api.get("/reconciliation", response_model=ReconciliationResponse,
             summary="The reconciliation report: not visited, off the roster, levels differing, exports pending or failed",
             responses=_responses(401, 403, 422))
    def reconciliation(who: Who, term: TermQuery = None) -> ReconciliationResponse:
        report = _report(who, term)
        doc = {k: [ReconLineModel(**x._asdict()) for x in getattr(report, k)] for k in report.counts}
        return ReconciliationResponse(term=report.term, generated_at=report.generated_at.isoformat(),
                                      counts=report.counts, **doc)

    @api.get("/reconciliation.xlsx", response_class=Response,
             summary="The reconciliation report as an xlsx workbook (a summary sheet and one sheet per section)",
             responses={200: {"description": "the workbook",
                              "content": {XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}},
                        **_responses(401, 403, 422)})
    def reconciliation_xlsx(who: Who, term: TermQuery = None) -> Response:
        from sync_server.platform.reconcile import write_xlsx
        report = _report(who, term)
        with tempfile.TemporaryDirectory(prefix="reconcile-") as tmp:
            path = Path(tmp) / "report.xlsx"
            write_xlsx(report, path)
            data = path.read_bytes()
        name = f"reconciliation-{report.term}.xlsx"
        return Response(data, media_type=XLSX_MEDIA_TYPE,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @api.get("/exchanges", response_model=ExchangeList,
             summary="The audit of every exchange with the platform, newest first (never values)",
             responses=_responses(401, 403, 422))
    def exchanges(who: Who, last: Annotated[int, Query(ge=1, le=1000, examples=[100])] = 200) -> ExchangeList:
        ex = _PlatformCall(core, who, need_platform=False)
        names = {s.id: s.name for s in core.list_staff()}
        events = ex.data.exchanges()[-last:][::-1]
        return ExchangeList(exchanges=[ExchangeModel(
            id=e.id, at=e.at.isoformat(), actor=names.get(e.actor, e.actor), direction=e.direction,
            channel=e.channel, operation=e.operation, fields=list(e.fields), count=e.count, result=e.result,
            detail=e.detail) for e in events])

    return api
