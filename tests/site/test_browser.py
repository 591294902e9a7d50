"""The built site in headless Chromium: charts draw the logged data, tables sort, nothing
is fetched from outside, nothing errors, and run data cannot inject markup or script.

Each site is built once per session (tests/conftest.py) and served from 127.0.0.1.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import labbook
from labbook.charts import smooth_ema
from labbook.project import Project
from labbook.report.parse import parse_report
from labbook.report.resolve import Resolver
from tests.conftest import (
    DRAW_TIMEOUT_MS,
    ENGINES,
    BuiltSites,
    OpenPage,
    ServeDir,
    build_project,
)

pytestmark = pytest.mark.browser

REPORTS = ("index", "lr-sweep", "variants", "augment-ablation", "trackers")
TRACES_JS = """el => ({
  block: el.parentElement.id,
  traces: (el.data || []).map(t => ({
    x: Array.from(t.x || []),
    y: Array.from(t.y || []),
    customdata: t.customdata === undefined ? null : Array.from(t.customdata),
    meta: t.meta === undefined ? null : t.meta,
    name: t.name === undefined ? null : t.name,
  })),
})"""


def page_path(report: str) -> str:
    return "/" if report == "index" else f"/{report}/"


def plots(page: Any) -> Any:
    return page.locator(".labbook-plot[data-labbook-figure]")


def wait_drawn(plot: Any) -> None:
    from playwright.sync_api import expect

    expect(plot).to_have_attribute("data-labbook-drawn", "true", timeout=DRAW_TIMEOUT_MS)


def draw_every_chart(page: Any) -> list[dict[str, Any]]:
    """Scrolls each chart into view, waits until Plotly drew it; gives each one's traces."""
    drawn = []
    charts = plots(page)
    for i in range(charts.count()):
        plot = charts.nth(i)
        plot.scroll_into_view_if_needed()
        wait_drawn(plot)
        drawn.append(plot.evaluate(TRACES_JS))
    return drawn


# --- what the charts must show --------------------------------------------------------


