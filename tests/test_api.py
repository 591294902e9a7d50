"""The Python API (SPEC §11) on the example runs, checked against the files read with json/csv."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import labbook
from labbook.example_runs import write_example_runs
from labbook.sources.cached import CachedSource
from labbook.sources.localdir import LocalDirSource

LR_01_IDS = ["431c5bb7", "55099931", "960b4713"]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("book")
    write_example_runs(root / "runs")
    return root


@pytest.fixture
def src(base: Path) -> labbook.Source:
    return labbook.open_source("runs", base_dir=base)


def jsonl_rows(path: Path) -> list[dict[str, Any]]:
    # Python's json reads NaN and Infinity, as the local format allows.
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def expected_series(run_dir: Path, key: str) -> tuple[list[int], list[float], list[float]]:
    """Gives (steps, values, times) of one key, read straight from the run's metrics file."""
    steps: list[int] = []
    values: list[float] = []
    times: list[float] = []
    if (run_dir / "metrics.jsonl").exists():
        for index, row in enumerate(jsonl_rows(run_dir / "metrics.jsonl")):
            if key in row:
                steps.append(int(row.get("step", index)))
                values.append(float(row[key]))
                times.append(float(row["time"]) if "time" in row else math.nan)
    else:
        with (run_dir / "metrics.csv").open(newline="") as f:
            for row in csv.DictReader(f):
                if row[key] != "":
                    steps.append(int(row["step"]))
                    values.append(float(row[key]))
                    times.append(float(row["time"]))
    order = sorted(range(len(steps)), key=lambda i: steps[i])
    return [steps[i] for i in order], [values[i] for i in order], [times[i] for i in order]


def test_open_source_gives_the_local_source(src: labbook.Source, base: Path) -> None:
    assert isinstance(src, CachedSource) and isinstance(src.live, LocalDirSource)
    assert src.root == base / "runs"  # what only the local source has is its own
    assert src.problems() == []
    ids = sorted(p.name for p in (base / "runs").iterdir())
    assert [r.id for r in src.list_runs()] == ids
    assert len(ids) == 13


def test_search_filter_order_limit(src: labbook.Source) -> None:
    runs = src.search(
        experiment="cifar-sweep",
        filter="params.lr = 0.1",
        order_by=["metrics.`val/acc` DESC"],
        limit=2,
    )
    assert isinstance(runs, labbook.RunSet)
    assert runs.ids == ["431c5bb7", "960b4713"]
    assert src.search(filter="params.lr = 0.1").ids == LR_01_IDS
    assert src.search(experiment="variants", order_by=["params.model", "params.seed"]).ids == [
        "499575bd",
        "93576cc5",
        "b1da572d",
        "183998cd",
    ]
    assert src.search(experiment="cifar-sweep", filter="attributes.status = 'failed'").ids == [
        "db71eb02"
    ]
    assert len(src.search(experiment="cifar-sweep")) == 9
    with pytest.raises(labbook.SourceError, match="known experiments: cifar-sweep, variants"):
        src.search(experiment="no-such-experiment")


def test_search_filter_on_nested_param_and_metric(src: labbook.Source) -> None:
    runs = src.search(
        filter="params.optimizer.name = 'sgd' and metrics.`val/acc` > 0.8",
        order_by=["metrics.`val/acc`"],
    )
    assert runs.ids == ["55099931", "960b4713", "431c5bb7"]


def test_search_bad_filter_raises_query_error(src: labbook.Source) -> None:
    with pytest.raises(labbook.QueryError):
        src.search(filter="params.lr ==")


def test_get_by_id_and_prefix(src: labbook.Source) -> None:
    run = src.get("55099931")
    assert (run.id, run.name, run.source) == ("55099931", "r18-lr0.1-s0", "dir")
    assert src.get("550999") is run
    with pytest.raises(labbook.RunNotFound) as info:
        src.get("55099")
    assert "an ID prefix needs at least 6 characters" in info.value.message
    assert "55099931" in str(info.value)
    with pytest.raises(labbook.RunNotFound):
        src.get("ffffffff")


def test_run_fields(src: labbook.Source, base: Path) -> None:
    run = src.get("55099931")
    meta = json.loads((base / "runs" / "55099931" / "run.json").read_text())
    assert run.params["lr"] == 0.1 == meta["params"]["lr"]
    assert run.params["optimizer.name"] == "sgd"
    assert run.params["optimizer.momentum"] == 0.9
    assert run.tags == {"stage": "sweep", "dataset": "cifar10"}
    assert run.experiment == "cifar-sweep"
    assert run.status == "finished"
    assert run.duration == 147.0  # 09:21:08 to 09:23:35
    assert run.git_commit == meta["git"]["commit"]


