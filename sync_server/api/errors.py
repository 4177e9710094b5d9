"""Errors as the API answers them: ``{"error": code, "detail": sentence, "message_id": id,
"params": {...}}`` with an HTTP status (the sentence's id in :data:`visitapp.messages.MESSAGES`
and its parameters, so a client says it in its own language; ``detail`` is the Chinese).
The use cases raise :class:`ApiError` with their code and sentence id; this module turns it, a
validation failure, an unknown path and anything unexpected into that one shape, and holds
the table of each status's example sentence that the OpenAPI document shows."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sync_server.config import ServerError
from sync_server.sync import ApiError
from sync_server.sync.context import said
from visitapp.protocol.sync import ErrorBody

log = logging.getLogger("sync_server")

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



def errors(*codes: int) -> dict:
    return {c: {"model": ErrorBody, "description": _EXAMPLES[c][1],
                "content": {"application/json": {"example": {"error": _EXAMPLES[c][0], "detail": _EXAMPLES[c][1]}}}}
            for c in codes}



def error_response(status: int, code: str, sentence: object, **params: object) -> JSONResponse:
    """The answer of a refusal: ``sentence`` a message id with its ``params`` (or an error
    carrying one, or a sentence without one: see :func:`sync_server.sync.context.said`)."""
    return error_body(status, code, *said(sentence, params))


def error_body(status: int, code: str, message_id: str, params: dict, detail: str) -> JSONResponse:
    body = {"error": code, "detail": detail}
    if message_id:  # a sentence from elsewhere without an id has none: a client shows ``detail``
        body |= {"message_id": message_id, "params": params}
    return JSONResponse(body, status_code=status)



def sentence(errors: list) -> tuple[int, str, str, dict]:
    """A validation failure's status, code, message id and params."""
    for err in errors:
        if err.get("type") == "json_invalid":
            return 400, "malformed_json", "server.malformed_json", {}
    parts = []
    for err in errors[:3]:
        loc = " → ".join(str(x) for x in err.get("loc", ()) if x != "body")
        parts.append(f"{loc or '请求'}：{err.get('msg', '格式不正确')}")
    return 422, "invalid_request", "server.invalid_request", {"problems": "；".join(parts)}



def install_handlers(app: FastAPI) -> None:
    """Every failure answers ``{error, detail}``; a 500 is logged with its traceback."""

    @app.exception_handler(ApiError)
    async def _api_error(_req, exc: ApiError):
        return error_body(exc.status, exc.code, exc.message_id, exc.params, exc.detail)

    @app.exception_handler(ServerError)
    async def _server_error(_req, exc: ServerError):
        return error_response(503, "unavailable", exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_req, exc: RequestValidationError):
        status, code, message_id, params = sentence(exc.errors())
        return error_response(status, code, message_id, **params)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        said_as = {404: "server.not_found.path", 405: "server.method_not_allowed"}.get(exc.status_code, str(exc.detail))
        return error_response(exc.status_code, code, said_as)

    @app.exception_handler(Exception)
    async def _unexpected(_req, exc: Exception):
        log.error("unexpected error", exc_info=exc)
        return error_response(500, "internal", "server.internal")
