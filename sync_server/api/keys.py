"""The key directory's endpoints (``/v1/keys/...``, issue 14): see :mod:`sync_server.keys`.

Same bearer token as the sync endpoints. Public keys, certificates and wraps only: nothing
that crosses this API opens tier C without a laptop's private key.
"""

# no "from __future__ import annotations": FastAPI resolves the local Who alias at definition
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from sync_server import keys, resealing
from sync_server.core import Principal, ServerCore

from visitapp.protocol.keys import EpochList, EpochListAnswer, EpochListStored
from visitapp.protocol.sync import MAX_SEALED_BYTES, ErrorBody

B64 = r"^[A-Za-z0-9_-]+$"  # base64url without padding
ID = r"^[^\x00-\x1f\x7f]+$"
_KEY = "q3J9x0bQ7yP1m8Zl2TnVw4Rc6Hs5Kd0Ae9Uf3Gi7Yo4"
_ERRORS = {
    401: ("unauthorized", "设备令牌无效，本机可能未在本校注册。"),
    403: ("officer_only", "只有资助专干可以认证设备公钥。"),
    404: ("not_found", "找不到这台设备，或它还没有登记公钥。"),
    409: ("device_revoked", "设备已注销或退役，不再分发新的密钥。"),
    413: ("too_large", "请求内容超过 32 MiB 的上限，请分批发送。"),
    422: ("bad_certificate", "证书与服务器记录的设备公钥不符，未保存。"),
    503: ("unavailable", "数据库暂时无法写入，请稍后重试。"),
}


def _responses(*codes: int) -> dict:
    return {c: {"model": ErrorBody, "description": _ERRORS[c][1],
                "content": {"application/json": {"example": {"error": _ERRORS[c][0], "detail": _ERRORS[c][1]}}}}
            for c in codes}


class PublicKeys(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hpke: str = Field(min_length=43, max_length=43, pattern=B64, description="X25519 public key, base64url")
    signing: str = Field(min_length=43, max_length=43, pattern=B64, description="Ed25519 public key, base64url")


class PublishRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"keys": {"hpke": _KEY, "signing": _KEY}, "binding_mac": None}]})
    keys: PublicKeys
    binding_mac: str | None = Field(default=None, max_length=64, pattern=B64, description=(
        "HMAC of device id and keys under the binding secret of an enrollment code the officer's client made"))


_SIG = "k" * 86
_ENTRY = {"device_id": "01936d1e-1111-7000-8000-000000000001", "staff_id": "01936d1e-3333-7000-8000-000000000001",
          "role": "teacher", "school_id": "01936d1e-4444-7000-8000-000000000001", "enrollment_id": "a1b2c3d4e5f6",
          "keys": {"hpke": _KEY, "signing": _KEY}, "binding_mac": None, "certificate": _SIG, "state": "active",
          "fingerprint": "K7QF-2M9X-RT4H-8WNB", "published_at": "2026-12-02T08:00:00+00:00"}
_WRAP = {"student_id": "01936d1e-0000-7000-8000-000000000001", "epoch": 1,
         "device_id": "01936d1e-1111-7000-8000-000000000001", "wrap": "w" * 107, "signature": _SIG}


class DirectoryEntry(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_ENTRY]})
    device_id: str
    staff_id: str
    role: str
    school_id: str
    enrollment_id: str = Field(description="the id of the one-time code the device enrolled with")
    keys: PublicKeys
    binding_mac: str | None = None
    certificate: str | None = Field(default=None, description="the officer key's Ed25519 signature, base64url; "
                                    "null until the officer certified these keys")
    state: str = Field(description="active | retiring | retired | revoked | revoked_wiped")
    fingerprint: str = Field(description="what the officer compares with the teacher's screen, e.g. K7QF-2M9X-RT4H-8WNB")
    published_at: str


