"""MlflowSqlSource: an MLflow SQLite store written by mlflow itself, and older schemas."""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from labbook.errors import RunNotFound, SourceError
from labbook.sources import open_source
from labbook.sources.mlflow_sql import MlflowSqlSource, _series

from .conftest import (
    LoggedStore,
    assert_run_matches,
    assert_series,
    filter_strings,
    mlflow_search_ids,
)


def sqlite_source(store: LoggedStore, **options: bool) -> MlflowSqlSource:
    return MlflowSqlSource(f"///{store.path}", **options)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def db_copy(mlflow_sqlite_store: LoggedStore, tmp_path: Path) -> Path:
    """A copy of the session's database, free to alter."""
    copy = tmp_path / "copy.db"
    shutil.copy2(mlflow_sqlite_store.path, copy)
    return copy


# -- what mlflow wrote, read back exactly --------------------------------------------------------


def test_every_value_matches_what_mlflow_logged(mlflow_sqlite_store: LoggedStore) -> None:
    source = sqlite_source(mlflow_sqlite_store)
    runs = {r.id: r for r in source.list_runs()}
    assert set(runs) == set(mlflow_sqlite_store.active_runs)
    for run_id, logged in mlflow_sqlite_store.active_runs.items():
        assert_run_matches(runs[run_id], logged)
    assert source.problems() == []


def test_points_of_one_step_are_in_mlflows_order(mlflow_sqlite_store: LoggedStore) -> None:
    """Equal steps by timestamp, as MLflow orders them, whatever order they were logged in."""
    vit = next(r for r in sqlite_source(mlflow_sqlite_store).list_runs() if r.name == "vit-l16")
    series = vit.series("train/loss")
    at_ten = np.flatnonzero(series.steps == 10)
    assert len(at_ten) == 3 and np.all(np.diff(series.times[at_ten]) > 0)
    assert np.all(np.diff(series.steps) >= 0)
    # Equal steps and times: by value, then is_nan (NaN stored as 0 with is_nan set).
    rows = [(3, 5, 2.0, 0), (1, 9, 7.0, 0), (3, 5, 0.0, 1), (3, 5, 1.0, 0), (3, 4, 9.0, 0)]
    tied = _series("k", rows)
    assert list(tied.steps) == [1, 3, 3, 3, 3]
    assert list(tied.times * 1000) == [9, 4, 5, 5, 5]
    np.testing.assert_array_equal(tied.values, [7.0, 9.0, np.nan, 1.0, 2.0])


def test_nan_and_infinity_read_back_as_logged(mlflow_sqlite_store: LoggedStore) -> None:
    """MLflow stores NaN as 0 with is_nan set, and ±infinity as ±DBL_MAX."""
    by_name = {r.name: r for r in sqlite_source(mlflow_sqlite_store).list_runs()}
    diverged = by_name["r18-lr0.3-s0"]
    assert math.isnan(float(diverged.summary["train/loss"]))  # type: ignore[arg-type]
    assert np.isnan(diverged.series("train/loss").values[-3:]).all()
    assert np.isneginf(diverged.series("val/loss").values).sum() == 1
    assert np.isposinf(by_name["r18-lr0.03-s0"].series("val/loss").values).sum() == 1
    assert np.isnan(by_name["r18-lr0.1-s0"].series("train/loss").values[17])


def test_uris_resolve_relative_and_absolute_paths(
    mlflow_sqlite_store: LoggedStore, tmp_path: Path
) -> None:
    db = mlflow_sqlite_store.path
    relative = os.path.relpath(db, tmp_path)
    for uri, base in [
        (f"mlflow+sqlite:///{db}", None),  # ////abs/path.db
        (f"mlflow+sqlite:///{relative}", tmp_path),
        (f"mlflow+sqlite:///{db}?mode=ro", None),
    ]:
        source = open_source(uri, name="sweeps", base_dir=base)
        assert isinstance(source, MlflowSqlSource), uri
        assert source.path.resolve() == db.resolve()
        assert {r.id for r in source.list_runs()} == set(mlflow_sqlite_store.active_runs)
        assert {r.source for r in source.list_runs()} == {"sweeps"}
    assert open_source(f"mlflow+sqlite:///{relative}", base_dir=tmp_path).uri == (
        f"mlflow+sqlite:///{relative}"
    )


