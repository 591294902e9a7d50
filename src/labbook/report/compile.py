"""Gives a report compiled to a generator-neutral page: Markdown with raw HTML blocks."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..blocks.base import Block, BlockContext
from ..blocks.page import PageContext
from ..blocks.registry import block_kinds, load_block
from ..errors import LabbookError, ReportError, ReportErrors, at_place
from ..escaping import defuse_marked_sections, escape_html
from ..export.files import write_page_files as write_page_files  # re-exported
from ..git import FileHistory, GitHistory
from ..goals import Goals
from ..model import Run, RunSet
from ..progress import advance, timed
from ..project import Project
from .crossref import link_references, number_blocks, reference_errors
from .expressions import Expressions
from .math import render_math
from .page import CompiledPage as CompiledPage  # re-exported: callers import it from here
from .page import DataStatement as DataStatement
from .page import error_box as error_box
from .parse import BlockFence, ParsedReport, Prose, Verbatim, parse_report
from .resolve import Resolver, UnresolvedRunSet, resolve_run_sets

if TYPE_CHECKING:
    from .notebook import Notebook, NotebookPage

# No backtracking: `^#\s+(.+?)\s*#*\s*$` took cubic time on a heading of many spaces.
_H1 = re.compile(r"^#[ \t]+([^\n]*)$", re.M)


def _first_h1(text: str) -> tuple[int, str] | None:
    """Gives where the first level-1 heading with text ends, and that text (no closing `#`s).

    The end is past the blank lines after the heading up to the last line break, where
    the byline goes.
    """
    for match in _H1.finditer(text):
        heading = match.group(1).strip()
        bare = heading.rstrip("#")
        if not bare or bare[-1] in " \t":
            heading = bare.rstrip()
        if heading:
            end = stop = match.end()
            while stop < len(text) and text[stop].isspace():
                stop += 1
            return (stop if stop == len(text) else max(end, text.rfind("\n", end, stop))), heading
    return None


@dataclass
class CompileOptions:
    """What a compile needs from the project."""

    max_points: int = 1500
    history: GitHistory | None = None  # authors and last edits; None: no git lookups
    display_path: str | None = None  # how errors name the file (relative to the project)
    source_path: Path | None = None  # the report file itself, for its git history
    goals: Mapping[str, str] = field(default_factory=dict)  # the `goals:` option
    root_url: str = ""  # from the page to the site's root, for the files blocks copy
    theme_dirs: tuple[Path, ...] = ()  # project folders whose `blocks/` override templates
    check_only: bool = False  # `labbook check`: blocks check their keys, draw nothing
    pdf_href: str | None = None  # `build --pdf`: the page's PDF, linked in its byline
    math_source: bool = False  # keep `$…$` as written (GitHub renders it), not MathML
    # The lab notebook's run page URL from the site's root; None: links go to the tracker.
    notebook_url: Callable[[Run], str] | None = None


def report_authors(parsed: ParsedReport, history: FileHistory) -> list[str]:
    """Gives the report's authors: its front matter's `authors`, else its git authors."""
    raw = parsed.front_matter.get("authors")
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and raw:
        return [str(a) for a in raw]
    return list(history.authors)


def _header(
    parsed: ParsedReport,
    chunks: list[tuple[bool, str]],
    history: FileHistory,
    data: DataStatement | None,
    pdf_href: str | None = None,
) -> tuple[str, str | None]:
    """Gives the page with its title and byline (authors, last edit, data read) and the title.

    `chunks` are the compiled pieces, each flagged True when it is prose: the title is
    the first H1 of the prose, never a `# comment` inside a code block.
    """
    front = parsed.front_matter
    authors = report_authors(parsed, history)
    last_edit = history.last_edited
    parts = []
    if authors:
        parts.append(f'<span class="labbook-authors">{escape_html(", ".join(authors))}</span>')
    if last_edit:
        parts.append(
            f'<span class="labbook-edited">last edited {last_edit.date().isoformat()}</span>'
        )
    if data is not None:
        when = data.oldest
        frozen = ' data-frozen="true"' if data.frozen else ""
        parts.append(
            f'<span class="labbook-read-at"{frozen}'
            f' data-read-at="{when.isoformat() if when else ""}">'
            f"{escape_html(data.text())}</span>"
        )
    if pdf_href:
        parts.append(f'<a class="labbook-pdf-link" href="{escape_html(pdf_href)}" download>PDF</a>')
    byline = f'<p class="labbook-byline">{" · ".join(parts)}</p>' if parts else ""
    title = front.get("title")
    title = str(title) if title is not None else None
    for index, (is_prose, text) in enumerate(chunks):
        found = _first_h1(text) if is_prose else None
        if found:
            end, heading = found
            title = title or heading
            if byline:
                text = text[:end] + "\n\n" + byline + "\n" + text[end:]
            pieces = [c for _, c in chunks]
            pieces[index] = text
            return "".join(pieces), title
    head = f"# {defuse_marked_sections(title)}\n\n" if title else ""
    return head + (byline + "\n\n" if byline else "") + "".join(c for _, c in chunks), title


def _default_runs(run_sets: Mapping[str, RunSet], *, strict: bool = False) -> RunSet:
    """Gives the union of the report's run sets; `strict` raises if any of them failed."""
    union = RunSet()
    for runs in run_sets.values():
        if isinstance(runs, UnresolvedRunSet):
            if strict:
                # A chart of "every run" that silently lacks a failed set's runs would mislead.
                raise runs.problem()
            continue
        union = union + runs
    return union


