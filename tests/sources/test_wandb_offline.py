"""WandbOfflineSource: run folders written by the real wandb SDK in offline mode.

The runs are written once per session, each by the SDK in its own subprocess (so the
SDK's wandb-core service ends with it). Nothing may reach the network: the SDK runs
with WANDB_MODE=offline, its folders in a temporary directory, error reporting off,
and a base URL and proxies that point at a closed local port.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labbook.errors import RunDataError, SourceError
from labbook.formats.wandb_log import BLOCK_SIZE, LogReader
from labbook.model import Run
from labbook.sources import open_source
from labbook.sources.wandb_common import offline_sdk_environment
from labbook.sources.wandb_offline import WandbOfflineSource
from tests.skips import skip_or_fail

try:
    import wandb  # noqa: F401 - the real SDK writes the runs these tests read
except ImportError:
    skip_or_fail("the wandb SDK is not installed (uv sync installs it with the dev group)")

GIT_COMMIT = "0123456789abcdef0123456789abcdef01234567"
HOST = "labbook-test-host"

FINISHED_SCRIPT = r"""
import json, math, sys, time
import wandb

record = {"history": [], "start": time.time(), "image": False}
try:
    import numpy as np
    import PIL  # noqa: F401 - wandb.Image needs it
    image = wandb.Image(np.zeros((4, 4, 3), dtype=np.uint8))
except ImportError:
    image = None
run = wandb.init(
    project="vision",
    name="resnet-adam",
    config={"optimizer": {"name": "adam", "lr": 0.001}, "epochs": 3},
    tags=["baseline", "adam"],
    notes="first try",
    group="sweep-1",
    job_type="train",
)
run.config.update({"data": {"augment": True}})
for i in range(320):
    step = 5 * i
    row = {"train/loss": 1.0 / (i + 1), "lr": 0.001 * 0.99 ** i,
           "phase": "warmup" if i < 10 else "main"}
    if i % 10 == 0:
        row["val"] = {"acc": i / 320, "loss": 2.0 / (i + 1)}
    if i == 7:
        row["train/loss"] = math.nan
    if i == 8:
        row["lr"] = math.inf
    if i == 0 and image is not None:
        run.log({**row, "samples": image}, step=step)
        record["image"] = True
    else:
        run.log(row, step=step)
    record["history"].append({"step": step, "row": row})
run.summary["best_acc"] = 0.97
run.summary["nested"] = {"x": 1.5}
record["id"] = run.id
run.finish()
record["end"] = time.time()
with open(sys.argv[1], "w") as f:
    json.dump(record, f)
"""

FAILED_SCRIPT = r"""
import json, sys
import wandb

run = wandb.init(project="nlp", name="diverged", config={"lr": 10.0})
for i in range(5):
    run.log({"loss": float(i)})
record = {"id": run.id}
run.finish(exit_code=3)
with open(sys.argv[1], "w") as f:
    json.dump(record, f)
"""

# Logs until killed. First prints its run ID and the PIDs of its own children (the
# wandb-core service), so the test can wait for exactly those processes to end.
CRASH_SCRIPT = r"""
import json, os, time
import wandb

run = wandb.init(project="vision", name="crashy", config={"seed": 1})
me = os.getpid()
children = []
for entry in os.listdir("/proc"):
    if entry.isdigit():
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == me:
            children.append(int(entry))
print(json.dumps({"id": run.id, "children": children}), flush=True)
i = 0
while True:
    run.log({"loss": 1.0 / (i + 1), "i": float(i)})
    i += 1
    if i % 50 == 0:
        time.sleep(0.01)
