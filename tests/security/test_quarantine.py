"""Defence in depth on the laptop (issue 11): a pulled record the laptop cannot read — here
written straight into the server's database, as an older server or a damaged database
would hand it out — is quarantined and listed with its id and reason; the sync succeeds,
``visitapp sync`` reports it, and a readable version later replaces it."""

from __future__ import annotations

import json
import subprocess

from tests import forkserver

import pytest

from tests.conftest import PASSPHRASE, PYTHON, subprocess_env
from tests.security.conftest import new_id, seal
from tests.security.test_forgery import only_a
from sync_server.config import ServerPaths
from sync_server.core import ServerCore
from visitapp.crypto import FAST_TEST_KDF
from visitapp.services import create_profile
from visitapp.storage.models import MODEL_BY_KIND

pytestmark = pytest.mark.slow


def plant(school, record_id: str, sid: str, routing: dict, facts: dict, sealed) -> None:
    """Write a record past the server's door, as if an older server had accepted it."""
    core = ServerCore.open(ServerPaths(school.server.data_dir), school.server.db[1])
    try:
        with core.db.write() as tx:
            core.put_record(tx, record_id=record_id, kind="visit", student_id=sid, visibility="student",
                            author_staff=school.staff["a"]["id"], author_device=None,
                            routing={"id": record_id, "student_id": sid, **routing}, facts=facts, sealed=sealed)
    finally:
        core.close()


def test_unreadable_pulled_records_are_quarantined_not_fatal(school, tmp_path):
    sid = only_a(school)[0]
    good_facts = {"visit_date": "2026-11-20", "mode": "on_site", "visitors": ["王老师"]}
    poisoned = {
        new_id(): ({"status": "final"}, good_facts, seal({"narrative": "x"})),                       # no author
        new_id(): ({"status": "final", "author_id": school.staff["a"]["id"]},
                   {**good_facts, "mode": "teleport"}, None),
        new_id(): ({"status": "final", "author_id": school.staff["a"]["id"]}, {**good_facts, "visitors": 3}, None),
        new_id(): ({"status": "final", "author_id": school.staff["a"]["id"]}, good_facts, "不是base64"),
        new_id(): ({"status": "final", "author_id": school.staff["a"]["id"]}, good_facts,
                   seal({"narrative": "x", "student_id": sorted(school.students["b"])[0],
                         "author_id": school.staff["officer"]["id"]})),                         # routing in sealed
    }
    for rid, (routing, facts, sealed) in poisoned.items():
        plant(school, rid, sid, routing, facts, sealed)
    for key in ("a", "officer"):
        ws = school.laptops[key]
        report = ws.sync.run()
        assert report.ok, report.errors  # the sync itself succeeds
        assert {rid for rid, _ in report.quarantined} == set(poisoned), report.quarantined
        listed = {rid: why for _kind, rid, why in ws.sync.quarantined()}
        assert set(poisoned) <= set(listed) and all(listed[rid] for rid in poisoned)
        for rid in poisoned:
            assert school.count(key, "visit", rid) == 0
    # B does not hold the student: nothing reaches it, nothing is set aside there
    assert school.laptops["b"].sync.run().ok and not school.laptops["b"].sync.quarantined()

    # the command line reports them (a fresh laptop of the officer, its own process)
    out = json.loads(school.server.cli("enroll-code", school.staff["officer"]["id"], "--url", school.server.url,
                                       "--json").stdout)
    ws, _ = create_profile(tmp_path / "cli-laptop", PASSPHRASE, kdf=FAST_TEST_KDF)
    ws.sync.enroll(out["code"], device_label="cli")
    ws.close()
    (tmp_path / "pass.txt").write_text(PASSPHRASE + "\n")
    run = forkserver.run([PYTHON, "-m", "visitapp", "--profile", str(tmp_path / "cli-laptop"), "--passphrase-file",
                          str(tmp_path / "pass.txt"), "sync"], capture_output=True, text=True,
                         env=subprocess_env(), timeout=300)
    assert run.returncode == 0, run.stderr
    assert "已隔离" in run.stdout and all(rid in run.stdout for rid in poisoned), run.stdout
    run = forkserver.run([PYTHON, "-m", "visitapp", "--profile", str(tmp_path / "cli-laptop"), "--passphrase-file",
                          str(tmp_path / "pass.txt"), "sync", "--json"], capture_output=True, text=True,
                         env=subprocess_env(), timeout=300)
    assert run.returncode == 0, run.stderr
    assert {q["record_id"] for q in json.loads(run.stdout)["quarantined"]} >= set(poisoned)

    # a readable version replaces the one set aside
    fixed = next(iter(poisoned))
    plant(school, fixed, sid, {"status": "final", "author_id": school.staff["a"]["id"]}, good_facts,
          seal({"narrative": "已更正"}))
    ws = school.laptops["officer"]
    assert ws.sync.run().ok
    assert fixed not in {rid for _k, rid, _w in ws.sync.quarantined()}
    with ws.profile.session() as s:
        row = s.get(MODEL_BY_KIND["visit"], fixed)
        assert row.author_id == school.staff["a"]["id"] and row.sealed["narrative"] == "已更正"
