"""`labbook build --pdf`: every report also as a PDF in the site, linked from its page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from labbook.cli import main
from tests.conftest import ENGINES, copy_example

from .conftest import chromium_or_skip, pdf_pages_text

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("engine", ENGINES)
def test_each_page_links_its_pdf(
    tmp_path: Path, engine: str, capsys: pytest.CaptureFixture[str]
) -> None:
    chromium_or_skip()
    root = copy_example(tmp_path / "book")
    site = tmp_path / "site"
    args = ["build", "-f", str(root / "mkdocs.yml"), "-d", str(site), "--engine", engine, "--pdf"]
    assert main(args) == 0
    reports = sorted(p.relative_to(root / "reports") for p in (root / "reports").rglob("*.md"))
    assert f"wrote {len(reports)} PDF(s)" in capsys.readouterr().out
    for report in reports:
        folder = site if report.stem == "index" else site / report.parent / report.stem
        html = (folder / "index.html").read_text(encoding="utf-8")
        [href] = re.findall(r'<a class="labbook-pdf-link" href="([^"]+)"', html)
        pdf = (folder / href).resolve()
        assert pdf == (site / "pdf" / report.with_suffix(".pdf")).resolve() and pdf.is_file()
    cover = pdf_pages_text(site / "pdf" / "lr-sweep.pdf")[0]
    assert "Learning-rate sweep for ResNet-18" in cover
