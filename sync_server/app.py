"""The HTTP face of the server: FastAPI under ``/v1`` (DESIGN.md §4).

Every error is ``{"error": code, "detail": sentence}``; bodies over the size limit get 413
before they are parsed; each request is logged as one JSON line without any tier B/C value.
"""


import contextlib
import json
import logging

import anyio
import time
from typing import Annotated

from fastapi import Depends, FastAPI, Path, Query, Request
from pydantic import BaseModel, ConfigDict
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from sync_server import orphans, sync
from sync_server.api_docs import add_offline_docs
from sync_server.config import ServerError
from sync_server.core import Principal, ServerCore
from sync_server.sync import ApiError

from visitapp.protocol.sync import (
    PRINTABLE, PROTOCOL_VERSION, ConflictList, EnrollRequest, EnrollResponse, ErrorBody, MetaResponse, PullResponse,
    PushRequest, PushResponse, ResolveRequest,
)

log = logging.getLogger("sync_server")
DEFAULT_MAX_BODY = 32 * 1024 * 1024

_EXAMPLES = {
    400: ("malformed_json", "请求内容不是有效的 JSON。"),
    401: ("unauthorized", "设备令牌无效，本机可能未在本校注册。"),
    403: ("device_revoked", "本机已被学校资助专干注销，本机上的数据将被清除。"),
    404: ("not_found", "找不到该冲突记录。"),
    409: ("already_resolved", "该冲突已经被处理过了。"),
    410: ("resync_required", "本机太久没有同步，部分删除记录已被清理，需要完整重新同步。"),
    413: ("too_large", "请求内容超过 32 MiB 的上限，请分批发送。"),
    422: ("invalid_request", "请求字段不正确：mutations → 0 → kind：字段不能为空。"),
    503: ("unavailable", "数据库暂时无法写入，请稍后重试。"),
}


class ResolveResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"server_seq": 57}]})
    server_seq: int


def _errors(*codes: int) -> dict:
    return {c: {"model": ErrorBody, "description": _EXAMPLES[c][1],
                "content": {"application/json": {"example": {"error": _EXAMPLES[c][0], "detail": _EXAMPLES[c][1]}}}}
            for c in codes}


def _links(**targets: tuple[str, dict]) -> dict:
    """OpenAPI links of a 200 response (for stateful testing: which answer feeds which call)."""
    return {200: {"links": {name: {"operationId": op, "parameters": params}
                            for name, (op, params) in targets.items()}}}


def _error(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status)


