"""The media block over local runs: images copied by content, checked, never inlined."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from labbook.project import Project
from labbook.report.compile import ProjectCompiler
from tests.media import PNG

FENCE = "```"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><script>alert(1)</script><rect width="4" height="4"/></svg>'
MKDOCS = (
    "site_name: m\ndocs_dir: reports\nplugins:\n  - labbook:\n      sources:\n        local: runs\n"
)


def project(tmp_path: Path, block: str) -> Project:
    for i, files in enumerate(
        [
            {"plots/confusion.png": PNG, "plots/curve.svg": SVG, "model.pt": b"x" * 10},
            {"plots/confusion.png": b"not a png at all", "notes.txt": b"hi"},
        ]
    ):
        run = tmp_path / "runs" / f"run{i}"
        (run / "artifacts").mkdir(parents=True)
        (run / "run.json").write_text(json.dumps({"name": f"run-{i}", "experiment": "e"}))
        for rel, data in files.items():
            (run / "artifacts" / rel).parent.mkdir(parents=True, exist_ok=True)
            (run / "artifacts" / rel).write_bytes(data)
    (tmp_path / "reports").mkdir()
    report = f"---\nruns:\n  all: {{source: local, experiment: e}}\n---\n# M\n\n{FENCE}labbook\n{block}\n{FENCE}\n"
    (tmp_path / "reports" / "m.md").write_text(report)
    (tmp_path / "mkdocs.yml").write_text(MKDOCS)
    return Project.load(tmp_path / "mkdocs.yml")


def compile_page(tmp_path: Path, block: str):  # type: ignore[no-untyped-def]
    p = project(tmp_path, block)
    return ProjectCompiler(p).compile_file(tmp_path / "reports" / "m.md")


def test_images_are_copied_by_content_and_labelled_by_run(tmp_path: Path) -> None:
    page = compile_page(tmp_path, "media: plots/*\ncolumns: 2")
    assert page.errors == []
    # The fake PNG of run-1 is left out, said so; the real PNG and the SVG are shown.
    assert [w.message for w in page.warnings] == [
        "run-1: plots/confusion.png is not a PNG file (its first bytes say otherwise); left out"
    ]
    names = {
        hashlib.sha256(PNG).hexdigest()[:20] + ".png",
        hashlib.sha256(SVG).hexdigest()[:20] + ".svg",
    }
    assert set(page.files) == names
    assert page.files[hashlib.sha256(PNG).hexdigest()[:20] + ".png"] == PNG
    html = page.markdown
    srcs = re.findall(r'<img src="([^"]+)"', html)
    assert sorted(Path(s).name for s in srcs) == sorted(names)
    assert all(s.startswith("../assets/labbook/files/") for s in srcs)  # from the page's folder
    # The SVG is an <img>: its script is never part of the page, and it is not linked (opened
    # as a document on the site's origin, its script would run); the PNG is.
    assert "alert(1)" not in html and "<svg" not in html
    links = re.findall(r'<a class="labbook-zoom" href="([^"]+)"', html)
    assert [Path(h).suffix for h in links] == [".png"]
    assert 'loading="lazy"' not in html  # a printed page holds every image
    assert re.findall(r'<span class="labbook-media-run">([^<]*)</span>', html) == ["run-0", "run-0"]
    assert "grid-template-columns: repeat(2, minmax(0, 1fr))" in html


def test_a_glob_matching_nothing_is_an_error_naming_artifacts(tmp_path: Path) -> None:
    page = compile_page(tmp_path, "media: plot/*.png")
    [error] = page.errors
    assert error.line == 8 and "no artifact of these runs matches 'plot/*.png'" in error.message
    assert "plots/confusion.png" in (error.hint or "")


def test_matching_files_that_are_no_images_is_an_error(tmp_path: Path) -> None:
    page = compile_page(tmp_path, "media: '*.pt'")
    [error] = page.errors
    assert "1 artifact(s) match '*.pt', but none is an image" in error.message


def test_a_built_site_holds_the_files(tmp_path: Path) -> None:
    from labbook.site.build import build_site

    p = project(tmp_path, "media: plots/confusion.png")
    result = build_site(p, tmp_path / "site")
    assert result.errors == []
    [png] = (tmp_path / "site" / "assets" / "labbook" / "files").glob("*.png")
    assert png.read_bytes() == PNG
    html = (tmp_path / "site" / "m" / "index.html").read_text()
    [src] = re.findall(r'<img src="([^"]+)"', html)
    assert (tmp_path / "site" / "m" / src).resolve() == png.resolve()


@pytest.mark.parametrize("columns", [0, 9])
def test_columns_are_checked(tmp_path: Path, columns: int) -> None:
    page = compile_page(tmp_path, f"media: plots/*\ncolumns: {columns}")
    [error] = page.errors
    assert error.line == 9 and "'columns' must be" in error.message
