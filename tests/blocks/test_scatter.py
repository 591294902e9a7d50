"""The scatter block: one point per run, numbers equal to the runs' values."""

from __future__ import annotations

import numpy as np
import pytest

from labbook.errors import ReportError
from labbook.model import Run

from .kinds import render, sweep


def test_one_point_per_run_with_its_values_and_hover() -> None:
    runs = sweep()
    figure, out = render("scatter", {"scatter": {"x": "params.lr", "y": "val/acc"}}, runs)
    [trace] = figure["data"]
    assert trace["type"] == "scatter" and trace["mode"] == "markers"
    assert trace["x"] == [r.params["lr"] for r in runs]
    assert trace["y"] == [r.summary["val/acc"] for r in runs]
    assert [c[0] for c in trace["customdata"]] == [r.name for r in runs]
    assert trace["hovertemplate"].startswith("<b>%{customdata[0]}</b><br>lr %{customdata[1]}")
    assert figure["layout"]["xaxis"]["title"]["text"] == "lr"
    assert figure["layout"]["yaxis"]["title"]["text"] == "val/acc"
    assert out.warnings == []


def test_trendline_equals_numpy_polyfit_with_r2() -> None:
    runs = sweep()
    figure, _ = render(
        "scatter", {"scatter": {"x": "params.seed", "y": "val/acc"}, "trendline": True}, runs
    )
    line = next(t for t in figure["data"] if t.get("meta", {}).get("role") == "trendline")
    x = np.array([r.params["seed"] for r in runs], dtype=float)
    y = np.array([r.summary["val/acc"] for r in runs])
    slope, intercept = np.polyfit(x, y, 1)
    r2 = 1 - np.sum((y - (slope * x + intercept)) ** 2) / np.sum((y - y.mean()) ** 2)
    assert line["meta"]["slope"] == pytest.approx(slope)
    assert line["meta"]["intercept"] == pytest.approx(intercept)
    assert line["meta"]["r2"] == pytest.approx(r2)
    assert f"R² = {r2:.3f}" in line["name"] and f"{slope:.4g}" in line["name"]


def test_log_x_trendline_is_fitted_in_log_space() -> None:
    runs = sweep()
    figure, _ = render(
        "scatter",
        {"scatter": {"x": "params.lr", "y": "val/loss"}, "log_x": True, "trendline": True},
        runs,
    )
    line = figure["data"][-1]
    x = np.log10([r.params["lr"] for r in runs])
    slope, _ = np.polyfit(x, [r.summary["val/loss"] for r in runs], 1)
    assert line["meta"]["slope"] == pytest.approx(slope)
    assert figure["layout"]["xaxis"]["type"] == "log"
    assert figure["layout"]["xaxis"]["minorloglabels"] == "complete"


def test_categorical_colour_gives_a_legend_and_numeric_a_colour_bar() -> None:
    runs = sweep()
    figure, _ = render(
        "scatter", {"scatter": {"x": "params.lr", "y": "val/acc"}, "color": "params.opt"}, runs
    )
    assert sorted(t["name"] for t in figure["data"]) == ["adam", "sgd"]
    adam = next(t for t in figure["data"] if t["name"] == "adam")
    assert adam["x"] == [r.params["lr"] for r in runs if r.params["opt"] == "adam"]
    assert figure["layout"]["showlegend"] is True
    figure, _ = render(
        "scatter", {"scatter": {"x": "params.lr", "y": "val/acc"}, "color": "params.seed"}, runs
    )
    [trace] = figure["data"]
    assert trace["marker"]["color"] == [r.params["seed"] for r in runs]
    assert trace["marker"]["showscale"] is True
    assert trace["marker"]["colorbar"]["title"]["text"] == "seed"


def test_size_scales_the_markers() -> None:
    runs = sweep(6)
    figure, _ = render(
        "scatter", {"scatter": {"x": "params.lr", "y": "val/acc"}, "size": "params.seed"}, runs
    )
    sizes = figure["data"][0]["marker"]["size"]
    seeds = [r.params["seed"] for r in runs]
    assert sizes[seeds.index(min(seeds))] == 6.0 and sizes[seeds.index(max(seeds))] == 22.0


