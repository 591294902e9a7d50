"""MlflowFileSource: MLflow file stores written by mlflow itself, and three found in the wild."""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from labbook.errors import RunDataError, RunNotFound, SourceError
from labbook.sources import open_source
from labbook.sources.mlflow_files import MlflowFileSource
from tests.skips import skip_or_fail

from .conftest import (
    LoggedStore,
    assert_run_matches,
    filter_strings,
    mlflow_search_ids,
    store_snapshot,
)

REALWORLD = Path("/work/shared/realworld/mlflow")


@pytest.fixture
def store_copy(mlflow_file_store: LoggedStore, tmp_path: Path) -> Path:
    """A copy of the session's file store, free to damage."""
    copy = tmp_path / "mlruns"
    shutil.copytree(mlflow_file_store.path, copy)
    return copy


def run_dir(root: Path, store: LoggedStore, name: str) -> Path:
    logged = store.by_name(name)
    return root / store.experiments[logged.experiment] / logged.run_id


# -- what mlflow wrote, read back exactly --------------------------------------------------------


def test_every_value_matches_what_mlflow_logged(mlflow_file_store: LoggedStore) -> None:
    source = MlflowFileSource(str(mlflow_file_store.path))
    runs = {r.id: r for r in source.list_runs()}
    assert set(runs) == set(mlflow_file_store.active_runs)
    for run_id, logged in mlflow_file_store.active_runs.items():
        assert_run_matches(runs[run_id], logged)
    assert source.problems() == []


def test_histories_are_in_step_order_and_the_summary_is_mlflows_latest(
    mlflow_file_store: LoggedStore,
) -> None:
    source = MlflowFileSource(str(mlflow_file_store.path))
    by_name = {r.name: r for r in source.list_runs()}
    shuffled = by_name["vit-s16"].series("train/loss")
    assert list(shuffled.steps) == list(range(50))
    twice = by_name["vit-l16"].series("train/loss")
    at_ten = np.flatnonzero(twice.steps == 10)
    assert len(at_ten) == 3 and np.all(np.diff(twice.times[at_ten]) > 0)
    diverged = by_name["r18-lr0.3-s0"]
    assert math.isnan(float(diverged.summary["train/loss"]))  # type: ignore[arg-type]
    assert np.isneginf(diverged.series("val/loss").values).sum() == 1
    assert by_name["r18-lr0.03-s0"].series("val/loss").values.max() == math.inf


def test_uris_and_bare_paths_open_the_file_source(
    mlflow_file_store: LoggedStore, tmp_path: Path
) -> None:
    root = mlflow_file_store.path
    relative = os.path.relpath(root, tmp_path)
    for uri, base in [
        (str(root), None),
        (f"mlflow:{root}", None),
        (f"mlflow+file:{root}", None),
        (f"mlflow+file://{root}", None),
        (f"mlflow+file:{relative}", tmp_path),
        (relative, tmp_path),
    ]:
        source = open_source(uri, name="tracking", base_dir=base)
        assert isinstance(source, MlflowFileSource), uri
        assert source.root.resolve() == root.resolve()
        assert {r.id for r in source.list_runs()} == set(mlflow_file_store.active_runs)
        assert {r.source for r in source.list_runs()} == {"tracking"}


def test_experiment_by_name_or_id(mlflow_file_store: LoggedStore) -> None:
    source = MlflowFileSource(str(mlflow_file_store.path))
    vit = {
        rid for rid, r in mlflow_file_store.active_runs.items() if r.experiment == "vit-baseline"
    }
    assert {r.id for r in source.list_runs("vit-baseline")} == vit
    assert {r.id for r in source.list_runs(mlflow_file_store.experiments["vit-baseline"])} == vit
    assert {r.id for r in source.search(experiment="vit-baseline")} == vit
    assert source.list_runs("Default") == []


def test_runs_come_newest_first(mlflow_file_store: LoggedStore) -> None:
    runs = MlflowFileSource(str(mlflow_file_store.path)).list_runs()
    starts = [r.start_time for r in runs]
    assert starts == sorted(starts, reverse=True)  # type: ignore[type-var]


