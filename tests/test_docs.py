"""Docs that the code keeps honest (as Datasette does): the CLI reference is what the parsers
print, every documented command line still parses, every endpoint and every setting is
documented, and no doc points outside the repository."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.docs_cli import commands, render

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]
_FENCE = re.compile(r"```[\w-]*\n(.*?)```", re.S)


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_the_cli_reference_is_what_the_parsers_say():
    assert _text(ROOT / "docs" / "cli.md") == render(), (
        "docs/cli.md is out of date: run `python -m tests.docs_cli > docs/cli.md`")


def _documented_command_lines():
    """``visitapp …`` and ``visitapp-server …`` lines in the docs' code blocks that are concrete
    commands (not a synopsis with [options] | alternatives … or placeholders in capitals)."""
    for path in DOCS:
        for block in _FENCE.findall(_text(path)):
            for raw in block.splitlines():
                # a synopsis line explains itself after two or more spaces; a comment after "#"
                line = re.split(r"\s{2,}|\s#", raw.strip().lstrip("$ "))[0].strip()
                for part in re.split(r"\s*(?:&&|\|\||;|\|)\s*", line):
                    m = re.match(r"^(?:\S*/)?(visitapp(?:-server)?)\s+(.*)$", part)
                    if not m or re.search(r"[\[\]…<>]|\.\.\.", m.group(2)):
                        continue
                    yield path.relative_to(ROOT), m.group(1), m.group(2)


@pytest.mark.parametrize("where,prog,args", list(_documented_command_lines()))
def test_every_documented_command_still_parses(where, prog, args):
    from sync_server.cli import build_parser as server_parser
    from visitapp.cli import build_parser as client_parser

    parser = client_parser() if prog == "visitapp" else server_parser()
    parser.exit = lambda status=0, message=None: (_ for _ in ()).throw(AssertionError(  # noqa: ARG005
        f"{where}: `{prog} {args}` does not parse: {message}"))
    parser.error = lambda message: parser.exit(2, message)
    try:
        argv = shlex.split(args)
    except ValueError:
        pytest.skip("not a shell line")
    if argv and argv[0] in ("--help", "-h", "--version"):
        return
    parser.parse_args(argv)


def test_enough_command_lines_are_checked():
    found = list(_documented_command_lines())
    assert len(found) >= 30 and {p for _w, p, _a in found} == {"visitapp", "visitapp-server"}


def test_every_command_is_in_a_guide_not_only_in_the_reference():
    from sync_server.cli import build_parser as server_parser
    from visitapp.cli import build_parser as client_parser

    guides = "\n".join(_text(p) for p in DOCS if p.name != "cli.md")
    # a guide's synopsis block may list subcommands under their program: "  staff list [--json]"
    synopsis = {seg.strip() for block in _FENCE.findall(guides) for line in block.splitlines()
                for seg in re.split(r"\s\|\s", line)}

    def mentioned(command: str) -> bool:
        prog, rest = command.split(" ", 1)
        # options may stand between the words: visitapp --profile DIR restore-backup …,
        # visitapp-server platform --url URL configure …
        options = r"(?:\s+--?[\w-]+(?:[ =](?!-)\S+)?)*\s+"
        with_options = options.join(re.escape(word) for word in command.split()) + r"(?![\w-])"
        return bool(re.search(with_options, guides)) or any(seg.startswith(rest + " ") or seg == rest for seg in synopsis)

    missing = [c for prog, make in (("visitapp", client_parser), ("visitapp-server", server_parser))
               for c in commands(make(), prog) if not mentioned(c)]
    assert not missing, f"commands no guide mentions: {missing}"


def test_every_endpoint_is_documented():
    """Every route the server declares (its own and the platform connector's; the reference
    platform is a stand-in and documents itself) appears in a guide."""
    route = re.compile(r"@\w+\.(?:get|post|put|patch|delete)\(\s*\"([^\"]+)\"")
    paths = {p for f in (ROOT / "sync_server").rglob("*.py") if "reference" not in f.parts
             for p in route.findall(_text(f))}
    assert len(paths) >= 8
    text = "\n".join(_text(p) for p in DOCS)
    missing = sorted(p for p in paths if p not in text)
    assert not missing, f"endpoints no doc mentions: {missing}"


def test_every_setting_is_documented():
    from visitapp.services.settings import DEFAULTS

    text = "\n".join(_text(p) for p in DOCS)
    missing = [key for key in DEFAULTS if f"`{key}`" not in text]
    assert not missing, f"settings no doc mentions: {missing}"


def test_every_server_setting_is_documented_as_the_model_says():
    from sync_server.config import settings_table

    assert settings_table() in _text(ROOT / "docs" / "server-admin.md"), (
        "docs/server-admin.md's settings table differs from sync_server.config.Settings: paste "
        "`python -c 'from sync_server.config import settings_table; print(settings_table())'`")


def test_no_doc_points_outside_the_repository():
    for path in DOCS:
        text = _text(path)
        assert "../shared" not in text, path
        assert "DESIGN.md" not in text.replace('"DESIGN.md §N"', ""), f"{path}: the design is docs/architecture.md"
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            assert (path.parent / target).exists(), f"{path.relative_to(ROOT)} links to missing {target}"
