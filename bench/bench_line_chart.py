"""Times one `line` block over a 100,000-step run, through the real report pipeline.

Writes a run in labbook's local format (run.json + metrics.jsonl) to a temporary folder: a
noisy, decaying training loss with a few single-step spikes. Then measures, as medians over
`--repeat` runs:

  read     a fresh LocalDirSource listing the run (which parses metrics.jsonl) + read_series
  compile  compile_report of a one-block report, with the series already read (warm source)
  total    the same compile on a fresh source: reading and compiling together

and checks the figure shipped in the page: points per trace, whether every spike and the
first and last points survived downsampling, and the figure JSON's size. Last, times
`labbook.charts.downsample` (and `smooth_ema`, which `smoothing:` runs first) on their own.

    uv run python bench/bench_line_chart.py [--repeat 5] [--steps 100000]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from labbook.charts import downsample, smooth_ema
from labbook.report.compile import CompileOptions, compile_report
from labbook.report.resolve import Resolver
from labbook.sources.localdir import LocalDirSource

KEY = "train/loss"
RUN_ID = "long-run"
SPIKE_FRACTIONS = (0.07, 0.23, 0.5, 0.71, 0.93)
_FIGURE = re.compile(r'<script type="application/json" id="[^"]*-figure">(.*?)</script>', re.S)

REPORT = """---
title: One long run
runs:
  long:
    source: local
---

# One long run

```labbook
line: train/loss
runs: long
log_y: true
{extra}```
"""


def loss_curve(steps: int, seed: int = 0) -> tuple[np.ndarray, dict[int, float]]:
    """Gives a noisy decaying loss and its spikes (step -> value), all spikes single steps."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps, dtype=np.float64)
    level = 0.25 + 2.1 * np.exp(-t / (steps / 8)) + 0.4 * np.exp(-t / (steps / 80))
    noise = rng.normal(0.0, 0.06, steps) + 0.02 * np.sin(t / 37.0)
    y = level * np.exp(noise)
    spikes = {}
    for fraction in SPIKE_FRACTIONS:
        step = int(fraction * steps)
        y[step] = level[step] * 6.0
        spikes[step] = float(np.round(y[step], 6))
    return np.round(y, 6), spikes


def write_run(root: Path, steps: int) -> dict[int, float]:
    """Writes the run in labbook's local format under root; gives its spikes."""
    folder = root / RUN_ID
    folder.mkdir(parents=True)
    y, spikes = loss_curve(steps)
    start = 1_793_611_268.0
    (folder / "run.json").write_text(
        json.dumps(
            {
                "name": "long-run",
                "experiment": "bench",
                "status": "finished",
                "params": {"lr": 3e-4, "batch_size": 256},
            }
        ),
        encoding="utf-8",
    )
    with (folder / "metrics.jsonl").open("w", encoding="utf-8") as out:
        for step, value in enumerate(y.tolist()):
            time_s = round(start + 0.21 * step, 3)
            out.write(f'{{"step": {step}, "time": {time_s}, "{KEY}": {value}}}\n')
    return spikes


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Gives the median seconds of `repeat` calls and the last call's result."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def figures(markdown: str) -> list[tuple[dict[str, Any], int]]:
    """Gives each figure embedded in a compiled page, with its JSON's size in bytes."""
    out = []
    for match in _FIGURE.finditer(markdown):
        text = match.group(1)
        out.append((json.loads(text), len(text.encode("utf-8"))))
    return out


