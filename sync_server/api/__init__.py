"""The HTTP face of the server: FastAPI under ``/v1`` (DESIGN.md §4), by job:
:mod:`.routes` (sync, enrollment, conflicts, orphaned work, devices: each route calls one use
case), :mod:`.platform` (the officer's city-platform exchange), :mod:`.keys` (the key
directory), :mod:`.retention` (erasing leavers), :mod:`.dependencies` (token, principal,
officer), :mod:`.errors` (every error is ``{"error": code, "detail": sentence}``; the table of
example sentences), :mod:`.limits` (bodies over the size limit get 413 before they are parsed;
each request is logged as one JSON line without any tier B/C value)."""

from __future__ import annotations

import contextlib

import anyio
from fastapi import FastAPI

from sync_server.api.dependencies import principal_dependency
from sync_server.api.docs import add_offline_docs
from sync_server.api.errors import install_handlers
from sync_server.api.keys import router as keys_router
from sync_server.api.platform import router as platform_router
from sync_server.api.retention import add_retention_routes
from sync_server.api.limits import DEFAULT_MAX_BODY, BodyLimit
from sync_server.api.routes import add_routes
from sync_server.core import ServerCore
from visitapp.protocol.sync import PROTOCOL_VERSION

__all__ = ["DEFAULT_MAX_BODY", "create_app"]


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
    principal = principal_dependency(core)
    install_handlers(app)
    add_routes(app, core, principal)
    app.include_router(platform_router(core, principal))  # the officer's /v1/platform/...
    app.include_router(keys_router(core, principal))  # the key directory's /v1/keys/... (issue 14)
    add_retention_routes(app, core, principal)  # issue 15: erase after the retention period
    return app