"""


@dataclass
class WandbRuns:
    """The runs the session wrote: where they are and what was logged."""

    root: Path  # WANDB_DIR: holds wandb/
    finished: dict[str, Any]
    failed: dict[str, Any]
    crashed_id: str

    @property
    def wandb_dir(self) -> Path:
        return self.root / "wandb"

    def folder(self, run_id: str) -> Path:
        return next(self.wandb_dir.glob(f"offline-run-*-{run_id}"))

    def log(self, run_id: str) -> Path:
        return self.folder(run_id) / f"run-{run_id}.wandb"


def sdk_env(root: Path) -> dict[str, str]:
    """Gives the environment the SDK runs in: offline, local folders, nothing to call home."""
    return offline_sdk_environment(
        root, WANDB__DISABLE_STATS="true", WANDB_GIT_COMMIT=GIT_COMMIT, WANDB_HOST=HOST
    )


def run_script(script: str, root: Path, out: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", script, str(out)],
        cwd=root,
        env=sdk_env(root),
        timeout=300,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"the wandb SDK script failed:\n{done.stderr[-3000:]}"
    loaded: dict[str, Any] = json.loads(out.read_text())
    return loaded


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_crashed_run(root: Path) -> str:
    """Gives the ID of a run whose process was killed (SIGKILL) while logging."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASH_SCRIPT],
        cwd=root,
        env=sdk_env(root),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    children: list[int] = []
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        run_id, children = first["id"], first["children"]
        log = next((root / "wandb").glob(f"offline-run-*-{run_id}")) / f"run-{run_id}.wandb"
        deadline = time.monotonic() + 120
        # wandb-core writes whole 32 KiB blocks; three of them means it is well under way.
        while not (log.exists() and log.stat().st_size >= 3 * BLOCK_SIZE):
            assert time.monotonic() < deadline, "the crashing run never grew its log"
            time.sleep(0.05)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # it ended by itself (the assertion above says why)
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
    # wandb-core notices its parent is gone and ends; wait for it, end it if it lingers.
    deadline = time.monotonic() + 20
    for pid in children:
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    return str(run_id)


@pytest.fixture(scope="session")
def wandb_runs(tmp_path_factory: pytest.TempPathFactory) -> WandbRuns:
    root = tmp_path_factory.mktemp("wandb-sdk")
    finished = run_script(FINISHED_SCRIPT, root, root / "finished.json")
    failed = run_script(FAILED_SCRIPT, root, root / "failed.json")
    crashed = write_crashed_run(root) if Path("/proc").is_dir() else ""
    return WandbRuns(root, finished, failed, crashed)


def by_id(source: WandbOfflineSource, run_id: str) -> Run:
    return next(r for r in source.list_runs() if r.id == run_id)


def logged_points(record: dict[str, Any]) -> dict[str, list[tuple[int, float]]]:
    """Gives per key the (step, value) points the finished run logged, as W&B keys them."""
    points: dict[str, list[tuple[int, float]]] = {}

    def add(key: str, step: int, value: Any) -> None:
        if isinstance(value, dict):
            for sub, inner in value.items():
                add(f"{key}.{sub}", step, inner)
        elif isinstance(value, int | float):
            points.setdefault(key, []).append((step, float(value)))

    for entry in record["history"]:
        for key, value in entry["row"].items():
            add(key, entry["step"], value)
    return points


def copy_run(runs: WandbRuns, run_id: str, dest: Path) -> Path:
    """Gives the log of a copy of one run folder under dest/wandb/."""
    folder = runs.folder(run_id)
    target = dest / "wandb" / folder.name
    shutil.copytree(folder, target, symlinks=True)
    return target / f"run-{run_id}.wandb"


# -- the finished run -----------------------------------------------------------------------


