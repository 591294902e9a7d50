"""How the example lab book looks in headless Chromium: charts follow Material's light and
dark schemes live, wide tables scroll inside the page, log axes label ticks in full.

Uses the session's built example sites and browser (tests/conftest.py).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ENGINES, OpenPage, Visit
from tests.site.test_browser import page_path, plots, wait_drawn

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
