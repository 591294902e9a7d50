"""'Download CSV' on charts and tables gives exactly the data shown, in headless Chromium."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import OpenPage

from .test_browser import page_path, plots, wait_drawn

pytestmark = pytest.mark.browser


def rows_of(text: str) -> tuple[list[str], list[list[str]], list[str]]:
    notes = [line[2:] for line in text.splitlines() if line.startswith("# ")]
    body = "\n".join(line for line in text.splitlines() if not line.startswith("# "))
    table = list(csv.reader(io.StringIO(body)))
    return table[0], table[1:], notes


def test_the_chart_button_downloads_every_shown_point(
    open_page: OpenPage, example_origins: dict[str, str], tmp_path: Path
) -> None:
    visit = open_page(example_origins["mkdocs"], page_path("lr-sweep"))
    plot = plots(visit.page).first
    plot.scroll_into_view_if_needed()
    wait_drawn(plot)
    traces: list[dict[str, Any]] = plot.evaluate(
        "p => p.data.filter(t => t.visible !== false && t.visible !== 'legendonly')"
        ".map(t => ({name: t.name || '', x: Array.from(t.x), y: Array.from(t.y)}))"
    )
    plot.hover()
    titles = plot.evaluate(
        "p => Array.from(p.querySelectorAll('.modebar-btn')).map(a => a.getAttribute('data-title'))"
    )
    assert "Share chart..." not in titles, titles  # it would send the data to plotly.com
    assert "Download the data shown as CSV" in titles, titles
    with visit.page.expect_download() as info:
        plot.locator('[data-title="Download the data shown as CSV"]').click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    saved = tmp_path / "chart.csv"
    download.save_as(saved)
    header, rows, _ = rows_of(saved.read_text(encoding="utf-8"))
    assert header[0] == "series" and len(header) >= 3
    expected = [[t["name"], x, y] for t in traces for x, y in zip(t["x"], t["y"], strict=True)]
    assert len(rows) == len(expected) > 0
    for row, (name, x, y) in zip(rows, expected, strict=True):
        assert row[0] == name
        assert float(row[1]) == pytest.approx(float(x)) if row[1] else x is None
        assert (float(row[2]) == pytest.approx(float(y))) if row[2] else y is None
    assert visit.errors == []


def test_the_table_button_downloads_the_rows_as_shown(
    open_page: OpenPage, example_origins: dict[str, str], tmp_path: Path
) -> None:
    visit = open_page(example_origins["mkdocs"], page_path("lr-sweep"))
    table = visit.page.locator("table.labbook-table").first
    shown = table.evaluate(
        "t => Array.from(t.querySelectorAll('tbody tr')).map("
        "tr => Array.from(tr.children).map(td => td.textContent))"
    )
    headers = table.evaluate(
        "t => Array.from(t.querySelectorAll('thead th')).map(th => th.textContent)"
    )
    button = visit.page.locator("button.labbook-csv").first
    with visit.page.expect_download() as info:
        button.click()
    saved = tmp_path / "table.csv"
    info.value.save_as(saved)
    header, rows, _ = rows_of(saved.read_text(encoding="utf-8"))
    assert header == headers
    assert rows == shown and len(rows) > 1
    assert visit.errors == []


def test_csv_cells_cannot_become_spreadsheet_formulas(
    open_page: OpenPage, example_origins: dict[str, str]
) -> None:
    visit = open_page(example_origins["mkdocs"], page_path("lr-sweep"))
    text = visit.page.evaluate(
        """() => window.labbook.figureCsv(
            [{type: 'scatter', name: '=HYPERLINK("x")', x: [1, -2], y: ['-3', '@SUM(A1)']}],
            {xaxis: {title: {text: 'step'}}, yaxis: {title: {text: 'a,b'}}, meta: {csv_note: 'n'}})"""
    )
    header, rows, notes = rows_of(text)
    assert notes == ["n"]
    assert header == ["series", "step", "a,b"]
    assert rows == [
        ['\'=HYPERLINK("x")', "1", "-3"],  # a number stays a number
        ['\'=HYPERLINK("x")', "-2", "'@SUM(A1)"],
    ]
