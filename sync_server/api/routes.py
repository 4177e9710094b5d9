"""The routes under ``/v1`` (DESIGN.md §4): each parses its request, calls one use case
(:mod:`sync_server.sync`, :mod:`sync_server.orphans`, ...) and answers its result."""

import json
from typing import Annotated

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from sync_server import orphans, sync
from sync_server.api.dependencies import Credentials, header_of, officer_dependency
from sync_server.api.errors import errors
from sync_server.config import NotFound, ServerError
from sync_server.core import Principal, ServerCore
from sync_server.sync import ApiError
from visitapp.protocol.sync import (
    PRINTABLE, PROTOCOL_VERSION, ConflictList, EnrollRequest, EnrollResponse, MetaResponse, PullResponse,
    PushRequest, PushResponse, ResolveRequest,
)


class ResolveResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"server_seq": 57}]})
    server_seq: int



class EnrollCodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"staff_id": "01936d1e-3333-7000-8000-000000000001"}]})
    staff_id: str = Field(min_length=1, max_length=64, pattern=PRINTABLE)


class EnrollCodeResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"code": "VA1.eyJ1IjoiaHR0cHM6Ly8xOTIuMTY4LjEuMTA6ODQ0MyJ9", "staff_id": "01936d1e-3333-7000-8000-000000000001",
         "staff_name": "王老师", "expires_at": "2026-12-09T08:00:00+00:00"}]})
    code: str
    staff_id: str
    staff_name: str
    expires_at: str


def _links(**targets: tuple[str, dict]) -> dict:
    """OpenAPI links of a 200 response (for stateful testing: which answer feeds which call)."""
    return {200: {"links": {name: {"operationId": op, "parameters": params}
                            for name, (op, params) in targets.items()}}}



def add_routes(app: FastAPI, core: ServerCore, principal) -> None:  # noqa: ANN001 - a FastAPI dependency
    Who = Annotated[Principal, Depends(principal)]

    @app.get("/v1/health", tags=["meta"], summary="Liveness probe (no token needed)",
             responses={200: {"content": {"application/json": {"example": {"status": "ok", "protocol_version": 1}}}}})
    def health() -> dict:
        return {"status": "ok", "protocol_version": PROTOCOL_VERSION}

    @app.post("/v1/enroll", response_model=EnrollResponse, tags=["enrollment"],
              summary="Exchange a one-time enrollment code for a device id and token",
              responses=errors(400, 401, 403, 413, 422))
    def enroll(body: EnrollRequest) -> EnrollResponse:
        return EnrollResponse(**sync.enroll(core, body.code, body.device_label))

    @app.get("/v1/sync/meta", response_model=MetaResponse, tags=["sync"],
             summary="Server seq, time, versions, tombstone horizon, and who this device is", operation_id="sync_meta",
             responses={**errors(401, 403), **_links(PullFromServerSeq=("sync_pull", {"cursor": "$response.body#/server_seq"}))})
    def meta(who: Who) -> MetaResponse:
        return sync.meta(core, who)

    @app.post("/v1/sync/push", response_model=PushResponse, tags=["sync"],
              summary="Apply a batch of mutations in one transaction; each gets its own status", operation_id="sync_push",
              responses={**errors(400, 401, 403, 413, 422, 503), **_links(
                  PullAfterPush=("sync_pull", {"cursor": "$response.body#/server_seq"}),
                  ResolveItsConflict=("resolve_conflict", {"conflict_id": "$response.body#/results/0/conflict_id"}))})
    def push(body: PushRequest, request: Request,
             creds: Credentials) -> Response:
        # a retired laptop still uploads as itself; a revoked one is heard, but quarantined
        who, mode = orphans.authenticate_push(core, header_of(creds))
        request.scope.setdefault("state", {})["device_id"] = who.device_id
        result = sync.push(core, who, body, mode=mode)
        return Response(json.dumps(result, ensure_ascii=False), media_type="application/json")

    _add_orphan_routes(app, core, principal)

    @app.get("/v1/sync/pull", response_model=PullResponse, tags=["sync"],
             summary="Changes this device may see after the cursor, in server_seq order", operation_id="sync_pull",
             responses={**errors(401, 403, 410, 422), **_links(NextPage=("sync_pull", {"cursor": "$response.body#/cursor"}))})
    def pull(request: Request, creds: Credentials,
             cursor: Annotated[int, Query(ge=0, le=2**62, description="the cursor of the last page stored; 0 = from the start",
                                          examples=[0])] = 0,
             limit: Annotated[int, Query(ge=1, le=sync.MAX_PULL_LIMIT, examples=[1000])] = sync.DEFAULT_PULL_LIMIT,
             total: Annotated[bool, Query(description="count the changes beyond this page (for progress); "
                                          "false on the later pages of a sync, which then answer total=null")] = True,
             ) -> Response:
        # the token is checked inside the pull's read session (one database checkout per pull)
        header = header_of(creds)
        who, body = sync.pull_authenticated(core, header, cursor, limit, total)
        request.scope.setdefault("state", {})["device_id"] = who.device_id
        return Response(body, media_type="application/json")

    @app.get("/v1/conflicts", response_model=ConflictList, tags=["conflicts"],
             summary="Conflicts this device's user is party to (officers: all)", operation_id="list_conflicts",
             responses={**errors(401, 403, 422), **_links(
                 ResolveListed=("resolve_conflict", {"conflict_id": "$response.body#/conflicts/0/id"}))})
    def conflicts(who: Who,
                  status: Annotated[str | None, Query(pattern="^(open|resolved)$", examples=["open"])] = None,
                  ) -> ConflictList:
        return ConflictList(conflicts=sync.list_conflicts(core, who, status))

    @app.post("/v1/conflicts/{conflict_id}/resolve", tags=["conflicts"],
              summary="Resolve a conflict: keep the winner, restore the loser, or a merged value", operation_id="resolve_conflict",
              response_model=ResolveResponse, responses={**errors(400, 401, 403, 404, 409, 413, 422)})
    def resolve(conflict_id: Annotated[str, Path(max_length=64, pattern=PRINTABLE, examples=["01936d1e-5555-7000-8000-000000000001"])],
                body: ResolveRequest, who: Who) -> ResolveResponse:
        return ResolveResponse(server_seq=sync.resolve(core, who, conflict_id, body.choice, body.reason, body.sealed))


