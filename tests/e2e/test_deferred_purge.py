"""A purge never deletes something unsent (issue 12): when the server says a student left this
laptop while a change about the student still waits in the outbox (typed while the sync ran),
the student stays until a later sync has sent it; then the purge is done."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from sync_server.models import OrphanedWork, Record
from tests.conftest import PASSPHRASE
from tests.e2e.inprocess import InProcessServer
from visitapp.crypto import FAST_TEST_KDF
from visitapp.domain import VisitMode
from visitapp.services import create_profile
from visitapp.services.sync import SyncReport
from visitapp.services.tier_c import TierC


def test_the_purge_waits_for_the_pending_change(tmp_path):
    server = InProcessServer(tmp_path)
    try:
        sid, other = server.student("张晓明"), server.student("李小红")
        teacher = server.core.add_staff("王老师", "teacher")
        for s in (sid, other):
            server.core.assign("visitor", teacher.id, s)
        ws, _ = create_profile(tmp_path / "laptop", PASSPHRASE, kdf=FAST_TEST_KDF)
        try:
            ws.sync.enroll(server.code(teacher.id))
            assert ws.sync.run().ok
            server.core.assign("visitor", teacher.id, sid, end=True)
            # typed while the sync was between its push and its pull
            v = ws.visits.create_draft(sid)
            ws.visits.save_draft(v.id, visit_date=dt.date.today(), mode=VisitMode.ON_SITE, visitors=("王老师",),
                                 guardian_consent=True, narrative="走访时奶奶说起低保的事。")
            visit_id = ws.visits.finalize(v.id).id
            report = SyncReport()
            ws.sync._pull(ws.sync.connect(), report, None, None, TierC(ws.sync.keys))
            assert report.purged_students == 1
            assert ws.sync.deferred_purges() == [sid]
            assert ws.visits.get(visit_id).narrative == "走访时奶奶说起低保的事。"  # still here
            assert {r.id for r in ws.students.list_mine()} >= {other}
            # the next sync sends it (a visit made while assigned: the teacher's record), then purges
            report = ws.sync.run()
            assert report.ok, report.errors
            assert ws.sync.deferred_purges() == [] and ws.pending_count() == 0
            assert [r.id for r in ws.students.list_mine()] == [other]
            with server.core.db.read() as s:
                rec = s.get(Record, visit_id)
                assert rec is not None and rec.author_staff == teacher.id
                assert s.execute(select(OrphanedWork)).first() is None
        finally:
            ws.close()
    finally:
        server.stop()