class Directory(BaseModel):
    """The school's key directory as this device may see it: an officer sees every device, a
    teacher the officers' devices and their own. Verify every certificate against the pinned
    officer key; an entry that does not verify is not the school's."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"school_id": _ENTRY["school_id"], "officer_key": _KEY, "officer_fingerprint": "M3QX-7TZK-9WNB-4HRF",
         "devices": [_ENTRY]}]})

    school_id: str
    officer_key: str | None = Field(default=None, description="the school's officer key (Ed25519), base64url")
    officer_fingerprint: str | None = None
    devices: list[DirectoryEntry]


class OfficerKeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"officer_key": _KEY}]})
    officer_key: str = Field(min_length=43, max_length=43, pattern=B64)


class OfficerKeyResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"officer_key": _KEY, "fingerprint": "M3QX-7TZK-9WNB-4HRF"}]})
    officer_key: str
    fingerprint: str


class CertificateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"certificate": _SIG}]})
    certificate: str = Field(min_length=86, max_length=86, pattern=B64, description="Ed25519 signature, base64url")


class Wrap(BaseModel):
    model_config = ConfigDict(extra="forbid")
    student_id: str = Field(min_length=1, max_length=64, pattern=ID)
    epoch: int = Field(ge=1, le=2**31 - 1)
    device_id: str = Field(min_length=1, max_length=64, pattern=ID)
    wrap: str = Field(min_length=1, max_length=200, pattern=B64, description="HPKE enc|ciphertext, base64url")
    signature: str = Field(min_length=86, max_length=86, pattern=B64)


class WrapsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"wraps": [_WRAP]}]})
    wraps: list[Wrap] = Field(min_length=1, max_length=keys.MAX_WRAPS_PER_POST)


class WrapsStored(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"stored": 2, "already": 0}]})
    stored: int
    already: int = Field(description="wraps the server had already (a retried post)")


class StoredWrap(Wrap):
    model_config = ConfigDict(json_schema_extra={"examples": [{**_WRAP, "seq": 7}]})
    seq: int


class WrapsPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"wraps": [{**_WRAP, "seq": 7}], "cursor": 7,
                                                               "more": False}]})
    wraps: list[StoredWrap]
    cursor: int
    more: bool


_SEALED = "S1_AQAAAAE" + "x" * 40


class ResealItem(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"record_id": _WRAP["student_id"], "kind": "visit", "student_id": _WRAP["student_id"], "server_seq": 42,
         "routing": {"id": _WRAP["student_id"]}, "sealed": "eyJuYXJyYXRpdmUiOiAiLi4uIn0="}]})
    record_id: str
    kind: str
    student_id: str | None = None
    server_seq: int
    routing: dict = Field(default_factory=dict)
    sealed: str | None = Field(description="as stored: readable (base64 JSON) or sealed to the officers' devices")


class ResealQueue(BaseModel):
    """Records whose tier C waits to be re-sealed by an officer's laptop."""
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [], "cursor": 0, "more": False}]})
    items: list[ResealItem]
    cursor: int
    more: bool


class Resealed(BaseModel):
    model_config = ConfigDict(extra="forbid")
    record_id: str = Field(min_length=1, max_length=64, pattern=ID)
    server_seq: int = Field(ge=1, description="the version the officer's laptop read; a record changed since is skipped")
    sealed: str = Field(min_length=1, max_length=MAX_SEALED_BYTES * 4 // 3 + 4,
                        description="the same tier C sealed under the student's content key (S1_...)")


class ResealRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"items": [{"record_id": _WRAP["student_id"], "server_seq": 42, "sealed": _SEALED}]}]})
    items: list[Resealed] = Field(min_length=1, max_length=resealing.MAX_RESEAL_BATCH)


class ResealSkipped(BaseModel):
    record_id: str
    why: str


class ResealResult(BaseModel):
    """What was swapped, what was skipped and why, and how the server holds tier C now."""
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"resealed": 1, "skipped": [], "readable": 0, "to_devices": 0, "under_student_keys": 120}]})
    resealed: int
    skipped: list[ResealSkipped]
    readable: int = Field(description="records whose tier C the server can still read (with server.key)")
    to_devices: int = Field(description="records sealed to the officers' and the writer's devices")
    under_student_keys: int