def test_finished_run_fields(wandb_runs: WandbRuns) -> None:
    source = WandbOfflineSource(str(wandb_runs.root))
    run = by_id(source, wandb_runs.finished["id"])
    assert run.name == "resnet-adam"
    assert run.experiment == "vision"
    assert run.status == "finished"
    assert run.params == {
        "optimizer.name": "adam",
        "optimizer.lr": 0.001,
        "epochs": 3,
        "data.augment": True,
    }
    assert run.tags == {
        "baseline": "",
        "adam": "",
        "wandb.group": "sweep-1",
        "wandb.job_type": "train",
        "wandb.notes": "first try",
        "wandb.host": HOST,
    }
    assert run.hidden_tags == {"wandb.notes", "wandb.host"}
    assert run.git_commit == GIT_COMMIT
    assert run.start_time is not None and run.end_time is not None
    assert wandb_runs.finished["start"] - 1 <= run.start_time.timestamp()
    assert run.start_time <= run.end_time
    assert run.end_time.timestamp() <= wandb_runs.finished["end"] + 1
    assert run.url is None


def test_history_equals_what_was_logged(wandb_runs: WandbRuns) -> None:
    source = WandbOfflineSource(str(wandb_runs.root))
    run = by_id(source, wandb_runs.finished["id"])
    expected = logged_points(wandb_runs.finished)
    assert set(expected) == {"train/loss", "lr", "val.acc", "val.loss"}
    assert run.metric_keys() == sorted({*expected, "best_acc", "nested.x"})
    for key, points in expected.items():
        series = run.series(key)
        assert series.steps.tolist() == [step for step, _ in points], key
        np.testing.assert_array_equal(series.values, [v for _, v in points])
        assert np.all(np.isfinite(series.times))
        assert np.all(np.diff(series.times) >= 0)
    assert math.isnan(run.series("train/loss").values[7])
    assert run.series("lr").values[8] == math.inf
    assert len(run.series("val.acc")) == 32
    assert len(run.series("phase")) == 0  # text is not a metric
    assert len(run.series("_step")) == 0 and len(run.series("_runtime")) == 0


def test_logged_media_are_artifacts_not_metrics(wandb_runs: WandbRuns) -> None:
    if not wandb_runs.finished["image"]:
        skip_or_fail("wandb.Image needs Pillow")
    source = WandbOfflineSource(str(wandb_runs.root))
    run = by_id(source, wandb_runs.finished["id"])
    [image] = run.artifacts
    assert image.startswith("media/images/samples_0_") and image.endswith(".png")
    path = source.artifact_path(run, image)
    assert path is not None and path.is_file()
    assert source.run_dir(run) == wandb_runs.folder(run.id)
    assert "samples" not in run.metric_keys() and "samples" not in run.summary


def test_summary_is_final_values_and_explicit_updates(wandb_runs: WandbRuns) -> None:
    source = WandbOfflineSource(str(wandb_runs.root))
    run = by_id(source, wandb_runs.finished["id"])
    last = wandb_runs.finished["history"][-1]["row"]
    assert run.summary["train/loss"] == last["train/loss"]
    assert run.summary["lr"] == last["lr"]
    assert run.summary["val.acc"] == 310 / 320  # the last row that logged it
    assert run.summary["phase"] == "main"
    assert run.summary["best_acc"] == 0.97
    assert run.summary["nested.x"] == 1.5
    assert not any(k.startswith("_") for k in run.summary)


def test_failed_run_and_experiments(wandb_runs: WandbRuns) -> None:
    source = WandbOfflineSource(str(wandb_runs.wandb_dir))
    run = by_id(source, wandb_runs.failed["id"])
    assert run.status == "failed"
    assert run.experiment == "nlp"
    assert run.params == {"lr": 10.0}
    assert run.series("loss").values.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert [r.id for r in source.list_runs("nlp")] == [wandb_runs.failed["id"]]
    assert wandb_runs.failed["id"] not in [r.id for r in source.list_runs("vision")]


# -- where the source points ------------------------------------------------------------------


def test_each_run_once_whatever_the_path(wandb_runs: WandbRuns) -> None:
    assert (wandb_runs.wandb_dir / "latest-run").is_symlink()
    ids = {wandb_runs.finished["id"], wandb_runs.failed["id"]} | (
        {wandb_runs.crashed_id} if wandb_runs.crashed_id else set()
    )
    for location in (wandb_runs.root, wandb_runs.wandb_dir):
        listed = [r.id for r in WandbOfflineSource(str(location)).list_runs()]
        assert sorted(listed) == sorted(ids)
    one = WandbOfflineSource(str(wandb_runs.folder(wandb_runs.failed["id"])))
    assert [r.id for r in one.list_runs()] == [wandb_runs.failed["id"]]


