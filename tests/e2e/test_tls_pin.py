"""The certificate pin, on the path a school uses: ``visitapp-server init`` + ``serve`` (HTTPS
with the self-signed certificate ``init`` made), a laptop enrolled with a real enrollment code
that carries the certificate's fingerprint, then sync. Another server at the same address (a
reinstalled or a rogue machine, with a certificate of its own) is refused with the clear
message, before the enrollment secret, the device token or a record has left the laptop."""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import threading

import pytest

from sync_server.config import ServerPaths
from tests.conftest import PASSPHRASE
from tests.e2e.server_process import ServerProcess, free_port
from visitapp.crypto import FAST_TEST_KDF
from visitapp.domain import VisitMode
from visitapp.services import create_profile
from visitapp.services.transport import PIN_MISMATCH, CertificateMismatch
from visitapp.protocol.sync import decode_enrollment_code

pytestmark = pytest.mark.slow


class RecordingTLSServer:
    """Listens at the school server's address with another certificate, completes TLS
    handshakes and records every byte a client sends after them."""

    def __init__(self, port: int, cert_file, key_file):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(str(cert_file), str(key_file))
        self.sock = socket.create_server(("127.0.0.1", port))
        self.handshakes = 0
        self.received = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self.sock.accept()
            except OSError:
                return
            raw.settimeout(10)
            try:
                with self.context.wrap_socket(raw, server_side=True) as conn:
                    self.handshakes += 1
                    while data := conn.recv(65536):
                        self.received += data
            except (OSError, ssl.SSLError):
                pass  # the client hangs up once it has seen the certificate

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept(), so the port is free at once
        except OSError:
            pass
        self.sock.close()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()


@pytest.fixture
def same_address(tmp_path):
    """The school's server and an impostor, each set up by its own ``init``, on one port."""
    port = free_port()
    school = ServerProcess(tmp_path / "school", port=port)
    demo = school.init_demo(students=6, teachers=1)
    impostor = ServerProcess(tmp_path / "impostor", port=port)
    impostor.init_demo(students=2, teachers=1)
    assert school.url == impostor.url and school.fingerprint != impostor.fingerprint
    yield school, impostor, demo
    school.stop()
    impostor.stop()


def test_the_pinned_server_is_accepted_and_another_certificate_refused(same_address, tmp_path):
    school, impostor, demo = same_address
    teacher = next(s for s in demo["staff"] if s["role"] == "teacher")
    officer = next(s for s in demo["staff"] if s["role"] == "officer")
    url, fingerprint, secret = decode_enrollment_code(teacher["enroll_code"])
    assert url == school.url.replace("http://", "https://") and url.startswith("https://")
    assert fingerprint == school.fingerprint

    ws, _ = create_profile(tmp_path / "laptop", PASSPHRASE, kdf=FAST_TEST_KDF)
    ws.sync.backoff = 0.05
    other = ServerPaths(impostor.data_dir)
    cert, key = other.cert_file, other.cert_key_file

    # 1. enrolling while another machine answers at the address: refused, the secret kept
    rogue = RecordingTLSServer(school.port, cert, key)
    try:
        with pytest.raises(CertificateMismatch) as refused:
            ws.sync.enroll(teacher["enroll_code"])
    finally:
        rogue.close()
    assert str(refused.value) == PIN_MISMATCH and "服务器证书与注册时记录的不一致" in str(refused.value)
    assert rogue.handshakes == 1  # reached it once, and did not retry what cannot succeed
    assert rogue.received == b""  # not one byte of the request, so not the secret
    assert not ws.sync.enrolled

    # 2. the school's own server: enrollment and sync go through over the pinned HTTPS
    school.start()
    enrolled = ws.sync.enroll(teacher["enroll_code"], device_label="教室笔记本")
    assert enrolled.staff_id == teacher["id"] and ws.identity.server_url == url
    report = ws.sync.run()
    assert report.ok and report.pulled > 0
    student = ws.students.list_mine()[0].id
    draft = ws.visits.create_draft(student)
    ws.visits.save_draft(draft.id, visit_date=dt.date.today(), mode=VisitMode.ON_SITE,
                         visitors=(ws.identity.staff_name,), guardian_consent=True,
                         narrative="母亲在外打工，祖父母照顾。")
    ws.visits.finalize(draft.id)
    pending = ws.pending_count()
    assert pending > 0
    school.stop()

    # 3. an enrolled laptop meets the other certificate: sync refused, no token, no record sent
    rogue = RecordingTLSServer(school.port, cert, key)
    try:
        with pytest.raises(CertificateMismatch, match="服务器证书与注册时记录的不一致"):
            ws.sync.run()
        with pytest.raises(CertificateMismatch):
            ws.sync.meta()
    finally:
        rogue.close()
    assert rogue.handshakes == 2 and rogue.received == b""
    assert ws.pending_count() == pending  # the visit waits for the right server

    # 4. the same with a real server made by another ``init``: its log shows no request at all
    impostor.start()
    with pytest.raises(CertificateMismatch):
        ws.sync.run()
    impostor.stop()
    lines = [json.loads(x) for x in impostor.log.read_text().splitlines() if x.startswith("{")]
    assert not [x for x in lines if x.get("path")], lines

    # 5. back at school, the visit goes up
    school.start()
    report = ws.sync.run()
    assert report.ok and report.pushed >= 1 and ws.pending_count() == 0
    ws.close()

    # the officer's platform calls use the same pinned session
    off, _ = create_profile(tmp_path / "office", PASSPHRASE, kdf=FAST_TEST_KDF)
    off.sync.enroll(officer["enroll_code"])
    assert off.officer.platform_status().configured in (True, False)  # answered over the pin
    school.stop()
    impostor.start()
    try:
        with pytest.raises(CertificateMismatch):
            off.officer.platform_status()
    finally:
        impostor.stop()
        off.close()


def test_the_code_fingerprint_is_what_is_pinned(same_address, tmp_path):
    """A code whose fingerprint is not the server's is refused even by the school's server: the
    pin, not the address, is what the laptop trusts."""
    school, impostor, demo = same_address
    teacher = next(s for s in demo["staff"] if s["role"] == "teacher")
    from visitapp.protocol.sync import encode_enrollment_code
    url, _fp, secret = decode_enrollment_code(teacher["enroll_code"])
    forged = encode_enrollment_code(url, impostor.fingerprint, secret)
    school.start()
    ws, _ = create_profile(tmp_path / "laptop", PASSPHRASE, kdf=FAST_TEST_KDF)
    try:
        with pytest.raises(CertificateMismatch):
            ws.sync.enroll(forged)
        lines = [json.loads(x) for x in school.log.read_text().splitlines() if x.startswith("{")]
        assert not [x for x in lines if x.get("path") == "/v1/enroll"]
        ws.sync.enroll(teacher["enroll_code"])  # the code was not spent by the refused attempt
        assert ws.sync.run().ok
    finally:
        ws.close()


def test_the_session_pins_even_when_the_environment_names_a_ca_bundle(same_address, tmp_path, monkeypatch):
    """``REQUESTS_CA_BUNDLE`` (set on many managed laptops) must not turn chain verification
    back on: the pin replaces it."""
    school, _impostor, demo = same_address
    teacher = next(s for s in demo["staff"] if s["role"] == "teacher")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "no-such-bundle.pem"))
    school.start()
    ws, _ = create_profile(tmp_path / "laptop", PASSPHRASE, kdf=FAST_TEST_KDF)
    try:
        ws.sync.enroll(teacher["enroll_code"])
        assert ws.sync.run().ok
    finally:
        ws.close()
