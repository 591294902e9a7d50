"""The line block: options, the Plotly figure it embeds, and the HTML around it."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labbook.blocks.base import BlockContext
from labbook.blocks.line import LineBlock
from labbook.charts import PALETTE, smooth_ema
from labbook.errors import ReportError, ReportErrors
from labbook.model import Run, RunSet, Series

KEY_LINES = {
    "line": 3,
    "runs": 4,
    "x": 5,
    "smoothing": 6,
    "group_by": 7,
    "band": 8,
    "log_x": 9,
    "log_y": 10,
    "xrange": 11,
    "yrange": 12,
    "legend": 13,
    "max_points": 14,
    "height": 15,
    "title": 16,
    "layout": 17,
}
T0 = 1_767_261_600.0  # 2026-01-01 10:00:00 UTC


def ctx(index: int = 0, max_points: int = 1500) -> BlockContext:
    return BlockContext(
        report_file="reports/r.md",
        block_index=index,
        key_lines=KEY_LINES,
        fence_line=2,
        max_points=max_points,
    )


def make_run(
    run_id: str,
    series: dict[str, tuple[list[int], list[float]]],
    *,
    name: str = "",
    params: dict[str, Any] | None = None,
    times: dict[str, list[float]] | None = None,
) -> Run:
    run = Run(id=run_id, source="local", name=name, params=dict(params or {}))
    for key, (steps, values) in series.items():
        run.set_series(Series.from_points(key, steps, values, (times or {}).get(key)))
    return run


def figure_of(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="([^"]+)">(.*?)</script>', html)
    assert match is not None
    figure: dict[str, Any] = json.loads(match.group(2))
    return figure


def traces(figure: dict[str, Any], **meta: Any) -> list[dict[str, Any]]:
    return [t for t in figure["data"] if all(t["meta"].get(k) == v for k, v in meta.items())]


def one(figure: dict[str, Any], **meta: Any) -> dict[str, Any]:
    found = traces(figure, **meta)
    assert len(found) == 1, (meta, [t["meta"] for t in figure["data"]])
    return found[0]


def render(
    spec: dict[str, Any], runs: list[Run], **kw: Any
) -> tuple[str, dict[str, Any], list[Any]]:
    out = LineBlock(spec, ctx(**kw)).render(RunSet(runs))
    figure = figure_of(out.html)
    assert out.figure is not None
    assert json.loads(json.dumps(out.figure)) == figure
    return out.html, figure, out.warnings


# --- what is drawn ----------------------------------------------------------------------


def test_traces_hold_the_logged_points_without_nan() -> None:
    a = make_run("a1", {"val/loss": ([0, 10, 20, 30], [1.0, 0.5, math.nan, 0.25])}, name="alpha")
    b = make_run("b2", {"val/loss": ([5, 15], [2.0, math.inf])}, name="beta")
    _, figure, warnings = render({"line": "val/loss"}, [a, b])
    assert warnings == []
    ta = one(figure, run_id="a1", key="val/loss")
    assert ta["type"] == "scatter" and ta["mode"] == "lines"
    assert ta["x"] == [0, 10, 30] and ta["y"] == [1.0, 0.5, 0.25]
    assert ta["name"] == "alpha"
    tb = one(figure, run_id="b2", key="val/loss")
    # A single finite point is drawn as a marker, since a line of one point shows nothing.
    assert tb["x"] == [5] and tb["y"] == [2.0] and tb["mode"] == "markers"
    assert ta["line"]["color"] == PALETTE[0] and tb["line"]["color"] == PALETTE[1]
    assert "alpha" in ta["hovertemplate"] and "%{y" in ta["hovertemplate"]
    assert "step %{x" in ta["hovertemplate"]
    layout = figure["layout"]
    assert layout["hovermode"] == "closest"
    assert layout["height"] == 400
    assert layout["uirevision"]
    assert layout["xaxis"]["title"]["text"] == "step"
    assert layout["yaxis"]["title"]["text"] == "val/loss"
    assert layout["xaxis"]["type"] == "linear" and layout["yaxis"]["type"] == "linear"


class DictReader:
    """A source's reader over series held in memory: globs expand over its keys."""

    def __init__(self, series: dict[str, dict[str, Series]]) -> None:
        self.series = series

    def read_series(self, run: Run, key: str) -> Series:
        return self.series[run.id].get(key, Series.empty(key))

    def list_metric_keys(self, run: Run) -> list[str]:
        return sorted(self.series[run.id])

    def read_many(
        self, runs: Sequence[Run], keys: Sequence[str] | None = None
    ) -> dict[str, dict[str, Series]]:
        return {r.id: {k: self.read_series(r, k) for k in keys or self.series[r.id]} for r in runs}


