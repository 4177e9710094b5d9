"""A first sync over many pages (issue 16): the client asks the server for the total on the
first page only, and its progress still runs from 0 to that total, which is exactly what it
pulls. A real server process, the real client engine."""

from __future__ import annotations

import pytest

from tests.conftest import PASSPHRASE
from tests.e2e.server_process import ServerProcess
from visitapp.crypto import FAST_TEST_KDF
from visitapp.services import create_profile

pytestmark = pytest.mark.slow


def test_first_sync_progress_runs_to_the_first_pages_total(tmp_path, monkeypatch):
    import visitapp.services.sync as sync_service
    from visitapp.services.transport import ServerConnection
    monkeypatch.setattr(sync_service, "PULL_PAGE", 10)  # a 40-student school in many pages
    server = ServerProcess(tmp_path / "server")
    demo = server.init_demo(students=40, teachers=3)
    server.start()
    sent: list[dict] = []
    real_request = ServerConnection.request

    def spy(self, method, path, **kw):
        if path == "/v1/sync/pull":
            sent.append(dict(kw.get("params") or {}))
        return real_request(self, method, path, **kw)

    monkeypatch.setattr(ServerConnection, "request", spy)
    try:
        for staff in (demo["staff"][0], [s for s in demo["staff"] if s["role"] == "teacher"][0]):
            ws, _ = create_profile(tmp_path / f"laptop-{staff['id'][:6]}", PASSPHRASE, kdf=FAST_TEST_KDF)
            try:
                ws.sync.enroll(staff["enroll_code"], device_label="laptop")
                seen: list[tuple[int, int]] = []
                sent.clear()
                report = ws.sync.run(progress=lambda done, total, what: what == "pull" and seen.append((done, total)))
                assert report.ok, report.errors
                assert len(seen) >= 3, seen  # several pages
                totals = {t for _, t in seen}
                assert len(totals) == 1, seen  # the first page's total, kept
                assert [d for d, _ in seen] == sorted(d for d, _ in seen)
                assert seen[-1][0] == seen[-1][1] >= report.pulled > 0
                assert "total" not in sent[0] and all(p.get("total") == "false" for p in sent[1:]), sent
            finally:
                ws.close()
    finally:
        server.stop()
