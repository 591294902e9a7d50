"""The bar block: a bar per run, or the group mean with standard-error bars equal to numpy's."""

from __future__ import annotations

import math

import numpy as np
import pytest

from labbook.errors import ReportError

from .kinds import render, sweep


def test_one_bar_per_run_best_first_by_the_metrics_goal() -> None:
    runs = sweep(6)
    figure, _ = render("bar", {"bar": "val/acc"}, runs)
    [trace] = figure["data"]
    ordered = sorted(runs, key=lambda r: r.summary["val/acc"], reverse=True)  # accuracy: max
    assert trace["x"] == [r.name for r in ordered]
    assert trace["y"] == [r.summary["val/acc"] for r in ordered]
    assert trace["meta"]["run_ids"] == [r.id for r in ordered]
    figure, _ = render("bar", {"bar": "val/loss"}, runs)  # a loss: lowest first
    assert figure["data"][0]["y"] == sorted(r.summary["val/loss"] for r in runs)


def test_group_means_and_standard_errors_equal_numpys() -> None:
    runs = sweep(12)
    figure, _ = render("bar", {"bar": "val/acc", "group_by": "params.lr", "sort": "none"}, runs)
    [trace] = figure["data"]
    assert trace["x"] == ["lr=0.001", "lr=0.01", "lr=0.1"]
    for label, mean, sem, n in zip(
        trace["x"], trace["y"], trace["error_y"]["array"], trace["meta"]["n"], strict=True
    ):
        lr = float(label.split("=")[1])
        values = np.array([r.summary["val/acc"] for r in runs if r.params["lr"] == lr])
        assert mean == pytest.approx(values.mean())
        assert sem == pytest.approx(values.std(ddof=1) / math.sqrt(len(values)))
        assert n == len(values)
    assert "n = %{customdata[3]}" in trace["hovertemplate"]


def test_a_group_of_one_has_no_error_bar_and_says_n_1() -> None:
    runs = sweep(4)  # lr 0.001 has two runs, the others one
    figure, _ = render("bar", {"bar": "val/acc", "group_by": "params.lr"}, runs)
    trace = figure["data"][0]
    singles = [i for i, n in enumerate(trace["meta"]["n"]) if n == 1]
    assert singles and all(trace["error_y"]["array"][i] == 0.0 for i in singles)
    assert all(trace["customdata"][i][2] == "—" for i in singles)


def test_horizontal_and_explicit_sort() -> None:
    runs = sweep(6)
    figure, _ = render("bar", {"bar": "val/acc", "horizontal": True, "sort": "asc"}, runs)
    trace = figure["data"][0]
    assert trace["orientation"] == "h" and trace["x"] == sorted(r.summary["val/acc"] for r in runs)
    assert figure["layout"]["yaxis"]["autorange"] == "reversed"


def test_bad_options_are_errors_at_their_lines() -> None:
    with pytest.raises(ReportError) as info:
        render("bar", {"bar": "val/acc", "sort": "best"}, sweep())
    assert (
        info.value.line == 5 and "'sort' must be one of goal, asc, desc, none" in info.value.message
    )
    with pytest.raises(ReportError) as info:
        render("bar", {"bar": "val/acx"}, sweep())
    assert info.value.line == 3 and "did you mean 'val/acc'?" in (info.value.hint or "")
    with pytest.raises(ReportError, match="is not a number for every run"):
        render("bar", {"bar": "params.opt"}, sweep())


def test_runs_of_one_name_get_a_bar_each() -> None:
    runs = sweep(3)
    runs[1].name = runs[0].name
    figure, _ = render("bar", {"bar": "val/acc", "sort": "none"}, runs)
    labels = figure["data"][0]["x"]
    assert len(set(labels)) == 3
    assert labels[:2] == [f"{runs[0].name} (run00)", f"{runs[0].name} (run01)"]