def test_several_keys_and_globs_give_one_trace_per_run_and_key() -> None:
    reader = DictReader(
        {
            f"r{i}": {
                "train/loss": Series.from_points("train/loss", [0, 1], [1.0 + i, 0.5]),
                "train/acc": Series.from_points("train/acc", [0, 1], [0.1, 0.2 + i]),
                "val/acc": Series.from_points("val/acc", [0, 1], [0.3, 0.4]),
            }
            for i in range(2)
        }
    )
    runs = [Run(id=f"r{i}", source="local", name=f"run{i}", reader=reader) for i in range(2)]
    _, figure, warnings = render({"line": ["train/*"]}, runs)
    assert warnings == []
    assert {(t["meta"]["run_id"], t["meta"]["key"]) for t in figure["data"]} == {
        ("r0", "train/acc"),
        ("r0", "train/loss"),
        ("r1", "train/acc"),
        ("r1", "train/loss"),
    }
    t = one(figure, run_id="r1", key="train/acc")
    assert t["name"] == "run1 · train/acc"
    assert t["y"] == [0.1, 1.2]
    # Keys of one run share its colour and differ by dash.
    other = one(figure, run_id="r1", key="train/loss")
    assert t["line"]["color"] == other["line"]["color"]
    assert t["line"]["dash"] != other["line"]["dash"]


def test_smoothing_draws_smoothed_line_and_a_faint_raw_line() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(size=50).tolist()
    run = make_run("a", {"loss": (list(range(50)), values)}, name="a")
    _, figure, _ = render({"line": "loss", "smoothing": 0.6}, [run])
    raw = one(figure, run_id="a", role="raw")
    smoothed = one(figure, run_id="a", role="smoothed")
    assert raw["y"] == values
    np.testing.assert_allclose(smoothed["y"], smooth_ema(np.array(values), 0.6))
    assert raw["opacity"] == pytest.approx(0.25)
    assert raw["showlegend"] is False
    assert smoothed.get("showlegend", True) is True
    assert raw["legendgroup"] == smoothed["legendgroup"]
    assert raw["line"]["color"] == smoothed["line"]["color"]
    # The smoothed line is drawn last so it sits on top.
    assert figure["data"].index(smoothed) > figure["data"].index(raw)


def test_group_by_draws_the_mean_with_a_std_band() -> None:
    rng = np.random.default_rng(5)
    steps = list(range(0, 100, 10))
    runs = []
    values: dict[float, list[list[float]]] = {0.1: [], 0.01: []}
    for i in range(5):
        lr = 0.1 if i < 3 else 0.01
        ys = rng.normal(size=len(steps)).tolist()
        values[lr].append(ys)
        runs.append(make_run(f"r{i}", {"loss": (steps, ys)}, params={"lr": lr}))
    _, figure, warnings = render({"line": "loss", "group_by": "params.lr"}, runs)
    assert warnings == []
    for lr, ys in values.items():
        mean = one(figure, group=lr, role="mean")
        stacked = np.array(ys)
        assert mean["x"] == steps
        np.testing.assert_allclose(mean["y"], stacked.mean(axis=0))
        assert mean["name"] == f"lr={lr} (n={len(ys)})"
        band = one(figure, group=lr, role="band")
        std = stacked.std(axis=0, ddof=1)
        upper = stacked.mean(axis=0) + std
        lower = stacked.mean(axis=0) - std
        np.testing.assert_allclose(band["y"], np.concatenate([upper, lower[::-1]]))
        assert band["x"] == steps + steps[::-1]
        assert band["fill"] == "toself"
        assert band["showlegend"] is False
        assert band["legendgroup"] == mean["legendgroup"]
        assert sorted(mean["meta"]["run_ids"]) == sorted(r.id for r in runs if r.params["lr"] == lr)
    # Groups are ordered by value: the smaller learning rate first.
    means = traces(figure, role="mean")
    assert [t["meta"]["group"] for t in means] == [0.01, 0.1]


def test_group_by_minmax_band_none_and_unaligned_steps() -> None:
    a = make_run("a", {"loss": ([0, 10, 20], [0.0, 10.0, 20.0])}, params={"seed": 1, "lr": 1})
    b = make_run("b", {"loss": ([5, 25], [100.0, 300.0])}, params={"seed": 2, "lr": 1})
    _, figure, _ = render({"line": "loss", "group_by": "params.lr", "band": "minmax"}, [a, b])
    mean = one(figure, role="mean")
    assert mean["x"] == [5, 10, 20]
    np.testing.assert_allclose(mean["y"], [52.5, 80.0, 135.0])
    band = one(figure, role="band")
    np.testing.assert_allclose(band["y"], [100, 150, 250, 20, 10, 5])
    _, figure, _ = render({"line": "loss", "group_by": "params.lr", "band": "none"}, [a, b])
    assert traces(figure, role="band") == []


def test_group_by_joins_a_number_and_its_spellings_as_text() -> None:
    # A local run logs lr as a float; MLflow keeps params as text, however they were written.
    steps = [0, 10, 20, 30]
    ys = [[1.0, 0.8, 0.5, 0.4], [2.0, 1.0, 0.7, 0.2], [1.5, 0.9, 0.9, 0.3]]
    runs = [
        make_run(f"r{i}", {"loss": (steps, y)}, params={"lr": lr})
        for i, (lr, y) in enumerate(zip([0.1, "0.1", "1e-1"], ys, strict=True))
    ]
    spec = {"line": "loss", "group_by": "params.lr", "band": "none"}
    _, figure, warnings = render(spec, runs)
    assert warnings == []
    mean = one(figure, role="mean")
    # The label spells the value as the group's first run does.
    assert mean["name"] == "lr=0.1 (n=3)"
    assert mean["meta"]["n"] == 3
    assert mean["meta"]["run_ids"] == ["r0", "r1", "r2"]
    assert mean["x"] == steps
    np.testing.assert_allclose(mean["y"], np.mean(np.array(ys), axis=0))
    # A legend template sees one shared value, whichever spelling each run has.
    _, figure, _ = render({**spec, "legend": "lr {params.lr}"}, runs)
    assert one(figure, role="mean")["name"] == "lr 0.1 (n=3)"


