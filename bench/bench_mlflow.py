"""Times labbook's MLflow sources against MLflow's own client, each in a fresh process.

Builds once (cached in the system temp dir, keyed by size; `--fresh` rebuilds) a file store
and a SQLite store of `--runs` runs x `--metrics` metrics x `--steps` steps, each written by
the real mlflow library in a subprocess (`log_batch`, 1,000 points a call;
MLFLOW_ALLOW_FILE_STORE=true for the file store). Each run also has 3 params and a tag.

Every reader is a script run as its own Python process, timed from the parent end to end
(interpreter start, imports, reading, exit), as a user's script or notebook pays it:

  labbook            import labbook; open_source(uri); search(experiment=...); then
                     run.series(key) for every run and key (SPEC section 11)
  MlflowClient       search_runs (paged) + get_metric_history for every run and key
  raw bytes (file)   every file under the store read into memory, nothing parsed
  raw rows (SQLite)  SELECT * FROM metrics into Python tuples (sqlite3, nothing mapped)

Each is timed warm (the store's files in the page cache) and cold-ish (the store's file
pages dropped with posix_fadvise(DONTNEED) just before; Python's own files stay cached).
The processes get a bytecode cache (PYTHONPYCACHEPREFIX in the data folder, filled by one
untimed run of each reader), as an installed environment has; without it every process
would compile its imports (mlflow's many modules most of all). Rounds are interleaved;
the table shows the best of the rounds, the one least disturbed by whatever else the
machine runs (timeit's advice). Before timing, every value of every run and key that
labbook reads from the file store is checked equal to MlflowClient's (steps, timestamps,
values, summaries); for the SQLite store the first and last run are.

Through a local `mlflow server` (a subprocess on 127.0.0.1, `--backend-store-uri` a copy
of the SQLite store, `--workers 2`; `--skip-server` leaves it out), in this process:
labbook's REST source (search(), then read_many() over all runs, then run.series)
against MlflowClient's per-run loop on the same server, the server's own CPU time (its
process group, from /proc) beside the client's.

    uv run python bench/bench_mlflow.py [--runs 300] [--metrics 5] [--steps 1000]
        [--repeat 3] [--data DIR] [--fresh] [--skip-server] [--only file,sqlite,server]
        [--sqlite-client]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from labbook.sources import open_source

KEYS = ["train/loss", "val/loss", "val/acc", "lr", "grad_norm"]
EXPERIMENT = "bench"  # the experiment the writer creates
SERVER_START_TIMEOUT = 120.0
MLFLOW_ENV = {
    "MLFLOW_ALLOW_FILE_STORE": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    # MLflow 3's server otherwise starts a job runner and huey consumers (GenAI jobs) that
    # keep more than a core busy while idle; tracking does not use them.
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
}

WRITER = r"""
import sys, time
import numpy as np
from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient

uri, artifacts, runs, metrics, steps = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
keys = ["train/loss", "val/loss", "val/acc", "lr", "grad_norm"]
keys += [f"extra/m{i}" for i in range(len(keys), metrics)]
start = time.time()
client = MlflowClient(tracking_uri=uri)
experiment = client.create_experiment("bench", artifact_location=artifacts)
rng = np.random.default_rng(0)
t0 = 1_793_613_600_000
for i in range(runs):
    begin = t0 + i * 3_600_000
    run_id = client.create_run(experiment, start_time=begin, run_name=f"run-{i:04d}").info.run_id
    client.log_batch(
        run_id,
        params=[Param("lr", repr(0.1 * (i % 7 + 1))), Param("seed", str(i)), Param("opt", "adam")],
        tags=[RunTag("stage", "bench")],
    )
    x = np.arange(steps)
    stamps = (begin + x * 37).tolist()
    for k, key in enumerate(keys[:metrics]):
        # A decaying, noisy curve: full-precision floats, as training logs them.
        values = (np.exp(-x / (200 + 50 * k)) + 0.05 * rng.random(steps)).tolist()
        for lo in range(0, steps, 1000):
            client.log_batch(
                run_id,
                metrics=[
                    Metric(key, values[s], stamps[s], s) for s in range(lo, min(lo + 1000, steps))
                ],
            )
    client.set_terminated(run_id, "FINISHED", end_time=begin + steps * 37)
    if i % 50 == 49:
        print(f"  {i + 1} runs, {time.time() - start:.0f} s", file=sys.stderr, flush=True)
