"""A laptop's pull skips its own push coming back (the same version: same ``server_seq`` and
hlc, the routing and facts it sent), but never a version the server changed on the way in: a
laptop whose clock runs a month ahead sends times the server replaces with its receive time
(docs/security.md, "Times in a record"), and the laptop must hold what the server stored."""

from __future__ import annotations

import datetime as dt
import types

import pytest

from tests.conftest import PASSPHRASE
from tests.e2e.inprocess import InProcessServer
from visitapp.crypto import FAST_TEST_KDF
from visitapp.domain import VisitMode
from visitapp.services import create_profile
from visitapp.storage.models import MODEL_BY_KIND

pytestmark = pytest.mark.slow


def _visit(ws, student_id: str, day: dt.date):
    visit = ws.visits.create_draft(student_id)
    ws.visits.save_draft(visit.id, visit_date=day, mode=VisitMode.ON_SITE, visitors=("王老师",),
                         guardian_consent=True, narrative="家长很配合。")
    return ws.visits.finalize(visit.id)


def test_the_laptop_skips_its_own_echo_but_takes_the_times_the_server_adjusted(tmp_path):
    server = InProcessServer(tmp_path)
    staff = server.core.add_staff("王老师", "teacher")
    student_id = server.student("李小红")
    server.core.assign("visitor", staff.id, student_id)
    ws, _ = create_profile(tmp_path / "teacher", PASSPHRASE, kdf=FAST_TEST_KDF)
    try:
        ws.sync.enroll(server.code(staff.id))
        assert ws.sync.run().ok
        today = dt.date.today()
        honest = _visit(ws, student_id, today)
        report = ws.sync.run()
        assert report.ok and report.pushed >= 1, report
        visits = MODEL_BY_KIND["visit"]
        with ws.profile.session() as s:
            kept = s.get(visits, honest.id)
            assert kept.server_seq and kept.created_at == honest.created_at.isoformat()

        # the laptop's clock is set a month ahead: the server stores its receive time instead
        real_now = ws.ctx.now
        ws.ctx.now = lambda: real_now() + dt.timedelta(days=30)
        ahead = _visit(ws, student_id, today)
        ws.ctx.now = real_now
        assert ahead.created_at > real_now() + dt.timedelta(days=29)
        before = real_now()
        report = ws.sync.run()
        assert report.ok and report.pushed >= 1, report
        with ws.profile.session() as s:
            row = s.get(visits, ahead.id)
            stored = dt.datetime.fromisoformat(row.created_at)
            assert before - dt.timedelta(minutes=1) <= stored <= real_now() + dt.timedelta(minutes=1), row.created_at
            # the honest visit is unchanged by the skip
            assert s.get(visits, honest.id).created_at == honest.created_at.isoformat()
        assert ws.visits.get(ahead.id).narrative == "家长很配合。"
    finally:
        ws.close()
        server.stop()


def test_a_page_that_brings_a_new_record_twice_or_adds_then_deletes_it_keeps_the_last_word(tmp_path):
    """New records of a page are inserted together after the page (``insert_new_rows``); one the
    same page brings again, or deletes, must end as the page's last change says."""
    server = InProcessServer(tmp_path)
    writer_staff = server.core.add_staff("王老师", "teacher")
    reader_staff = server.core.add_staff("李老师", "teacher")
    student_id = server.student("李小红")
    for staff in (writer_staff, reader_staff):
        server.core.assign("visitor", staff.id, student_id)
    writer, _ = create_profile(tmp_path / "writer", PASSPHRASE, kdf=FAST_TEST_KDF)
    reader, _ = create_profile(tmp_path / "reader", PASSPHRASE, kdf=FAST_TEST_KDF)
    try:
        writer.sync.enroll(server.code(writer_staff.id))
        reader.sync.enroll(server.code(reader_staff.id))
        assert writer.sync.run().ok
        kept, dropped = _visit(writer, student_id, dt.date.today()), _visit(writer, student_id, dt.date.today())
        assert writer.sync.run().ok
        apply = reader.sync._apply_pull_page

        def rewritten(page, *args, **kwargs):
            by_id = {c.record_id: c for c in page.changes}
            if kept.id in by_id and dropped.id in by_id:
                later = by_id[kept.id].model_copy(update={"hlc": by_id[kept.id].hlc + "-later"})
                gone = by_id[dropped.id].model_copy(update={"op": "delete", "facts": None, "sealed": None})
                page = page.model_copy(update={"changes": [*page.changes, later, gone]})
            return apply(page, *args, **kwargs)

        reader.sync._apply_pull_page = rewritten
        assert reader.sync.run().ok
        visits = MODEL_BY_KIND["visit"]
        with reader.profile.session() as s:
            assert s.get(visits, dropped.id) is None
            assert s.get(visits, kept.id).hlc.endswith("-later")
        assert reader.visits.get(kept.id).narrative == "家长很配合。"  # its envelope opens with its own id
    finally:
        writer.close()
        reader.close()
        server.stop()
