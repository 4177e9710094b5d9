"""Composition root of the desktop client (filled in by the UI work)."""

from __future__ import annotations

from typing import Any


def run_gui(args: Any) -> int:
    raise SystemExit("visitapp: 桌面界面尚未安装。")


def run_demo(args: Any) -> int:
    raise SystemExit("visitapp: 桌面界面尚未安装。")
