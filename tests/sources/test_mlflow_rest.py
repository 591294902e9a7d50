"""MlflowRestSource against a real `mlflow server`, populated by MLflow's own client.

The server starts once for the module (about 35 s here); everything else is fast. The
fixtures named `fake_*` are tiny http.server stand-ins that test labbook's transport
(authentication errors, retries), not MLflow.
"""

from __future__ import annotations

import base64
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

from labbook.errors import QueryError, RunDataError, RunNotFound, SourceError
from labbook.model import Run
from labbook.sources import mlflow_rest, open_source
from labbook.sources.mlflow_rest import MlflowHttpsSource, MlflowRestSource
from tests.media import PNG

T0 = 1_790_000_000_000  # ms since the epoch: 2026-09-21
STEPS = 50
SERVER_START_TIMEOUT = 90.0


# -- the real server -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def mlflow_command() -> list[str]:
    script = Path(sys.executable).parent / "mlflow"
    return [str(script)] if script.exists() else [sys.executable, "-m", "mlflow"]


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Gives the URL of a real MLflow tracking server on a SQLite store, stopped afterwards."""
    root = tmp_path_factory.mktemp("mlflow_rest_server")
    yield from run_server(root, ["--default-artifact-root", str(root / "artifacts")])


@pytest.fixture(scope="session")
def proxied_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server that proxies its artifact store (`mlflow-artifacts:/`), as teams deploy it."""
    root = tmp_path_factory.mktemp("mlflow_proxied_server")
    yield from run_server(
        root, ["--serve-artifacts", "--artifacts-destination", str(root / "store")]
    )