def test_a_hidden_dot_wandb_folder(wandb_runs: WandbRuns, tmp_path: Path) -> None:
    # With `use_dot_wandb`, the SDK writes .wandb/ instead of wandb/.
    folder = wandb_runs.folder(wandb_runs.failed["id"])
    shutil.copytree(folder, tmp_path / ".wandb" / folder.name, symlinks=True)
    source = WandbOfflineSource(str(tmp_path))
    assert [r.id for r in source.list_runs()] == [wandb_runs.failed["id"]]


def test_open_source_relative_to_base_dir(wandb_runs: WandbRuns) -> None:
    source = open_source("wandb+offline:wandb", name="wb", base_dir=wandb_runs.root)
    assert isinstance(source, WandbOfflineSource)
    run = source.get(wandb_runs.finished["id"][:6])
    assert run.ref == f"wb:{wandb_runs.finished['id']}"
    assert source.problems() == []


def test_missing_folder_is_a_source_error(tmp_path: Path) -> None:
    source = WandbOfflineSource("nowhere", base_dir=tmp_path)
    with pytest.raises(SourceError, match="does not exist"):
        source.list_runs()
    assert len(source.problems()) == 1


# -- runs cut short ----------------------------------------------------------------------------


def test_crashed_run_is_read_to_its_last_whole_record(wandb_runs: WandbRuns) -> None:
    if not wandb_runs.crashed_id:
        skip_or_fail("needs /proc to find the SDK's service process")
    source = WandbOfflineSource(str(wandb_runs.root), running_window=0)
    run = by_id(source, wandb_runs.crashed_id)
    assert run.status == "crashed"
    assert run.name == "crashy"
    assert run.params == {"seed": 1}
    loss, index = run.series("loss"), run.series("i")
    assert len(loss) > 100
    assert index.values.tolist() == list(range(len(index)))  # no row lost, none invented
    np.testing.assert_array_equal(loss.values, 1.0 / (index.values + 1))
    # The SDK writes a row's summary record beside its history record; a kill between the
    # two leaves the summary one row ahead of the last whole history row, never more.
    assert run.summary["i"] in (index.values[-1], index.values[-1] + 1)
    assert run.end_time is not None and run.start_time is not None
    # A kill mid-write leaves at most one cut record, named once the log is old.
    assert all("cut at byte" in p.message for p in source.problems())
    assert len(source.problems()) <= 1
    # Modified moments ago, with no exit record: it may still be running.
    fresh = WandbOfflineSource(str(wandb_runs.root))
    assert by_id(fresh, wandb_runs.crashed_id).status == "running"


AN_HOUR_AGO = time.time() - 3600


def record_offsets(log: Path) -> list[int]:
    """Gives the byte offset of every whole record of a log, read by labbook's framing."""
    return [offset for offset, _ in LogReader(log.read_bytes()).records()]


def cut_copy(runs: WandbRuns, dest: Path, upto: int | None, *, old: bool) -> tuple[Path, list[int]]:
    """Gives the log of a copy of the finished run cut to `upto` bytes (`data[:upto]`, so
    negative counts from the end), unchanged for an hour when `old`; and the offsets of
    the records of the whole log."""
    log = copy_run(runs, runs.finished["id"], dest)
    data = log.read_bytes()
    offsets = record_offsets(log)
    log.write_bytes(data[:upto])
    if old:
        os.utime(log, (AN_HOUR_AGO, AN_HOUR_AGO))
    return log, offsets


