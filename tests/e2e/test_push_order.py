"""A record goes up at the place of its newest change: work done between two syncs whose last
step rests on the steps before it arrives in an order the server accepts.

Found by the officer's journey (test_officer_journey.py): a notice published, an objection
recorded and handled, then the notice closed, all before one sync. Sent in order of creation,
the closed notice arrived before its objection, and the server refused the objection.
"""

from __future__ import annotations

import datetime as dt

import pytest

from sync_server.platform.server_port import ServerSchoolData
from tests.conftest import PASSPHRASE
from tests.e2e.inprocess import InProcessServer
from visitapp.crypto import FAST_TEST_KDF
from visitapp.domain import VisitMode
from visitapp.services import create_profile
from visitapp.services.base import new_id

pytestmark = pytest.mark.slow


def test_a_notice_closed_after_its_objection_syncs_whole(tmp_path):
    server = InProcessServer(tmp_path)
    ws = None
    try:
        student = server.student("张晓明")
        ws, _ = create_profile(tmp_path / "officer", PASSPHRASE, kdf=FAST_TEST_KDF)
        ws.sync.enroll(server.code(server.officer.id))
        assert ws.sync.run().ok
        today = dt.date.today()
        visit = ws.visits.create_draft(student)
        ws.visits.save_draft(visit.id, visit_date=today, mode=VisitMode.ON_SITE, visitors=("赵专干",),
                             guardian_consent=True, narrative="入户走访。")
        ws.visits.finalize(visit.id)
        reviewers = [ws.identity.staff_id, new_id(), new_id()]  # who they are does not matter here
        meeting = ws.review.record_meeting(ws.students.current_term(), today, reviewers, "")
        ws.review.determine(meeting.id, student, "2")
        # everything below happens between two syncs; the period already lies in the past
        notice = ws.review.publish_notice(meeting.id, today - dt.timedelta(days=9), today - dt.timedelta(days=3))
        objection = ws.notices.record_objection(notice.id, today - dt.timedelta(days=5), "家长有异议", student)
        ws.notices.handle_objection(objection.id, "已核实，维持认定")
        ws.notices.close(notice.id)

        report = ws.sync.run()
        assert report.ok, report.errors
        assert ws.pending_count() == 0
        on_server = ServerSchoolData(server.core)  # the server's records, read as domain entities
        assert [(o.id, o.handled) for o in on_server.objections()] == [(objection.id, True)]
        assert [str(n.status) for n in on_server.notices()] == ["closed"]
        assert [d.final for d in on_server.determinations()] == [True]
    finally:
        if ws is not None:
            ws.close()
        server.stop()
