"""Writes the CLI reference, ``docs/cli.md``, from the two argument parsers themselves:
``python -m tests.docs_cli > docs/cli.md``. ``tests/test_docs.py`` fails when the file is not
what this prints, so the reference can never drift from the commands."""

from __future__ import annotations

import argparse
import sys


def _subcommands(parser: argparse.ArgumentParser):
    for action in parser._actions:  # noqa: SLF001 - argparse keeps no public list
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            yield from action.choices.items()


def _usage(parser: argparse.ArgumentParser) -> str:
    return " ".join(parser.format_usage().replace("usage: ", "").split())


def _options(parser: argparse.ArgumentParser) -> list[str]:
    out = []
    for a in parser._actions:  # noqa: SLF001
        if isinstance(a, (argparse._HelpAction, argparse._SubParsersAction)) or a.help == argparse.SUPPRESS:  # noqa: SLF001
            continue
        names = ", ".join(a.option_strings) if a.option_strings else a.metavar or a.dest
        out.append(f"- `{names}`" + (f": {a.help}" if a.help else ""))
    return out


def _walk(parser: argparse.ArgumentParser, path: str, lines: list[str], depth: int = 0) -> None:
    subs = list(_subcommands(parser))
    for name, sub in subs:
        full = f"{path} {name}"
        lines += [f"{'#' * min(3 + depth, 4)} `{full}`", ""]
        if sub.description:
            lines += [sub.description, ""]
        lines += ["```", _usage(sub), "```", ""]
        opts = _options(sub)
        if opts and not list(_subcommands(sub)):
            lines += opts + [""]
        _walk(sub, full, lines, depth + 1)


def commands(parser: argparse.ArgumentParser, prog: str) -> list[str]:
    """Every command path of ``parser``: ``visitapp print visit``, ``visitapp-server devices list`` …"""
    found: list[str] = []

    def walk(p: argparse.ArgumentParser, path: str) -> None:
        for name, sub in _subcommands(p):
            found.append(f"{path} {name}")
            walk(sub, f"{path} {name}")
    walk(parser, prog)
    return found


def render() -> str:
    from sync_server.cli import build_parser as server_parser
    from visitapp.cli import build_parser as client_parser

    lines = ["# Command-line reference", "",
             "Generated from the programs' own argument parsers by `python -m tests.docs_cli > docs/cli.md`;",
             "`tests/test_docs.py` fails when this page and the commands disagree. Every command exits",
             "non-zero with a one-line reason on failure; `--json` prints one JSON document for scripts.", ""]
    for prog, make in (("visitapp", client_parser), ("visitapp-server", server_parser)):
        parser = make()
        lines += [f"## `{prog}`", "", "```", _usage(parser), "```", ""]
        lines += _options(parser) + [""]
        _walk(parser, prog, lines)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
