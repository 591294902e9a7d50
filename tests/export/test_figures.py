"""FigureExporter: charts drawn by Kaleido in one page kept between figures, as a reloaded page draws them."""

from __future__ import annotations

import asyncio
import re
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from labbook.export.figures import FigureExporter, _session_class, find_browser, print_figure
from labbook.site.assets import plotly_js

from .conftest import chromium_or_skip

pytestmark = pytest.mark.browser  # Kaleido drives Chromium


def without_random_ids(svg: bytes) -> bytes:
    """The SVG with Plotly's random ids (the figure's, in clip paths; each trace's) taken out."""
    ids = re.findall(rb'id="defs-([0-9a-z]+)"', svg) + re.findall(
        rb'class="trace \w+ trace([0-9a-z]+)"', svg
    )
    for found in set(ids):
        svg = svg.replace(found, b"")
    return svg


def figures() -> list[dict[str, Any]]:
    kinds = [("scatter", {}), ("bar", {"barmode": "group"}), ("histogram", {}), ("scatter", {})]
    out = []
    for i, (kind, extra) in enumerate(kinds):
        layout = {"title": {"text": f"Chart title {i}"}, "showlegend": True, **extra}
        if i == 3:
            layout["yaxis"] = {"type": "log", "title": {"text": "loss (log)"}}
        trace = {"type": kind, "x": [1, 2, 3, 4], "y": [i + 1, 4, 2, 8], "name": f"trace-{i}"}
        out.append(print_figure({"data": [trace], "layout": layout}))
    return out


def run_coroutine(coroutine: Any) -> Any:
    """Runs a coroutine in a thread of its own: the suite's Playwright keeps a loop running here."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def reloaded_page_svgs(items: list[dict[str, Any]]) -> list[bytes]:
    """Kaleido's own session class: its page reloaded after every figure."""
    import kaleido

    async def run() -> list[bytes]:
        async with kaleido.Kaleido(n=1, plotlyjs=str(plotly_js()), mathjax=False) as session:
            return [await session.calc_fig(f, opts={"format": "svg"}) for f in items]

    result: list[bytes] = run_coroutine(run())
    return result


def test_a_kept_page_draws_each_chart_as_a_reloaded_page_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chromium_or_skip()
    monkeypatch.setenv("BROWSER_PATH", find_browser())
    items = figures()
    ran = []
    exporter = FigureExporter(tmp_path / "figures")
    kept = exporter.images(items, "svg", meanwhile=lambda: ran.append(1))
    assert exporter.exported == 4 and ran == [1]
    reloaded = reloaded_page_svgs(items)
    for i, (ours, theirs) in enumerate(zip(kept, reloaded, strict=True)):
        assert without_random_ids(ours) == without_random_ids(theirs), f"chart {i}"
        text = ours.decode()
        assert f"Chart title {i}" in text and f"trace-{i}" in text
        for j in range(4):
            if j != i:  # nothing of the chart drawn before it is left in the page
                assert f"Chart title {j}" not in text and f"trace-{j}" not in text
    assert "loss (log)" in kept[3].decode()


def test_an_error_of_the_work_done_meanwhile_is_left_for_its_caller() -> None:
    chromium_or_skip()

    def fails() -> None:
        raise ImportError("not here")

    exporter = FigureExporter(None)
    (svg,) = exporter.images(figures()[:1], "svg", meanwhile=fails)
    assert b"Chart title 0" in svg


def test_a_kaleido_without_the_method_or_of_another_major_is_used_as_it_is() -> None:
    class Plain:
        pass

    class WithReturn:
        async def _return_kaleido_tab(self, tab: object) -> None:
            raise AssertionError("replaced, never called")

    assert _session_class(types.SimpleNamespace(Kaleido=Plain), "1.5.1") is Plain
    other = types.SimpleNamespace(Kaleido=WithReturn)
    assert _session_class(other, "2.0.0") is WithReturn  # another major: its own class
    made = _session_class(other, "1.5.1")
    assert issubclass(made, WithReturn) and made is not WithReturn

    class Queue:
        def __init__(self) -> None:
            self.items: list[object] = []

        async def put(self, item: object) -> None:
            self.items.append(item)

    session = made()
    session.tabs_ready = Queue()
    run_coroutine(session._return_kaleido_tab("tab"))
    assert session.tabs_ready.items == ["tab"]  # back in the queue, no reload
