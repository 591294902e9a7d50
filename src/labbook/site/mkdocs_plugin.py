"""The MkDocs plugin: a thin adapter that hands each page to the report compiler."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from ..errors import LabbookError
from ..project import DEFAULT_MAX_POINTS, LabbookSettings, Project
from ..report.compile import CompiledPage, ProjectCompiler
from .assets import overrides_dir, scripts, site_assets, stylesheets

log = logging.getLogger("mkdocs.plugins.labbook")


class LabbookConfig(Config):  # type: ignore[no-untyped-call]
    sources = c.Type(dict, default={})
    notebook = c.Type(bool, default=False)
    max_points = c.Type(int, default=DEFAULT_MAX_POINTS)
    enabled = c.Type(bool, default=True)


def configure_theme(config: MkDocsConfig) -> None:
    """Registers labbook's assets and overrides, and turns web fonts off (the site is offline)."""
    theme = config.theme
    theme["font"] = False
    if theme.name == "material":
        # After a user's own custom_dir, so their overrides still win.
        position = 1 if theme.custom_dir else 0
        if str(overrides_dir()) not in theme.dirs:
            theme.dirs.insert(position, str(overrides_dir()))
    for css in stylesheets():
        if css not in config.extra_css:
            config.extra_css.append(css)
    present = {str(s) for s in config.extra_javascript}
    for js in scripts():
        if js not in present:
            config.extra_javascript.append(js)


class LabbookPlugin(BasePlugin[LabbookConfig]):  # type: ignore[no-untyped-call]
    """Compiles every page through labbook; errors are logged (and fail `--strict`)."""

    def __init__(self) -> None:
        self.compiler: ProjectCompiler | None = None
        self.pages: dict[str, CompiledPage] = {}
        self.errors: list[LabbookError] = []
        self.warnings: list[LabbookError] = []
        self.current_page: str | None = None  # the page MkDocs is reading or rendering

    def _settings(self, config_file: Path) -> LabbookSettings:
        # The same validation as the CLI's, so `mkdocs build` rejects what `labbook` does.
        try:
            return LabbookSettings.from_mapping(dict(self.config), config_file)
        except LabbookError as exc:
            raise PluginError(str(exc)) from exc

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        if not self.config.enabled:
            return config
        configure_theme(config)
        return config

    def on_pre_build(self, *, config: MkDocsConfig) -> None:
        # A fresh project each build, so `mkdocs serve` re-reads runs on every rebuild.
        project = Project.from_settings(
            Path(config.config_file_path),
            self._settings(Path(config.config_file_path)),
            Path(config.docs_dir),
        )
        self.compiler = ProjectCompiler(project)
        self.pages = {}
        self.errors = []
        self.warnings = []
        for error in self.compiler.source_errors:
            self._report(error, warning=True)

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        if not self.config.enabled:
            return files
        for asset in site_assets():
            if files.get_file_from_path(asset.dest) is None:
                files.append(File.generated(config, asset.dest, abs_src_path=str(asset.src)))
        return files

    def on_page_read_source(self, *, page: Page, config: MkDocsConfig) -> str | None:
        # MkDocs stops the whole build on a page that is not UTF-8; here it becomes that
        # page's error (file and byte offset), given by compile_file in on_page_markdown.
        self.current_page = page.file.abs_src_path
        if not self.config.enabled or page.file.abs_src_path is None:
            return None
        try:
            Path(page.file.abs_src_path).read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            return ""
        except OSError:
            return None
        return None

    def on_page_markdown(
        self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        if not self.config.enabled or self.compiler is None or page.file.abs_src_path is None:
            return markdown
        # The file itself, not `markdown`: MkDocs has stripped the front matter (which names
        # the runs), and errors must give the line numbers of the file the author edits.
        compiled = self.compiler.compile_file(Path(page.file.abs_src_path))
        self.pages[page.file.src_uri] = compiled
        for error in compiled.errors:
            self._report(error)
        for warning in compiled.warnings:
            self._report(warning, warning=True)
        if compiled.title and not page.meta.get("title"):
            page.meta["title"] = compiled.title
        return compiled.markdown

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        if self.compiler is None:
            return
        reported = {str(e) for e in self.warnings}
        for error in self.compiler.resolver.problems:
            if str(error) not in reported:
                self._report(error, warning=True)

    def on_serve(self, server: Any, *, config: MkDocsConfig, builder: Any) -> Any:
        # Rebuild when run data changes, not only when a report does.
        if self.compiler is not None:
            for source in self.compiler.project.sources.values():
                path = getattr(source, "root", None)
                if isinstance(path, Path) and path.exists():
                    server.watch(str(path))
        return server

    def _report(self, error: LabbookError, warning: bool = False) -> None:
        (self.warnings if warning else self.errors).append(error)
        log.warning("%s", error)
