"""Enrollment (a one-time code becomes a device token) and authentication of every call."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import and_, bindparam, or_, select, update

from sync_server.config import ServerError
from sync_server.db import NOT_KEY_WORK
from sync_server.core import Principal, ServerCore, aware, new_id, utcnow
from sync_server.models import DeviceRow, EnrollCode, StaffRow
from visitapp.crypto import random_token, sha256_hex
from sync_server.sync.context import ApiError

_CODE_ID = re.compile(r"^[0-9a-f]{12}$")  # the id half of a code: 12 hex digits


# -- enrollment and authentication ---------------------------------------------------------
def enroll(core: ServerCore, code: str, label: str) -> dict:
    """Turn a one-time code into a device token.

    Single use and the try limit hold under any concurrency, on one process or many sharing a
    database: the code is claimed (or a try spent) by one conditional ``UPDATE … WHERE used_at
    IS NULL AND tries_left > 0 RETURNING``, which PostgreSQL re-checks against the committed row
    when another request updated it first, and SQLite runs one writer at a time. A request that
    claimed nothing reads the row again only to say why (used, expired, locked). The answer to
    a used, expired or locked code is the same whether its secret was right or wrong."""
    import hmac

    from visitapp.protocol.sync import decode_enrollment_code
    try:
        _url, _fp, secret = decode_enrollment_code(code)
    except ValueError as exc:
        secret = code.strip()  # a bare "<id>.<secret>" is accepted too
        if "." not in secret:
            raise ApiError(401, "invalid_code", exc) from None
    code_id, _, raw = secret.partition(".")
    if not _CODE_ID.match(code_id):
        raise ApiError(401, "invalid_code", "server.invalid_code")
    now = utcnow()
    digest = sha256_hex(raw)
    table = EnrollCode.__table__
    live = and_(table.c.id == code_id, table.c.used_at.is_(None), table.c.tries_left > 0)
    with core.db.write() as tx:
        s = tx.session
        fixed = s.execute(select(table.c.staff_id, table.c.secret_hash, table.c.expires_at)
                          .where(table.c.id == code_id)).first()
        if fixed is None:
            raise ApiError(401, "invalid_code", "server.invalid_code")
        expired = aware(fixed.expires_at) < now
        right = hmac.compare_digest(digest, fixed.secret_hash)
        claimed = None
        device_id = new_id()
        if not expired and right:
            claimed = s.execute(update(table).where(live).values(used_at=now, device_id=device_id)
                                .returning(table.c.staff_id)).first()
        elif not expired:
            claimed = s.execute(update(table).where(live).values(tries_left=table.c.tries_left - 1)
                                .returning(table.c.tries_left)).first()
        if claimed is None:
            state = s.execute(select(table.c.used_at, table.c.tries_left).where(table.c.id == code_id)).first()
            if state is not None and state.used_at is not None:
                raise ApiError(401, "code_used", "server.code_used")
            if expired:
                raise ApiError(401, "code_expired", "server.code_expired")
            raise ApiError(401, "code_locked", "server.code_locked")
        if not right:
            tx.audit("enroll_failed", record_kind="enroll_code", record_id=code_id)
            # commit the spent try: raising inside the transaction would roll it back
            failure = ApiError(401, "invalid_code", "server.invalid_code.tries_left",
                               tries_left=claimed.tries_left)
        else:
            failure = None
            staff = s.get(StaffRow, fixed.staff_id)
            if staff is None or not staff.active:
                raise ApiError(403, "staff_inactive", "server.staff_inactive")  # rolls the claim back
            token = random_token(32)
            s.add(DeviceRow(id=device_id, staff_id=staff.id, label=label.strip()[:100],
                            token_hash=sha256_hex(token), enrolled_at=now))
            tx.audit("enroll", actor=staff.id, device=device_id, record_kind="device", record_id=device_id)
            staff_name = core.vault.open_text("staff", staff.id, "name", staff.name_enc) or ""
            role = staff.role
    if failure is not None:
        raise failure
    school_id, school_name = core.school()
    return {"device_id": device_id, "token": token, "staff_id": staff.id, "staff_name": staff_name,
            "role": role, "school_id": school_id, "school_name": school_name}


def token_hash_of(authorization: str | None) -> str:
    """The hash the device's token is stored under, from an ``Authorization`` header."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise ApiError(401, "unauthorized", "server.unauthorized.no_token")
    token = authorization[7:].strip()
    if not token or len(token) > 200:
        raise ApiError(401, "unauthorized", "server.unauthorized.invalid_token")
    return sha256_hex(token)


def authenticate(core: ServerCore, authorization: str | None) -> Principal:
    token_hash = token_hash_of(authorization)
    with core.db.read() as s:
        who = principal_in(core, s, token_hash)
    note_seen(core, who)
    return who


SEEN_EVERY = dt.timedelta(minutes=1)


def note_seen(core: ServerCore, who: Principal) -> None:
    """When the device last synced (any call: a pull or a meta with nothing to push counts),
    for ``devices list``. At most one short write per device per minute, outside the
    caller's transaction; a busy database only skips the note."""
    now = utcnow()
    if who.seen_at is not None and aware(who.seen_at) > now - SEEN_EVERY:
        return
    try:
        with core.db.write() as tx:
            tx.session.execute(update(DeviceRow).where(
                DeviceRow.id == who.device_id,
                or_(DeviceRow.last_seen_at.is_(None), DeviceRow.last_seen_at < now - SEEN_EVERY),
            ).values(last_seen_at=now).execution_options(**{NOT_KEY_WORK: True}))
    except ServerError:
        pass


def principal_in(core: ServerCore, s, token_hash: str) -> Principal:  # noqa: ANN001 - a Session
    """The device and staff member behind a token, read in the caller's session (Core
    execution: a third of the ORM's cost for a row of columns)."""
    return principal_of(core, s.connection().execute(AUTH, {"token_hash": token_hash}).first())


def principal_of(core: ServerCore, found) -> Principal:  # noqa: ANN001 - a row of AUTH (or a longer one), or None
    """The principal of a row that :data:`AUTH` selects first (401 and 403 as they apply)."""
    if found is None:
        raise ApiError(401, "unauthorized", "server.unauthorized")
    device_id, revoked_at, staff_id, role, active, name_enc, seen_at = found[:7]
    if revoked_at is not None:
        raise ApiError(403, "device_revoked", "server.device_revoked")
    if not active:
        raise ApiError(403, "staff_inactive", "server.staff_inactive")
    name = core.vault.open_text("staff", staff_id, "name", name_enc) or ""
    return Principal(device_id, staff_id, role, name, seen_at)


AUTH = (select(DeviceRow.id, DeviceRow.revoked_at, StaffRow.id, StaffRow.role, StaffRow.active, StaffRow.name_enc,
                DeviceRow.last_seen_at)
        .join(StaffRow, StaffRow.id == DeviceRow.staff_id).where(DeviceRow.token_hash == bindparam("token_hash")))
