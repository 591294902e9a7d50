"""Every example report, full page, light and dark: no chart area is blank.

The screenshots are kept under $LABBOOK_SHOTS when it is set (CI keeps them as
artifacts), else in the test's temporary folder.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BuiltSites, OpenPage

from .test_browser import plots, wait_drawn

pytestmark = pytest.mark.browser

SCHEMES = {"default": 0, "slate": 1}


def report_pages(site: Path) -> list[str]:
    """Gives the URL path of every page of the example site, from its nav."""
    html = (site / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'<a href="([^"#]*)" class="md-nav__link', html)
    paths = {"/"} | {"/" + link.strip("./").rstrip("/") + "/" for link in links if link.strip("./")}
    return sorted(p.replace("//", "/") for p in paths)


def ink(png: bytes, background: tuple[int, int, int]) -> tuple[float, float]:
    """Gives the share of pixels that differ from the background, and of coloured ones.

    Axes, grid lines and labels are grey; only data (lines, markers, bars) is coloured,
    so an empty plot with its axes drawn still has no coloured pixels.
    """
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int32).reshape(-1, 3)
    far = np.abs(pixels - np.asarray(background)).sum(axis=1) > 60
    coloured = pixels.max(axis=1) - pixels.min(axis=1) > 60
    return float(far.mean()), float(coloured.mean())


@pytest.fixture(scope="module")
def shots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = os.environ.get("LABBOOK_SHOTS")
    path = Path(target) if target else tmp_path_factory.mktemp("shots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def schemed(open_page: OpenPage) -> Iterator[Any]:
    opened: list[Any] = []

    def open_(origin: str, path: str, scheme: str) -> Any:
        visit = open_page(origin, "/")
        visit.page.evaluate(
            "i => localStorage.setItem('/.__palette', JSON.stringify({index: i, color: {}}))",
            SCHEMES[scheme],
        )
        visit.page.goto(origin + path, wait_until="load")
        opened.append(visit)
        return visit

    yield open_
    for visit in opened:
        visit.page.evaluate("() => localStorage.clear()")


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_every_report_page_draws_every_chart(
    built_sites: BuiltSites,
    example_origins: dict[str, str],
    schemed: Any,
    shots_dir: Path,
    scheme: str,
) -> None:
    site = built_sites.site("mkdocs")
    pages = report_pages(site)
    assert len(pages) >= 6, pages
    for path in pages:
        visit = schemed(example_origins["mkdocs"], path, scheme)
        page = visit.page
        assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == scheme
        charts = plots(page)
        for i in range(charts.count()):
            plot = charts.nth(i)
            plot.scroll_into_view_if_needed()
            wait_drawn(plot)
        page.evaluate("window.scrollTo(0, 0)")
        name = (path.strip("/").replace("/", "_") or "index") + f"-{scheme}.png"
        page.screenshot(path=str(shots_dir / name), full_page=True)
        background = page.evaluate(
            "() => getComputedStyle(document.querySelector('.md-main')).backgroundColor"
            " || getComputedStyle(document.body).backgroundColor"
        )
        rgb = tuple(int(v) for v in re.findall(r"\d+", background)[:3])
        if len(rgb) != 3 or background.endswith(", 0)"):
            rgb = (255, 255, 255) if scheme == "default" else (30, 33, 41)
        for i in range(charts.count()):
            plot = charts.nth(i)
            share, coloured = ink(plot.screenshot(), rgb)  # type: ignore[arg-type]
            where = f"{path} chart {i + 1} ({scheme})"
            assert share > 0.01 and coloured > 0.002, (
                f"{where} looks blank: {share:.3%}, {coloured:.3%}"
            )
        assert visit.errors == [], visit.errors
