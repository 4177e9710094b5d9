"""What a route depends on: the bearer token, the principal behind it, an officer."""


from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sync_server import sync
from sync_server.core import Principal, ServerCore
from sync_server.sync import ApiError

bearer = HTTPBearer(auto_error=False, description="the device token returned by POST /v1/enroll")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def header_of(creds: HTTPAuthorizationCredentials | None) -> str | None:
    return f"Bearer {creds.credentials}" if creds else None


def principal_dependency(core: ServerCore):  # noqa: ANN201 - a FastAPI dependency
    """The device and staff member behind the request's token (noted in the request log)."""
    def principal(request: Request, creds: Credentials) -> Principal:
        who = sync.authenticate(core, header_of(creds))
        request.scope.setdefault("state", {})["device_id"] = who.device_id
        return who
    return principal


def officer_dependency(principal):  # noqa: ANN001, ANN201 - a FastAPI dependency
    def officer(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if not who.is_officer:
            raise ApiError(403, "officer_only", "server.officer_only.orphans")
        return who
    return officer
