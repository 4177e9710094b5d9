"""Install-facing details: the README's quick-start commands work on its own demo school, the
Qt system-library check speaks Chinese before Qt aborts, the benchmark runner has a --help,
the package data is declared for the wheel."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import PYTHON, REPO, subprocess_env

README = (REPO / "README.md").read_text(encoding="utf-8")
TEACHER_GUIDE = (REPO / "docs" / "teacher.md").read_text(encoding="utf-8")  # where the examples live


def readme_commands(heading: str) -> list[list[str]]:
    """The ``visitapp …`` lines of the first bash block after ``heading`` in the teacher's
    guide, comments removed."""
    start = TEACHER_GUIDE.index(heading)
    block = re.search(r"```bash\n(.*?)```", TEACHER_GUIDE[start:], re.S).group(1)
    lines = [line.split("  #")[0].strip() for line in block.splitlines()]
    return [shlex.split(line) for line in lines if line.startswith("visitapp ")]


@pytest.mark.slow
def test_readme_quick_start_examples_run_on_the_readme_demo_school(tmp_path):
    """``init``, ``demo-data``, ``students``, ``visits`` and the printing examples exactly as the
    README writes them (only ``--profile`` and ``--passphrase-file`` added, and a real visit id
    for VISIT_ID): the class and student they name exist in that demo school."""
    passphrase = tmp_path / "pass.txt"
    passphrase.write_text("readme passphrase\n", encoding="utf-8")
    base = [PYTHON, "-m", "visitapp", "--profile", str(tmp_path / "profile"), "--passphrase-file", str(passphrase)]

    def run(args: list[str]) -> subprocess.CompletedProcess:
        out = subprocess.run([*base, *args], cwd=tmp_path, env=subprocess_env(), capture_output=True,
                             text=True, timeout=600)
        assert out.returncode == 0, f"visitapp {shlex.join(args)}: {out.stderr}"
        return out

    terminal = readme_commands("### Using it from a terminal")
    setup = [c[1:] for c in terminal if c[1] in {"init", "demo-data", "students"}]
    assert [c[0] for c in setup] == ["init", "demo-data", "students", "students"], setup
    for args in setup:
        if args[0] == "init":
            args = [*args, "--insecure-fast-kdf"]  # the README's line, with the tests' cheap KDF
        run(args)

    printing = readme_commands("### Printing from the command line and the window")
    listed = [c[1:] for c in printing if c[1] == "visits"]
    assert listed, "the README shows no command that lists visit ids"
    visits = json.loads(run([*listed[0], "--json"]).stdout)["visits"]
    final = next(v for v in visits if v["status"] == "final")
    ran = 0
    for args in (c[1:] for c in printing if c[1] == "print" and c[2] in {"visit", "visits", "growth-file"}):
        args = [final["id"] if a == "VISIT_ID" else a for a in args]
        out = tmp_path / args[args.index("-o") + 1]
        printed = json.loads(run([*args, "--json"]).stdout)
        assert printed["pages"] >= 1 and out.stat().st_size > 0, (args, printed)
        ran += 1
    assert ran == 4, "the README's print examples changed: update this test"


def test_qt_library_check_names_the_missing_packages_in_chinese():
    from visitapp.qtlibs import missing_message, missing_packages

    absent = {"libxcb-cursor.so.0", "libEGL.so.1"}
    xcb = missing_packages({"DISPLAY": ":0"}, loads=lambda soname: soname not in absent)
    assert xcb == ["libegl1", "libxcb-cursor0"]
    offscreen = missing_packages({"QT_QPA_PLATFORM": "offscreen"}, loads=lambda soname: soname not in absent)
    assert offscreen == ["libegl1"], "offscreen needs no xcb library"
    message = missing_message(xcb)
    assert "libxcb-cursor0" in message and "sudo apt-get install libegl1 libxcb-cursor0" in message
    assert "缺少" in message and "docs/install.md" in message


def _plugin_libraries_not_found() -> set[str]:
    """What ``ldd`` says Qt's xcb plugin cannot find on this machine (an independent check)."""
    import PySide6

    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    out = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, timeout=60).stdout
    return {line.split()[0] for line in out.splitlines() if "not found" in line}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the check is for Linux")
