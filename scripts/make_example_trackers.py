"""Regenerates the example lab book's W&B and TensorBoard runs with the trackers' own writers.

    uv run python scripts/make_example_trackers.py            # writes <repo>/wandb/, <repo>/tensorboard/
    uv run python scripts/make_example_trackers.py --out DIR  # writes DIR/wandb/, DIR/tensorboard/

Two ResNet-18 runs on CIFAR-10 that the team tracked outside labbook's own format, each
logging `train/loss` and `train/acc` at every one of 600 steps and `val/loss` and `val/acc`
every 20 steps (flat keys, so the names match the other trackers'):

- `wandb/`: one W&B offline run, ID `r18wb001`, project `cifar-sweep`, named
  `r18-cosine-wandb` (SGD at lr = 0.1 with a cosine schedule and label smoothing), written by
  the real wandb SDK in a subprocess that cannot reach the network. mkdocs.yml reads it as
  `wb: wandb+offline:wandb`.
- `tensorboard/r18-tb-warmup/`: one TensorBoard run written with tensorboardX (v1
  `simple_value` scalars, float32), lr = 0.2 after a linear warm-up, its hyperparameters
  written with `add_hparams` into the timestamped subfolder tensorboardX makes for them.
  mkdocs.yml reads it as `tb: tensorboard:tensorboard`.

Every value comes from `labbook.example_runs.training_curves` with fixed seeds, the same
generator as the local example runs; `wandb_curves()` and `tensorboard_curves()` give
them back, so tests can compare what a chart draws with what was logged.

Both writers stamp files with the clock and the machine, so the output is made repeatable:

- TensorBoard: every point is logged with its wall time, and while tensorboardX writes,
  `time.time` and `socket.gethostname` give fixed values (they name the event files and
  the hparams subfolder and time the events tensorboardX stamps itself). The hparams
  session's map of values, which protobuf serializes in a per-process hash order, is
  serialized again in key order (protobuf's deterministic serialization).
- W&B: the SDK is run as is (console capture, system metrics, code and requirements
  saving off), then its transaction log is rewritten record by record: the run's start
  time, each row's `_timestamp` and `_runtime`, the whole-second runtimes and the exit
  record's runtime become the fixed times of the curves; the SDK's per-call mailbox
  tokens are dropped; the items of each summary and history record, which wandb-core
  writes in Go's random map order, are put in one order. The records are then framed
  again exactly as wandb-core frames them (checked: re-framing the SDK's own records
  gives its file back byte for byte). The folder is renamed after the fixed start time;
  the SDK's debug logs and the links to them (they name this machine's paths) and its
  empty tmp/ folder are left out. The run's own file, files/recipe.yaml, is kept.

So a second run gives byte-identical files, as long as the wandb and tensorboardX
versions (uv.lock) and the Python version are the same: the W&B log names the SDK and
Python versions that wrote it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

from labbook.example_runs import BASE_SEED, Curves, training_curves
from labbook.sources.wandb_common import offline_sdk_environment

REPO = Path(__file__).resolve().parent.parent
KEYS = ("train/loss", "train/acc", "val/loss", "val/acc")
STEPS = 600
VAL_EVERY = 20

WANDB_ID = "r18wb001"
WANDB_PROJECT = "cifar-sweep"
WANDB_NAME = "r18-cosine-wandb"
WANDB_START = datetime(2026, 11, 9, 14, 0, 0, tzinfo=UTC)
WANDB_HOST = "vision-gpu-02"
WANDB_SECONDS_AFTER_LAST_ROW = 3.0  # finish() after the last logged row
WANDB_COMMIT = hashlib.sha1(b"labbook-example/trackers/wandb").hexdigest()
WANDB_CONFIG: dict[str, Any] = {
    "model": "resnet18",
    "lr": 0.1,
    "seed": 0,
    "batch_size": 128,
    "optimizer": {"name": "sgd", "momentum": 0.9, "nesterov": True},
    "schedule": {"name": "cosine", "warmup_steps": 0},
    "label_smoothing": 0.1,
}
WANDB_TAGS = ["resnet18", "cosine"]
WANDB_GROUP = "r18-recipes"
WANDB_JOB_TYPE = "train"
# The run's own file, written into the run's files/ folder as a training script would.
WANDB_FILES = {
    "recipe.yaml": "# r18-cosine-wandb: SGD + Nesterov, cosine to zero, label smoothing 0.1\n"
    "lr: 0.1\nschedule: cosine\nlabel_smoothing: 0.1\n"
}

TB_RUN = "r18-tb-warmup"
TB_START = datetime(2026, 11, 10, 10, 30, 0, tzinfo=UTC)
TB_HOST = "vision-gpu-03"
TB_SECONDS_AFTER_LAST_ROW = 2.25  # add_hparams after the last logged row
TB_HPARAMS: dict[str, Any] = {
    "model": "resnet18",
    "lr": 0.2,
    "seed": 0,
    "batch_size": 128,
    "optimizer.name": "sgd",
    "optimizer.momentum": 0.9,
    "schedule.name": "linear-warmup+cosine",
    "schedule.warmup_steps": 60,
}
TB_HPARAM_METRIC = "hparam/val_acc"


# -- the logged values -------------------------------------------------------------------------


def wandb_curves() -> Curves:
    """Gives the W&B run's history: 600 steps, validation every 20."""
    rng = np.random.default_rng([BASE_SEED, 3, 0])
    return training_curves(
        rng,
        STEPS,
        tau=115.0,
        floor=0.44,
        noise=0.05,
        gap=0.06,
        val_every=VAL_EVERY,
        start=WANDB_START,
        step_seconds=0.121,
        val_seconds=2.5,
    )