@dataclass
class Expected:
    """The library's own reading of the runs, and the options of each chart block.

    Runs are found in every source of the project (a chart's trace names its run by ID,
    and the example's IDs are unique across sources), each read by its own tracker's reader.
    """

    resolver: Resolver
    max_points: int
    reports_dir: Path

    def blocks(self, report: str) -> list[Any]:
        path = self.reports_dir / f"{report}.md"
        return [b.data for b in parse_report(path, path.read_text(encoding="utf-8")).blocks]

    def logged(self, run_id: str, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Gives a run's finite (steps, values, times) of a key, as logged."""
        series = self.resolver.run(run_id).series(key)
        keep = np.isfinite(series.values)
        return series.steps[keep], series.values[keep], series.times[keep]


def expected_for(project_dir: Path) -> Expected:
    project = Project.load(project_dir / "mkdocs.yml")
    # Opened afresh, not the build's sources: nothing read while building is reused.
    sources = {
        name: labbook.open_source(spec.uri, name=name, base_dir=project_dir, **spec.options)
        for name, spec in project.settings.sources.items()
    }
    return Expected(
        Resolver(sources, project.default_source),
        project.settings.max_points,
        project.docs_dir,
    )


@pytest.fixture(scope="session")
def example_expected(built_sites: BuiltSites) -> Expected:
    return expected_for(built_sites.project)


def shown_steps(trace: dict[str, Any], x_mode: str) -> np.ndarray:
    """Gives the steps a trace draws: its x on a step axis, else the steps riding in customdata."""
    raw = trace["x"] if x_mode == "step" else trace["customdata"]
    assert raw is not None, f"trace {trace['meta']} carries no steps"
    assert all(float(v).is_integer() for v in raw), f"non-integer steps in {trace['meta']}"
    return np.asarray(raw, dtype=np.int64)


def positions(steps: np.ndarray, shown: np.ndarray, max_points: int, where: str) -> np.ndarray:
    """Gives where each shown step sits in the logged steps: all of them when the series fits,
    else a subset that keeps the first and the last finite step."""
    if len(steps) <= max_points:
        assert shown.tolist() == steps.tolist(), f"{where}: x is not the logged steps"
        return np.arange(len(steps))
    assert len(shown) <= max_points, f"{where}: {len(shown)} points, max_points={max_points}"
    assert np.all(np.diff(shown) > 0), f"{where}: steps not strictly increasing"
    assert set(shown.tolist()) <= set(steps.tolist()), f"{where}: steps that were never logged"
    assert shown[0] == steps[0] and shown[-1] == steps[-1], f"{where}: first or last step lost"
    return np.searchsorted(steps, shown)


def check_run_trace(
    trace: dict[str, Any], spec: dict[str, Any], expected: Expected, max_points: int, where: str
) -> None:
    """A per-run line (raw or smoothed) draws exactly the logged values at logged steps."""
    meta = trace["meta"]
    x_mode = spec.get("x", "step")
    steps, values, times = expected.logged(meta["run_id"], meta["key"])
    if x_mode in ("time", "relative"):
        finite_time = np.isfinite(times)
        steps, values, times = steps[finite_time], values[finite_time], times[finite_time]
    where = f"{where} {meta}"
    shown = shown_steps(trace, x_mode)
    at = positions(steps, shown, max_points, where)
    if meta["role"] in ("line", "raw"):
        assert trace["y"] == values[at].tolist(), f"{where}: y is not the logged values"
    else:
        smoothed = smooth_ema(values, float(spec["smoothing"]))
        np.testing.assert_allclose(trace["y"], smoothed[at], rtol=1e-12, err_msg=where)
    if x_mode == "relative":
        start = times.min()  # one key per chart here, so its first time is the run's start
        np.testing.assert_allclose(trace["x"], times[at] - start, rtol=0, atol=1e-6)


def check_group_trace(
    trace: dict[str, Any], spec: dict[str, Any], expected: Expected, max_points: int, where: str
) -> None:
    """A group's mean (or its raw mean, or its band) is the numpy mean over its runs."""
    meta = trace["meta"]
    assert spec.get("x", "step") == "step", "only step axes are checked for groups"
    where = f"{where} {meta}"
    smoothing = float(spec.get("smoothing") or 0)
    per_run: list[dict[int, float]] = []
    for run_id in meta["run_ids"]:
        steps, values, _ = expected.logged(run_id, meta["key"])
        if smoothing and meta["role"] in ("mean", "band"):
            values = smooth_ema(values, smoothing)
        per_run.append(dict(zip(steps.tolist(), values.tolist(), strict=True)))
    start = max(min(r) for r in per_run)
    stop = min(max(r) for r in per_run)
    shared = sorted(s for s in set.intersection(*(set(r) for r in per_run)) if start <= s <= stop)
    stacked = np.array([[r[s] for s in shared] for r in per_run])
    mean = stacked.mean(axis=0)
    if meta["role"] == "band":
        half = len(trace["x"]) // 2
        x = np.asarray(trace["x"][:half], dtype=np.int64)
        assert trace["x"][half:] == trace["x"][:half][::-1], f"{where}: band is not closed"
        at = positions(np.asarray(shared), x, max_points, where)
        if meta["band"] == "std":
            spread = stacked.std(axis=0, ddof=1) if len(per_run) > 1 else np.zeros_like(mean)
            upper, lower = mean + spread, mean - spread
        else:
            upper, lower = stacked.max(axis=0), stacked.min(axis=0)
        np.testing.assert_allclose(trace["y"][:half], upper[at], rtol=1e-9, err_msg=where)
        np.testing.assert_allclose(trace["y"][half:], lower[at][::-1], rtol=1e-9, err_msg=where)
        return
    at = positions(np.asarray(shared), shown_steps(trace, "step"), max_points, where)
    np.testing.assert_allclose(trace["y"], mean[at], rtol=1e-9, err_msg=where)


def check_chart(drawn: dict[str, Any], blocks: list[Any], expected: Expected, where: str) -> None:
    match = re.fullmatch(r"labbook-block-(\d+)", drawn["block"])
    assert match, f"{where}: a chart outside a labbook block ({drawn['block']!r})"
    spec = blocks[int(match.group(1))]
    where = f"{where} block {match.group(1)}"
    assert "line" in spec, f"{where}: only line charts are checked here, not {spec}"
    traces = drawn["traces"]
    assert traces, f"{where}: the chart drew no trace"
    max_points = int(spec.get("max_points", expected.max_points))
    smoothing = float(spec.get("smoothing") or 0)
    roles = [t["meta"]["role"] for t in traces]
    if spec.get("group_by"):
        assert set(roles) <= {"mean", "band", "raw"}, f"{where}: roles {roles}"
        assert "mean" in roles
        assert ("raw" in roles) == (smoothing > 0), f"{where}: roles {roles}"
        for trace in traces:
            check_group_trace(trace, spec, expected, max_points, where)
    else:
        wanted = {"raw", "smoothed"} if smoothing > 0 else {"line"}
        assert set(roles) == wanted, f"{where}: roles {roles}"
        assert roles.count("raw") == roles.count("smoothed")
        for trace in traces:
            check_run_trace(trace, spec, expected, max_points, where)


def check_page_charts(
    page: Any, expected: Expected, report: str, where: str
) -> list[dict[str, Any]]:
    blocks = expected.blocks(report)
    charts = draw_every_chart(page)
    # The line charts are checked here; the other kinds (and the chart inside a compare
    # block) by tests/site/test_kinds_browser.py.
    index = [re.fullmatch(r"labbook-block-(\d+)", c["block"]) for c in charts]
    lines = [
        c for c, m in zip(charts, index, strict=True) if m and "line" in blocks[int(m.group(1))]
    ]
    assert len(lines) == sum(1 for b in blocks if "line" in b), f"{where}: charts missing"
    for drawn in lines:
        check_chart(drawn, blocks, expected, where)
    return lines


# --- the example lab book -------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("report", REPORTS)
def test_charts_draw_the_logged_values(
    open_page: OpenPage,
    example_origins: dict[str, str],
    example_expected: Expected,
    engine: str,
    report: str,
) -> None:
    visit = open_page(example_origins[engine], page_path(report))
    check_page_charts(visit.page, example_expected, report, f"{engine} {report}")
    assert visit.errors == []


@pytest.mark.parametrize("engine", ENGINES)
def test_no_errors_and_nothing_fetched_from_outside(
    open_page: OpenPage, example_origins: dict[str, str], engine: str
) -> None:
    origin = example_origins[engine]
    for report in REPORTS:
        visit = open_page(origin, page_path(report))
        draw_every_chart(visit.page)
        # Hovering a chart runs Plotly's hover code too.
        if plots(visit.page).count():
            plots(visit.page).first.hover()
        visit.page.wait_for_load_state("networkidle")
        assert visit.errors == [], f"{engine} {report}"
        outside = [
            url
            for url in visit.requests
            if not url.startswith(origin + "/") and not url.startswith(("data:", "blob:", "about:"))
        ]
        assert outside == [], f"{engine} {report} requested {outside}"
        plotly_src = visit.page.evaluate(
            "() => (document.querySelector('script[src*=\"plotly.min.js\"]') || {}).src"
        )
        assert plotly_src == f"{origin}/assets/labbook/plotly.min.js", plotly_src
        assert visit.page.evaluate("() => typeof window.Plotly") == "object"


def column_values(page: Any, key: str) -> list[str]:
    """Gives a sortable table's data-value of one column, in row order."""
    return page.locator("table.labbook-table[data-sortable]").first.evaluate(
        """(table, key) => {
          const headers = Array.from(table.tHead.rows[0].cells);
          const index = headers.findIndex(h => h.getAttribute('data-key') === key);
          if (index < 0) throw new Error('no column ' + key);
          return Array.from(table.tBodies[0].rows).map(
            r => r.children[index].getAttribute('data-value'));
        }""",
        key,
    )


def check_sorts(page: Any, key: str) -> None:
    """Clicking a numeric header sorts ascending, clicking again descending; empties last."""
    page.locator("table.labbook-table[data-labbook-sortable]").first.wait_for()
    header = page.locator(f'table.labbook-table th[data-key="{key}"]').first
    before = column_values(page, key)
    for direction in ("ascending", "descending"):
        header.click()
        assert header.get_attribute("aria-sort") == direction
        after = column_values(page, key)
        assert sorted(after) == sorted(before), "rows were lost or changed"
        present = [float(v) for v in after if v]
        empties = [v for v in after if not v]
        assert after == [v for v in after if v] + empties, f"{direction}: empty values not last"
        assert present == sorted(present, reverse=direction == "descending"), (direction, after)
        assert len(set(present)) > 1, f"column {key} does not tell orders apart: {after}"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("report", "key"), [("index", "params.lr"), ("lr-sweep", "metrics.val/acc")]
)
def test_table_sorts_on_header_click(
    open_page: OpenPage, example_origins: dict[str, str], engine: str, report: str, key: str
) -> None:
    visit = open_page(example_origins[engine], page_path(report))
    check_sorts(visit.page, key)
    assert visit.errors == []


