"""`labbook pdf`: a report as a PDF, read back with pdftotext/pdfinfo, pypdf and pdftoppm."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from labbook.cli import main
from labbook.project import Project
from tests.conftest import copy_example

from .conftest import chromium_or_skip, make_project, pdf_info, pdf_pages_text, poppler

pytestmark = pytest.mark.browser  # Kaleido drives Chromium

FENCE = "```"

NOTES = f"""\
---
title: Sweep notes
authors: [Ana Lima]
runs:
  sweep: {{source: local, experiment: sweep}}
---

# Sweep notes

The loss fell fast.[^warm] Best accuracy {{{{ sweep.max("acc") }}}}.

[^warm]: Warm-up did most of it.

## Loss

{FENCE}labbook
line: loss
caption: Training loss of every run.
{FENCE}

## Rate

The rate $\\alpha = 0.1$ was best.
"""


@pytest.fixture(scope="module")
def example_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chromium_or_skip()
    root = copy_example(tmp_path_factory.mktemp("example"))
    out = root / "lr-sweep.pdf"
    code = main(
        ["pdf", "-f", str(root / "mkdocs.yml"), str(root / "reports/lr-sweep.md"), "-o", str(out)]
    )
    assert code == 0 and out.is_file()
    return out


def test_the_pdf_holds_cover_contents_commentary_tables_and_chart_text(example_pdf: Path) -> None:
    pages = pdf_pages_text(example_pdf)
    assert int(pdf_info(example_pdf)["Pages"]) == len(pages) >= 3
    cover, toc, *body = pages
    assert "Learning-rate sweep for ResNet-18" in cover and "Ana Lima, Bo Chen" in cover
    assert "Report commit" in cover and "Run data read" in cover
    # Contents with the page each heading is on.
    for heading in ("Validation loss", "Every run", "The runs", "What we decided"):
        [line] = [ln for ln in toc.splitlines() if heading in ln]
        number = int(line.split()[-1].strip("."))
        assert heading in pages[number - 1], (heading, number)
    text = "\n".join(body)
    assert "validation accuracy" in text  # commentary, expressions evaluated
    assert "0.8158" in text and "r18-lr0.1-s2" in text  # a table cell and a run name
    for label in ("val/loss", "lr=0.03 (n=3)", "step", "train/loss"):  # chart text, as text
        assert label in text, label
    assert "Figure 1:" in text
    # Running header and page N of M.
    assert all(f"Page {i} of {len(pages)}" in p for i, p in enumerate(pages, 1) if i > 1)
    assert all("Learning-rate sweep for ResNet-18 on CIFAR-10" in p for p in pages[1:])


def test_charts_are_vector_paths_not_images(example_pdf: Path) -> None:
    from pypdf import PdfReader

    reader = PdfReader(example_pdf)
    # Only parallel coordinates come as pictures: Plotly draws them with WebGL, which an
    # SVG export holds as raster layers (at twice the 720 px chart width). WeasyPrint lists
    # a document's images on every page, so they are counted by name.
    images = {image.name: image.image.size for page in reader.pages for image in page.images}
    assert 0 < len(images) <= 3, images
    assert all(size == (1440, 800) for size in images.values()), images
    chart_page = next(p for p in reader.pages if "val/loss" in (p.extract_text() or ""))
    content = chart_page.get_contents()
    assert content is not None
    ops = content.get_data()
    # Lines are drawn as paths: many moveto/lineto operators and strokes.
    assert ops.count(b" l\n") > 100 and b"\nS\n" in ops


def test_a_rendered_chart_page_is_not_blank(example_pdf: Path, tmp_path: Path) -> None:
    from PIL import Image

    pages = pdf_pages_text(example_pdf)
    number = next(i for i, p in enumerate(pages, 1) if "val/loss" in p)
    subprocess.run(
        [
            poppler("pdftoppm"),
            "-r",
            "60",
            "-f",
            str(number),
            "-l",
            str(number),
            "-png",
            str(example_pdf),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    [png] = tmp_path.glob("page*.png")
    pixels = np.asarray(Image.open(png).convert("RGB"), dtype=np.int32).reshape(-1, 3)
    coloured = (pixels.max(axis=1) - pixels.min(axis=1) > 60).mean()
    assert coloured > 0.002, f"the chart page has almost no coloured ink ({coloured:.3%})"


def test_footnotes_math_and_a_second_run_from_the_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chromium_or_skip()
    root = make_project(tmp_path / "book", {"notes.md": NOTES})
    out = tmp_path / "notes.pdf"
    args = ["pdf", "-f", str(root / "mkdocs.yml"), "reports/notes.md", "-o", str(out)]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert "1 chart(s) (0 from the cache)" in first
    pages = pdf_pages_text(out)
    text = "\n".join(pages)
    assert "Best accuracy 0.5706" in text  # max of the 4 runs' acc: 0.5 + 0.4 * 3 / 17
    # The footnote sits at the foot of the page that calls it, not at the end.
    [calling] = [p for p in pages if "The loss fell fast." in p]
    assert "Warm-up did most of it." in calling
    assert calling.index("Warm-up did most of it.") > calling.index("Best accuracy")
    # An unchanged chart is not exported twice.
    assert main(args) == 0
    assert "1 chart(s) (1 from the cache)" in capsys.readouterr().out


def test_letter_paper(tmp_path: Path) -> None:
    chromium_or_skip()
    root = make_project(tmp_path / "book", {"notes.md": NOTES})
    out = tmp_path / "notes.pdf"
    args = ["pdf", "-f", str(root / "mkdocs.yml"), "reports/notes.md", "-o", str(out)]
    assert main([*args, "--page-size", "letter"]) == 0
    assert "612 x 792 pts (letter)" in pdf_info(out)["Page size"]


def test_a_table_of_200_runs_spans_pages_with_its_header_repeated(tmp_path: Path) -> None:
    chromium_or_skip()
    report = f"""---
