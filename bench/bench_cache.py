"""Times builds with the run cache, cold and warm, in fresh processes as a user runs them.

Part 1, the example lab book (a copy, made a git repository): `labbook build` with the
cache emptied first (cold), `labbook build` again with nothing changed (warm), and a
plain `mkdocs build` of the same pages without labbook's fences and expressions (see
bench_build.py). Goal: warm <= 1.2x the plain build. The snapshot size of the example
(`labbook freeze`) is reported too.

Part 2, scale: an MLflow SQLite store of 2,000 runs x 10 metrics x 1,000 steps (20M
metric rows) and a lab book of 20 reports, each over its group of 100 runs (two grouped
line charts and a table). The store's schema and one seed run are written by the real
mlflow library; the other 1,999 runs are copies of the seed's rows made with SQL, each
with its own params and scaled values (writing 20M points through mlflow's client takes
hours). Timed: cold, warm, warm after one run changed (one param updated with sqlite3),
against reading the store once (labbook reading every series, and the raw rows).

Every timed command is a fresh process with a bytecode cache of its own, as an
installed environment runs (this machine sets PYTHONDONTWRITEBYTECODE=1).

    uv run python bench/bench_cache.py [--repeat 3] [--skip-scale] [--data DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_build import make_projects

BIN = Path(sys.executable).parent
RUNS, METRICS, STEPS, REPORTS = 2000, 10, 1000, 20

SEED_WRITER = r"""
import sys, math, mlflow
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient
uri, metrics, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
client = MlflowClient(tracking_uri=uri)
experiment = client.create_experiment("bench")
run = client.create_run(experiment, start_time=1_790_000_000_000, run_name="run-0000")
client.log_batch(run.info.run_id, params=[Param("lr", "0.001"), Param("group", "g00"),
                                          Param("seed", "0")])
for m in range(metrics):
    points = [Metric(f"m{m}", math.exp(-s / 300) * (1 + m / 10) + 0.01 * math.sin(s), 1_790_000_000_000 + s * 1000, s)
              for s in range(steps)]
    for lo in range(0, steps, 1000):
        client.log_batch(run.info.run_id, metrics=points[lo:lo + 1000])
