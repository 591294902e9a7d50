"""The lab notebook: the example lab book built with `notebook: true` (and `all`), by both
engines, its pages checked against the runs as the sources read them."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from labbook.blocks.base import display_value
from labbook.model import Run
from labbook.project import Project
from tests.conftest import ENGINES, OpenPage, ServeDir, build_project, copy_example

LOCAL_RUN = "431c5bb7"  # r18-lr0.1-s2, cited by the sweep report and by the home page
SQLITE_RUN = "7a428f45114a40c8921835177c410181"  # written by mlflow into mlflow.db


def with_notebook(project: Path, value: str) -> None:
    config = project / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("      max_points: 1500", f"      notebook: {value}\n      max_points: 1500"),
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def notebook_book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    project = copy_example(tmp_path_factory.mktemp("notebook") / "labbook")
    with_notebook(project, "true")
    return project, build_project(project)


def source_run(project: Path, source: str, run_id: str) -> Run:
    book = Project.load(project / "mkdocs.yml")
    return next(r for r in book.sources[source].list_runs() if r.id == run_id)


def page(site: Path, url: str) -> str:
    return (site / url.strip("/") / "index.html").read_text(encoding="utf-8")


def table_rows(text: str, css_class: str) -> dict[str, str]:
    """Gives key -> value of a two-column table of a run page, as the reader sees them."""
    table = re.search(rf'<table class="labbook-table {css_class}".*?</table>', text, re.S)
    assert table, css_class
    rows = re.findall(r"<tr><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td></tr>", table.group(0))
    strip = re.compile(r"<[^>]+>")
    return {html.unescape(strip.sub("", k)): html.unescape(strip.sub("", v)) for k, v in rows}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("source", "experiment", "run_id"),
    [
        ("local", "cifar-sweep", LOCAL_RUN),
        ("sweeps", "augment-ablation", SQLITE_RUN),
        ("wb", "cifar-sweep", "r18wb001"),  # a run folder the wandb SDK wrote offline
        ("tb", "tensorboard", "r18-tb-warmup"),  # event files TensorBoard's writer wrote
    ],
)
def test_a_run_page_shows_the_runs_own_values(
    notebook_book: tuple[Path, dict[str, Path]],
    engine: str,
    source: str,
    experiment: str,
    run_id: str,
) -> None:
    project, sites = notebook_book
    run = source_run(project, source, run_id)
    text = page(sites[engine], f"notebook/{source}/{experiment}/{run_id}/")
    assert f"<h1>{html.escape(run.name)}</h1>" in text
    params = table_rows(text, "labbook-run-params")
    assert params == {k: display_value(v) for k, v in run.params.items()}
    summary = table_rows(text, "labbook-run-summary")
    assert summary == {k: display_value(v) for k, v in run.summary.items()}
    assert params and summary
    # Every metric with a history has its chart, drawn from the run's own series.
    figures = [
        json.loads(f)
        for f in re.findall(r'<script type="application/json" id="[^"]+">(.*?)</script>', text)
    ]
    lines = {
        t["meta"]["key"]: t
        for f in figures
        for t in f["data"]
        if t.get("meta", {}).get("role") == "line"
    }
    with_history = [k for k in run.metric_keys() if len(run.series(k).finite()) >= 2]
    assert sorted(lines) == sorted(with_history) and with_history
    for key, trace in lines.items():
        series = run.series(key).finite()
        assert trace["y"][-1] == pytest.approx(float(series.values[-1]))  # the tail is kept
        assert len(trace["y"]) <= 1500
    if run.url:
        assert f'href="{html.escape(run.url)}"' in text


@pytest.mark.parametrize("engine", ENGINES)
def test_a_run_cited_by_two_reports_lists_both(
    notebook_book: tuple[Path, dict[str, Path]], engine: str
) -> None:
    _, sites = notebook_book
    text = page(sites[engine], f"notebook/local/cifar-sweep/{LOCAL_RUN}/")
    cited = re.search(r'<ul class="labbook-cited-by">(.*?)</ul>', text, re.S)
    assert cited
    titles = re.findall(r"<a [^>]*>(.*?)</a>", cited.group(1))
    assert "Learning-rate sweep for ResNet-18 on CIFAR-10" in titles
    assert "Vision team lab book" in titles  # the home page's table of every run
    base = f"http://site/notebook/local/cifar-sweep/{LOCAL_RUN}/"
    for href in re.findall(r'href="([^"]+)"', cited.group(1)):
        target = urlsplit(urljoin(base, href)).path.strip("/")
        assert (sites[engine] / target / "index.html").is_file(), href


@pytest.mark.parametrize("engine", ENGINES)
def test_link_and_run_names_go_to_the_run_pages(
    notebook_book: tuple[Path, dict[str, Path]], engine: str
) -> None:
    _, sites = notebook_book
    site = sites[engine]
    text = page(site, "lr-sweep/")
    links = re.findall(r'<a href="([^"]+)" class="labbook-run-link">', text)
    assert links, "the report's `| link` expressions"
    table_links = re.findall(r'<td data-value="[^"]*"><a href="([^"]+)">', text)
    for href in [*links, *table_links]:
        target = urlsplit(urljoin("http://site/lr-sweep/", href)).path.strip("/")
        assert target.startswith("notebook/local/cifar-sweep/"), href
        assert (site / target / "index.html").is_file(), href


def test_the_nav_has_the_notebook_section(notebook_book: tuple[Path, dict[str, Path]]) -> None:
    _, sites = notebook_book
    for engine in ENGINES:
        text = page(sites[engine], "")
        nav = text[text.index('class="md-nav md-nav--primary"') :]
        assert "Lab notebook" in nav, engine
        assert "notebook/local/cifar-sweep/" in nav, engine
    # The explicit nav of mkdocs.yml keeps its own entries first.
    text = page(sites["mkdocs"], "")
    assert text.index("Learning-rate sweep") < text.index("Lab notebook")


def test_the_index_lists_experiments_with_their_best_value(
    notebook_book: tuple[Path, dict[str, Path]],
) -> None:
    project, sites = notebook_book
    text = page(sites["mkdocs"], "notebook/")
    book = Project.load(project / "mkdocs.yml")
    runs = [r for r in book.sources["sweeps"].list_runs() if r.experiment == "augment-ablation"]
    best = max(runs, key=lambda r: float(r.summary["val/acc"]))  # type: ignore[arg-type]
    row = re.search(r"<tr><td data-value=\"augment-ablation\">.*?</tr>", text)
    assert row
    assert f">{len(runs)}<" in row.group(0)
    assert "val/acc (max)" in row.group(0)
    assert display_value(best.summary["val/acc"]) in row.group(0)
    assert html.escape(best.name) in row.group(0)


def test_search_finds_a_run_by_name_and_param_value(
    notebook_book: tuple[Path, dict[str, Path]],
) -> None:
    project, sites = notebook_book
    run = source_run(project, "local", LOCAL_RUN)
    index = json.loads((sites["mkdocs"] / "search" / "search_index.json").read_text())
    entries = [
        d
        for d in index["docs"]
        if d["location"].startswith(f"notebook/local/cifar-sweep/{LOCAL_RUN}/")
    ]
    text = " ".join(d["title"] + " " + d["text"] for d in entries)
    assert run.name in text
    assert str(run.params["lr"]) in text


def test_an_experiment_table_sorts_and_filters_in_the_browser(
    notebook_book: tuple[Path, dict[str, Path]], serve_dir: ServeDir, open_page: OpenPage
) -> None:
    _, sites = notebook_book
    origin = serve_dir(sites["mkdocs"])
    visit = open_page(origin, "/notebook/local/cifar-sweep/")
    page_ = visit.page
    rows = "#labbook-block-0 tbody tr"
    page_.wait_for_selector("#labbook-block-0 table[data-labbook-sortable]")
    assert page_.locator(rows).count() == 9
    header = page_.locator("#labbook-block-0 thead th", has_text="val/acc").first
    header.click()
    header.click()  # descending
    values = page_.eval_on_selector_all(
        rows,
        "rs => rs.map(r => r.children[Array.from(r.parentNode.parentNode.tHead.rows[0].children).findIndex(h => h.textContent.trim() === 'val/acc')].getAttribute('data-value'))",
    )
    numbers = [float(v) for v in values if v]
    assert numbers == sorted(numbers, reverse=True) and len(numbers) >= 8
    page_.fill("input.labbook-filter", "lr0.1")
    visible = page_.eval_on_selector_all(
        rows, "rs => rs.filter(r => !r.hidden).map(r => r.children[0].textContent)"
    )
    assert sorted(visible) == ["r18-lr0.1-s0", "r18-lr0.1-s1", "r18-lr0.1-s2"]
    assert "3 of 9 runs" in page_.inner_text(".labbook-filter-count")
    page_.fill("input.labbook-filter", "failed")
    visible = page_.eval_on_selector_all(
        rows, "rs => rs.filter(r => !r.hidden).map(r => r.children[0].textContent)"
    )
    assert visible == ["r18-lr0.3-s2"]
    assert visit.errors == []
    assert all(r.startswith(origin) for r in visit.requests)


def test_notebook_all_writes_a_page_per_run_and_escapes_what_runs_hold(tmp_path: Path) -> None:
    project = copy_example(tmp_path / "labbook")
    with_notebook(project, "all")
    evil = project / "runs" / "evil0001"
    evil.mkdir()
    (evil / "run.json").write_text(
        json.dumps(
            {
                "name": "<script>alert(1)</script>",
                "experiment": "cifar-sweep",
                "status": "finished",
                "params": {"note": "<img src=x onerror=alert(2)>", "lr": 0.5},
                "summary": {"val/acc": 0.5},
            }
        ),
        encoding="utf-8",
    )
    site = build_project(project, ("mkdocs",))["mkdocs"]
    book = Project.load(project / "mkdocs.yml")
    for name, source in book.sources.items():
        for run in source.list_runs():
            from labbook.report.notebook import run_file

            file = run_file(run).removesuffix(".md")
            assert (site / file / "index.html").is_file(), (name, run.id)
    text = page(site, "notebook/local/cifar-sweep/evil0001/")
    assert "<script>alert(1)</script>" not in text
    assert "<img src=x" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<title>&lt;script" in text or "<title>&amp;lt;script" in text
    table = page(site, "notebook/local/cifar-sweep/")
    assert "<script>alert(1)" not in table
