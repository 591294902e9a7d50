"""The importance block: correlations equal numpy's, the driving param ranks first."""

from __future__ import annotations

import numpy as np
import pytest

from labbook.errors import ReportError
from labbook.model import Run

from .kinds import render


def synthetic(n: int = 40) -> list[Run]:
    """A sweep where `lr` drives the metric, `seed` and `opt` are noise."""
    rng = np.random.default_rng(7)
    runs = []
    for i in range(n):
        lr = float(rng.uniform(0.001, 0.1))
        seed = int(rng.integers(0, 5))
        opt = ["adam", "sgd"][int(rng.integers(0, 2))]
        acc = 0.5 + 4.0 * lr + float(rng.normal(0, 0.01))
        runs.append(
            Run(
                id=f"r{i}",
                source="s",
                name=f"r{i}",
                params={"lr": lr, "seed": seed, "opt": opt},
                summary={"acc": acc},
            )
        )
    return runs


@pytest.mark.parametrize("method", ["forest", "correlation"])
def test_the_param_that_drives_the_metric_ranks_first(method: str) -> None:
    figure, _ = render("importance", {"importance": "acc", "method": method}, synthetic())
    importance = next(t for t in figure["data"] if t["meta"]["role"] == "importance")
    assert importance["meta"]["params"][0] == "params.lr"
    assert importance["meta"]["method"] == method
    assert sum(importance["x"]) == pytest.approx(1.0)
    assert importance["x"] == sorted(importance["x"], reverse=True)


def test_correlations_equal_numpys() -> None:
    runs = synthetic()
    figure, _ = render("importance", {"importance": "acc", "method": "correlation"}, runs)
    corr = next(t for t in figure["data"] if t["meta"]["role"] == "correlation")
    acc = np.array([r.summary["acc"] for r in runs])
    by_param = dict(zip(corr["meta"]["params"], corr["x"], strict=True))
    for key in ("lr", "seed"):
        x = np.array([r.params[key] for r in runs], dtype=float)
        assert by_param[f"params.{key}"] == pytest.approx(np.corrcoef(x, acc)[0, 1])
    # A text param: the correlation ratio, between-group over total sum of squares.
    groups = [acc[[r.params["opt"] == o for r in runs]] for o in ("adam", "sgd")]
    eta = np.sqrt(
        sum(len(g) * (g.mean() - acc.mean()) ** 2 for g in groups) / np.sum((acc - acc.mean()) ** 2)
    )
    assert by_param["params.opt"] == pytest.approx(eta)
    assert (
        dict(zip(corr["meta"]["params"], corr["meta"]["kinds"], strict=True))["params.opt"] == "η"
    )


def test_too_few_runs_is_an_error_box() -> None:
    with pytest.raises(ReportError) as info:
        render("importance", {"importance": "acc"}, synthetic(5))
    assert info.value.line == 3
    assert (
        "importance needs at least 8 runs" in info.value.message and "5 of 5" in info.value.message
    )
    figure, _ = render("importance", {"importance": "acc", "min_runs": 5}, synthetic(5))
    assert figure["data"]


def test_the_page_states_how_many_runs_it_rests_on() -> None:
    _, out = render("importance", {"importance": "acc", "method": "forest"}, synthetic(12))
    assert "Based on 12 of 12 runs; importance by a random forest of 200 trees" in out.html


def test_only_varying_params_and_a_misspelt_one_is_an_error() -> None:
    runs = synthetic(10)
    for run in runs:
        run.params["batch"] = 64  # never varies: not weighed
    figure, _ = render("importance", {"importance": "acc"}, runs)
    assert "params.batch" not in figure["data"][0]["meta"]["params"]
    with pytest.raises(ReportError, match=r"no run of this block has 'params.lrr'"):
        render("importance", {"importance": "acc", "params": ["params.lrr"]}, runs)


def test_without_scikit_learn_auto_falls_back_and_forest_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "sklearn", None)  # as if not installed: import fails
    monkeypatch.setitem(sys.modules, "sklearn.ensemble", None)
    figure, _ = render("importance", {"importance": "acc"}, synthetic())
    assert figure["data"][0]["meta"]["method"] == "correlation"
    assert figure["data"][0]["meta"]["params"][0] == "params.lr"
    with pytest.raises(ReportError) as info:
        render("importance", {"importance": "acc", "method": "forest"}, synthetic())
    assert "pip install 'labbook[importance]'" in (info.value.hint or "")