def tensorboard_curves() -> Curves:
    """Gives the TensorBoard run's scalars: 600 steps, validation every 20."""
    rng = np.random.default_rng([BASE_SEED, 3, 1])
    return training_curves(
        rng,
        STEPS,
        tau=135.0,
        floor=0.47,
        noise=0.06,
        gap=0.065,
        val_every=VAL_EVERY,
        start=TB_START,
        step_seconds=0.117,
        val_seconds=2.4,
    )


def logged_points(curves: Curves) -> dict[str, tuple[list[int], list[float]]]:
    """Gives per key the (steps, values) a run logged, values as Python floats (float64)."""
    points: dict[str, tuple[list[int], list[float]]] = {}
    for key in KEYS:
        mask = curves.logged[key]
        points[key] = (
            [int(s) for s in curves.steps[mask]],
            [float(v) for v in curves.columns[key][mask]],
        )
    return points


def rows(curves: Curves) -> list[tuple[int, float, dict[str, float]]]:
    """Gives each step's (step, wall time, {key: value}) as the training loop logs it."""
    out = []
    for i, step in enumerate(curves.steps):
        row = {k: float(curves.columns[k][i]) for k in KEYS if curves.logged[k][i]}
        out.append((int(step), float(curves.times[i]), row))
    return out


# -- W&B -----------------------------------------------------------------------------------

# Runs in its own process, so the SDK's wandb-core service ends with it. Imports only what
# the SDK needs: its telemetry records which libraries were imported.
WANDB_SCRIPT = r"""
import json, os, sys
import wandb

spec = json.load(open(sys.argv[1]))
settings = wandb.Settings(
    console="off",
    x_disable_stats=True,
    x_disable_machine_info=True,
    disable_code=True,
    save_code=False,
    x_save_requirements=False,
    host=spec["host"],
)
run = wandb.init(
    project=spec["project"],
    name=spec["name"],
    id=spec["id"],
    config=spec["config"],
    tags=spec["tags"],
    group=spec["group"],
    job_type=spec["job_type"],
    settings=settings,
)
for name, text in spec["files"].items():
    with open(os.path.join(run.dir, name), "w") as f:
        f.write(text)
for step, row in spec["rows"]:
    run.log(row, step=step)
run.finish()
"""


def sdk_env(root: Path) -> dict[str, str]:
    """Gives the SDK's environment: offline, every folder under root, nothing to call home."""
    return offline_sdk_environment(root, WANDB_GIT_COMMIT=WANDB_COMMIT)


# The .wandb log's framing (see labbook/formats/wandb_log.py): a 7-byte file header, then
# LevelDB's log format in 32 KiB blocks, each fragment's CRC-32 covering its type and data.
LOG_HEADER = b":W&B" + struct.pack("<HB", 0xBEE1, 0)
BLOCK = 32 * 1024
FRAGMENT = struct.Struct("<IHB")
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def frame_log(records: list[bytes]) -> bytes:
    """Gives a .wandb file holding the records, framed as wandb-core (and LevelDB) frame them."""
    out = bytearray(LOG_HEADER)
    for data in records:
        first = True
        while True:
            room = BLOCK - len(out) % BLOCK
            if room < FRAGMENT.size:
                out += bytes(room)  # a block's tail too short for a header is zero padding
                continue
            piece, data = data[: room - FRAGMENT.size], data[room - FRAGMENT.size :]
            last = not data
            kind = (FULL if last else FIRST) if first else (LAST if last else MIDDLE)
            out += FRAGMENT.pack(zlib.crc32(piece, zlib.crc32(bytes([kind]))), len(piece), kind)
            out += piece
            first = False
            if last:
                break
    return bytes(out)