runs:
  sweep: {{source: local, experiment: sweep}}
---
# Every run

{FENCE}labbook
table: [name, params.lr, params.seed, metrics.acc]
sort: params.seed
{FENCE}
"""
    root = make_project(tmp_path / "book", {"all.md": report}, runs=200)
    out = tmp_path / "all.pdf"
    assert main(["pdf", "-f", str(root / "mkdocs.yml"), "reports/all.md", "-o", str(out)]) == 0
    body = pdf_pages_text(out)[1:]  # after the cover (no headings: no contents page)
    with_rows = [p for p in body if "run-" in p]
    assert len(with_rows) >= 3
    for page in with_rows:
        lines = [ln.split() for ln in page.splitlines() if ln.strip()]
        first_row = next(i for i, ln in enumerate(lines) if ln[0].startswith("run-"))
        # The header row repeats on every page, right above that page's first row.
        assert lines[first_row - 1] == ["name", "lr", "seed", "acc"], page[:300]
    shown = [w for p in with_rows for w in p.split() if w.startswith("run-")]
    assert shown == [f"run-{i:03d}" for i in range(200)]  # every row once, in order


def test_a_broken_block_still_prints_unless_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chromium_or_skip()
    broken = NOTES.replace("line: loss", "line: los")
    root = make_project(tmp_path / "book", {"notes.md": broken})
    out = tmp_path / "notes.pdf"
    args = ["pdf", "-f", str(root / "mkdocs.yml"), "reports/notes.md", "-o", str(out)]
    assert main(args) == 1
    assert "could not be built" in "\n".join(pdf_pages_text(out))  # the error box, printed
    out.unlink()
    assert main([*args, "--strict"]) == 1
    assert not out.exists()
    assert "--strict: not writing" in capsys.readouterr().err


def test_without_chromium_the_message_names_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "book", {"notes.md": NOTES})
    out = tmp_path / "notes.pdf"
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-chromium"))
    code = main(["pdf", "-f", str(root / "mkdocs.yml"), "reports/notes.md", "-o", str(out)])
    assert code == 1
    err = capsys.readouterr().err
    assert "apt-get install chromium" in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".notes.pdf.*"))


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(tmp_path / "book", {"notes.md": NOTES})
    config = str(root / "mkdocs.yml")
    assert main(["pdf", "-f", config]) == 2
    assert main(["pdf", "-f", config, "--all", "reports/notes.md"]) == 2
    assert "name the report(s) to print, or give --all" in capsys.readouterr().err
    assert main(["pdf", "-f", config, "reports/nope.md"]) == 1
    assert "no report 'reports/nope.md'" in capsys.readouterr().err


def test_pdf_all_writes_one_pdf_per_report(tmp_path: Path) -> None:
    chromium_or_skip()
    root = make_project(tmp_path / "book", {"notes.md": NOTES, "more/other.md": "# Other\n"})
    assert main(["pdf", "-f", str(root / "mkdocs.yml"), "--all", "-d", str(tmp_path / "out")]) == 0
    assert sorted(
        p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.pdf")
    ) == [
        "more/other.pdf",
        "notes.pdf",
    ]
    assert "Other" in pdf_pages_text(tmp_path / "out" / "more" / "other.pdf")[0]


def test_every_block_kind_of_the_example_is_in_its_pdfs(tmp_path: Path) -> None:
    chromium_or_skip()
    from pypdf import PdfReader

    root = copy_example(tmp_path / "book")
    out = tmp_path / "pdf"
    assert main(["pdf", "-f", str(root / "mkdocs.yml"), "--all", "-d", str(out)]) == 0
    sweep = "\n".join(pdf_pages_text(out / "lr-sweep.pdf"))
    for caption in (
        "Mean over seeds, ±1 std",  # line
        "Mean final validation accuracy per learning rate",  # bar
        "against its learning rate",  # scatter
        "from its learning rate and seed",  # parallel
        "Importance of each parameter",  # importance
        "across the sweep's runs",  # histogram
    ):
        assert caption in sweep, caption
    assert "r18-lr0.1-s2" in sweep and "duration" in sweep  # the table
    variants = out / "variants.pdf"
    text = "\n".join(pdf_pages_text(variants))
    assert (
        "vit-tiny-s0" in text and "convnext-tiny-s0" in text and "augment.mixup" in text
    )  # compare
    assert "plots/confusion.png" in text  # media captions
    # The four confusion matrices are embedded as images (WeasyPrint shares one resource
    # dictionary between pages, so each page lists them all); the charts stay vector.
    names = {image.name for page in PdfReader(variants).pages for image in page.images}
    assert len(names) == 4


def test_a_projects_print_stylesheet_replaces_labbooks(tmp_path: Path) -> None:
    chromium_or_skip()
    root = make_project(tmp_path / "book", {"notes.md": NOTES})
    (root / "themes" / "print").mkdir(parents=True)
    (root / "themes" / "print" / "report.css").write_text(
        "@page { size: A5; @bottom-center { content: 'Team confidential'; } }", encoding="utf-8"
    )
    out = tmp_path / "notes.pdf"
    assert main(["pdf", "-f", str(root / "mkdocs.yml"), "reports/notes.md", "-o", str(out)]) == 0
    assert pdf_info(out)["Page size"].startswith("419.528 x 595.276 pts")  # A5
    assert all("Team confidential" in page for page in pdf_pages_text(out))


def test_a_table_of_many_columns_prints_on_a_landscape_page(tmp_path: Path) -> None:
    chromium_or_skip()
    root = copy_example(tmp_path / "book")
    out = tmp_path / "variants.pdf"
    assert main(["pdf", "-f", str(root / "mkdocs.yml"), "reports/variants.md", "-o", str(out)]) == 0
    pages = pdf_pages_text(out)
    info = subprocess.run(
        [poppler("pdfinfo"), "-f", "1", "-l", str(len(pages)), str(out)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    sizes = [
        line.split(":", 1)[1].strip()
        for line in info.splitlines()
        if line.startswith("Page ") and "size" in line
    ]
    [wide] = [i for i, size in enumerate(sizes) if size.startswith("841.89 x 595.276")]
    # The every-setting table on its landscape page: a param and a final metric of a run.
    convnext = Project.load(root / "mkdocs.yml").sources["local"].get("convnext-tiny-s0")
    assert "adamw" in pages[wide]
    assert f"{convnext.summary['val/loss']:.4g}" in pages[wide]
