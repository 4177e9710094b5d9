"""``/docs`` must work on a school network with no internet: the page names only assets of the
server itself, and the server serves each of them. Shared by the in-process test and the
installed-wheel smoke (a real server over TLS)."""

from __future__ import annotations

import re
from collections.abc import Callable

# get(path) -> (status, content type, body)
Getter = Callable[[str], tuple[int, str, bytes]]


def check_docs_offline(get: Getter) -> list[str]:
    """Fetch ``/docs`` and every asset it names; return the local paths fetched."""
    status, ctype, body = get("/docs")
    assert status == 200 and ctype.startswith("text/html"), (status, ctype)
    page = body.decode("utf-8")
    assert "SwaggerUIBundle" in page
    remote = re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"'<>]*", page)
    assert not remote, f"/docs names assets off the server: {remote}"
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page)
    assets += re.findall(r"""url:\s*['"]([^'"]+)['"]""", page)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets), assets
    assert "/openapi.json" in assets, assets
    for path in assets:
        assert path.startswith("/"), path
        status, ctype, body = get(path)
        assert status == 200, f"{path}: {status}"
        assert len(body) > 100, f"{path} is empty"
        if path.endswith(".js"):
            assert "javascript" in ctype, (path, ctype)
            assert b"SwaggerUIBundle" in body
        elif path.endswith(".css"):
            assert ctype.startswith("text/css"), (path, ctype)
    return assets
