"""A school server in this process (uvicorn in a thread) for tests that need many fresh
servers quickly, such as the property test. HTTPS with the certificate ``init`` made, pinned
by the laptops through the fingerprint in their enrollment codes (as at a school); real client
engine."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import uvicorn
from starlette.responses import JSONResponse

from sync_server.app import create_app
from sync_server.cli import main as server_cli
from sync_server.config import ServerPaths
from sync_server.core import ServerCore, new_id
from sync_server.roster import student_parts
from tests.e2e.server_process import free_port
from visitapp.domain import Stage, Student


class InProcessServer:
    def __init__(self, root: Path, school: str = "测试学校", without: tuple[str, ...] = (), db: str | None = None):
        """``without``: path prefixes whose routes this server lacks (an older server version,
        e.g. one from before the key directory: ``("/v1/keys",)``). ``db``: a database URL
        (default: SQLite in the data directory). ``requests`` lists every (method, path) served."""
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        data = root / "server"
        assert server_cli(["--data-dir", str(data), *(["--db", db] if db else []), "init", "--school", school,
                           "--officer", "赵专干", "--url", self.url]) in (0, None)
        paths = ServerPaths(data)
        self.fingerprint = paths.fingerprint()
        self.core = ServerCore.open(paths, db)
        self.requests: list[tuple[str, str]] = []
        app = _logging_requests(create_app(self.core), self.requests)
        if without:
            app = _without_routes(app, without)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="off", ssl_certfile=str(paths.cert_file),
                                ssl_keyfile=str(paths.cert_key_file))
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise AssertionError("in-process server did not start")
            time.sleep(0.02)

    @property
    def officer(self):  # noqa: ANN201
        return [s for s in self.core.list_staff() if s.role == "officer"][0]

    def student(self, name: str, class_name: str = "七(1)班") -> str:
        sid = new_id()
        st = Student(id=sid, school_id=self.core.school()[0], class_name=class_name, stage=Stage.JUNIOR,
                     name=name, student_no=sid[-6:], masked_id="3202**********1234")
        routing, facts, sealed = student_parts(st)
        with self.core.db.write() as tx:
            self.core.put_record(tx, record_id=sid, kind="student", student_id=sid, visibility="student",
                                 author_staff=None, author_device=None, routing=routing, facts=facts, sealed=sealed)
        return sid

    def code(self, staff_id: str) -> str:
        return self.core.make_enroll_code(staff_id)[1]

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.core.close()

    @contextmanager
    def officer_and_teachers(self, root: Path, **staff) -> Iterator[tuple]:  # noqa: ANN003 - name=staff row
        """The officer's laptop (its keys certified at enrollment) and a laptop per teacher,
        each enrolled with a code the officer's laptop made (officer key and binding in it), as
        at a school; yields (officer workspace, {name: teacher workspace}), closes them all and
        stops the server on the way out. Nothing is synced yet."""
        from tests.conftest import PASSPHRASE
        from visitapp.crypto import FAST_TEST_KDF
        from visitapp.services import create_profile

        office, _ = create_profile(root / "officer", PASSPHRASE, kdf=FAST_TEST_KDF)
        laptops = {}
        try:
            assert office.sync.enroll(self.code(self.officer.id)).keys_certified
            for name, row in staff.items():
                ws, _ = create_profile(root / name, PASSPHRASE, kdf=FAST_TEST_KDF)
                ws.sync.enroll(office.keys.officer_code(self.code(row.id)))
                laptops[name] = ws
            yield office, laptops
        finally:
            office.close()
            for ws in laptops.values():
                ws.close()
            self.stop()


def _without_routes(app, prefixes: tuple[str, ...]):  # noqa: ANN001, ANN202 - ASGI
    """``app`` answering 404, as a server version without those routes does, under ``prefixes``."""
    async def older(scope, receive, send):  # noqa: ANN001, ANN202
        if scope["type"] == "http" and scope["path"].startswith(prefixes):
            await JSONResponse({"detail": "Not Found"}, status_code=404)(scope, receive, send)
            return
        await app(scope, receive, send)
    return older


def _logging_requests(app, log: list[tuple[str, str]]):  # noqa: ANN001, ANN202 - ASGI
    """``app``, noting each request's (method, path) in ``log``."""
    async def logged(scope, receive, send):  # noqa: ANN001, ANN202
        if scope["type"] == "http":
            log.append((scope["method"], scope["path"]))
        await app(scope, receive, send)
    return logged
