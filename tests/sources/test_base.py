"""The Source interface: a tracker that implements only `list_runs` and `read_series`
gets every other capability from the base class, and the registry opens sources by URI."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from labbook.blocks.base import BlockContext
from labbook.blocks.line import LineBlock
from labbook.errors import QueryError, RunDataError, SourceError
from labbook.model import Run, RunSet, Series, load_series
from labbook.sources import open_source
from labbook.sources.base import Query, Source, sample_series


class MinimalSource(Source):
    """Runs held in memory; only the two required methods, and a count of series reads."""

    scheme: ClassVar[str] = "minimal"

    def __init__(self, points: dict[str, dict[str, list[float]]]) -> None:
        super().__init__("memory", name="mini", base_dir=Path.cwd())
        self.points = points
        self.reads: list[tuple[str, str]] = []
        self.runs = [
            Run(
                id=run_id,
                source=self.name,
                experiment="exp",
                params={"lr": 0.1 * (i + 1)},
                summary={key: values[-1] for key, values in series.items()},
                artifacts=["notes.txt"],
                reader=self,
            )
            for i, (run_id, series) in enumerate(points.items())
        ]

    def list_runs(self, experiment: str | None = None) -> list[Run]:
        return [r for r in self.runs if experiment in (None, r.experiment)]

    def read_series(self, run: Run, key: str) -> Series:
        self.reads.append((run.id, key))
        values = self.points[run.id].get(key, [])
        return Series.from_points(key, range(len(values)), values)


def minimal() -> MinimalSource:
    return MinimalSource(
        {
            "run-a": {"loss": [3.0, 2.0, 1.0], "acc": [0.1, 0.5]},
            "run-b": {"loss": [4.0, 1.5]},
        }
    )


def test_read_many_reads_every_asked_series_and_keeps_it_on_the_run() -> None:
    source = minimal()
    runs = source.list_runs()
    found = source.read_many(runs, ["loss", "acc"])
    assert found["run-a"]["loss"].values.tolist() == [3.0, 2.0, 1.0]
    assert found["run-a"]["acc"].values.tolist() == [0.1, 0.5]
    assert found["run-b"]["loss"].values.tolist() == [4.0, 1.5]
    assert len(found["run-b"]["acc"]) == 0  # never logged: empty, not missing
    reads = len(source.reads)
    assert runs[0].series("loss") is found["run-a"]["loss"]
    assert len(source.reads) == reads  # answered from the run, not read again


def test_read_many_without_keys_reads_every_key_the_run_logged() -> None:
    source = minimal()
    found = source.read_many(source.list_runs())
    assert sorted(found["run-a"]) == ["acc", "loss"]
    assert sorted(found["run-b"]) == ["loss"]


def test_sampled_series_keep_the_ends_and_the_spikes() -> None:
    values = [1.0] * 1000
    values[437] = 50.0  # one spike an even sample would step over
    values[10] = math.nan
    source = MinimalSource({"long": {"loss": values}})
    run = source.list_runs()[0]
    sample = source.read_sampled_series([run], "loss", 20)["long"]
    assert 4 <= len(sample) <= 20
    assert sample.steps[0] == 0 and sample.steps[-1] == 999
    assert 437 in sample.steps.tolist() and 50.0 in sample.values.tolist()
    assert np.isfinite(sample.values).all()  # a NaN never takes a bucket's place
    ranged = source.read_sampled_series([run], "loss", 5, start_step=400, end_step=500)["long"]
    assert ranged.steps[0] == 400 and ranged.steps[-1] == 500 and len(ranged) <= 5
    assert 437 in ranged.steps.tolist()
    short = source.read_sampled_series([run], "loss", 2000)["long"]
    assert len(short) == 1000  # under the budget: every point
    assert sample_series(short, 1).steps.tolist() == [999]
    assert sample_series(short, 3).steps.tolist() == [0, 999]
    with pytest.raises(ValueError):
        source.read_sampled_series([run], "loss", 0)
    with pytest.raises(ValueError):
        source.read_sampled_series([run], "loss", 10, start_step=3)


def test_artifacts_watched_paths_close_and_detect_have_defaults(tmp_path: Path) -> None:
    source = minimal()
    run = source.list_runs()[0]
    assert source.run_dir(run) is None
    assert source.artifact_path(run, "notes.txt") is None
    with pytest.raises(RunDataError, match=r"notes\.txt"):
        source.read_artifact(run, "notes.txt")
    assert source.watched_paths() == []
    assert source.remote is False
    assert MinimalSource.detect(tmp_path) is False
    with source as same:
        assert same is source
    source.close()  # nothing held open: closing twice is fine


def test_read_artifact_is_built_on_artifact_path(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_bytes(b"lr 0.1 was best\n")

    class FileSource(MinimalSource):
        def artifact_path(self, run: Run, artifact: str) -> Path | None:
            return tmp_path / artifact if artifact in run.artifacts else None

    source = FileSource({"run-a": {"loss": [1.0]}})
    run = source.list_runs()[0]
    assert source.read_artifact(run, "notes.txt") == b"lr 0.1 was best\n"
    with pytest.raises(RunDataError):
        source.read_artifact(run, "model.pt")


def test_search_parses_once_then_lets_the_source_narrow() -> None:
    seen: list[Query] = []

    class Narrowing(MinimalSource):
        def select_runs(self, query: Query) -> list[Run]:
            seen.append(query)
            # A tracker that evaluated `metrics.loss < 2` itself: a superset is allowed.
            return [r for r in self.list_runs(query.experiment) if r.id != "nothing"]

    source = Narrowing({"a": {"loss": [1.0]}, "b": {"loss": [3.0]}, "c": {"loss": [0.5]}})
    found = source.search(filter="metrics.loss < 2", order_by=["metrics.loss ASC"], limit=5)
    assert [r.id for r in found] == ["c", "a"]
    [query] = seen
    assert query.expr is not None and query.keys and query.limit == 5
    with pytest.raises(QueryError):
        source.search(filter="metrics.loss <<< 2")
    with pytest.raises(QueryError):
        source.search(limit=-1)
    assert len(seen) == 1  # a bad query never reaches the tracker


def test_load_series_asks_each_reader_only_for_what_runs_lack() -> None:
    calls: list[tuple[list[str], list[str]]] = []

    class Counting(MinimalSource):
        def read_many(
            self, runs: Sequence[Run], keys: Sequence[str] | None = None
        ) -> dict[str, dict[str, Series]]:
            calls.append(([r.id for r in runs], list(keys or [])))
            return super().read_many(runs, keys)

    one, two = minimal(), Counting({"x": {"loss": [1.0, 0.5]}, "y": {"loss": [2.0]}})
    two.list_runs()[0].set_series(Series.from_points("loss", [0], [9.0]))
    runs = [*one.list_runs(), *two.list_runs()]
    load_series(runs, ["loss", "acc"])
    assert calls == [(["x"], ["acc"]), (["y"], ["loss", "acc"])]
    load_series(runs, ["loss", "acc"])
    assert len(calls) == 2  # everything is held now: nothing asked
    assert two.list_runs()[0].series("loss").values.tolist() == [9.0]  # kept, not replaced
    assert sorted(set(one.reads)) == [(r, k) for r in ("run-a", "run-b") for k in ("acc", "loss")]


def test_a_line_chart_asks_its_source_once_for_all_runs_and_keys() -> None:
    calls: list[list[str]] = []

    class Counting(MinimalSource):
        def read_many(
            self, runs: Sequence[Run], keys: Sequence[str] | None = None
        ) -> dict[str, dict[str, Series]]:
            calls.append(list(keys or []))
            return super().read_many(runs, keys)

    points = {f"r{i}": {"loss": [float(i), 1.0], "acc": [0.5, 0.6]} for i in range(300)}
    source = Counting(points)
    ctx = BlockContext(report_file="r.md", block_index=0, key_lines={}, fence_line=1)
    block = LineBlock({"line": ["loss", "acc"]}, ctx)
    rendered = block.render(RunSet(source.list_runs()))
    assert calls == [["loss", "acc"]]
    assert len(rendered.figure["data"]) == 600  # type: ignore[index]


def test_open_source_passes_options_and_names_the_valid_ones(tmp_path: Path) -> None:
    source = open_source("mlflow+http://127.0.0.1:5999", timeout=4)
    assert source.timeout == 4  # type: ignore[attr-defined]
    assert source.remote is True and source.watched_paths() == []
    with pytest.raises(SourceError) as caught:
        open_source("mlflow+http://127.0.0.1:5999", timout=4)
    assert "'timout'" in str(caught.value) and "timeout" in (caught.value.hint or "")
    (tmp_path / "runs").mkdir()
    with pytest.raises(SourceError, match="takes no options"):
        open_source("dir:runs", base_dir=tmp_path, timeout=3)
    folder = open_source("dir:runs", base_dir=tmp_path)
    assert folder.watched_paths() == [tmp_path / "runs"] and folder.remote is False


def test_every_built_in_source_declares_what_it_watches(tmp_path: Path) -> None:
    options: dict[str, Any] = {}
    sqlite = open_source("mlflow+sqlite:///mlflow.db", base_dir=tmp_path, **options)
    assert sqlite.watched_paths() == [tmp_path / "mlflow.db"]
    for uri in ("mlflow:mlruns", "wandb+offline:wandb", "tensorboard:logs"):
        opened = open_source(uri, base_dir=tmp_path)
        assert opened.watched_paths() == [tmp_path / uri.partition(":")[2]], uri
    api = open_source("wandb:team/project", timeout=5)
    assert api.remote is True and api.watched_paths() == []