def _build_block(
    fence: BlockFence,
    index: int,
    display: str,
    resolver: Resolver,
    run_sets: Mapping[str, RunSet],
    options: CompileOptions,
    goals: Goals | None = None,
    page: PageContext | None = None,
    run_link: Callable[[Run], str | None] | None = None,
) -> tuple[Block, RunSet]:
    """Gives a validated block and the runs it draws; raises ReportError at the right line."""
    if fence.error is not None:
        raise fence.error
    data = fence.data
    if not isinstance(data, dict) or not data:
        raise ReportError(
            "a labbook block must be a YAML mapping whose first key names its kind",
            file=display,
            line=fence.line,
            hint="e.g. `line: val/loss` then `runs: sweep`",
        )
    kind = str(next(iter(data)))
    kinds = block_kinds()
    if kind not in kinds:
        raise ReportError(
            f"unknown block kind {kind!r}",
            file=display,
            line=fence.key_lines.get(kind, fence.line),
            column=fence.key_columns.get(kind),
            hint="known kinds: " + ", ".join(sorted(kinds)),
        )
    ctx = BlockContext(
        report_file=display,
        block_index=index,
        key_lines=fence.key_lines,
        key_columns=fence.key_columns,
        fence_line=fence.line,
        max_points=options.max_points,
        goals=goals,
        page=page or PageContext(),
        resolve_runs=lambda spec: resolver.runs(spec, run_sets),
        read_artifact=resolver.read_artifact,
        list_artifacts=resolver.list_artifacts,
    )
    if run_link is not None:
        ctx.run_link = run_link
    block = load_block(kind)(data, ctx)
    try:
        if block.runs_spec is None:
            runs = _default_runs(run_sets, strict=True)
        else:
            runs = resolver.runs(block.runs_spec, run_sets)
    except LabbookError as exc:
        option = block.runs_option
        located = at_place(exc, display, ctx.line_of(option))
        if located.column is None and located.line == ctx.line_of(option):
            located.column = ctx.column_of(option)
        raise located from exc
    return block, runs


