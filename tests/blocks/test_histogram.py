"""The histogram block: counts equal numpy.histogram's over the same edges."""

from __future__ import annotations

import numpy as np
import pytest

from labbook.errors import ReportError

from .kinds import render, sweep


def test_counts_equal_numpy_histogram() -> None:
    runs = sweep(12)
    figure, _ = render("histogram", {"histogram": "val/acc", "bins": 4}, runs)
    [trace] = figure["data"]
    values = [r.summary["val/acc"] for r in runs]
    counts, edges = np.histogram(values, bins=4)
    assert trace["y"] == counts.tolist() and sum(trace["y"]) == len(runs)
    assert trace["meta"]["edges"] == pytest.approx(edges.tolist())
    assert trace["x"] == pytest.approx(((edges[:-1] + edges[1:]) / 2).tolist())
    assert trace["type"] == "bar"


def test_groups_overlay_on_shared_edges() -> None:
    runs = sweep(12)
    figure, _ = render(
        "histogram", {"histogram": "val/acc", "group_by": "params.opt", "bins": 5}, runs
    )
    assert figure["layout"]["barmode"] == "overlay"
    assert [t["name"] for t in figure["data"]] == ["opt=adam", "opt=sgd"]
    edges = figure["data"][0]["meta"]["edges"]
    for trace in figure["data"]:
        opt = trace["name"].split("=")[1]
        values = [r.summary["val/acc"] for r in runs if r.params["opt"] == opt]
        assert trace["y"] == np.histogram(values, bins=edges)[0].tolist()
        assert trace["meta"]["edges"] == edges and trace["opacity"] < 1


def test_auto_bins_follow_numpy() -> None:
    runs = sweep(12)
    figure, _ = render("histogram", {"histogram": "val/acc"}, runs)
    values = [r.summary["val/acc"] for r in runs]
    assert len(figure["data"][0]["y"]) == len(np.histogram_bin_edges(values, bins="auto")) - 1


def test_errors() -> None:
    with pytest.raises(ReportError) as info:
        render("histogram", {"histogram": "val/acc", "bins": 0}, sweep())
    assert info.value.line == 5 and "'bins' must be at least 1" in info.value.message
    with pytest.raises(ReportError, match="no run of this block has 'val/ac'"):
        render("histogram", {"histogram": "val/ac"}, sweep())