def assert_a_prefix_of_the_whole_run(runs: WandbRuns, part: Run) -> None:
    """Checks that every series of `part` is the start of the same series of the whole run."""
    whole = by_id(WandbOfflineSource(str(runs.root)), part.id)
    for key in part.metric_keys():
        series = part.series(key)
        np.testing.assert_array_equal(series.steps, whole.series(key).steps[: len(series)])
        np.testing.assert_array_equal(series.values, whole.series(key).values[: len(series)])


@pytest.mark.parametrize("cut", [3, 7, 20, BLOCK_SIZE, BLOCK_SIZE + 3, 40_000, -1, -50])
def test_truncated_log_reads_up_to_last_whole_record(
    wandb_runs: WandbRuns, tmp_path: Path, cut: int
) -> None:
    log, offsets = cut_copy(wandb_runs, tmp_path, cut, old=True)
    source = WandbOfflineSource(str(tmp_path))
    run = by_id(source, wandb_runs.finished["id"])
    size = log.stat().st_size
    problems = source.problems()
    if size == 7 or size in offsets:  # right after the file header or a whole record
        assert problems == []
    # Elsewhere it is cut inside the last record that starts before the cut (unless the
    # cut falls in a block's zero padding, after a whole record).
    last = max([o for o in offsets if o < size], default=0)
    assert [p.message for p in problems] in (
        [],
        [f"the log ends inside a record: cut at byte {last} of {size}; "
         "read up to the last whole record"],
    )  # fmt: skip
    if cut in (3, 20, -1, -50):  # inside the header, the first record, the last two
        assert len(problems) == 1
    assert run.status == "crashed"
    assert_a_prefix_of_the_whole_run(wandb_runs, run)
    if cut == -1:
        assert len(run.series("train/loss")) == len(wandb_runs.finished["history"])


@pytest.mark.parametrize("record", [1, 5, 200, -1])  # -1: the exit record
def test_a_log_cut_inside_a_record_is_named_once_it_is_old(
    wandb_runs: WandbRuns, tmp_path: Path, record: int
) -> None:
    run_id = wandb_runs.finished["id"]
    log, offsets = cut_copy(wandb_runs, tmp_path, None, old=False)
    assert len(offsets) > 300
    start = offsets[record]
    log.write_bytes(log.read_bytes()[: start + 9])  # the fragment header and two bytes

    # Just written: the record being written when the log was read. Not worth a word.
    fresh = WandbOfflineSource(str(tmp_path), base_dir=tmp_path)
    assert by_id(fresh, run_id).status == "running"
    assert fresh.problems() == []

    # Unchanged for an hour: the log was cut short there, and the warning says where.
    os.utime(log, (AN_HOUR_AGO, AN_HOUR_AGO))
    old = WandbOfflineSource(str(tmp_path), base_dir=tmp_path)
    run = by_id(old, run_id)
    [problem] = old.problems()
    assert isinstance(problem, RunDataError)
    assert problem.file == log.relative_to(tmp_path).as_posix()
    assert f"cut at byte {start} of {start + 9}" in problem.message
    assert problem.file in str(problem)
    assert run.status == "crashed"
    assert_a_prefix_of_the_whole_run(wandb_runs, run)


def test_a_log_cut_at_a_record_boundary_is_no_problem(
    wandb_runs: WandbRuns, tmp_path: Path
) -> None:
    log, offsets = cut_copy(wandb_runs, tmp_path, None, old=True)
    log.write_bytes(log.read_bytes()[: offsets[200]])
    os.utime(log, (AN_HOUR_AGO, AN_HOUR_AGO))
    source = WandbOfflineSource(str(tmp_path))
    run = by_id(source, wandb_runs.finished["id"])
    assert run.status == "crashed"
    assert source.problems() == []
    assert 0 < len(run.series("train/loss")) < len(wandb_runs.finished["history"])