def test_charts_off_screen_wait_until_scrolled_into_view(
    open_page: OpenPage, example_origins: dict[str, str]
) -> None:
    visit = open_page(example_origins["mkdocs"], page_path("lr-sweep"), width=1000, height=500)
    page = visit.page
    # labbook.js has run once the table is sortable; give the observer a few frames to fire.
    page.locator("table.labbook-table[data-labbook-sortable]").first.wait_for(state="attached")
    page.evaluate("() => new Promise(r => setTimeout(r, 300))")
    last = plots(page).last
    assert last.get_attribute("data-labbook-drawn") is None
    assert not last.evaluate("el => Array.isArray(el.data)")
    last.scroll_into_view_if_needed()
    wait_drawn(last)
    assert last.evaluate("el => el.data.length") > 0
    assert visit.errors == []


@pytest.mark.parametrize("engine", ENGINES)
def test_site_ships_plotly_and_no_cdn(built_sites: BuiltSites, engine: str) -> None:
    site = built_sites.site(engine)
    assert (site / "assets" / "labbook" / "plotly.min.js").is_file()
    assert (site / "assets" / "labbook" / "labbook.js").is_file()
    pages = sorted(site.rglob("*.html"))
    assert pages
    for report in REPORTS:
        html = (site / page_path(report).strip("/") / "index.html").read_text(encoding="utf-8")
        assert re.search(r'<script src="[./]*assets/labbook/plotly\.min\.js"', html), report
    for path in pages:
        html = path.read_text(encoding="utf-8")
        for needle in ("fonts.googleapis", "fonts.gstatic", "cdn."):
            assert needle not in html, f"{path.relative_to(site)} mentions {needle}"