def test_a_misspelt_column_is_an_error_naming_the_columns() -> None:
    with pytest.raises(ReportError) as info:
        render(
            "scatter",
            {"scatter": {"x": "params.lr", "y": "val/acc"}, "color": "params.sed"},
            sweep(),
        )
    assert info.value.line == 4
    assert "'color': no run of this block has 'params.sed'" in info.value.message
    assert "did you mean 'params.seed'?" in (info.value.hint or "")
    with pytest.raises(ReportError, match="'scatter' must map x and y"):
        render("scatter", {"scatter": "val/acc"}, sweep())


def test_runs_missing_a_value_are_counted_not_drawn() -> None:
    runs = sweep(4)
    runs[1].summary.pop("val/acc")
    figure, out = render("scatter", {"scatter": {"x": "params.lr", "y": "val/acc"}}, runs)
    assert len(figure["data"][0]["x"]) == 3
    assert [w.message for w in out.warnings] == [
        "1 of 4 runs have no value (or no positive value on a log axis) for x or y and are not drawn"
    ]


def test_many_runs_draw_with_webgl_and_stay_small() -> None:
    runs = [
        Run(
            id=f"r{i}",
            source="s",
            name=f"r{i}",
            params={"lr": 10 ** (-4 + 3 * i / 2000)},
            summary={"acc": 0.5 + (i % 97) / 200},
        )
        for i in range(2000)
    ]
    figure, out = render("scatter", {"scatter": {"x": "params.lr", "y": "acc"}}, runs)
    assert figure["data"][0]["type"] == "scattergl"
    assert len(out.html.encode()) < 2_000_000


def test_hostile_names_are_inert() -> None:
    runs = sweep(2)
    runs[0].name = "%{x}<b>x</b>"
    figure, _ = render("scatter", {"scatter": {"x": "params.lr", "y": "val/acc"}}, runs)
    assert figure["data"][0]["customdata"][0][0] == "&#37;{x}&lt;b&gt;x&lt;/b&gt;"


def test_best_so_far_over_start_times_steps_through_the_records() -> None:
    from datetime import UTC, datetime, timedelta

    accs = [0.70, 0.65, 0.80, 0.78, 0.85, 0.60]
    start = datetime(2026, 11, 2, 9, tzinfo=UTC)
    runs = [
        Run(
            id=f"r{i}",
            source="local",
            name=f"r{i}",
            start_time=start + timedelta(hours=5 - i),  # listed newest first
            summary={"val/acc": acc},
        )
        for i, acc in enumerate(reversed(accs))
    ]
    spec = {"scatter": {"x": "start_time", "y": "val/acc"}, "best_so_far": True}
    figure, _ = render("scatter", spec, runs)
    points, best = figure["data"]
    assert figure["layout"]["xaxis"]["type"] == "date"
    assert points["x"][0] == runs[0].start_time.isoformat()  # type: ignore[union-attr]
    assert best["meta"] == {"role": "best_so_far", "mode": "max", "records": 3}
    assert best["y"] == [0.70, 0.80, 0.85, 0.85]
    assert best["x"][-1] == (start + timedelta(hours=5)).isoformat()
    assert best["line"]["shape"] == "hv"


def test_best_so_far_follows_a_minimised_goal_and_refuses_text_x() -> None:
    runs = sweep()
    figure, _ = render(
        "scatter", {"scatter": {"x": "params.seed", "y": "val/loss"}, "best_so_far": True}, runs
    )
    best = figure["data"][-1]
    assert best["meta"]["mode"] == "min"
    assert best["y"][-1] == min(r.summary["val/loss"] for r in runs)
    with pytest.raises(ReportError, match="best_so_far"):
        render(
            "scatter", {"scatter": {"x": "params.opt", "y": "val/acc"}, "best_so_far": True}, runs
        )