def test_corrupt_checksum_is_reported_by_path(wandb_runs: WandbRuns, tmp_path: Path) -> None:
    run_id = wandb_runs.finished["id"]
    log = copy_run(wandb_runs, run_id, tmp_path)
    data = bytearray(log.read_bytes())
    assert len(data) > 3 * BLOCK_SIZE
    data[BLOCK_SIZE + 200] ^= 0xFF
    log.write_bytes(bytes(data))
    source = WandbOfflineSource(str(tmp_path), base_dir=tmp_path)
    run = by_id(source, run_id)
    problems = source.problems()
    assert len(problems) == 1
    problem = problems[0]
    assert isinstance(problem, RunDataError)
    assert problem.file == log.relative_to(tmp_path).as_posix()
    assert "damaged record" in problem.message and "byte" in problem.message
    assert problem.file in str(problem)
    # The damaged block is skipped; the records before and after it are kept.
    steps = run.series("train/loss").steps
    expected = [step for step, _ in logged_points(wandb_runs.finished)["train/loss"]]
    assert 0 < len(steps) < len(expected)
    assert steps[0] == expected[0] and steps[-1] == expected[-1]
    assert set(steps.tolist()) <= set(expected)
    assert run.status == "finished"


def test_a_file_that_is_not_a_log_is_reported_and_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "wandb" / "offline-run-20260101_000000-notalog1"
    folder.mkdir(parents=True)
    (folder / "run-notalog1.wandb").write_bytes(b"PK\x03\x04 this is a zip file, not a log")
    source = WandbOfflineSource(str(tmp_path))
    assert source.list_runs() == []
    [problem] = source.problems()
    assert problem.file is not None and problem.file.endswith("run-notalog1.wandb")
    assert "not a W&B transaction log" in problem.message


def test_the_log_is_read_once(wandb_runs: WandbRuns, tmp_path: Path) -> None:
    run_id = wandb_runs.finished["id"]
    log = copy_run(wandb_runs, run_id, tmp_path)
    source = WandbOfflineSource(str(tmp_path))
    run = by_id(source, run_id)
    log.unlink()  # everything below is served from what was read
    assert len(run.series("train/loss")) == 320
    assert len(source.read_series(run, "val.acc")) == 32


# Runs as the source reads them, as JSON: what a run without wandb must equal.
DUMP_SCRIPT = r"""
import importlib.abc, json, math, sys

class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "wandb" or name.startswith("google.protobuf"):
            raise ImportError(f"{name} is blocked: reading offline runs must not need it")
        return None

if sys.argv[1] == "block":
    sys.meta_path.insert(0, Blocker())
else:
    import wandb.proto.wandb_internal_pb2  # noqa: F401 - the SDK's own classes, loaded
from labbook.sources.wandb_offline import WandbOfflineSource

def number(v):
    return repr(v) if isinstance(v, float) and not math.isfinite(v) else v

out = {}
for root in sys.argv[2:]:
    source = WandbOfflineSource(root, running_window=0)
    for run in source.list_runs():
        out[run.id] = {
            "fields": [run.name, run.experiment, run.status, str(run.start_time),
                       str(run.end_time), run.git_commit, sorted(run.artifacts)],
            "params": run.params, "tags": run.tags,
            "summary": {k: number(v) for k, v in run.summary.items()},
            "series": {k: [run.series(k).steps.tolist(),
                           [number(v) for v in run.series(k).values.tolist()],
                           run.series(k).times.tolist()] for k in run.metric_keys()},
        }
    out[root] = [str(p) for p in source.problems()]
leaked = sorted(m for m in sys.modules if m.split(".")[0] == "wandb" or m.startswith("google."))
print(json.dumps({"runs": out, "leaked": leaked}))
"""