def test_group_by_orders_numeric_text_as_numbers_then_text_then_missing() -> None:
    runs = [
        make_run(f"r{i}", {"loss": ([0, 1], [1.0, 0.5])}, params=params)
        for i, params in enumerate(
            [{"batch": "10"}, {}, {"batch": "abc"}, {"batch": "2"}, {"batch": 3}]
        )
    ]
    _, figure, _ = render({"line": "loss", "group_by": "params.batch"}, runs)
    means = traces(figure, role="mean")
    assert [t["meta"]["group"] for t in means] == ["2", 3, "10", "abc", None]
    assert [t["name"] for t in means] == [
        "batch=2 (n=1)",
        "batch=3 (n=1)",
        "batch=10 (n=1)",
        "batch=abc (n=1)",
        "batch=(none) (n=1)",
    ]


def test_group_by_with_smoothing_smooths_each_run_before_the_mean() -> None:
    ys1 = [1.0, 3.0, 2.0, 5.0]
    ys2 = [2.0, 2.0, 4.0, 1.0]
    runs = [
        make_run("a", {"loss": ([0, 1, 2, 3], ys1)}, params={"lr": 1}),
        make_run("b", {"loss": ([0, 1, 2, 3], ys2)}, params={"lr": 1}),
    ]
    _, figure, _ = render(
        {"line": "loss", "group_by": "params.lr", "smoothing": 0.5, "band": "none"}, runs
    )
    mean = one(figure, role="mean")
    want = (smooth_ema(np.array(ys1), 0.5) + smooth_ema(np.array(ys2), 0.5)) / 2
    np.testing.assert_allclose(mean["y"], want)
    raw = one(figure, role="raw")
    np.testing.assert_allclose(raw["y"], (np.array(ys1) + np.array(ys2)) / 2)
    assert raw["opacity"] == pytest.approx(0.25) and raw["showlegend"] is False


def test_log_axes_and_ranges() -> None:
    run = make_run("a", {"loss": ([1, 10, 100], [1.0, 0.1, 0.01])})
    _, figure, _ = render(
        {
            "line": "loss",
            "log_x": True,
            "log_y": True,
            "xrange": [1, 1000],
            "yrange": [0.001, 10],
        },
        [run],
    )
    xaxis, yaxis = figure["layout"]["xaxis"], figure["layout"]["yaxis"]
    assert xaxis["type"] == "log" and yaxis["type"] == "log"
    assert xaxis["minorloglabels"] == yaxis["minorloglabels"] == "complete"
    assert xaxis["range"] == pytest.approx([0.0, 3.0])
    assert yaxis["range"] == pytest.approx([-3.0, 1.0])
    _, figure, _ = render({"line": "loss", "xrange": [0, 50], "yrange": [-1, 2]}, [run])
    assert figure["layout"]["xaxis"]["range"] == [0, 50]
    assert figure["layout"]["yaxis"]["range"] == [-1, 2]
    assert "minorloglabels" not in figure["layout"]["yaxis"]


def test_x_time_gives_iso_dates_on_a_date_axis() -> None:
    run = make_run(
        "a",
        {"loss": ([0, 1, 2], [3.0, 2.0, 1.0])},
        times={"loss": [T0, T0 + 90.5, math.nan]},
    )
    _, figure, _ = render(
        {"line": "loss", "x": "time", "xrange": ["2026-01-01", "2026-01-02"]}, [run]
    )
    t = one(figure, run_id="a")
    assert t["x"] == ["2026-01-01 10:00:00.000", "2026-01-01 10:01:30.500"]
    assert t["y"] == [3.0, 2.0]
    assert t["customdata"] == [0, 1]
    assert "step %{customdata" in t["hovertemplate"]
    assert figure["layout"]["xaxis"]["type"] == "date"
    assert figure["layout"]["xaxis"]["range"] == ["2026-01-01 00:00:00", "2026-01-02 00:00:00"]


def test_x_relative_counts_seconds_from_the_runs_first_point() -> None:
    run = make_run(
        "a",
        {"loss": ([0, 1, 2], [3.0, 2.0, 1.0]), "acc": ([0, 5], [0.1, 0.9])},
        times={"loss": [T0 + 10, T0 + 20, T0 + 40], "acc": [T0, T0 + 100]},
    )
    _, figure, _ = render({"line": ["loss", "acc"], "x": "relative"}, [run])
    assert one(figure, key="loss")["x"] == [10.0, 20.0, 40.0]
    assert one(figure, key="acc")["x"] == [0.0, 100.0]
    assert figure["layout"]["xaxis"]["title"]["text"] == "seconds since start"


def test_x_metric_pairs_values_at_the_same_step() -> None:
    run = make_run(
        "a",
        {
            "val/loss": ([0, 100, 200, 300], [4.0, 3.0, 2.0, 1.0]),
            "epoch": ([0, 100, 100, 300], [0.0, 0.5, 1.0, 3.0]),
        },
    )
    block = LineBlock({"line": "val/loss", "x": "epoch"}, ctx())
    assert block.metric_keys() == ["val/loss", "epoch"]
    _, figure, _ = render({"line": "val/loss", "x": "epoch"}, [run])
    t = one(figure, key="val/loss")
    # Step 200 has no epoch; step 100 takes the last epoch logged there.
    assert t["x"] == [0.0, 1.0, 3.0]
    assert t["y"] == [4.0, 3.0, 1.0]
    assert t["customdata"] == [0, 100, 300]
    assert figure["layout"]["xaxis"]["title"]["text"] == "epoch"