class BodyLimit:
    """ASGI middleware: refuse bodies over ``max_body`` with 413, log each request."""

    def __init__(self, app, max_body: int):
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status_box = {"status": 0}

        async def send_logged(message):
            if message["type"] == "http.response.start":
                status_box["status"] = message["status"]
            await send(message)

        try:
            headers = dict(scope.get("headers") or [])
            declared = headers.get(b"content-length")
            too_big = False
            if declared is not None:
                try:
                    too_big = int(declared) > self.max_body
                except ValueError:
                    too_big = True
            if too_big:
                await self._too_large(send_logged)
                return
            if scope["method"] in ("POST", "PUT", "PATCH"):
                body = bytearray()
                more = True
                while more:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    body += message.get("body", b"")
                    more = message.get("more_body", False)
                    if len(body) > self.max_body:
                        await self._too_large(send_logged)
                        return
                sent = False

                async def replay():
                    nonlocal sent
                    if not sent:
                        sent = True
                        return {"type": "http.request", "body": bytes(body), "more_body": False}
                    return await receive()

                await self.app(scope, replay, send_logged)
            else:
                await self.app(scope, receive, send_logged)
        finally:
            state = scope.get("state") or {}
            log.info("request", extra={"method": scope.get("method"), "path": scope.get("path"),
                                       "status": status_box["status"],
                                       "ms": round((time.perf_counter() - start) * 1000, 1),
                                       "device": state.get("device_id")})

    async def _too_large(self, send):
        body = json.dumps({"error": "too_large",
                           "detail": f"请求内容超过 {self.max_body // (1024 * 1024)} MiB 的上限，请分批发送。"},
                          ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


def _sentence(errors: list) -> tuple[int, str, str]:
    for err in errors:
        if err.get("type") == "json_invalid":
            return 400, "malformed_json", "请求内容不是有效的 JSON。"
    parts = []
    for err in errors[:3]:
        loc = " → ".join(str(x) for x in err.get("loc", ()) if x != "body")
        parts.append(f"{loc or '请求'}：{err.get('msg', '格式不正确')}")
    return 422, "invalid_request", "请求字段不正确：" + "；".join(parts) + "。"


def create_app(core: ServerCore, max_body: int = DEFAULT_MAX_BODY, workers: int = 4) -> FastAPI:
    """The ASGI application for one school's server. ``workers``: requests handled at once;
    the rest wait their turn. Python runs one thread at a time, so 30 laptops in 30 threads
    only slow down the one holding the database's write lock; a few threads finish sooner."""

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        anyio.to_thread.current_default_thread_limiter().total_tokens = workers
        yield

    app = FastAPI(lifespan=lifespan,
        title="visitapp school sync server", version=f"{PROTOCOL_VERSION}.0",
        description=("家访记录 school sync server, protocol v1 (DESIGN.md §4). Bearer token from `/v1/enroll`. "
                     "Tier A travels as `routing`, tier B as `facts` (encrypted at rest), tier C as `sealed` "
                     "(base64 of a JSON object, checked for its format and its keys' tiers only). Every record is read "
                     "by its kind's schema at the door (docs/security.md). Errors are `{error, detail}`."),
        docs_url=None, redoc_url=None, openapi_url="/openapi.json",
    )
    add_offline_docs(app)  # /docs, its Swagger UI served from here: schools may have no internet
    app.state.core = core
    app.add_middleware(BodyLimit, max_body=max_body)
    bearer = HTTPBearer(auto_error=False, description="the device token returned by POST /v1/enroll")

    def principal(request: Request,
                  creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
        header = f"Bearer {creds.credentials}" if creds else None
        who = sync.authenticate(core, header)
        request.scope.setdefault("state", {})["device_id"] = who.device_id
        return who

    Who = Annotated[Principal, Depends(principal)]

    @app.exception_handler(ApiError)
    async def _api_error(_req, exc: ApiError):
        return _error(exc.status, exc.code, exc.detail)

    @app.exception_handler(ServerError)
    async def _server_error(_req, exc: ServerError):
        return _error(503, "unavailable", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_req, exc: RequestValidationError):
        status, code, detail = _sentence(exc.errors())
        return _error(status, code, detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        detail = {404: "没有这个接口。", 405: "该接口不支持这种请求方法。"}.get(exc.status_code, str(exc.detail))
        return _error(exc.status_code, code, detail)

    @app.exception_handler(Exception)
    async def _unexpected(_req, exc: Exception):
        log.error("unexpected error", exc_info=exc)
        return _error(500, "internal", "服务器内部错误，已记录日志，请联系管理员。")

    @app.get("/v1/health", tags=["meta"], summary="Liveness probe (no token needed)",
             responses={200: {"content": {"application/json": {"example": {"status": "ok", "protocol_version": 1}}}}})
    def health() -> dict:
        return {"status": "ok", "protocol_version": PROTOCOL_VERSION}

    @app.post("/v1/enroll", response_model=EnrollResponse, tags=["enrollment"],
              summary="Exchange a one-time enrollment code for a device id and token",
              responses=_errors(400, 401, 403, 413, 422))
    def enroll(body: EnrollRequest) -> EnrollResponse:
        return EnrollResponse(**sync.enroll(core, body.code, body.device_label))

    @app.get("/v1/sync/meta", response_model=MetaResponse, tags=["sync"],
             summary="Server seq, time, versions, tombstone horizon, and who this device is", operation_id="sync_meta",
             responses={**_errors(401, 403), **_links(PullFromServerSeq=("sync_pull", {"cursor": "$response.body#/server_seq"}))})
    def meta(who: Who) -> MetaResponse:
        return sync.meta(core, who)

    @app.post("/v1/sync/push", response_model=PushResponse, tags=["sync"],
              summary="Apply a batch of mutations in one transaction; each gets its own status", operation_id="sync_push",
              responses={**_errors(400, 401, 403, 413, 422, 503), **_links(
                  PullAfterPush=("sync_pull", {"cursor": "$response.body#/server_seq"}),
                  ResolveItsConflict=("resolve_conflict", {"conflict_id": "$response.body#/results/0/conflict_id"}))})
    def push(body: PushRequest, request: Request,
             creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Response:
        # a retired laptop still uploads as itself; a revoked one is heard, but quarantined
        who, mode = orphans.authenticate_push(core, f"Bearer {creds.credentials}" if creds else None)
        request.scope.setdefault("state", {})["device_id"] = who.device_id
        result = sync.push(core, who, body, mode=mode)
        return Response(json.dumps(result, ensure_ascii=False), media_type="application/json")

    _add_orphan_routes(app, core, principal, bearer)

    @app.get("/v1/sync/pull", response_model=PullResponse, tags=["sync"],
             summary="Changes this device may see after the cursor, in server_seq order", operation_id="sync_pull",
             responses={**_errors(401, 403, 410, 422), **_links(NextPage=("sync_pull", {"cursor": "$response.body#/cursor"}))})
    def pull(request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
             cursor: Annotated[int, Query(ge=0, le=2**62, description="the cursor of the last page stored; 0 = from the start",
                                          examples=[0])] = 0,
             limit: Annotated[int, Query(ge=1, le=sync.MAX_PULL_LIMIT, examples=[1000])] = sync.DEFAULT_PULL_LIMIT,
             total: Annotated[bool, Query(description="count the changes beyond this page (for progress); "
                                          "false on the later pages of a sync, which then answer total=null")] = True,
             ) -> Response:
        # the token is checked inside the pull's read session (one database checkout per pull)
        header = f"Bearer {creds.credentials}" if creds else None
        who, body = sync.pull_authenticated(core, header, cursor, limit, total)
        request.scope.setdefault("state", {})["device_id"] = who.device_id
        return Response(body, media_type="application/json")

    @app.get("/v1/conflicts", response_model=ConflictList, tags=["conflicts"],
             summary="Conflicts this device's user is party to (officers: all)", operation_id="list_conflicts",
             responses={**_errors(401, 403, 422), **_links(
                 ResolveListed=("resolve_conflict", {"conflict_id": "$response.body#/conflicts/0/id"}))})
    def conflicts(who: Who,
                  status: Annotated[str | None, Query(pattern="^(open|resolved)$", examples=["open"])] = None,
                  ) -> ConflictList:
        return ConflictList(conflicts=sync.list_conflicts(core, who, status))

    @app.post("/v1/conflicts/{conflict_id}/resolve", tags=["conflicts"],
              summary="Resolve a conflict: keep the winner, restore the loser, or a merged value", operation_id="resolve_conflict",
              response_model=ResolveResponse, responses={**_errors(400, 401, 403, 404, 409, 413, 422)})
    def resolve(conflict_id: Annotated[str, Path(max_length=64, pattern=PRINTABLE, examples=["01936d1e-5555-7000-8000-000000000001"])],
                body: ResolveRequest, who: Who) -> ResolveResponse:
        return ResolveResponse(server_seq=sync.resolve(core, who, conflict_id, body.choice, body.reason, body.sealed))

    from sync_server.platform.api import router as platform_router
    app.include_router(platform_router(core, principal))  # the officer's /v1/platform/... (DESIGN.md §5, §7)
    return app


def _add_orphan_routes(app: FastAPI, core: ServerCore, principal, bearer) -> None:
    """Orphaned work and device retirement (DESIGN.md §4): the officer's queue and devices,
    and the wipe report of a retired or revoked laptop."""
    from visitapp.protocol.orphans import (
        DeviceList, OrphanList, OrphanResolveRequest, OrphanResolveResponse, WipedRequest, WipedResponse,
    )

    def officer(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if not who.is_officer:
            raise ApiError(403, "officer_only", "只有资助专干可以处理孤立记录和设备。")
        return who

    Officer = Annotated[Principal, Depends(officer)]
    Id = Annotated[str, Path(max_length=64, pattern=PRINTABLE)]

    @app.get("/v1/orphans", response_model=OrphanList, tags=["orphaned work"],
             summary="Changes the server kept instead of applying (officers)", responses=_errors(401, 403, 422))
    def list_orphans(who: Officer, status: Annotated[str, Query(pattern="^(open|accepted|handed_over|discarded|all)$")]
                     = "open") -> OrphanList:
        return OrphanList(orphans=orphans.list_orphans(core, None if status == "all" else status))

    @app.post("/v1/orphans/{orphan_id}/resolve", response_model=OrphanResolveResponse, tags=["orphaned work"],
              summary="Accept, hand over or discard one piece of orphaned work (officers)",
              responses=_errors(400, 401, 403, 404, 409, 413, 422))
    def resolve_orphan(orphan_id: Id, body: OrphanResolveRequest, who: Officer) -> OrphanResolveResponse:
        return OrphanResolveResponse(**orphans.resolve(core, orphan_id, body.action, body.reason, body.to_staff,
                                                       actor=who.staff_id, actor_device=who.device_id))

    @app.get("/v1/devices", response_model=DeviceList, tags=["devices"], summary="The school's devices (officers)",
             responses=_errors(401, 403))
    def devices(who: Officer) -> DeviceList:
        return DeviceList(devices=core.list_devices())

    @app.post("/v1/devices/{device_id}/{action}", response_model=DeviceList, tags=["devices"],
              summary="Retire (planned replacement) or revoke (lost or stolen) a device (officers)",
              responses=_errors(401, 403, 404, 422))
    def device_action(device_id: Id, action: Annotated[str, Path(pattern="^(retire|revoke)$")],
                      who: Officer) -> DeviceList:
        if device_id == who.device_id:
            raise ApiError(422, "own_device", "不能在本机上退役或注销本机。")
        try:
            (core.retire_device if action == "retire" else core.revoke_device)(device_id)
        except ServerError as exc:
            raise ApiError(404 if "找不到" in str(exc) else 422, "device_action", str(exc)) from None
        return DeviceList(devices=core.list_devices())

    @app.post("/v1/sync/wiped", response_model=WipedResponse, tags=["sync"],
              summary="A retired or revoked laptop reports its wipe", responses=_errors(401, 403, 409, 422))
    def wiped(body: WipedRequest, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
              ) -> WipedResponse:
        who, _mode = orphans.authenticate_push(core, f"Bearer {creds.credentials}" if creds else None)
        if body.device_id != who.device_id:
            raise ApiError(403, "device_mismatch", "请求中的设备 ID 与令牌所属设备不一致。")
        return WipedResponse(**orphans.mark_wiped(core, who, body.unsent))
