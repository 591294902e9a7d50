"""MLflow stores written by the real mlflow library, once per session, with a record of what was logged.

Both stores (a file store and a SQLite store) get the same content: two experiments,
eight runs (one deleted, one failed, one still running, one killed), a third,
deleted experiment with a run, params with numbers as strings, tags, a git commit,
nested metric keys, NaN and infinity, points logged out of step order, three points at
one step, and artifact files. `LoggedStore.runs` holds what each run was given, for
the tests to compare every value read back with.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labbook.model import Run, Series

# 2026-11-02T10:00:00Z in milliseconds.
T0_MS = 1_793_613_600_000
GIT_COMMIT = "3f2a9c7e51d04b6f8e2a9c7e51d04b6f8e2a9c7e"
STEPS = 50


@dataclass
class LoggedRun:
    """What one run was given, as MLflow's client logged it."""

    run_id: str
    experiment: str
    name: str
    status: str  # labbook's spelling: lower case
    start_ms: int
    end_ms: int | None
    params: dict[str, str]
    tags: dict[str, str]  # the tags logged here; MLflow adds mlflow.runName
    # key -> (timestamp ms, value, step) in the order they were logged
    metrics: dict[str, list[tuple[int, float, int]]]
    artifacts: list[str] = field(default_factory=list)
    deleted: bool = False

    def expected_series(self, key: str) -> tuple[list[int], list[float], list[int]]:
        """Gives (steps, values, timestamps ms) in step order, equal steps by timestamp."""
        points = sorted(self.metrics[key], key=lambda p: (p[2], p[0]))
        return [p[2] for p in points], [p[1] for p in points], [p[0] for p in points]

    def expected_latest(self, key: str) -> float:
        """Gives MLflow's latest value: highest step, then latest timestamp."""
        return max(self.metrics[key], key=lambda p: (p[2], p[0]))[1]


@dataclass
class LoggedStore:
    tracking_uri: str  # as MLflow takes it
    path: Path  # the mlruns folder or the .db file
    experiments: dict[str, str]  # name -> ID
    runs: dict[str, LoggedRun]  # by run ID
    deleted_experiment: str

    @property
    def active_runs(self) -> dict[str, LoggedRun]:
        return {
            rid: r
            for rid, r in self.runs.items()
            if not r.deleted and r.experiment != self.deleted_experiment
        }

    def by_name(self, name: str) -> LoggedRun:
        return next(r for r in self.runs.values() if r.name == name)


@dataclass
class _Plan:
    experiment: str
    name: str
    status: str  # MLflow's spelling
    params: dict[str, str]
    tags: dict[str, str]
    artifacts: dict[str, bytes] = field(default_factory=dict)
    deleted: bool = False