print(f"{time.time() - start:.1f}")
"""


# -- the stores -------------------------------------------------------------------------------


def mlflow_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(MLFLOW_ENV)
    return env


def build(uri: str, artifacts: Path, args: argparse.Namespace) -> float:
    """Writes a store with the real mlflow library in a subprocess; gives the seconds it took."""
    done = subprocess.run(
        [sys.executable, "-c", WRITER, uri, artifacts.as_uri(), *map(str, stores_size(args))],
        env=mlflow_env(),
        check=True,
        stdout=subprocess.PIPE,
        text=True,
        timeout=7200,
    )
    return float(done.stdout.strip().splitlines()[-1])


def stores_size(args: argparse.Namespace) -> tuple[int, int, int]:
    return args.runs, args.metrics, args.steps


def ensure_stores(args: argparse.Namespace) -> tuple[Path, Path]:
    """Gives (file store folder, SQLite file), built unless a complete earlier build is there."""
    size = "x".join(map(str, stores_size(args)))
    root: Path = args.data or Path(tempfile.gettempdir()) / f"labbook-bench-mlflow-{size}"
    mlruns, db, done = root / "file" / "mlruns", root / "sqlite" / "mlflow.db", root / "done"
    if args.fresh or not done.is_file():
        if root.exists():
            shutil.rmtree(root)
        (root / "sqlite").mkdir(parents=True)
        for kind, uri in (("file", f"file:{mlruns}"), ("SQLite", f"sqlite:///{db}")):
            print(f"writing the {kind} store with mlflow into {root} …", file=sys.stderr)
            seconds = build(uri, root / kind.lower() / "artifacts", args)
            print(f"  written in {seconds:.0f} s", file=sys.stderr)
        done.write_text(size + "\n")
    return mlruns, db


# -- readers ----------------------------------------------------------------------------------


def labbook_load(uri: str) -> int:
    """Gives the points read by labbook's API: every run, every key's full series."""
    source = open_source(uri)
    runs = source.search()
    source.read_many(list(runs))  # every source has it; the REST one reads in parallel bulk
    return sum(len(run.series(key)) for run in runs for key in run.metric_keys())


def mlflow_load(uri: str) -> int:
    """Gives the points read by MLflow's client: search_runs (paged) + get_metric_history."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    runs = search_all(client, [e.experiment_id for e in client.search_experiments()])
    return sum(
        len(client.get_metric_history(run.info.run_id, key))
        for run in runs
        for key in run.data.metrics
    )


def check_cached_reads(uri: str, folder: Path) -> None:
    """Checks a read from the run cache gives every point the store gives, exactly."""
    import numpy as np

    import labbook

    for attempt in ("writes the cache", "reads it"):
        live = {r.id: r for r in open_source(uri).search(experiment=EXPERIMENT)}
        cached = labbook.open_source(uri, cache=folder)
        runs = cached.search(experiment=EXPERIMENT)
        assert sorted(live) == sorted(r.id for r in runs), attempt
        for run in runs:
            assert run.summary == live[run.id].summary, (attempt, run.id)
            for key in run.metric_keys():
                got, want = run.series(key), live[run.id].series(key)
                for name in ("steps", "values", "times"):
                    np.testing.assert_array_equal(getattr(got, name), getattr(want, name))
        cached.close()
        if attempt == "reads it":
            running = sum(1 for r in runs if (r.status or "").lower() == "running")
            assert cached.misses == 0 or running, cached.misses
    print(f"  {uri}: a read from the run cache equals the store's, every point", file=sys.stderr)


def check_every_value(mlruns: Path) -> int:
    """Checks every point and summary labbook reads from the file store equal MlflowClient's.

    Gives the number of points compared. Steps, timestamps (ms) and values must be equal
    as numbers (NaN equal to NaN), in MLflow's order (step, then timestamp).
    """
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"file:{mlruns}")
    experiment = client.get_experiment_by_name(EXPERIMENT)
    assert experiment is not None
    theirs = {r.info.run_id: r for r in search_all(client, [experiment.experiment_id])}
    ours = list(open_source(f"mlflow+file:{mlruns}").search(experiment=EXPERIMENT))
    assert sorted(theirs) == sorted(r.id for r in ours)
    compared = 0
    for run in ours:
        assert run.metric_keys() == sorted(theirs[run.id].data.metrics), run.id
        for key in run.metric_keys():
            history = sorted(
                client.get_metric_history(run.id, key), key=lambda m: (m.step, m.timestamp)
            )
            series = run.series(key)
            assert series.steps.tolist() == [m.step for m in history], (run.id, key)
            np.testing.assert_array_equal(series.values, [m.value for m in history])
            stamps = np.round(series.times * 1000).astype(np.int64).tolist()
            assert stamps == [m.timestamp for m in history], (run.id, key)
            want = theirs[run.id].data.metrics[key]
            assert run.summary[key] == want or (
                want != want and run.summary[key] != run.summary[key]
            )
            compared += len(history)
    return compared


