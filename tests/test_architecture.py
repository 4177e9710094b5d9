"""The import rules of DESIGN.md §1, checked by import-linter's contracts in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys

from tests.conftest import REPO, subprocess_env


def test_import_contracts_hold():
    lint = shutil.which("lint-imports") or str(__import__("pathlib").Path(sys.executable).with_name("lint-imports"))
    out = subprocess.run([lint, "--no-cache"], cwd=REPO, capture_output=True, text=True, env=subprocess_env(),
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "broken" in out.stdout and "0 broken" in out.stdout