PLANS = [
    _Plan(
        "resnet-sweep",
        "r18-lr0.1-s0",
        "FINISHED",
        {"lr": "0.1", "optimizer": "sgd", "epochs": "10", "seed": "0", "batch_size": "128"},
        {"stage": "sweep", "team": "vision", "mlflow.source.git.commit": GIT_COMMIT},
        {"model/weights.txt": b"not really weights\n"},
    ),
    _Plan(
        "resnet-sweep",
        "r18-lr0.03-s0",
        "FINISHED",
        {"lr": "0.03", "optimizer": "adam", "epochs": "10", "seed": "0", "note": "first try"},
        {"stage": "sweep", "team": "Vision-Core"},
    ),
    _Plan(
        "resnet-sweep",
        "r18-lr0.3-s0",
        "FAILED",
        {"lr": "0.3", "optimizer": "sgd", "epochs": "10", "seed": "0"},
        {"stage": "sweep", "team": "vision", "diverged": "true"},
    ),
    _Plan(
        "resnet-sweep",
        "r18-lr0.1-s1",
        "RUNNING",
        {"lr": "0.1", "optimizer": "sgd", "epochs": "10", "seed": "1"},
        {"stage": "final", "team": "vision"},
    ),
    _Plan(
        "resnet-sweep",
        "r18-oops",
        "FINISHED",
        {"lr": "0.1", "optimizer": "sgd"},
        {"stage": "sweep"},
        deleted=True,
    ),
    _Plan(
        "vit-baseline",
        "vit-s16",
        "KILLED",
        {"lr": "0.001", "optimizer": "adamw", "epochs": "300", "weight_decay": "0.05"},
        {"stage": "baseline", "team": "research"},
    ),
    _Plan(
        "vit-baseline",
        "vit-b16",
        "FINISHED",
        {"lr": "1e-4", "optimizer": "adamw", "epochs": "300", "warmup": "10000"},
        {"stage": "baseline", "team": "research"},
    ),
    _Plan(
        "vit-baseline",
        "vit-l16",
        "FINISHED",
        {"lr": "0.0003", "optimizer": "adamw", "epochs": "300", "dropout": "0.1"},
        {"stage": "baseline", "team": "research", "mlflow.note.content": "the big one"},
        {"plots/loss.png": b"\x89PNG\r\n\x1a\nfake", "report.md": b"# notes\n"},
    ),
    _Plan("abandoned", "old-run", "FINISHED", {"lr": "0.5"}, {"stage": "old"}),
]
DELETED_EXPERIMENT = "abandoned"