def compile_report(
    path: Path,
    text: str,
    resolver: Resolver,
    options: CompileOptions | None = None,
) -> CompiledPage:
    """Gives a report compiled into Markdown with raw HTML blocks; errors become error boxes.

    This is the one place a report becomes a page: the MkDocs plugin, the Zensical driver,
    `labbook check` and the PDF all call it.
    """
    options = options or CompileOptions()
    display = options.display_path or str(path)
    page = CompiledPage(path=path, markdown="", text=text)
    try:
        parsed = parse_report(Path(display), text)
    except LabbookError as exc:
        page.errors.append(exc)
        page.markdown = error_box(exc) + "\n"
        return page

    page.warnings.extend(parsed.warnings)
    run_sets, set_errors = resolve_run_sets(
        resolver, parsed.front_matter, parsed.front_matter_lines, Path(display), page.warnings
    )
    page.errors.extend(set_errors)
    goals = Goals(options.goals, file=display)
    for runs in run_sets.values():
        runs.goals = goals
    used = _default_runs(run_sets)

    def lookup(ref: str) -> Run:
        return resolver.run(ref)

    numbers, labels = number_blocks(parsed.segments, _figure_kind)
    page_ctx = PageContext(
        theme_dirs=options.theme_dirs, numbers=numbers, labels=labels, root_url=options.root_url
    )
    linked: list[Run] = []

    def run_link(run: Run) -> str | None:
        """Gives where a run's name links: its notebook page (then it gets one), else its tracker."""
        if options.notebook_url is None:
            return run.url
        linked.append(run)
        return options.root_url + options.notebook_url(run)

    expressions = Expressions(
        Path(display), run_sets, lookup, run_link, record=page_ctx.values.append
    )
    out: list[tuple[bool, str]] = [(False, error_box(e) + "\n\n") for e in set_errors]
    block_index = 0
    for segment in parsed.segments:
        if isinstance(segment, Verbatim):
            out.append((False, segment.text))
        elif isinstance(segment, Prose):
            goals.base_line = segment.line
            page.errors.extend(reference_errors(segment, labels, display))
            try:
                rendered_text = expressions.render(segment.text, segment.line)
            except LabbookError as exc:
                # Every failing expression, not only the first, each at its line and column.
                found = expressions.errors_in(segment.text, segment.line) or [exc]
                page.errors.extend(found)
                boxes = "".join(error_box(e) for e in found)
                rendered_text = "\n" + boxes + "\n\n" + segment.text
            rendered_text = link_references(rendered_text, labels)
            try:
                if not options.math_source:
                    rendered_text = render_math(rendered_text, segment.line, display)
            except LabbookError as exc:
                page.errors.append(exc)
                rendered_text = "\n" + error_box(exc) + "\n\n" + rendered_text
            # MkDocs' HTML scan of the page stops on some `<![`; the reader sees the same text.
            out.append((True, defuse_marked_sections(rendered_text)))
        elif isinstance(segment, BlockFence):
            try:
                block, runs = _build_block(
                    segment,
                    block_index,
                    display,
                    resolver,
                    run_sets,
                    options,
                    goals,
                    page_ctx,
                    run_link,
                )
                rendered = block.check(runs) if options.check_only else block.render(runs)
                used = used + runs
                page.warnings.extend(rendered.warnings)
                if rendered.figure is not None:
                    page.figures.append(rendered.figure)
                html = rendered.html
            except ReportErrors as exc:
                page.errors.extend(exc.errors)
                html = "".join(error_box(e) for e in exc.errors)
            except LabbookError as exc:
                located = at_place(exc, display, segment.line)
                page.errors.append(located)
                html = error_box(located)
            except Exception as exc:  # a bug must cost one block, not the whole build
                error = ReportError(
                    f"this block could not be drawn ({type(exc).__name__}: {exc})",
                    file=display,
                    line=segment.line,
                    hint="please report this as a labbook bug",
                )
                page.errors.append(error)
                html = error_box(error)
            block_index += 1
            out.append((False, "\n" + html + "\n\n"))

    if linked:  # a run linked in the prose (`run(ref) | link`) gets a notebook page too
        known = {r.ref for r in used}
        used = used + RunSet(dict.fromkeys(r for r in linked if r.ref not in known))
    data = DataStatement.of(used, resolver.frozen_at)
    if options.history is not None:
        page.history = options.history.of(options.source_path or path)
    page.markdown, page.title = _header(parsed, out, page.history, data, options.pdf_href)
    page.data = data
    page.read_at = data.oldest if data else None
    page.authors = report_authors(parsed, page.history)
    page.meta = {k: v for k, v in parsed.front_matter.items() if k not in ("runs",)}
    page.runs = used
    page.notes = goals.notes
    page.files = page_ctx.files
    page.values = page_ctx.values
    return page