def check_trace(trace: dict[str, Any], y: np.ndarray, spikes: dict[int, float]) -> dict[str, Any]:
    xs, ys = trace["x"], trace["y"]
    shipped = dict(zip(xs, ys, strict=True))
    role = trace["meta"].get("role")
    # A raw line must ship each spike's own value; a smoothed one only its step.
    kept = [
        step in shipped and (role == "smoothed" or shipped[step] == value)
        for step, value in spikes.items()
    ]
    return {
        "role": role,
        "points": len(xs),
        "first_last": xs[0] == 0 and xs[-1] == len(y) - 1,
        "spikes": f"{sum(kept)}/{len(spikes)}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (default 5)")
    parser.add_argument("--steps", type=int, default=100_000, help="steps in the run")
    parser.add_argument("--max-points", type=int, default=1500, help="the plugin's max_points")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="labbook-bench-") as tmp:
        root = Path(tmp) / "runs"
        spikes = write_run(root, args.steps)
        y, _ = loss_curve(args.steps)
        size_mb = (root / RUN_ID / "metrics.jsonl").stat().st_size / 1e6
        print(
            f"Run: {args.steps:,} steps of {KEY!r}, metrics.jsonl {size_mb:.1f} MB, "
            f"spikes at steps {sorted(spikes)}; max_points {args.max_points}; "
            f"medians of {args.repeat} runs (Python {sys.version.split()[0]})\n"
        )

        def fresh_source() -> LocalDirSource:
            return LocalDirSource(str(root), name="local")

        def read() -> int:
            source = fresh_source()
            (run,) = source.list_runs()
            return len(source.read_series(run, KEY))

        read_s, n = timed(read, args.repeat)
        assert n == args.steps, n

        print(
            "| block | read s | compile s (warm source) | read + compile s | traces "
            "| points shipped | first+last kept | spikes kept | figure JSON bytes |"
        )
        print("| --- | ---: | ---: | ---: | --- | --- | --- | --- | ---: |")
        variants = {"line, raw": "", "line, smoothing: 0.6": "smoothing: 0.6\n"}
        for label, extra in variants.items():
            text = REPORT.format(extra=extra)
            path = Path(tmp) / "long.md"
            options = CompileOptions(max_points=args.max_points)
            warm = fresh_source()
            warm_resolver = Resolver({"local": warm})

            def compile_warm(
                text: str = text,
                resolver: Resolver = warm_resolver,
                path: Path = path,
                options: CompileOptions = options,
            ) -> Any:
                return compile_report(path, text, resolver, options)

            def compile_cold(
                text: str = text, path: Path = path, options: CompileOptions = options
            ) -> Any:
                return compile_report(path, text, Resolver({"local": fresh_source()}), options)

            compile_warm()  # reads the series once; the timed runs reuse it
            compile_s, page = timed(compile_warm, args.repeat)
            total_s, _ = timed(compile_cold, args.repeat)
            if page.errors or page.warnings:
                raise SystemExit(f"{label}: {page.errors + page.warnings}")
            ((figure, json_bytes),) = figures(page.markdown)
            checks = [check_trace(t, y, spikes) for t in figure["data"]]
            print(
                f"| {label} | {read_s:.3f} | {compile_s:.3f} | {total_s:.3f} "
                f"| {', '.join(str(c['role']) for c in checks)} "
                f"| {' + '.join(str(c['points']) for c in checks)} "
                f"| {'yes' if all(c['first_last'] for c in checks) else 'NO'} "
                f"| {', '.join(str(c['spikes']) for c in checks)} "
                f"| {json_bytes:,} |"
            )

    print("\n| function | 100k points s | 1M points s |")
    print("| --- | ---: | ---: |")
    rng = np.random.default_rng(1)
    data = {n: (np.arange(n, dtype=np.float64), rng.normal(size=n)) for n in (100_000, 1_000_000)}
    rows: dict[str, Callable[[np.ndarray, np.ndarray], Any]] = {
        f"downsample(max_points={args.max_points})": lambda x, v: downsample(x, v, args.max_points),
        "smooth_ema(weight=0.6)": lambda x, v: smooth_ema(v, 0.6),
    }
    for name, fn in rows.items():
        cells = []
        for x, v in data.values():
            seconds, _ = timed(lambda fn=fn, x=x, v=v: fn(x, v), args.repeat)
            cells.append(f"{seconds:.4f}")
        print(f"| {name} | {' | '.join(cells)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