@pytest.mark.parametrize("run_id", ["55099931", "431c5bb7", "db71eb02", "b1da572d"])
def test_summary_defaults_to_the_last_logged_value(
    src: labbook.Source, base: Path, run_id: str
) -> None:
    run = src.get(run_id)
    run_dir = base / "runs" / run_id
    meta = json.loads((run_dir / "run.json").read_text())
    for key in ("val/acc", "val/loss", "train/loss", "train/acc"):
        _, values, _ = expected_series(run_dir, key)
        value = run.summary[key]
        if key in meta.get("summary", {}):
            assert value == meta["summary"][key]
        elif math.isnan(values[-1]):
            # A run that diverged: its last logged value is NaN, kept as logged.
            assert isinstance(value, float) and math.isnan(value)
        else:
            assert value == values[-1]
    # run.json's own summary entries are kept.
    for key, value in meta.get("summary", {}).items():
        assert run.summary[key] == value


def test_summary_values_of_a_known_run(src: labbook.Source) -> None:
    run = src.get("55099931")
    assert run.summary["val/acc"] == 0.8047
    assert run.summary["best/val_acc"] == 0.8145
    diverged = src.get("db71eb02")
    assert diverged.summary["val/acc"] == 0.1006
    assert math.isnan(float(diverged.summary["train/loss"]))  # type: ignore[arg-type]


def test_metric_keys(src: labbook.Source, base: Path) -> None:
    run = src.get("55099931")
    logged = set().union(
        *(row.keys() for row in jsonl_rows(base / "runs" / "55099931" / "metrics.jsonl"))
    )
    assert run.metric_keys() == sorted((logged - {"step", "time"}) | {"best/val_acc"})
    assert run.metric_keys() == ["best/val_acc", "train/acc", "train/loss", "val/acc", "val/loss"]
    csv_run = src.get("b1da572d")
    assert csv_run.metric_keys() == [
        "best/val_acc",
        "train/acc",
        "train/loss",
        "train/lr",
        "val/acc",
        "val/loss",
    ]


@pytest.mark.parametrize(
    ("run_id", "key", "length"),
    [
        ("55099931", "val/acc", 30),
        ("55099931", "train/loss", 600),
        ("db71eb02", "train/loss", 320),  # failed at step 319
        ("b1da572d", "val/acc", None),
        ("b1da572d", "train/lr", None),
    ],
)
def test_series_equals_the_file(
    src: labbook.Source, base: Path, run_id: str, key: str, length: int | None
) -> None:
    series = src.get(run_id).series(key)
    steps, values, times = expected_series(base / "runs" / run_id, key)
    assert isinstance(series, labbook.Series)
    assert series.key == key
    assert isinstance(series.steps, np.ndarray) and series.steps.dtype == np.int64
    assert isinstance(series.values, np.ndarray) and series.values.dtype == np.float64
    assert isinstance(series.times, np.ndarray) and series.times.dtype == np.float64
    assert len(series) == len(values) > 0
    if length is not None:
        assert len(series) == length
    np.testing.assert_array_equal(series.steps, np.array(steps, dtype=np.int64))
    # NaN compares equal to NaN here: the diverged run's NaNs are kept as logged.
    np.testing.assert_array_equal(series.values, np.array(values))
    np.testing.assert_array_equal(series.times, np.array(times))
    assert bool(np.all(np.diff(series.steps) > 0))


def test_diverged_series_keeps_nan(src: labbook.Source) -> None:
    series = src.get("db71eb02").series("train/loss")
    nan_steps = series.steps[np.isnan(series.values)]
    assert nan_steps[0] == 305
    assert len(series.finite()) == 305


def test_series_of_an_unlogged_key_is_empty(src: labbook.Source) -> None:
    series = src.get("55099931").series("nope")
    assert len(series) == 0 and series.values.dtype == np.float64


def test_run_set_api(src: labbook.Source, base: Path) -> None:
    runs = src.search(filter="params.lr = 0.1")
    finals = [expected_series(base / "runs" / i, "val/acc")[1][-1] for i in LR_01_IDS]
    assert runs.values("val/acc") == finals
    assert runs.mean("val/acc") == pytest.approx(float(np.mean(finals)))
    assert runs.std("val/acc") == pytest.approx(float(np.std(finals, ddof=1)))
    best = runs.best("val/acc")
    assert best is not None and best.id == LR_01_IDS[int(np.argmax(finals))] == "431c5bb7"
    worst = runs.best("val/acc", mode="min")
    assert worst is not None and worst.id == "55099931"
    both = runs + src.search(filter="params.lr = 0.03")
    assert len(both) == 6 and both.ids[:3] == LR_01_IDS


def test_to_pandas(src: labbook.Source) -> None:
    runs = src.search(experiment="cifar-sweep", order_by=["params.lr", "params.seed"])
    df = runs.to_pandas()
    assert len(df) == len(runs) == 9
    assert list(df["id"]) == runs.ids
    assert list(df["params.lr"]) == [0.03] * 3 + [0.1] * 3 + [0.3] * 3
    assert list(df["params.seed"]) == [0, 1, 2] * 3
    assert {
        "id",
        "name",
        "experiment",
        "status",
        "params.optimizer.name",
        "metrics.val/acc",
    } <= set(df.columns)
    row = df.set_index("id").loc["55099931"]
    assert row["name"] == "r18-lr0.1-s0"
    assert row["metrics.val/acc"] == 0.8047
    assert row["tags.stage"] == "sweep"