def _curves(
    rng: np.random.Generator, index: int, start_ms: int, name: str
) -> dict[str, list[tuple[int, float, int]]]:
    """Gives each metric's points (timestamp ms, value, step) in the order they are logged."""
    loss = 2.3 * np.exp(-np.arange(STEPS) / (10 + index)) + 0.05 * rng.random(STEPS)
    points: dict[str, list[tuple[int, float, int]]] = {}
    stamp = start_ms
    order = list(range(STEPS))
    if name == "vit-s16":
        # Logged out of step order: the second half first.
        order = order[STEPS // 2 :] + order[: STEPS // 2]
    train: list[tuple[int, float, int]] = []
    for step in order:
        stamp += 1000 + int(rng.integers(0, 7))
        train.append((stamp, float(loss[step]), step))
    if name == "r18-lr0.1-s0":
        train[17] = (train[17][0], math.nan, 17)
    if name == "r18-lr0.3-s0":
        # Diverged: the last points are NaN, so the summary is NaN.
        train[-3:] = [(t, math.nan, s) for t, _, s in train[-3:]]
    if name == "vit-l16":
        # Three points at one step, at different times, the last logged the earliest.
        train.append((train[10][0] + 1, float(loss[10]) * 0.9, 10))
        train.append((train[10][0] - 1, float(loss[10]) * 1.1, 10))
    points["train/loss"] = train
    val_steps = list(range(0, STEPS, 5))
    val_loss = [
        (start_ms + 1000 * (s + 1) + 500, float(loss[s] + 0.1 * rng.random()), s) for s in val_steps
    ]
    if name == "r18-lr0.03-s0":
        val_loss[3] = (val_loss[3][0], math.inf, val_loss[3][2])
    if name == "r18-lr0.3-s0":
        val_loss[4] = (val_loss[4][0], -math.inf, val_loss[4][2])
    points["val/loss"] = val_loss
    acc = 0.1 + 0.8 * (1 - np.exp(-np.arange(STEPS) / (8 + 3 * index)))
    points["val/acc"] = [
        (start_ms + 1000 * (s + 1) + 600, float(acc[s] + 0.01 * rng.random()), s) for s in val_steps
    ]
    points["lr"] = [(start_ms + 10, 0.1 / (index + 1), 0)]
    if index == 0:
        points["sys/gpu/0/util"] = [
            (start_ms + 1000 * (s + 1) + 700, float(rng.integers(0, 100)), s) for s in val_steps
        ]
    return points


def write_store(tracking_uri: str, path: Path, artifact_root: Path | None) -> LoggedStore:
    """Gives the record of a store written at `tracking_uri` with MLflow's client."""
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    rng = np.random.default_rng(20261102)
    experiments: dict[str, str] = {}
    for name in dict.fromkeys(p.experiment for p in PLANS):
        location = (artifact_root / name).as_uri() if artifact_root is not None else None
        experiments[name] = client.create_experiment(name, artifact_location=location)
    runs: dict[str, LoggedRun] = {}
    for index, plan in enumerate(PLANS):
        start_ms = T0_MS + index * 3_600_000
        run = client.create_run(
            experiments[plan.experiment], start_time=start_ms, run_name=plan.name
        )
        run_id = run.info.run_id
        metrics = _curves(rng, index, start_ms, plan.name)
        batch = [Metric(k, v, t, s) for k, pts in metrics.items() for t, v, s in pts]
        # Two batches, so points logged later land after the earlier ones in the files.
        half = len(batch) // 2
        client.log_batch(
            run_id,
            metrics=batch[:half],
            params=[Param(k, v) for k, v in plan.params.items()],
            tags=[RunTag(k, v) for k, v in plan.tags.items()],
        )
        client.log_batch(run_id, metrics=batch[half:])
        for rel, content in plan.artifacts.items():
            local = path.parent / "to-upload" / plan.name / Path(rel).name
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(content)
            folder = str(Path(rel).parent)
            client.log_artifact(run_id, str(local), None if folder == "." else folder)
        end_ms: int | None = None
        if plan.status != "RUNNING":
            end_ms = start_ms + 1_800_000 + index
            client.set_terminated(run_id, plan.status, end_time=end_ms)
        if plan.deleted:
            client.delete_run(run_id)
        runs[run_id] = LoggedRun(
            run_id=run_id,
            experiment=plan.experiment,
            name=plan.name,
            status=plan.status.lower(),
            start_ms=start_ms,
            end_ms=end_ms,
            params=dict(plan.params),
            tags=dict(plan.tags),
            metrics=metrics,
            artifacts=sorted(plan.artifacts),
            deleted=plan.deleted,
        )
    client.delete_experiment(experiments[DELETED_EXPERIMENT])
    return LoggedStore(tracking_uri, path, experiments, runs, DELETED_EXPERIMENT)


@pytest.fixture(scope="session")
def mlflow_env() -> Iterator[None]:
    """MLflow's environment for writing stores: file store allowed, no telemetry."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
        mp.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        mp.setenv("DO_NOT_TRACK", "true")
        yield


@pytest.fixture(scope="session")
def mlflow_file_store(mlflow_env: None, tmp_path_factory: pytest.TempPathFactory) -> LoggedStore:
    """An MLflow file store written by mlflow itself (artifacts inside the store)."""
    root = tmp_path_factory.mktemp("mlflow-file") / "mlruns"
    return write_store(f"file:{root}", root, None)


@pytest.fixture(scope="session")
def mlflow_sqlite_store(mlflow_env: None, tmp_path_factory: pytest.TempPathFactory) -> LoggedStore:
    """An MLflow SQLite store written by mlflow itself (artifacts in a folder beside it)."""
    folder = tmp_path_factory.mktemp("mlflow-sqlite")
    db = folder / "mlflow.db"
    return write_store(f"sqlite:///{db}", db, folder / "artifacts")


# -- checks both stores' tests use -----------------------------------------------------------


def assert_run_matches(run: Run, logged: LoggedRun) -> None:
    """Asserts a run read by labbook holds exactly what MLflow's client logged."""
    assert run.id == logged.run_id
    assert run.name == logged.name
    assert run.experiment == logged.experiment
    assert run.status == logged.status
    assert run.start_time is not None
    assert round(run.start_time.timestamp() * 1000) == logged.start_ms
    if logged.end_ms is None:
        assert run.end_time is None
    else:
        assert run.end_time is not None
        assert round(run.end_time.timestamp() * 1000) == logged.end_ms
    assert run.params == logged.params
    assert all(isinstance(v, str) for v in run.params.values())
    expected_tags = {**logged.tags, "mlflow.runName": logged.name}
    assert {k: v for k, v in run.tags.items() if k in expected_tags} == expected_tags
    assert run.hidden_tags == {k for k in run.tags if k.startswith("mlflow.")}
    assert not (set(run.tags) - set(expected_tags) - run.hidden_tags)
    assert run.git_commit == logged.tags.get("mlflow.source.git.commit")
    assert run.url is None
    assert run.artifacts == logged.artifacts
    assert run.metric_keys() == sorted(logged.metrics)
    for key in logged.metrics:
        assert_series(run.series(key), *logged.expected_series(key))
        assert_same_float(run.summary[key], logged.expected_latest(key))
    assert set(run.summary) == set(logged.metrics)


def assert_series(series: Series, steps: list[int], values: list[float], stamps: list[int]) -> None:
    """Asserts a series holds these points exactly (NaN equal to NaN), in this order."""
    assert series.steps.dtype == np.int64
    np.testing.assert_array_equal(series.steps, np.asarray(steps, dtype=np.int64))
    np.testing.assert_array_equal(series.values, np.asarray(values, dtype=np.float64))
    np.testing.assert_array_equal(np.round(series.times * 1000).astype(np.int64), stamps)


def assert_same_float(got: Any, expected: float) -> None:
    assert isinstance(got, float)
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == expected


def mlflow_search_ids(store: LoggedStore, filter_string: str) -> set[str]:
    """Gives the IDs of the runs MLflow's own client selects with this filter."""
    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=store.tracking_uri)
    experiment_ids = [e.experiment_id for e in client.search_experiments()]
    found = client.search_runs(
        experiment_ids, filter_string, run_view_type=ViewType.ACTIVE_ONLY, max_results=1000
    )
    return {r.info.run_id for r in found}