def dump_runs(roots: list[Path], *, block: bool) -> dict[str, Any]:
    """Gives what DUMP_SCRIPT prints, run with wandb and protobuf blocked or imported."""
    done = subprocess.run(
        [sys.executable, "-c", DUMP_SCRIPT, "block" if block else "open", *map(str, roots)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    printed: dict[str, Any] = json.loads(done.stdout)
    return printed


def test_runs_are_read_the_same_without_wandb_installed(wandb_runs: WandbRuns) -> None:
    example = Path(__file__).resolve().parents[2] / "wandb"
    assert (example / "latest-run").exists(), "the example lab book's W&B run is missing"
    roots = [wandb_runs.root, example]
    printed = dump_runs(roots, block=True)
    assert printed["leaked"] == []
    with_wandb = dump_runs(roots, block=False)
    assert with_wandb["leaked"] != []  # that side did import them
    assert printed["runs"] == with_wandb["runs"]
    finished = printed["runs"][wandb_runs.finished["id"]]
    assert finished["params"]["optimizer.name"] == "adam"
    logged = logged_points(wandb_runs.finished)["train/loss"]
    assert finished["series"]["train/loss"][0] == [step for step, _ in logged]
    assert finished["series"]["train/loss"][1][:3] == [value for _, value in logged[:3]]
    assert finished["fields"][:3] == ["resnet-adam", "vision", "finished"]
    assert printed["runs"]["r18wb001"]["fields"][1] is not None  # the example lab book's run


def test_the_decoder_agrees_with_wandbs_own_classes(wandb_runs: WandbRuns) -> None:
    """Every record of the SDK-written logs decodes to what wandb's protobuf classes read."""
    from wandb.proto import wandb_internal_pb2 as pb

    from labbook.formats import wandb_record as wr

    def path(item: Any) -> tuple[str, ...]:
        return (item.key,) if item.key else tuple(item.nested_key)

    def seconds(message: Any, name: str) -> float | None:
        if not message.HasField(name):
            return None
        stamp = getattr(message, name)
        return float(stamp.seconds + stamp.nanos / 1e9)

    def keyed(message: Any) -> tuple[list[Any], list[Any]]:
        updates = [(path(i), i.value_json.encode()) for i in message.update]
        return updates, [path(i) for i in message.remove]

    logs = sorted(wandb_runs.wandb_dir.glob("*/*.wandb"))
    assert len(logs) >= 2
    kinds: set[str] = set()
    for log in logs:
        decoder = wr.RecordDecoder()
        for _, payload in LogReader(log.read_bytes()).records():
            record = pb.Record.FromString(payload)
            kind = record.WhichOneof("record_type")
            got = decoder.decode(payload)
            kinds.add(kind)
            if kind == "history":
                assert isinstance(got, wr.History)
                assert got.items == [
                    (i.key or ".".join(i.nested_key), i.value_json.encode(), None)
                    for i in record.history.item
                ]
                has_step = record.history.HasField("step")
                assert got.step == (record.history.step.num if has_step else None)
            elif kind in ("summary", "config"):
                assert isinstance(got, wr.Summary if kind == "summary" else wr.Config)
                assert (got.update, got.remove) == keyed(getattr(record, kind))
            elif kind == "run":
                run = record.run
                assert isinstance(got, wr.RunInfo)
                assert (got.run_id, got.project, got.display_name, got.notes) == (
                    run.run_id,
                    run.project,
                    run.display_name,
                    run.notes,
                )
                assert (got.run_group, got.job_type, got.host, got.tags) == (
                    run.run_group,
                    run.job_type,
                    run.host,
                    list(run.tags),
                )
                assert got.git_commit == run.git.commit
                assert got.start_time == seconds(run, "start_time")
                assert got.config is not None
                assert (got.config.update, got.config.remove) == keyed(run.config)
            elif kind == "exit":
                assert isinstance(got, wr.RunExit)
                assert (got.exit_code, got.runtime) == (record.exit.exit_code, record.exit.runtime)
            elif kind == "environment":
                env = record.environment
                assert isinstance(got, wr.Environment)
                assert (got.host, got.git_commit) == (env.host, env.git.commit)
                assert got.started_at == seconds(env, "started_at")
            else:
                assert got is None, kind
    assert {"history", "summary", "config", "run", "exit", "environment"} <= kinds


# -- the framing, with records made here ----------------------------------------------------------


def frame(records: list[bytes]) -> bytes:
    """Gives a log holding the records, framed as the SDK's writer frames them."""
    out = bytearray(struct.pack("<4sHB", b":W&B", 0xBEE1, 0))
    for data in records:
        first = True
        while True:
            room = BLOCK_SIZE - len(out) % BLOCK_SIZE
            if room < 7:
                out += bytes(room)
                continue
            chunk, data = data[: room - 7], data[room - 7 :]
            kind = (1 if first else 4) if not data else (2 if first else 3)
            crc = zlib.crc32(chunk, zlib.crc32(bytes([kind])))
            out += struct.pack("<IHB", crc, len(chunk), kind) + chunk
            first = False
            if not data:
                break
    return bytes(out)


def test_typed_values_and_records_spanning_blocks(tmp_path: Path) -> None:
    from wandb.proto import wandb_internal_pb2 as pb

    run = pb.Record()
    run.run.run_id = "typed001"
    run.run.project = "synthetic"
    big = run.run.config.update.add()
    big.key = "notes"
    big.value_json = json.dumps("x" * 80_000)  # three blocks: first, middle, last
    rows: list[bytes] = [run.SerializeToString()]
    for step in range(3):
        record = pb.Record()
        items: list[tuple[str, float | int | bool]] = [
            ("_step", step),
            ("f", 0.5 * step),
            ("n", step),
            ("b", step % 2 == 1),
        ]
        for key, value in items:
            item = record.history.item.add()
            item.key = key
            if isinstance(value, bool):
                item.boolean = value
            elif isinstance(value, int):
                item.integer = value
            else:
                item.number = value
        item = record.history.item.add()
        item.nested_key.extend(["val", "acc"])
        item.json = json.dumps({"sub": step})
        text = record.history.item.add()
        text.key = "label"
        text.text = "hello"
        rows.append(record.SerializeToString())
    folder = tmp_path / "offline-run-20260101_000000-typed001"
    folder.mkdir()
    (folder / "run-typed001.wandb").write_bytes(frame(rows))
    source = WandbOfflineSource(str(folder), running_window=0)
    [read] = source.list_runs()
    assert source.problems() == []
    assert read.params["notes"] == "x" * 80_000
    assert read.series("f").values.tolist() == [0.0, 0.5, 1.0]
    assert read.series("n").values.tolist() == [0.0, 1.0, 2.0]
    assert read.series("b").values.tolist() == [0.0, 1.0, 0.0]
    assert read.series("val.acc.sub").steps.tolist() == [0, 1, 2]
    assert read.metric_keys() == ["b", "f", "n", "val.acc.sub"]


def test_fields_in_any_order_and_bytes_that_are_no_record(tmp_path: Path) -> None:
    from wandb.proto import wandb_internal_pb2 as pb

    run = pb.Record()
    run.run.run_id = "order001"
    # A history item written value first, key after: valid protobuf no writer produces.
    late_key = b"\x82\x01\x031.5" + b"\x0a\x01x"
    history = b"\x12" + bytes([len(late_key) + 2]) + b"\x0a" + bytes([len(late_key)]) + late_key
    not_a_record = b"\x12\x05\x0a\x09abc"  # an item longer than its record
    folder = tmp_path / "offline-run-20260101_000000-order001"
    folder.mkdir()
    log = folder / "run-order001.wandb"
    log.write_bytes(frame([run.SerializeToString(), history, not_a_record]))
    source = WandbOfflineSource(str(folder), base_dir=tmp_path)
    [read] = source.list_runs()
    assert read.series("x").values.tolist() == [1.5]
    [problem] = source.problems()
    offset = 7 + 7 + len(run.SerializeToString()) + 7 + len(history)
    assert f"record at byte {offset} is not a W&B record" in problem.message
    assert problem.file == log.relative_to(tmp_path).as_posix()
