"""The request size limit and the request log, as ASGI middleware."""

from __future__ import annotations

import json
import logging
import time

from visitapp import messages

log = logging.getLogger("sync_server")
DEFAULT_MAX_BODY = 32 * 1024 * 1024


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
        mib = self.max_body // (1024 * 1024)
        body = json.dumps({"error": "too_large", "detail": messages.text("server.too_large", messages.ZH, mib=mib),
                           "message_id": "server.too_large", "params": {"mib": mib}}, ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
