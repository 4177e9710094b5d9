"""The officer's desktop side of the platform exchange: calls the school server's
``/v1/platform/...`` endpoints with the sync engine's pinned HTTPS session and device token,
and returns plain frozen data for the screens.

The school server does the exchange with the city platform; this laptop never talks to the
platform. A roster apply or an aid pull changes records on the server: the laptop receives
them at its next sync (the screen offers it).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from visitapp.protocol import platform as pp
from visitapp.sync.engine import ServerRefused

if TYPE_CHECKING:
    from visitapp.sync.engine import SyncEngine


class PlatformCallError(ServerRefused):
    """The server refused or could not do the exchange; the message is the server's sentence.
    ``code`` is its error code (``platform_not_configured``, ``preview_stale``, …)."""


class PlatformClient:
    """``/v1/platform/...`` over the engine's session (certificate pinning, retries, revocation)."""

    def __init__(self, engine: SyncEngine, timeout: float = 300.0):
        self.engine = engine
        # a roster pull from the platform takes the platform's time as well as the server's
        self.timeout = timeout

    def _request(self, method: str, path: str, body: dict | None = None, params: dict | None = None):
        # a 502 already means the server retried the platform: do not multiply the wait; and a
        # POST that may have reached the server is not sent again
        http, url, token = self.engine._http(repeatable=("GET",), retry_server_errors=False)
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs["json"] = body
        if params:
            kwargs["params"] = params
        response = self.engine._call(http, method, f"{url}/v1/platform/{path}", token, timeout=self.timeout,
                                     **kwargs)
        if response.status_code != 200:
            raise PlatformCallError.of(response)
        return response

    def _json(self, model, method: str, path: str, body: dict | None = None, params: dict | None = None):
        return model.model_validate(self._request(method, path, body, params).json())

    def status(self) -> pp.PlatformStatus:
        return self._json(pp.PlatformStatus, "GET", "status")

    def preview_roster(self, term: str | None = None) -> pp.RosterPreviewResponse:
        return self._json(pp.RosterPreviewResponse, "POST", "roster/preview", {"term": term})

    def apply_roster(self, preview: pp.RosterPreviewResponse, force: bool = False) -> pp.RosterApplyResponse:
        return self._json(pp.RosterApplyResponse, "POST", "roster/apply",
                          {"preview_id": preview.preview_id, "term": preview.term, "force": force})

    def pull_aid(self, term: str | None = None) -> pp.AidPullResponse:
        return self._json(pp.AidPullResponse, "POST", "aid/pull", {"term": term})

    def push(self, term: str | None = None, statistics: bool = True) -> pp.PlatformPushResponse:
        return self._json(pp.PlatformPushResponse, "POST", "push", {"term": term, "statistics": statistics})

    def reconciliation(self, term: str | None = None) -> pp.ReconciliationResponse:
        return self._json(pp.ReconciliationResponse, "GET", "reconciliation", params={"term": term} if term else None)

    def save_reconciliation_xlsx(self, path: Path, term: str | None = None) -> Path:
        """Download the report's workbook to ``path`` (written whole or not at all)."""
        response = self._request("GET", "reconciliation.xlsx", params={"term": term} if term else None)
        path = Path(path)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(response.content)
        tmp.replace(path)
        return path

    def exchanges(self, last: int = 200) -> list[pp.ExchangeModel]:
        return self._json(pp.ExchangeList, "GET", "exchanges", params={"last": last}).exchanges
