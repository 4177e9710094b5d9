"""The installed copy works: a wheel built from this checkout, installed into a fresh venv
outside the source tree, used from another directory as a school would.

The wheel is built once per test run (shared by the xdist workers through a lock) from a
copy of the checkout, so nothing is written into the source tree. Every command runs with
``cwd`` in an empty folder and without ``PYTHONPATH``; the first test proves the code and
its package data come from the venv, not from here. The wheel is installed alone; its
declared dependencies come from a venv cached between runs (``_dependencies``), which holds
what ``pip install <wheel>`` resolved for them.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from filelock import FileLock

from tests.conftest import REPO
from tests.server.docs_check import check_docs_offline

# building the wheel and (the first time, see _dependencies) installing its dependencies takes minutes on a
# busy machine
pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]

PASSPHRASE = "wheel smoke passphrase"
SKIP_COPY = {".git", ".venv", "build", "dist", "__pycache__", ".pytest_cache", ".hypothesis",
             ".import_linter_cache", "screenshots"}


def _copy_ignore(_folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n in SKIP_COPY or n.endswith(".egg-info")}


def _requirements(wheel: Path) -> list[str]:
    """The wheel's own dependencies (``Requires-Dist`` without an extra), from its METADATA."""
    import zipfile
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        lines = zf.read(name).decode().splitlines()
    return sorted(line.split(":", 1)[1].strip() for line in lines
                  if line.startswith("Requires-Dist:") and "extra ==" not in line)


def _site_packages(venv: Path) -> Path:
    return venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"


def _dependencies(wheel: Path) -> Path:
    """The site-packages of a venv holding exactly what ``pip install <wheel>`` resolves for the
    wheel's declared dependencies (then the wheel uninstalled), kept between runs under a key of
    those requirements and this interpreter: installing PySide6 and the rest is most of this
    module's minute, and it is the same every run until the requirements change. A dependency
    missing from pyproject.toml is missing here too, as it was in a fresh full install.
    ``VISITAPP_TEST_CACHE`` moves it (default ``~/.cache/visitapp-tests``)."""
    import hashlib
    requirements = _requirements(wheel)
    key = hashlib.sha256(json.dumps([sys.version, os.path.realpath(sys.executable), requirements]).encode())
    root = Path(os.environ.get("VISITAPP_TEST_CACHE") or Path.home() / ".cache" / "visitapp-tests")
    cache = root / f"wheel-deps-{key.hexdigest()[:16]}"
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache) + ".lock"):
        if not (cache / "complete.json").exists():
            shutil.rmtree(cache, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(cache)], check=True, timeout=300)
            pip = str(cache / "bin" / "pip")
            subprocess.run([pip, "install", "-q", str(wheel)], check=True, cwd=root, timeout=1800)
            subprocess.run([pip, "uninstall", "-q", "-y", "visitapp"], check=True, cwd=root, timeout=300)
            (cache / "complete.json").write_text(json.dumps({"requirements": requirements}))
    return _site_packages(cache)


def _build_and_install(base: Path) -> Path:
    """Build the wheel, make a fresh venv, install the wheel alone into it (``--no-deps``) and
    let it find its dependencies in the cached venv through a ``.pth`` line (a path only: that
    folder's own ``.pth`` files are not run, so nothing there points back at this checkout)."""
    src, dist, venv = base / "src", base / "dist", base / "venv"
    shutil.copytree(REPO, src, ignore=_copy_ignore)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)],
                   check=True, cwd=base, timeout=900)
    wheel = next(dist.glob("visitapp-*.whl"))
    deps = _dependencies(wheel)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    (_site_packages(venv) / "visitapp_test_dependencies.pth").write_text(f"{deps}\n", encoding="utf-8")
    # this pip installs into the fresh venv's interpreter (its own pip would cost an ensurepip)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
                    "--no-deps", str(wheel)], check=True, cwd=base, timeout=1800)
    shutil.rmtree(src)  # nothing of the checkout is left to be found by accident
    return venv


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> Path:
    """The venv with the wheel installed: built by the first worker, reused by the others."""
    base = tmp_path_factory.getbasetemp()
    # under xdist every worker has its own basetemp inside the run's: share the run's
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "wheel-smoke"
    shared.mkdir(exist_ok=True)
    with FileLock(str(shared / "lock")):
        done = shared / "venv.json"
        if done.exists():
            return Path(json.loads(done.read_text())["venv"])
        venv = _build_and_install(shared)
        done.write_text(json.dumps({"venv": str(venv)}))
        return venv


