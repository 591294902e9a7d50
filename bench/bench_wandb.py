"""Times labbook's read of a W&B offline run of 100,000 history rows, and three Record decoders.

The run is written once by the real wandb SDK in offline mode (about half a minute), into
`--data` (default: a folder in the system temp dir, reused by later runs; `--fresh`
rewrites it). It logs five metrics per row: `train/loss`, `train/acc`, `lr` and the nested
`val` = {`loss`, `acc`}. Then, as medians over `--repeat` runs:

  labbook read       a fresh WandbOfflineSource: list the run (reads its .wandb log once)
                     and read_series of every metric: the full read of all series; also
                     in a fresh interpreter, and with `--compare-src DIR` the same read by
                     another labbook's src/ (an older commit's, from `git archive`)
  decode: wire       labbook's framing and its hand-written wire-format decoder
                     (formats/wandb_record.py) on every record, folding nothing
  decode: protobuf   the same framing, protobuf's own runtime (upb) parsing each record
                     with message classes built here from descriptors of just the fields
                     labbook reads (no wandb), then the same fields read into the same
                     tuples the wire decoder gives: the design not taken
  decode: wandb pb2  the same, with wandb's generated classes (`wandb_internal_pb2`), as
                     labbook decoded records before it dropped the wandb import
  wandb leet         `wandb leet inspect --json FILE`: wandb-core's (Go) reader of the
                     same log, printing every record as JSON, output discarded
  wandb leet+parse   the same, its JSON lines parsed in Python into per-key series, which
                     is what getting series out of W&B's own offline reader costs

The three decoders are checked to give equal results before timing. The readers take
turns, round after round, and both wall and CPU seconds are shown: on a shared machine
the CPU time is the steadier measure. What each costs
to import is timed in fresh interpreters, as what it adds to `import labbook`.

wandb has no public offline reader in Python. `wandb sync` read logs with
`wandb.sdk.internal.datastore.DataStore` up to wandb 0.18; since wandb-core (Go) took over,
that module is gone (0.31 ships no datastore.py), so `wandb leet inspect` is W&B's own
offline reader here.

Nothing reaches the network: the SDK runs offline with a base URL and proxies on a closed
local port.

    uv run python bench/bench_wandb.py [--rows 100000] [--repeat 3] [--data DIR] [--fresh]
                                       [--skip-leet] [--compare-src DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from labbook.formats.wandb_log import LogReader
from labbook.formats.wandb_record import RecordDecoder
from labbook.sources.wandb_common import offline_sdk_environment
from labbook.sources.wandb_offline import WandbOfflineSource

KEYS = ["train/loss", "train/acc", "lr", "val.loss", "val.acc"]

WRITER = r"""
import sys, time
import wandb

