"""How the example lab book looks in headless Chromium: charts follow Material's light and
dark schemes live, wide tables scroll inside the page, log axes label ticks in full.

Uses the session's built example sites and browser (tests/conftest.py).
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ENGINES, BuiltSites, OpenPage, ServeDir, Visit, build_project
from tests.site.test_browser import page_path, plots, wait_drawn, write_run

pytestmark = pytest.mark.browser

CHART_COLORS_JS = """el => ({
  paper: el.layout.paper_bgcolor,
  plot: el.layout.plot_bgcolor,
  font: el._fullLayout.font.color,
  grid: el._fullLayout.yaxis.gridcolor,
  svg: getComputedStyle(el.querySelector('.main-svg')).backgroundColor,
})"""

# Material's own variable, resolved the way a browser paints text with it.
MATERIAL_FG_JS = """() => {
  const probe = document.createElement('span');
  probe.style.color = 'var(--md-default-fg-color)';
  document.body.appendChild(probe);
  const color = getComputedStyle(probe).color;
  probe.remove();
  return color;
}"""


def scheme(page: Any) -> str:
    return str(page.evaluate("() => document.body.getAttribute('data-md-color-scheme')"))


def toggle_palette(page: Any) -> None:
    """Clicks Material's palette toggle in the header (the one label it shows)."""
    before = scheme(page)
    page.locator("form[data-md-component=palette] label:visible").click()
    page.wait_for_function(
        "s => document.body.getAttribute('data-md-color-scheme') !== s", arg=before
    )


def brightness(png: bytes) -> float:
    """Gives the mean lightness (0 black .. 1 white) of a screenshot."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    histogram = image.histogram()
    return sum(i * n for i, n in enumerate(histogram)) / (255 * sum(histogram))


def wait_colors(plot: Any, font: str) -> dict[str, Any]:
    """Waits until a chart's font is `font`; gives its colours."""
    plot.page.wait_for_function(
        "([el, font]) => el._fullLayout && el._fullLayout.font.color === font",
        arg=[plot.element_handle(), font],
    )
    colors: dict[str, Any] = plot.evaluate(CHART_COLORS_JS)
    return colors


@pytest.fixture
def palette_reset(open_page: OpenPage) -> Iterator[list[Visit]]:
    """Gives a list to put visits in; afterwards forgets the palette they chose.

    Material keeps the chosen scheme in localStorage, which the session's one browser
    context shares with every later test.
    """
    visits: list[Visit] = []
    yield visits
    for visit in visits:
        visit.page.evaluate("() => localStorage.clear()")


@pytest.mark.parametrize("engine", ENGINES)
def test_charts_follow_the_palette_toggle(
    open_page: OpenPage,
    example_origins: dict[str, str],
    palette_reset: list[Visit],
    engine: str,
) -> None:
    visit = open_page(example_origins[engine], page_path("lr-sweep"), width=1280, height=900)
    palette_reset.append(visit)
    page = visit.page
    assert scheme(page) == "default"
    first, last = plots(page).first, plots(page).last
    first.scroll_into_view_if_needed()
    wait_drawn(first)
    light_fg = page.evaluate(MATERIAL_FG_JS)
    light = wait_colors(first, light_fg)
    assert light["paper"] == light["plot"] == "rgba(0, 0, 0, 0)"
    assert light["svg"] == "rgba(0, 0, 0, 0)"
    assert brightness(first.screenshot()) > 0.85

    toggle_palette(page)
    assert scheme(page) == "slate"
    dark_fg = page.evaluate(MATERIAL_FG_JS)
    assert dark_fg != light_fg
    dark = wait_colors(first, dark_fg)
    assert dark["paper"] == "rgba(0, 0, 0, 0)"
    assert dark["grid"] != light["grid"]
    # What is painted: the slate page shows through, not a white rectangle.
    assert brightness(first.screenshot()) < 0.3
    # A chart drawn only after the switch is drawn dark from the start.
    assert last.get_attribute("data-labbook-drawn") is None
    last.scroll_into_view_if_needed()
    wait_drawn(last)
    assert last.evaluate(CHART_COLORS_JS)["font"] == dark_fg

    toggle_palette(page)
    assert scheme(page) == "default"
    assert wait_colors(first, light_fg)["grid"] == light["grid"]
    assert wait_colors(last, light_fg)["paper"] == "rgba(0, 0, 0, 0)"
    assert visit.errors == []