def test_deleted_runs_and_experiments_only_when_asked(mlflow_file_store: LoggedStore) -> None:
    source = MlflowFileSource(str(mlflow_file_store.path), include_deleted=True)
    runs = {r.id: r for r in source.list_runs()}
    assert set(runs) == set(mlflow_file_store.runs)
    for run_id, logged in mlflow_file_store.runs.items():
        assert_run_matches(runs[run_id], logged)
    assert [r.name for r in source.list_runs("abandoned")] == ["old-run"]
    with pytest.raises(SourceError, match="'abandoned' is deleted"):
        MlflowFileSource(str(mlflow_file_store.path)).list_runs("abandoned")


def test_filters_select_what_mlflow_selects(mlflow_file_store: LoggedStore) -> None:
    source = MlflowFileSource(str(mlflow_file_store.path))
    for filter_string in filter_strings(mlflow_file_store):
        ours = {r.id for r in source.search(filter=filter_string)}
        assert ours == mlflow_search_ids(mlflow_file_store, filter_string), filter_string


def test_prefix_resolves_and_unknown_ids_are_errors(mlflow_file_store: LoggedStore) -> None:
    source = MlflowFileSource(str(mlflow_file_store.path))
    run_id = next(iter(mlflow_file_store.active_runs))
    assert source.get(run_id).id == run_id
    assert source.get(run_id[:7]).id == run_id
    with pytest.raises(RunNotFound, match="no run 'ffffffffffff'"):
        source.get("ffffffffffff")
    deleted = next(r.run_id for r in mlflow_file_store.runs.values() if r.deleted)
    with pytest.raises(RunNotFound):
        source.get(deleted)


def test_read_many_and_artifact_paths(mlflow_file_store: LoggedStore) -> None:
    source = MlflowFileSource(str(mlflow_file_store.path))
    runs = source.list_runs()
    every = source.read_many(runs)
    for run in runs:
        assert sorted(every[run.id]) == run.metric_keys()
        logged = mlflow_file_store.runs[run.id]
        for key, series in every[run.id].items():
            np.testing.assert_array_equal(series.steps, logged.expected_series(key)[0])
    vit = next(r for r in runs if r.name == "vit-l16")
    path = source.artifact_path(vit, "plots/loss.png")
    assert path is not None and path.read_bytes().startswith(b"\x89PNG")
    assert source.artifact_path(vit, "missing.txt") is None
    assert (
        source.run_dir(vit)
        == mlflow_file_store.path / mlflow_file_store.experiments["vit-baseline"] / vit.id
    )


def test_reading_writes_nothing(mlflow_file_store: LoggedStore) -> None:
    before = store_snapshot(mlflow_file_store.path)
    source = MlflowFileSource(str(mlflow_file_store.path), include_deleted=True)
    for run in source.list_runs():
        for key in run.metric_keys():
            run.series(key)
    source.problems()
    assert store_snapshot(mlflow_file_store.path) == before


# -- bad input -------------------------------------------------------------------------------