def _add_orphan_routes(app: FastAPI, core: ServerCore, principal) -> None:
    """Orphaned work and device retirement (DESIGN.md §4): the officer's queue and devices,
    and the wipe report of a retired or revoked laptop."""
    from visitapp.protocol.orphans import (
        DeviceList, OrphanList, OrphanResolveRequest, OrphanResolveResponse, WipedRequest, WipedResponse,
    )

    Officer = Annotated[Principal, Depends(officer_dependency(principal))]
    Id = Annotated[str, Path(max_length=64, pattern=PRINTABLE)]

    @app.get("/v1/orphans", response_model=OrphanList, tags=["orphaned work"],
             summary="Changes the server kept instead of applying (officers)", responses=errors(401, 403, 422))
    def list_orphans(who: Officer, status: Annotated[str, Query(pattern="^(open|accepted|handed_over|discarded|all)$")]
                     = "open") -> OrphanList:
        return OrphanList(orphans=orphans.list_orphans(core, None if status == "all" else status))

    @app.post("/v1/orphans/{orphan_id}/resolve", response_model=OrphanResolveResponse, tags=["orphaned work"],
              summary="Accept, hand over or discard one piece of orphaned work (officers)",
              responses=errors(400, 401, 403, 404, 409, 413, 422))
    def resolve_orphan(orphan_id: Id, body: OrphanResolveRequest, who: Officer) -> OrphanResolveResponse:
        return OrphanResolveResponse(**orphans.resolve(core, orphan_id, body.action, body.reason, body.to_staff,
                                                       actor=who.staff_id, actor_device=who.device_id))

    @app.post("/v1/enroll-codes", response_model=EnrollCodeResponse, tags=["enrollment"],
              summary="A one-time enrollment code for a staff member, made for the officer's laptop (officers)",
              responses=errors(401, 403, 404, 422))
    def make_enroll_code(body: EnrollCodeRequest, who: Officer) -> EnrollCodeResponse:
        # the officer's laptop adds the officer key and a binding secret the server never sees
        try:
            staff, code, expires = core.make_enroll_code(body.staff_id)
        except ServerError as exc:
            raise ApiError(404 if isinstance(exc, NotFound) else 422, "enroll_code", exc) from None
        return EnrollCodeResponse(code=code, staff_id=staff.id, staff_name=staff.name,
                                  expires_at=expires.isoformat())

    @app.get("/v1/devices", response_model=DeviceList, tags=["devices"], summary="The school's devices (officers)",
             operation_id="list_devices", responses={**errors(401, 403), **_links(
                 ActOnListed=("device_action", {"device_id": "$response.body#/devices/0/id"}))})
    def devices(who: Officer) -> DeviceList:
        return DeviceList(devices=core.list_devices())

    @app.post("/v1/devices/{device_id}/{action}", response_model=DeviceList, tags=["devices"],
              summary="Retire (planned replacement) or revoke (lost or stolen) a device (officers)",
              operation_id="device_action", responses=errors(401, 403, 404, 422))
    def device_action(device_id: Id, action: Annotated[str, Path(pattern="^(retire|revoke)$")],
                      who: Officer) -> DeviceList:
        if device_id == who.device_id:
            raise ApiError(422, "own_device", "server.own_device")
        try:
            (core.retire_device if action == "retire" else core.revoke_device)(device_id)
        except ServerError as exc:
            raise ApiError(404 if isinstance(exc, NotFound) else 422, "device_action", exc) from None
        return DeviceList(devices=core.list_devices())

    @app.post("/v1/sync/wiped", response_model=WipedResponse, tags=["sync"],
              summary="A retired or revoked laptop reports its wipe", responses=errors(401, 403, 409, 422))
    def wiped(body: WipedRequest, creds: Credentials
              ) -> WipedResponse:
        who, _mode = orphans.authenticate_push(core, header_of(creds))
        if body.device_id != who.device_id:
            raise ApiError(403, "device_mismatch", "server.device_mismatch.request")
        return WipedResponse(**orphans.mark_wiped(core, who, body.unsent))
