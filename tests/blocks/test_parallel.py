"""The parallel block: one line per run, text params as labelled ticks."""

from __future__ import annotations

import pytest

from labbook.errors import ReportError
from labbook.model import Run

from .kinds import render, sweep


def test_dimensions_hold_the_runs_values() -> None:
    runs = sweep()
    figure, out = render("parallel", {"parallel": ["params.lr", "params.opt", "val/acc"]}, runs)
    [trace] = figure["data"]
    assert trace["type"] == "parcoords"
    lr, opt, acc = trace["dimensions"]
    assert [d["label"] for d in trace["dimensions"]] == ["lr", "opt", "val/acc"]
    assert lr["values"] == [r.params["lr"] for r in runs]
    assert acc["values"] == [r.summary["val/acc"] for r in runs]
    # Text values: a tick per value, each run at its value's tick.
    assert opt["ticktext"] == ["adam", "sgd"] and opt["tickvals"] == [0, 1]
    assert [opt["ticktext"][v] for v in opt["values"]] == [r.params["opt"] for r in runs]
    # Coloured by the last column unless told.
    assert trace["line"]["color"] == acc["values"]
    assert trace["line"]["colorbar"]["title"]["text"] == "val/acc"
    assert trace["meta"]["run_ids"] == [r.id for r in runs]
    assert out.warnings == []


def test_runs_lacking_a_column_are_left_out_and_counted() -> None:
    runs = sweep(6)
    del runs[2].params["opt"]
    figure, out = render(
        "parallel", {"parallel": ["params.opt", "val/acc"], "color": "params.lr"}, runs
    )
    assert len(figure["data"][0]["dimensions"][0]["values"]) == 5
    assert figure["data"][0]["line"]["color"] == [
        r.params["lr"] for i, r in enumerate(runs) if i != 2
    ]
    assert [w.message for w in out.warnings] == [
        "1 of 6 runs lack a value for opt and have no line"
    ]


def test_errors_name_the_columns() -> None:
    with pytest.raises(ReportError, match=r"must list two or more columns"):
        render("parallel", {"parallel": ["params.lr"]}, sweep())
    with pytest.raises(ReportError) as info:
        render("parallel", {"parallel": ["params.lr", "val/acx"]}, sweep())
    assert "did you mean 'val/acc'?" in (info.value.hint or "")
    with pytest.raises(ReportError, match=r"'color': 'opt' is not a number"):
        render(
            "parallel", {"parallel": ["params.lr", "params.opt"], "color": "params.opt"}, sweep()
        )


def test_two_thousand_runs_stay_under_two_megabytes() -> None:
    runs = [
        Run(
            id=f"r{i:04d}",
            source="s",
            name=f"r{i}",
            params={"lr": 10 ** (-4 + i / 700), "bs": [32, 64, 128][i % 3]},
            summary={"acc": 0.5 + (i % 89) / 200, "loss": 1.0 - (i % 89) / 200},
        )
        for i in range(2000)
    ]
    _, out = render("parallel", {"parallel": ["params.lr", "params.bs", "loss", "acc"]}, runs)
    assert len(out.html.encode()) < 2_000_000