# --- a hostile project: run data that tries to inject markup and script ---------------

XSS_NAME = '<img src=x onerror="window.__xss=1">'
XSS_NOTE = "**bold** <script>window.__xss=2</script>"
XSS_TAG = "[link](javascript:alert(1))"

HOSTILE_REPORT = """\
---
title: Hostile run data
---

# Hostile run data

Name: {{ run("abc12345").name }}

Link: {{ run("abc12345") | link }}

Note: {{ run("abc12345").params.note }}

Tag: {{ run("abc12345").tags.x }}

```labbook
line: loss
runs: [abc12345]
title: Loss
```

```labbook
table: [name, params.note, tags.x]
runs: [abc12345]
```
"""

LONG_REPORT = """\
---
title: Long series
---

# Long series

```labbook
line: loss
runs: [long0001]
max_points: 20
```

```labbook
line: loss
runs: [long0001, abc12345]
smoothing: 0.7
max_points: 24
```

```labbook
table: [name, params.lr, metrics.loss]
runs: [abc12345, long0001, nolr0001, nolr0002]
```
"""


def write_run(root: Path, run_id: str, info: dict[str, Any], rows: list[str]) -> None:
    folder = root / "runs" / run_id
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps(info), encoding="utf-8")
    (folder / "metrics.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def hostile_project(tmp_path_factory: pytest.TempPathFactory) -> BuiltSites:
    root = tmp_path_factory.mktemp("hostile") / "labbook"
    (root / "reports").mkdir(parents=True)
    (root / "mkdocs.yml").write_text(
        "site_name: Hostile\n"
        "docs_dir: reports\n"
        "theme:\n  name: material\n"
        "plugins:\n  - labbook:\n      sources: {local: runs}\n",
        encoding="utf-8",
    )
    (root / "reports" / "hostile.md").write_text(HOSTILE_REPORT, encoding="utf-8")
    (root / "reports" / "long.md").write_text(LONG_REPORT, encoding="utf-8")
    write_run(
        root,
        "abc12345",
        {
            "name": XSS_NAME,
            "experiment": "hostile",
            "params": {"note": XSS_NOTE, "lr": 0.1},
            "tags": {"x": XSS_TAG},
        },
        [json.dumps({"step": s * 10, "loss": 1.0 / (s + 1)}) for s in range(6)],
    )
    # 400 rows with a spike (step 250), a NaN, an Infinity and a NaN as the last row: the
    # chart must downsample to logged points, keep the spike, and end at step 398.
    rng = np.random.default_rng(7)
    rows = []
    for s in range(400):
        value = float(np.exp(-s / 120) + 0.05 * rng.standard_normal())
        text = json.dumps(round(value, 6))
        if s in (57, 399):
            text = "NaN"
        elif s == 123:
            text = "Infinity"
        elif s == 250:
            text = "5.0"
        rows.append(f'{{"step": {s}, "loss": {text}}}')
    write_run(root, "long0001", {"name": "long", "params": {"lr": 0.5}}, rows)
    write_run(root, "nolr0001", {"name": "no-lr", "params": {}}, ['{"step": 0, "loss": 2.0}'])
    write_run(root, "nolr0002", {"name": "no-lr-2"}, ['{"step": 0, "other": 1.0}'])
    return BuiltSites(root, build_project(root))


@pytest.fixture(scope="session")
def hostile_origins(hostile_project: BuiltSites, serve_dir: ServeDir) -> dict[str, str]:
    return {engine: serve_dir(hostile_project.site(engine)) for engine in ENGINES}


@pytest.mark.parametrize("engine", ENGINES)
def test_run_data_cannot_inject_markup_or_script(
    open_page: OpenPage, hostile_origins: dict[str, str], engine: str
) -> None:
    visit = open_page(hostile_origins[engine], "/hostile/")
    page = visit.page
    draw_every_chart(page)
    article = page.locator("article").first
    text = article.inner_text()
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator('a[href^="javascript:" i]').count() == 0
    assert article.locator("script:not([type='application/json'])").count() == 0
    assert "<img src=x onerror=" in text
    assert text.count(XSS_NAME) >= 3, text  # prose, link, table
    assert XSS_NOTE in text
    assert XSS_TAG in text
    assert article.locator("strong", has_text="bold").count() == 0
    legend = page.locator(".labbook-plot .legendtext").first.text_content()
    assert legend is not None and "<img src=x onerror=" in legend
    assert visit.errors == []


@pytest.mark.parametrize("engine", ENGINES)
def test_long_series_downsample_to_logged_points(
    open_page: OpenPage, hostile_origins: dict[str, str], hostile_project: BuiltSites, engine: str
) -> None:
    visit = open_page(hostile_origins[engine], "/long/")
    expected = expected_for(hostile_project.project)
    charts = check_page_charts(visit.page, expected, "long", engine)
    first = charts[0]["traces"][0]
    assert len(first["x"]) <= 20 and first["x"][0] == 0 and first["x"][-1] == 398
    assert 250 in first["x"], "the spike was downsampled away"
    check_sorts(visit.page, "params.lr")
    assert visit.errors == []
