"""Times reading a large TensorBoard run: labbook's event-file reader against TensorBoard's own.

Writes one run with tensorboardX into a temporary folder: 4 tags (`loss` and 3 others), each
logged at every one of `--steps` steps (400,000 scalar events by default; writing takes a
while, tensorboardX checksums in pure Python; `--logdir` reuses a folder written before). Then
measures, as medians over `--repeat` runs, each from a fresh reader:

  labbook            TensorBoardSource.list_runs() + read_series() of every tag
  EventAccumulator   TensorBoard's loader, nothing sampled away:
                     EventAccumulator(size_guidance={scalars: 0, tensors: 0}).Reload() + Scalars()
  protobuf decode    the design labbook did not take: the same framing and checksums as labbook,
                     then each record decoded with the `tensorboard` package's Event protobuf

and checks that labbook and EventAccumulator give the same points. Prints a Markdown table.

    uv run python bench/bench_tensorboard.py [--steps 100000] [--repeat 3] [--logdir DIR]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from labbook.formats.tfrecord import _first_bad_record, _frame
from labbook.sources.tensorboard import TensorBoardSource

TAGS = ("loss", "val/acc", "lr", "grad_norm")
T0 = 1793613600.0


def write_run(folder: Path, steps: int) -> None:
    """Writes one tensorboardX run of len(TAGS) tags × `steps` scalars into `folder`."""
    import tensorboardX

    writer = tensorboardX.SummaryWriter(str(folder), max_queue=10_000, flush_secs=3600)
    for step in range(steps):
        wall = T0 + step * 0.01
        writer.add_scalar("loss", 2.0 * math.exp(-step / steps) + 0.01 * math.sin(step), step, wall)
        writer.add_scalar("val/acc", 1.0 - 1.0 / (step + 2), step, wall)
        writer.add_scalar("lr", 0.001 * 0.5 ** (step // 10_000), step, wall)
        writer.add_scalar("grad_norm", 1.0 + (step % 97) / 97, step, wall)
    writer.close()


Points = dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # tag -> steps, values, times


def read_labbook(logs: Path) -> Points:
    """Gives every tag's points as labbook reads them."""
    src = TensorBoardSource(str(logs))
    [run] = src.list_runs()
    out: Points = {}
    for tag in run.metric_keys():
        s = src.read_series(run, tag)
        out[tag] = (s.steps, s.values, s.times)
    return out


def read_event_accumulator(logs: Path) -> Points:
    """Gives every tag's points as TensorBoard's EventAccumulator reads them, none sampled away."""
    from tensorboard.backend.event_processing.event_accumulator import (
        SCALARS,
        TENSORS,
        EventAccumulator,
    )

    acc = EventAccumulator(str(logs), size_guidance={SCALARS: 0, TENSORS: 0})
    acc.Reload()
    out: Points = {}
    for tag in acc.Tags()["scalars"]:
        events = acc.Scalars(tag)
        out[tag] = (
            np.asarray([e.step for e in events], dtype=np.int64),
            np.asarray([e.value for e in events], dtype=np.float64),
            np.asarray([e.wall_time for e in events], dtype=np.float64),
        )
    return out


def read_protobuf(logs: Path) -> Points:
    """labbook's framing and checksums, then each record through the `tensorboard` protobufs."""
    from tensorboard.compat.proto.event_pb2 import Event

    collected: dict[str, tuple[list[int], list[float], list[float]]] = {}
    for path in sorted(logs.glob("events.out.tfevents.*")):
        data = path.read_bytes()
        buf = np.frombuffer(data, dtype=np.uint8)
        starts, lengths, _, checked, _ = _frame(data, buf)
        bad = _first_bad_record(buf, starts, lengths, checked)
        count = bad[0] if bad is not None else len(starts)
        decode = Event.FromString
        for start, length in zip(starts[:count].tolist(), lengths[:count].tolist(), strict=True):
            event = decode(data[start : start + length])
            if not event.HasField("summary"):
                continue
            for value in event.summary.value:
                if value.HasField("simple_value"):
                    steps, values, times = collected.setdefault(value.tag, ([], [], []))
                    steps.append(event.step)
                    values.append(value.simple_value)
                    times.append(event.wall_time)
    out: Points = {}
    for tag, (steps, values, times) in collected.items():
        s = np.asarray(steps, dtype=np.int64)
        order = np.argsort(s, kind="stable")
        out[tag] = (s[order], np.asarray(values)[order], np.asarray(times)[order])
    return out


def timed(fn: Callable[[Path], Points], logs: Path, repeat: int) -> tuple[float, Points]:
    """Gives the median seconds of `repeat` calls, and the last call's points."""
    seconds: list[float] = []
    points: Points = {}
    for _ in range(repeat):
        start = time.perf_counter()
        points = fn(logs)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), points


def same_points(a: Points, b: Points) -> bool:
    """Gives whether two readers gave the same tags, steps, values (NaN equal) and times."""
    if sorted(a) != sorted(b):
        return False
    return all(
        np.array_equal(a[t][0], b[t][0])
        and np.array_equal(a[t][1], b[t][1], equal_nan=True)
        and np.array_equal(a[t][2], b[t][2])
        for t in a
    )


def main(argv: list[str] | None = None) -> int:
    """Gives 0 when labbook read the same points as the other readers, printing the timings."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--logdir", type=Path, help="a run folder written before (else a new one)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        logs: Path = args.logdir or Path(tmp) / "run"
        if args.logdir is None or not any(logs.glob("events.out.tfevents.*")):
            start = time.perf_counter()
            write_run(logs, args.steps)
            print(f"wrote {logs} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        size = sum(p.stat().st_size for p in logs.glob("events.out.tfevents.*"))

        start = time.perf_counter()
        read_labbook(logs)  # the first read in a process also pays numpy's first-touch costs
        first = time.perf_counter() - start
        mine_s, mine = timed(read_labbook, logs, args.repeat)
        proto_s, proto = timed(read_protobuf, logs, args.repeat)
        theirs_s, theirs = timed(read_event_accumulator, logs, args.repeat)

    points = sum(len(v[0]) for v in mine.values())
    print(
        f"{len(mine)} tags, {points:,} points, {size / 1e6:.1f} MB of event files; "
        f"median of {args.repeat} reads\n"
    )
    print("| reader | seconds | points/s | vs EventAccumulator |")
    print("| --- | ---: | ---: | ---: |")
    rows = [
        ("labbook (first read in the process)", first),
        ("labbook", mine_s),
        ("protobuf decode (not taken)", proto_s),
        ("EventAccumulator, size_guidance 0", theirs_s),
    ]
    for name, seconds in rows:
        print(
            f"| {name} | {seconds:.3f} | {points / seconds:,.0f} | "
            f"{theirs_s / seconds:.1f}× faster |"
            if seconds != theirs_s
            else f"| {name} | {seconds:.3f} | {points / seconds:,.0f} | 1× |"
        )
    agree = same_points(mine, theirs) and same_points(mine, proto)
    print(f"\nsame points as EventAccumulator and the protobuf decode: {'yes' if agree else 'NO'}")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
