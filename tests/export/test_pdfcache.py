"""Kept PDFs: an unchanged report gets its kept pages under a new cover; any change renders again."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from labbook.export.pdf import PdfJob, PdfResult, write_pdfs
from labbook.export.pdfcache import with_cover
from labbook.project import Project
from labbook.report.compile import ProjectCompiler

from .conftest import chromium_or_skip, make_project, pdf_info, pdf_pages_text
from .test_pdf import NOTES

pytestmark = pytest.mark.browser  # Kaleido drives Chromium

LATER = datetime(2031, 5, 6, 7, 8, tzinfo=UTC)


def print_notes(
    root: Path, out: Path, read_at: datetime | None = None, **options: Any
) -> PdfResult:
    """Compiles reports/notes.md and prints it as `labbook pdf` does; gives the result."""
    project = Project.load(root / "mkdocs.yml")
    compiler = ProjectCompiler(project, root_url="")
    with tempfile.TemporaryDirectory(prefix="labbook-media-") as media:
        page = compiler.compile_file(root / "reports" / "notes.md")
        if read_at is not None:
            page.read_at = read_at
        return write_pdfs(project, [PdfJob(page, Path(media), out)], **options)


def without_read_line(pages: list[str]) -> list[str]:
    return [
        "\n".join(ln for ln in page.splitlines() if "Run data read" not in ln) for page in pages
    ]


@pytest.fixture
def book(tmp_path: Path) -> Path:
    chromium_or_skip()
    return make_project(tmp_path / "book", {"notes.md": NOTES})


def test_an_unchanged_report_reuses_its_pages_under_a_new_cover(book: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "first.pdf", tmp_path / "second.pdf"
    assert print_notes(book, first).reused == 0
    assert print_notes(book, second, read_at=LATER).reused == 1
    before, after = pdf_pages_text(first), pdf_pages_text(second)
    assert "Run data read   2031-05-06 07:08 UTC" in after[0]  # the new cover
    assert without_read_line(after) == without_read_line(before)
    assert pdf_info(second)["Pages"] == pdf_info(first)["Pages"]
    assert all(f"Page {i} of {len(after)}" in p for i, p in enumerate(after, 1) if i > 1)
    # The same document a cold run gives: every cache emptied, the same read time.
    shutil.rmtree(book / ".labbook")
    cold = tmp_path / "cold.pdf"
    assert print_notes(book, cold, read_at=LATER).reused == 0
    assert pdf_pages_text(cold) == after


def test_the_reused_pdf_keeps_its_links_outline_and_vector_charts(
    book: Path, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    print_notes(book, tmp_path / "first.pdf")
    out = tmp_path / "second.pdf"
    assert print_notes(book, out, read_at=LATER).reused == 1
    reader = PdfReader(out)
    assert [item["/Title"] for item in reader.outline if isinstance(item, dict)][:1] == [
        "Sweep notes"
    ]
    toc_links = [a.get_object() for a in reader.pages[1].get("/Annots", [])]
    assert toc_links and all("/Dest" in a or "/A" in a for a in toc_links)
    assert not [image for page in reader.pages for image in page.images]  # paths, not pictures


def test_a_changed_run_value_is_printed_anew(book: Path, tmp_path: Path) -> None:
    print_notes(book, tmp_path / "first.pdf")
    meta_file = book / "runs" / "r00003" / "run.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    meta["summary"]["acc"] = 0.9876
    meta_file.write_text(json.dumps(meta), encoding="utf-8")
    out = tmp_path / "second.pdf"
    assert print_notes(book, out).reused == 0
    assert "Best accuracy 0.9876" in "\n".join(pdf_pages_text(out))


def test_a_changed_stylesheet_or_page_size_is_printed_anew(book: Path, tmp_path: Path) -> None:
    print_notes(book, tmp_path / "a4.pdf")
    letter = tmp_path / "letter.pdf"
    assert print_notes(book, letter, page_size="letter").reused == 0
    assert "612 x 792 pts (letter)" in pdf_info(letter)["Page size"]
    (book / "themes" / "print").mkdir(parents=True)
    (book / "themes" / "print" / "report.css").write_text(
        "@page { size: A5; @bottom-center { content: 'Team confidential'; } }", encoding="utf-8"
    )
    own = tmp_path / "own.pdf"
    assert print_notes(book, own).reused == 0
    assert all("Team confidential" in page for page in pdf_pages_text(own))


def test_a_changed_file_the_pdf_was_drawn_from_is_printed_anew(book: Path, tmp_path: Path) -> None:
    print_notes(book, tmp_path / "first.pdf")
    [svg] = (book / ".labbook" / "cache" / "figures").glob("*.svg")
    svg.write_text(svg.read_text(encoding="utf-8").replace("loss", "LOSS-EDITED"), encoding="utf-8")
    out = tmp_path / "second.pdf"
    assert print_notes(book, out).reused == 0
    assert "LOSS-EDITED" in "\n".join(pdf_pages_text(out))


def test_a_cover_of_two_pages_is_not_put_on_a_kept_pdf(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    def blank_pdf(pages: int) -> bytes:
        writer = PdfWriter()
        for _ in range(pages):
            writer.add_blank_page(width=200, height=200)
        path = tmp_path / f"{pages}.pdf"
        writer.write(path)
        return path.read_bytes()

    assert with_cover(blank_pdf(3), blank_pdf(2)) is None
    spliced = with_cover(blank_pdf(3), blank_pdf(1))
    assert spliced is not None
    (tmp_path / "spliced.pdf").write_bytes(spliced)
    assert pdf_info(tmp_path / "spliced.pdf")["Pages"] == "3"
