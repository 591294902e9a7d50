"""Times the report language's block kinds as users run them, and weighs their pages.

1. A page with every block kind (line, table, scatter, bar, histogram, parallel,
   importance, compare, media) over 200 runs of an MLflow SQLite store written by the
   real mlflow library (5 metrics x 500 steps; images put in four runs' artifact
   folders): `labbook build` and `labbook check` in fresh processes, the page's
   compile alone in this process, and the page's weight (HTML, figure JSON, images).
2. `labbook check` against `labbook build` on the example lab book, fresh processes:
   check reads the runs' metric keys and summaries, never a history.
3. A scatter and a parallel-coordinates chart over 2,000 local runs: page weight, and
   in headless Chromium the time Plotly takes to draw each and to redraw on a zoom.

    uv run python bench/bench_blocks.py [--repeat 3] [--data DIR] [--fresh]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mlflow import WRITER, mlflow_env

REPO = Path(__file__).resolve().parents[1]
FENCE = "```"
PNG = (REPO / "src" / "labbook" / "example_media").glob("*.png")

REPORT = f"""---
title: Every kind over 200 runs
runs:
  all: {{source: sweeps, experiment: bench}}
---
# Every kind over 200 runs

{FENCE}labbook
line: val/loss
group_by: params.lr
smoothing: 0.6
{FENCE}

{FENCE}labbook
table: [name, params.lr, params.seed, metrics.val/acc, metrics.val/loss]
sort: metrics.val/acc desc
limit: 50
{FENCE}

{FENCE}labbook
scatter: {{x: params.lr, y: val/acc}}
color: params.seed
trendline: true
{FENCE}

{FENCE}labbook
bar: val/acc
group_by: params.lr
{FENCE}

{FENCE}labbook
histogram: val/acc
{FENCE}

{FENCE}labbook
parallel: [params.lr, params.seed, val/loss, val/acc]
{FENCE}

{FENCE}labbook
importance: val/acc
params: [params.lr, params.seed]
{FENCE}

{FENCE}labbook
compare: [run-0000, run-0001]
metrics: [val/loss, val/acc]
{FENCE}

