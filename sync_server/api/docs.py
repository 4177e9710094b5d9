"""The API page ``/docs`` with its Swagger UI served by the server itself.

FastAPI's own page loads Swagger UI from a CDN, which a school network without internet
cannot reach (the page stays blank). The files come from the ``fastapi-offline`` package
(Swagger UI 5, which reads OpenAPI 3.1), served under ``/docs-assets``; nothing on the page
points off the server.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs-assets"


def add_offline_docs(app: FastAPI, docs_url: str = "/docs") -> None:
    """Serve ``docs_url`` (create the app with ``docs_url=None``) and its assets locally."""
    folder = files("fastapi_offline") / "static"
    app.mount(ASSETS_URL, StaticFiles(directory=str(folder)), name="docs-assets")
    redirect_url = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    @app.get(docs_url, include_in_schema=False)
    async def _docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} – API",
            oauth2_redirect_url=f"{root}{redirect_url}",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters)

    @app.get(redirect_url, include_in_schema=False)
    async def _oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
