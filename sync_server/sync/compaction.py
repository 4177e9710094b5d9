"""Compaction: forget old deleted drafts and raise the tombstone horizon."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from sync_server.core import ServerCore, utcnow
from sync_server.models import Record, Setting, Tombstone
from sync_server.sync.pull import horizon


# -- compaction -----------------------------------------------------------------------------------
def compact(core: ServerCore, older_than_days: float) -> dict:
    """Forget deleted drafts older than the given age and raise the tombstone horizon: a
    device whose cursor is below it must resync from zero (``410 resync_required``)."""
    cutoff = utcnow() - dt.timedelta(days=older_than_days)
    with core.db.write() as tx:
        s = tx.session
        old = s.execute(select(Tombstone).where(Tombstone.deleted_at < cutoff)).scalars().all()
        if not old:
            return {"removed": 0, "horizon": horizon(s)}
        top = max(t.server_seq for t in old)
        for t in old:
            rec = s.get(Record, t.record_id)
            if rec is not None and rec.deleted:
                s.delete(rec)
            s.delete(t)
        row = s.get(Setting, "tombstone_horizon")
        row.value = str(max(int(row.value or 0), top))
        tx.audit("compact", detail={"removed": len(old), "horizon": int(row.value)})
        return {"removed": len(old), "horizon": int(row.value)}