def test_a_folder_that_is_not_a_store(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("hello")
    source = MlflowFileSource(str(tmp_path))
    with pytest.raises(SourceError) as info:
        source.list_runs()
    text = str(info.value)
    assert str(tmp_path) in text and "not an MLflow file store" in text
    assert "0/meta.yaml" in text  # says what to point at
    assert source.problems() and "not an MLflow file store" in str(source.problems()[0])
    with pytest.raises(SourceError, match="does not exist"):
        MlflowFileSource(str(tmp_path / "nowhere")).list_runs()


def test_a_run_folder_given_as_the_store_says_where_the_store_is(
    mlflow_file_store: LoggedStore,
) -> None:
    folder = run_dir(mlflow_file_store.path, mlflow_file_store, "r18-lr0.1-s0")
    with pytest.raises(SourceError, match="one run's folder") as info:
        MlflowFileSource(str(folder)).list_runs()
    assert str(mlflow_file_store.path) in str(info.value)
    experiment = folder.parent
    with pytest.raises(SourceError, match="one experiment's folder"):
        MlflowFileSource(str(experiment)).list_runs()


def test_unknown_experiment_lists_the_known_ones(mlflow_file_store: LoggedStore) -> None:
    source = MlflowFileSource(str(mlflow_file_store.path))
    with pytest.raises(SourceError) as info:
        source.search(experiment="resnet")
    text = str(info.value)
    assert "no experiment 'resnet'" in text
    for name in ("Default", "resnet-sweep", "vit-baseline"):
        assert name in text
    assert "abandoned" not in text


def test_a_truncated_metric_line_is_reported_and_the_rest_read(
    mlflow_file_store: LoggedStore, store_copy: Path
) -> None:
    folder = run_dir(store_copy, mlflow_file_store, "r18-lr0.1-s0")
    metric = folder / "metrics" / "train" / "loss"
    lines = metric.read_bytes().splitlines(keepends=True)
    # A cut-off write: the last line stops after the value's first digits.
    metric.write_bytes(b"".join(lines) + b"1793613700000 0.12")
    source = MlflowFileSource(str(store_copy))
    run = next(r for r in source.list_runs() if r.name == "r18-lr0.1-s0")
    logged = mlflow_file_store.by_name("r18-lr0.1-s0")
    assert len(run.series("train/loss")) == len(logged.metrics["train/loss"])
    assert run.summary["train/loss"] == logged.expected_latest("train/loss")
    [problem] = source.problems()
    assert isinstance(problem, RunDataError)
    assert problem.file is not None and problem.file.endswith("metrics/train/loss")
    assert problem.line == len(lines) + 1
    assert "cut off" in str(problem)
    assert f"{problem.file}:{problem.line}:" in str(problem)


def test_bad_metric_lines_are_reported_by_line(
    mlflow_file_store: LoggedStore, store_copy: Path
) -> None:
    folder = run_dir(store_copy, mlflow_file_store, "vit-b16")
    metric = folder / "metrics" / "val" / "acc"
    lines = metric.read_bytes().splitlines(keepends=True)
    lines.insert(2, b"1793613700000 not-a-number 3\n")
    lines.insert(4, b"1793613700000\n")
    metric.write_bytes(b"".join(lines))
    source = MlflowFileSource(str(store_copy))
    run = next(r for r in source.list_runs() if r.name == "vit-b16")
    assert len(run.series("val/acc")) == len(lines) - 2
    problems = source.problems()
    assert [p.line for p in problems] == [3, 5]
    assert all(p.file and p.file.endswith("metrics/val/acc") for p in problems)


def test_old_metric_lines_without_step_read_as_step_zero(store_copy: Path) -> None:
    experiment = store_copy / "0"
    folder = experiment / "0123456789abcdef0123456789abcdef"
    (folder / "metrics").mkdir(parents=True)
    (folder / "params").mkdir()
    (folder / "artifacts").mkdir()
    # As MLflow 1.x wrote a run: name '', status as a number, tags: [].
    (folder / "meta.yaml").write_text(
        "artifact_uri: /nowhere/artifacts\nend_time: null\nentry_point_name: ''\n"
        "experiment_id: '0'\nlifecycle_stage: active\nname: ''\n"
        "run_uuid: 0123456789abcdef0123456789abcdef\nsource_name: ''\nsource_type: 4\n"
        "source_version: ''\nstart_time: 1622557738980\nstatus: 1\ntags: []\nuser_id: unknown\n"
    )
    (folder / "metrics" / "rmse").write_text("1622557738984 4.5\n1622557738990 4.25\n")
    (folder / "params" / "model").write_text("Randomforest")
    source = MlflowFileSource(str(store_copy))
    run = source.get("0123456789abcdef0123456789abcdef")
    assert run.name == run.id
    assert run.status == "running" and run.end_time is None
    assert run.experiment == "Default"
    assert run.params == {"model": "Randomforest"}
    assert list(run.series("rmse").steps) == [0, 0]
    assert run.summary["rmse"] == 4.25  # the later timestamp at the highest step
    assert source.problems() == []


def test_a_corrupt_run_meta_yaml_is_reported_never_dropped(
    mlflow_file_store: LoggedStore, store_copy: Path
) -> None:
    broken = run_dir(store_copy, mlflow_file_store, "r18-lr0.03-s0")
    (broken / "meta.yaml").write_text("run_id: [unclosed\nstatus: 3\n")
    emptied = run_dir(store_copy, mlflow_file_store, "vit-s16")
    (emptied / "meta.yaml").write_bytes(b"")
    lost = run_dir(store_copy, mlflow_file_store, "vit-b16")
    (lost / "meta.yaml").unlink()
    source = MlflowFileSource(str(store_copy))
    names = {r.name for r in source.list_runs()}
    assert names == {r.name for r in mlflow_file_store.active_runs.values()} - {
        "r18-lr0.03-s0",
        "vit-s16",
        "vit-b16",
    }
    problems = {p.file: p for p in source.problems()}
    assert set(problems) == {
        str(broken / "meta.yaml"),
        str(emptied / "meta.yaml"),
        str(lost),
    }
    assert "not valid YAML" in str(problems[str(broken / "meta.yaml")])
    assert problems[str(broken / "meta.yaml")].line is not None
    assert "empty" in str(problems[str(emptied / "meta.yaml")])
    assert "no meta.yaml" in str(problems[str(lost)])


def test_a_corrupt_experiment_meta_yaml_keeps_its_runs(
    mlflow_file_store: LoggedStore, store_copy: Path
) -> None:
    experiment_id = mlflow_file_store.experiments["vit-baseline"]
    (store_copy / experiment_id / "meta.yaml").write_text("name: [\n")
    source = MlflowFileSource(str(store_copy))
    vit = [r for r in source.list_runs() if r.experiment == experiment_id]
    assert len(vit) == 3
    [problem] = source.problems()
    assert problem.file == str(store_copy / experiment_id / "meta.yaml")


def test_folders_that_are_not_runs_are_skipped_quietly(
    mlflow_file_store: LoggedStore, store_copy: Path
) -> None:
    experiment = store_copy / mlflow_file_store.experiments["resnet-sweep"]
    for name in ("models", "traces", "datasets", "tags", ".ipynb_checkpoints", "notes"):
        (experiment / name / "x").mkdir(parents=True)
        (experiment / name / "x" / "file.txt").write_text("not a run")
    (store_copy / "models" / "m-1").mkdir(parents=True)
    (store_copy / ".DS_Store").write_bytes(b"\0")
    folder = run_dir(store_copy, mlflow_file_store, "r18-lr0.1-s0")
    (folder / "params" / ".DS_Store").write_bytes(b"\0")
    source = MlflowFileSource(str(store_copy))
    assert {r.id for r in source.list_runs()} == set(mlflow_file_store.active_runs)
    assert source.problems() == []


def test_a_param_that_is_not_utf8_is_reported(
    mlflow_file_store: LoggedStore, store_copy: Path
) -> None:
    folder = run_dir(store_copy, mlflow_file_store, "r18-lr0.1-s0")
    (folder / "params" / "path").write_bytes(b"caf\xe9")
    source = MlflowFileSource(str(store_copy))
    run = next(r for r in source.list_runs() if r.name == "r18-lr0.1-s0")
    assert run.params["path"] == "caf\ufffd"
    [problem] = source.problems()
    assert problem.file == str(folder / "params" / "path")


# -- many runs: summaries without every history ------------------------------------------------

MANY_RUNS = 1000
MANY_STEPS = 500
MANY_KEYS = ("loss", "val/acc")


def write_many_runs(root: Path, runs: int, steps: int) -> dict[str, dict[str, list[float]]]:
    """Writes a store of `runs` runs; gives run ID -> key -> the values logged, by step.

    mlflow writes the experiment and a first run; the others are that run's files with a
    new ID, and metric files written line by line as MLflow's FileStore appends them
    (`"%s %s %s\n" % (timestamp, value, step)`), because logging 1M points through the
    client would take minutes. Every seventh run's lines are in reverse step order.
    """
    import random
    import uuid

    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"file:{root}")
    experiment = client.create_experiment("many")
    template = client.create_run(experiment, run_name="run-0").info.run_id
    client.log_batch(
        template,
        params=[Param("lr", "0.1")],
        metrics=[Metric(key, 0.5, 1_793_613_600_000, 0) for key in MANY_KEYS],
    )
    client.set_terminated(template, "FINISHED")
    folder = root / experiment
    files = {
        path.relative_to(folder / template): path.read_bytes()
        for path in (folder / template).rglob("*")
        if path.is_file() and "metrics" not in path.parts
    }
    # MLflow takes a folder for a run only if it has these, empty or not.
    subdirs = ("artifacts", "metrics", "params", "tags")
    ids = random.Random(5)
    rng = np.random.default_rng(5)
    logged: dict[str, dict[str, list[float]]] = {}
    for i in range(runs):
        run_id = template if i == 0 else uuid.UUID(int=ids.getrandbits(128), version=4).hex
        run_dir = folder / run_id
        for sub in subdirs:
            (run_dir / sub).mkdir(parents=True, exist_ok=True)
        for rel, data in files.items():
            text = data.replace(template.encode(), run_id.encode())
            if rel.name == "meta.yaml":
                text = text.replace(b"run_name: run-0", f"run_name: run-{i}".encode())
            (run_dir / rel).write_bytes(text)
        logged[run_id] = {}
        for k, key in enumerate(MANY_KEYS):
            values = (rng.standard_normal(steps) * 10.0 ** (k - 3)).tolist()
            order = range(steps - 1, -1, -1) if i % 7 == 3 else range(steps)
            lines = [f"{1_793_613_600_000 + i * 1000 + s} {values[s]} {s}\n" for s in order]
            path = run_dir / "metrics" / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(lines))
            logged[run_id][key] = values
    return logged


