"""Ctrl+P on a report page prints it whole: every chart drawn with its text, tables uncut.

Printed with Chromium's own `page.pdf()` (what Ctrl+P → "Save as PDF" runs), read back
with pdftotext, and rendered with pdftoppm.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ENGINES, OpenPage
from tests.skips import skip_or_fail

from .test_browser import page_path

pytestmark = pytest.mark.browser


def pdf_text(pdf: Path) -> str:
    if shutil.which("pdftotext") is None:
        skip_or_fail("pdftotext (poppler-utils) is not installed")
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.parametrize("engine", ENGINES)
def test_a_printed_page_holds_every_chart_and_table_whole(
    open_page: OpenPage, example_origins: dict[str, str], tmp_path: Path, engine: str
) -> None:
    visit = open_page(example_origins[engine], page_path("lr-sweep"), width=1280, height=900)
    page = visit.page
    # Nothing scrolled: only the first chart is on screen when printing starts.
    pdf = tmp_path / "page.pdf"
    page.pdf(path=str(pdf), format="A4")
    text = pdf_text(pdf)
    words = text.split()
    # The first chart: its legend, axis title and x ticks.
    for label in ("lr=0.03", "lr=0.1", "lr=0.3", "val/loss"):
        assert label in text, label
    assert "step" in words and "500" in words
    # The second chart was never scrolled into view: drawn for print, legend and all.
    assert "train/loss" in text
    assert sum(f"r18-lr0.3-s{i}" in text for i in range(3)) == 3
    # The table's last column and its last row's cells.
    assert "duration" in words and "1m 20s" in text
    # Back on screen afterwards: the charts follow their container again.
    widths = page.evaluate(
        "() => Array.from(document.querySelectorAll('.labbook-plot')).map(p =>"
        " [p.layout && p.layout.width, p.classList.contains('labbook-printing')])"
    )
    assert widths and all(w is None and not printing for w, printing in widths), widths
    assert visit.errors == []


def test_a_printed_chart_is_drawn_not_blank(
    open_page: OpenPage, example_origins: dict[str, str], tmp_path: Path
) -> None:
    visit = open_page(example_origins["mkdocs"], page_path("lr-sweep"))
    pdf = tmp_path / "page.pdf"
    visit.page.pdf(path=str(pdf), format="A4")
    if shutil.which("pdftoppm") is None:
        skip_or_fail("pdftoppm (poppler-utils) is not installed")
    subprocess.run(
        ["pdftoppm", "-r", "60", "-f", "1", "-l", "1", "-png", str(pdf), str(tmp_path / "p")],
        check=True,
    )
    import numpy as np
    from PIL import Image

    [png] = tmp_path.glob("p*.png")
    pixels = np.asarray(Image.open(png).convert("RGB"), dtype=np.int32).reshape(-1, 3)
    coloured = (pixels.max(axis=1) - pixels.min(axis=1) > 60).mean()
    assert coloured > 0.002, f"the first page has almost no chart ink ({coloured:.3%})"