def test_experiment_by_name_or_id(mlflow_sqlite_store: LoggedStore) -> None:
    source = sqlite_source(mlflow_sqlite_store)
    vit = {
        rid for rid, r in mlflow_sqlite_store.active_runs.items() if r.experiment == "vit-baseline"
    }
    assert {r.id for r in source.list_runs("vit-baseline")} == vit
    assert {r.id for r in source.list_runs(mlflow_sqlite_store.experiments["vit-baseline"])} == vit
    assert {r.id for r in source.search(experiment="vit-baseline")} == vit
    assert source.list_runs("Default") == []


def test_deleted_runs_and_experiments_only_when_asked(mlflow_sqlite_store: LoggedStore) -> None:
    source = sqlite_source(mlflow_sqlite_store, include_deleted=True)
    runs = {r.id: r for r in source.list_runs()}
    assert set(runs) == set(mlflow_sqlite_store.runs)
    for run_id, logged in mlflow_sqlite_store.runs.items():
        assert_run_matches(runs[run_id], logged)
    with pytest.raises(SourceError, match="'abandoned' is deleted"):
        sqlite_source(mlflow_sqlite_store).list_runs("abandoned")


def test_filters_select_what_mlflow_selects(mlflow_sqlite_store: LoggedStore) -> None:
    source = sqlite_source(mlflow_sqlite_store)
    for filter_string in filter_strings(mlflow_sqlite_store):
        ours = {r.id for r in source.search(filter=filter_string)}
        assert ours == mlflow_search_ids(mlflow_sqlite_store, filter_string), filter_string


def test_search_pushes_experiment_and_limit_into_sql(mlflow_sqlite_store: LoggedStore) -> None:
    source = sqlite_source(mlflow_sqlite_store)
    everything = source.list_runs()
    starts = [r.start_time for r in everything]
    assert starts == sorted(starts, reverse=True)  # type: ignore[type-var]
    assert source.search(limit=3).ids == [r.id for r in everything[:3]]
    vit = source.list_runs("vit-baseline")
    assert source.search(experiment="vit-baseline", limit=2).ids == [r.id for r in vit[:2]]
    assert source.search(limit=0).ids == []
    # The same Run objects, so series read through one listing serve the next.
    assert source.search(limit=1)[0] is everything[0]
    ordered = source.search(order_by=["metrics.`val/acc` DESC"], limit=2)
    accs = sorted((r.summary["val/acc"] for r in everything), reverse=True)  # type: ignore[type-var]
    assert [r.summary["val/acc"] for r in ordered] == accs[:2]


def test_prefix_resolves_and_unknown_ids_are_errors(mlflow_sqlite_store: LoggedStore) -> None:
    source = sqlite_source(mlflow_sqlite_store)
    run_id = next(iter(mlflow_sqlite_store.active_runs))
    assert source.get(run_id[:6]).id == run_id
    with pytest.raises(RunNotFound, match="no run 'ffffffffffff'"):
        source.get("ffffffffffff")


def test_read_many_matches_one_by_one(mlflow_sqlite_store: LoggedStore) -> None:
    bulk_source = sqlite_source(mlflow_sqlite_store)
    runs = bulk_source.list_runs()
    every = bulk_source.read_many(runs)
    other = sqlite_source(mlflow_sqlite_store)
    some = other.read_many(other.list_runs(), ["val/acc", "nope"])
    for run in runs:
        logged = mlflow_sqlite_store.runs[run.id]
        assert sorted(every[run.id]) == sorted(logged.metrics)
        for key, series in every[run.id].items():
            assert_series(series, *logged.expected_series(key))
            assert run.series(key) is series  # kept on the Run
        assert_series(some[run.id]["val/acc"], *logged.expected_series("val/acc"))
        assert len(some[run.id]["nope"]) == 0


def test_artifacts_from_a_local_artifact_folder(mlflow_sqlite_store: LoggedStore) -> None:
    source = sqlite_source(mlflow_sqlite_store)
    vit = next(r for r in source.list_runs() if r.name == "vit-l16")
    assert vit.artifacts == ["plots/loss.png", "report.md"]
    path = source.artifact_path(vit, "report.md")
    assert path is not None and path.read_text() == "# notes\n"


def test_reading_writes_nothing(mlflow_sqlite_store: LoggedStore) -> None:
    folder = mlflow_sqlite_store.path.parent
    before = {p.name: digest(p) for p in folder.iterdir() if p.is_file()}
    source = sqlite_source(mlflow_sqlite_store, include_deleted=True)
    for run in source.list_runs():
        for key in run.metric_keys():
            run.series(key)
    source.close()
    assert {p.name: digest(p) for p in folder.iterdir() if p.is_file()} == before