{FENCE}labbook
media: plots/*.png
{FENCE}
"""

MKDOCS = """site_name: bench
docs_dir: reports
theme:
  name: material
plugins:
  - labbook:
      sources:
        {name}: {uri}
"""


def median_of(command: list[str], cwd: Path, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat + 1):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    times = times[1:]  # the first, untimed, warms the page cache and bytecode
    return statistics.median(times), min(times)


def sqlite_project(root: Path, fresh: bool) -> Path:
    store = root / "store"
    db = store / "mlflow.db"
    if fresh and store.exists():
        shutil.rmtree(store)
    if not (store / "done").is_file():
        store.mkdir(parents=True, exist_ok=True)
        print("writing 200 runs x 5 metrics x 500 steps with mlflow …", file=sys.stderr)
        subprocess.run(
            [
                sys.executable,
                "-c",
                WRITER,
                f"sqlite:///{db}",
                (store / "artifacts").as_uri(),
                "200",
                "5",
                "500",
            ],
            env=mlflow_env(),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        (store / "done").write_text("ok\n")
    # Images in four runs' artifact folders, where MLflow's log_artifact puts them
    # (<artifact location>/<run id>/artifacts/).
    import sqlite3
    import urllib.parse

    with sqlite3.connect(db) as con:
        uris = [u for (u,) in con.execute("SELECT artifact_uri FROM runs ORDER BY name LIMIT 4")]
    for uri, png in zip(uris, sorted(PNG), strict=False):
        folder = Path(urllib.parse.unquote(urllib.parse.urlparse(uri).path)) / "plots"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(png, folder / "confusion.png")
    project = root / "project"
    if project.exists():
        shutil.rmtree(project)
    (project / "reports").mkdir(parents=True)
    (project / "reports" / "index.md").write_text(REPORT, encoding="utf-8")
    (project / "mkdocs.yml").write_text(MKDOCS.format(name="sweeps", uri=f"mlflow+sqlite:///{db}"))
    return project


def page_weight(site: Path) -> dict[str, int]:
    html = (site / "index.html").read_text(encoding="utf-8")
    figures = re.findall(
        r'<script type="application/json" id="[^"]+-figure">(.*?)</script>', html, re.S
    )
    files = (
        sum(p.stat().st_size for p in (site / "assets" / "labbook" / "files").glob("*"))
        if (site / "assets" / "labbook" / "files").is_dir()
        else 0
    )
    return {
        "html": len(html.encode()),
        "figures": sum(len(f.encode()) for f in figures),
        "charts": len(figures),
        "files": files,
    }


def compile_in_process(project: Path, repeat: int) -> float:
    from labbook.project import Project
    from labbook.report.compile import ProjectCompiler

    loaded = Project.load(project / "mkdocs.yml")
    compiler = ProjectCompiler(loaded)
    compiler.compile_file(project / "reports" / "index.md")  # warm: runs and series read
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        page = compiler.compile_file(project / "reports" / "index.md")
        times.append(time.perf_counter() - start)
    assert not page.errors, page.errors
    return statistics.median(times)


def local_runs(root: Path, count: int) -> Path:
    project = root / "wide"
    if project.exists():
        shutil.rmtree(project)
    for i in range(count):
        folder = project / "runs" / f"r{i:05d}"
        folder.mkdir(parents=True)
        meta = {
            "name": f"run-{i:04d}",
            "experiment": "wide",
            "params": {
                "lr": round(10 ** (-4 + 3 * (i % 97) / 97), 6),
                "batch": [32, 64, 128, 256][i % 4],
                "opt": ["adam", "sgd"][i % 2],
            },
            "summary": {
                "val/acc": round(0.5 + 0.45 * ((i * 37) % 101) / 101, 4),
                "val/loss": round(1.5 - ((i * 37) % 101) / 101, 4),
            },
        }
        (folder / "run.json").write_text(json.dumps(meta))
    (project / "reports").mkdir()
    report = f"---\nruns:\n  all: {{source: local, experiment: wide}}\n---\n# Wide\n\n{FENCE}labbook\nscatter: {{x: params.lr, y: val/acc}}\ncolor: params.batch\nlog_x: true\n{FENCE}\n\n{FENCE}labbook\nparallel: [params.lr, params.batch, params.opt, val/loss, val/acc]\n{FENCE}\n"
    (project / "reports" / "index.md").write_text(report)
    (project / "mkdocs.yml").write_text(MKDOCS.format(name="local", uri="runs"))
    return project


def draw_times(site: Path) -> list[tuple[str, float, float]]:
    import functools
    import http.server
    import threading

    from playwright.sync_api import sync_playwright

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(site))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"http://127.0.0.1:{server.server_port}/", wait_until="load")
        plots = page.locator(".labbook-plot")
        for i in range(plots.count()):
            plot = plots.nth(i)
            timing = plot.evaluate(
                """async el => {
                  const fig = JSON.parse(document.getElementById(el.dataset.labbookFigure).textContent);
                  const box = document.createElement('div'); box.style.width = '900px'; box.style.height = '400px';
                  document.body.appendChild(box);
                  let t = performance.now(); await Plotly.newPlot(box, fig.data, fig.layout); const draw = performance.now() - t;
                  t = performance.now();
                  if (fig.data[0].type === 'parcoords') { await Plotly.restyle(box, {'dimensions[0].constraintrange': [[0.001, 0.01]]}); }
                  else { await Plotly.relayout(box, {'xaxis.range': [-3, -1.5]}); }
                  const redraw = performance.now() - t;
                  return [fig.data[0].type, draw, redraw];
                }"""
            )
            out.append((timing[0], timing[1] / 1000, timing[2] / 1000))
        browser.close()
    server.shutdown()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--data", type=Path, default=Path(tempfile.gettempdir()) / "labbook-bench-blocks"
    )
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    labbook = [sys.executable, "-m", "labbook.cli"]

    project = sqlite_project(args.data, args.fresh)
    build_s = median_of(
        [*labbook, "build", "-q", "-d", str(project / "site")], project, args.repeat
    )
    check_s = median_of([*labbook, "check"], project, args.repeat)
    compile_s = compile_in_process(project, args.repeat)
    weight = page_weight(project / "site")
    print("## Every block kind over 200 runs (MLflow SQLite store)\n")
    print("| measure | value |\n| --- | ---: |")
    print(
        f"| `labbook build` (fresh process), median / best | {build_s[0]:.2f} s / {build_s[1]:.2f} s |"
    )
    print(
        f"| `labbook check` (fresh process), median / best | {check_s[0]:.2f} s / {check_s[1]:.2f} s |"
    )
    print(f"| compile of the page alone (in process, runs read) | {compile_s:.3f} s |")
    print(f"| page HTML | {weight['html'] / 1e6:.2f} MB |")
    print(
        f"| of which figure JSON ({weight['charts']} charts) | {weight['figures'] / 1e6:.2f} MB |"
    )
    print(f"| images copied (media) | {weight['files'] / 1e3:.0f} KB |")

    example = args.data / "example"
    if example.exists():
        shutil.rmtree(example)
    example.mkdir()
    for name in ("mkdocs.yml", "mlflow.db"):
        shutil.copy2(REPO / name, example / name)
    for name in ("reports", "runs", "tensorboard"):
        shutil.copytree(REPO / name, example / name)
    shutil.copytree(REPO / "wandb", example / "wandb", symlinks=True)
    build_e = median_of(
        [*labbook, "build", "-q", "-d", str(example / "site")], example, args.repeat
    )
    check_e = median_of([*labbook, "check"], example, args.repeat)
    print("\n## `labbook check` against `labbook build`, the example lab book\n")
    print("| command (fresh process) | median s | best s | × build |\n| --- | ---: | ---: | ---: |")
    print(f"| `labbook build` | {build_e[0]:.2f} | {build_e[1]:.2f} | 1.00× |")
    print(
        f"| `labbook check` | {check_e[0]:.2f} | {check_e[1]:.2f} | {check_e[0] / build_e[0]:.2f}× |"
    )

    wide = local_runs(args.data, 2000)
    subprocess.run([*labbook, "build", "-q", "-d", str(wide / "site")], cwd=wide, check=True)
    weight = page_weight(wide / "site")
    print("\n## Scatter and parallel coordinates over 2,000 runs\n")
    print(
        f"Page HTML {weight['html'] / 1e6:.2f} MB (goal < 2 MB), figure JSON {weight['figures'] / 1e6:.2f} MB.\n"
    )
    print(
        "| chart | trace type | draw s (Plotly.newPlot) | redraw s (zoom / brush) |\n| --- | --- | ---: | ---: |"
    )
    for kind, draw, redraw in draw_times(wide / "site"):
        print(
            f"| {'scatter' if 'scatter' in kind else 'parallel'} | {kind} | {draw:.3f} | {redraw:.3f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
