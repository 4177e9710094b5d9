"""The key directory (issue 14) through the server's API, on SQLite and PostgreSQL: laptops'
key services (real profiles) publish, certify, wrap and fetch through ``/v1/keys``; a server
that swaps a device's key is caught and nothing is wrapped to it; a device nobody wrapped to
opens nothing even with every row of the server's database; a revoked device gets no new
epoch; the migration adds the tables to a database at 0004 and keeps its data."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, inspect, select, text, update

import dataclasses

from sync_server.db import KEYS_COUNTER, current_revision, head_revision, migrate
from sync_server.models import Counter
from sync_server.sync.enroll import note_seen, principal_in, token_hash_of
from sync_server.key_models import ContentKeyWrapRow, DeviceKeyRow
from sync_server.keys import seal_for_officers
from tests.server.conftest import Device
from tests.server.test_migrations import _upgrade_to, empty_db  # noqa: F401 - the fixture

from visitapp.crypto import FAST_TEST_KDF
from visitapp.crypto.errors import NotAReader, UntrustedKey
from visitapp.crypto.opening import ContentKey, DeviceKeyPair
from visitapp.crypto.sealing import b64d, b64e, officer_key_fingerprint
from visitapp.services.keys import NOT_YET_READABLE, KeyDirectoryClient, KeyService, KeyServiceError
from visitapp.storage.profile import Profile
from visitapp.protocol.records import TIER_C_FIELD, encode_sealed, encode_tier_c
from visitapp.protocol.sync import decode_enrollment_code

# the laptop's own checks: the database behind the server is not the point, SQLite is enough
LAPTOP_CHECKS_ON_SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
STORY = "母亲患尿毒症每周透析三次，父亲在县城打零工。".encode()


@dataclass
class Laptop:
    device: Device
    keys: KeyService
    profile: Profile
    fingerprint: str


@pytest.fixture
def school(server, tmp_path):
    laptops: list[Laptop] = []

    def enroll(staff, role: str, code: str | None = None) -> Laptop:
        code = code or server.core.make_enroll_code(staff.id)[1]
        # what the laptop sends: the one-time secret only (the officer key and binding stay with it)
        r = server.client.post("/v1/enroll", json={"code": decode_enrollment_code(code)[2], "device_label": "laptop"})
        assert r.status_code == 200, r.text
        body = r.json()
        device = Device(body["device_id"], body["token"], body["staff_id"], body["role"])
        profile, _ = Profile.create(tmp_path / f"p{len(laptops)}", "a passphrase", FAST_TEST_KDF)
        service = KeyService(profile, KeyDirectoryClient(server.client, "http://testserver", device.token))
        fingerprint = service.publish_device_keys(device_id=device.id, staff_id=device.staff_id, role=role,
                                                  school_id=body["school_id"], code=code)
        laptop = Laptop(device, service, profile, fingerprint)
        laptops.append(laptop)
        return laptop

    def officer() -> Laptop:
        laptop = enroll(server.officer, "officer")
        laptop.keys.create_officer_key()
        laptop.keys.certify(laptop.device.id, laptop.fingerprint)  # its own screen
        return laptop

    def teacher(name: str, officer_laptop: Laptop | None = None) -> Laptop:
        staff = server.staff(name)
        code = server.core.make_enroll_code(staff.id)[1]
        if officer_laptop is not None:  # the code the officer's laptop hands out: officer key + binding
            code = officer_laptop.keys.officer_code(code)
        return enroll(staff, "teacher", code)

    yield server, officer, teacher
    for laptop in laptops:
        laptop.profile.close()


def _assign(officer_laptop: Laptop, student: str, staff_id: str, role: str = "visitor") -> None:
    from visitapp.storage.models import AssignmentRow
    with officer_laptop.profile.session() as s, s.begin():
        s.add(AssignmentRow(id=f"{student}-{staff_id}-{role}", student_id=student, staff_id=staff_id, role=role,
                            term="2026-2027-1", active=True))


def test_a_teacher_reads_a_student_key_the_officer_shared(school):
    server, officer, teacher = school
    o = officer()
    t = teacher("王老师", o)
    assert t.keys.keys_certified_state() == "pinned"
    pending = {e["device_id"]: e for e in o.keys.pending_devices()}
    assert pending[t.device.id]["bound"] and pending[t.device.id]["fingerprint"] == t.fingerprint
    o.keys.certify(t.device.id)  # the binding from the officer's code stands for the fingerprint check
    student = server.student()
    assert o.keys.share_student_key(student, readers={t.device.staff_id}) == 2  # the teacher's and the officer's
    assert o.keys.share_student_key(student, readers={t.device.staff_id}) == 0  # nothing new to wrap
    # a crash after the post, before the laptop noted it: the retry wraps again, the first wrap stands
    from visitapp.storage.key_models import ContentKeyRow
    with o.profile.session() as s, s.begin():
        s.get(ContentKeyRow, f"{student}@1").wrapped_to = []
    o.keys = KeyService(o.profile, o.keys.server)  # the laptop starts again, with what its profile holds
    assert o.keys.share_student_key(student, readers={t.device.staff_id}) == 2
    with server.core.db.read() as s:
        assert s.execute(select(func.count()).select_from(ContentKeyWrapRow)).scalar() == 2
    assert t.keys.fetch_content_keys() == []
    envelope = o.keys.seal(student, STORY, "visit", "v1", "sealed")
    assert t.keys.open(student, envelope, "visit", "v1", "sealed") == STORY
    # and what the teacher seals, the officer opens
    back = t.keys.seal(student, STORY, "visit", "v2", "sealed")
    assert o.keys.open(student, back, "visit", "v2", "sealed") == STORY


def test_a_device_never_wrapped_to_opens_nothing_even_with_the_whole_server_database(school):
    server, officer, teacher = school
    o = officer()
    assigned, stranger = teacher("王老师", o), teacher("赵老师", o)
    for laptop in (assigned, stranger):
        o.keys.certify(laptop.device.id)
    student = server.student()
    before_the_key = assigned.keys.seal(student, STORY, "visit", "v0", "sealed")  # to itself and the officers
    o.keys.share_student_key(student, readers={assigned.device.staff_id})
    assigned.keys.fetch_content_keys()
    envelope = assigned.keys.seal(student, STORY, "visit", "v1", "sealed")
    # the server cooperates fully: every wrap it holds, whoever it was for
    with server.core.db.read() as s:
        rows = s.execute(select(ContentKeyWrapRow)).scalars().all()
    assert len(rows) == 2
    pair = stranger.keys.device_keys()
    for row in rows:
        for as_device in (row.device_id, stranger.device.id):
            with pytest.raises(NotAReader):
                pair.unwrap_content_key(b64d(row.wrap), row.student_id, row.epoch, as_device)
    assert stranger.keys.fetch_content_keys() == []  # nothing was addressed to it
    for value, record in ((envelope, "v1"), (before_the_key, "v0")):
        with pytest.raises(NotAReader) as refused:
            stranger.keys.open(student, value, "visit", record, "sealed")
        assert str(refused.value) == NOT_YET_READABLE  # the line the screen shows
        assert assigned.keys.open(student, value, "visit", record, "sealed") == STORY


def test_a_server_that_swaps_a_certified_device_key_gets_nothing_wrapped_to_it(school):
    server, officer, teacher = school
    o = officer()
    t = teacher("王老师", o)
    o.keys.certify(t.device.id)
    attacker = DeviceKeyPair.generate()
    with server.core.db.write() as tx:  # the administrator puts their own key in the directory
        tx.session.execute(update(DeviceKeyRow).where(DeviceKeyRow.device_id == t.device.id)
                           .values(hpke_public=b64e(attacker.public.hpke)))
    directory = o.keys.trusted_directory()
    assert t.device.id not in directory.devices
    assert "被替换" in directory.refused[t.device.id]
    student = server.student()
    assert o.keys.share_student_key(student, readers={t.device.staff_id}) == 1  # the officer's own device only
    with server.core.db.read() as s:
        addressed = set(s.execute(select(ContentKeyWrapRow.device_id)).scalars())
    assert addressed == {o.device.id}


@LAPTOP_CHECKS_ON_SQLITE
def test_a_teacher_seals_nothing_to_an_officer_device_the_server_swapped(school):
    server, officer, teacher = school
    o = officer()
    t = teacher("王老师", o)
    with server.core.db.write() as tx:
        tx.session.execute(update(DeviceKeyRow).where(DeviceKeyRow.device_id == o.device.id)
                           .values(hpke_public=b64e(DeviceKeyPair.generate().public.hpke)))
    student = server.student()  # no content key yet: the teacher seals to its own device and the officers'
    envelope = t.keys.seal(student, STORY, "visit", "v1", "sealed")
    from visitapp.crypto.sealing import sealed_to
    assert sealed_to(envelope) == [t.device.id]  # the swapped officer key got nothing; no loss either
    assert t.keys.open(student, envelope, "visit", "v1", "sealed") == STORY


@LAPTOP_CHECKS_ON_SQLITE
def test_a_server_that_makes_a_bound_teacher_an_officer_breaks_the_binding(school):
    from sync_server.models import StaffRow
    server, officer, teacher = school
    o = officer()
    t = teacher("王老师", o)
    with server.core.db.write() as tx:  # the directory would now list the teacher's laptop as an officer's
        tx.session.execute(update(StaffRow).where(StaffRow.id == t.device.staff_id).values(role="officer"))
    pending = {e["device_id"]: e for e in o.keys.pending_devices()}
    assert pending[t.device.id]["role"] == "officer" and not pending[t.device.id]["bound"]
    with pytest.raises(KeyServiceError):
        o.keys.certify(t.device.id)


@LAPTOP_CHECKS_ON_SQLITE
def test_a_key_swapped_before_certification_fails_the_fingerprint_check(school):
    server, officer, teacher = school
    o = officer()
    t = teacher("王老师")  # an old-style code from the server's command line: no officer key, no binding
    assert t.keys.keys_certified_state() == "not_yet_certified"
    with server.core.db.write() as tx:
        tx.session.execute(update(DeviceKeyRow).where(DeviceKeyRow.device_id == t.device.id)
                           .values(hpke_public=b64e(DeviceKeyPair.generate().public.hpke)))
    pending = {e["device_id"]: e for e in o.keys.pending_devices()}
    assert not pending[t.device.id]["bound"]
    with pytest.raises(KeyServiceError):  # no binding: the officer must compare fingerprints
        o.keys.certify(t.device.id)
    with pytest.raises(UntrustedKey):  # the teacher's screen shows its real key's fingerprint
        o.keys.certify(t.device.id, t.fingerprint)
    with server.core.db.read() as s:
        assert s.get(DeviceKeyRow, t.device.id).certificate is None


@LAPTOP_CHECKS_ON_SQLITE
def test_an_old_code_enrolls_and_pins_the_officer_key_once_its_fingerprint_is_confirmed(school):
    server, officer, teacher = school
    o = officer()
    t = teacher("王老师")
    with pytest.raises(UntrustedKey):  # nothing is sealed to anyone before a key is pinned
        t.keys.trusted_directory()
    with pytest.raises(UntrustedKey):
        t.keys.pin_from_directory(officer_key_fingerprint(b"\x07" * 32))
    t.keys.pin_from_directory(officer_key_fingerprint(o.keys.officer_key().public))
    assert t.keys.keys_certified_state() == "pinned"
    o.keys.certify(t.device.id, t.fingerprint)
    assert t.device.id in t.keys.trusted_directory().devices


def test_a_revoked_device_gets_no_new_epoch(school):
    server, officer, teacher = school
    o = officer()
    t = teacher("王老师", o)
    old_laptop = teacher("李老师", o)
    for laptop in (t, old_laptop):
        o.keys.certify(laptop.device.id)
    student = server.student()
    for laptop in (t, old_laptop):  # both visit the student: the officer's laptop holds the assignments
        _assign(o, student, laptop.device.staff_id)
    assert o.keys.readers_of(student) == {t.device.staff_id, old_laptop.device.staff_id}
    o.keys.share_student_key(student)
    old_laptop.keys.fetch_content_keys()
    server.core.revoke_device(old_laptop.device.id)
    assert o.keys.rotate_after_revocation(old_laptop.device.id) == [student]
    assert o.keys.content_key(student).epoch == 2
    t.keys.fetch_content_keys()
    after = o.keys.seal(student, STORY, "visit", "v9", "sealed")
    assert t.keys.open(student, after, "visit", "v9", "sealed") == STORY
    with server.core.db.read() as s:
        epoch2 = set(s.execute(select(ContentKeyWrapRow.device_id).where(ContentKeyWrapRow.epoch == 2)).scalars())
    assert epoch2 == {o.device.id, t.device.id}
    # the server refuses a wrap to the revoked device even from the officer
    key = o.keys.content_key(student)
    wrap, signature = o.keys.officer_key().wrap(key, old_laptop.device.id, old_laptop.keys.device_keys().public)
    r = server.client.post("/v1/keys/wraps", headers=o.device.auth, json={"wraps": [{
        "student_id": student, "epoch": 2, "device_id": old_laptop.device.id, "wrap": b64e(wrap),
        "signature": b64e(signature)}]})
    assert r.status_code == 409 and r.json()["error"] == "device_revoked"
    with pytest.raises(NotAReader):
        old_laptop.keys.open(student, after, "visit", "v9", "sealed")


def test_scope_and_refusals_of_the_directory(school):
    server, officer, teacher = school
    o = officer()
    t, other = teacher("王老师", o), teacher("赵老师", o)
    o.keys.certify(t.device.id)
    o.keys.certify(other.device.id)
    student = server.student()
    o.keys.share_student_key(student, readers={other.device.staff_id})
    # a teacher sees the officers' devices and its own, and only the wraps addressed to it
    listed = {e["device_id"] for e in server.client.get("/v1/keys/directory", headers=t.device.auth).json()["devices"]}
    assert listed == {o.device.id, t.device.id}
    assert server.client.get("/v1/keys/wraps", headers=t.device.auth).json()["wraps"] == []
    assert {w["device_id"] for w in server.client.get("/v1/keys/wraps", headers=other.device.auth).json()["wraps"]} \
        == {other.device.id}
    # officer-only calls
    cert = b64e(b"\x00" * 64)
    for method, path, body in [("POST", f"/v1/keys/devices/{t.device.id}/certificate", {"certificate": cert}),
                               ("PUT", "/v1/keys/officer", {"officer_key": b64e(b"\x01" * 32)}),
                               ("POST", "/v1/keys/wraps", {"wraps": [{"student_id": student, "epoch": 1,
                                                                    "device_id": t.device.id, "wrap": "AA",
                                                                    "signature": cert}]})]:
        r = server.client.request(method, path, headers=t.device.auth, json=body)
        assert r.status_code == 403 and r.json()["error"] == "officer_only", (path, r.text)
    # a certificate the officer key did not sign, another officer key, other keys for a device
    r = server.client.post(f"/v1/keys/devices/{t.device.id}/certificate", headers=o.device.auth,
                           json={"certificate": cert})
    assert r.status_code == 422 and r.json()["error"] == "bad_certificate"
    r = server.client.put("/v1/keys/officer", headers=o.device.auth, json={"officer_key": b64e(
        DeviceKeyPair.generate().public.signing)})
    assert r.status_code == 409 and r.json()["error"] == "officer_key_set"
    r = server.client.put("/v1/keys/device", headers=t.device.auth,
                          json={"keys": DeviceKeyPair.generate().public.to_wire()})
    assert r.status_code == 409 and r.json()["error"] == "keys_already_published"
    r = server.client.put("/v1/keys/device", headers=t.device.auth, json={"keys": t.keys.device_keys().public.to_wire()})
    assert r.status_code == 200  # the same keys again: a retried call
    assert server.client.get("/v1/keys/directory").status_code == 401


def test_only_an_officer_reads_another_officer_devices_wraps_and_it_is_audited(school):
    """The new laptop of an officer whose laptop was lost reads that laptop's wraps (with its
    key from the recovery sheet they open): officers only, officer devices only, audited."""
    server, officer, teacher = school
    o = officer()
    t = teacher("王老师", o)
    o.keys.certify(t.device.id)
    student = server.student()
    o.keys.share_student_key(student, readers={t.device.staff_id})
    second = school[0].core.make_enroll_code(server.officer.id)[1]
    r = server.client.post("/v1/enroll", json={"code": decode_enrollment_code(second)[2], "device_label": "new"})
    new_auth = {"Authorization": f"Bearer {r.json()['token']}"}
    page = server.client.get("/v1/keys/wraps", params={"device": o.device.id}, headers=new_auth).json()
    assert [(w["device_id"], w["student_id"]) for w in page["wraps"]] == [(o.device.id, student)]
    r = server.client.get("/v1/keys/wraps", params={"device": o.device.id}, headers=t.device.auth)
    assert r.status_code == 403 and r.json()["error"] == "officer_only"
    r = server.client.get("/v1/keys/wraps", params={"device": t.device.id}, headers=new_auth)
    assert r.status_code == 404  # a teacher's device is no lost officer laptop
    with server.core.db.read() as s:
        from sync_server.models import AuditRow
        assert s.execute(select(func.count()).select_from(AuditRow).where(
            AuditRow.action == "officer_wraps_recover", AuditRow.record_id == o.device.id)).scalar() == 1


@LAPTOP_CHECKS_ON_SQLITE
def test_the_server_seals_a_platform_field_to_the_officers_only(school):
    server, officer, teacher = school
    assert seal_for_officers(server.core, b"x", "student", "s", "sealed") is None  # no officer device yet
    o = officer()
    t = teacher("王老师", o)
    o.keys.certify(t.device.id)
    student = server.student()
    address = "梁溪区清扬路8号 13812345678".encode()
    envelope = seal_for_officers(server.core, address, "student", student, "sealed")
    assert address not in envelope
    assert o.keys.open(student, envelope, "student", student, "sealed") == address
    with pytest.raises(NotAReader):
        t.keys.open(student, envelope, "student", student, "sealed")


def test_the_server_holds_no_private_key_and_no_content_key(school):
    server, officer, teacher = school
    o = officer()
    t = teacher("王老师", o)
    o.keys.certify(t.device.id)
    student = server.student()
    o.keys.share_student_key(student, readers={t.device.staff_id})
    t.keys.fetch_content_keys()
    secrets = [b64e(o.keys.officer_key().to_secret()), b64e(o.keys.content_key(student).key)]
    for laptop in (o, t):
        secrets += [b64e(raw) for raw in laptop.keys.device_keys().to_secret().values()]
    with server.core.db.engine.connect() as conn:
        dump = "\n".join(repr(tuple(row)) for table in ("device_keys", "content_key_wraps", "settings", "audit")
                         for row in conn.execute(text(f"SELECT * FROM {table}")))
    assert b64e(o.keys.officer_key().public) in dump  # the dump is the real thing
    assert not [s for s in secrets if s in dump]


def test_a_server_backup_restores_the_directory_and_wraps(school, tmp_path):
    from sync_server.backup import backup, restore
    server, officer, teacher = school
    o = officer()
    t = teacher("王老师", o)
    o.keys.certify(t.device.id)
    student = server.student()
    o.keys.share_student_key(student, readers={t.device.staff_id})
    saved = tmp_path / "server-backup.json.gz"
    backup(server.core, saved)
    restore(server.core.db, server.core.vault.cipher, saved, server.core.schema_version, force=True)
    assert set(t.keys.trusted_directory().devices) == {o.device.id, t.device.id}
    assert t.keys.fetch_content_keys() == []
    assert t.keys.content_key(student) == o.keys.content_key(student)
    other = server.student()  # new wraps after the restore continue the cursor's order
    o.keys.share_student_key(other, readers={t.device.staff_id})
    t.keys.fetch_content_keys()
    assert t.keys.content_key(other) is not None


def test_the_migration_adds_the_directory_to_a_database_at_0004(empty_db):  # noqa: F811
    _upgrade_to(empty_db, "0004")
    assert not {"device_keys", "content_key_wraps"} & set(inspect(empty_db).get_table_names())
    with empty_db.begin() as conn:
        conn.execute(text("INSERT INTO settings (name, value) VALUES ('school_id', 'school-1')"))
    migrate(empty_db)
    assert current_revision(empty_db) == head_revision()
    assert {"device_keys", "content_key_wraps"} <= set(inspect(empty_db).get_table_names())
    with empty_db.begin() as conn:
        assert conn.execute(text("SELECT value FROM settings WHERE name='school_id'")).scalar() == "school-1"
        conn.execute(text("INSERT INTO content_key_wraps (student_id, epoch, device_id, wrap, signature, created_at, "
                          "created_by) VALUES ('s', 1, 'd', 'w', 'sig', CURRENT_TIMESTAMP, 'o')"))
        with pytest.raises(Exception):  # one wrap per (student, epoch, device)
            with conn.begin_nested():
                conn.execute(text("INSERT INTO content_key_wraps (student_id, epoch, device_id, wrap, signature, "
                                  "created_at, created_by) VALUES ('s', 1, 'd', 'w2', 'sig', CURRENT_TIMESTAMP, 'o')"))


@pytest.mark.slow
def test_the_directory_over_pinned_tls_from_a_real_server_process(tmp_path):
    """The same journey against ``visitapp-server serve`` over HTTPS, through the engine's
    pinned session: the router is live in the real process and the client speaks it."""
    from tests.e2e.server_process import ServerProcess
    from visitapp.services.transport import make_http_session

    server = ServerProcess(tmp_path / "srv")
    staff = server.init_demo(students=3, teachers=1)["staff"]
    server.start()
    profiles: list[Profile] = []
    try:
        officer_code = next(s["enroll_code"] for s in staff if s["role"] == "officer")
        url, fingerprint, _ = decode_enrollment_code(officer_code)
        http = make_http_session(url, fingerprint)

        def enroll(code: str, role: str) -> tuple[dict, KeyService, str]:
            body = http.post(f"{url}/v1/enroll", json={"code": decode_enrollment_code(code)[2]}).json()
            profile, _ = Profile.create(tmp_path / f"p{len(profiles)}", "a passphrase", FAST_TEST_KDF)
            profiles.append(profile)
            keys = KeyService(profile, KeyDirectoryClient(http, url, body["token"]))
            shown = keys.publish_device_keys(device_id=body["device_id"], staff_id=body["staff_id"], role=role,
                                             school_id=body["school_id"], code=code)
            return body, keys, shown

        officer_body, officer_keys, officer_shown = enroll(officer_code, "officer")
        officer_keys.create_officer_key()
        officer_keys.certify(officer_body["device_id"], officer_shown)
        teacher_code = officer_keys.officer_code(next(s["enroll_code"] for s in staff if s["role"] == "teacher"))
        teacher_body, teacher_keys, _ = enroll(teacher_code, "teacher")
        officer_keys.certify(teacher_body["device_id"])
        changes = http.get(f"{url}/v1/sync/pull", headers={"Authorization": f"Bearer {teacher_body['token']}"}
                           ).json()["changes"]
        student = next(c["record_id"] for c in changes if c["kind"] == "student")  # one the teacher visits
        assert officer_keys.share_student_key(student, readers={teacher_body["staff_id"]}) == 2
        assert teacher_keys.fetch_content_keys() == []
        sealed = teacher_keys.seal(student, STORY, "visit", "v1", "sealed")
        assert officer_keys.open(student, sealed, "visit", "v1", "sealed") == STORY
    finally:
        server.stop()
        for profile in profiles:
            profile.close()


class _Counting:
    """The test client, counting the directory listings asked for."""

    def __init__(self, http):
        self.http, self.listings = http, 0

    def request(self, method, url, **kw):
        if url.endswith("/v1/keys/directory"):
            self.listings += 1
        return self.http.request(method, url, **kw)


def _sync_keys(laptop: Laptop, http: _Counting, officer: bool) -> None:
    """The key part of one sync, as SyncService.run does it: a client of its own for the sync."""
    client = KeyDirectoryClient(http, "http://testserver", laptop.device.token, memo_directory=True)
    with laptop.keys.over(client):
        done = laptop.keys.after_sync(officer=officer)
    assert not [w for w in done.warnings if "密钥同步未完成" in w], done.warnings


def test_one_listing_per_sync_and_what_changed_is_fetched_at_the_next_sync(school):
    server, officer, teacher = school
    o = officer()
    student = server.student()
    http = _Counting(server.client)
    _sync_keys(o, http, officer=True)
    # pending devices and sharing asked the same sync's directory: one listing
    assert http.listings == 1
    # a teacher enrolls between two syncs: the next sync lists it afresh, certifies it (its code
    # came from this laptop) and, after the certificate (which drops the memo), wraps to it
    t = teacher("王老师", o)
    _assign(o, student, t.device.staff_id)
    _sync_keys(o, http, officer=True)
    with server.core.db.read() as s:
        wrapped_to = set(s.execute(select(ContentKeyWrapRow.device_id)
                                   .where(ContentKeyWrapRow.student_id == student)).scalars())
    assert t.device.id in wrapped_to
    # the teacher's sync takes the new wrap
    th = _Counting(server.client)
    _sync_keys(t, th, officer=False)
    assert t.keys.content_key(student) is not None
    # a sync with no new wrap leaves the cursor (and the cached keys) alone...
    cached = t.keys._all_keys()
    _sync_keys(t, th, officer=False)
    assert t.keys._all_keys() is cached
    # ...and a wrap posted after it (a new epoch) is still fetched at the next sync
    o.keys._store_key(ContentKey.generate(student, 2))
    _sync_keys(o, http, officer=True)
    _sync_keys(t, th, officer=False)
    assert t.keys.content_key(student).epoch == 2


def _keys_marker(server) -> int | None:
    with server.core.db.read() as s:
        return s.execute(select(Counter.value).where(Counter.name == KEYS_COUNTER)).scalar()


def test_the_keys_marker_moves_with_each_key_change_and_nothing_else(school):
    """Issue 16: what a laptop's key work reads, besides its pulled records, moves the marker
    the pull answers; reads, a last-seen note and a record sealed under a student's key do not."""
    server, officer, teacher = school
    o = officer()
    student = server.student()
    marks = [_keys_marker(server)]

    def moved() -> None:
        now = _keys_marker(server)
        assert now is not None and now > marks[-1], (marks, now)
        marks.append(now)

    def still() -> None:
        assert _keys_marker(server) == marks[-1]

    auth = {"Authorization": f"Bearer {o.device.token}"}
    page = server.client.get("/v1/sync/pull", params={"cursor": 0}, headers=auth).json()
    assert page["keys_marker"] == marks[-1]  # answered with the pull, from its snapshot
    server.client.get("/v1/keys/directory", headers=auth)
    server.client.get("/v1/keys/wraps", headers=auth)
    with server.core.db.read() as s:
        who = principal_in(server.core, s, token_hash_of(auth["Authorization"]))
    note_seen(server.core, dataclasses.replace(who, seen_at=None))  # the last-seen note is written
    still()
    t = teacher("王老师", o)  # enrolled and its keys published
    moved()
    o.keys.certify(t.device.id)
    moved()
    _assign(o, student, t.device.staff_id)
    assert o.keys.share_student_key(student) == 2  # the teacher's device and the officer's
    moved()
    assert o.keys.share_student_key(student) == 0  # nothing new to wrap: nothing posted
    still()
    server.core.assign("visitor", t.device.staff_id, student)
    moved()
    # a record whose tier C is under the student's key is no re-seal work; a readable one is
    key = o.keys.content_key(student)
    sealed = encode_sealed(key.seal(b'{"narrative": "x"}', "visit", "v-sealed", TIER_C_FIELD))
    for record_id, tier_c in (("v-sealed", sealed), ("v-readable", encode_tier_c({"narrative": "x"}))):
        with server.core.db.write() as tx:
            server.core.put_record(tx, record_id=record_id, kind="visit", student_id=student, visibility="draft",
                                   author_staff=t.device.staff_id, author_device=t.device.id,
                                   routing={"id": record_id, "student_id": student}, facts={}, sealed=tier_c)
        still() if record_id == "v-sealed" else moved()
    server.core.revoke_device(t.device.id)
    moved()
    assert server.client.get("/v1/sync/pull", params={"cursor": 0}, headers=auth).json()["keys_marker"] == marks[-1]
