"""Gives a built site: the engine-neutral entry point the CLI calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError, LabbookError, ReportError
from ..pagecache import CachedPage
from ..project import Project
from .versions import (
    VERSIONS_FILE,
    VersionBuild,
    VersionRecord,
    VersionUsageError,
    abandon_version,
    finish_version,
    prepare_version,
)

if TYPE_CHECKING:  # a warm build whose pages are all cached never imports the compiler
    from ..report.compile import CompiledPage

ENGINES = ("mkdocs", "zensical")


@dataclass
class BuildResult:
    """What a build produced and what went wrong on the way."""

    site_dir: Path
    pages: int = 0
    errors: list[LabbookError] = field(default_factory=list)
    warnings: list[LabbookError] = field(default_factory=list)
    compiled: list[CompiledPage | CachedPage] = field(default_factory=list)  # for the PDFs
    pdfs: list[Path] = field(default_factory=list)  # `--pdf`: the PDFs written under pdf/
    version: VersionRecord | None = None  # `--version`: the version's record

    @classmethod
    def from_pages(
        cls, pages: list[CompiledPage], source_errors: list[LabbookError], site_dir: Path
    ) -> BuildResult:
        result = cls(site_dir, pages=len(pages), warnings=list(source_errors), compiled=list(pages))
        for page in pages:
            result.errors.extend(page.errors)
            result.warnings.extend(page.warnings)
        return result


def build_with_mkdocs(
    project: Project,
    site_dir: Path,
    *,
    strict: bool = False,
    pdf_links: bool = False,
    version: VersionBuild | None = None,
) -> BuildResult:
    """Gives the result of `mkdocs build` on the project, through labbook's plugin."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    from .mkdocs_plugin import LabbookPlugin

    try:
        config = load_config(config_file=str(project.config_file), site_dir=str(site_dir))
    except MkDocsException as exc:
        raise ConfigError(f"mkdocs.yml: {exc}", file=project.config_file) from exc
    plugin = next((p for p in config.plugins.values() if isinstance(p, LabbookPlugin)), None)
    if plugin is None:
        raise ConfigError(
            "mkdocs.yml does not enable the labbook plugin",
            file=project.config_file,
            hint="add `- labbook:` with its sources under `plugins:`",
        )
    plugin.cli_driven = True
    plugin.pdf_links = pdf_links
    plugin.data_mode = project.data_mode
    # Versions record every compiled page: the page cache's pages are not compiled ones.
    plugin.use_page_cache = project.cache and version is None
    plugin.version = version
    try:
        build(config)
    except MkDocsException as exc:
        raise ConfigError(f"mkdocs build failed: {exc}", file=project.config_file) from exc
    except Exception as exc:  # MkDocs or a Markdown extension stopped on a page: name it
        page = plugin.current_page
        raise ReportError(
            f"MkDocs could not build this page ({type(exc).__name__}: {exc})",
            file=_relative(Path(page), project.root) if page else project.config_file,
            hint="change the text it names; if it is valid Markdown, report this as a labbook bug",
        ) from exc
    return BuildResult(
        site_dir,
        pages=len(plugin.pages),
        errors=list(plugin.errors),
        warnings=list(plugin.warnings),
        compiled=list(plugin.pages.values()),
    )


def _relative(path: Path, root: Path) -> Path:
    try:
        return path.resolve().relative_to(root.resolve())
    except ValueError:
        return path


def build_site(
    project: Project,
    site_dir: Path | None = None,
    *,
    engine: str = "mkdocs",
    strict: bool = False,
    pdf: bool = False,
    page_size: str | None = None,
    version: VersionBuild | None = None,
) -> BuildResult:
    """Gives the result of building the project's site with the chosen engine.

    With `pdf`, every report is also printed to `pdf/<report>.pdf` in the site, and
    each page links its PDF. With `version` (see `build_version`), the site is built
    into that version's staging folder; without, a folder holding published versions is
    refused: MkDocs empties the folder it builds into.
    """
    if version is not None:
        target = version.staging
    else:
        target = site_root(project, site_dir)
        if (target / VERSIONS_FILE).exists():
            raise VersionUsageError(
                f"{target} holds published versions ({VERSIONS_FILE}): a build without"
                " --version would delete them",
                hint="build a version with --version V, or give the unversioned site another"
                " folder with -d",
            )
    if engine == "mkdocs":
        result = build_with_mkdocs(project, target, strict=strict, pdf_links=pdf, version=version)
    elif engine == "zensical":
        from .zensical import build_with_zensical

        pages, source_errors = build_with_zensical(
            project, target, strict=strict, pdf_links=pdf, version=version
        )
        result = BuildResult.from_pages(pages, source_errors, target)
    else:
        raise ConfigError(f"unknown engine {engine!r}", hint="use one of: " + ", ".join(ENGINES))
    if pdf:
        result.pdfs = _write_site_pdfs(
            project, result, page_size, strict, engine, version.version if version else None
        )
    return result


def site_root(project: Project, site_dir: Path | None = None) -> Path:
    """Gives the site folder: `-d`, else mkdocs.yml's `site_dir` (default `site`)."""
    return (site_dir or project.root / str(project.config.get("site_dir", "site"))).resolve()


def build_version(
    project: Project,
    version: str,
    site_dir: Path | None = None,
    *,
    aliases: list[str] | None = None,
    title: str | None = None,
    force: bool = False,
    engine: str = "mkdocs",
    strict: bool = False,
    pdf: bool = False,
    page_size: str | None = None,
) -> BuildResult:
    """Gives the result of building the site as `version` into `site/<version>/`.

    The other versions' folders are not touched; versions.json, the aliases' redirect
    folders and `site/index.html` are updated once the build is done. A version that
    exists already is refused unless `force` (VersionUsageError).
    """
    from ..git import GitHistory

    root = site_root(project, site_dir)
    plan = prepare_version(root, version, aliases=aliases or [], title=title, force=force)
    try:
        result = build_site(
            project, engine=engine, strict=strict, pdf=pdf, page_size=page_size, version=plan
        )
        result.version = finish_version(plan, GitHistory(project.root).build_info())
    finally:
        abandon_version(plan)  # nothing is left when the build was moved into place
    result.site_dir = root / version
    return result


def _write_site_pdfs(
    project: Project,
    result: BuildResult,
    page_size: str | None,
    strict: bool,
    engine: str,
    version: str | None = None,
) -> list[Path]:
    from ..export.pdf import PdfJob, write_pdfs
    from ..git import GitHistory
    from ..report.compile import page_dir, pdf_path, relative_report

    jobs = []
    for page in result.compiled:
        relative = relative_report(project, page.path)
        folder = page_dir(project, page.path)
        if relative is None or folder is None:
            continue
        if engine == "zensical":  # its pages' URLs count from the Markdown file's folder
            folder = relative.parent
        # The page's own folder: its relative URLs (copied media) resolve as in the site.
        jobs.append(PdfJob(page, result.site_dir / folder, result.site_dir / pdf_path(relative)))
    written = write_pdfs(
        project,
        jobs,
        build=GitHistory(project.root).build_info(),
        page_size=page_size,
        strict=strict,
        version=version,  # the cover names the site version it belongs to
    )
    return written.written
