"""``visitapp retention list | archive | erase`` as the officer runs them (issue 15). The erase
through the school server is tests/e2e/test_retention.py; here the commands' own behaviour."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from tests.conftest import PASSPHRASE
from tests.test_cli import _capture, run  # noqa: F401 - the fixture run() needs


def _officer_profile(tmp_path) -> tuple[list[str], str, str]:
    passfile = tmp_path / "pass.txt"
    passfile.write_text(PASSPHRASE + "\n", encoding="utf-8")
    base = ["--profile", str(tmp_path / "profile"), "--passphrase-file", str(passfile)]
    run(*base, "init", "--name", "赵专干", "--role", "officer", "--insecure-fast-kdf", "--json")
    run(*base, "demo-data", "--students", "12")
    from visitapp.services import open_profile
    from visitapp.storage.models import StudentRow
    from visitapp.storage.records import entity_from_row
    from sqlalchemy import select
    with open_profile(tmp_path / "profile", PASSPHRASE) as ws, ws.profile.session() as s, s.begin():
        gone, recent = [entity_from_row("student", r) for r in s.scalars(select(StudentRow).limit(2))]
        ws.ctx.write(s, dataclasses.replace(gone, on_roster=False, left_on=dt.date(2021, 9, 1)), "student.roster")
        ws.ctx.write(s, dataclasses.replace(recent, on_roster=False, left_on=dt.date.today()), "student.roster")
    return base, gone.student_no, recent.student_no


def test_list_archive_and_an_erase_that_needs_the_server(tmp_path):
    base, gone, recent = _officer_profile(tmp_path)
    listed = json.loads(run(*base, "retention", "list", "--json").stdout)
    assert listed["school_years"] == 3
    assert [(s["student_no"], s["due"], s["archived_sha256"]) for s in listed["students"]] == [
        (gone, True, ""), (recent, False, "")]
    out = tmp_path / "archive.pdf"
    refused = run(*base, "retention", "archive", recent, "-o", str(out), check=False)
    assert refused.returncode == 1 and "尚未届满" in refused.stderr and not out.exists()
    made = run(*base, "retention", "archive", gone, "-o", str(out), "--json")
    digest = json.loads(made.stdout)["sha256"]
    assert out.read_bytes().startswith(b"%PDF-") and len(digest) == 64
    assert json.loads(run(*base, "retention", "list", "--json").stdout)["students"][0]["archived_sha256"] == digest
    text = run(*base, "retention", "list").stdout
    assert "已归档，可删除" in text and "保存中" in text
    # not enrolled: the erase must go through the school server, and says so in one line
    erase = run(*base, "retention", "erase", gone, check=False)
    assert erase.returncode == 1 and "学校服务器" in erase.stderr and len(erase.stderr.strip().splitlines()) == 1
    assert run(*base, "retention", "erase", "没有这个人", check=False).returncode == 1
