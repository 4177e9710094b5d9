"""The API page works with no internet: /docs and its Swagger UI files come from the server."""

from __future__ import annotations

from tests.server.docs_check import check_docs_offline


def test_docs_page_names_only_assets_the_server_serves(server):
    def get(path: str):
        response = server.client.get(path)
        return response.status_code, response.headers.get("content-type", ""), response.content

    assets = check_docs_offline(get)
    assert "/docs-assets/swagger-ui-bundle.js" in assets
