"""The reference platform's HTTP API (FastAPI). Its OpenAPI document (``/openapi.json``,
browsable at ``/docs``) is the interface a city's integrator implements.

``/api/v1/schools/{code}/...`` is the interface: every request signed by the school
(:mod:`sync_server.platform.signing`). ``/reference/...`` is for demos and tests only
(what the platform received, demo keys, editing the demo roster) and is not part of it.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from sync_server.platform.model import INTERFACE_VERSION
from sync_server.platform.reference.store import Store, demo_key
from sync_server.platform.signing import H_SCHOOL, H_SIGNATURE, H_TIMESTAMP, verify

MAX_ITEMS = 1000
TERM_PATTERN = r"^\d{4}-\d{4}-[12]$"


class RosterStudent(BaseModel):
    platform_ref: str = Field(examples=["WX011000001"])
    name: str = Field(examples=["张晓明"])
    masked_id: str = Field("", examples=["3202**********1234"], description="18-digit ID with the middle ten hidden")
    school_code: str = ""
    school_name: str = ""
    district: str = ""
    class_name: str = Field(examples=["七年级(1)班"])
    stage: str = Field(examples=["junior"], description="preschool | primary | junior | senior | vocational")
    hardship_categories: list[str] = Field(default_factory=list, examples=[["min_living"]])
    auto_eligible: bool = False
    level: str | None = Field(None, description="the level the platform has on record: 1 | 2 | 3 | none")


class RosterResponse(BaseModel):
    term: str
    school_code: str
    students: list[RosterStudent]


class AidItem(BaseModel):
    aid_id: str = Field(examples=["AID-WX-LX-001-000001"])
    platform_ref: str
    aid_kind: str = Field(description="grant | fee_waiver | lunch_waiver | social_programme")
    title: str = Field(examples=["国家助学金", "筑梦书香"])
    date: str = Field(examples=["2026-03-01"])
    programme: str = ""
    amount_yuan: float | None = None


class AidResponse(BaseModel):
    term: str
    school_code: str
    records: list[AidItem]


class UploadRequest(BaseModel):
    """Items carry only the allow-listed keys of their kind (see the README); any other key
    makes the item ``rejected``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "batch_id": "3b0f8a34-0e6f-5d5e-9a51-6f1c1e0e8a11", "term": "2026-2027-1",
        "items": [{"item_id": "0d4c6e0b-5c0c-5a8e-8a0b-2f0c7b7c6d01", "version": "9f2c1d0e7a6b5c4d",
                   "kind": "visit", "student_ref": "WX011000001", "term": "2026-2027-1",
                   "visit_date": "2026-10-12", "mode": "on_site", "visitor_count": 2}]}]})
    batch_id: str = Field(min_length=1, max_length=64)
    term: str = Field("", max_length=16)
    items: list[dict[str, Any]] = Field(max_length=MAX_ITEMS)


class ItemResult(BaseModel):
    item_id: str
    status: str = Field(description="accepted | duplicate | rejected")
    reason: str = ""


class UploadResponse(BaseModel):
    batch_id: str
    duplicate_batch: bool = Field(description="true when this batch id was seen before: the first answer, replayed")
    results: list[ItemResult]


class StatCellModel(BaseModel):
    district: str
    stage: str
    suppressed: bool
    students: int | None = None
    visited: int | None = None
    determined: int | None = None
    rewarded: int | None = None
    key_support: int | None = None
    mentored: int | None = None


class StatisticsRequest(BaseModel):
    batch_id: str = Field(min_length=1, max_length=64)
    term: str = Field(pattern=TERM_PATTERN)
    cells: list[StatCellModel] = Field(max_length=1000)


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
