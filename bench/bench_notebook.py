"""Times `labbook build` with `notebook: all` over a 2,000-run MLflow SQLite store.

The store is bench_cache.py's (2,000 runs x 10 metrics x 1,000 steps; its schema and seed
run written by mlflow), built there on first use. The lab book has one report that names
one run, and `notebook: all`, so the build writes a page per run: every metric's chart,
params, tags and summary. Timed, each a fresh process with a bytecode cache: the build
with the run cache emptied (cold) and again (warm: the notebook pages are compiled each
build, from cached runs). Reported: pages written, their sizes, and the site's size.

    uv run python bench/bench_notebook.py [--repeat 2] [--data DIR]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cache import BIN, make_store, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--data", type=Path, default=Path(tempfile.gettempdir()) / "labbook-bench-cache"
    )
    args = parser.parse_args(argv)
    cache = args.data / "pycache"
    cache.mkdir(parents=True, exist_ok=True)
    store = args.data / "store"
    db = store / "mlflow.db"
    if not (store / "done").is_file():
        shutil.rmtree(store, ignore_errors=True)
        make_store(db, cache)
        (store / "done").write_text("done\n")
    with tempfile.TemporaryDirectory(prefix="labbook-bench-notebook-") as tmp:
        root = Path(tmp) / "book"
        (root / "reports").mkdir(parents=True)
        (root / "mkdocs.yml").write_text(
            "site_name: notebook\ndocs_dir: reports\ntheme:\n  name: material\nplugins:\n"
            "  - search\n  - labbook:\n      notebook: all\n      sources:\n"
            f"        sweeps: mlflow+sqlite:///{db.resolve()}\n",
            encoding="utf-8",
        )
        (root / "reports" / "index.md").write_text(
            "# Notebook bench\n\nOne run: {{ run('sweeps:run-0001') | link }}.\n",
            encoding="utf-8",
        )
        site = Path(tmp) / "site"
        build = [str(BIN / "labbook"), "-q", "build", "-d", str(site)]
        times: dict[str, list[float]] = {"cold": [], "warm": []}
        for _ in range(args.repeat):
            shutil.rmtree(root / ".labbook", ignore_errors=True)
            times["cold"].append(run(build, root, cache))
            times["warm"].append(run(build, root, cache))
        pages = sorted((site / "notebook").rglob("index.html"))
        run_pages = [p for p in pages if len(p.relative_to(site / "notebook").parts) == 4]
        sizes = [p.stat().st_size for p in run_pages]
        total = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
        search = site / "search" / "search_index.json"
    print("### `notebook: all` over 2,000 runs x 10 metrics x 1,000 steps (SQLite)\n")
    print("| command (fresh process) | median s | best s |")
    print("| --- | ---: | ---: |")
    for label, key in (("cold (run cache emptied)", "cold"), ("warm", "warm")):
        print(
            f"| `labbook build`, {label} | {statistics.median(times[key]):.1f} | {min(times[key]):.1f} |"
        )
    print(
        f"\n{len(pages)} notebook pages, {len(run_pages)} of them run pages: median "
        f"{statistics.median(sizes) / 1024:.0f} KiB, largest {max(sizes) / 1024:.0f} KiB; "
        f"site {total / 2**20:.0f} MiB"
        + (f", search index {search.stat().st_size / 2**20:.1f} MiB" if search.exists() else "")
        + "."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
