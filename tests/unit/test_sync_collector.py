"""The sync pauses the cyclic garbage collector while it runs, and puts it back as it was."""

from __future__ import annotations

import gc
import threading

import pytest

from visitapp.services import sync
from visitapp.services.sync import SyncReport, SyncService, collector_paused


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_overlapping_syncs_keep_it_paused_until_the_last_ends(collector_on):
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    assert not gc.isenabled()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()  # the other sync still runs
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_collector_someone_else_turned_off_stays_off(collector_on):
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_a_sync_runs_with_the_collector_paused_even_when_it_fails(collector_on, monkeypatch):
    seen = []

    def run(self, progress, cancel):
        seen.append(gc.isenabled())
        if len(seen) == 2:
            raise RuntimeError("the server went away")
        return SyncReport()

    monkeypatch.setattr(SyncService, "_run", run)
    service = SyncService.__new__(SyncService)
    assert service.run().ok
    with pytest.raises(RuntimeError):
        service.run()
    assert seen == [False, False] and gc.isenabled()


def test_syncs_on_threads_share_one_pause(collector_on):
    inside, release = threading.Barrier(3), threading.Event()

    def one():
        with collector_paused():
            inside.wait()
            release.wait()

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    inside.wait()
    assert not gc.isenabled() and sync._collector_pauses[0] == 2
    release.set()
    for t in threads:
        t.join()
    assert gc.isenabled() and sync._collector_pauses[0] == 0
