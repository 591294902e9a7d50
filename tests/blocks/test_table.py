"""The table block: columns, display, sorting, highlighting and escaping."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest

from labbook.blocks.base import BlockContext
from labbook.blocks.columns import canonical_column
from labbook.blocks.table import TableBlock, format_duration
from labbook.errors import ReportError
from labbook.model import Run, RunSet

KEY_LINES = {"table": 3, "runs": 4, "only_differing": 5, "highlight": 6, "sort": 7, "limit": 8}


@dataclass
class Cell:
    attrs: dict[str, str]
    text: str = ""
    href: str | None = None


@dataclass
class Table:
    headers: list[Cell] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        return [h.attrs["data-key"] for h in self.headers]

    def column(self, key: str) -> list[Cell]:
        index = self.keys.index(key)
        return [row[index] for row in self.rows]

    def texts(self, key: str) -> list[str]:
        return [c.text for c in self.column(key)]


class TableParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.table = Table()
        self.cell: Cell | None = None
        self.in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "tbody":
            self.in_body = True
        if tag == "tr" and self.in_body:
            self.table.rows.append([])
        if tag in ("th", "td"):
            self.cell = Cell(values)
            if tag == "th":
                self.table.headers.append(self.cell)
            else:
                self.table.rows[-1].append(self.cell)
        if tag == "a" and self.cell is not None:
            self.cell.href = values.get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td"):
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.text += data


def parse(html: str) -> Table:
    parser = TableParser()
    parser.feed(html)
    return parser.table


def ctx(run_link: Any = None) -> BlockContext:
    context = BlockContext(
        report_file="reports/t.md", block_index=2, key_lines=KEY_LINES, fence_line=2
    )
    if run_link is not None:
        context.run_link = run_link
    return context


START = datetime(2026, 11, 2, 10, 0)


def sweep() -> list[Run]:
    rows = [
        ("a", "base", 0.1, 0.81234567, 0.52, 3720.0),
        ("b", "wide", 0.01, 0.9, 0.31, 59.6),
        ("c", "deep", 0.001, 0.85, None, 301.0),
    ]
    runs = []
    for run_id, name, lr, acc, loss, seconds in rows:
        summary: dict[str, Any] = {"val/acc": acc, "epochs": 10, "note": "text"}
        if loss is not None:
            summary["val/loss"] = loss
        runs.append(
            Run(
                id=run_id,
                source="local",
                name=name,
                status="finished",
                start_time=START,
                end_time=START + timedelta(seconds=seconds),
                params={"lr": lr, "batch": 64, "opt": "adam"},
                tags={"team": "vision", "mlflow.user": "x"},
                summary=summary,
                hidden_tags=frozenset({"mlflow.user"}),
                url=f"https://tracker/{run_id}",
            )
        )
    return runs


def render(spec: dict[str, Any], runs: list[Run] | None = None, **kw: Any) -> Table:
    out = TableBlock(spec, ctx(**kw)).render(RunSet(sweep() if runs is None else runs))
    assert "\n" not in out.html
    assert out.html.startswith(
        '<div class="labbook-block labbook-table-block" id="labbook-block-2" data-labbook-kind="tbl">'
    )
    assert '<table class="labbook-table" data-sortable="true"><thead><tr><th' in out.html
    return parse(out.html)


def test_cells_equal_the_runs_values() -> None:
    # deep has no val/loss: a column some runs lack shows empty cells for them.
    table = render({"table": ["name", "params.lr", "val/loss", "val/acc", "tags.team"]})
    assert table.keys == [
        "name",
        "params.lr",
        "metrics.val/loss",
        "metrics.val/acc",
        "tags.team",
    ]
    # Headers as readers say them; the key stays in data-key (and the header's tooltip).
    assert [h.text for h in table.headers] == ["name", "lr", "val/loss", "val/acc", "team"]
    assert table.texts("name") == ["base", "wide", "deep"]
    assert table.texts("params.lr") == ["0.1", "0.01", "0.001"]
    assert [c.attrs["data-value"] for c in table.column("params.lr")] == ["0.1", "0.01", "0.001"]
    assert table.texts("metrics.val/loss") == ["0.52", "0.31", ""]
    # Shown to 4 significant digits, sorted on the full value.
    assert table.texts("metrics.val/acc") == ["0.8123", "0.9", "0.85"]
    assert table.column("metrics.val/acc")[0].attrs["data-value"] == "0.81234567"
    types = {h.attrs["data-key"]: h.attrs["data-type"] for h in table.headers}
    assert types == {
        "name": "text",
        "params.lr": "number",
        "metrics.val/loss": "number",
        "metrics.val/acc": "number",
        "tags.team": "text",
    }


def test_auto_lists_name_status_params_visible_tags_and_numeric_metrics() -> None:
    table = render({"table": "auto"})
    assert table.keys == [
        "name",
        "status",
        "params.batch",
        "params.lr",
        "params.opt",
        "tags.team",
        "metrics.epochs",
        "metrics.val/acc",
        "metrics.val/loss",
    ]
    assert table.texts("metrics.val/loss") == ["0.52", "0.31", ""]
    assert table.column("metrics.val/loss")[2].attrs["data-value"] == ""


def test_durations_dates_and_ints_display() -> None:
    table = render({"table": ["name", "duration", "start_time", "params.batch", "id"]})
    assert table.texts("duration") == ["1h 02m", "1m 00s", "5m 01s"]
    assert table.column("duration")[0].attrs["data-value"] == "3720.0"
    assert table.texts("start_time") == ["2026-11-02 10:00"] * 3
    assert table.column("start_time")[0].attrs["data-value"] == "2026-11-02T10:00:00"
    assert table.texts("params.batch") == ["64", "64", "64"]
    assert table.texts("id") == ["a", "b", "c"]
    types = {h.attrs["data-key"]: h.attrs["data-type"] for h in table.headers}
    assert types["duration"] == "number" and types["start_time"] == "date"


def test_format_duration() -> None:
    assert format_duration(42.4) == "42s"
    assert format_duration(303) == "5m 03s"
    assert format_duration(3720) == "1h 02m"
    assert format_duration(2 * 86400 + 3 * 3600 + 5) == "2d 03h"
    assert format_duration(None) == ""


def test_name_links_where_run_link_gives_one() -> None:
    table = render({"table": ["name", "id"]})
    assert [c.href for c in table.column("name")] == [
        "https://tracker/a",
        "https://tracker/b",
        "https://tracker/c",
    ]
    assert all(c.href is None for c in table.column("id"))
    table = render({"table": ["name"]}, run_link=lambda run: f"../notebook/{run.id}.html")
    assert table.column("name")[1].href == "../notebook/b.html"
    table = render({"table": ["name"]}, run_link=lambda run: None)
    assert all(c.href is None for c in table.column("name"))


@pytest.mark.parametrize(
    ("sort", "names"),
    [
        ("val/acc", ["base", "deep", "wide"]),
        ("metrics.val/acc desc", ["wide", "deep", "base"]),
        ("-val/acc", ["wide", "deep", "base"]),
        ("params.lr asc", ["deep", "wide", "base"]),
        ("name", ["base", "deep", "wide"]),
        # Runs without the value go last, whichever the direction.
        ("val/loss", ["wide", "base", "deep"]),
        ("-val/loss", ["base", "wide", "deep"]),
        (["params.opt", "-params.lr"], ["base", "wide", "deep"]),
    ],
)
def test_sort(sort: Any, names: list[str]) -> None:
    assert render({"table": ["name"], "sort": sort}).texts("name") == names


def test_sort_marks_the_header_and_limit_keeps_the_top_rows() -> None:
    out = TableBlock(
        {"table": ["name", "val/acc"], "sort": "val/acc desc", "limit": 2}, ctx()
    ).render(RunSet(sweep()))
    table = parse(out.html)
    assert table.texts("name") == ["wide", "deep"]
    assert table.headers[1].attrs["aria-sort"] == "descending"


def test_only_differing_drops_equal_columns_but_keeps_name_and_id() -> None:
    runs = sweep()
    runs[0].params["batch"] = 64.0  # equal to 64
    table = render(
        {
            "table": [
                "name",
                "id",
                "status",
                "params.lr",
                "params.batch",
                "params.opt",
                "tags.team",
            ],
            "only_differing": True,
        },
        runs,
    )
    assert table.keys == ["name", "id", "params.lr"]


def test_highlight_marks_the_best_cells() -> None:
    table = render(
        {
            "table": ["name", "val/acc", "metrics.val/loss"],
            "highlight": {"metrics.val/acc": "max", "val/loss": "min"},
        }
    )
    assert [c.attrs.get("class") for c in table.column("metrics.val/acc")] == [
        None,
        "labbook-best",
        None,
    ]
    assert [c.attrs.get("class") for c in table.column("metrics.val/loss")] == [
        None,
        "labbook-best",
        None,
    ]


def test_hostile_values_appear_only_escaped() -> None:
    evil = "<img src=x onerror=alert(1)>"
    run = Run(
        id="e",
        source="local",
        name=evil,
        params={evil: evil},
        tags={"t": 'a"b\n\nc'},
        url="javascript:alert(1)",
    )
    out = TableBlock({"table": "auto"}, ctx()).render(RunSet([run]))
    assert "<img" not in out.html
    assert "&lt;img src=x onerror=alert(1)&gt;" in out.html
    assert "javascript:" not in out.html
    assert "\n" not in out.html
    table = parse(out.html)
    assert table.texts("name") == [evil]
    assert table.texts(f"params.{evil}") == [evil]
    assert table.texts("tags.t") == ['a"b\n\nc']


def test_title_and_caption() -> None:
    out = TableBlock(
        {"table": ["name"], "title": "Runs <all>", "caption": "From the sweep"}, ctx()
    ).render(RunSet(sweep()))
    # Title and caption stay put; only the table scrolls sideways in its box.
    assert (
        '<div class="labbook-title">Runs &lt;all&gt;</div><div class="labbook-table-scroll"><table'
        in out.html
    )
    assert out.html.endswith('</table></div><p class="labbook-caption">From the sweep</p></div>')


def test_canonical_column() -> None:
    assert canonical_column("val/acc") == "metrics.val/acc"
    assert canonical_column("metric.val/acc") == "metrics.val/acc"
    assert canonical_column("param.lr") == "params.lr"
    assert canonical_column("run_id") == "id"
    assert canonical_column("duration") == "duration"


def test_metric_keys() -> None:
    block = TableBlock({"table": ["name", "val/acc"], "sort": "-metrics.loss"}, ctx())
    assert block.metric_keys() == ["val/acc", "loss"]


@pytest.mark.parametrize(
    ("spec", "option"),
    [
        ({"table": "all"}, "table"),
        ({"table": []}, "table"),
        ({"table": ["name", 3]}, "table"),
        ({"table": ["params."]}, "table"),
        ({"table": ["name"], "only_differing": "yes"}, "only_differing"),
        ({"table": ["name"], "highlight": ["val/acc"]}, "highlight"),
        ({"table": ["name", "val/acc"], "highlight": {"val/acc": "top"}}, "highlight"),
        ({"table": ["name"], "highlight": {"val/acc": "max"}}, "highlight"),
        ({"table": ["name"], "sort": 5}, "sort"),
        ({"table": ["name"], "sort": []}, "sort"),
        ({"table": ["name"], "limit": 0}, "limit"),
        ({"table": ["name"], "limit": "10"}, "limit"),
    ],
)
def test_bad_options_raise_at_their_line(spec: dict[str, Any], option: str) -> None:
    with pytest.raises(ReportError) as info:
        TableBlock(spec, ctx())
    assert info.value.line == KEY_LINES[option]
    assert info.value.file == "reports/t.md"
    assert option in info.value.message


@pytest.mark.parametrize(
    ("spec", "option", "hint"),
    [
        ({"table": ["name", "metrics.val/acx"]}, "table", "did you mean 'metrics.val/acc'?"),
        ({"table": ["name", "params.bacth"]}, "table", "did you mean 'params.batch'?"),
        ({"table": ["name", "lr"]}, "table", "'lr' is a param, not a metric: write params.lr"),
        ({"table": ["name"], "sort": "val/los desc"}, "sort", "did you mean 'metrics.val/loss'?"),
    ],
)
def test_a_column_no_run_has_is_an_error_naming_the_columns(
    spec: dict[str, Any], option: str, hint: str
) -> None:
    with pytest.raises(ReportError) as info:
        TableBlock(spec, ctx()).render(RunSet(sweep()))
    assert info.value.line == KEY_LINES[option]
    assert "no run of this block has" in info.value.message
    assert info.value.hint is not None and info.value.hint.startswith(hint)


def test_every_unknown_column_is_reported_at_once() -> None:
    from labbook.errors import ReportErrors

    with pytest.raises(ReportErrors) as info:
        TableBlock({"table": ["name", "rsme", "tags.tem"]}, ctx()).render(RunSet(sweep()))
    assert [e.message for e in info.value.errors] == [
        "'table': no run of this block has 'rsme'",
        "'table': no run of this block has 'tags.tem'",
    ]


@pytest.mark.parametrize("word", ["ascending", "descending", "up", "down"])
def test_a_sort_direction_other_than_asc_or_desc_is_an_error(word: str) -> None:
    with pytest.raises(ReportError) as info:
        TableBlock({"table": ["name"], "sort": f"val/acc {word}"}, ctx())
    assert info.value.line == KEY_LINES["sort"]
    assert "the direction must be asc or desc" in info.value.message


def test_an_empty_block_checks_no_columns() -> None:
    out = TableBlock({"table": ["name", "rsme"]}, ctx()).render(RunSet())
    assert "<tbody></tbody>" in out.html


def test_a_column_can_be_relabelled_and_units_show() -> None:
    runs = [
        Run(
            id="a",
            source="local",
            name="a",
            summary={"rmse": 0.5, "latency_ms": 12.0},
            params={"rmse": "x"},
        )
    ]
    table = render({"table": ["name", {"metrics.rmse": "RMSE"}, "params.rmse", "latency_ms"]}, runs)
    assert table.keys == ["name", "metrics.rmse", "params.rmse", "metrics.latency_ms"]
    # A param and a metric of one name keep their prefixes, so no header is ambiguous.
    assert [h.text for h in table.headers] == ["name", "RMSE", "params.rmse", "latency (ms)"]
    assert table.texts("metrics.rmse") == ["0.5"]


def test_a_relabelled_column_must_have_a_text_header() -> None:
    with pytest.raises(ReportError, match=r"the header of 'metrics.rmse' must be text"):
        render({"table": [{"metrics.rmse": None}]})
