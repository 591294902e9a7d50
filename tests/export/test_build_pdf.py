"""`labbook build --pdf`: every report also as a PDF in the site, linked from its page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from labbook.cli import main
from tests.conftest import ENGINES, copy_example
from tests.gitrepo import commit, init_repo, isolate_git
from tests.test_cache import RUN, rewrite_keeping_stat

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


def test_a_warm_build_prints_its_pdfs_from_the_page_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chromium_or_skip()
    isolate_git(monkeypatch, tmp_path / "home")
    root = copy_example(init_repo(tmp_path / "book"))
    ignore = {".gitignore": ".labbook/cache/\n"}  # as `labbook init` writes it
    sha = commit(root, "Ana Lima", "ana@example.org", "2026-01-05T10:00:00+00:00", ignore)
    site = tmp_path / "site"
    build = ["-q", "build", "-f", str(root / "mkdocs.yml"), "-d", str(site)]
    pdf, page = site / "pdf" / "lr-sweep.pdf", site / "lr-sweep" / "index.html"
    assert main([*build, "--pdf"]) == 0
    first = pdf_pages_text(pdf)
    assert "r18-lr0.1-s0" in "".join(first) and sha[:10] in first[0]
    # Unseen by size and time, so only a kept page can still show the old name.
    rewrite_keeping_stat(root / "runs" / RUN / "run.json", b'"r18-lr0.1-s0"', b'"XXX-lr0.1-s0"')
    assert main([*build, "--pdf"]) == 0
    second = pdf_pages_text(pdf)
    assert second[1:] == first[1:]
    # The cover's authors, commit and read time as the kept page had them; git now sees
    # run.json changed, so the build is one "with uncommitted changes".
    stamp = f"{sha[:10]} (2026-01-05)"
    assert second[0] == first[0].replace(stamp, stamp + ", with uncommitted changes")
    assert 'class="labbook-pdf-link"' in page.read_text(encoding="utf-8")
    # Kept apart from the pages of a build without PDFs, which link none; the two kinds
    # of build share the sources' manifest, so neither retires the other's pages.
    manifest = root / ".labbook" / "cache" / "pages" / "manifest.json"
    kept = manifest.read_bytes()
    assert main(build) == 0
    assert "labbook-pdf-link" not in page.read_text(encoding="utf-8")
    assert main([*build, "--pdf"]) == 0
    assert pdf_pages_text(pdf) == second and manifest.read_bytes() == kept
    # A real change to the run (its time moves): the report and its PDF are made again.
    run_json = root / "runs" / RUN / "run.json"
    run_json.write_text(run_json.read_text().replace('"XXX-lr0.1-s0"', '"renamed-s0"'))
    assert main([*build, "--pdf"]) == 0
    again = "".join(pdf_pages_text(pdf))
    assert "renamed-s0" in again and "r18-lr0.1-s0" not in again


def test_labbook_pdf_prints_a_kept_report_and_shares_the_manifest_with_build(
    tmp_path: Path,
) -> None:
    chromium_or_skip()
    root = copy_example(tmp_path / "book")
    out = tmp_path / "lr-sweep.pdf"
    build = ["-q", "build", "-f", str(root / "mkdocs.yml"), "-d", str(tmp_path / "site")]
    pdf = ["pdf", "-f", str(root / "mkdocs.yml"), str(root / "reports/lr-sweep.md"), "-o", str(out)]
    assert main(build) == 0
    manifest = root / ".labbook" / "cache" / "pages" / "manifest.json"
    kept = manifest.read_bytes()
    assert main(pdf) == 0
    first = pdf_pages_text(out)
    assert "r18-lr0.1-s0" in "".join(first)
    # Unseen by size and time, so only a kept page can still show the old name.
    run_json = root / "runs" / RUN / "run.json"
    rewrite_keeping_stat(run_json, b'"r18-lr0.1-s0"', b'"XXX-lr0.1-s0"')
    assert main(pdf) == 0
    assert pdf_pages_text(out) == first  # the cover's data read time too
    # `build` and `pdf` keep their pages under one manifest: neither retires the other's.
    assert main(build) == 0 and manifest.read_bytes() == kept
    # A real change to the run (its time moves): the report is compiled and printed again.
    run_json.write_text(run_json.read_text().replace('"XXX-lr0.1-s0"', '"renamed-s0"'))
    assert main(pdf) == 0
    again = "".join(pdf_pages_text(out))
    assert "renamed-s0" in again and "r18-lr0.1-s0" not in again