def router(core: ServerCore, principal) -> APIRouter:
    """The ``/v1/keys`` routes; ``principal`` is the app's bearer-token dependency."""
    api = APIRouter(prefix="/v1/keys", tags=["keys"])
    Who = Annotated[Principal, Depends(principal)]

    @api.put("/device", response_model=DirectoryEntry, summary="Publish this device's public keys (once, after enrolling)",
             responses=_responses(401, 403, 409, 422, 503))
    def publish(body: PublishRequest, who: Who) -> dict:
        return keys.publish_device_keys(core, who, body.keys.model_dump(), body.binding_mac)

    @api.put("/officer", response_model=OfficerKeyResponse,
             summary="Publish the school's officer key (officers; once)", responses=_responses(401, 403, 409, 422, 503))
    def officer_key(body: OfficerKeyRequest, who: Who) -> dict:
        return keys.set_officer_key(core, who, body.officer_key)

    @api.get("/directory", response_model=Directory, summary="Device public keys and their certificates",
             responses=_responses(401, 403))
    def directory(who: Who) -> dict:
        return keys.directory(core, who)

    @api.post("/devices/{device_id}/certificate", response_model=DirectoryEntry,
              summary="Certify a device's keys with the officer key (officers)",
              responses=_responses(401, 403, 404, 409, 422, 503))
    def certify(device_id: Annotated[str, Path(max_length=64, pattern=ID)], body: CertificateRequest, who: Who) -> dict:
        return keys.certify(core, who, device_id, body.certificate)

    @api.post("/wraps", response_model=WrapsStored, summary="Post content-key wraps (officers)",
              responses=_responses(401, 403, 404, 409, 413, 422, 503))
    def post_wraps(body: WrapsRequest, who: Who) -> dict:
        return keys.post_wraps(core, who, [w.model_dump() for w in body.wraps])

    @api.get("/wraps", response_model=WrapsPage, summary="The content-key wraps addressed to this device",
             responses=_responses(401, 403, 404, 422))
    def my_wraps(who: Who, after: Annotated[int, Query(ge=0, le=2**62)] = 0,
                 limit: Annotated[int, Query(ge=1, le=keys.DEFAULT_WRAPS_PAGE)] = keys.DEFAULT_WRAPS_PAGE,
                 device: Annotated[str | None, Query(max_length=64, pattern=ID, description=(
                     "officers only: the wraps of another officer device (a lost laptop whose key the "
                     "officer restored from its recovery sheet)"))] = None) -> dict:
        return keys.my_wraps(core, who, after, limit, device)

    @api.put("/epochs", response_model=EpochListStored,
             summary="Publish the signed epoch list: every key name's current epoch (officers)",
             responses=_responses(401, 403, 409, 413, 422, 503))
    def publish_epochs(body: EpochList, who: Who) -> dict:
        return keys.publish_epoch_list(core, who, body)

    @api.get("/epochs", response_model=EpochListAnswer,
             summary="The newest signed epoch list (null before the officer published one)",
             responses=_responses(401))
    def epochs(who: Who) -> dict:
        return keys.epoch_list(core, who)

    @api.get("/reseal", response_model=ResealQueue, summary="Records whose tier C waits to be re-sealed (officers)",
             responses=_responses(401, 403, 422))
    def reseal_queue(who: Who, after: Annotated[int, Query(ge=0, le=2**62)] = 0,
                     limit: Annotated[int, Query(ge=1, le=resealing.MAX_RESEAL_BATCH)] = resealing.MAX_RESEAL_BATCH
                     ) -> dict:
        page = resealing.queue(core, who, after, limit)
        if after == 0:  # once per officer sync: orphaned work that arrived readable is sealed too
            resealing.seal_readable_orphans(core, who, lambda: keys.seal_for_officers_of(core))
        return page

    @api.post("/reseal", response_model=ResealResult,
              summary="Swap records' tier C for values re-sealed under the students' keys (officers)",
              responses=_responses(401, 403, 413, 422, 503))
    def reseal(body: ResealRequest, who: Who) -> dict:
        return resealing.reseal(core, who, [i.model_dump() for i in body.items])

    return api
