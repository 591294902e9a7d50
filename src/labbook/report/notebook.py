"""Gives the lab notebook: experiment and run pages, compiled to generator-neutral pages.

Reports are what people write; the notebook is what labbook writes on its own
(`notebook: true` or `all` in mkdocs.yml). Its pages are CompiledPages like a report's,
so the MkDocs plugin and the Zensical driver add them as they add reports; it lives in
the report pipeline, not in `site/`, because the compiler needs its URLs (`link`, run
names in tables) and an output adapter must not be imported back by the pipeline.

Decisions:

- URLs are `notebook/<source>/<experiment>/<run-id>/`, from IDs (a renamed run keeps
  its page). A path part that is not plain (`[A-Za-z0-9._-]`) is made plain and gets
  six hex digits of its hash, so two names never share a folder.
- `notebook: true` writes a page for every run a report uses or links; the experiment
  tables list every run of the experiment and link the runs that have a page (the
  others to their tracker). `all` writes a page for every run of every source.
- An experiment's main metric: the first key of `goals:` that every run's summary holds,
  else the first such summary key in sorted order; its page says which.
- Charts are the `line`, `scatter` and `table` blocks, given block specs: a run page is
  as light as a report's chart of the same run (series downsampled to `max_points`).
- Everything from a run goes through autoescaped templates (templates/blocks/notebook/).
- A block that cannot be drawn for a run (a metric with no finite point) shows an error
  box and is a warning, not an error: the data, not an author, is at fault.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from ..blocks.base import BlockContext, display_value
from ..blocks.columns import differs
from ..blocks.page import PageContext
from ..blocks.registry import load_block
from ..errors import LabbookError, ReportErrors
from ..escaping import escape_html, json_for_script, plotly_text, safe_link
from ..goals import Goals, goal_of
from ..model import Run, RunSet, format_seconds
from .page import CompiledPage, error_box
from .resolve import Resolver

NOTEBOOK_DIR = "notebook"
NOTEBOOK_TITLE = "Lab notebook"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")
HOST_TAGS = ("host", "hostname", "wandb.host", "mlflow.host", "sys.host")
MAX_METRIC_COLUMNS = 12  # summary metrics in an experiment's table
NO_EXPERIMENT = "(no experiment)"
_PLAIN = re.compile(r"[A-Za-z0-9._-]+\Z")


def url_part(text: str) -> str:
    """Gives a path part for a name or ID: itself when plain, else a plain form with its hash."""
    if _PLAIN.match(text) and text not in (".", ".."):
        return text
    plain = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:60] or "x"
    return f"{plain}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:6]}"


def experiment_of(run: Run) -> str:
    return run.experiment or NO_EXPERIMENT


def experiment_file(source: str, experiment: str) -> str:
    """Gives an experiment page's file in the docs folder, e.g. notebook/local/resnet/index.md."""
    return f"{NOTEBOOK_DIR}/{url_part(source)}/{url_part(experiment)}/index.md"


def run_file(run: Run) -> str:
    """Gives a run page's file in the docs folder: notebook/<source>/<experiment>/<id>.md."""
    return (
        f"{NOTEBOOK_DIR}/{url_part(run.source)}/{url_part(experiment_of(run))}/"
        f"{url_part(run.id)}.md"
    )


def file_url(file: str, directory_urls: bool = True) -> str:
    """Gives a docs file's URL from the site's root, as MkDocs lays it out."""
    stem = file.removesuffix(".md")
    if stem == "index" or stem.endswith("/index"):
        return stem.removesuffix("index")
    return stem + "/" if directory_urls else stem + ".html"


@dataclass
class NotebookPage:
    """One generated page: its file in the docs folder and the page compiled."""

    file: str  # e.g. "notebook/local/resnet/3f2a9c7e.md"
    page: CompiledPage
    nav_title: str | None = None  # listed in the nav section under this title (None: not)


@dataclass
class _Experiment:
    source: str
    name: str
    runs: list[Run] = field(default_factory=list)