def filter_strings(store: LoggedStore) -> list[str]:
    """Gives filters over metrics, params, tags and attributes, LIKE/ILIKE/IN included."""
    two = sorted(store.active_runs)[:2]
    between = T0_MS + 2 * 3_600_000 + 1_000  # after the third run's start, before the fourth's
    return [
        "metrics.`val/acc` > 0.5",
        "metrics.`val/acc` <= 0.7 and params.optimizer = 'sgd'",
        "metrics.lr < 0.03",
        "metrics.`sys/gpu/0/util` >= 0",
        "params.optimizer = 'adam'",
        "params.lr = '0.1'",
        "params.optimizer != 'sgd'",
        "params.optimizer LIKE 'adam%'",
        "params.note LIKE '%try'",
        "tags.stage LIKE 'sw%'",
        "tags.team ILIKE 'vision%'",
        "tags.stage != 'sweep'",
        "attributes.status ILIKE 'f%'",
        f"tags.`mlflow.source.git.commit` = '{GIT_COMMIT}'",
        "attributes.status = 'FAILED'",
        "attributes.status != 'FINISHED'",
        "attributes.run_name LIKE 'r18-%'",
        "attributes.run_name ILIKE 'VIT-%'",
        f"attributes.start_time > {between}",
        f"attributes.run_id IN ('{two[0]}', '{two[1]}')",
        f"attributes.run_id NOT IN ('{two[0]}')",
        "params.epochs = '10' and tags.team = 'vision' and metrics.`val/acc` > 0.1",
    ]


def store_snapshot(path: Path) -> dict[str, tuple[int, int]]:
    """Gives every file below (or at) path with its size and modification time."""
    if path.is_file():
        stat = path.stat()
        return {str(path): (stat.st_size, stat.st_mtime_ns)}
    out: dict[str, tuple[int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            stat = os.stat(full)
            out[full] = (stat.st_size, stat.st_mtime_ns)
    return out
