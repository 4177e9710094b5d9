"""Issue 14: a server that withholds a new key epoch is caught by the signed epoch list. Real
client engines over pinned HTTPS to a server in this process: the officer revokes a teacher's
laptop in the devices screen's way (``OfficerService.device_action``), which moves the student
to a new epoch and publishes the list; the server does not deliver the new epoch's wrap to the
other teacher. That teacher's sync report says so, and the visit it writes next goes up sealed
to the officers and itself, which the revoked laptop's old key cannot open; the officer's next
sync re-seals it under the new epoch."""

from __future__ import annotations

import types

import pytest

from tests.e2e.inprocess import InProcessServer
from tests.server.test_epoch_list import withhold_epoch
from tests.services.test_documents import finalized_visit
from sync_server.models import Record
from visitapp.crypto import CryptoError
from visitapp.messages import ZH, text
from visitapp.protocol.records import TIER_C_FIELD, decode_sealed

pytestmark = pytest.mark.slow
NARRATIVE = "父亲外出务工，母亲在家照顾生病的奶奶。"


def _tier_c_on_server(server: InProcessServer, record_id: str) -> tuple[int | None, bytes]:
    with server.core.db.read() as s:
        rec = s.get(Record, record_id)
        return rec.tier_c_form, decode_sealed(server.core.record_sealed(rec))


def a_student_visited_by_two(server: InProcessServer) -> tuple:
    """A student both of whose two teachers are its visitors: (student id, first, second)."""
    first = server.core.add_staff("王老师", "teacher")
    second = server.core.add_staff("陈老师", "teacher")
    student_id = server.student("李小红")
    for staff in (first, second):
        server.core.assign("visitor", staff.id, student_id)
    return student_id, first, second


def test_a_withheld_epoch_is_reported_and_the_next_visit_is_not_sealed_under_the_old_one(tmp_path):
    server = InProcessServer(tmp_path)
    student_id, first, second = a_student_visited_by_two(server)
    with server.officer_and_teachers(tmp_path, teacher=first, gone=second) as (office, laptops):
        assert office.sync.run().ok  # certifies both, shares the student's key (epoch 1) with both
        for ws in laptops.values():
            report = ws.sync.run()
            assert report.ok and report.warnings == [], report
        teacher, gone = laptops["teacher"], laptops["gone"]
        old_key = gone.keys.content_key(student_id, 1)
        assert old_key is not None

        office.officer.device_action(gone.keys.my_device_id(), "revoke")
        assert office.keys.content_key(student_id).epoch == 2
        withhold_epoch(server, teacher.keys.my_device_id(), 2)  # the administrator keeps it from the teacher
        report = teacher.sync.run()
        assert report.ok, report
        assert text("keys.epoch_withheld", ZH, student=student_id, epoch=2, held=1) in report.warnings

        visit = finalized_visit(teacher, types.SimpleNamespace(id=student_id), narrative=NARRATIVE)
        report = teacher.sync.run()
        assert report.ok and report.pushed >= 1, report
        form, envelope = _tier_c_on_server(server, visit.id)
        assert form == 0  # sealed to the officers and the teacher, not under epoch 1
        with pytest.raises(CryptoError):
            old_key.open(envelope, "visit", visit.id, TIER_C_FIELD)
        assert teacher.visits.get(visit.id).narrative == NARRATIVE

        # the officer's laptop re-seals it under epoch 2, which the revoked laptop never got
        assert office.sync.run().ok
        form, envelope = _tier_c_on_server(server, visit.id)
        assert form == 2
        with pytest.raises(CryptoError):
            old_key.open(envelope, "visit", visit.id, TIER_C_FIELD)
        assert office.visits.get(visit.id).narrative == NARRATIVE
