"""``/v1/retention/...``: the officer erases a leaver whose retention has passed, after the
archive (issue 15); the use cases are :mod:`sync_server.retention`."""

# no "from __future__ import annotations": FastAPI resolves the local Officer alias at definition
from typing import Annotated

from fastapi import Depends, FastAPI
from pydantic import BaseModel, ConfigDict, Field

from sync_server.core import Principal, ServerCore
from sync_server.api.errors import errors
from sync_server.retention import erase_student, erasures
from sync_server.sync import ApiError
from visitapp.domain.retention import MAX_YEARS, MIN_YEARS, RETENTION_SCHOOL_YEARS

class EraseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "student_id": "01936d1e-5555-7000-8000-000000000001", "archive_sha256": "0" * 64, "school_years": 3}]})
    student_id: str = Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")
    archive_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    school_years: int = Field(default=RETENTION_SCHOOL_YEARS, ge=MIN_YEARS, le=MAX_YEARS)
    # the review meetings whose minutes the officer's laptop redacted of the student (it alone
    # reads them) and sent up first; the deletion record counts those the server holds
    redacted_minutes: list[Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]] = Field(
        default_factory=list, max_length=1000)


_RECORD_EXAMPLE = {"id": "01936d1e-7777-7000-8000-000000000009", "student_id": "01936d1e-5555-7000-8000-000000000001",
                   "erased_at": "2027-09-03T08:15:00+00:00", "erased_by": "01936d1e-1111-7000-8000-000000000002",
                   "device_id": "01936d1e-2222-7000-8000-000000000003",
                   "counts": {"student": 1, "visit": 3, "growth_entry": 4, "assignment": 2}, "school_years": 3,
                   "archive_sha256": "0" * 64}


class EraseResponse(BaseModel):
    """The deletion record: what kinds, how many, when, who, and the archive's hash."""

    model_config = ConfigDict(json_schema_extra={"examples": [_RECORD_EXAMPLE]})

    id: str
    student_id: str
    erased_at: str
    erased_by: str
    device_id: str
    counts: dict[str, int]
    school_years: int
    archive_sha256: str


class ErasureList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"erasures": [_RECORD_EXAMPLE]}]})
    erasures: list[EraseResponse]


def add_retention_routes(app: FastAPI, core: ServerCore, principal) -> None:  # noqa: ANN001
    """``POST /v1/retention/erase`` and ``GET /v1/retention/erasures`` (officers)."""
    def officer(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if not who.is_officer:
            raise ApiError(403, "officer_only", "server.officer_only.retention")
        return who

    Officer = Annotated[Principal, Depends(officer)]

    @app.post("/v1/retention/erase", response_model=EraseResponse, tags=["retention"],
              summary="Erase a student whose retention has passed, after the archive (officers)",
              responses=errors(401, 403, 404, 409, 413, 422))
    def erase(body: EraseRequest, who: Officer) -> EraseResponse:
        # a refusal (RetentionError) is an ApiError: answered with its code, sentence id and params
        return EraseResponse(**erase_student(core, who, body.student_id, body.archive_sha256,
                                             body.school_years, redacted_minutes=body.redacted_minutes))

    @app.get("/v1/retention/erasures", response_model=ErasureList, tags=["retention"],
             summary="The deletion records (officers)", responses=errors(401, 403))
    def list_erasures(who: Officer) -> ErasureList:
        return ErasureList(erasures=[EraseResponse(**e) for e in erasures(core)])