def test_qt_library_check_agrees_with_ldd_and_stops_the_window_with_one_chinese_line(tmp_path):
    from visitapp.qtlibs import CORE_LIBRARIES, XCB_LIBRARIES, missing_packages

    not_found = _plugin_libraries_not_found()
    assert not_found <= set(CORE_LIBRARIES) | set(XCB_LIBRARIES), f"the check does not know {not_found}"
    expected = sorted({({**CORE_LIBRARIES, **XCB_LIBRARIES})[s] for s in not_found})
    assert missing_packages({"QT_QPA_PLATFORM": "xcb"}) == expected
    if expected:  # this machine lacks some: the window, started as a user would, is refused
        out = subprocess.run([PYTHON, "-m", "visitapp", "--profile", str(tmp_path / "p")], cwd=tmp_path,
                             env=subprocess_env(QT_QPA_PLATFORM="xcb", DISPLAY=":99"), capture_output=True,
                             text=True, timeout=120)
        assert out.returncode == 1
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and "缺少图形界面所需的系统库" in lines[0], out.stderr
        assert all(p in lines[0] for p in expected), lines[0]
    # and wherever one is missing (here: made to look missing), the CLI refuses before Qt loads
    script = ("import sys, visitapp.qtlibs as q; real = q._loads;"
              "q._loads = lambda s: s != 'libxcb-cursor.so.0' and real(s);"
              "from visitapp.cli import main; rc = main(sys.argv[1:]);"
              "assert not any(m.startswith('PySide6') for m in sys.modules), 'Qt was loaded';"
              "sys.exit(rc)")
    for args in (["--profile", str(tmp_path / "p")], ["--demo"]):
        out = subprocess.run([PYTHON, "-c", script, *args], cwd=tmp_path, capture_output=True, text=True,
                             env=subprocess_env(QT_QPA_PLATFORM="xcb", DISPLAY=":99"), timeout=120)
        assert out.returncode == 1, out.stderr
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and "缺少图形界面所需的系统库" in lines[0] and "libxcb-cursor0" in lines[0], out.stderr
    assert not list(tmp_path.glob("visitapp-demo-*")) and not (tmp_path / "p").exists()


def test_benchmarks_help_prints_help_without_running():
    out = subprocess.run([PYTHON, "-m", "tests.benchmarks", "--help"], cwd=REPO, env=subprocess_env(),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: python -m tests.benchmarks")
    assert "bench_" not in out.stderr, "it started a benchmark"
    bad = subprocess.run([PYTHON, "-m", "tests.benchmarks", "nosuch"], cwd=REPO, env=subprocess_env(),
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "unknown area nosuch" in bad.stderr


def test_demo_install_line_installs_no_test_tools_and_a_licence_is_there():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = " ".join(project["dependencies"]).lower()
    for tool in ("pytest", "hypothesis", "schemathesis", "import-linter", "pypdf>", "fonttools"):
        assert tool not in runtime, f"{tool} is installed by the demo's `pip install .`"
    assert "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/visitapp --demo" in README
    assert "pip install visitapp " not in README and "pip install visitapp\n" not in README
    licence = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License") and "OFL.txt" in licence
    assert project["license"] == {"text": "MIT"}


def test_every_source_folder_is_a_package_so_the_wheel_carries_it():
    """``find_packages`` skips a folder without ``__init__.py``: its files would be missing from
    the wheel (the profile's Alembic revisions were, and an installed copy could not create a
    profile)."""
    missing = [str(d.relative_to(REPO)) for top in ("visitapp", "sync_server")
               for d in [REPO / top, *(REPO / top).rglob("*")]
               if d.is_dir() and d.name != "__pycache__" and any(d.glob("*.py"))
               and not (d / "__init__.py").exists()]
    assert not missing, f"not packages, so not in the wheel: {missing}"