def check_same_series(labbook_uri: str, mlflow_uri: str) -> None:
    """Checks labbook's series equal MlflowClient's for the first and last run of the store."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_uri)
    runs = list(open_source(labbook_uri).search())
    for run in (runs[0], runs[-1]):
        assert run.metric_keys() == sorted(KEYS), run.metric_keys()
        for key in run.metric_keys():
            history = sorted(
                client.get_metric_history(run.id, key), key=lambda m: (m.step, m.timestamp)
            )
            series = run.series(key)
            assert series.steps.tolist() == [m.step for m in history], (run.id, key)
            assert series.values.tolist() == [m.value for m in history], (run.id, key)
            stamps = np.round(series.times * 1000).astype(np.int64).tolist()
            assert stamps == [m.timestamp for m in history], (run.id, key)
            assert run.summary[key] == client.get_run(run.id).data.metrics[key], (run.id, key)


def search_all(client: Any, experiment_ids: list[str]) -> list[Any]:
    """Gives every run of the experiments, through MlflowClient.search_runs' pages."""
    runs: list[Any] = []
    token = None
    while True:
        page = client.search_runs(experiment_ids, max_results=1000, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            return runs


# -- readers in fresh processes -----------------------------------------------------------

# Each prints the points (or bytes, or rows) it read; argv: URI (or path), experiment name.
LABBOOK_SCRIPT = r"""
import sys
import labbook

# The third argument: "off" reads the store; otherwise the run cache folder to use.
source = labbook.open_source(sys.argv[1], cache=False if sys.argv[3] == "off" else sys.argv[3])
runs = source.search(experiment=sys.argv[2])
print(sum(len(run.series(key)) for run in runs for key in run.metric_keys()))
"""

MLFLOW_SCRIPT = r"""
import sys
from mlflow.tracking import MlflowClient

client = MlflowClient(tracking_uri=sys.argv[1])
experiment = client.get_experiment_by_name(sys.argv[2]).experiment_id
runs, token = [], None
while True:
    page = client.search_runs([experiment], max_results=1000, page_token=token)
    runs.extend(page)
    token = page.token
    if not token:
        break
print(sum(
    len(client.get_metric_history(run.info.run_id, key))
    for run in runs
    for key in run.data.metrics
))
"""

RAW_FILES_SCRIPT = r"""
import os, sys

total = 0
for folder, _, files in os.walk(sys.argv[1]):
    for name in files:
        with open(os.path.join(folder, name), "rb") as file:
            total += len(file.read())
print(total)
"""

RAW_ROWS_SCRIPT = r"""
import sqlite3, sys

conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
print(len(conn.execute("SELECT * FROM metrics").fetchall()))
"""


def reader_env(cache: Path) -> dict[str, str]:
    """Gives the readers' environment: MLflow's settings and a bytecode cache of their own."""
    env = mlflow_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def drop_from_page_cache(paths: list[Path]) -> None:
    """Asks the kernel to drop the files' cached pages (clean ones go; nothing is written)."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


@dataclass
class FreshRow:
    """One reader run as `python -c SCRIPT ARGS…`, timed warm and cold-ish."""

    store: str
    reader: str
    script: str
    args: list[str]
    files: list[Path]  # what "cold" drops from the page cache
    env: dict[str, str]
    goal: str = ""
    expect: int | None = None
    versus: FreshRow | None = (
        None  # the goal compares this row with that one, not the group's first
    )
    times: dict[str, list[float]] = field(default_factory=lambda: {"warm": [], "cold": []})
    cpu: dict[str, list[float]] = field(default_factory=lambda: {"warm": [], "cold": []})

    def call(self) -> int:
        done = subprocess.run(
            [sys.executable, "-c", self.script, *self.args],
            env=self.env,
            check=True,
            stdout=subprocess.PIPE,
            text=True,
            timeout=3600,
        )
        result = int(done.stdout.strip().splitlines()[-1])
        if self.expect is not None:
            assert result == self.expect, (self.store, self.reader, result, self.expect)
        return result

    def run(self, mode: str) -> None:
        if mode == "cold":
            drop_from_page_cache(self.files)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        self.call()
        self.times[mode].append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        self.cpu[mode].append(cpu)
        print(
            f"  {self.store} / {self.reader} ({mode}): {self.times[mode][-1]:.3f} s, "
            f"CPU {cpu:.3f} s",
            file=sys.stderr,
            flush=True,
        )


def print_fresh_table(groups: list[list[FreshRow]], repeat: int) -> None:
    print(
        f"\nfresh processes, best of {repeat}; CPU = user + system time of the process; "
        "cold = the store's pages dropped from the page cache first\n"
    )
    print(
        "| store | reader | warm s | warm CPU s | cold s | cold CPU s | × labbook (warm) "
        "| × labbook (warm CPU) | × labbook (cold) | goal (on warm wall time) |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for rows in groups:
        base = rows[0]
        base_warm, base_cold = best(base.times["warm"]), best(base.times["cold"])
        base_cpu = best(base.cpu["warm"])
        for row in rows:
            warm, cold = best(row.times["warm"]), best(row.times["cold"])
            cpu = best(row.cpu["warm"])
            if row.versus is not None:
                ratios = (
                    f"{warm / base_warm:.2f}×",
                    f"{cpu / base_cpu:.2f}×",
                    f"{cold / base_cold:.2f}×",
                )
                other = best(row.versus.times["warm"])
                if row.goal.startswith(">="):
                    ratio, said = other / warm, f"{row.versus.reader} {other / warm:.2f}× this"
                else:
                    ratio, said = warm / other, f"{warm / other:.2f}× {row.versus.reader}"
                goal = f"{said}, {verdict(row.goal, ratio)}"
            elif row is base:
                ratios, goal = ("1×", "1×", "1×"), ""
            else:
                ratios = (
                    f"{warm / base_warm:.2f}×",
                    f"{cpu / base_cpu:.2f}×",
                    f"{cold / base_cold:.2f}×",
                )
                if row.goal.startswith("<="):
                    # A floor: the goal bounds labbook's time over this row's.
                    goal = f"labbook {base_warm / warm:.2f}× this, " + verdict(
                        row.goal, base_warm / warm
                    )
                else:
                    goal = verdict(row.goal, warm / base_warm)
            print(
                f"| {row.store} | {row.reader} | {warm:.3f} | {cpu:.3f} | {cold:.3f} "
                f"| {best(row.cpu['cold']):.3f} | {ratios[0]} | {ratios[1]} | {ratios[2]} "
                f"| {goal} |"
            )


# -- the server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def cpu_seconds(self) -> float:
        """Gives the CPU time of every process in the server's session (reaped children too)."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[3]) == self.process.pid:  # the session ID (start_new_session)
                total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
        return total / tick


def start_server(db: Path, folder: Path) -> Server:
    """Starts `mlflow server` on a copy of the SQLite store; gives it once /health answers."""
    copy = folder / "mlflow.db"
    shutil.copy2(db, copy)
    port = free_port()
    script = Path(sys.executable).parent / "mlflow"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "mlflow"]
    log = folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                *command,
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--backend-store-uri",
                f"sqlite:///{copy}",
                "--default-artifact-root",
                str(folder / "artifacts"),
                "--workers",
                "2",
            ],
            cwd=folder,
            env=mlflow_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping it stops its workers
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"mlflow server exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{server.url}/health", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_server(server)
            raise RuntimeError(f"mlflow server did not answer /health in {SERVER_START_TIMEOUT} s")
        time.sleep(0.5)


