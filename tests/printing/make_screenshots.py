"""Render page 1 of each document to ``resources/screenshots/print-*.png`` (about 100 dpi).

Run from the repository root: ``python -m tests.printing.make_screenshots [NAME ...]`` (all of
them, or only the named ones, e.g. ``print-recovery-key``).
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

import pypdfium2 as pdfium

from tests.printing import samples as S
from visitapp.printing import render_growth_file, render_public_notice, render_visit_sheet
from visitapp.printing.recovery_key import RecoveryKeySheet, render_recovery_key

OUT = Path(__file__).resolve().parents[2] / "resources" / "screenshots"


def main(only: list[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    profile, visits, entries, notes = S.growth_records()
    notice, rows = S.notice_and_rows()
    with tempfile.TemporaryDirectory() as tmp:
        docs = {
            "print-visit-sheet": lambda p: render_visit_sheet(S.visit(), S.student(), S.HEADER,
                                                              reviewer="周敏", out=p),
            "print-growth-file": lambda p: render_growth_file(S.student(), profile, visits, entries,
                                                              notes, S.HEADER, out=p),
            "print-public-notice": lambda p: render_public_notice(notice, rows, S.HEADER, out=p),
            # a made-up key: never put a real one in a picture
            "print-recovery-key": lambda p: render_recovery_key(RecoveryKeySheet(
                "7KQM-XW3R-ZT9B-HN4C-PD2F-GJ6L-VS8A-UE5Y", S.HEADER.school, "李老师",
                "C:\\Users\\li\\AppData\\Local\\visitapp\\profile", dt.datetime(2026, 9, 1, 9, 0)), p),
        }
        for name, render in docs.items():
            if only and name not in only:
                continue
            pdf_path = Path(tmp) / f"{name}.pdf"
            render(pdf_path)
            pdf = pdfium.PdfDocument(str(pdf_path))
            image = pdf[0].render(scale=100 / 72).to_pil().convert("RGB")
            pdf.close()
            # a palette keeps a form page (mostly black, white and greys) well under 500 KB
            target = OUT / f"{name}.png"
            image.quantize(colors=128).save(target, optimize=True)
            print(f"{target} {target.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main(sys.argv[1:])