def test_long_series_is_downsampled_keeping_the_tail_and_spikes() -> None:
    n = 20_000
    values = np.sin(np.linspace(0, 30, n))
    values[12_345] = 99.0
    run = make_run("a", {"loss": (list(range(n)), values.tolist())})
    _, figure, _ = render({"line": "loss", "max_points": 200}, [run])
    t = one(figure, run_id="a")
    assert len(t["x"]) <= 200
    assert t["x"][0] == 0 and t["x"][-1] == n - 1
    assert t["y"][-1] == values[-1]
    assert 12_345 in t["x"] and 99.0 in t["y"]
    # The block's default comes from the context (the site's max_points).
    _, figure, _ = render({"line": "loss"}, [run], max_points=500)
    assert len(one(figure, run_id="a")["x"]) <= 500


def test_legend_template_fills_columns_and_a_field_no_run_has_is_an_error() -> None:
    run = make_run("a", {"loss": ([0, 1], [1.0, 2.0])}, name="base", params={"lr": 0.001})
    other = make_run(
        "b", {"loss": ([0, 1], [1.0, 2.0])}, name="other", params={"lr": 0.1, "wd": 0.5}
    )
    _, figure, _ = render(
        {"line": "loss", "legend": "{name} lr={params.lr} wd={params.wd}"}, [run, other]
    )
    # A field only some runs have stays empty for the others.
    assert one(figure, run_id="a")["name"] == "base lr=0.001 wd="
    assert one(figure, run_id="b")["name"] == "other lr=0.1 wd=0.5"
    with pytest.raises(ReportError) as info:
        render({"line": "loss", "legend": "{name} x={params.lrr}"}, [run])
    assert info.value.line == KEY_LINES["legend"]
    assert "'legend': no run of this block has 'params.lrr'" in info.value.message
    assert "did you mean 'params.lr'?" in (info.value.hint or "")


# --- escaping and HTML --------------------------------------------------------------------


def test_html_contract() -> None:
    run = make_run("a", {"loss": ([0, 1], [1.0, 2.0])})
    out = LineBlock(
        {
            "line": "loss",
            "title": "Loss & <friends>",
            "caption": "Mean\n\nover seeds",
            "height": 300,
        },
        ctx(index=4),
    ).render(RunSet([run]))
    figure_json = re.search(r'id="labbook-block-4-figure">(.*?)</script>', out.html)
    assert figure_json is not None
    assert out.html == (
        '<div class="labbook-block labbook-chart" id="labbook-block-4" data-labbook-kind="fig">'
        '<div class="labbook-title">Loss &amp; &lt;friends&gt;</div>'
        '<div class="labbook-plot" data-labbook-figure="labbook-block-4-figure" style="height:300px"></div>'
        f'<script type="application/json" id="labbook-block-4-figure">{figure_json.group(1)}</script>'
        '<p class="labbook-caption">Mean&#10;&#10;over seeds</p>'
        "</div>"
    )
    assert "\n\n" not in out.html and "\n" not in out.html
    assert figure_of(out.html)["layout"]["height"] == 300


def test_a_hostile_run_name_appears_only_escaped() -> None:
    evil = "<img src=x onerror=alert(1)>"
    run = make_run(
        "a",
        {"loss": ([0, 1], [1.0, 2.0])},
        name=evil,
        params={"note": "</script><script>alert(2)</script>"},
    )
    html, figure, _ = render({"line": "loss", "legend": "{name} {params.note}"}, [run])
    assert "<img" not in html
    assert "</script><script>" not in html
    assert html.count("</script>") == 1
    t = one(figure, run_id="a")
    assert t["name"] == (
        "&lt;img src=x onerror=alert(1)&gt; &lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;"
    )
    assert "&lt;img src=x onerror=alert(1)&gt;" in t["hovertemplate"]
    assert "<img" not in t["hovertemplate"]


def test_a_run_name_cannot_inject_hover_fields() -> None:
    run = make_run("a", {"loss": ([0, 1], [1.0, 2.0])}, name="%{y} run")
    _, figure, _ = render({"line": "loss"}, [run])
    assert "&#37;{y} run" in one(figure, run_id="a")["hovertemplate"]


# --- warnings and errors ------------------------------------------------------------------


def test_a_chart_with_nothing_to_draw_is_an_error_naming_key_and_runs() -> None:
    # An empty chart reads as "nothing happened"; an error box says what is missing.
    runs = [make_run("a", {}, name="alpha"), make_run("b", {"other": ([0], [1.0])}, name="beta")]
    with pytest.raises(ReportErrors) as info:
        render({"line": "val/acc"}, runs)
    [error] = info.value.errors
    assert "val/acc" in error.message and "alpha" in error.message and "beta" in error.message
    assert error.line == KEY_LINES["line"] and error.file == "reports/r.md"
    assert error.hint == "metrics these runs logged: other"