WIDEST_TABLE_JS = """() => {
  const boxes = Array.from(document.querySelectorAll('.labbook-table-scroll'));
  boxes.sort((a, b) => b.scrollWidth - a.scrollWidth);
  const box = boxes[0];
  const before = {scrollWidth: box.scrollWidth, clientWidth: box.clientWidth};
  box.scrollLeft = box.scrollWidth;
  const cells = box.querySelector('table').tHead.rows[0].cells;
  const last = cells[cells.length - 1].getBoundingClientRect();
  return {
    ...before,
    scrolled: box.scrollLeft,
    tableWidth: box.querySelector('table').getBoundingClientRect().width,
    last: {left: last.left, right: last.right},
    header: cells[cells.length - 1].textContent,
    viewport: window.innerWidth,
    page: {scrollWidth: document.documentElement.scrollWidth,
           clientWidth: document.documentElement.clientWidth},
  };
}"""


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("width", [400, 1280])
def test_wide_tables_scroll_inside_the_page(
    open_page: OpenPage, example_origins: dict[str, str], engine: str, width: int
) -> None:
    # variants holds the example's widest table (a dozen columns of params and metrics).
    visit = open_page(example_origins[engine], page_path("variants"), width=width, height=900)
    page = visit.page
    page.locator(".labbook-table-scroll").first.scroll_into_view_if_needed()
    seen = page.evaluate(WIDEST_TABLE_JS)
    where = f"{engine} at {width}px: {seen}"
    assert seen["scrollWidth"] > seen["clientWidth"], f"the table fits, nothing to test; {where}"
    # The table keeps its natural width: its cells are not squeezed to the column.
    assert seen["tableWidth"] == pytest.approx(seen["scrollWidth"], abs=1), where
    assert seen["scrolled"] > 0, where
    assert 0 <= seen["last"]["left"] < seen["last"]["right"] <= seen["viewport"], where
    # Only the table's box scrolls, never the whole page.
    assert seen["page"]["scrollWidth"] <= seen["page"]["clientWidth"], where
    assert visit.errors == []


# --- log axes ---------------------------------------------------------------------------

# Each run spans a range where Plotly puts ticks between powers of ten: 0.2..0.9 alone,
# 0.2..2.5 (labelled "2, 1, 9, 8, 7 ..." top down before), and three decades.
LOG_RANGES = {"tight": (0.2, 0.9), "across": (0.2, 2.5), "decades": (0.004, 3.0)}

LOG_REPORT = "\n".join(
    [
        "---",
        "title: Log axes",
        "---",
        "",
        "# Log axes",
        "",
    ]
    + [f"```labbook\nline: loss\nruns: [{name}0001]\nlog_y: true\n```\n" for name in LOG_RANGES]
    + ["```labbook\nline: loss\nruns: [tight0001]\nx: loss\nlog_x: true\n```\n"]
)

TICKS_JS = """(el, axis) => Array.from(el.querySelectorAll('.' + axis + 'tick text')).map(
  t => ({text: t.textContent, log10: t.__data__.x}))"""

SI = {"μ": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9}


def tick_number(text: str) -> float:
    """Gives the number a tick label reads as (Plotly writes SI suffixes and a real minus)."""
    match = re.fullmatch(r"([\d.]+(?:e[+-]\d+)?)([μmkMG]?)", text.replace("\u2212", "-"))
    assert match, f"tick label {text!r} is not a number"
    return float(match.group(1)) * SI.get(match.group(2), 1.0)