rows = int(sys.argv[1])
start = time.time()
run = wandb.init(project="bench", name="long-run", config={"lr": 0.1, "batch_size": 256})
for i in range(rows):
    run.log({
        "train/loss": 1.0 / (i + 1),
        "train/acc": i / rows,
        "lr": 0.1 * 0.99 ** (i // 1000),
        "val": {"loss": 2.0 / (i + 1), "acc": (i % 100) / 100},
    })
run.finish()
print(f"{time.time() - start:.1f}")
"""


def sdk_env(root: Path) -> dict[str, str]:
    """Gives the environment wandb runs in here: offline, local folders, no way out."""
    return offline_sdk_environment(root, WANDB__DISABLE_STATS="true")


def find_log(root: Path) -> Path | None:
    """Gives the run's .wandb log under root, if it was written."""
    logs = sorted((root / "wandb").glob("offline-run-*/*.wandb"))
    return logs[0] if logs else None


def write_run(root: Path, rows: int) -> float:
    """Writes the run with the real SDK under root; gives the seconds it took."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    done = subprocess.run(
        [sys.executable, "-c", WRITER, str(rows)],
        cwd=root,
        env=sdk_env(root),
        check=True,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    return float(done.stdout.strip().splitlines()[-1])


@dataclass
class Timing:
    """One reader's timings: wall and CPU seconds per round, and its last result."""

    name: str
    what: str
    fn: Callable[[], Any]
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    result: Any = None


def time_interleaved(timings: list[Timing], repeat: int) -> None:
    """Runs every reader once per round, round after round, so a busy spell on a shared
    machine falls on all of them alike. CPU is this process's, plus a finished child's
    (the subprocess readers report their own)."""
    for _ in range(repeat):
        for timing in timings:
            wall, cpu = time.perf_counter(), time.process_time()
            timing.result = timing.fn()
            timing.wall.append(time.perf_counter() - wall)
            if isinstance(timing.result, SubprocessRead):
                timing.cpu.append(timing.result.cpu)
            else:
                timing.cpu.append(time.process_time() - cpu)


@dataclass
class SubprocessRead:
    """What a labbook read in a fresh interpreter reports: its CPU seconds and points."""

    cpu: float
    points: int


READ_SCRIPT = """
import sys, time
import wandb.proto.wandb_internal_pb2  # the import is not timed, whichever labbook reads
from labbook.sources.wandb_offline import WandbOfflineSource
cpu = time.process_time()
[run] = WandbOfflineSource(sys.argv[1]).list_runs()
points = sum(len(run.series(key)) for key in run.metric_keys())
print(time.process_time() - cpu, points)
"""


def read_in_subprocess(root: Path, src: Path | None) -> SubprocessRead:
    """Gives a full read of the run by the labbook in `src` (default: this one), in a fresh
    interpreter with wandb already imported (older labbooks decoded with it)."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    done = subprocess.run(
        [sys.executable, "-c", READ_SCRIPT, str(root)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    cpu, points = done.stdout.split()
    return SubprocessRead(float(cpu), int(points))


def labbook_read(root: Path) -> dict[str, int]:
    """Gives points per key after a full read of every series by a fresh source."""
    source = WandbOfflineSource(str(root))
    [run] = source.list_runs()
    return {key: len(run.series(key)) for key in run.metric_keys() if key in KEYS}


def records_of(log: Path) -> list[bytes]:
    """Gives every whole record of the log (the framing is the same for every decoder)."""
    return [payload for _, payload in LogReader(log.read_bytes()).records()]


def decode_wire(records: list[bytes]) -> Iterator[Any]:
    """Gives each record as labbook's wire-format decoder reads it."""
    decode = RecordDecoder().decode
    for payload in records:
        yield decode(payload)


def consumed(decoded: Iterator[Any]) -> int:
    """Gives how many records were decoded, keeping none of them (as the source keeps none:
    holding 300,000 decoded records would time Python's garbage collector instead)."""
    return sum(1 for _ in decoded)


# The messages and fields labbook reads, as protobuf descriptors: name -> (number, field
# name, type, label, message type). Enough for protobuf's runtime to parse a Record
# without wandb; every other field is kept as an unknown field and never looked at.
_OPTIONAL, _REPEATED = 1, 3
_INT32, _INT64, _SINT64, _DOUBLE, _BOOL, _STRING, _MESSAGE, _ENUM_AS_INT = 5, 3, 18, 1, 8, 9, 11, 5
_SCHEMA: dict[str, list[tuple[int, str, int, int, str]]] = {
    "Record": [
        (2, "history", _MESSAGE, _OPTIONAL, "HistoryRecord"),
        (3, "summary", _MESSAGE, _OPTIONAL, "KeyedRecord"),
        (5, "config", _MESSAGE, _OPTIONAL, "KeyedRecord"),
        (17, "run", _MESSAGE, _OPTIONAL, "RunRecord"),
        (18, "exit", _MESSAGE, _OPTIONAL, "RunExitRecord"),
        (26, "environment", _MESSAGE, _OPTIONAL, "EnvironmentRecord"),
    ],
    "HistoryRecord": [
        (1, "item", _MESSAGE, _REPEATED, "HistoryItem"),
        (2, "step", _MESSAGE, _OPTIONAL, "HistoryStep"),
    ],
    "HistoryStep": [(1, "num", _INT64, _OPTIONAL, "")],
    "HistoryItem": [
        (1, "key", _STRING, _OPTIONAL, ""),
        (2, "nested_key", _STRING, _REPEATED, ""),
        (3, "none", _ENUM_AS_INT, _OPTIONAL, ""),
        (4, "boolean", _BOOL, _OPTIONAL, ""),
        (5, "integer", _SINT64, _OPTIONAL, ""),
        (6, "number", _DOUBLE, _OPTIONAL, ""),
        (7, "text", _STRING, _OPTIONAL, ""),
        (8, "json", _STRING, _OPTIONAL, ""),
        (16, "value_json", _STRING, _OPTIONAL, ""),
    ],
    "KeyedRecord": [
        (1, "update", _MESSAGE, _REPEATED, "KeyedItem"),
        (2, "remove", _MESSAGE, _REPEATED, "KeyedItem"),
    ],
    "KeyedItem": [
        (1, "key", _STRING, _OPTIONAL, ""),
        (2, "nested_key", _STRING, _REPEATED, ""),
        (16, "value_json", _STRING, _OPTIONAL, ""),
    ],
    "RunRecord": [
        (1, "run_id", _STRING, _OPTIONAL, ""),
        (3, "project", _STRING, _OPTIONAL, ""),
        (4, "config", _MESSAGE, _OPTIONAL, "KeyedRecord"),
        (5, "summary", _MESSAGE, _OPTIONAL, "KeyedRecord"),
        (6, "run_group", _STRING, _OPTIONAL, ""),
        (7, "job_type", _STRING, _OPTIONAL, ""),
        (8, "display_name", _STRING, _OPTIONAL, ""),
        (9, "notes", _STRING, _OPTIONAL, ""),
        (10, "tags", _STRING, _REPEATED, ""),
        (12, "sweep_id", _STRING, _OPTIONAL, ""),
        (13, "host", _STRING, _OPTIONAL, ""),
        (17, "start_time", _MESSAGE, _OPTIONAL, "Timestamp"),
        (21, "git", _MESSAGE, _OPTIONAL, "GitRepoRecord"),
    ],
    "RunExitRecord": [
        (1, "exit_code", _INT32, _OPTIONAL, ""),
        (2, "runtime", _INT32, _OPTIONAL, ""),
    ],
    "EnvironmentRecord": [
        (3, "started_at", _MESSAGE, _OPTIONAL, "Timestamp"),
        (9, "git", _MESSAGE, _OPTIONAL, "GitRepoRecord"),
        (12, "host", _STRING, _OPTIONAL, ""),
    ],
    "GitRepoRecord": [(2, "commit", _STRING, _OPTIONAL, "")],
    "Timestamp": [(1, "seconds", _INT64, _OPTIONAL, ""), (2, "nanos", _INT32, _OPTIONAL, "")],
}
_ONEOFS = {"Record": (2, 3, 5, 17, 18, 26), "HistoryItem": (3, 4, 5, 6, 7, 8)}


def protobuf_record_class() -> Any:
    """Gives a Record message class built by protobuf's runtime from _SCHEMA (no wandb)."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    file = descriptor_pb2.FileDescriptorProto(
        name="labbook_wandb_subset.proto", package="wandb_internal", syntax="proto3"
    )
    for name, specs in _SCHEMA.items():
        message = file.message_type.add(name=name)
        oneof = _ONEOFS.get(name, ())
        if oneof:
            message.oneof_decl.add(name="record_type" if name == "Record" else "value")
        for number, field_name, kind, label, type_name in specs:
            spec = message.field.add(name=field_name, number=number, type=kind, label=label)
            if type_name:
                spec.type_name = f".wandb_internal.{type_name}"
            if number in oneof:
                spec.oneof_index = 0
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("wandb_internal.Record"))


def decode_messages(records: list[bytes], record_class: Any) -> Iterator[Any]:
    """Gives each record parsed by a protobuf class, its fields read into the wire tuples."""
    from labbook.formats import wandb_record as wr

    def path(item: Any) -> tuple[str, ...]:
        return (item.key,) if item.key else tuple(item.nested_key)

    def keyed(kind: type[wr.KeyedUpdate], message: Any) -> Any:
        return kind(
            [(path(i), i.value_json.encode()) for i in message.update],
            [path(i) for i in message.remove],
        )

    def stamp(message: Any, name: str) -> float | None:
        if not message.HasField(name):
            return None
        value = getattr(message, name)
        return float(value.seconds + value.nanos / 1e9)

    parse = record_class.FromString
    for payload in records:
        record = parse(payload)
        kind = record.WhichOneof("record_type")
        if kind == "history":
            history = record.history
            items: list[wr.HistoryItem] = []
            for item in history.item:
                typed = item.WhichOneof("value")
                items.append(
                    (
                        item.key or ".".join(item.nested_key),
                        item.value_json.encode(),
                        (typed, getattr(item, typed)) if typed else None,
                    )
                )
            step = history.step.num if history.HasField("step") else None
            yield wr.History(items, step)
        elif kind == "summary":
            yield keyed(wr.Summary, record.summary)
        elif kind == "config":
            yield keyed(wr.Config, record.config)
        elif kind == "run":
            run = record.run
            yield wr.RunInfo(
                run.run_id, run.project, run.display_name, run.run_group, run.job_type,
                run.notes, run.host, run.sweep_id, run.git.commit, list(run.tags),
                stamp(run, "start_time"),
                keyed(wr.Config, run.config) if run.HasField("config") else None,
                keyed(wr.Summary, run.summary) if run.HasField("summary") else None,
            )  # fmt: skip
        elif kind == "exit":
            yield wr.RunExit(record.exit.exit_code, record.exit.runtime)
        elif kind == "environment":
            env = record.environment
            yield wr.Environment(env.host, env.git.commit, stamp(env, "started_at"))
        else:
            yield None


def import_seconds(statement: str) -> float:
    """Gives the median seconds `statement` adds to `import labbook` in a fresh interpreter."""

    def run(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
        return time.perf_counter() - start

    base = statistics.median(run("import labbook") for _ in range(5))
    return statistics.median(run(f"import labbook; {statement}") for _ in range(5)) - base


def leet_command(log: Path) -> list[str]:
    return [sys.executable, "-m", "wandb", "leet", "inspect", "--json", str(log)]


def leet_raw(log: Path, env: dict[str, str]) -> int:
    """Runs wandb-core's reader over the log, output discarded; gives its exit code."""
    return subprocess.run(
        leet_command(log), env=env, stdout=subprocess.DEVNULL, check=True, timeout=600
    ).returncode


def leet_series(log: Path, env: dict[str, str]) -> dict[str, int]:
    """Gives points per key after reading the log with wandb leet and parsing its JSON."""
    steps: dict[str, list[int]] = {k: [] for k in KEYS}
    values: dict[str, list[float]] = {k: [] for k in KEYS}
    with subprocess.Popen(leet_command(log), env=env, stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            record = json.loads(line)
            if record.get("type") != "history":
                continue
            # leet prints a row's items as one object, nested keys already dotted.
            row = flatten(record["history"].get("item", {}))
            step = int(row.get("_step", len(steps[KEYS[0]])))
            for key in KEYS:
                if key in row:
                    steps[key].append(step)
                    values[key].append(float(row[key]))
    arrays = {k: (np.asarray(steps[k]), np.asarray(values[k])) for k in KEYS}
    return {k: len(v[0]) for k, v in arrays.items()}


def flatten(row: Any, prefix: str = "") -> dict[str, Any]:
    """Gives a nested history row (as leet prints it) flat, keys joined with dots."""
    out: dict[str, Any] = {}
    items = row.items() if isinstance(row, dict) else []
    for key, value in items:
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out.update(flatten(value, full))
        else:
            out[full] = value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--fresh", action="store_true", help="rewrite the run")
    parser.add_argument("--skip-leet", action="store_true", help="leave out wandb leet")
    parser.add_argument(
        "--compare-src",
        type=Path,
        default=None,
        help="also time the labbook in this src/ folder (e.g. an older commit's, from git archive)",
    )
    args = parser.parse_args()

    root = args.data or Path(tempfile.gettempdir()) / f"labbook-bench-wandb-{args.rows}"
    log = None if args.fresh else find_log(root)
    if log is None:
        print(f"writing a {args.rows:,}-row run with the wandb SDK into {root} …", flush=True)
        print(f"  written in {write_run(root, args.rows):.1f} s")
        log = find_log(root)
        assert log is not None, "the SDK wrote no .wandb log"
    size_mb = log.stat().st_size / 1e6
    print(f"run log: {log} ({size_mb:.1f} MB)")

    imports = {
        "labbook's wire decoder": import_seconds("import labbook.formats.wandb_record"),
        "protobuf runtime": import_seconds(
            "from google.protobuf import descriptor_pb2, descriptor_pool, message_factory"
        ),
        "wandb's pb2 classes": import_seconds("import wandb.proto.wandb_internal_pb2"),
    }
    for name, seconds in imports.items():
        print(f"import, on top of `import labbook`: {name}: {seconds:.2f} s")
    from wandb.proto import wandb_internal_pb2  # imported once, before timing

    start = time.perf_counter()
    pb_runtime = protobuf_record_class()
    print(
        f"building the protobuf runtime's classes from descriptors: "
        f"{time.perf_counter() - start:.3f} s"
    )
    records = records_of(log)
    wire = list(decode_wire(records))
    for name, record_class in (
        ("protobuf runtime", pb_runtime),
        ("wandb", wandb_internal_pb2.Record),
    ):
        assert list(decode_messages(records, record_class)) == wire, f"{name} decodes differently"
    del wire
    print(f"{len(records):,} records: the three decoders agree\n")

    series = f"{len(KEYS)} series x {args.rows:,} points"
    timings = [
        Timing("labbook read", series, lambda: labbook_read(root)),
        Timing("  in a fresh process", series, lambda: read_in_subprocess(root, None)),
    ]
    if args.compare_src is not None:
        timings.append(
            Timing(
                "  older labbook",
                f"{args.compare_src}, fresh process",
                lambda: read_in_subprocess(root, args.compare_src),
            )
        )
    timings += [
        Timing("framing", f"{len(records):,} records", lambda: records_of(log)),
        Timing("decode: wire", "labbook's decoder", lambda: consumed(decode_wire(records))),
        Timing(
            "decode: protobuf",
            "protobuf runtime, own descriptors",
            lambda: consumed(decode_messages(records, pb_runtime)),
        ),
        Timing(
            "decode: wandb pb2",
            "wandb's generated classes",
            lambda: consumed(decode_messages(records, wandb_internal_pb2.Record)),
        ),
    ]
    if not args.skip_leet:
        env = sdk_env(root)
        timings += [
            Timing("wandb leet", "records printed as JSON, discarded", lambda: leet_raw(log, env)),
            Timing(
                "wandb leet+parse",
                f"{len(KEYS)} series from its JSON",
                lambda: leet_series(log, env),
            ),
        ]
    time_interleaved(timings, args.repeat)
    for timing in timings:
        result = timing.result
        if isinstance(result, dict):
            assert all(n == args.rows for n in result.values()), (timing.name, result)
        elif isinstance(result, SubprocessRead):
            assert result.points == len(KEYS) * args.rows, (timing.name, result)

    base = statistics.median(timings[0].wall)
    base_cpu = statistics.median(timings[0].cpu)
    print(f"{'reader':<22} {'wall s':>7} {'CPU s':>7} {'CPU vs labbook':>15}  what")
    for timing in timings:
        wall, cpu = statistics.median(timing.wall), statistics.median(timing.cpu)
        # wandb leet's work is in its child process: only its wall time says anything.
        cpu_text = (
            f"{cpu:>7.2f} {cpu / base_cpu:>14.2f}x"
            if "leet" not in timing.name
            else f"{'':>7} {'':>15}"
        )
        print(f"{timing.name:<22} {wall:>7.2f} {cpu_text}  {timing.what}")
    rows_per_s = args.rows / base if base else math.nan
    print(f"\nlabbook: {rows_per_s:,.0f} history rows/s, {size_mb / base:.1f} MB/s of log (wall)")


if __name__ == "__main__":
    main()