def test_a_missing_key_beside_a_drawn_one_warns_and_still_renders() -> None:
    runs = [make_run("a", {"loss": ([0, 1], [1.0, 0.5])}, name="alpha")]
    html, figure, warnings = render({"line": ["loss", "val/acc"]}, runs)
    assert [t["name"] for t in figure["data"]] == ["alpha · loss"]
    assert 'class="labbook-plot"' in html
    [warning] = warnings
    assert isinstance(warning, ReportError)
    assert warning.message.startswith("no run has any point of 'val/acc'")


def test_glob_matching_nothing_warns() -> None:
    run = make_run("a", {"loss": ([0, 1], [1.0, 0.5])})
    _, _, warnings = render({"line": ["loss", "train/*"]}, [run])
    assert len(warnings) == 1 and "train/*" in warnings[0].message


@pytest.mark.parametrize(
    ("spec", "option"),
    [
        ({"line": 3}, "line"),
        ({"line": []}, "line"),
        ({"line": "loss", "smoothing": 1}, "smoothing"),
        ({"line": "loss", "smoothing": -0.1}, "smoothing"),
        ({"line": "loss", "smoothing": "high"}, "smoothing"),
        ({"line": "loss", "x": 5}, "x"),
        ({"line": "loss", "group_by": ["a"]}, "group_by"),
        ({"line": "loss", "group_by": "params.lr", "band": "iqr"}, "band"),
        ({"line": "loss", "band": "std"}, "band"),
        ({"line": "loss", "log_x": "yes"}, "log_x"),
        ({"line": "loss", "log_y": 1}, "log_y"),
        ({"line": "loss", "x": "time", "log_x": True}, "log_x"),
        ({"line": "loss", "xrange": [0]}, "xrange"),
        ({"line": "loss", "xrange": [5, 1]}, "xrange"),
        ({"line": "loss", "yrange": ["a", "b"]}, "yrange"),
        ({"line": "loss", "log_y": True, "yrange": [0, 1]}, "yrange"),
        ({"line": "loss", "x": "time", "xrange": ["soon", "later"]}, "xrange"),
        ({"line": "loss", "legend": 3}, "legend"),
        ({"line": "loss", "legend": "{name"}, "legend"),
        ({"line": "loss", "max_points": 3}, "max_points"),
        ({"line": "loss", "max_points": 10.5}, "max_points"),
        ({"line": "loss", "height": "tall"}, "height"),
        ({"line": "loss", "title": ["x"]}, "title"),
        ({"line": "loss", "layout": "stacked"}, "layout"),
        ({"line": "loss", "layout": ["grid"]}, "layout"),
    ],
)
def test_bad_options_raise_at_their_line(spec: dict[str, Any], option: str) -> None:
    with pytest.raises(ReportError) as info:
        LineBlock(spec, ctx())
    assert info.value.line == KEY_LINES[option]
    assert info.value.file == "reports/r.md"
    assert option in info.value.message


def test_unknown_option_is_an_error() -> None:
    with pytest.raises(ReportError) as info:
        LineBlock({"line": "loss", "smooth": 0.5}, ctx())
    assert "smooth" in info.value.message and info.value.hint and "smoothing" in info.value.hint


def test_metric_keys_are_the_patterns() -> None:
    assert LineBlock({"line": ["train/*", "val/loss"]}, ctx()).metric_keys() == [
        "train/*",
        "val/loss",
    ]


def test_a_chart_over_no_runs_is_an_error_at_its_runs_line() -> None:
    with pytest.raises(ReportError) as info:
        render({"line": "loss", "runs": "empty"}, [])
    assert info.value.message == "nothing to draw: the block's runs are none"


# --- one value per run, grid layout, legend fields ------------------------------------------


def test_runs_with_one_value_each_are_an_error_suggesting_bar_or_scatter() -> None:
    runs = [make_run(i, {"rmse": ([0], [0.3 + int(i) / 10])}) for i in ("1", "2")]
    with pytest.raises(ReportError) as info:
        render({"line": "rmse"}, runs)
    assert info.value.line == KEY_LINES["line"]
    assert "every run logged at most one value of rmse" in info.value.message
    assert "`bar: rmse`" in (info.value.hint or "") and "scatter" in (info.value.hint or "")


def test_one_run_with_a_history_is_enough_to_draw() -> None:
    runs = [make_run("1", {"rmse": ([0], [0.3])}), make_run("2", {"rmse": ([0, 1], [0.4, 0.2])})]
    _, figure, _ = render({"line": "rmse"}, runs)
    assert len(figure["data"]) == 2


def test_grid_layout_gives_one_subplot_per_key_with_shared_x_and_one_legend_entry() -> None:
    a = make_run(
        "a",
        {"loss": ([0, 1, 2], [1.0, 0.5, 0.2]), "acc": ([0, 1, 2], [0.1, 0.5, 0.9])},
        name="alpha",
    )
    b = make_run("b", {"loss": ([0, 1], [2.0, 1.0]), "acc": ([0, 1], [0.2, 0.3])}, name="beta")
    _, figure, _ = render({"line": ["loss", "acc"], "layout": "grid"}, [a, b])
    layout = figure["layout"]
    assert layout["grid"]["rows"] == 2
    assert layout["yaxis"]["title"]["text"] == "loss" and layout["yaxis2"]["title"]["text"] == "acc"
    assert layout["xaxis2"]["matches"] == "x"
    by_key = {(t["meta"]["run_id"], t["meta"]["key"]): t for t in figure["data"]}
    assert by_key[("a", "loss")]["yaxis"] == "y" and by_key[("a", "acc")]["yaxis"] == "y2"
    assert by_key[("a", "acc")]["x"] == [0, 1, 2] and by_key[("a", "acc")]["y"] == [0.1, 0.5, 0.9]
    # Same colour for a run in both subplots, one legend entry each, names without the key.
    assert by_key[("a", "loss")]["line"]["color"] == by_key[("a", "acc")]["line"]["color"]
    shown = [t["name"] for t in figure["data"] if t.get("showlegend", True)]
    assert shown == ["alpha", "beta"]
    assert layout["height"] >= 2 * 240


