"""The desktop's :class:`~visitapp.services.officer.OfficerService` against a real school
server process (``python -m sync_server serve``) and the reference platform process: plain
frozen data back, the server's sentences as errors, a teacher refused."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from sync_server.platform.reference.store import demo_key
from tests.platform.conftest import SCHOOL_CODE, TERM
from tests.ui.server import start_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def school(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("server"), students=10, teachers=2)
    yield srv
    srv.stop()


def _enrolled(tmp_path, code: str, role: str):
    from visitapp.crypto import FAST_TEST_KDF
    from visitapp.services import create_profile
    ws, _ = create_profile(tmp_path / role, "correct horse battery", kdf=FAST_TEST_KDF, role=role, staff_name=role)
    ws.sync.enroll(code)
    return ws


def test_client_round_trip_through_a_real_server(school, reference, tmp_path, monkeypatch):
    from pydantic import ValidationError

    from visitapp.protocol.platform import RosterPreviewResponse
    from visitapp.services.transport import ServerRefused

    monkeypatch.delenv("VISITAPP_PLATFORM_URL", raising=False)
    officer = _enrolled(tmp_path, school.code("officer"), "officer")
    teacher = _enrolled(tmp_path, school.code("teacher"), "teacher")
    try:
        client = officer.officer
        status = client.platform_status()
        assert not status.configured and status.problem and status.term
        with pytest.raises(ServerRefused) as err:
            client.preview_roster(TERM)
        assert err.value.code == "platform_not_configured" and err.value.status == 409
        assert "platform configure" in str(err.value)

        key = tmp_path / "platform.key"
        key.write_text(demo_key(SCHOOL_CODE).hex())
        school.admin("platform", "--url", reference.url, "configure", "--school-code", SCHOOL_CODE,
                     "--key-file", str(key), "--district", "梁溪区")
        assert client.platform_status().configured

        preview = client.preview_roster(TERM)
        assert isinstance(preview, RosterPreviewResponse)  # the wire model itself, no twin
        with pytest.raises(ValidationError):
            preview.term = "x"  # type: ignore[misc] - frozen: what the officer read is what is applied
        # the server's demo roster is not this platform's: 40 new, the school's 10 would go
        assert len(preview.new) == 40 and len(preview.gone) == 10
        assert all(c.changes[0].field == "on_roster" for c in preview.gone)
        stale = preview.model_copy(update={"preview_id": "0" * 32})
        with pytest.raises(ServerRefused) as err:
            client.apply_roster(stale)
        assert err.value.code == "preview_stale"
        with pytest.raises(ServerRefused) as err:  # more than half would go: asked first
            client.apply_roster(preview)
        assert err.value.code == "roster_suspicious" and "10 名学生" in str(err.value)
        applied = client.apply_roster(preview, force=True)
        assert (applied.applied, applied.new, applied.gone) == (True, 40, 10)
        assert client.pull_aid(TERM).added > 0

        report = officer.sync.run()  # the officer's laptop receives the platform's students
        assert report.ok and len(officer.students.list_mine()) == 50
        outcome = client.push_to_platform(TERM)
        assert outcome.ok and outcome.statistics_cells >= 1
        recon = client.reconciliation(TERM)
        assert recon.counts["not_visited"] == 40 and recon.counts["off_roster"] == 10
        path = client.save_reconciliation_xlsx(tmp_path / "r.xlsx", TERM)
        assert path.read_bytes()[:2] == b"PK" and not os.path.exists(str(path) + ".part")
        events = client.exchanges()
        assert events[0].operation == "statistics" and dt.datetime.fromisoformat(events[0].at).tzinfo is not None

        with pytest.raises(ServerRefused) as err:
            teacher.officer.reconciliation(TERM)
        assert err.value.code == "officer_only"
    finally:
        officer.close()
        teacher.close()