class Installed:
    """Runs the installed commands from an empty folder outside the source tree."""

    def __init__(self, venv: Path, work: Path):
        self.venv, self.work = venv, work
        work.mkdir(parents=True, exist_ok=True)
        (work / "home").mkdir(exist_ok=True)
        self.env = {k: v for k, v in os.environ.items()
                    if k not in {"PYTHONPATH", "VIRTUAL_ENV", "VISITAPP_PROFILE", "VISITAPP_SERVER_DIR",
                                 "VISITAPP_SERVER_DB", "PYTHONHOME"}}
        self.env.update(HOME=str(work / "home"), QT_QPA_PLATFORM="offscreen",
                        PATH=str(venv / "bin") + os.pathsep + os.environ.get("PATH", ""))
        self.passphrase_file = work / "passphrase.txt"
        self.passphrase_file.write_text(PASSPHRASE + "\n", encoding="utf-8")

    def run(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        cmd = [str(self.venv / "bin" / args[0]), *args[1:]]
        out = subprocess.run(cmd, cwd=self.work, env=self.env, capture_output=True, text=True, timeout=timeout)
        if check:
            assert out.returncode == 0, f"{' '.join(args)} → {out.returncode}\n{out.stdout}\n{out.stderr}"
        return out

    def visitapp(self, profile: Path, *args: str, **kw) -> subprocess.CompletedProcess:
        return self.run("visitapp", "--profile", str(profile), "--passphrase-file", str(self.passphrase_file),
                        *args, **kw)

    def server(self, data: Path, *args: str, **kw) -> subprocess.CompletedProcess:
        return self.run("visitapp-server", "--data-dir", str(data), *args, **kw)

    def popen(self, *args: str, log: Path) -> subprocess.Popen:
        return subprocess.Popen([str(self.venv / "bin" / args[0]), *args[1:]], cwd=self.work, env=self.env,
                                stdout=open(log, "wb"), stderr=subprocess.STDOUT)  # noqa: SIM115


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"exited early:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail("did not start listening")


def embedded_fonts(pdf: Path) -> dict[str, bool]:
    """Font name → whether its program is embedded, over every page of the PDF."""
    from pypdf import PdfReader

    found: dict[str, bool] = {}
    for page in PdfReader(str(pdf)).pages:
        fonts = page.get("/Resources", {}).get_object().get("/Font", {})
        for ref in fonts.get_object().values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants.get_object()[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor else {}
            found[str(font["/BaseFont"])] = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    return found


def test_installed_client_prints_a_chinese_sheet_from_outside_the_tree(installed, tmp_path):
    app = Installed(installed, tmp_path / "elsewhere")
    # the code and its package data are the venv's, not this checkout's
    where = json.loads(app.run("python", "-c", (
        "import json, visitapp; from visitapp.printing.fonts import font_path, licence_path;"
        "from visitapp.assets import resource_path;"
        "print(json.dumps([visitapp.__file__, str(font_path()), str(licence_path()),"
        " str(resource_path('translations', 'visitapp_zh_CN.ts'))]))")).stdout)
    for path in where:
        assert Path(path).is_relative_to(installed), f"{path} is not from the installed copy"
        assert Path(path).is_file()
    site = Path(where[0]).parent
    assert not (site / "resources" / "screenshots").exists(), "the screenshots are shipped"

    profile = tmp_path / "profile"
    app.visitapp(profile, "init", "--name", "李老师")
    app.visitapp(profile, "demo-data", "--students", "40")
    students = json.loads(app.visitapp(profile, "students", "--json").stdout)
    assert students["students"], "no students in the demo school"
    visits = json.loads(app.visitapp(profile, "visits", "--json").stdout)["visits"]
    final = [v for v in visits if v["status"] == "final"]
    assert final, visits
    sheet = app.work / "sheet.pdf"
    printed = json.loads(app.visitapp(profile, "print", "visit", final[0]["id"], "-o", str(sheet), "--json").stdout)
    assert printed["pages"] >= 1 and sheet.stat().st_size > 0
    fonts = embedded_fonts(sheet)
    assert any("VisitAppSansSC" in name and embedded for name, embedded in fonts.items()), fonts
    verdict = json.loads(app.visitapp(profile, "verify-sheet", str(sheet), "--json").stdout)
    assert verdict["status"] == "match", verdict
    assert verdict["record_id"] == final[0]["id"]

    # the window's translation compiles and loads from the installed .ts: the UI is Chinese
    script = ("from PySide6.QtWidgets import QApplication; import pathlib, sys;"
              "app = QApplication([]); from visitapp.ui import i18n;"
              "i18n.install('zh_CN', pathlib.Path(sys.argv[1])); print(i18n.tr('Create the profile'))")
    text = app.run("python", "-c", script, str(tmp_path / "qm-cache")).stdout.strip()
    assert text == "创建档案"


@pytest.fixture(scope="module")
def school(installed, tmp_path_factory):
    """``visitapp-server init`` + ``serve`` (TLS, as the README sets it up), from the wheel."""
    work = tmp_path_factory.mktemp("school")
    app = Installed(installed, work / "elsewhere")
    data, port = work / "server-data", free_port()
    url = f"https://127.0.0.1:{port}"
    app.server(data, "init", "--school", "无锡市梁溪区示范学校", "--officer", "王主任", "--url", url)
    demo = json.loads(app.server(data, "demo-school", "--students", "40", "--teachers", "2", "--json").stdout)
    log = work / "serve.log"
    proc = app.popen("visitapp-server", "--data-dir", str(data), "serve", "--host", "127.0.0.1",
                     "--port", str(port), log=log)
    try:
        wait_for_port(port, proc, log)
        yield {"app": app, "data": data, "url": url, "demo": demo, "cert": data / "tls" / "cert.pem"}
    finally:
        proc.terminate()
        assert proc.wait(60) == 0, log.read_text(errors="replace")[-3000:]


def test_installed_server_serves_tls_docs_offline_and_pulls_from_the_platform(school, tmp_path):
    app, cert = school["app"], str(school["cert"])
    health = requests.get(school["url"] + "/v1/health", verify=cert, timeout=10)
    assert health.status_code == 200
    with pytest.raises(requests.exceptions.SSLError):  # it is TLS with its own certificate
        requests.get(school["url"] + "/v1/health", timeout=10)

    def get(path: str):
        r = requests.get(school["url"] + path, verify=cert, timeout=30)
        return r.status_code, r.headers.get("content-type", ""), r.content

    check_docs_offline(get)

    # the reference city platform, from the installed package, and a roster pull from it
    port, code = free_port(), "WX-LX-DEMO"
    log = tmp_path / "platform.log"
    platform = app.popen("python", "-m", "sync_server.platform.reference", "--port", str(port),
                         "--db", str(tmp_path / "platform.db"), "--students", "10",
                         "--mirror-demo-school", code, "--mirror-students", "40", "--mirror-teachers", "2", log=log)
    try:
        wait_for_port(port, platform, log)
        base = f"http://127.0.0.1:{port}"
        schools = requests.get(base + "/reference/schools", timeout=10).json()
        key = next(s["demo_key_hex"] for s in schools if s["code"] == code)
        key_file = tmp_path / "platform.key"
        key_file.write_text(key)
        app.server(school["data"], "platform", "--url", base, "configure", "--school-code", code,
                   "--key-file", str(key_file), "--district", "梁溪区")
        pulled = json.loads(app.server(school["data"], "platform", "pull", "--yes", "--json").stdout)
        assert pulled, pulled
    finally:
        platform.terminate()
        platform.wait(30)


def test_installed_laptop_enrolls_and_syncs_over_https(school, tmp_path):
    app = school["app"]
    teacher = next(s for s in school["demo"]["staff"] if s["role"] == "teacher")
    assert teacher["enroll_code"].startswith("VA1.")
    profile = tmp_path / "laptop"
    app.visitapp(profile, "init", "--name", "王老师", "--insecure-fast-kdf")  # the first test unlocks with the real KDF
    enrolled = app.visitapp(profile, "enroll", "--code", teacher["enroll_code"], "--json", check=False)
    assert enrolled.returncode == 0, enrolled.stderr
    assert json.loads(enrolled.stdout)["role"] == "teacher"
    report = json.loads(app.visitapp(profile, "sync", "--json").stdout)
    assert report["pulled"] > 0 and not report["errors"], report
    students = json.loads(app.visitapp(profile, "students", "--json").stdout)["students"]
    assert students, "the first sync brought no students"


def test_installed_demo_fills_the_code_enrolls_and_cleans_up(installed, tmp_path):
    """The README's demo command on the installed copy (``pip install .`` then ``visitapp
    --demo``): its embedded servers start from the venv, the code is filled in, the teacher
    enrolls and syncs, and SIGTERM leaves no server and no temporary folder."""
    import signal

    from tests.ui.test_demo_process import Demo, assert_stopped, enroll_and_sync

    app = Installed(installed, tmp_path / "elsewhere")
    demo = Demo(app.work, command=(str(installed / "bin" / "visitapp"),), env=app.env)
    try:
        state = enroll_and_sync(demo, "teacher")
        demo.process.send_signal(signal.SIGTERM)
        assert_stopped(demo, state)
    finally:
        demo.stop()