def test_hover_names_the_run_the_step_and_the_value() -> None:
    run = make_run("a", {"loss": ([0, 1], [1.0, 0.5])}, name="alpha")
    _, figure, _ = render({"line": "loss"}, [run])
    assert figure["data"][0]["hovertemplate"] == (
        "<b>alpha</b><br>step %{x:d}<br>loss %{y:.6~g}<extra></extra>"
    )


def test_x_metric_pairs_points_by_step() -> None:
    run = make_run(
        "a", {"acc": ([0, 1, 2, 3], [0.1, 0.2, 0.3, 0.4]), "epoch": ([1, 3, 4], [10.0, 30.0, 40.0])}
    )
    _, figure, _ = render({"line": "acc", "x": "epoch"}, [run])
    [trace] = figure["data"]
    # Steps 1 and 3 have both values; step 0 and 2 lack an epoch, step 4 an accuracy.
    assert trace["x"] == [10.0, 30.0] and trace["y"] == [0.2, 0.4]
    assert trace["customdata"] == [1, 3]


def test_an_x_metric_no_run_logged_is_an_error_at_x_naming_the_keys() -> None:
    runs = [
        make_run("a", {"acc": ([0, 1], [0.1, 0.2]), "epoch": ([0, 1], [0.0, 1.0])}),
        make_run("b", {"acc": ([0, 1], [0.3, 0.4])}),
    ]
    with pytest.raises(ReportError) as info:
        render({"line": "acc", "x": "epochs"}, runs)
    assert info.value.line == KEY_LINES["x"]
    assert info.value.message.startswith("'x': no run of this block logged the metric 'epochs'")
    hint = info.value.hint or ""
    assert hint.startswith("did you mean 'epoch'? metrics these runs logged: epoch, acc")
    # One run with the metric is enough: the other has no points on this x, and says so.
    _, figure, _ = render({"line": "acc", "x": "metrics.epoch"}, runs)
    assert [t["meta"]["run_id"] for t in figure["data"]] == ["a"]
    assert one(figure, run_id="a")["x"] == [0.0, 1.0]
    assert one(figure, run_id="a")["y"] == [0.1, 0.2]


def test_x_metric_hover_gives_the_x_value_the_step_and_the_value() -> None:
    run = make_run(
        "a", {"acc": ([0, 5, 9], [0.5, 0.6, 0.7]), "epoch": ([0, 5, 9], [0.0, 1.0, 2.0])}, name="al"
    )
    _, figure, _ = render({"line": "acc", "x": "epoch"}, [run])
    trace = one(figure, run_id="a")
    assert trace["hovertemplate"] == (
        "<b>al</b><br>epoch %{x:.6~g}<br>step %{customdata:d}<br>acc %{y:.6~g}<extra></extra>"
    )
    assert trace["customdata"] == [0, 5, 9]


def test_legend_template_reads_tags_metrics_and_attributes() -> None:
    run = make_run("a1b2c3", {"loss": ([0, 1], [1.0, 0.5])}, name="base", params={"lr": 0.1})
    run.tags["stage"] = "sweep"
    run.summary["val/acc"] = 0.91234
    run.status = "finished"
    other = make_run("d4e5f6", {"loss": ([0, 1], [2.0, 1.5])}, name="other", params={"lr": 0.01})
    template = "{name} [{id}] {status} lr={params.lr} {tags.stage} acc={metrics.val/acc} {val/acc}"
    _, figure, _ = render({"line": "loss", "legend": template}, [run, other])
    assert (
        one(figure, run_id="a1b2c3")["name"]
        == "base [a1b2c3] finished lr=0.1 sweep acc=0.9123 0.9123"
    )
    # Fields the other run lacks (tag, metric) stay empty for it; its attributes are filled.
    assert one(figure, run_id="d4e5f6")["name"] == "other [d4e5f6]  lr=0.01  acc= "


@pytest.mark.parametrize(
    ("field", "hint"),
    [
        ("nmae", "did you mean 'name'?"),
        ("tags.stag", "did you mean 'tags.stage'?"),
        ("metrics.val/acx", "did you mean 'metrics.val/acc'?"),
    ],
)
def test_a_legend_field_no_run_has_is_an_error_with_a_suggestion(field: str, hint: str) -> None:
    run = make_run("a", {"loss": ([0, 1], [1.0, 0.5])}, name="base", params={"lr": 0.1})
    run.tags["stage"] = "sweep"
    run.summary["val/acc"] = 0.9
    with pytest.raises(ReportError) as info:
        render({"line": "loss", "legend": "{name} {" + field + "}"}, [run])
    assert info.value.line == KEY_LINES["legend"]
    assert info.value.message == f"'legend': no run of this block has {field!r}"
    assert hint in (info.value.hint or "")


