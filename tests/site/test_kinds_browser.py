"""Every block kind of the example lab book, read back from the figures Plotly drew in
headless Chromium (or from the page, for compare and media), against the runs' values."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labbook.model import Run
from labbook.project import Project
from tests.conftest import BuiltSites, OpenPage

from .test_browser import page_path, plots, wait_drawn

pytestmark = pytest.mark.browser

DRAWN_JS = """p => ({
  caption: (p.closest('.labbook-block').querySelector('.labbook-caption') || {}).textContent || '',
  layout: {xaxis: p.layout.xaxis, yaxis: p.layout.yaxis},
  data: p.data.map(t => ({
    type: t.type, name: t.name, x: t.x ? Array.from(t.x) : null, y: t.y ? Array.from(t.y) : null,
    customdata: t.customdata ? Array.from(t.customdata) : null, meta: t.meta || null,
    error_y: t.error_y ? Array.from(t.error_y.array || []) : null,
    hovertemplate: t.hovertemplate || null,
    dimensions: t.dimensions ? t.dimensions.map(d => ({label: d.label,
      values: Array.from(d.values), ticktext: d.ticktext ? Array.from(d.ticktext) : null})) : null,
  })),
})"""


@pytest.fixture(scope="module")
def sweep(built_sites: BuiltSites) -> list[Run]:
    project = Project.load(built_sites.project / "mkdocs.yml")
    return project.sources["local"].search(experiment="cifar-sweep")


def figures(open_page: OpenPage, origin: str, report: str) -> dict[str, dict[str, Any]]:
    """Gives caption -> the drawn figure of each chart on the page."""
    visit = open_page(origin, page_path(report))
    out = {}
    charts = plots(visit.page)
    for i in range(charts.count()):
        plot = charts.nth(i)
        plot.scroll_into_view_if_needed()
        wait_drawn(plot)
        drawn = plot.evaluate(DRAWN_JS)
        out[drawn["caption"]] = drawn
    assert visit.errors == []
    return out


def by_caption(found: dict[str, dict[str, Any]], start: str) -> dict[str, Any]:
    [key] = [k for k in found if start in k]
    return found[key]


def test_bar_scatter_parallel_importance_histogram_hold_the_runs_values(
    open_page: OpenPage, example_origins: dict[str, str], sweep: list[Run]
) -> None:
    found = figures(open_page, example_origins["mkdocs"], "lr-sweep")
    acc = {r.name: r.summary["val/acc"] for r in sweep}

    bar = by_caption(found, "Mean final validation accuracy per learning rate")["data"][0]
    assert bar["type"] == "bar"
    for label, mean, sem in zip(bar["x"], bar["y"], bar["error_y"], strict=True):
        lr = float(label.split("=")[1])
        values = np.array([r.summary["val/acc"] for r in sweep if r.params["lr"] == lr])
        assert mean == pytest.approx(values.mean())
        assert sem == pytest.approx(values.std(ddof=1) / math.sqrt(len(values)))
    assert bar["y"] == sorted(bar["y"], reverse=True)  # accuracy: the best first

    scatter = by_caption(found, "against its learning rate")
    points = scatter["data"][0]
    assert points["type"] == "scatter"
    names = [c[0] for c in points["customdata"]]
    assert sorted(names) == sorted(acc)
    assert points["y"] == [acc[n] for n in names]
    assert points["x"] == [next(r.params["lr"] for r in sweep if r.name == n) for n in names]
    assert scatter["layout"]["xaxis"]["type"] == "log"
    trend = scatter["data"][1]
    slope, _ = np.polyfit(np.log10(points["x"]), points["y"], 1)
    assert trend["meta"]["slope"] == pytest.approx(slope) and "R²" in trend["name"]

    parallel = by_caption(found, "from its learning rate and seed")["data"][0]
    assert parallel["type"] == "parcoords"
    labels = [d["label"] for d in parallel["dimensions"]]
    assert labels == ["lr", "seed", "val/loss", "val/acc"]
    ids = parallel["meta"]["run_ids"]
    runs = {r.id: r for r in sweep}
    assert parallel["dimensions"][3]["values"] == [runs[i].summary["val/acc"] for i in ids]
    assert parallel["dimensions"][0]["values"] == [runs[i].params["lr"] for i in ids]

    importance = by_caption(found, "Importance of each parameter")["data"]
    weights = next(t for t in importance if t["meta"]["role"] == "importance")
    assert weights["type"] == "bar" and sum(weights["x"]) == pytest.approx(1.0)
    corr = next(t for t in importance if t["meta"]["role"] == "correlation")
    by_param = dict(zip(corr["meta"]["params"], corr["x"], strict=True))
    y = np.array([r.summary["val/acc"] for r in sweep])
    lrs = np.array([r.params["lr"] for r in sweep], dtype=float)
    assert by_param["params.lr"] == pytest.approx(np.corrcoef(lrs, y)[0, 1])

    histogram = by_caption(found, "across the sweep's runs")["data"][0]
    counts, _ = np.histogram(y, bins=12)
    assert histogram["y"] == counts.tolist()


def test_compare_marks_what_differs_and_the_toggle_hides_the_rest(
    open_page: OpenPage, example_origins: dict[str, str], built_sites: BuiltSites
) -> None:
    visit = open_page(example_origins["mkdocs"], page_path("variants"))
    page = visit.page
    block = page.locator(".labbook-compare").first
    project = Project.load(built_sites.project / "mkdocs.yml")
    local = project.sources["local"]
    vit, convnext = (local.get(name) for name in ("vit-tiny-s0", "convnext-tiny-s0"))
    rows = block.evaluate(
        "b => Array.from(b.querySelectorAll('tr[data-key]')).map(tr => [tr.dataset.key,"
        " tr.classList.contains('labbook-differs'), Array.from(tr.querySelectorAll('td')).map(td => td.textContent)])"
    )
    table = {key: (differs, cells) for key, differs, cells in rows}
    assert table["model"] == (True, [vit.params["model"], convnext.params["model"]])
    assert table["lr"][0] is False and table["lr"][1] == ["0.001", "0.001"]
    assert table["val/acc"][1] == [
        f"{vit.summary['val/acc']:.4g}",
        f"{convnext.summary['val/acc']:.4g}",
    ]
    visible = "b => Array.from(b.querySelectorAll('tr[data-key]')).filter(tr => tr.offsetParent !== null).length"
    assert block.evaluate(visible) == len(rows)
    block.locator("input.labbook-only-differences").check()
    assert block.evaluate(visible) == sum(d for d, _ in table.values()) < len(rows)
    # The histories overlaid under the table are the runs' own.
    plot = block.locator(".labbook-plot")
    plot.scroll_into_view_if_needed()
    wait_drawn(plot)
    drawn = plot.evaluate(DRAWN_JS)["data"]
    series = vit.series("val/acc")
    [line] = [t for t in drawn if t["meta"]["run_id"] == vit.id]
    assert line["x"] == series.steps.tolist()
    assert line["y"] == pytest.approx(series.values.tolist())
    assert visit.errors == []


def test_media_shows_each_runs_image_decoded(
    open_page: OpenPage, example_origins: dict[str, str], built_sites: BuiltSites
) -> None:
    visit = open_page(example_origins["mkdocs"], page_path("variants"))
    media = visit.page.locator(".labbook-media").first
    media.scroll_into_view_if_needed()
    visit.page.wait_for_function(
        "m => Array.from(m.querySelectorAll('img')).every(i => i.complete && i.naturalWidth > 0)",
        arg=media.element_handle(),
    )
    shown = media.evaluate(
        "m => Array.from(m.querySelectorAll('figure')).map(f => [f.querySelector('.labbook-media-run').textContent,"
        " f.querySelector('img').naturalWidth, f.querySelector('img').getAttribute('src')])"
    )
    assert sorted(run for run, _, _ in shown) == sorted(
        ["vit-tiny-s0", "vit-tiny-s1", "convnext-tiny-s0", "convnext-tiny-s1"]
    )
    site = built_sites.site("mkdocs") / "variants"
    for run, width, src in shown:
        assert width > 100
        image = (site / src).resolve()
        local = Path(built_sites.project) / "runs"
        originals = [p for p in local.glob("*/artifacts/plots/confusion.png")]
        assert image.read_bytes() in [p.read_bytes() for p in originals], run
    assert visit.errors == []
