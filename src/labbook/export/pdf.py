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
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import LabbookError, ReportError
from ..git import BuildInfo
from ..pagecache import CachedPage
from ..progress import advance
from ..project import Project
from ..site.assets import themes_dir
from .document import (
    AFTER_COVER,
    Cover,
    charts_to_images,
    cover_document,
    cover_for,
    document,
    figure_title,
    figures_of,
    math_to_svg,
    print_stylesheets,
    real_footnotes,
    render_markdown,
    without_byline,
)
from .figures import FigureExporter, figure_key, print_figure
from .files import write_atomically, write_page_files
from .pdfcache import Fetched, KeptPdf, PdfCache
from .weasy import CoverPrinter, import_weasyprint

if TYPE_CHECKING:  # not imported to print a kept page: the compiler needs NumPy and more
    from ..report.compile import CompiledPage


@dataclass
class PdfJob:
    """One report to print: its compiled page, where its relative links point from, the PDF."""

    page: CompiledPage | CachedPage
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
    reused: int = 0  # PDFs laid out before: from the cache, with a new cover


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
    cache_dir = project.root / ".labbook" / "cache"
    exporter = FigureExporter(cache_dir / "figures")
    charts = [[print_figure(f) for f in figures_of(body)] for _, body in todo]
    keys = [[figure_key(f, "svg") for f in figures] for figures in charts]  # each hashed once
    unique = dict(
        zip((k for ks in keys for k in ks), (f for fs in charts for f in fs), strict=True)
    )
    images = dict(
        zip(
            unique,
            # WeasyPrint (0.7 s to import) loads while the browser draws the charts.
            exporter.images(
                list(unique.values()), "svg", keys=list(unique), meanwhile=import_weasyprint
            ),
            strict=True,
        )
    )
    result.exported, result.cached = exporter.exported, exporter.cached
    sheets = print_stylesheets(project.root, themes_dir(), page_size)
    printer = _Printer(PdfCache(cache_dir / "pdf"), sheets)
    with tempfile.TemporaryDirectory(prefix="labbook-pdf-") as tmp, ExitStack() as stack:

        def image_for(key: str) -> str:
            # The cache's own file, so that the document (and its key) is the same every run.
            path = exporter.cached_path(key, "svg") or Path(tmp) / f"{key}.svg"
            if not path.exists():
                path.write_bytes(images[key])
            return path.as_uri()

        planned: list[_Planned] = []
        for (job, body), figures, body_keys in zip(todo, charts, keys, strict=True):
            srcs = [
                (image_for(k), figure_title(f)) for k, f in zip(body_keys, figures, strict=True)
            ]
            body = charts_to_images(body, srcs)
            body = without_byline(real_footnotes(math_to_svg(body)))
            write_page_files([job.page], job.base_dir)  # media, where its URLs point
            planned.append(printer.plan(job, body, cover_for(job.page, build, version)))
        # The kept PDFs' new covers render in a process of their own while this one opens
        # the kept PDFs (and renders the reports that changed).
        hits = [p for p in planned if p.kept is not None]
        covers = (
            stack.enter_context(CoverPrinter([(p.cover_html, p.base_url) for p in hits]))
            if hits
            else None
        )
        opened = {id(p): _open_kept(p.kept) for p in hits if p.kept is not None}
        slot = {id(p): i for i, p in enumerate(hits)}
        for p in planned:
            data = None
            kept = opened.get(id(p))
            if covers is not None and kept is not None:
                cover = covers.results()[slot[id(p)]]
                data = kept.with_cover(cover) if cover is not None else None
            result.reused += data is not None
            data = data or printer.render(p)
            if not data:
                raise ReportError("WeasyPrint produced no PDF", file=p.job.target)
            write_atomically(p.job.target, data)
            result.written.append(p.job.target)
            advance("writing PDFs", total=len(todo))
    return result


@dataclass
class _Planned:
    """A report to print: its document, the key it is kept under, and the kept PDF if any."""

    job: PdfJob
    html: str
    cover_html: str
    base_url: str
    key: str
    kept: bytes | None


def _open_kept(data: bytes) -> KeptPdf | None:
    try:
        return KeptPdf(data)
    except ImportError:  # pypdf comes with labbook[pdf]; without it, every PDF is rendered
        return None


class _Printer:
    """Renders print documents with WeasyPrint, keeping them in the PdfCache."""

    def __init__(self, cache: PdfCache, sheets: list[str]) -> None:
        from importlib.metadata import version

        from .. import __version__

        self.cache = cache
        self.sheets = sheets
        # Read without importing WeasyPrint: a report found in the cache never needs it here.
        self.versions = (__version__, version("weasyprint"), version("pydyf"))

    def plan(self, job: PdfJob, body: str, cover: Cover) -> _Planned:
        """Gives the report's print document, its key, and its kept PDF when unchanged."""
        key = self.cache.key(
            document(body, cover.without_clock(), self.sheets), self.sheets, self.versions
        )
        return _Planned(
            job=job,
            html=document(body, cover, self.sheets),
            cover_html=cover_document(cover, self.sheets),
            base_url=str(job.base_dir) + os.sep,
            key=key,
            kept=self.cache.find(key, job.base_dir),
        )

    def render(self, planned: _Planned) -> bytes:
        """Gives the PDF of the whole document, rendered by WeasyPrint, and keeps it."""
        weasyprint = import_weasyprint()
        fetched = Fetched()
        rendered = weasyprint.HTML(
            string=planned.html,
            base_url=planned.base_url,
            url_fetcher=fetched.fetcher(weasyprint),
        ).render()
        data: bytes = rendered.write_pdf()
        # Kept only when the cover is one page: then a new cover can take its place.
        if len(rendered.pages) > 1 and AFTER_COVER in rendered.pages[1].anchors:
            self.cache.keep(planned.key, data, fetched, planned.job.base_dir)
        return data