def stop_server(server: Server) -> None:
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(server.process.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


# -- timing -----------------------------------------------------------------------------------


@dataclass
class Row:
    store: str
    reader: str
    call: Callable[[], int]
    goal: str = ""
    server: Server | None = None
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    server_cpu: list[float] = field(default_factory=list)
    result: int = 0

    def run(self) -> None:
        server_before = self.server.cpu_seconds() if self.server else 0.0
        wall, cpu = time.perf_counter(), time.process_time()
        self.result = self.call()
        self.wall.append(time.perf_counter() - wall)
        self.cpu.append(time.process_time() - cpu)
        if self.server:
            self.server_cpu.append(self.server.cpu_seconds() - server_before)
        print(
            f"  {self.store} / {self.reader}: {self.wall[-1]:.3f} s, CPU {self.cpu[-1]:.3f} s",
            file=sys.stderr,
            flush=True,
        )


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def best(values: list[float]) -> float:
    return min(values) if values else float("nan")


def verdict(goal: str, ratio: float) -> str:
    """Gives `goal: met/not met` for a goal written as '>=N' (others N times slower) or '<=N'."""
    if not goal:
        return ""
    target = float(goal[2:])
    met = ratio >= target if goal.startswith(">=") else ratio <= target
    shown = ("≥" if goal.startswith(">=") else "≤") + f"{target:g}×"
    return f"{shown}: {'met' if met else 'not met'}"


def print_table(groups: list[list[Row]], repeat: int) -> None:
    print(f"\nmedians of {repeat}; CPU = time.process_time() of this process\n")
    print(
        "| store | reader | median s | CPU s | server CPU s "
        "| × labbook (wall) | × labbook (CPU) | goal (on wall time) |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for rows in groups:
        base = rows[0]
        base_wall, base_cpu = median(base.wall), median(base.cpu)
        for row in rows:
            wall, cpu = median(row.wall), median(row.cpu)
            server = f"{median(row.server_cpu):.2f}" if row.server else ""
            if row is base:
                ratios, goal = ("1×", "1×"), ""
            else:
                ratios = (f"{wall / base_wall:.2f}×", f"{cpu / base_cpu:.2f}×")
                if row.goal.startswith("<="):
                    # A floor: the goal bounds labbook's time over this row's.
                    goal = verdict(row.goal, base_wall / wall)
                    goal = f"labbook {base_wall / wall:.1f}× this, " + goal
                else:
                    goal = verdict(row.goal, wall / base_wall)
            print(
                f"| {row.store} | {row.reader} | {wall:.3f} | {cpu:.3f} | {server} "
                f"| {ratios[0]} | {ratios[1]} | {goal} |"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--metrics", type=int, default=5)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, help="where the stores are kept (default: temp dir)")
    parser.add_argument("--fresh", action="store_true", help="rebuild the stores")
    parser.add_argument("--skip-server", action="store_true", help="leave out mlflow server")
    parser.add_argument("--only", default="file,sqlite,server", help="which of file,sqlite,server")
    parser.add_argument(
        "--sqlite-client",
        action="store_true",
        help="time MlflowClient on the SQLite store too (about a minute a run)",
    )
    args = parser.parse_args(argv)
    if args.metrics != len(KEYS):
        KEYS[:] = (KEYS + [f"extra/m{i}" for i in range(len(KEYS), args.metrics)])[: args.metrics]
    only = set(args.only.split(","))
    if args.skip_server:
        only.discard("server")

    os.environ.update(MLFLOW_ENV)
    mlruns, db = ensure_stores(args)
    files = [p for p in mlruns.rglob("*") if p.is_file()]
    print(
        f"file store {mlruns}: {len(files):,} files, "
        f"{sum(p.stat().st_size for p in files) / 1e6:.1f} MB; "
        f"SQLite {db}: {db.stat().st_size / 1e6:.1f} MB",
        file=sys.stderr,
    )
    points = args.runs * args.metrics * args.steps
    env = reader_env(mlruns.parent.parent / "pycache")

    fresh: list[list[FreshRow]] = []
    if "file" in only:
        print("checking every value labbook reads against MlflowClient …", file=sys.stderr)
        compared = check_every_value(mlruns)
        assert compared == points, (compared, points)
        print(f"  {compared:,} points and every summary equal", file=sys.stderr)
        cache_dir = Path(tempfile.mkdtemp(prefix="labbook-bench-runcache-"))
        check_cached_reads(f"mlflow:{mlruns}", cache_dir / "check")
        first = FreshRow(
            "file",
            "labbook, first read (`cache=False`)",
            LABBOOK_SCRIPT,
            [f"mlflow:{mlruns}", EXPERIMENT, "off"],
            files,
            env,
            expect=points,
        )
        client = FreshRow(
            "file",
            "MlflowClient",
            MLFLOW_SCRIPT,
            [f"file:{mlruns}", EXPERIMENT],
            files,
            env,
            goal=">=20",
            expect=points,
        )
        fresh.append(
            [
                first,
                client,
                FreshRow(
                    "file",
                    "raw bytes (every file read)",
                    RAW_FILES_SCRIPT,
                    [str(mlruns)],
                    files,
                    env,
                    goal="<=3",
                ),
                FreshRow(
                    "file",
                    "labbook, again (the run cache an earlier process wrote)",
                    LABBOOK_SCRIPT,
                    [f"mlflow:{mlruns}", EXPERIMENT, str(cache_dir / "file")],
                    files,
                    env,
                    goal=">=20",
                    expect=points,
                    versus=client,
                ),
            ]
        )
    if "sqlite" in only:
        check_same_series(f"mlflow+sqlite:///{db}", f"sqlite:///{db}")
        cache_dir = Path(tempfile.mkdtemp(prefix="labbook-bench-runcache-"))
        check_cached_reads(f"mlflow+sqlite:///{db}", cache_dir / "check")
        raw = FreshRow(
            "SQLite",
            "raw rows (SELECT * FROM metrics)",
            RAW_ROWS_SCRIPT,
            [str(db)],
            [db],
            env,
            goal="<=1.35",
            expect=points,
        )
        sqlite_rows = [
            FreshRow(
                "SQLite",
                "labbook, first read (`cache=False`)",
                LABBOOK_SCRIPT,
                [f"mlflow+sqlite:///{db}", EXPERIMENT, "off"],
                [db],
                env,
                expect=points,
            ),
            raw,
            FreshRow(
                "SQLite",
                "labbook, again (the run cache an earlier process wrote)",
                LABBOOK_SCRIPT,
                [f"mlflow+sqlite:///{db}", EXPERIMENT, str(cache_dir / "sqlite")],
                [db],
                env,
                goal="<=1.35",
                expect=points,
                versus=raw,
            ),
        ]
        if args.sqlite_client:
            sqlite_rows.append(
                FreshRow(
                    "SQLite",
                    "MlflowClient",
                    MLFLOW_SCRIPT,
                    [f"sqlite:///{db}", EXPERIMENT],
                    [db],
                    env,
                    goal=">=20",
                    expect=points,
                )
            )
        fresh.append(sqlite_rows)
    # One untimed run of each: fills the bytecode cache and the page cache.
    for rows in fresh:
        for row in rows:
            row.call()
            if row.args[-1] not in ("off", EXPERIMENT) and Path(row.args[-1]).is_dir():
                # The run cache is written now; "cold" drops its pages too.
                row.files = [*row.files, *(p for p in Path(row.args[-1]).rglob("*") if p.is_file())]
    for round_ in range(args.repeat):
        print(f"round {round_ + 1} of {args.repeat}", file=sys.stderr)
        for rows in fresh:
            for row in rows:
                row.run("cold")
                row.run("warm")

    groups: list[list[Row]] = []
    server: Server | None = None
    folder = Path(tempfile.mkdtemp(prefix="labbook-bench-mlflow-server-"))
    try:
        if "server" in only:
            try:
                import labbook.sources.mlflow_rest  # noqa: F401
            except ImportError as exc:
                print(f"server rows left out: labbook's REST source: {exc}", file=sys.stderr)
            else:
                import mlflow.tracking  # noqa: F401 - imported once, before timing

                start = time.perf_counter()
                server = start_server(db, folder)
                print(
                    f"mlflow server {server.url} up in {time.perf_counter() - start:.1f} s",
                    file=sys.stderr,
                )
                url = server.url
                check_same_series(f"mlflow+{url}", url)
                groups.append(
                    [
                        Row("server", "labbook REST", lambda: labbook_load(f"mlflow+{url}")),
                        Row("server", "MlflowClient", lambda: mlflow_load(url), ">=5"),
                    ]
                )
                for row in groups[-1]:
                    row.server = server
                # One untimed read by labbook: imports, numpy's first calls.
                groups[-1][0].call()
                for round_ in range(args.repeat):
                    print(f"server round {round_ + 1} of {args.repeat}", file=sys.stderr)
                    for row in groups[-1]:
                        row.run()
    finally:
        if server is not None:
            stop_server(server)
        shutil.rmtree(folder, ignore_errors=True)

    for rows in groups:
        for row in rows:
            assert row.result == points, (row.store, row.reader, row.result, points)
    print(
        f"{args.runs} runs x {args.metrics} metrics x {args.steps:,} steps = {points:,} points; "
        f"file store {len(files):,} files, {sum(p.stat().st_size for p in files) / 1e6:.1f} MB; "
        f"SQLite store {db.stat().st_size / 1e6:.1f} MB"
    )
    if fresh:
        print_fresh_table(fresh, args.repeat)
    if groups:
        print_table(groups, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