client.set_terminated(run.info.run_id, "FINISHED", end_time=1_790_000_000_000 + steps * 1000)
print(run.info.run_id)
"""

READ_ALL = r"""
import sys, labbook
src = labbook.open_source("mlflow+sqlite:///" + sys.argv[1])
runs = src.search(experiment="bench")
found = src.read_many(list(runs))
print(sum(len(s) for r in found.values() for s in r.values()))
"""

RAW_ROWS = r"""
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute("SELECT key, value, timestamp, step FROM metrics").fetchall()
print(len(rows))
"""


def env(cache: Path) -> dict[str, str]:
    out = dict(os.environ)
    out.pop("PYTHONDONTWRITEBYTECODE", None)
    out["PYTHONPYCACHEPREFIX"] = str(cache)
    out["MLFLOW_TRACKING_URI"] = ""
    return out


def run(command: list[str], cwd: Path, cache: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env(cache), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-1500:]}{done.stderr[-3000:]}")
    return seconds


def stats(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} | {min(values):.2f}"


# -- part 1: the example lab book -----------------------------------------------------------


def example(repeat: int, base: Path, cache: Path) -> None:
    base.mkdir(parents=True)
    labbook, plain = make_projects(base)
    build = [str(BIN / "labbook"), "-q", "build", "-d", str(base / "site")]
    mkdocs = [str(BIN / "mkdocs"), "build", "-q", "-d", str(base / "site-plain")]
    for command, cwd in ((build, labbook), (mkdocs, plain)):
        run(command, cwd, cache)  # fills the bytecode cache (and the run cache)
    times: dict[str, list[float]] = {"cold": [], "runs": [], "warm": [], "plain": []}
    for _ in range(repeat):
        shutil.rmtree(labbook / ".labbook" / "cache", ignore_errors=True)
        times["cold"].append(run(build, labbook, cache))
        shutil.rmtree(labbook / ".labbook" / "cache" / "pages")
        times["runs"].append(run(build, labbook, cache))
        times["warm"].append(run(build, labbook, cache))
        times["plain"].append(run(mkdocs, plain, cache))
    plain_median = statistics.median(times["plain"])
    print("### The example lab book, fresh processes\n")
    print("| command | median s | best s | × plain `mkdocs build` |")
    print("| --- | ---: | ---: | ---: |")
    rows = (
        ("`labbook build`, cache emptied (cold)", "cold"),
        ("`labbook build`, run cache only (every report compiled)", "runs"),
        ("`labbook build`, nothing changed (warm)", "warm"),
        ("`mkdocs build` of the plain pages", "plain"),
    )
    for label, key in rows:
        ratio = statistics.median(times[key]) / plain_median
        print(f"| {label} | {stats(times[key])} | {ratio:.2f}× |")
    run([str(BIN / "labbook"), "-q", "freeze"], labbook, cache)
    snapshots = labbook / ".labbook" / "snapshots"
    files = [p for p in snapshots.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    print(f"\n`labbook freeze` of the example: {len(files)} files, {size / 1024:.0f} KiB")
    for folder in sorted(p for p in snapshots.iterdir() if p.is_dir()):
        part = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        print(f"- {folder.name}: {part / 1024:.0f} KiB")
    print()


# -- part 2: 20 reports over 2,000 runs -----------------------------------------------------


def make_store(db: Path, cache: Path) -> None:
    """Writes the seed run with mlflow, then copies it into RUNS runs with SQL."""
    db.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", SEED_WRITER, f"sqlite:///{db}", str(METRICS), str(STEPS)],
        env=env(cache),
        capture_output=True,
        text=True,
        check=True,
    )
    seed = done.stdout.strip().splitlines()[-1]
    conn = sqlite3.connect(db)
    run_columns = [r[1] for r in conn.execute("PRAGMA table_info(runs)")]
    for i in range(1, RUNS):
        uuid = f"{i:032x}"
        values = {
            "run_uuid": f"'{uuid}'",
            "name": f"'run-{i:04d}'",
            "start_time": f"start_time + {i * 60_000}",
            "end_time": f"end_time + {i * 60_000}",
        }
        select = ", ".join(values.get(c, c) for c in run_columns)
        conn.execute(
            f"INSERT INTO runs ({', '.join(run_columns)}) SELECT {select} FROM runs WHERE run_uuid = ?",
            (seed,),
        )
        lr = 10 ** (-4 + 3 * (i % 17) / 16)
        conn.executemany(
            "INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
            [
                ("lr", f"{lr:.6g}", uuid),
                ("group", f"g{i % REPORTS:02d}", uuid),
                ("seed", str(i), uuid),
            ],
        )
        conn.execute(
            "INSERT INTO tags (key, value, run_uuid) SELECT key, value, ? FROM tags WHERE run_uuid = ?",
            (uuid, seed),
        )
        scale = 1 + (i % 97) / 200
        for table in ("metrics", "latest_metrics"):
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            select = ", ".join(
                {
                    "run_uuid": "?",
                    "value": f"value * {scale}",
                    "timestamp": f"timestamp + {i * 60_000}",
                }.get(c, c)
                for c in columns
            )
            conn.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM {table} WHERE run_uuid = ?",
                (uuid, seed),
            )
        if i % 200 == 0:
            conn.commit()
            print(f"  {i} runs", file=sys.stderr, flush=True)
    conn.execute("UPDATE params SET value = 'g00' WHERE run_uuid = ? AND key = 'group'", (seed,))
    conn.commit()
    conn.close()


def scale_book(root: Path, db: Path) -> None:
    (root / "reports").mkdir(parents=True)
    # The store itself (4.5 GB), not a copy: the bench's own data folder.
    (root / "mkdocs.yml").write_text(
        "site_name: scale\ndocs_dir: reports\ntheme:\n  name: material\nplugins:\n"
        f"  - labbook:\n      sources:\n        sweeps: mlflow+sqlite:///{db.resolve()}\n",
        encoding="utf-8",
    )
    for k in range(REPORTS):
        (root / "reports" / f"group-{k:02d}.md").write_text(
            f"---\nruns:\n  g: {{experiment: bench, filter: \"params.group = 'g{k:02d}'\"}}\n---\n"
            f"# Group {k}\n\n{{{{ len(g) }}}} runs; best m0: {{{{ g.best('m0', 'min').name }}}}.\n\n"
            "```labbook\nline: m0\nruns: g\ngroup_by: params.lr\n```\n\n"
            "```labbook\nline: m1\nruns: g\ngroup_by: params.lr\n```\n\n"
            "```labbook\ntable: [name, params.lr, metrics.m0, metrics.m1]\nruns: g\n```\n",
            encoding="utf-8",
        )


def scale(repeat: int, base: Path, data: Path, cache: Path) -> None:
    db = data / "mlflow.db"
    marker = data / "done"
    if not marker.is_file():
        shutil.rmtree(data, ignore_errors=True)
        print(f"writing the {RUNS}-run store into {data} …", file=sys.stderr)
        started = time.perf_counter()
        make_store(db, cache)
        marker.write_text(f"{RUNS}x{METRICS}x{STEPS}\n")
        print(f"  written in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    root = base / "scale"
    scale_book(root, db)
    book_db = db
    build = [str(BIN / "labbook"), "-q", "build", "-d", str(base / "scale-site")]
    read_all = [sys.executable, "-c", READ_ALL, str(book_db)]
    raw = [sys.executable, "-c", RAW_ROWS, str(book_db)]
    run(read_all, root, cache)
    times: dict[str, list[float]] = {k: [] for k in ("cold", "warm", "changed", "read", "raw")}
    for i in range(repeat):
        shutil.rmtree(root / ".labbook" / "cache", ignore_errors=True)
        times["cold"].append(run(build, root, cache))
        times["warm"].append(run(build, root, cache))
        with sqlite3.connect(book_db) as conn:
            conn.execute(
                "UPDATE params SET value = ? WHERE run_uuid = ? AND key = 'seed'",
                (str(10_000 + i), f"{5:032x}"),
            )
        times["changed"].append(run(build, root, cache))
        times["read"].append(run(read_all, root, cache))
        times["raw"].append(run(raw, root, cache))
    reading = statistics.median(times["read"])
    print(
        f"### {REPORTS} reports over {RUNS:,} runs x {METRICS} metrics x {STEPS:,} steps (SQLite)\n"
    )
    print(
        f"Store: {db.stat().st_size / 2**20:.0f} MiB. Each report reads its 100 runs' m0 and m1.\n"
    )
    print("| command (fresh process) | median s | best s | × reading the store once |")
    print("| --- | ---: | ---: | ---: |")
    rows = (
        ("`labbook build`, run cache emptied (cold)", "cold"),
        ("`labbook build`, nothing changed (warm)", "warm"),
        ("`labbook build` after one run's param changed", "changed"),
        ("reading the store once: every series through labbook", "read"),
        ("reading the store once: raw rows (`SELECT … FROM metrics`)", "raw"),
    )
    for label, key in rows:
        print(f"| {label} | {stats(times[key])} | {statistics.median(times[key]) / reading:.2f}× |")
    cache_dir = root / ".labbook" / "cache"
    size = sum(p.stat().st_size for p in cache_dir.rglob("*") if p.is_file())
    print(f"\nRun cache after the build: {size / 2**20:.1f} MiB.\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--skip-example", action="store_true")
    parser.add_argument(
        "--data", type=Path, default=Path(tempfile.gettempdir()) / "labbook-bench-cache"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="labbook-bench-cache-") as tmp:
        base = Path(tmp)
        cache = args.data / "pycache"
        cache.mkdir(parents=True, exist_ok=True)
        if not args.skip_example:
            example(args.repeat, base / "example", cache)
        if not args.skip_scale:
            scale(args.repeat, base, args.data / "store", cache)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