def relative_report(project: Project, path: Path) -> Path | None:
    """Gives the report's path inside the docs folder (None: it is not in there)."""
    try:
        return path.resolve().relative_to(project.docs_dir)
    except ValueError:
        return None


def page_dir(project: Project, path: Path) -> Path | None:
    """Gives the report's page folder in the site, relative to its root, as MkDocs lays it out."""
    relative = relative_report(project, path)
    if relative is None:
        return None
    directory_urls = project.config.get("use_directory_urls", True) is not False
    if directory_urls and relative.stem not in ("index", "README"):
        return relative.parent / relative.stem
    return relative.parent


def pdf_path(report: Path) -> str:
    """Gives where `build --pdf` puts a report's PDF, from the site's root."""
    return "pdf/" + report.with_suffix(".pdf").as_posix()


def _figure_kind(kind: str) -> str | None:
    """Gives what a block kind's caption numbers ("fig" or "tbl"), None for an unknown kind."""
    if kind not in block_kinds():
        return None
    try:
        return load_block(kind).figure_kind
    except LabbookError:
        return None


class ProjectCompiler:
    """Compiles a project's reports against its sources, sharing one resolver per build."""

    def __init__(
        self,
        project: Project,
        resolver: Resolver | None = None,
        *,
        check_only: bool = False,
        root_url: str | None = None,
        pdf_links: bool = False,
        source_relative: bool = False,
        math_source: bool = False,
        memo: dict[Path, tuple[str, CompiledPage]] | None = None,
    ) -> None:
        # Live preview's pages of the previous build, by file: a report whose text did not
        # change (while no source did) is not compiled again. None: compile every report.
        self.memo = memo
        self.compiled: list[Path] = []  # the reports this compiler compiled, in order
        self.math_source = math_source
        # Zensical rewrites relative URLs in a page as relative to its Markdown file (MkDocs
        # leaves raw HTML alone): then links count from the file, not from the page.
        self.source_relative = source_relative
        self.pdf_links = pdf_links  # `build --pdf`: each page links pdf/<report>.pdf
        # `root_url`: one way up to the files for every page (a PDF's own folder), instead
        # of each page's place in the site.
        self.fixed_root_url = root_url
        self.project = project
        # Live preview hands in the resolver of the previous build, so what did not change
        # is not read again.
        self.resolver = resolver or Resolver(
            project.sources,
            project.default_source,
            failed=project.failed_sources,
            snapshots=project.snapshots(),
            mode=project.data_mode,
        )
        self.resolver.open_all()
        self.notebook: Notebook | None = None
        if project.settings.notebook != "off":
            from .notebook import Notebook

            self.notebook = Notebook(
                project.settings.notebook,
                self.resolver,
                project.docs_dir,
                max_points=project.settings.max_points,
                goals=project.settings.goals,
                theme_dirs=(project.root / "themes",),
                directory_urls=project.config.get("use_directory_urls", True) is not False,
                source_relative=source_relative,
            )
        self._reports: int | None = None
        self.options = CompileOptions(
            max_points=project.settings.max_points,
            history=GitHistory(project.root),
            goals=project.settings.goals,
            check_only=check_only,
        )

    @property
    def source_errors(self) -> list[LabbookError]:
        """Gives the sources that would not open, and what each source could not read."""
        if self.resolver.mode == "offline":
            # No tracker is read, so none of them has problems to tell; what no snapshot
            # holds is an error where a report asks for it. A broken snapshot still shows.
            return [e for e in self.project.source_errors if e.file and ".labbook" in e.file]
        errors = list(self.project.source_errors)
        for source in self.project.sources.values():
            errors.extend(source.problems())
        # Sources that failed while reports were resolved (a tracker that did not answer).
        seen = {str(e) for e in errors}
        errors.extend(e for e in self.resolver.problems if str(e) not in seen)
        return errors

    def finish(self) -> None:
        """Ends the build: writes what it added to the run cache.

        The sources' problems are asked first, so the cache keeps them too: a build that
        trusts the cache then need not scan the sources' files for them.
        """
        self.source_errors  # noqa: B018 - asked for what it caches
        self.project.flush_cache()

    def display_path(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.project.root))
        except ValueError:
            return str(path)

    def compile_file(self, path: Path, text: str | None = None) -> CompiledPage:
        """Gives one report compiled; `text` overrides the file's content."""
        display = self.display_path(path)
        with timed("report", display):
            try:
                if text is None:
                    text = read_report(path, display)
                kept = self.memo.get(path) if self.memo is not None else None
                if kept is not None and kept[0] == text:
                    advance("compiling reports", total=self._report_count())
                    return kept[1]
                self.compiled.append(path)
                page = self._compile(path, text, display)
                if self.memo is not None and not page.errors:
                    self.memo[path] = (text, page)
            except LabbookError as exc:
                page = failed_page(path, exc)
            except Exception as exc:  # a bug must cost one report, not the whole build or check
                page = failed_page(
                    path,
                    ReportError(
                        f"this report could not be compiled ({type(exc).__name__}: {exc})",
                        file=display,
                        hint="please report this as a labbook bug",
                    ),
                )
        advance("compiling reports", total=self._report_count())
        return page

    def _report_count(self) -> int:
        if self._reports is None:
            self._reports = len(self.project.reports())
        return self._reports

    def _compile(self, path: Path, text: str, display: str) -> CompiledPage:
        options = CompileOptions(
            max_points=self.options.max_points,
            history=self.options.history,
            display_path=display,
            source_path=path,
            goals=self.options.goals,
            root_url=self.fixed_root_url
            if self.fixed_root_url is not None
            else self.root_url(path),
            check_only=self.options.check_only,
            pdf_href=self.pdf_href(path) if self.pdf_links else None,
            math_source=self.math_source,
            theme_dirs=(self.project.root / "themes",),
            notebook_url=self.notebook.run_url if self.notebook is not None else None,
        )
        return compile_report(path, text, self.resolver, options)

    def notebook_pages(self, reports: list[CompiledPage]) -> list[NotebookPage]:
        """Gives the lab notebook's pages (none when it is off), for these compiled reports."""
        if self.notebook is None:
            return []
        cited = []
        for page in reports:
            relative = relative_report(self.project, page.path)
            if relative is None:
                continue
            if self.source_relative:
                url = relative.as_posix()
            else:
                folder = page_dir(self.project, page.path)
                url = "" if folder is None or not folder.parts else folder.as_posix() + "/"
            cited.append((page, url, page.title or relative.stem))
        return self.notebook.pages(cited)

    def pdf_href(self, path: Path) -> str | None:
        """Gives the URL, from the report's page, of its PDF under the site's `pdf/`."""
        relative = relative_report(self.project, path)
        if relative is None:
            return None
        return self.root_url(path) + pdf_path(relative)

    def root_url(self, path: Path) -> str:
        """Gives the way from the report's page up to the site's root, as MkDocs lays it out."""
        if self.source_relative:
            relative = relative_report(self.project, path)
            return "" if relative is None else "../" * len(relative.parent.parts)
        folder = page_dir(self.project, path)
        return "" if folder is None else "../" * len(folder.parts)


def failed_page(path: Path, error: LabbookError) -> CompiledPage:
    """Gives the page of a report that could not be compiled: its error box alone."""
    return CompiledPage(path=path, markdown=error_box(error) + "\n", errors=[error])


def read_report(path: Path, display: str | None = None) -> str:
    """Gives a report file's text; a file that is not UTF-8 is a ReportError at its byte offset."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReportError(
            f"cannot read the report: {exc.strerror or exc}", file=display or path
        ) from exc
    try:
        # utf-8-sig, as MkDocs reads pages: a byte-order mark is not part of the text.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReportError(
            f"the report is not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}"
            f" ({exc.reason})",
            file=display or path,
            line=data.count(b"\n", 0, exc.start) + 1,
            hint="save the file as UTF-8",
        ) from exc
