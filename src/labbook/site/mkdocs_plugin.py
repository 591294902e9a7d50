"""The MkDocs plugin: a thin adapter that hands each page to the report compiler."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from ..errors import LabbookError
from ..escaping import escape_html
from ..export.files import write_page_files
from ..pagecache import CachedPage, PageCache, read_report_text
from ..problems import group_problems
from ..project import LabbookConfig, LabbookSettings, Project, validate_options
from . import live, versions
from .assets import MARKDOWN_EXTENSIONS, overrides_dir, scripts, site_assets, stylesheets

if TYPE_CHECKING:  # the compiler is imported on the first page the page cache lacks
    from ..report.compile import CompiledPage, ProjectCompiler

log = logging.getLogger("mkdocs.plugins.labbook")
NOTEBOOK_PREFIX = "notebook/"


def configure_theme(config: MkDocsConfig) -> None:
    """Registers labbook's assets and overrides, and turns web fonts off (the site is offline)."""
    theme = config.theme
    theme["font"] = False
    if theme.name == "material":
        # After a user's own custom_dir, so their overrides still win.
        position = 1 if theme.custom_dir else 0
        if str(overrides_dir()) not in theme.dirs:
            theme.dirs.insert(position, str(overrides_dir()))
    for name in MARKDOWN_EXTENSIONS:
        if name not in config.markdown_extensions:
            config.markdown_extensions.append(name)
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
        self.project: Project | None = None
        self.pdf_links = False  # `labbook build --pdf`: each page links its PDF
        self.data_mode = "prefer"  # `labbook build --offline` / `--refresh` set it
        # Builds that need every page compiled (`--pdf`, versions) turn the page cache off.
        self.use_page_cache = True
        self.page_cache: PageCache | None = None
        self.pages: dict[str, CompiledPage | CachedPage] = {}
        self.errors: list[LabbookError] = []
        self.warnings: list[LabbookError] = []
        self.current_page: str | None = None  # the page MkDocs is reading or rendering
        # The labbook CLI prints the problems itself (grouped) and sets its own exit code;
        # under plain `mkdocs build` the plugin logs them and fails the build on errors.
        self.cli_driven = False
        # `labbook build --version V`: the version being built (None: an unversioned site).
        self.version: versions.VersionBuild | None = None
        self.changes_page: str | None = None  # the generated Changes page's file, if any
        # With the notebook on, reports are compiled in on_files (the notebook's run pages
        # list the reports citing them): report file -> (its text, the page).
        self.precompiled: dict[Path, tuple[str | None, CompiledPage]] = {}

    def on_startup(self, *, command: str, dirty: bool) -> None:
        # Called once per `mkdocs serve`, on the first build's plugin only; rebuilds get
        # fresh plugins, so what they need to know lives in `live`.
        live.serving = command == "serve"

    def load_config(
        self, options: dict[str, Any], config_file_path: str | None = None
    ) -> tuple[list[tuple[str, Exception]], list[tuple[str, str]]]:
        # The CLI's validation (the same LabbookConfig), so `mkdocs build` refuses what
        # `labbook build` does, an unknown option included.
        errors, warnings = super().load_config(options, config_file_path)
        try:
            validate_options(options, Path(config_file_path or "mkdocs.yml"))
        except LabbookError as exc:
            if not errors:
                errors = [("labbook", PluginError(str(exc)))]
        return errors, warnings

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        if not self.config.enabled:
            return config
        configure_theme(config)
        if self.version is not None:
            self._configure_version(config, self.version)
        return config

    def _configure_version(self, config: MkDocsConfig, plan: versions.VersionBuild) -> None:
        from .changes import changes_file_name

        # Material's version selector, which reads ../versions.json from the version's root.
        selector = config.extra.get("version")
        config.extra["version"] = {
            **(selector if isinstance(selector, dict) else {}),
            "provider": "mike",
        }
        if plan.previous is None:
            return
        self.changes_page = changes_file_name(Path(config.docs_dir))
        if isinstance(config.nav, list):
            config.nav.append({f"Changes since {plan.previous.version}": self.changes_page})

    def on_pre_build(self, *, config: MkDocsConfig) -> None:
        config_file = Path(config.config_file_path)
        settings = LabbookSettings.from_config(self.config)
        self.compiler = None
        self.page_cache = None
        if live.serving:
            # Live preview re-reads only the sources whose data changed.
            self.compiler = live.compiler_for(config_file, settings, Path(config.docs_dir))
            self.project = self.compiler.project
        else:
            self.project = Project.from_settings(config_file, settings, Path(config.docs_dir))
            self.project.data_mode = self.data_mode
            # Notebook pages list what every report cites: each build compiles them all.
            notebook_off = settings.notebook == "off"
            if self.use_page_cache and notebook_off:
                self.page_cache = PageCache.for_project(self.project)
        self.pages = {}
        self.precompiled = {}
        self.errors = []
        self.warnings = []

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        if not self.config.enabled:
            return files
        for asset in site_assets():
            if files.get_file_from_path(asset.dest) is None:
                files.append(File.generated(config, asset.dest, abs_src_path=str(asset.src)))
        if self.version is not None and self.version.previous is not None and self.changes_page:
            # Its body is written in on_env, once every report of this version is compiled.
            title = f"Changes since {self.version.previous.version}"
            files.append(File.generated(config, self.changes_page, content=f"# {title}\n"))
        if self.project is not None and self.project.settings.notebook != "off":
            self._add_notebook(files, config)
        return files

    def _add_notebook(self, files: Files, config: MkDocsConfig) -> None:
        """Compiles every report, then adds the notebook's pages and its nav section."""
        compiler = self._compiler()
        reports = []
        for file in files.documentation_pages():
            if file.abs_src_path is None or file.generated_by is not None:
                continue
            path = Path(file.abs_src_path)
            text = read_report_text(path)
            compiled = compiler.compile_file(path, text)
            self.precompiled[path] = (text, compiled)
            reports.append(compiled)
        pages = compiler.notebook_pages(reports)
        added = []
        for notebook_page in pages:
            if files.get_file_from_path(notebook_page.file) is not None:
                continue  # a page the author wrote at that path wins
            content = notebook_page.page.as_document()
            files.append(File.generated(config, notebook_page.file, content=content))
            self.pages[notebook_page.file] = notebook_page.page
            self.warnings.extend(notebook_page.page.warnings)
            added.append(notebook_page)
        if not added or compiler.notebook is None:
            return
        section = compiler.notebook.nav(added)
        if isinstance(config.nav, list):
            config.nav.append(section)
        elif config.nav is None:
            # MkDocs' own nav of the other pages, then the section: left implicit, every run
            # page would be listed in the nav of every page (2,000 runs: 2,000 links each).
            from mkdocs.utils import nest_paths

            others = [
                f.src_uri
                for f in files.documentation_pages()
                if not f.src_uri.startswith(NOTEBOOK_PREFIX)
            ]
            config.nav = [*nest_paths(others), section]  # type: ignore[no-untyped-call]

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
        if not self.config.enabled or self.project is None or page.file.abs_src_path is None:
            return markdown
        # The file itself, not `markdown`: MkDocs has stripped the front matter (which names
        # the runs), and errors must give the line numbers of the file the author edits.
        path = Path(page.file.abs_src_path)
        text = read_report_text(path)
        compiled: CompiledPage | CachedPage | None = None
        kept = self.precompiled.pop(path, None)
        if kept is not None and kept[0] == text:
            compiled = kept[1]
        # `--pdf` pages link their PDF: kept apart from the pages without the link (by the
        # page's key, not the build's, so that builds with and without keep theirs).
        extra = "pdf-links" if self.pdf_links else None
        if compiled is None and self.page_cache is not None and text is not None:
            compiled = self.page_cache.get(path, text, extra)
        if compiled is None:
            compiled = self._compiler().compile_file(path, text)
            if self.page_cache is not None and text is not None:
                self.page_cache.keep_compiled(self._compiler().project, compiled, text, extra)
        self.pages[page.file.src_uri] = compiled
        self.errors.extend(compiled.errors)
        self.warnings.extend(compiled.warnings)
        if compiled.title and not page.meta.get("title"):
            page.meta["title"] = compiled.title
        if self.version is not None and not isinstance(compiled, CachedPage):
            from .changes import note_page  # a version build compiles every page (no page cache)

            compiler = self._compiler()
            to_root = compiler.root_url(compiled.path)
            compiled.markdown += note_page(self.version, compiler.project, compiled, to_root)
        return compiled.markdown

    def on_env(self, env: Any, *, config: MkDocsConfig, files: Files) -> Any:
        plan = self.version
        if plan is None or plan.previous is None or not self.changes_page:
            return env
        from .changes import changes_html, current_record, diff_versions

        file = files.get_file_from_path(self.changes_page)
        if file is not None and file.page is not None:
            new = current_record(plan)
            body = changes_html(diff_versions(plan.previous, new), plan.previous, new)
            file.page.content = f"<h1>{escape_html(file.page.title or '')}</h1>\n{body}"
        return env

    def _compiler(self) -> ProjectCompiler:
        if self.compiler is None:
            from ..report.compile import ProjectCompiler

            assert self.project is not None
            self.compiler = ProjectCompiler(self.project, pdf_links=self.pdf_links)
        return self.compiler

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        if self.project is None:
            return
        write_page_files(self.pages.values(), Path(config.site_dir))
        if self.compiler is None:
            # Every page came from the page cache: no source was opened this build, so
            # their problems are those the last build that opened them found.
            assert self.page_cache is not None
            self.warnings.extend(self.page_cache.source_problems())
            self._report()
            return
        self.compiler.finish()
        if self.page_cache is not None and self.page_cache.sources_kept:
            self.page_cache.keep_sources(self.compiler.project, self.compiler.source_errors)
        if live.serving:
            compiled = [self.compiler.display_path(p) for p in self.compiler.compiled]
            log.info(
                "labbook: compiled %d of %d report(s)%s",
                len(compiled),
                len(self.pages),
                f": {', '.join(compiled)}" if compiled else "",
            )
        # Source problems last: a tracker that did not answer is only known once reports
        # have asked it. Each problem is logged once, with the places it broke.
        self.warnings.extend(self.compiler.source_errors)
        self._report()

    def _report(self) -> None:
        if self.cli_driven:
            return
        problems = group_problems(self.errors, self.warnings)
        for problem in problems:
            (log.error if problem.is_error else log.warning)("%s", "\n".join(problem.lines()))
        failed = sum(p.is_error for p in problems)
        if failed and not live.serving:
            # MkDocs' own rule: an error aborts the build (the pages are written already).
            raise PluginError(f"labbook: {failed} error(s) in reports; see above")

    def on_serve(self, server: Any, *, config: MkDocsConfig, builder: Any) -> Any:
        # Rebuild when run data changes, not only when a report does.
        if self.compiler is not None:
            live.watch(server, self.compiler.project.sources)
        return server