def test_grid_with_smoothing_and_groups_keeps_one_legend_entry_and_one_colour_each() -> None:
    runs = [
        make_run(
            f"r{i}",
            {"loss": ([0, 1, 2], [3.0 - i, 2.0 - i, 1.0 - i]), "acc": ([0, 1, 2], [0.1, 0.2, 0.3])},
            name=f"run{i}",
            params={"lr": 0.1 if i < 2 else 0.01},
        )
        for i in range(3)
    ]
    _, figure, _ = render({"line": ["loss", "acc"], "layout": "grid", "smoothing": 0.5}, runs)
    shown = [t["name"] for t in figure["data"] if t.get("showlegend", True)]
    assert shown == ["run0", "run1", "run2"]
    for run_id in ("r0", "r1", "r2"):
        colours = {t["line"]["color"] for t in traces(figure, run_id=run_id)}
        assert len(colours) == 1
        groups = {t["legendgroup"] for t in traces(figure, run_id=run_id)}
        assert len(groups) == 1  # a click on the legend entry toggles the run in both subplots
    raw = one(figure, run_id="r1", key="acc", role="raw")
    assert raw["yaxis"] == "y2" and raw["y"] == [0.1, 0.2, 0.3]
    assert one(figure, run_id="r1", key="acc", role="smoothed")["y"] == pytest.approx(
        smooth_ema(np.array([0.1, 0.2, 0.3]), 0.5).tolist()
    )

    _, grouped, _ = render(
        {"line": ["loss", "acc"], "layout": "grid", "group_by": "params.lr"}, runs
    )
    means = [t for t in grouped["data"] if t["meta"]["role"] == "mean"]
    assert [(t["meta"]["key"], t["yaxis"]) for t in means] == [
        ("loss", "y"),
        ("acc", "y2"),
        ("loss", "y"),
        ("acc", "y2"),
    ]
    # lr=0.01 (run2 alone) and lr=0.1 (run0, run1): the mean of loss is numpy's.
    assert means[2]["y"] == pytest.approx(
        np.mean([[3.0, 2.0, 1.0], [2.0, 1.0, 0.0]], axis=0).tolist()
    )
    shown = [t["name"] for t in grouped["data"] if t.get("showlegend", True)]
    assert shown == ["lr=0.01 (n=1)", "lr=0.1 (n=2)"]
    assert means[0]["line"]["color"] == means[1]["line"]["color"] != means[2]["line"]["color"]


def test_grid_axes_share_log_and_range_options_and_overlay_has_no_subplots() -> None:
    run = make_run("a", {"loss": ([1, 10], [1.0, 0.1]), "acc": ([1, 10], [0.2, 0.9])}, name="a")
    _, figure, _ = render(
        {"line": ["loss", "acc"], "layout": "grid", "log_y": True, "yrange": [0.01, 10]}, [run]
    )
    layout = figure["layout"]
    for axis in ("yaxis", "yaxis2"):
        assert layout[axis]["type"] == "log" and layout[axis]["range"] == [-2.0, 1.0]
    # The x title only under the bottom subplot, whose ticks are the only ones labelled.
    assert (
        layout["xaxis"]["showticklabels"] is False and layout["xaxis2"]["title"]["text"] == "step"
    )
    _, overlay, _ = render({"line": ["loss", "acc"]}, [run])
    assert "grid" not in overlay["layout"] and "yaxis2" not in overlay["layout"]
    assert all("yaxis" not in t for t in overlay["data"])
    # Overlaid, the keys are told apart by dash and by name.
    assert [t["name"] for t in overlay["data"]] == ["a · loss", "a · acc"]
    assert [t["line"]["dash"] for t in overlay["data"]] == ["solid", "dash"]


@pytest.mark.parametrize(
    "spec",
    [
        {"line": "rmse"},
        {"line": "rmse", "smoothing": 0.6},
        {"line": "rmse", "group_by": "params.K"},
        {"line": ["rmse", "mae"], "layout": "grid"},
    ],
)
def test_one_value_per_run_is_an_error_however_it_is_drawn(spec: dict[str, Any]) -> None:
    # As most scikit-learn runs log: each metric once, at step 0.
    runs = [
        make_run(f"k{k}", {"rmse": ([0], [1.0 / k]), "mae": ([0], [0.5 / k])}, params={"K": k})
        for k in (1, 2, 3)
    ]
    with pytest.raises(ReportError) as info:
        render(spec, runs)
    assert info.value.line == KEY_LINES["line"]
    assert "at most one value" in info.value.message
    assert "`bar: rmse`" in (info.value.hint or "")
    assert "`scatter: {x: params.K, y: rmse}`" in (info.value.hint or "")


def test_an_error_carries_the_column_of_its_option() -> None:
    context = ctx()
    context.key_columns = {"smoothing": 3}
    with pytest.raises(ReportError) as info:
        LineBlock({"line": "loss", "smoothing": 2}, context)
    assert (info.value.line, info.value.column) == (KEY_LINES["smoothing"], 3)
    assert str(info.value).startswith("reports/r.md:6:3: 'smoothing' must be")