def unframe_log(data: bytes) -> list[bytes]:
    """Gives the records of a whole, undamaged .wandb file (the inverse of frame_log)."""
    if data[: len(LOG_HEADER)] != LOG_HEADER:
        raise ValueError("not a .wandb log of format version 0")
    records: list[bytes] = []
    pending = bytearray()
    pos = len(LOG_HEADER)
    while pos < len(data):
        room = BLOCK - pos % BLOCK
        if room < FRAGMENT.size:
            pos += room
            continue
        crc, length, kind = FRAGMENT.unpack_from(data, pos)
        piece = data[pos + FRAGMENT.size : pos + FRAGMENT.size + length]
        if kind == 0 or zlib.crc32(piece, zlib.crc32(bytes([kind]))) != crc:
            raise ValueError(f"bad fragment at byte {pos}")
        pos += FRAGMENT.size + length
        pending += piece
        if kind in (FULL, LAST):
            records.append(bytes(pending))
            pending = bytearray()
    if pending:
        raise ValueError("the log ends inside a record")
    return records


# The order items of a history or summary record are put in (others after, by key).
ITEM_ORDER = {k: i for i, k in enumerate(["_step", *KEYS, "_timestamp", "_runtime"])}


def _item_path(item: Any) -> tuple[str, ...]:
    return (item.key,) if item.key else tuple(item.nested_key)


def _json_float(x: float) -> str:
    return json.dumps(float(x))


class _Normalizer:
    """Rewrites the SDK's records so that they carry fixed times and a fixed item order."""

    def __init__(self, curves: Curves, start: float, end: float) -> None:
        self.time_of = {int(s): float(t) for s, t in zip(curves.steps, curves.times, strict=True)}
        self.start = start
        self.end = end
        self.elapsed = 0.0  # runtime at the last row seen

    def _sort(self, items: Any) -> None:
        def order(item: Any) -> tuple[int, tuple[str, ...]]:
            path = _item_path(item)
            return ITEM_ORDER.get(".".join(path), len(ITEM_ORDER)), path

        kept = [type(i)() for i in items]
        for new, old in zip(kept, items, strict=True):
            new.CopyFrom(old)
        kept.sort(key=order)
        del items[:]
        items.extend(kept)

    def _retime(self, items: Any) -> None:
        step = next((json.loads(i.value_json) for i in items if _item_path(i) == ("_step",)), None)
        when = self.time_of[int(step)] if step is not None else None
        for item in items:
            path = _item_path(item)
            if when is not None and path == ("_timestamp",):
                item.value_json = _json_float(when)
            elif when is not None and path == ("_runtime",):
                item.value_json = _json_float(round(when - self.start, 6))
            elif path in (("_runtime",), ("_wandb", "runtime")):
                # The whole-second runtime wandb-core reports between rows.
                item.value_json = json.dumps(int(self.elapsed))
        if when is not None:
            self.elapsed = when - self.start

    def record(self, record: Any) -> Any:
        kind = record.WhichOneof("record_type")
        if record.HasField("control"):
            record.control.ClearField("mailbox_slot")
        if kind == "run":
            record.run.start_time.seconds = int(self.start)
            record.run.start_time.nanos = 0
        elif kind == "history":
            self._retime(record.history.item)
            self._sort(record.history.item)
        elif kind == "summary":
            self._retime(record.summary.update)
            self._sort(record.summary.update)
        elif kind == "exit":
            record.exit.runtime = int(self.end - self.start)
        return record


