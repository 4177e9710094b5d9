"""``devices list`` shows when a laptop last synced, whatever the sync did: a pull or a meta with
nothing to push counts (issue 10), at most one write per device per minute."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from sync_server.models import DeviceRow


def _seen(server, device_id: str) -> str | None:
    return next(d for d in server.core.list_devices() if d["id"] == device_id)["last_seen_at"]


def test_a_pull_without_a_push_records_the_sync(server):
    dev = server.device(server.staff("王芳"))
    assert _seen(server, dev.id) is None           # enrolled, not yet synced
    server.pull(dev)
    first = _seen(server, dev.id)
    assert first is not None
    # within the minute: no write, the time stays
    server.pull(dev)
    assert server.client.get("/v1/sync/meta", headers=dev.auth).status_code == 200
    assert _seen(server, dev.id) == first


def test_an_old_last_sync_is_renewed_by_a_meta_call(server):
    dev = server.device(server.staff("李明"))
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=3)
    with server.core.db.write() as tx:
        tx.session.execute(update(DeviceRow).where(DeviceRow.id == dev.id).values(last_seen_at=old))
    assert server.client.get("/v1/sync/meta", headers=dev.auth).status_code == 200
    seen = dt.datetime.fromisoformat(_seen(server, dev.id))
    assert seen > old + dt.timedelta(days=2)


def test_a_refused_token_records_nothing(server):
    dev = server.device(server.staff("赵强"))
    assert server.client.get("/v1/sync/pull", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert _seen(server, dev.id) is None
