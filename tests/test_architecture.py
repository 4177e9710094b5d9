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


def test_every_public_service_method_says_what_it_does_and_refuses():
    """Issue 13: a new maintainer reads one line per public method of every service."""
    import ast

    missing = []
    for path in sorted((REPO / "visitapp" / "services").glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and (node.name.endswith("Service") or node.name == "Workspace"):
                missing += [f"{path.name}: {node.name}.{item.name}" for item in node.body
                            if isinstance(item, ast.FunctionDef) and not item.name.startswith("_")
                            and not ast.get_docstring(item)]
    assert not missing, missing