def test_a_group_by_no_run_has_warns_naming_the_columns_that_exist() -> None:
    runs = [
        make_run("a", {"loss": ([0, 1], [1.0, 0.5])}, params={"lr": 0.1}),
        make_run("b", {"loss": ([0, 1], [2.0, 1.0])}, params={"lr": 0.01}),
    ]
    _, figure, warnings = render({"line": "loss", "group_by": "params.lrr"}, runs)
    [warning] = warnings
    assert warning.line == KEY_LINES["group_by"]
    assert warning.message == "no run has a value for 'params.lrr'"
    assert (warning.hint or "").startswith("did you mean 'params.lr'? columns these runs have:")
    # Still drawn: one group of every run, the mean of both.
    [mean] = [t for t in figure["data"] if t["meta"]["role"] == "mean"]
    assert mean["y"] == [1.5, 0.75]


def test_an_x_close_to_a_mode_suggests_the_mode() -> None:
    run = make_run("a", {"loss": ([0, 1], [1.0, 0.5])})
    with pytest.raises(ReportError) as info:
        render({"line": "loss", "x": "tim"}, [run])
    assert (info.value.hint or "").startswith("did you mean 'time'? metrics these runs logged:")


# --- in the browser: the grid as Plotly draws it, and what hovering a point shows --------------

GRID_REPORT = """\
---
runs:
  sweep: {experiment: exp}
---

# Grid

```labbook
line: [val/loss, val/acc]
runs: sweep
layout: grid
```
"""


@pytest.mark.browser
def test_grid_in_the_browser_draws_a_subplot_per_key_one_legend_entry_per_run(
    tmp_path: Path, open_page: Any, serve_dir: Any
) -> None:
    from playwright.sync_api import expect

    from tests.conftest import DRAW_TIMEOUT_MS, build_project

    root = tmp_path / "book"
    (root / "reports").mkdir(parents=True)
    (root / "mkdocs.yml").write_text(
        "site_name: g\ndocs_dir: reports\ntheme:\n  name: material\n"
        "plugins:\n  - labbook:\n      sources: {local: dir:runs}\n",
        encoding="utf-8",
    )
    (root / "reports" / "index.md").write_text(GRID_REPORT, encoding="utf-8")
    logged = {
        "aaaa0001": ("alpha", [1.0, 0.6, 0.3], [0.2, 0.5, 0.8]),
        "bbbb0002": ("beta", [2.0, 1.2, 0.9], [0.1, 0.3, 0.4]),
    }
    for run_id, (name, losses, accs) in logged.items():
        folder = root / "runs" / run_id
        folder.mkdir(parents=True)
        (folder / "run.json").write_text(json.dumps({"name": name, "experiment": "exp"}))
        rows = [
            json.dumps({"step": 5 * i, "val/loss": loss, "val/acc": acc})
            for i, (loss, acc) in enumerate(zip(losses, accs, strict=True))
        ]
        (folder / "metrics.jsonl").write_text("\n".join(rows) + "\n")
    site = build_project(root, engines=("mkdocs",))["mkdocs"]
    visit = open_page(serve_dir(site), "/")
    plot = visit.page.locator(".labbook-plot[data-labbook-figure]").first
    plot.scroll_into_view_if_needed()
    expect(plot).to_have_attribute("data-labbook-drawn", "true", timeout=DRAW_TIMEOUT_MS)
    drawn = plot.evaluate(
        """el => ({
          traces: el.data.map(t => ({x: Array.from(t.x), y: Array.from(t.y), name: t.name,
                                     xaxis: t.xaxis, yaxis: t.yaxis, color: t.line.color,
                                     showlegend: t.showlegend, key: t.meta.key})),
          y1: el._fullLayout.yaxis.domain, y2: el._fullLayout.yaxis2.domain,
          titles: [el._fullLayout.yaxis.title.text, el._fullLayout.yaxis2.title.text],
          matches: el._fullLayout.xaxis2.matches,
        })"""
    )
    by = {(t["name"], t["key"]): t for t in drawn["traces"]}
    for name, losses, accs in logged.values():
        loss, acc = by[(name, "val/loss")], by[(name, "val/acc")]
        assert (loss["x"], loss["y"], loss["yaxis"]) == ([0, 5, 10], losses, "y")
        assert (acc["x"], acc["y"], acc["yaxis"]) == ([0, 5, 10], accs, "y2")
        assert loss["color"] == acc["color"]
    assert by[("alpha", "val/loss")]["color"] != by[("beta", "val/loss")]["color"]
    # Two subplots one above the other, titled by key, zooming together.
    assert drawn["titles"] == ["val/loss", "val/acc"]
    assert drawn["y1"][0] >= drawn["y2"][1] or drawn["y2"][0] >= drawn["y1"][1]
    assert drawn["matches"] == "x"
    # One legend entry per run, not one per run and subplot.
    legend = visit.page.locator(".labbook-plot .legendtext").all_text_contents()
    assert legend == ["alpha", "beta"]
    # Hovering beta's second val/acc point shows its run, step and value.
    target = by[("beta", "val/acc")]
    index = drawn["traces"].index(target)
    subplot = target["xaxis"] + target["yaxis"]  # "x2y2"
    plot.evaluate(
        f"el => Plotly.Fx.hover(el, [{{curveNumber: {index}, pointNumber: 1}}], '{subplot}')"
    )
    hover = visit.page.locator(".hoverlayer .hovertext").first
    expect(hover).to_be_visible()
    text = hover.text_content() or ""
    assert "beta" in text and "step 5" in text and "val/acc 0.3" in text, text
    assert visit.errors == []