@pytest.fixture(scope="session")
def log_origin(tmp_path_factory: pytest.TempPathFactory, serve_dir: ServeDir) -> str:
    root = tmp_path_factory.mktemp("log-axes") / "labbook"
    (root / "reports").mkdir(parents=True)
    (root / "mkdocs.yml").write_text(
        "site_name: Log axes\ndocs_dir: reports\ntheme:\n  name: material\n"
        "plugins:\n  - labbook:\n      sources: {local: runs}\n",
        encoding="utf-8",
    )
    (root / "reports" / "log.md").write_text(LOG_REPORT, encoding="utf-8")
    for name, (low, high) in LOG_RANGES.items():
        values = [low * (high / low) ** (i / 20) for i in range(21)]
        rows = [json.dumps({"step": i + 1, "loss": v}) for i, v in enumerate(values)]
        write_run(root, f"{name}0001", {"name": name}, rows)
    # The axes are Plotly's, drawn the same whichever engine built the page.
    built = BuiltSites(root, build_project(root, ("mkdocs",)))
    return serve_dir(built.site("mkdocs"))


def check_log_ticks(plot: Any, axis: str, where: str) -> list[float]:
    """Every tick label of a log axis reads as the value it marks; gives those values."""
    ticks = plot.evaluate(TICKS_JS, axis)
    assert len(ticks) >= 3, f"{where}: ticks {ticks}"
    values = []
    for tick in ticks:
        marked = 10 ** tick["log10"]
        shown = tick_number(tick["text"])
        assert math.isclose(shown, marked, rel_tol=1e-6), f"{where}: {tick['text']!r} at {marked}"
        values.append(marked)
    return values


def test_log_axes_label_every_tick_in_full(open_page: OpenPage, log_origin: str) -> None:
    visit = open_page(log_origin, "/log/")
    charts = plots(visit.page)
    assert charts.count() == len(LOG_RANGES) + 1
    for i, name in enumerate([*LOG_RANGES, "log x"]):
        plot = charts.nth(i)
        plot.scroll_into_view_if_needed()
        wait_drawn(plot)
        axis = "x" if name == "log x" else "y"
        values = check_log_ticks(plot, axis, name)
        if name != "decades":
            # Ticks between powers of ten, each labelled in full: 0.2 reads 0.2, not 2.
            assert any(math.isclose(v, 0.2) for v in values), f"{name}: {values}"
    assert visit.errors == []


def test_example_log_axes_label_every_tick_in_full(
    open_page: OpenPage, example_origins: dict[str, str]
) -> None:
    for report in ("lr-sweep", "augment-ablation"):
        visit = open_page(example_origins["mkdocs"], page_path(report))
        charts = plots(visit.page)
        logs = 0
        for i in range(charts.count()):
            plot = charts.nth(i)
            plot.scroll_into_view_if_needed()
            wait_drawn(plot)
            # Parallel coordinates have no cartesian axes; every other chart is checked.
            if plot.evaluate("el => (el._fullLayout.yaxis || {}).type") == "log":
                logs += 1
                check_log_ticks(plot, "y", f"{report} chart {i}")
        assert logs, f"{report} has no log axis any more"
        assert visit.errors == []


# --- narrow screens ---------------------------------------------------------------------

PLOT_AREA_JS = """el => ({
  orientation: el._fullLayout.legend.orientation,
  plotWidth: el._fullLayout._size.w,
  chartWidth: el.clientWidth,
})"""


@pytest.mark.parametrize(("width", "orientation"), [(400, "h"), (1280, "v")])
def test_legend_goes_on_top_on_a_narrow_screen(
    open_page: OpenPage, example_origins: dict[str, str], width: int, orientation: str
) -> None:
    visit = open_page(example_origins["mkdocs"], page_path("lr-sweep"), width=width)
    plot = plots(visit.page).first
    plot.scroll_into_view_if_needed()
    wait_drawn(plot)
    seen = plot.evaluate(PLOT_AREA_JS)
    assert seen["orientation"] == orientation, seen
    # The plot keeps most of the chart's width (a side legend left it under half at 400px).
    assert seen["plotWidth"] > 0.6 * seen["chartWidth"], seen
    assert visit.errors == []
