"""Issue 16: a sync with nothing to do is one request. The pull carries the server's keys
marker (``PullResponse.keys_marker``); a laptop that finished its key work at that marker, and
whose push and pull carried nothing, skips the key directory, the wraps and the re-seal queue.
Each kind of change that key work reads moves the marker, and the next sync does the key work:
a device certified, a wrap added, a device revoked, an assignment, re-seal work. Real client
engines over pinned HTTPS against a server in this process, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from sync_server.db import KEYS_COUNTER
from sync_server.models import Counter
from tests.conftest import PASSPHRASE
from tests.e2e.inprocess import InProcessServer
from tests.server.conftest import backend, fresh_db_url  # noqa: F401 - the SQLite/PostgreSQL fixture
from visitapp.crypto import FAST_TEST_KDF
from visitapp.crypto.opening import ContentKey
from visitapp.protocol.records import encode_tier_c
from visitapp.services import create_profile

pytestmark = pytest.mark.slow

PULL = ("GET", "/v1/sync/pull")
DIRECTORY = ("GET", "/v1/keys/directory")
WRAPS = ("GET", "/v1/keys/wraps")
RESEAL = ("GET", "/v1/keys/reseal")
POST_WRAPS = ("POST", "/v1/keys/wraps")


def _sync(server: InProcessServer, ws):
    """One sync of ``ws``: its report and the requests it made."""
    start = len(server.requests)
    report = ws.sync.run()
    assert report.ok and not report.warnings, (report.errors, report.warnings)
    return report, server.requests[start:]


def _settle(server: InProcessServer, *laptops) -> None:
    """Sync the laptops in turn until a round in which each made one request."""
    for _ in range(8):
        if all(calls == [PULL] for calls in [_sync(server, ws)[1] for ws in laptops]):
            return
    raise AssertionError("the laptops' syncs never settled to one request")


def _marker(server: InProcessServer) -> int | None:
    with server.core.db.read() as s:
        return s.execute(select(Counter.value).where(Counter.name == KEYS_COUNTER)).scalar()


@pytest.fixture
def school(tmp_path, backend):  # noqa: F811 - the fixture imported above
    server = InProcessServer(tmp_path, db=fresh_db_url(backend, tmp_path))
    laptops = []

    def laptop(name: str):
        ws, _ = create_profile(tmp_path / name, PASSPHRASE, kdf=FAST_TEST_KDF)
        laptops.append(ws)
        return ws

    try:
        yield server, laptop
    finally:
        for ws in laptops:
            ws.close()
        server.stop()


def test_a_noop_sync_is_one_request_and_each_key_change_brings_the_key_work_back(school):
    server, laptop = school
    staff = server.core.add_staff("王老师", "teacher")
    first, second = server.student("李小红"), server.student("张小明")
    server.core.assign("visitor", staff.id, first)
    office = laptop("officer")
    office.sync.enroll(server.code(server.officer.id))
    teacher = laptop("teacher")
    teacher.sync.enroll(office.keys.officer_code(server.code(staff.id)))
    _settle(server, office, teacher)
    assert teacher.keys.content_key(first) is not None  # certified, shared and fetched on the way

    # (a) nothing to do: one request each, the pull; a server that did not move its marker
    # keeps it so for any number of syncs
    before = _marker(server)
    for ws in (office, teacher, office, teacher):
        report, calls = _sync(server, ws)
        assert calls == [PULL] and report.pushed == report.pulled == 0
    assert _marker(server) == before

    # a device certified: the teacher's second laptop publishes its keys (nothing for the
    # officer's pull), the officer's next sync lists the directory again and certifies it,
    # and its sharing wraps the teacher's student to it
    spare = laptop("spare")
    spare.sync.enroll(office.keys.officer_code(server.code(staff.id)))
    assert _marker(server) != before
    report, calls = _sync(server, office)
    assert report.pulled == 0 and DIRECTORY in calls and POST_WRAPS in calls, calls
    assert report.certified_devices == [spare.ctx.identity.device_id]
    _settle(server, office, teacher, spare)
    assert spare.keys.content_key(first) is not None

    # a wrap added: a new epoch made on the officer's laptop (its own key change: its next sync
    # does the key work without a server change) is wrapped to the teacher, whose next sync,
    # with nothing to pull, fetches it
    office.keys._store_key(ContentKey.generate(first, office.keys.content_key(first).epoch + 1))
    report, calls = _sync(server, office)
    assert report.pulled == 0 and POST_WRAPS in calls, calls
    report, calls = _sync(server, teacher)
    assert report.pulled == 0 and WRAPS in calls, calls
    assert teacher.keys.content_key(first).epoch == office.keys.content_key(first).epoch
    _settle(server, office, teacher)

    # a revocation (on the server's command line, not through the officer's laptop): the
    # officer's next sync moves the student the revoked laptop could read to a new epoch
    held = office.keys.content_key(first).epoch
    server.core.revoke_device(spare.ctx.identity.device_id)
    report, calls = _sync(server, office)
    assert report.pulled == 0 and DIRECTORY in calls, calls
    assert office.keys.content_key(first).epoch == held + 1
    report, calls = _sync(server, teacher)
    assert report.pulled == 0 and WRAPS in calls, calls
    assert teacher.keys.content_key(first).epoch == held + 1
    _settle(server, office, teacher)

    # a new assignment moves the marker too (and its record comes with the pulls): the
    # officer's sharing wraps the student's key to the teacher, whose next sync takes it
    before = _marker(server)
    server.core.assign("visitor", staff.id, second)
    assert _marker(server) != before
    report, calls = _sync(server, office)
    assert POST_WRAPS in calls, calls
    _sync(server, teacher)
    assert teacher.keys.content_key(second) is not None
    _settle(server, office, teacher)

    # re-seal work the officer's pull does not show: another's draft, arrived readable
    draft = "01936d1e-9999-7000-8000-000000000001"
    with server.core.db.write() as tx:
        server.core.put_record(tx, record_id=draft, kind="visit", student_id=first, visibility="draft",
                               author_staff=staff.id, author_device=teacher.ctx.identity.device_id,
                               routing={"id": draft, "student_id": first, "status": "draft", "author_id": staff.id,
                                        "term": "2026-2027-1", "device_id": teacher.ctx.identity.device_id},
                               facts={"visit_date": "2026-11-20", "mode": "on_site", "visitors": ["王老师"]},
                               sealed=encode_tier_c({"narrative": "家里两间平房。"}))
    report, calls = _sync(server, office)
    assert report.pulled == 0 and RESEAL in calls and report.resealed == 1, (calls, report)
    _settle(server, office, teacher)


def test_a_server_that_sends_no_marker_gets_the_key_work_at_every_sync(school):
    server, laptop = school
    office = laptop("officer")
    office.sync.enroll(server.code(server.officer.id))
    _settle(server, office)
    # the marker as an older server sends it: none
    with server.core.db.write() as tx:
        tx.session.execute(text("DELETE FROM counters WHERE name = :n"), {"n": KEYS_COUNTER})
    for _ in range(2):
        report, calls = _sync(server, office)
        assert report.pulled == 0 and DIRECTORY in calls and RESEAL in calls, calls
