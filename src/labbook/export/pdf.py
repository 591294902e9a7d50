"""Compiled reports as PDFs, with WeasyPrint: `labbook pdf` and `labbook build --pdf`.

Every chart of every report in one command is exported through one Kaleido session
(figures.py), the rest is HTML and the print stylesheet. A PDF is written to a
temporary file beside its target and renamed into place, so nothing half-written is
ever left at the output path.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LabbookError, ReportError
from ..git import BuildInfo
from ..progress import advance
from ..project import Project
from ..report.compile import CompiledPage, write_page_files
from ..site.assets import themes_dir
from .document import (
    charts_to_images,
    cover_for,
    document,
    figures_of,
    math_to_svg,
    print_stylesheets,
    real_footnotes,
    render_markdown,
)
from .figures import ExportError, FigureExporter, figure_key, print_figure
from .files import write_atomically


@dataclass
class PdfJob:
    """One report to print: its compiled page, where its relative links point from, the PDF."""

    page: CompiledPage
    base_dir: Path  # folder the page's relative URLs (copied media) resolve against
    target: Path


@dataclass
class PdfResult:
    written: list[Path] = field(default_factory=list)
    refused: list[Path] = field(default_factory=list)  # --strict: reports with problems
    errors: list[LabbookError] = field(default_factory=list)
    warnings: list[LabbookError] = field(default_factory=list)
    exported: int = 0  # charts the browser drew
    cached: int = 0  # charts from the cache


def write_pdfs(
    project: Project,
    jobs: Sequence[PdfJob],
    *,
    build: BuildInfo | None = None,
    page_size: str | None = None,
    strict: bool = False,
    version: str | None = None,
) -> PdfResult:
    """Writes each job's PDF; a report with errors still gets one (error boxes), unless strict."""
    try:
        from weasyprint import HTML
    except ImportError as exc:
        raise ExportError(
            "writing PDFs needs WeasyPrint", hint="install it with: pip install 'labbook[pdf]'"
        ) from exc

    result = PdfResult()
    build = build or BuildInfo()
    todo: list[tuple[PdfJob, str]] = []
    for job in jobs:
        result.errors.extend(job.page.errors)
        result.warnings.extend(job.page.warnings)
        if strict and (job.page.errors or job.page.warnings):
            result.refused.append(job.target)
            continue
        todo.append((job, render_markdown(job.page.markdown, project.config)))
    # Every chart of the command, exported in one browser session (or found in the cache).
    exporter = FigureExporter(project.root / ".labbook" / "cache" / "figures")
    printed = [print_figure(f) for _, body in todo for f in figures_of(body)]
    images = dict(
        zip(
            (figure_key(f, "svg") for f in printed),
            exporter.images(printed, "svg") if printed else [],
            strict=True,
        )
    )
    result.exported, result.cached = exporter.exported, exporter.cached
    sheets = print_stylesheets(project.root, themes_dir(), page_size)
    with tempfile.TemporaryDirectory(prefix="labbook-pdf-") as tmp:
        charts = Path(tmp)

        def image_for(figure: dict[str, object]) -> str:
            key = figure_key(print_figure(figure), "svg")
            path = charts / f"{key}.svg"
            if not path.exists():
                path.write_bytes(images[key])
            return path.as_uri()

        for job, body in todo:
            body = charts_to_images(body, image_for)
            body = real_footnotes(math_to_svg(body))
            write_page_files([job.page], job.base_dir)  # media, where its URLs point
            html = document(body, cover_for(job.page, build, version), sheets)
            data = HTML(string=html, base_url=str(job.base_dir) + os.sep).write_pdf()
            if not data:
                raise ReportError("WeasyPrint produced no PDF", file=job.target)
            write_atomically(job.target, data)
            result.written.append(job.target)
            advance("writing PDFs", total=len(todo))
    return result