def run_server(root: Path, artifact_args: list[str]) -> Iterator[str]:
    port = free_port()
    log = (root / "server.log").open("wb")
    process = subprocess.Popen(
        [
            *mlflow_command(),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{root / 'mlflow.db'}",
            *artifact_args,
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        # MLflow 3's job runner keeps ~1.4 cores busy while idle; these tests need none of it.
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
        # Its own process group, so stopping it also stops the web server it spawns.
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"mlflow server exited:\n{(root / 'server.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not start in {SERVER_START_TIMEOUT:g} s")
            time.sleep(0.5)
        yield url
    finally:
        stop_process_group(process)
        log.close()


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


# -- what gets logged ----------------------------------------------------------------------


@dataclass
class Logged:
    """One run as the test logged it, for comparing with what labbook reads back."""

    id: str
    name: str
    experiment: str
    status: str
    start_ms: int
    params: dict[str, str]
    tags: dict[str, str]
    points: dict[str, list[tuple[int, float, int]]] = field(default_factory=dict)
    deleted: bool = False

    def summary(self, key: str) -> float | None:
        """Gives the metric's latest value as MLflow picks it: highest step, then timestamp."""
        if key not in self.points:
            return None
        return max(self.points[key], key=lambda p: (p[0], p[2]))[1]

    def sorted_points(self, key: str) -> list[tuple[int, float, int]]:
        return sorted(self.points.get(key, []), key=lambda p: (p[0], p[2]))


def curve(start: float, end: float, offset: int, nan_at: tuple[int, ...] = ()) -> list[float]:
    values = [
        start + (end - start) * i / (STEPS - 1) + 0.001 * ((i * offset) % 7) for i in range(STEPS)
    ]
    values[-1] = end
    for i in nan_at:
        values[i] = math.nan
    return values


# name, experiment, status, params, tags, {metric: values}
SPECS: list[tuple[str, str, str, dict[str, str], dict[str, str], dict[str, list[float]]]] = [
    (
        "resnet-a",
        "vision",
        "FINISHED",
        {"lr": "0.1", "optimizer": "adam", "batch": "32"},
        {"stage": "sweep", "team": "vision", "mlflow.source.git.commit": "3f2a9c7e51d0"},
        {"val/acc": curve(0.1, 0.9, 1, nan_at=(7,)), "train/loss": curve(2.0, 0.1, 1)},
    ),
    (
        "resnet-b",
        "vision",
        "FINISHED",
        {"lr": "0.01", "optimizer": "adam", "batch": "64"},
        {"stage": "sweep", "team": "vision"},
        {"val/acc": curve(0.1, 0.7, 2, nan_at=(STEPS - 1,)), "train/loss": curve(2.0, 0.3, 2)},
    ),
    (
        "resnet-c",
        "vision",
        "FAILED",
        {"lr": "0.001", "optimizer": "sgd", "batch": "32"},
        {"stage": "baseline", "team": "vision"},
        {"val/acc": curve(0.1, 0.4, 3), "train/loss": curve(2.0, 0.8, 3)},
    ),
    (
        "resnet-d",
        "vision",
        "RUNNING",
        {"lr": "0.1", "optimizer": "sgd", "batch": "64"},
        {"stage": "sweep", "team": "vision"},
        {"train/loss": curve(2.0, 0.15, 4)},
    ),
    (
        "resnet-e",
        "vision",
        "FINISHED",
        {"lr": "0.05", "optimizer": "adam", "batch": "128"},
        {"stage": "sweep", "team": "Vision-2"},
        {"val/acc": curve(0.2, 0.7, 5), "train/loss": curve(1.5, 0.25, 5)},
    ),
    (
        "resnet-deleted",
        "vision",
        "FINISHED",
        {"lr": "0.2", "optimizer": "adam", "batch": "32"},
        {"stage": "sweep"},
        {"val/acc": curve(0.1, 0.95, 6)},
    ),
    (
        "bert-a",
        "nlp",
        "FINISHED",
        {"lr": "0.0001", "optimizer": "adam", "batch": "16"},
        {"stage": "baseline", "team": "nlp"},
        {"val/acc": curve(0.3, 0.6, 7), "train/loss": curve(3.0, 0.5, 7)},
    ),
    (
        "bert-b",
        "nlp",
        "KILLED",
        {"lr": "0.001", "optimizer": "sgd", "batch": "16"},
        {"stage": "sweep", "team": "nlp"},
        {"val/acc": curve(0.3, 0.55, 8, nan_at=(3, 4, 20)), "train/loss": curve(3.0, 0.6, 8)},
    ),
    (
        "bert-c",
        "nlp",
        "FINISHED",
        {"lr": "3e-4", "optimizer": "adam", "batch": "32"},
        {"team": "nlp"},
        {"val/acc": curve(0.3, 0.8, 9), "train/loss": curve(3.0, 0.18, 9)},
    ),
]


@pytest.fixture(scope="session")
def logged(mlflow_server: str) -> dict[str, Logged]:
    """Gives run ID -> what was logged, after logging it with MLflow's own client."""
    client = MlflowClient(tracking_uri=mlflow_server)
    experiments = {name: client.create_experiment(name) for name in ("vision", "nlp")}
    out: dict[str, Logged] = {}
    for index, (name, experiment, status, params, tags, metrics) in enumerate(SPECS):
        start_ms = T0 + index * 60_000
        run = client.create_run(
            experiments[experiment], start_time=start_ms, tags=tags, run_name=name
        )
        entry = Logged(run.info.run_id, name, experiment, status, start_ms, params, dict(tags))
        batch: list[Metric] = []
        for key, values in metrics.items():
            points = [
                (step, value, start_ms + 1000 * (step + 1)) for step, value in enumerate(values)
            ]
            if name == "resnet-e" and key == "val/acc":
                # The same step twice: labbook must keep both, in timestamp order.
                points.append((10, 0.123, points[10][2] - 500))
            entry.points[key] = points
            batch += [Metric(key, value, ts, step) for step, value, ts in points]
        client.log_batch(entry.id, metrics=batch, params=[Param(k, v) for k, v in params.items()])
        client.log_batch(entry.id, tags=[RunTag("mlflow.note", f"run {index}")])
        entry.tags["mlflow.note"] = f"run {index}"
        if status != "RUNNING":
            client.set_terminated(entry.id, status, end_time=start_ms + 3_600_000)
        if name == "resnet-deleted":
            client.delete_run(entry.id)
            entry.deleted = True
        out[entry.id] = entry
    return out


@pytest.fixture(scope="session")
def active(logged: dict[str, Logged]) -> dict[str, Logged]:
    return {run_id: entry for run_id, entry in logged.items() if not entry.deleted}


@pytest.fixture(scope="session")
def client(mlflow_server: str, logged: dict[str, Logged]) -> MlflowClient:
    return MlflowClient(tracking_uri=mlflow_server)


@pytest.fixture(scope="session")
def experiment_ids(client: MlflowClient) -> list[str]:
    return [client.get_experiment_by_name(name).experiment_id for name in ("vision", "nlp")]


@pytest.fixture()
def source(mlflow_server: str, logged: dict[str, Logged]) -> MlflowRestSource:
    found = open_source("mlflow+" + mlflow_server, name="tracking")
    assert isinstance(found, MlflowRestSource)
    return found


class Recorder(list[tuple[str, str]]):
    """The (method, endpoint) of every request a source makes, and each POST body."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[dict[str, Any]] = []


def count_calls(source: MlflowRestSource) -> Recorder:
    """Gives a Recorder that logs every request the source makes from now on."""
    calls = Recorder()
    rest = source._client
    real_get, real_post = rest.get, rest.post

    def get(endpoint: str, params: Any, **options: Any) -> Any:
        calls.append(("GET", endpoint))
        return real_get(endpoint, params, **options)

    def post(endpoint: str, body: Any) -> Any:
        calls.append(("POST", endpoint))
        calls.bodies.append(body)
        return real_post(endpoint, body)

    rest.get = get  # type: ignore[method-assign]
    rest.post = post  # type: ignore[method-assign]
    return calls


KEYS = ("val/acc", "train/loss")


def assert_as_logged(run: Run, entry: Logged, key: str) -> None:
    """Checks that a run's series is every point logged: steps, values (NaN too), times."""
    series = run.series(key)
    want = entry.sorted_points(key)
    np.testing.assert_array_equal(series.steps, [p[0] for p in want])
    np.testing.assert_array_equal(series.values, [p[1] for p in want])
    np.testing.assert_array_equal(np.round(series.times * 1000), [p[2] for p in want])


def proxy(
    upstream: str,
    serve: Callable[[Callable[[_FakeHandler], tuple[int, Any]]], _FakeServer],
    refuse: Callable[[str], tuple[int, Any] | None],
) -> _FakeServer:
    """Not MLflow: passes requests to the real server, except those `refuse(path)` answers."""

    def answer(handler: _FakeHandler) -> tuple[int, Any]:
        refused = refuse(handler.path)
        if refused is not None:
            return refused
        body = handler.server.seen[-1][3]
        request = urllib.request.Request(
            upstream + handler.path,
            data=body or None,
            method=handler.command,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"{}")

    return serve(answer)


def same_floats(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return (math.isnan(a) and math.isnan(b)) or a == b


# -- reading back ----------------------------------------------------------------------------


def test_every_value_reads_back_as_logged(
    source: MlflowRestSource, active: dict[str, Logged], client: MlflowClient
) -> None:
    runs = {run.id: run for run in source.list_runs()}
    assert set(runs) == set(active)  # the deleted run is left out
    for run_id, entry in active.items():
        run = runs[run_id]
        truth = client.get_run(run_id)
        assert run.source == "tracking"
        assert run.name == entry.name
        assert run.experiment == entry.experiment
        assert run.status == entry.status.lower()
        assert run.start_time is not None
        assert round(run.start_time.timestamp() * 1000) == entry.start_ms
        if entry.status == "RUNNING":
            assert run.end_time is None
        else:
            assert run.duration == pytest.approx(3600.0)
        assert run.params == entry.params
        assert entry.tags.items() <= run.tags.items()
        assert run.tags == truth.data.tags
        assert "mlflow.note" in run.hidden_tags and "stage" not in run.hidden_tags
        assert run.git_commit == entry.tags.get("mlflow.source.git.commit")
        assert (
            run.url == f"{source.base_url}/#/experiments/{truth.info.experiment_id}/runs/{run_id}"
        )
        assert set(run.summary) == set(entry.points) == set(run.metric_keys())
        for key in entry.points:
            assert same_floats(float(run.summary[key]), entry.summary(key))  # type: ignore[arg-type]
            assert same_floats(float(run.summary[key]), truth.data.metrics[key])  # type: ignore[arg-type]
            series = run.series(key)
            want = entry.sorted_points(key)
            np.testing.assert_array_equal(series.steps, [p[0] for p in want])
            np.testing.assert_array_equal(series.values, [p[1] for p in want])
            np.testing.assert_array_equal(np.round(series.times * 1000), [p[2] for p in want])


def test_nan_points_and_repeated_steps_are_kept(
    source: MlflowRestSource, active: dict[str, Logged]
) -> None:
    by_name = {entry.name: entry for entry in active.values()}
    bert_b = source.get(by_name["bert-b"].id).series("val/acc")
    assert len(bert_b) == STEPS
    assert np.isnan(bert_b.values[[3, 4, 20]]).all()
    assert len(bert_b.finite()) == STEPS - 3
    resnet_e = source.get(by_name["resnet-e"].id).series("val/acc")
    assert len(resnet_e) == STEPS + 1
    tens = resnet_e.values[resnet_e.steps == 10]
    assert tens[0] == 0.123  # logged later but timestamped earlier: comes first
    assert math.isnan(float(source.get(by_name["resnet-b"].id).summary["val/acc"]))  # type: ignore[arg-type]


def test_unknown_metric_gives_an_empty_series(
    source: MlflowRestSource, active: dict[str, Logged]
) -> None:
    run = source.get(next(iter(active)))
    assert len(run.series("no/such/metric")) == 0


def test_read_many_reads_each_key_in_one_bulk_call(
    source: MlflowRestSource, active: dict[str, Logged]
) -> None:
    runs = source.list_runs()
    calls = count_calls(source)
    source.read_many(runs)
    assert calls == [("GET", "metrics/get-history-bulk")] * len(KEYS)
    calls.clear()
    for run in runs:
        for key in active[run.id].points:
            assert_as_logged(run, active[run.id], key)
    assert calls == []


def test_a_line_chart_reads_its_series_in_bulk(
    source: MlflowRestSource, active: dict[str, Logged]
) -> None:
    from labbook.blocks.base import BlockContext
    from labbook.blocks.line import LineBlock
    from labbook.model import RunSet

    runs = source.list_runs()  # listed, not searched: nothing to fall back on but the chart
    calls = count_calls(source)
    ctx = BlockContext(report_file="r.md", block_index=0, key_lines={}, fence_line=1)
    rendered = LineBlock({"line": list(KEYS)}, ctx).render(RunSet(runs))
    assert calls == [("GET", "metrics/get-history-bulk")] * len(KEYS)
    drawn = {(t["meta"]["run_id"], t["meta"]["key"]) for t in rendered.figure["data"]}
    assert drawn == {(rid, k) for rid, entry in active.items() for k in KEYS if k in entry.points}


def test_a_key_asked_of_one_run_is_read_for_its_whole_search(
    source: MlflowRestSource, active: dict[str, Logged]
) -> None:
    runs = source.search()
    assert len(runs) == len(active)
    calls = count_calls(source)
    for key in KEYS:
        for run in runs:  # resnet-d never logged val/acc: an empty series, no request
            assert_as_logged(run, active[run.id], key)
    assert calls == [("GET", "metrics/get-history-bulk")] * len(KEYS)
    # NaN points and a step logged twice come through the bulk path as logged.
    by_name = {run.name: run for run in runs}
    assert np.isnan(by_name["bert-b"].series("val/acc").values[[3, 4, 20]]).all()
    resnet_e = by_name["resnet-e"].series("val/acc")
    assert resnet_e.values[resnet_e.steps == 10][0] == 0.123
    # A run got on its own is read on its own.
    calls.clear()
    alone = source.get(runs[0].id)
    assert_as_logged(alone, active[alone.id], "train/loss")
    assert calls[-1] == ("GET", "metrics/get-history")


@pytest.mark.parametrize("cap", [STEPS - 10, STEPS + 25, 2 * STEPS + 20])
def test_runs_longer_than_a_bulk_answer_are_read_completely(
    cap: int, source: MlflowRestSource, active: dict[str, Logged], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer stops at the max_results labbook sends; here that is below a run's length."""
    monkeypatch.setattr(mlflow_rest, "HISTORY_BULK_MAX_POINTS", cap)
    runs = source.list_runs()
    calls = count_calls(source)
    source.read_many(runs)
    logged_series = sum(len(entry.points) for entry in active.values())
    paged = calls.count(("GET", "metrics/get-history"))
    if cap < STEPS:  # every run fills an answer alone: get-history reads each
        assert paged == logged_series
    else:  # the cut run is asked again in the next call
        assert paged == 0
        assert calls.count(("GET", "metrics/get-history-bulk")) > len(KEYS)
    for run in runs:
        for key in KEYS:
            assert_as_logged(run, active[run.id], key)


def test_a_server_without_the_bulk_endpoint_is_read_run_by_run(
    mlflow_server: str,
    active: dict[str, Logged],
    serve: Callable[[Callable[[_FakeHandler], tuple[int, Any]]], _FakeServer],
) -> None:
    """A proxy passing /api/ only, as an older server or a strict gateway would."""
    front = proxy(
        mlflow_server,
        serve,
        lambda path: (404, {"detail": "Not Found"}) if path.startswith("/ajax-api/") else None,
    )
    source = MlflowRestSource(front.location, name="tracking")
    runs = source.search()
    for key in KEYS:
        for run in runs:
            assert_as_logged(run, active[run.id], key)
    paths = [path.partition("?")[0] for _, path, _, _ in front.seen]
    assert paths.count("/ajax-api/2.0/mlflow/metrics/get-history-bulk") == 1  # asked once
    assert paths.count("/api/2.0/mlflow/metrics/get-history") == len(runs) * len(KEYS)


def test_a_server_taking_fewer_runs_a_call_is_read_in_smaller_calls(
    mlflow_server: str,
    active: dict[str, Logged],
    serve: Callable[[Callable[[_FakeHandler], tuple[int, Any]]], _FakeServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Older servers refuse more than 20 run IDs a call; here a proxy refuses more than 3."""
    monkeypatch.setattr(mlflow_rest, "HISTORY_BULK_OLD_MAX_RUNS", 3)

    def refuse(path: str) -> tuple[int, Any] | None:
        if path.startswith("/ajax-api/") and path.count("run_id=") > 3:
            return 400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "too many run_ids"}
        return None

    front = proxy(mlflow_server, serve, refuse)
    source = MlflowRestSource(front.location, name="tracking")
    runs = source.list_runs()
    source.read_many(runs)
    paths = [path for _, path, _, _ in front.seen]
    assert not any(path.startswith("/api/2.0/mlflow/metrics/get-history?") for path in paths)
    bulk = [path for path in paths if path.startswith("/ajax-api/")]
    assert sum(path.count("run_id=") <= 3 for path in bulk) >= math.ceil(len(runs) / 3) * 2
    for run in runs:
        for key in run.metric_keys():
            assert_as_logged(run, active[run.id], key)


def test_experiment_by_name_or_id(
    source: MlflowRestSource, active: dict[str, Logged], experiment_ids: list[str]
) -> None:
    vision = {run_id for run_id, entry in active.items() if entry.experiment == "vision"}
    assert set(source.search(experiment="vision").ids) == vision
    assert set(source.search(experiment=experiment_ids[0]).ids) == vision
    assert {r.experiment for r in source.search(experiment="nlp")} == {"nlp"}


def test_unknown_experiment_lists_the_known_ones(source: MlflowRestSource) -> None:
    with pytest.raises(SourceError) as info:
        source.search(experiment="visoin")
    text = str(info.value)
    assert "no experiment 'visoin'" in text
    assert "vision" in text and "nlp" in text and "Default" in text
    assert source.uri in text


# -- filters, order, limit, paging -----------------------------------------------------------

# Filters MLflow itself evaluates: labbook must select exactly what MlflowClient selects.
MLFLOW_FILTERS = [
    "params.optimizer = 'adam'",
    "params.optimizer != 'adam'",
    "metrics.`val/acc` > 0.5",
    "metrics.`val/acc` <= 0.6",
    "metrics.`val/acc` != 0.7",
    "metrics.`train/loss` < 0.2 and params.batch = '32'",
    "metrics.`val/acc` > 0.5 and params.optimizer = 'adam'",
    "tags.stage = 'sweep'",
    "tags.stage != 'sweep'",
    "tags.team ILIKE 'VISION%'",
    "tags.team LIKE 'vis%'",
    "params.lr LIKE '0.0%'",
    "attributes.status = 'FAILED'",
    "attributes.status != 'FINISHED'",
    "attributes.run_name = 'resnet-a'",
    "attributes.run_name LIKE 'bert%'",
    f"attributes.start_time >= {T0 + 3 * 60_000}",
    "tags.`mlflow.note` = 'run 4'",
]


@pytest.mark.parametrize("text", MLFLOW_FILTERS)
def test_filters_select_what_mlflow_selects(
    text: str, source: MlflowRestSource, client: MlflowClient, experiment_ids: list[str]
) -> None:
    want = {r.info.run_id for r in client.search_runs(experiment_ids, filter_string=text)}
    got = source.search(filter=text)
    assert set(got.ids) == want
    assert len(got) == len(want)


def acc(entry: Logged) -> float | None:
    return entry.summary("val/acc")


def above(value: float | None, bound: float) -> bool:
    return value is not None and not math.isnan(value) and value > bound


def below(value: float | None, bound: float) -> bool:
    return value is not None and not math.isnan(value) and value < bound


# Filters only labbook evaluates (or, not, parentheses), with the same logic in Python.
LABBOOK_FILTERS: list[tuple[str, Callable[[Logged], bool]]] = [
    (
        "params.optimizer = 'adam' or tags.stage = 'baseline'",
        lambda e: e.params["optimizer"] == "adam" or e.tags.get("stage") == "baseline",
    ),
    ("not (metrics.`val/acc` > 0.5)", lambda e: not above(acc(e), 0.5)),
    (
        "(params.batch = '32' or params.batch = '64') and not attributes.status = 'FAILED'",
        lambda e: e.params["batch"] in ("32", "64") and e.status != "FAILED",
    ),
    (
        "metrics.`val/acc` > 0.75 or metrics.`train/loss` < 0.2",
        lambda e: above(acc(e), 0.75) or below(e.summary("train/loss"), 0.2),
    ),
    (
        # An `and` whose plain half goes to the server, the `or` half evaluated here.
        "params.optimizer = 'adam' and (tags.stage = 'baseline' or metrics.`val/acc` > 0.75)",
        lambda e: (
            e.params["optimizer"] == "adam"
            and (e.tags.get("stage") == "baseline" or above(acc(e), 0.75))
        ),
    ),
    ("not tags.stage = 'sweep'", lambda e: e.tags.get("stage") != "sweep"),
    # Numbers against params compare as numbers in labbook ("3e-4" < 0.001).
    ("params.lr < 0.001", lambda e: float(e.params["lr"]) < 0.001),
]


@pytest.mark.parametrize(
    ("text", "predicate"), LABBOOK_FILTERS, ids=[t for t, _ in LABBOOK_FILTERS]
)
def test_filters_only_labbook_evaluates(
    text: str,
    predicate: Callable[[Logged], bool],
    source: MlflowRestSource,
    active: dict[str, Logged],
) -> None:
    want = {run_id for run_id, entry in active.items() if predicate(entry)}
    assert want and want != set(active)  # each filter selects something, not everything
    assert set(source.search(filter=text).ids) == want


ORDERS = [
    ["metrics.`val/acc` DESC"],
    ["metrics.`val/acc` ASC"],
    ["metrics.`train/loss`"],
    ["attributes.start_time ASC"],
    ["attributes.end_time DESC"],
    ["params.optimizer", "metrics.`val/acc` DESC"],
    ["tags.stage DESC"],
]


@pytest.mark.parametrize("order", ORDERS, ids=[" ".join(o) for o in ORDERS])
@pytest.mark.parametrize("limit", [None, 3])
def test_order_and_limit_match_mlflow(
    order: list[str],
    limit: int | None,
    source: MlflowRestSource,
    client: MlflowClient,
    experiment_ids: list[str],
) -> None:
    want = [
        r.info.run_id
        for r in client.search_runs(experiment_ids, order_by=order, max_results=limit or 1000)
    ]
    assert source.search(order_by=order, limit=limit).ids == want


def test_default_order_is_mlflows(
    source: MlflowRestSource, client: MlflowClient, experiment_ids: list[str]
) -> None:
    want = [r.info.run_id for r in client.search_runs(experiment_ids)]
    assert source.search().ids == want
    assert source.search(limit=2).ids == want[:2]


def test_order_by_numeric_params_sorts_as_numbers(
    source: MlflowRestSource, active: dict[str, Logged]
) -> None:
    # MLflow would sort these as text; labbook reads "3e-4" and "0.0001" as numbers.
    entries = sorted(active.values(), key=lambda e: -e.start_ms)  # the default order
    want = [e.id for e in sorted(entries, key=lambda e: float(e.params["lr"]))]
    assert source.search(order_by=["params.lr"]).ids == want
    assert source.search(order_by=["params.lr"], limit=2).ids == want[:2]


def test_filter_order_and_limit_together(
    source: MlflowRestSource, active: dict[str, Logged]
) -> None:
    text = "params.optimizer = 'adam' or tags.stage = 'baseline'"
    chosen = [
        e
        for e in active.values()
        if e.params["optimizer"] == "adam" or e.tags.get("stage") == "baseline"
    ]

    def rank(e: Logged) -> tuple[int, float, int]:
        value = acc(e)
        group = 2 if value is None else 1 if math.isnan(value) else 0
        return (group, -(value or 0.0) if group == 0 else 0.0, -e.start_ms)

    want = [e.id for e in sorted(chosen, key=rank)][:3]
    paged = MlflowRestSource(source.location, name="tracking", page_size=1)
    calls = count_calls(paged)
    assert paged.search(filter=text, order_by=["metrics.`val/acc` DESC"], limit=3).ids == want
    # The order went to the server, so paging stopped once three runs matched.
    assert calls.count(("POST", "runs/search")) < len(active)


def test_paging_reads_every_run(source: MlflowRestSource, active: dict[str, Logged]) -> None:
    paged = MlflowRestSource(source.location, name="tracking", page_size=2)
    calls = count_calls(paged)
    runs = paged.list_runs()
    assert calls.count(("POST", "runs/search")) >= 3
    assert [r.id for r in runs] == [r.id for r in source.list_runs()]
    assert len(runs) == len(active)


@pytest.mark.parametrize(
    ("text", "sent"),
    [
        (
            "params.optimizer = 'adam' and metrics.`val/acc` > 0.5",
            "params.optimizer = 'adam' AND metrics.`val/acc` > 0.5",
        ),
        (
            "params.optimizer = 'adam' and (tags.stage = 'x' or tags.team = 'y')",
            "params.optimizer = 'adam'",
        ),
        ("params.optimizer = 'adam' or tags.stage = 'baseline'", None),
    ],
)
def test_what_mlflow_can_evaluate_goes_to_the_server(
    text: str, sent: str | None, source: MlflowRestSource
) -> None:
    calls = count_calls(source)
    source.search(filter=text)
    searches = [body for body in calls.bodies if "experiment_ids" in body]
    assert [body.get("filter") for body in searches] == [sent]
    assert all(body["run_view_type"] == "ACTIVE_ONLY" for body in searches)


def test_bad_filter_fails_before_any_request(source: MlflowRestSource) -> None:
    calls = count_calls(source)
    with pytest.raises(QueryError):
        source.search(filter="params.lr = ")
    assert calls == []


# -- get by ID or prefix -----------------------------------------------------------------------


def test_get_by_id_and_prefix(source: MlflowRestSource, active: dict[str, Logged]) -> None:
    run_id = next(iter(active))
    assert source.get(run_id).id == run_id
    prefix = run_id[:8]
    assert sum(other.startswith(prefix) for other in active) == 1
    run = source.get(prefix)
    assert run.id == run_id
    assert run.params == active[run_id].params


def test_get_deleted_or_unknown_run_is_not_found(
    source: MlflowRestSource, logged: dict[str, Logged]
) -> None:
    deleted = next(e for e in logged.values() if e.deleted)
    with pytest.raises(RunNotFound, match="deleted"):
        source.get(deleted.id)
    with pytest.raises(RunNotFound):
        source.get("ffffffffffff")


# -- sampled series ----------------------------------------------------------------------------


def test_sampled_series_keep_first_and_last(
    source: MlflowRestSource, active: dict[str, Logged]
) -> None:
    runs = source.list_runs()
    sampled = source.read_sampled_series(runs, "val/acc", 10)
    assert set(sampled) == {r.id for r in runs}
    for run in runs:
        entry = active[run.id]
        series = sampled[run.id]
        if "val/acc" not in entry.points:
            assert len(series) == 0
            continue
        full = entry.sorted_points("val/acc")
        assert 2 <= len(series) <= 10
        assert series.steps[0] == full[0][0] and series.steps[-1] == full[-1][0]
        logged_at = {(step, ts): value for step, value, ts in full}
        for step, value, t in zip(series.steps, series.values, series.times, strict=True):
            assert same_floats(float(value), logged_at[(int(step), round(t * 1000))])


def test_sampled_series_batches_runs(
    source: MlflowRestSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = source.list_runs()
    monkeypatch.setattr(mlflow_rest, "BULK_MAX_RUNS", 3)
    calls = count_calls(source)
    sampled = source.read_sampled_series(runs, "train/loss", 5)
    assert calls.count(("GET", "metrics/get-history-bulk-interval")) == math.ceil(len(runs) / 3)
    assert all(1 <= len(s) <= 5 for s in sampled.values())


def test_sampled_series_step_range_and_large_budgets(
    source: MlflowRestSource, active: dict[str, Logged]
) -> None:
    runs = source.list_runs()
    ranged = source.read_sampled_series(runs, "train/loss", 4, start_step=10, end_step=20)
    for series in ranged.values():
        assert len(series) <= 4
        assert series.steps[0] == 10 and series.steps[-1] == 20
    # Above the server's 2500-point cap labbook reads full histories instead.
    everything = source.read_sampled_series(runs, "train/loss", 5000)
    for run in runs:
        np.testing.assert_array_equal(everything[run.id].values, run.series("train/loss").values)
    with pytest.raises(ValueError):
        source.read_sampled_series(runs, "train/loss", 0)


# -- transport: refusals, authentication, retries ----------------------------------------------


def test_refused_connection_is_reported_by_uri_within_the_timeout() -> None:
    port = free_port()  # nothing listens there
    source = MlflowRestSource(f"//127.0.0.1:{port}", timeout=2)
    started = time.monotonic()
    with pytest.raises(SourceError) as info:
        source.list_runs()
    elapsed = time.monotonic() - started
    assert elapsed < 2 + 1.5
    text = str(info.value)
    assert f"mlflow+http://127.0.0.1:{port}" in text
    assert "did not answer" in text and "connection refused" in text


class _FakeHandler(BaseHTTPRequestHandler):
    """Answers as its server's `answer(handler)` says; records each request."""

    server: _FakeServer

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append((self.command, self.path, dict(self.headers), body))
        status, payload = self.server.answer(self)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = _handle
    do_POST = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _FakeServer(ThreadingHTTPServer):
    def __init__(self, answer: Callable[[_FakeHandler], tuple[int, Any]]) -> None:
        super().__init__(("127.0.0.1", 0), _FakeHandler)
        self.answer = answer
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []

    @property
    def location(self) -> str:
        return f"//127.0.0.1:{self.server_address[1]}"


@pytest.fixture()
def serve() -> Iterator[Callable[[Callable[[_FakeHandler], tuple[int, Any]]], _FakeServer]]:
    servers: list[_FakeServer] = []

    def start(answer: Callable[[_FakeHandler], tuple[int, Any]]) -> _FakeServer:
        server = _FakeServer(answer)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture()
def fake_unauthorized_server(
    serve: Callable[[Callable[[_FakeHandler], tuple[int, Any]]], _FakeServer],
) -> _FakeServer:
    """Not MLflow: answers 401 to everything, echoing the credentials it was sent."""
    return serve(
        lambda h: (
            401,
            {"error_code": "UNAUTHENTICATED", "message": h.headers.get("Authorization")},
        )
    )


@pytest.mark.parametrize("style", ["token", "basic"])
def test_authentication_failure_names_the_variables_not_the_secret(
    style: str, fake_unauthorized_server: _FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "s3cret-Value-42"
    for name in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    if style == "token":
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", secret)
        sent = f"Bearer {secret}"
    else:
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "ana")
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", secret)
        sent = "Basic " + base64.b64encode(f"ana:{secret}".encode()).decode()
    source = MlflowRestSource(fake_unauthorized_server.location, name="tracking")
    with pytest.raises(SourceError) as info:
        source.search(experiment="vision")
    text = str(info.value)
    assert "authentication failed" in text
    assert source.uri in text
    assert "MLFLOW_TRACKING_TOKEN" in text and "MLFLOW_TRACKING_PASSWORD" in text
    assert secret not in text and base64.b64encode(f"ana:{secret}".encode()).decode() not in text
    assert secret not in repr(source)
    assert len(fake_unauthorized_server.seen) == 1  # refused credentials are not retried
    assert fake_unauthorized_server.seen[0][2]["Authorization"] == sent


def test_credentials_in_the_uri_are_refused_without_echoing_them() -> None:
    with pytest.raises(SourceError) as info:
        open_source("mlflow+http://ana:hunter2@127.0.0.1:5000")
    assert "hunter2" not in str(info.value)
    assert "MLFLOW_TRACKING_PASSWORD" in str(info.value)


CANNED_RUN = {
    "info": {
        "run_id": "0123456789abcdef0123456789abcdef",
        "experiment_id": "0",
        "run_name": "canned",
        "status": "FINISHED",
        "start_time": T0,
        "end_time": T0 + 1000,
        "lifecycle_stage": "active",
    },
    "data": {
        "metrics": [{"key": "acc", "value": "NaN", "timestamp": T0, "step": 3}],
        "params": [{"key": "lr", "value": "0.1"}],
        "tags": [{"key": "mlflow.runName", "value": "canned"}],
    },
}


@pytest.fixture()
def fake_flaky_server(
    serve: Callable[[Callable[[_FakeHandler], tuple[int, Any]]], _FakeServer],
) -> _FakeServer:
    """Not MLflow: answers 503 to the first two requests, then canned MLflow-shaped JSON."""
    count = [0]

    def answer(handler: _FakeHandler) -> tuple[int, Any]:
        count[0] += 1
        if count[0] <= 2:
            return 503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"}
        if "experiments/search" in handler.path:
            return 200, {"experiments": [{"experiment_id": "0", "name": "Default"}]}
        return 200, {"runs": [CANNED_RUN]}

    return serve(answer)


def test_5xx_answers_are_retried_with_backoff(fake_flaky_server: _FakeServer) -> None:
    source = MlflowRestSource(fake_flaky_server.location, name="flaky", timeout=10)
    started = time.monotonic()
    runs = source.list_runs()
    assert time.monotonic() - started >= 0.2 + 0.4  # two backoff pauses
    assert [r.name for r in runs] == ["canned"]
    assert math.isnan(float(runs[0].summary["acc"]))  # type: ignore[arg-type]
    assert runs[0].experiment == "Default"
    assert len(fake_flaky_server.seen) == 4  # 503, 503, experiments/search, runs/search


def test_a_server_that_keeps_failing_is_reported_within_the_timeout(
    serve: Callable[[Callable[[_FakeHandler], tuple[int, Any]]], _FakeServer],
) -> None:
    server = serve(lambda h: (503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"}))
    source = MlflowRestSource(server.location, timeout=1)
    started = time.monotonic()
    with pytest.raises(SourceError, match="did not answer within 1 s") as info:
        source.list_runs()
    assert time.monotonic() - started < 1 + 1.0
    assert "HTTP 503" in str(info.value) and source.uri in str(info.value)
    assert len(server.seen) >= 3


def test_a_filter_the_server_rejects_is_evaluated_here(
    serve: Callable[[Callable[[_FakeHandler], tuple[int, Any]]], _FakeServer],
) -> None:
    """Not MLflow: a stand-in for an older server that rejects filters labbook would send."""

    def answer(handler: _FakeHandler) -> tuple[int, Any]:
        body = json.loads(handler.server.seen[-1][3] or b"{}")
        if "experiments/search" in handler.path:
            return 200, {"experiments": [{"experiment_id": "0", "name": "Default"}]}
        if "filter" in body or "order_by" in body:
            return 400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "bad filter"}
        return 200, {"runs": [CANNED_RUN]}

    server = serve(answer)
    source = MlflowRestSource(server.location)
    assert [r.name for r in source.search(filter="params.lr = '0.1'")] == ["canned"]
    assert len(source.search(filter="params.lr = '0.2'", order_by=["metrics.acc"])) == 0


def test_https_scheme_and_bad_locations() -> None:
    secure = open_source("mlflow+https://mlflow.example.org/prefix/")
    assert isinstance(secure, MlflowHttpsSource)
    assert secure.base_url == "https://mlflow.example.org/prefix"
    assert secure.uri == "mlflow+https://mlflow.example.org/prefix/"
    with pytest.raises(SourceError, match="no host"):
        MlflowRestSource("nothing-here")


# -- artifacts -------------------------------------------------------------------------------


@pytest.mark.parametrize("server", ["mlflow_server", "proxied_server"])
def test_artifacts_are_listed_and_read_through_the_server(
    server: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = request.getfixturevalue(server)
    client = MlflowClient(tracking_uri=url)
    experiment = client.create_experiment(f"media-{server}")
    run = client.create_run(experiment, run_name="with-images")
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "confusion.png").write_bytes(PNG)
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    client.log_artifact(run.info.run_id, str(tmp_path / "plots" / "confusion.png"), "plots")
    client.log_artifact(run.info.run_id, str(tmp_path / "notes.txt"))
    client.set_terminated(run.info.run_id)

    source = open_source("mlflow+" + url, name="tracking")
    [found] = source.search(experiment=f"media-{server}")
    assert source.list_artifacts(found) == ["notes.txt", "plots/confusion.png"]
    assert source.read_artifact(found, "plots/confusion.png") == PNG
    assert source.read_artifact(found, "notes.txt") == b"hello"
    with pytest.raises(RunDataError, match=r"has no artifact 'plots/nope.png'"):
        source.read_artifact(found, "plots/nope.png")


def test_the_run_cache_reads_a_finished_runs_history_once_until_it_logs_again(
    mlflow_server: str, client: MlflowClient, tmp_path: Path
) -> None:
    from labbook.sources.cached import CachedSource

    experiment = client.create_experiment("cached-history")
    run_id = client.create_run(experiment, run_name="cached-a").info.run_id
    client.log_batch(run_id, metrics=[Metric("loss", 1.0 / (s + 1), T0 + s, s) for s in range(5)])
    client.set_terminated(run_id, "FINISHED")

    def build() -> tuple[list[float], Recorder]:
        """One build's reads: a fresh source and cache object, the cache folder kept."""
        live = open_source("mlflow+" + mlflow_server, name="tracking")
        assert isinstance(live, MlflowRestSource)
        calls = count_calls(live)
        cached = CachedSource(live, tmp_path / "cache")
        [run] = list(cached.search(experiment="cached-history"))
        values = run.series("loss").values.tolist()
        cached.flush()
        return values, calls

    def history_calls(calls: Recorder) -> list[tuple[str, str]]:
        return [c for c in calls if "history" in c[1]]

    values, calls = build()
    assert values == [1.0, 0.5, 1 / 3, 0.25, 0.2] and history_calls(calls)
    values, calls = build()
    # A server has no file to fingerprint: it is listed again, but the finished run's
    # history comes from the cache.
    assert values == [1.0, 0.5, 1 / 3, 0.25, 0.2]
    assert calls and not history_calls(calls), calls
    # The same value again at a later step: the summary is unchanged, its step is not.
    client.log_metric(run_id, "loss", 0.2, timestamp=T0 + 10, step=5)
    values, calls = build()
    assert values == [1.0, 0.5, 1 / 3, 0.25, 0.2, 0.2] and history_calls(calls)
