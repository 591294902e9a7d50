"""`labbook.open_source` keeps what a script read, and a later process answers from it.

Each read is a fresh `python -c` process, as a user runs a script or a notebook again,
over a copy of an MLflow file store and an SQLite store written by mlflow itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import labbook
from labbook.sources import cached
from labbook.sources.cached import CachedSource
from tests.sources.conftest import LoggedStore

SCRIPT = r"""
import json, sys
import labbook

kwargs = json.loads(sys.argv[2])
source = labbook.open_source(sys.argv[1], **kwargs)
out = {}
for run in source.search():
    out[run.id] = {
        key: [run.series(key).steps.tolist(), run.series(key).values.tolist(),
              run.series(key).times.tolist()]
        for key in run.metric_keys()
    }
print(json.dumps({"runs": out, "hits": getattr(source, "hits", None),
                  "misses": getattr(source, "misses", None)}))
"""


def read_in_fresh_process(uri: str, cache_home: Path, **kwargs: Any) -> dict[str, Any]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, uri, json.dumps(kwargs)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def logged_values(store: LoggedStore) -> str:
    """Gives every logged value as JSON text, so NaN equals NaN and order does not count."""
    return json.dumps(
        {
            rid: {key: run.expected_series(key)[1] for key in run.metrics}
            for rid, run in store.active_runs.items()
        },
        sort_keys=True,
    )


def read_values(result: dict[str, Any], leave_out: str = "") -> str:
    return json.dumps(
        {
            rid: {k: s[1] for k, s in keys.items()}
            for rid, keys in result["runs"].items()
            if rid != leave_out
        },
        sort_keys=True,
    )


@pytest.fixture
def file_store(mlflow_file_store: LoggedStore, tmp_path: Path) -> LoggedStore:
    """A copy of the session's store, which this module's tests change."""
    copy = tmp_path / "mlruns"
    shutil.copytree(mlflow_file_store.path, copy)
    return replace(mlflow_file_store, tracking_uri=f"file:{copy}", path=copy)


@pytest.fixture
def sqlite_store(mlflow_sqlite_store: LoggedStore, tmp_path: Path) -> LoggedStore:
    copy = tmp_path / "mlflow.db"
    shutil.copy2(mlflow_sqlite_store.path, copy)
    return replace(mlflow_sqlite_store, tracking_uri=f"sqlite:///{copy}", path=copy)


def log_point(store: LoggedStore, run_id: str, key: str, value: float, step: int) -> None:
    from mlflow.tracking import MlflowClient

    MlflowClient(tracking_uri=store.tracking_uri).log_metric(run_id, key, value, step=step)


@pytest.mark.parametrize("kind", ["file", "sqlite"])
def test_a_second_process_answers_from_the_cache_until_the_store_changes(
    kind: str, request: pytest.FixtureRequest, mlflow_env: None, tmp_path: Path
) -> None:
    store: LoggedStore = request.getfixturevalue(f"{kind}_store")
    uri = f"mlflow:{store.path}" if kind == "file" else f"mlflow+sqlite:///{store.path}"
    home = tmp_path / "cache-home"
    expected = logged_values(store)

    first = read_in_fresh_process(uri, home)
    assert read_values(first) == expected
    assert first["misses"] > 0
    assert list((home / "labbook" / "runs").glob("*/index.json"))

    second = read_in_fresh_process(uri, home)
    assert json.dumps(second["runs"]) == json.dumps(first["runs"])  # steps, values, times
    # Only a run still running is read again: one read per metric key of it.
    running = [r for r in store.active_runs.values() if r.status == "running"]
    assert running and second["hits"] > 0
    assert second["misses"] == sum(len(r.metrics) for r in running)
    if kind == "file":
        # New bytes under the same sizes and times: the cache answers, so the old values show.
        finished = next(r for r in store.active_runs.values() if r.status == "finished")
        key = sorted(finished.metrics)[0]
        metric_file = next(store.path.glob(f"*/{finished.run_id}/metrics/{key}"))
        stat = metric_file.stat()
        text = metric_file.read_text()
        metric_file.write_text(text.replace("0", "1").replace("2", "3"))
        os.utime(metric_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert metric_file.stat().st_size == stat.st_size
        trusted = read_in_fresh_process(uri, home)
        assert json.dumps(trusted["runs"][finished.run_id]) == json.dumps(
            first["runs"][finished.run_id]
        )
        metric_file.write_text(text)
        os.utime(metric_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    # mlflow logs one more point to one finished run: the next process reads it.
    finished = next(r for r in store.active_runs.values() if r.status == "finished")
    key = sorted(finished.metrics)[0]
    last_step = max(p[2] for p in finished.metrics[key])
    log_point(store, finished.run_id, key, 123.25, last_step + 1)
    third = read_in_fresh_process(uri, home)
    assert third["misses"] > 0
    steps, values, _ = third["runs"][finished.run_id][key]
    assert steps[-1] == last_step + 1 and values[-1] == 123.25
    assert json.dumps(values[:-1]) == json.dumps(finished.expected_series(key)[1])
    others = {rid: r for rid, r in store.active_runs.items() if rid != finished.run_id}
    assert read_values(third, leave_out=finished.run_id) == json.dumps(
        {rid: {k: r.expected_series(k)[1] for k in r.metrics} for rid, r in others.items()},
        sort_keys=True,
    )


def test_cache_false_reads_the_store_and_writes_nothing(
    file_store: LoggedStore, tmp_path: Path
) -> None:
    home = tmp_path / "cache-home"
    result = read_in_fresh_process(f"mlflow:{file_store.path}", home, cache=False)
    assert read_values(result) == logged_values(file_store)
    assert result["hits"] is None  # the tracker's own source, not the cache
    assert not home.exists()


def test_cache_path_and_an_unwritable_cache(file_store: LoggedStore, tmp_path: Path) -> None:
    folder = tmp_path / "here"
    result = read_in_fresh_process(f"mlflow:{file_store.path}", tmp_path, cache=str(folder))
    assert read_values(result) == logged_values(file_store)
    assert list(folder.glob("*/index.json"))

    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would go")
    result = read_in_fresh_process(f"mlflow:{file_store.path}", tmp_path, cache=str(blocked))
    assert read_values(result) == logged_values(file_store)  # read as if the cache were off


def test_series_held_for_the_cache_are_written_and_let_go_past_the_bound(
    file_store: LoggedStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cached, "SPILL_POINTS", 120)
    source = labbook.open_source(f"mlflow:{file_store.path}", cache=tmp_path / "c")
    assert isinstance(source, CachedSource)
    held: list[int] = []
    for run in source.search():
        for key in run.metric_keys():
            steps, values, _ = file_store.runs[run.id].expected_series(key)
            series = run.series(key)
            assert series.steps.tolist() == steps
            np.testing.assert_array_equal(series.values, np.array(values))
        held.append(sum(len(s) for kept in source._series.values() for s in kept.values()))
    assert max(held) <= 120 + 4 * 50  # one run's series past the bound, at most
    source.close()
    # What was let go was written: a new source answers every series from the cache.
    again = labbook.open_source(f"mlflow:{file_store.path}", cache=tmp_path / "c")
    runs = again.search()
    assert all(len(run.series(key)) for run in runs for key in run.metric_keys())
    running = [r for r in file_store.active_runs.values() if r.status == "running"]
    assert again.misses == sum(len(r.metrics) for r in running)  # only those are read again
