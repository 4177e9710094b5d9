"""A passphrase reset with the recovery key reaches the school as an audit event."""

from __future__ import annotations

import json

from sqlalchemy import select

from sync_server.models import Record
from tests.conftest import PASSPHRASE
from tests.e2e.inprocess import InProcessServer
from visitapp.crypto import FAST_TEST_KDF
from visitapp.services import create_profile
from visitapp.services.workspace import PASSPHRASE_RESET
from visitapp.storage.models import OutboxRow


def test_the_reset_is_pushed_and_accepted(tmp_path):
    server = InProcessServer(tmp_path)
    ws = None
    try:
        ws, key = create_profile(tmp_path / "officer", PASSPHRASE, kdf=FAST_TEST_KDF)
        ws.sync.enroll(server.code(server.officer.id))
        assert ws.sync.run().ok
        ws.lock()
        ws.unlock_with_recovery(key, "a new passphrase")
        with ws.profile.session() as s:
            assert [r.record_kind for r in s.scalars(select(OutboxRow))] == ["audit_event"]
        report = ws.sync.run()
        assert report.ok and report.pushed == 1, report.errors
        assert ws.pending_count() == 0
        with server.core.db.read() as s:
            routings = [json.loads(r) for r in s.scalars(select(Record.routing).where(Record.kind == "audit_event"))]
        assert [r["action"] for r in routings if r["action"] == PASSPHRASE_RESET] == [PASSPHRASE_RESET]
    finally:
        if ws is not None:
            ws.close()
        server.stop()