class Notebook:
    """The notebook of one build: which runs get pages, their URLs, and the pages themselves."""

    def __init__(
        self,
        mode: str,
        resolver: Resolver,
        docs_dir: Path,
        *,
        max_points: int = 1500,
        goals: Mapping[str, str] | None = None,
        theme_dirs: tuple[Path, ...] = (),
        directory_urls: bool = True,
        source_relative: bool = False,
    ) -> None:
        self.mode = mode  # "cited" or "all"
        self.resolver = resolver
        self.docs_dir = docs_dir
        self.max_points = max_points
        self.goals = dict(goals or {})
        self.theme_dirs = theme_dirs
        self.directory_urls = directory_urls
        # Zensical counts relative URLs from the Markdown file; MkDocs from the page.
        self.source_relative = source_relative
        self._paged: set[str] = set()  # refs of the runs that have a page

    # --- URLs -----------------------------------------------------------------------------

    def run_url(self, run: Run) -> str:
        """Gives the URL of a run's page from the site's root (the page may not exist yet)."""
        return self._url(run_file(run))

    def _url(self, file: str) -> str:
        if self.source_relative:
            return file
        return file_url(file, self.directory_urls)

    def root_url(self, file: str) -> str:
        """Gives the way from a notebook page up to the site's root."""
        # `notebook/local/x/` and `notebook/local/x.html` are as deep as `notebook/local/x.md`.
        return "../" * self._url(file).count("/")

    # --- Pages ----------------------------------------------------------------------------

    def pages(self, reports: Iterable[tuple[CompiledPage, str, str]]) -> list[NotebookPage]:
        """Gives every notebook page; `reports` are (page, its URL from the root, title).

        The reports must be compiled first: a run page lists the reports that cite it.
        """
        cited: dict[str, list[tuple[str, str]]] = {}
        wanted: dict[str, Run] = {}
        for page, url, title in reports:
            for run in page.runs:
                if (url, title) not in cited.setdefault(run.ref, []):
                    cited[run.ref].append((url, title))
                wanted.setdefault(run.ref, run)
        experiments: dict[tuple[str, str], _Experiment] = {}
        listed = self._listed_runs(wanted.values())
        for run in listed:
            key = (run.source, experiment_of(run))
            experiments.setdefault(key, _Experiment(*key)).runs.append(run)
        if self.mode == "all":
            wanted = {run.ref: run for run in listed}
        self._paged = set(wanted)
        out: list[NotebookPage] = [self._index_page(list(experiments.values()))]
        for source in dict.fromkeys(e.source for e in experiments.values()):
            mine = [e for e in experiments.values() if e.source == source]
            out.append(self._index_page(mine, source))
        for experiment in experiments.values():
            out.append(self._experiment_page(experiment))
        for run in wanted.values():
            out.append(self._run_page(run, cited.get(run.ref, [])))
        return out

    def _listed_runs(self, cited: Iterable[Run]) -> list[Run]:
        """Gives every run the notebook lists: all runs of each source, cited runs first kept."""
        runs: dict[str, Run] = {}
        for run in cited:
            runs[run.ref] = run
        for name in self.resolver.sources:
            for run in self.resolver.all_runs(name):
                runs.setdefault(run.ref, run)
        return sorted(runs.values(), key=lambda r: (r.source, experiment_of(r), _start_key(r)))

    def _link(self, root_url: str) -> Callable[[Run], str | None]:
        def link(run: Run) -> str | None:
            if run.ref in self._paged:
                return root_url + self.run_url(run)
            return run.url

        return link

    def _page(self, file: str, title: str) -> tuple[CompiledPage, PageContext, str]:
        path = self.docs_dir / file
        root_url = self.root_url(file)
        ctx = PageContext(theme_dirs=self.theme_dirs, root_url=root_url)
        return CompiledPage(path=path, markdown="", title=escape_title(title)), ctx, root_url

    def _block(
        self,
        page: CompiledPage,
        ctx: PageContext,
        index: int,
        spec: dict[str, Any],
        runs: list[Run],
        root_url: str,
    ) -> str:
        """Gives a block's HTML drawn for these runs (an error box when it cannot be)."""
        display = page.path.name
        block_ctx = BlockContext(
            report_file=str(page.path.relative_to(self.docs_dir.parent))
            if page.path.is_relative_to(self.docs_dir.parent)
            else display,
            block_index=index,
            key_lines={},
            fence_line=1,
            max_points=self.max_points,
            run_link=self._link(root_url),
            goals=Goals(self.goals, file=display),
            page=ctx,
            read_artifact=self.resolver.read_artifact,
            list_artifacts=self.resolver.list_artifacts,
        )
        try:
            block = load_block(str(next(iter(spec))))(spec, block_ctx)
            rendered = block.render(RunSet(runs))
        except ReportErrors as exc:
            page.warnings.extend(exc.errors)
            return "".join(error_box(e) for e in exc.errors)
        except LabbookError as exc:
            page.warnings.append(exc)
            return error_box(exc)
        page.warnings.extend(rendered.warnings)
        if rendered.figure is not None:
            page.figures.append(rendered.figure)
        return rendered.html

    def _finish(self, page: CompiledPage, ctx: PageContext, html: str, runs: list[Run]) -> None:
        page.markdown = html + "\n"
        page.files = ctx.files
        page.runs = RunSet(runs)

    def _index_page(
        self, experiments: list[_Experiment], source: str | None = None
    ) -> NotebookPage:
        if source is None:
            file, title = f"{NOTEBOOK_DIR}/index.md", NOTEBOOK_TITLE
        else:
            file, title = f"{NOTEBOOK_DIR}/{url_part(source)}/index.md", f"{source}: experiments"
        page, ctx, root_url = self._page(file, title)
        sources = []
        for name in dict.fromkeys(e.source for e in experiments):
            rows = []
            for experiment in (e for e in experiments if e.source == name):
                runs = experiment.runs
                main = self.main_metric(runs)
                best = RunSet(runs).best(main, goal_of(main, self.goals)[0]) if main else None
                starts = [r.start_time for r in runs if r.start_time is not None]
                rows.append(
                    {
                        "name": experiment.name,
                        "href": root_url + self._url(experiment_file(name, experiment.name)),
                        "runs": len(runs),
                        "first": min(starts).date().isoformat() if starts else "",
                        "last": max(starts).date().isoformat() if starts else "",
                        "statuses": ", ".join(
                            f"{status} {n}"
                            for status, n in Counter(r.status or "unknown" for r in runs).items()
                        ),
                        "metric": main or "",
                        "mode": goal_of(main, self.goals)[0] if main else "",
                        "best": display_value(best.summary.get(main)) if best and main else "",
                        "best_run": best.name or best.id if best else "",
                        "best_href": self._link(root_url)(best) if best else None,
                    }
                )
            sources.append(
                {
                    "name": name,
                    "href": root_url + self._url(f"{NOTEBOOK_DIR}/{url_part(name)}/index.md"),
                    "rows": rows,
                }
            )
        html = ctx.render("notebook/index.html", title=title, sources=sources, single=source)
        self._finish(page, ctx, html, [])
        return NotebookPage(file, page, nav_title=NOTEBOOK_TITLE if source is None else source)

    def main_metric(self, runs: list[Run]) -> str | None:
        """Gives an experiment's main metric: a goal key every run holds, else the first such key."""
        if not runs:
            return None
        shared = set.intersection(*(set(r.summary) for r in runs))
        shared = {k for k in shared if all(_is_number(r.summary[k]) for r in runs)}
        for key in self.goals:
            bare = key.removeprefix("metrics.")
            if bare in shared:
                return bare
        return min(shared) if shared else None

    def _experiment_page(self, experiment: _Experiment) -> NotebookPage:
        file = experiment_file(experiment.source, experiment.name)
        page, ctx, root_url = self._page(file, f"{experiment.name} ({experiment.source})")
        runs = experiment.runs
        params = sorted({k for r in runs for k in r.params})
        varying = [k for k in params if differs([r.params.get(k) for r in runs])]
        metrics = sorted({k for r in runs for k in r.summary})[:MAX_METRIC_COLUMNS]
        columns = ["name", "status", "start_time", "duration"]
        columns += [f"params.{k}" for k in varying] + [f"metrics.{k}" for k in metrics]
        main = self.main_metric(runs)
        table_spec: dict[str, Any] = {"table": columns, "sort": "start_time desc"}
        if main:
            table_spec["highlight"] = {f"metrics.{main}": goal_of(main, self.goals)[0]}
        table = self._block(page, ctx, 0, table_spec, runs, root_url)
        timeline = self._timeline(ctx, runs)
        scatter = ""
        if main and any(r.start_time for r in runs):
            scatter = self._block(
                page,
                ctx,
                2,
                {
                    "scatter": {"x": "start_time", "y": main},
                    "best_so_far": True,
                    "title": f"{main} by start time",
                },
                [r for r in runs if r.start_time is not None and main in r.summary],
                root_url,
            )
        html = ctx.render(
            "notebook/experiment.html",
            experiment=experiment.name,
            source=experiment.source,
            runs=len(runs),
            main=main,
            mode=goal_of(main, self.goals)[0] if main else None,
            main_from_goals=bool(main and (main in self.goals or f"metrics.{main}" in self.goals)),
            varying=varying,
            table=Markup(table),
            timeline=Markup(timeline),
            scatter=Markup(scatter),
            index_href=root_url
            + self._url(f"{NOTEBOOK_DIR}/{url_part(experiment.source)}/index.md"),
        )
        self._finish(page, ctx, html, runs)
        return NotebookPage(file, page)

    def _timeline(self, ctx: PageContext, runs: list[Run]) -> str:
        """Gives a chart of each run as a bar from its start to its end (now, while running)."""
        timed = [r for r in runs if r.start_time is not None]
        if not timed:
            return ""
        timed.sort(key=_start_key)
        bars = []
        for run in timed:
            assert run.start_time is not None
            seconds = run.duration or 0.0
            bars.append(
                {
                    "base": run.start_time.isoformat(),
                    "x": max(seconds, 1.0) * 1000.0,  # a date axis counts milliseconds
                    "y": plotly_text(run.name or run.id),
                    "color": ctx.color(run),
                    "text": plotly_text(
                        f"{run.name or run.id} · {run.status or 'unknown'} · "
                        + (format_seconds(seconds) if run.duration is not None else "no end")
                    ),
                }
            )
        height = max(160, min(24 * len(bars) + 80, 900))
        figure = {
            "data": [
                {
                    "type": "bar",
                    "orientation": "h",
                    "base": [b["base"] for b in bars],
                    "x": [b["x"] for b in bars],
                    "y": [b["y"] for b in bars],
                    "marker": {"color": [b["color"] for b in bars]},
                    "hovertext": [b["text"] for b in bars],
                    "hoverinfo": "text",
                    "meta": {"role": "timeline"},
                }
            ],
            "layout": {
                "height": height,
                "margin": {"l": 160, "r": 20, "t": 20, "b": 40},
                "xaxis": {"type": "date", "title": {"text": "start → end"}},
                "yaxis": {"automargin": True, "autorange": "reversed", "type": "category"},
                "showlegend": False,
            },
        }
        return ctx.render(
            "chart.html",
            css_class="labbook-chart labbook-timeline",
            element_id="labbook-block-1",
            figure_kind=None,
            title="Runs by start time",
            caption=None,
            number=None,
            body=Markup(""),
            figure_json=Markup(json_for_script(figure)),
            height=height,
            extra=Markup(""),
        )

    def _run_page(self, run: Run, cited: list[tuple[str, str]]) -> NotebookPage:
        file = run_file(run)
        page, ctx, root_url = self._page(file, run.name or run.id)
        charts = []
        try:
            keys = run.metric_keys()
        except LabbookError as exc:
            page.warnings.append(exc)
            keys = []
        for index, key in enumerate(keys):
            if not _has_history(run, key):
                continue  # a value logged once (or only a summary) is in the summary table
            charts.append(
                Markup(self._block(page, ctx, index, {"line": key, "title": key}, [run], root_url))
            )
        try:
            artifacts = self.resolver.list_artifacts(run)
        except LabbookError as exc:
            page.warnings.append(exc)
            artifacts = []
        images = [a for a in artifacts if a.lower().endswith(IMAGE_SUFFIXES)]
        media = ""
        if images:
            media = self._block(
                page, ctx, len(keys), {"media": "**", "columns": 2}, [run], root_url
            )
        tags = {k: v for k, v in sorted(run.tags.items()) if k not in run.hidden_tags}
        host = next((run.tags[k] for k in HOST_TAGS if run.tags.get(k)), None)
        experiment = experiment_of(run)
        html = ctx.render(
            "notebook/run.html",
            run=run,
            name=run.name or run.id,
            experiment=experiment,
            experiment_href=root_url + self._url(experiment_file(run.source, experiment)),
            start=run.start_time.isoformat(sep=" ") if run.start_time else None,
            end=run.end_time.isoformat(sep=" ") if run.end_time else None,
            duration=format_seconds(run.duration) if run.duration is not None else None,
            host=host,
            tracker=safe_link(run.url),
            params=[(k, display_value(v)) for k, v in sorted(run.params.items())],
            tags=list(tags.items()),
            summary=[(k, display_value(v)) for k, v in sorted(run.summary.items())],
            charts=charts,
            media=Markup(media),
            others=[a for a in artifacts if a not in images],
            cited=[(root_url + url, title) for url, title in cited],
        )
        self._finish(page, ctx, html, [run])
        return NotebookPage(file, page)

    def nav(self, pages: list[NotebookPage]) -> dict[str, Any]:
        """Gives the notebook's nav section: its index, then each source's experiments."""
        entries: list[Any] = []
        for notebook_page in pages:
            if notebook_page.nav_title == NOTEBOOK_TITLE:
                entries.append({"Experiments": notebook_page.file})
        for notebook_page in pages:
            if notebook_page.nav_title and notebook_page.nav_title != NOTEBOOK_TITLE:
                prefix = notebook_page.file.removesuffix("index.md")
                children: list[Any] = [{"Experiments": notebook_page.file}]
                children += [
                    {p.page.title or p.file: p.file}
                    for p in pages
                    if p.file.startswith(prefix)
                    and p.file.endswith("/index.md")
                    and p.file.count("/") == prefix.count("/") + 1
                ]
                entries.append({notebook_page.nav_title: children})
        return {NOTEBOOK_TITLE: entries}


def _has_history(run: Run, key: str) -> bool:
    """Tells whether a run logged a metric at two steps or more (a line to draw)."""
    try:
        return len(run.series(key).finite()) >= 2
    except LabbookError:
        return True  # the chart's error box says what went wrong


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _start_key(run: Run) -> str:
    return run.start_time.isoformat() if run.start_time else ""


def escape_title(title: str) -> str:
    """Gives a page title safe where themes print it unescaped (MkDocs' templates do)."""
    return str(escape_html(title))
