"""The compare block: cells equal the runs' values, differing rows marked, histories overlaid."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from labbook.blocks.compare import CompareBlock
from labbook.errors import ReportError
from labbook.model import Run, RunSet, Series

from .kinds import ctx, figure_of


class Rows(HTMLParser):
    """Collects the compare table's body rows: (key, differs, [cell texts])."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, bool, list[str]]] = []
        self._row: tuple[str, bool, list[str]] | None = None
        self._cell: list[str] | None = None
        self.headers: list[str] = []
        self._in_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "thead":
            self._in_head = True
        if tag == "tr" and "data-key" in a:
            self._row = (a["data-key"] or "", "labbook-differs" in (a.get("class") or ""), [])
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "thead":
            self._in_head = False
        if tag in ("td", "th") and self._cell is not None:
            text = "".join(self._cell)
            if self._in_head:
                self.headers.append(text)
            elif self._row is not None and tag == "td":
                self._row[2].append(text)
            self._cell = None
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def runs() -> list[Run]:
    out = []
    for i, (lr, opt) in enumerate([(0.1, "sgd"), (0.01, "sgd"), (0.1, "adam")]):
        run = Run(
            id=f"run{i}",
            source="local",
            name=f"run-{i}",
            status="finished",
            params={"lr": lr, "opt": {"name": opt, "momentum": 0.9}, "batch": 128},
            tags={"team": "vision"},
            summary={"val/acc": 0.8 + i / 100, "epochs": 10},
        )
        run.set_series(Series.from_points("val/loss", [0, 1, 2], [1.0 - i / 10, 0.8, 0.5 + i / 10]))
        out.append(run)
    return out


def render(spec: dict[str, object], chosen: list[Run]) -> tuple[Rows, str]:
    out = CompareBlock(spec, ctx()).render(RunSet(chosen))
    parsed = Rows()
    parsed.feed(out.html)
    return parsed, out.html


def test_cells_equal_the_runs_and_differing_rows_are_marked() -> None:
    chosen = runs()
    table, html = render({"compare": ["run0", "run1", "run2"]}, chosen)
    assert table.headers == ["", "run-0", "run-1", "run-2"]
    rows = {key: (differs, cells) for key, differs, cells in table.rows}
    assert rows["lr"] == (True, ["0.1", "0.01", "0.1"])
    assert rows["opt.name"] == (True, ["sgd", "sgd", "adam"])
    assert rows["opt.momentum"] == (False, ["0.9", "0.9", "0.9"])
    assert rows["batch"] == (False, ["128", "128", "128"])
    assert rows["team"] == (False, ["vision"] * 3)
    assert rows["val/acc"] == (True, ["0.8", "0.81", "0.82"])
    assert rows["epochs"] == (False, ["10", "10", "10"])
    differing = sum(d for d, _ in rows.values())
    assert f"only differences ({differing} of {len(rows)} rows)" in html


def test_the_shared_metrics_are_overlaid_with_the_logged_values() -> None:
    chosen = runs()
    _, html = render({"compare": ["run0", "run1"]}, chosen[:2])
    figure = figure_of(html)
    traces = {t["meta"]["run_id"]: t for t in figure["data"]}
    for run in chosen[:2]:
        series = run.series("val/loss")
        assert traces[run.id]["x"] == series.steps.tolist()
        assert traces[run.id]["y"] == series.values.tolist()


@pytest.mark.parametrize("refs", [["a"], ["a", "b", "c", "d", "e"], "a", []])
def test_two_to_four_runs(refs: object) -> None:
    with pytest.raises(ReportError, match=r"'compare' must list 2 to 4 runs") as info:
        CompareBlock({"compare": refs}, ctx())
    assert info.value.line == 2  # no key line for compare in the test context: the fence


def test_the_same_run_twice_is_an_error() -> None:
    chosen = runs()
    with pytest.raises(ReportError, match="names the same run twice"):
        render({"compare": ["run0", "run-0"]}, [chosen[0], chosen[0]])


def test_run_names_are_escaped() -> None:
    chosen = runs()[:2]
    chosen[0].name = "<img src=x onerror=alert(1)>"
    _, html = render({"compare": ["run0", "run1"]}, chosen)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