def test_summaries_of_many_runs_hold_no_history(mlflow_env: None, tmp_path: Path) -> None:
    """Listing 1,000 runs for their summaries keeps far less than their histories in memory."""
    import tracemalloc

    from mlflow.tracking import MlflowClient

    root = tmp_path / "mlruns"
    logged = write_many_runs(root, MANY_RUNS, MANY_STEPS)
    histories = MANY_RUNS * len(MANY_KEYS) * MANY_STEPS * 24  # step, value, time: 8 bytes each
    source = MlflowFileSource(str(root))
    source.max_kept_points = 50_000  # 1.2 MB, a twentieth of the histories
    tracemalloc.start()
    try:
        runs = source.search(experiment="many")
        summaries = {run.id: dict(run.summary) for run in runs}
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < histories / 3, (
        f"peak {peak / 1e6:.1f} MB for {histories / 1e6:.1f} MB of histories"
    )
    assert len(runs) == MANY_RUNS and source.problems() == []
    for run_id, keys in logged.items():
        # The highest step is the last value logged, whatever order the lines are in.
        assert summaries[run_id] == {key: values[-1] for key, values in keys.items()}, run_id
    # mlflow reads the copied runs as it reads the one it wrote, to the same summaries.
    client = MlflowClient(tracking_uri=f"file:{root}")
    for run in (runs[0], runs[MANY_RUNS // 2], runs[-1]):
        assert client.get_run(run.id).data.metrics == summaries[run.id]
    # Series beyond what was kept are read again, exactly.
    for run in (runs[0], runs[-1]):
        for key in MANY_KEYS:
            series = run.series(key)
            assert series.values.tolist() == logged[run.id][key]
            assert series.steps.tolist() == list(range(MANY_STEPS))


# -- stores found in the wild ------------------------------------------------------------------


def realworld_stores() -> list[Path]:
    if not REALWORLD.is_dir():
        skip_or_fail(f"{REALWORLD} (the real-world stores) is not on this machine")
    stores = sorted(REALWORLD.glob("*/mlruns"))
    assert len(stores) >= 3
    return stores


def read_independently(root: Path) -> dict[str, dict[str, Any]]:
    """Gives run ID -> what its files hold, read with plain open/split (no labbook code)."""
    runs: dict[str, dict[str, Any]] = {}
    for experiment in sorted(p for p in root.iterdir() if (p / "meta.yaml").is_file()):
        experiment_name = yaml.safe_load((experiment / "meta.yaml").read_text())["name"]
        for folder in sorted(p for p in experiment.iterdir() if (p / "meta.yaml").is_file()):
            meta = yaml.safe_load((folder / "meta.yaml").read_text())
            if meta.get("lifecycle_stage") == "deleted":
                continue

            def files(kind: str, folder: Path = folder) -> dict[str, Path]:
                base = folder / kind
                if not base.is_dir():
                    return {}
                return {p.relative_to(base).as_posix(): p for p in base.rglob("*") if p.is_file()}

            metrics: dict[str, list[tuple[int, float, int]]] = {}
            for key, path in files("metrics").items():
                points = []
                for line in path.read_text().splitlines():
                    fields = line.split(" ")
                    step = int(fields[2]) if len(fields) > 2 else 0
                    points.append((int(fields[0]), float(fields[1]), step))
                metrics[key] = points
            artifacts = sorted(
                p.relative_to(folder / "artifacts").as_posix()
                for p in (folder / "artifacts").rglob("*")
                if p.is_file()
            )
            runs[folder.name] = {
                "experiment": experiment_name,
                "name": meta.get("run_name") or meta.get("name") or None,
                "status": meta.get("status"),
                "start_time": meta.get("start_time"),
                "params": {k: p.read_text() for k, p in files("params").items()},
                "tags": {k: p.read_text() for k, p in files("tags").items()},
                "metrics": metrics,
                "artifacts": artifacts,
            }
    return runs


def test_realworld_stores_read_exactly_as_the_files_hold_them() -> None:
    statuses = {1: "running", 3: "finished", 4: "failed", 5: "killed"}
    for root in realworld_stores():
        before = store_snapshot(root)
        expected = read_independently(root)
        source = open_source(str(root))
        assert isinstance(source, MlflowFileSource)
        runs = {r.id: r for r in source.list_runs()}
        assert set(runs) == set(expected), root
        assert source.problems() == [], root
        for run_id, want in expected.items():
            run = runs[run_id]
            assert run.experiment == want["experiment"]
            assert run.name == (want["name"] or want["tags"].get("mlflow.runName") or run_id)
            assert run.status == statuses[want["status"]]
            assert run.start_time is not None
            assert round(run.start_time.timestamp() * 1000) == want["start_time"]
            assert run.params == want["params"]
            assert run.tags == want["tags"]
            assert run.git_commit == want["tags"].get("mlflow.source.git.commit")
            assert run.artifacts == want["artifacts"]
            assert run.metric_keys() == sorted(want["metrics"])
            for key, points in want["metrics"].items():
                ordered = sorted(points, key=lambda p: (p[2], p[0]))
                series = run.series(key)
                assert list(series.steps) == [p[2] for p in ordered]
                assert list(series.values) == [p[1] for p in ordered]
                assert [round(t * 1000) for t in series.times] == [p[0] for p in ordered]
                latest = max(points, key=lambda p: (p[2], p[0], p[1]))
                assert run.summary[key] == latest[1]
        assert store_snapshot(root) == before, f"{root} was written to"


def test_realworld_runs_mlflows_client_refuses_are_read(mlflow_env: None, tmp_path: Path) -> None:
    """MLflow's get_run refuses a run folder without params/ or artifacts/; labbook reads it."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    refused: set[str] = set()
    for root in realworld_stores():
        # MLflow's FileStore creates .trash/ when missing: give it a copy, never the original.
        copy = tmp_path / root.parent.name
        shutil.copytree(root, copy)
        client = MlflowClient(tracking_uri=f"file:{copy}")
        listed = {r.id for r in MlflowFileSource(str(root)).list_runs()}
        for run_id in read_independently(root):
            try:
                client.get_run(run_id)
            except MlflowException:
                refused.add(run_id)
                assert run_id in listed
    assert refused, "expected the real-world stores to hold runs MLflow refuses"


# -- the metric-line parser on its own ----------------------------------------------------------


def parse(data: bytes) -> tuple[list[tuple[int, float, int]], list[SourceError]]:
    from labbook.sources.folders import ProblemLog
    from labbook.sources.mlflow_files import parse_metric_file

    problems: list[SourceError] = []
    bad = ProblemLog(problems, "m", "test")
    series = parse_metric_file("m", data, bad)
    bad.close()
    points = [
        (round(t * 1000), float(v), int(s))
        for t, v, s in zip(series.times, series.values, series.steps, strict=True)
    ]
    return points, problems


def test_parser_reads_every_line_form_mlflow_writes() -> None:
    points, problems = parse(
        b"1000 0.5 2\n"
        b"1001 nan 1\n"  # NaN, and out of step order
        b"1002 inf 3 train-set 1a2b3c4d\n"  # with dataset name and digest
        b"\n"  # a blank line is nothing
        b"1003 -inf 0\r\n"  # written on Windows
        b"999 1e-05\n"  # MLflow 1.x: no step
    )
    assert problems == []
    assert [(t, s) for t, _, s in points] == [(999, 0), (1003, 0), (1001, 1), (1000, 2), (1002, 3)]
    values = [v for _, v, _ in points]
    assert values[0] == 1e-05 and values[1] == -math.inf and math.isnan(values[2])
    assert values[3:] == [0.5, math.inf]


def test_parser_fast_path_agrees_with_python_floats() -> None:
    rng = np.random.default_rng(7)
    values = np.concatenate([rng.random(500), rng.standard_normal(500) * 1e-8, [1e300, -0.0]])
    lines = [f"{1700000000000 + i} {v!r} {i}\n" for i, v in enumerate(values.tolist())]
    points, problems = parse("".join(lines).encode())
    assert problems == []
    assert [v for _, v, _ in points] == [float(line.split()[1]) for line in lines]


def same_float(a: float, b: float) -> bool:
    """Tells whether two floats are the same value: NaN is NaN, and -0.0 is not 0.0."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


# How MLflow writes values (str of a float, or of an int the user logged), and the spellings
# Python's float() also takes.
EDGE_TOKENS = [
    "nan", "inf", "-inf", "1e-300", "-0.0", "0.0", "5", "-7", "1e+308", "5e-324",
    "2.2250738585072014e-308", "1.7976931348623157e+308", "0.1", "-1.5e-05",
    "123456789012345678", "0.30000000000000004", "9007199254740993", "1E+10",
    "NaN", "Infinity", "-Infinity", "+2.5",
]  # fmt: skip


def test_parser_reads_edge_values_exactly_on_both_paths() -> None:
    from labbook.sources.folders import ProblemLog
    from labbook.sources.mlflow_files import _careful_columns, _fast_columns

    data = "".join(f"{1000 + i} {token} {i}\n" for i, token in enumerate(EDGE_TOKENS)).encode()
    fast = _fast_columns(data)
    assert fast is not None  # every spelling here takes the fast path
    careful = _careful_columns(data, ProblemLog([], "m", "test"))
    for columns in (fast, careful):
        values = columns[1].tolist()
        for token, value in zip(EDGE_TOKENS, values, strict=True):
            assert same_float(value, float(token)), (token, value)
        assert columns[0].tolist() == [1000 + i for i in range(len(EDGE_TOKENS))]
        assert columns[2].tolist() == list(range(len(EDGE_TOKENS)))


def test_parser_reads_a_huge_file_exactly_and_reports_its_cut_off_end() -> None:
    rng = np.random.default_rng(3)
    count = 300_000
    values = rng.standard_normal(count) * 10.0 ** rng.integers(-300, 300, count)
    values[::1000] = rng.integers(-(10**6), 10**6, len(values[::1000]))  # ints, as floats
    text = "".join(f"{1700000000000 + i} {v!r} {i}\n" for i, v in enumerate(values.tolist()))
    points, problems = parse(text.encode())
    assert problems == []
    assert [v for _, v, _ in points] == values.tolist()
    assert [s for _, _, s in points] == list(range(count))
    # The same file cut off in the middle of its next line: every whole line still read.
    points, problems = parse(text.encode() + b"1700000300000 0.12")
    assert [v for _, v, _ in points] == values.tolist()
    [problem] = problems
    assert problem.line == count + 1 and "cut off" in str(problem)


def test_latest_value_is_at_the_highest_step_then_latest_time() -> None:
    from labbook.sources.folders import ProblemLog
    from labbook.sources.mlflow_files import latest_value, parse_metric_file

    bad = ProblemLog([], "m", "test")
    cases = {
        b"5 1.0 9\n1 2.0 3\n": 1.0,  # a lower step logged later does not win
        b"1 1.0 3\n2 2.0 3\n": 2.0,  # same step: the later timestamp
        b"2 1.0 3\n2 3.0 3\n2 2.0 3\n": 3.0,  # same step and time: the largest, as MLflow
        b"2 nan 3\n2 1.0 3\n": 1.0,
        b"1 1.0 3\n2 nan 3\n": math.nan,
    }
    for data, expected in cases.items():
        got = latest_value(parse_metric_file("m", data, bad))
        assert got == expected or (math.isnan(got) and math.isnan(expected)), data


def test_a_runs_metric_files_parsed_together_read_as_each_alone() -> None:
    from labbook.sources.mlflow_files import _fast_columns, _fast_columns_together

    files = [
        b"1000 0.5 0\n1001 0.25 1\n",
        b"1000 0.5 0\n\n1001 0.25 1\n",  # a blank line: rows and lines differ
        b"2000 1.5\n2001 2.5\n",  # MLflow 1.x, no step
        b"3000 0.1 0\n3001 0.2 1\n3002 0.3",  # cut off
        b"4000 nan 5\n4001 -inf 6\n",
        b"5000 x 1\n",  # not a number
        b"6000 0.7 2\n",
        b"",
        b"7000 0.5\n",
    ]
    together = _fast_columns_together(files)
    for data, got in zip(files, together, strict=True):
        alone = _fast_columns(data)
        if alone is None:
            assert got is None, data
        else:
            assert got is not None, data
            for a, b in zip(alone, got, strict=True):
                assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True), data
    assert [c is not None for c in together] == [1, 1, 1, 0, 1, 0, 1, 0, 1]
    # One bad file among good ones: the good ones still take the fast path.
    mixed = _fast_columns_together([files[0], files[5], files[6]])
    assert mixed[0] is not None and mixed[1] is None and mixed[2] is not None


def test_meta_yaml_fast_reader_gives_what_yaml_gives() -> None:
    from labbook.sources.mlflow_files import _simple_meta

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    rng = np.random.default_rng(11)
    pieces = [
        *"abyYnNoOtTfe0123456789 :/.-_@+=,'#\"[]{}~!&*|>%\t",
        *("0b", "0x", "yes", "on", "Off", "null", "NULL", ".inf", "1e5", ": ", " #", "''", "é"),
    ]
    texts = [
        # As MLflow 1.x to 3.x write them.
        b"artifact_uri: file:///tmp/mlruns/1/0ba582a1eae9409ba7d56573c7a22bf3/artifacts\n"
        b"end_time: null\nentry_point_name: ''\nexperiment_id: '634836504663364838'\n"
        b"lifecycle_stage: active\nname: ''\nrun_id: 0ba582a1eae9409ba7d56573c7a22bf3\n"
        b"run_name: run-0230\nsource_type: 4\nstart_time: 1794441600000\nstatus: 3\n"
        b"tags: []\nuser_id: unknown\n",
        b"name: 0b101\n",  # a binary integer to YAML 1.1
        b"run_id: 0b1\n",
        b"name: it''s\n",
        b"name: 'it''s'\n",
        b"yes: 1\n",
        b"name: a: b\n",
        b"name: a #b\n",
        b"name: x\r\n",
        b"name: x\n  y\n",
        b"",
        b"\n",
    ]
    for _ in range(3000):
        value = "".join(rng.choice(pieces) for _ in range(rng.integers(0, 7)))
        texts.append(f"name: {value}\nstatus: {rng.integers(-9, 9)}\n".encode())
        texts.append(yaml.safe_dump({"name": value, "run_id": value}).encode())
    fast = 0
    for text in texts:
        got = _simple_meta(text)
        if got is None:
            continue
        fast += 1
        want = yaml.load(text, Loader=loader)
        assert got == want, text
        assert [type(v) for v in got.values()] == [type(v) for v in want.values()], text
    assert _simple_meta(texts[0]) is not None and fast > 1000
