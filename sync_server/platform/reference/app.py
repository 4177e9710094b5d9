"""The reference platform's HTTP API (FastAPI). Its OpenAPI document (``/openapi.json``,
browsable at ``/docs``) is the interface a city's integrator implements.

``/api/v1/schools/{code}/...`` is the interface: every request signed by the school
(:mod:`sync_server.platform.signing`). ``/reference/...`` is for demos and tests only
(what the platform received, demo keys, editing the demo roster) and is not part of it.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request


from sync_server.platform.model import INTERFACE_VERSION
from sync_server.platform.wire import (
    TERM_PATTERN, AidResponse, RosterResponse, StatisticsRequest, UploadRequest, UploadResponse,
)
from sync_server.platform.reference.store import Store, demo_key
from sync_server.platform.signing import H_SCHOOL, H_SIGNATURE, H_TIMESTAMP, verify

def create_app(store: Store) -> FastAPI:
    app = FastAPI(
        title="City aid platform — school exchange interface (reference implementation)",
        version=str(INTERFACE_VERSION),
        description=(
            "How a school's sync server exchanges data with the city aid platform (市阳光资助平台).\n\n"
            "**Signing.** Every `/api/v1` request carries `X-School` (the school code), `X-Timestamp` "
            "(Unix seconds, within 300 s of the platform's clock) and `X-Signature`: hex HMAC-SHA256, "
            "with the school's key, of `METHOD\\nPATH?QUERY\\nTIMESTAMP\\nSHA256_HEX(BODY)`.\n\n"
            "**Idempotency.** A batch id seen before returns the first answer (`duplicate_batch: true`) "
            "and applies nothing; an item is stored once per `(item_id, version)`.\n\n"
            "**Minimization.** Upload items carry only allow-listed keys; statistics cells under 5 "
            "students must be suppressed."))

    async def signed(request: Request, code: str = Path(..., max_length=40)) -> str:
        key = store.school_key(code)
        if key is None:
            raise HTTPException(404, "平台上没有这所学校。")
        if request.headers.get(H_SCHOOL) != code:
            raise HTTPException(401, "请求头 X-School 与地址中的学校代码不一致。")
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        problem = verify(key, request.method, path, request.headers.get(H_TIMESTAMP, ""),
                         request.headers.get(H_SIGNATURE, ""), await request.body())
        if problem:
            raise HTTPException(401, problem)
        return code

    @app.get("/api/v1/schools/{code}/roster", response_model=RosterResponse, tags=["interface"],
             summary="The school's roster for a term (masked IDs only)")
    def roster(code: str = Depends(signed), term: str = Query(..., pattern=TERM_PATTERN)) -> dict:
        return {"term": term, "school_code": code, "students": store.roster(code)}

    @app.get("/api/v1/schools/{code}/aid", response_model=AidResponse, tags=["interface"],
             summary="Aid history of the school's students (grants, waivers, social programmes)")
    def aid(code: str = Depends(signed), term: str = Query(..., pattern=TERM_PATTERN)) -> dict:
        return {"term": term, "school_code": code, "records": store.aid(code)}

    @app.post("/api/v1/schools/{code}/uploads", response_model=UploadResponse, tags=["interface"],
              summary="Visit completion, determinations, growth rewards, mentor assignments")
    def uploads(body: UploadRequest, code: str = Depends(signed)) -> dict:
        return store.upload(code, body.batch_id, body.items)

    @app.post("/api/v1/schools/{code}/statistics", response_model=UploadResponse, tags=["interface"],
              summary="Aggregate counts by district and stage for the city's charts")
    def stats(body: StatisticsRequest, code: str = Depends(signed)) -> dict:
        try:
            return store.statistics(code, body.batch_id, body.term, [c.model_dump() for c in body.cells])
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None

    # -- reference-only ---------------------------------------------------------------------------
    @app.get("/reference/schools", tags=["reference only"], summary="Demo schools and their demo keys (hex)")
    def schools() -> list[dict]:
        return [{**s, "demo_key_hex": demo_key(s["code"]).hex()} for s in store.schools()]

    @app.get("/reference/received", tags=["reference only"], summary="Everything a school uploaded")
    def received(school: str = Query(..., max_length=40)) -> dict:
        return store.received(school)

    @app.patch("/reference/schools/{code}/students/{ref}", tags=["reference only"],
               summary="Edit the demo roster (e.g. take a student off it, change a level)")
    def patch_student(code: str, ref: str, changes: dict[str, Any]) -> dict:
        try:
            if not store.patch_student(code, ref, dict(changes)):
                raise HTTPException(404, "没有这名学生。")
        except (KeyError, ValueError) as exc:
            raise HTTPException(422, f"修改无效：{exc}") from None
        return {"ok": True}

    return app
