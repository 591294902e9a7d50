"""Times `labbook pdf` on a 10-chart report, cold and warm, and `build --pdf` against `build`.

Cold: the figure and PDF caches (.labbook/cache/) emptied first, so every chart goes
through Kaleido and Chromium. Warm: the same command again, every chart and the laid-out
report from the cache (only the cover is rendered). Edited: a sentence of the report
changed, every chart from the cache, the report laid out again. Each is a fresh process, as a user runs it. Goals (issue 9): a 10-chart report
in <= 10 s cold and <= 2 s warm on this machine.

    uv run python bench/bench_pdf.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FENCE = "```"
CHARTS = [
    "line: val/loss\ngroup_by: params.lr\nsmoothing: 0.6",
    "line: train/loss\nsmoothing: 0.8\nlog_y: true",
    "line: val/acc",
    "line: train/acc",
    "scatter: {x: params.lr, y: val/acc}\nlog_x: true\ntrendline: true",
    "bar: val/acc\ngroup_by: params.lr",
    "histogram: val/acc\nbins: 8",
    "parallel: [params.lr, params.seed, val/loss, val/acc]",
    "importance: val/acc\nparams: [params.lr, params.seed]\nmethod: correlation",
    "line: [train/loss, val/loss]\nlayout: grid",
]


ENV: dict[str, str] = {}


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=ENV or None)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="compile every import in every process (as PYTHONDONTWRITEBYTECODE=1 does)",
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="labbook-bench-pdf-"))
    if not args.no_bytecode:
        # As an installed environment runs: imports come from a bytecode cache (filled by
        # the untimed first run), not compiled again in every process.
        import os

        ENV.update(os.environ)
        ENV.pop("PYTHONDONTWRITEBYTECODE", None)
        ENV["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
    for name in ("mkdocs.yml", "mlflow.db"):
        shutil.copy2(REPO / name, root / name)
    for name in ("reports", "runs", "tensorboard"):
        shutil.copytree(REPO / name, root / name)
    shutil.copytree(REPO / "wandb", root / "wandb", symlinks=True)
    blocks = "\n\n".join(
        f"## Chart {i + 1}\n\n{FENCE}labbook\n{c}\nruns: sweep\n{FENCE}"
        for i, c in enumerate(CHARTS)
    )
    head = "---\ntitle: Ten charts\nruns:\n  sweep: {source: local, experiment: cifar-sweep}\n---\n# Ten charts\n\n"
    report = root / "reports" / "ten.md"
    report.write_text(head + blocks + "\n", encoding="utf-8")
    labbook = [sys.executable, "-m", "labbook.cli"]
    pdf = [*labbook, "pdf", "reports/ten.md", "-o", str(root / "ten.pdf")]
    cache = root / ".labbook" / "cache"
    cold, warm, edited = [], [], []
    timed(pdf, root)  # untimed: fills the bytecode cache
    for i in range(args.repeat):
        shutil.rmtree(cache, ignore_errors=True)
        report.write_text(head + blocks + "\n", encoding="utf-8")
        cold.append(timed(pdf, root))
        warm.append(timed(pdf, root))
        report.write_text(head + f"Edited {i}.\n\n" + blocks + "\n", encoding="utf-8")
        edited.append(timed(pdf, root))
    report.write_text(head + blocks + "\n", encoding="utf-8")
    build = [
        timed([*labbook, "build", "-q", "-d", str(root / "site")], root) for _ in range(args.repeat)
    ]
    shutil.rmtree(cache, ignore_errors=True)
    build_pdf_cold = timed([*labbook, "build", "-q", "--pdf", "-d", str(root / "site")], root)
    build_pdf = [
        timed([*labbook, "build", "-q", "--pdf", "-d", str(root / "site")], root)
        for _ in range(args.repeat)
    ]
    reports = len(list((root / "reports").rglob("*.md")))
    print("| command (fresh process) | median s | best s | goal |\n| --- | ---: | ---: | --- |")
    print(
        f"| `labbook pdf` 10-chart report, cold cache | {statistics.median(cold):.2f} | {min(cold):.2f} | ≤ 10 s: {'met' if statistics.median(cold) <= 10 else 'not met'} |"
    )
    print(
        f"| `labbook pdf` 10-chart report, warm cache | {statistics.median(warm):.2f} | {min(warm):.2f} | ≤ 2 s: {'met' if statistics.median(warm) <= 2 else 'not met'} |"
    )
    print(
        f"| `labbook pdf` 10-chart report, warm charts, a sentence edited | {statistics.median(edited):.2f} | {min(edited):.2f} | |"
    )
    print(
        f"| `labbook build` (example + the 10-chart page, {reports} reports) | {statistics.median(build):.2f} | {min(build):.2f} | |"
    )
    print(f"| `labbook build --pdf`, cold cache | {build_pdf_cold:.2f} | | |")
    print(
        f"| `labbook build --pdf`, warm cache | {statistics.median(build_pdf):.2f} | {min(build_pdf):.2f} | {statistics.median(build_pdf) / statistics.median(build):.2f}× build |"
    )
    print(f"\nPDF size: {(root / 'ten.pdf').stat().st_size / 1e3:.0f} KB")
    shutil.rmtree(root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
