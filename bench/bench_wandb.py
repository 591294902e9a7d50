"""Times labbook's read of a W&B offline run of 100,000 history rows against W&B's own reader.

The run is written once by the real wandb SDK in offline mode (about half a minute), into
`--data` (default: a folder in the system temp dir, reused by later runs; `--fresh`
rewrites it). It logs five metrics per row: `train/loss`, `train/acc`, `lr` and the nested
`val` = {`loss`, `acc`}. Then, as medians over `--repeat` runs:

  labbook read       a fresh WandbOfflineSource: list the run (reads its .wandb log once)
                     and read_series of every metric: the full read of all series
  framing+protobuf   labbook's LogReader and wandb's protobuf `Record.FromString` on every
                     record, mapping nothing: the floor under the full read
  wandb leet         `wandb leet inspect --json FILE`: wandb-core's (Go) reader of the
                     same log, printing every record as JSON, output discarded
  wandb leet+parse   the same, its JSON lines parsed in Python into per-key series, which
                     is what getting series out of W&B's own offline reader costs

wandb has no public offline reader in Python. `wandb sync` read logs with
`wandb.sdk.internal.datastore.DataStore` up to wandb 0.18; since wandb-core (Go) took over,
that module is gone (0.31 ships no datastore.py), so `wandb leet inspect` is W&B's own
offline reader here. The wandb import (about a second) is done before timing.

Nothing reaches the network: the SDK runs offline with a base URL and proxies on a closed
local port.

    uv run python bench/bench_wandb.py [--rows 100000] [--repeat 3] [--data DIR] [--fresh]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from labbook.sources.wandb_common import offline_sdk_environment
from labbook.sources.wandb_offline import LogReader, WandbOfflineSource

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


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Gives the median seconds of `repeat` calls and the last call's result."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def labbook_read(root: Path) -> dict[str, int]:
    """Gives points per key after a full read of every series by a fresh source."""
    source = WandbOfflineSource(str(root))
    [run] = source.list_runs()
    return {key: len(run.series(key)) for key in run.metric_keys() if key in KEYS}


def framing_and_protobuf(log: Path) -> int:
    """Gives the number of records after framing and protobuf-parsing every one."""
    from wandb.proto import wandb_internal_pb2 as pb

    parse = pb.Record.FromString
    count = 0
    for _, payload in LogReader(log.read_bytes()).records():
        parse(payload)
        count += 1
    return count


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

    start = time.perf_counter()
    import wandb.proto.wandb_internal_pb2  # noqa: F401 - imported once, before timing

    print(f"import wandb's protobuf classes (once): {time.perf_counter() - start:.2f} s\n")

    results: list[tuple[str, float, str]] = []
    seconds, counts = timed(lambda: labbook_read(root), args.repeat)
    assert all(n == args.rows for n in counts.values()), counts
    results.append(("labbook read", seconds, f"{len(counts)} series x {args.rows:,} points"))
    seconds, records = timed(lambda: framing_and_protobuf(log), args.repeat)
    results.append(("framing+protobuf", seconds, f"{records:,} records, nothing mapped"))
    if not args.skip_leet:
        env = sdk_env(root)
        seconds, _ = timed(lambda: leet_raw(log, env), args.repeat)
        results.append(("wandb leet", seconds, "records printed as JSON, discarded"))
        seconds, counts = timed(lambda: leet_series(log, env), args.repeat)
        assert all(n == args.rows for n in counts.values()), counts
        results.append(("wandb leet+parse", seconds, f"{len(counts)} series from its JSON"))

    base = results[0][1]
    print(f"{'reader':<18} {'median s':>9} {'vs labbook':>11}  what")
    for name, seconds, what in results:
        ratio = seconds / base if base else math.nan
        print(f"{name:<18} {seconds:>9.2f} {ratio:>10.2f}x  {what}")
    rows_per_s = args.rows / base if base else math.nan
    print(f"\nlabbook: {rows_per_s:,.0f} history rows/s, {size_mb / base:.1f} MB/s of log")


if __name__ == "__main__":
    main()