# -- bad input and older schemas ---------------------------------------------------------------


def test_a_missing_database_is_named(tmp_path: Path) -> None:
    source = open_source("mlflow+sqlite:///missing/mlflow.db", base_dir=tmp_path)
    with pytest.raises(SourceError) as info:
        source.list_runs()
    text = str(info.value)
    assert str(tmp_path / "missing" / "mlflow.db") in text and "does not exist" in text
    assert "mlflow+sqlite:////abs" in text  # says how to write the path
    assert not (tmp_path / "missing").exists()  # nothing created
    assert "does not exist" in str(source.problems()[0])


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("these are notes, not SQLite\n" * 100)
    source = MlflowSqlSource("///notes.db", base_dir=tmp_path)
    with pytest.raises(SourceError, match="is not an SQLite database") as info:
        source.list_runs()
    assert str(tmp_path / "notes.db") in str(info.value)


def test_a_database_that_is_not_mlflows(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE things (id INTEGER)")
    conn.close()
    with pytest.raises(SourceError, match="not an MLflow store") as info:
        MlflowSqlSource(f"///{db}").list_runs()
    assert "experiments or runs" in str(info.value)


def test_a_location_without_a_file(tmp_path: Path) -> None:
    for location in ("", "///", "//host/x.db", "///:memory:"):
        with pytest.raises(SourceError):
            MlflowSqlSource(location, base_dir=tmp_path)


def test_unknown_experiment_lists_the_known_ones(mlflow_sqlite_store: LoggedStore) -> None:
    with pytest.raises(SourceError) as info:
        sqlite_source(mlflow_sqlite_store).search(experiment="resnet")
    text = str(info.value)
    assert "no experiment 'resnet'" in text
    for name in ("Default", "resnet-sweep", "vit-baseline"):
        assert name in text


def test_without_latest_metrics_the_summary_comes_from_metrics(
    mlflow_sqlite_store: LoggedStore, db_copy: Path
) -> None:
    with sqlite3.connect(db_copy) as conn:
        conn.execute("DROP TABLE latest_metrics")
    conn.close()
    runs = {r.id: r for r in MlflowSqlSource(f"///{db_copy}").list_runs()}
    for run_id, logged in mlflow_sqlite_store.active_runs.items():
        assert_run_matches(runs[run_id], logged)


def test_an_old_schema_without_step_or_is_nan(tmp_path: Path) -> None:
    """As the earliest MLflow SQL stores were: no step, no is_nan, no run name, no latest table."""
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:
        conn.executescript(
            """
            CREATE TABLE experiments (experiment_id INTEGER PRIMARY KEY, name TEXT,
                                      artifact_location TEXT, lifecycle_stage TEXT);
            CREATE TABLE runs (run_uuid TEXT PRIMARY KEY, status TEXT, start_time BIGINT,
                               end_time BIGINT, lifecycle_stage TEXT, experiment_id INTEGER);
            CREATE TABLE metrics (key TEXT, value FLOAT, timestamp BIGINT, run_uuid TEXT);
            CREATE TABLE params (key TEXT, value TEXT, run_uuid TEXT);
            CREATE TABLE tags (key TEXT, value TEXT, run_uuid TEXT);
            INSERT INTO experiments VALUES (0, 'Default', '/tmp', 'active');
            INSERT INTO runs VALUES ('aaaa1111', 'FINISHED', 1500000000000, 1500000060000,
                                     'active', 0);
            INSERT INTO metrics VALUES ('loss', 0.5, 1500000001000, 'aaaa1111');
            INSERT INTO metrics VALUES ('loss', 0.25, 1500000002000, 'aaaa1111');
            INSERT INTO params VALUES ('lr', '0.01', 'aaaa1111');
            INSERT INTO tags VALUES ('mlflow.runName', 'first', 'aaaa1111');
            """
        )
    conn.close()
    source = MlflowSqlSource(f"///{db}")
    [run] = source.list_runs()
    assert (run.id, run.name, run.experiment, run.status) == (
        "aaaa1111",
        "first",
        "Default",
        "finished",
    )
    assert run.params == {"lr": "0.01"}
    assert run.summary == {"loss": 0.25}
    assert_series(run.series("loss"), [0, 0], [0.5, 0.25], [1500000001000, 1500000002000])
    assert source.problems() == []