def write_wandb(out: Path) -> Path:
    """Writes the W&B run under out/ (out/offline-run-…/, out/latest-run); gives its folder."""
    from wandb.proto import wandb_internal_pb2

    curves = wandb_curves()
    start = WANDB_START.timestamp()
    end = float(curves.times[-1]) + WANDB_SECONDS_AFTER_LAST_ROW
    folder_name = f"offline-run-{WANDB_START:%Y%m%d_%H%M%S}-{WANDB_ID}"
    with tempfile.TemporaryDirectory(prefix="labbook-wandb-") as scratch_name:
        scratch = Path(scratch_name)
        spec = {
            "project": WANDB_PROJECT,
            "name": WANDB_NAME,
            "id": WANDB_ID,
            "config": WANDB_CONFIG,
            "tags": WANDB_TAGS,
            "group": WANDB_GROUP,
            "job_type": WANDB_JOB_TYPE,
            "host": WANDB_HOST,
            "files": WANDB_FILES,
            "rows": [[step, row] for step, _, row in rows(curves)],
        }
        (scratch / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
        work = scratch / "work"
        work.mkdir()
        done = subprocess.run(
            [sys.executable, "-c", WANDB_SCRIPT, str(scratch / "spec.json")],
            cwd=work,
            env=sdk_env(work),
            timeout=600,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(f"the wandb SDK failed:\n{done.stderr[-4000:]}")
        written = next((work / "wandb").glob(f"offline-run-*-{WANDB_ID}"))
        raw = (written / f"run-{WANDB_ID}.wandb").read_bytes()
        records = unframe_log(raw)
        if frame_log(records) != raw:
            raise SystemExit("re-framing the SDK's records does not give its log back")
        normalizer = _Normalizer(curves, start, end)
        payloads = [
            normalizer.record(wandb_internal_pb2.Record.FromString(r)).SerializeToString(
                deterministic=True
            )
            for r in records
        ]
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob(f"*-{WANDB_ID}"):
            shutil.rmtree(old)
        target = out / folder_name
        (target / "files").mkdir(parents=True)
        (target / f"run-{WANDB_ID}.wandb").write_bytes(frame_log(payloads))
        for name in WANDB_FILES:
            shutil.copyfile(written / "files" / name, target / "files" / name)
    latest = out / "latest-run"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    latest.symlink_to(folder_name, target_is_directory=True)
    return target


# -- TensorBoard ----------------------------------------------------------------------------


class _Clock:
    """A stand-in for time.time that gives whatever time it was set to."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _deterministic_hparams(original: Any) -> Any:
    """Wraps tensorboardX's `hparams()`: the same summaries, their plugin content serialized
    deterministically (the session's hparams are a protobuf map)."""
    from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData

    def hparams(*args: Any, **kwargs: Any) -> Any:
        summaries = original(*args, **kwargs)
        for summary in summaries:
            for value in summary.value:
                data = value.metadata.plugin_data
                content = HParamsPluginData.FromString(data.content)
                data.content = content.SerializeToString(deterministic=True)
        return summaries

    return hparams


def write_tensorboard(out: Path) -> Path:
    """Writes the TensorBoard run into out/r18-tb-warmup/; gives that folder."""
    import tensorboardX.writer
    from tensorboardX import SummaryWriter

    curves = tensorboard_curves()
    run_dir = out / TB_RUN
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    clock = _Clock(TB_START.timestamp())
    # tensorboardX names event files `events.out.tfevents.<time>.<host>`, stamps its first
    # event with the time and names the hparams subfolder str(time.time()).
    with (
        mock.patch.object(time, "time", clock),
        mock.patch.object(socket, "gethostname", lambda: TB_HOST),
        mock.patch.object(
            tensorboardX.writer, "hparams", _deterministic_hparams(tensorboardX.writer.hparams)
        ),
    ):
        writer = SummaryWriter(logdir=str(run_dir), flush_secs=3600)
        for step, when, row in rows(curves):
            clock.now = when
            for key, value in row.items():
                writer.add_scalar(key, value, global_step=step, walltime=when)
        clock.now = round(float(curves.times[-1]) + TB_SECONDS_AFTER_LAST_ROW, 6)
        final = float(curves.columns["val/acc"][curves.logged["val/acc"]][-1])
        writer.add_hparams(TB_HPARAMS, {TB_HPARAM_METRIC: final}, global_step=int(curves.steps[-1]))
        writer.close()
    return run_dir


def write_all(root: Path) -> tuple[Path, Path]:
    """Writes root/wandb/ and root/tensorboard/; gives the two run folders."""
    return write_wandb(root / "wandb"), write_tensorboard(root / "tensorboard")


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO, help=f"default: {REPO}")
    args = parser.parse_args()
    wandb_run, tb_run = write_all(args.out)
    for path in (wandb_run, tb_run):
        print(f"wrote {path} ({_size(path) / 1024:.0f} KiB)")
