"""Times `labbook build` of the example lab book against a plain `mkdocs build` of the same pages.

The builds run side by side in one process, each repeated `--repeat` times (interleaved, after
one untimed warm-up each, so imports and background load fall on all of them alike):

  labbook/mkdocs    build_site(engine="mkdocs") of the example lab book
  plain mkdocs      mkdocs' own build(load_config(...)) of the same reports with every
                    ```labbook fence and {{ }} / {% %} expression removed, and no labbook plugin
  compile only      labbook's report compiler over the same reports, no site (its share)
  labbook/zensical  build_site(engine="zensical") of the example lab book
  plain zensical    `python -m zensical build` of the plain pages (a subprocess, as labbook
                    runs it), to tell Zensical's own cost from labbook's

  `labbook build`    the console script in a fresh process, as a user runs it
  `mkdocs build`     the same for the plain pages: the ratio of the two is what a user sees

Everything is built from a copy of the example lab book (mkdocs.yml, reports/, runs/,
mlflow.db, wandb/, tensorboard/) in a temporary folder (the
Zensical driver stages into `<project>/.labbook/`), made a git repository with one commit so
the reports' bylines cost the same `git log` calls as in a real clone.

    uv run python bench/bench_build.py [--repeat 5] [--skip-zensical]
"""

from __future__ import annotations

import argparse
import logging
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

_FENCE = re.compile(
    r"^(?P<fence>`{3,}|~{3,})[ \t]*labbook\b[^\n]*\n.*?^(?P=fence)[ \t]*$\n?", re.M | re.S
)
_EXPRESSION = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


def strip_labbook(text: str) -> str:
    """Gives a report without its labbook blocks and expressions: what plain MkDocs would get."""
    return _EXPRESSION.sub("", _FENCE.sub("", text))


def plain_config(config: dict[str, object]) -> dict[str, object]:
    """Gives mkdocs.yml's settings without the labbook plugin."""
    out = dict(config)
    plugins = out.get("plugins") or []
    if isinstance(plugins, dict):
        plugins = [{k: v} for k, v in plugins.items()]
    assert isinstance(plugins, list)
    out["plugins"] = [
        p for p in plugins if p != "labbook" and not (isinstance(p, dict) and "labbook" in p)
    ]
    return out


def make_projects(base: Path) -> tuple[Path, Path]:
    """Gives (labbook project, plain project) folders under base, each holding a mkdocs.yml."""
    labbook = base / "labbook"
    labbook.mkdir()
    shutil.copy2(ROOT / "mkdocs.yml", labbook / "mkdocs.yml")
    shutil.copytree(ROOT / "reports", labbook / "reports")
    shutil.copytree(ROOT / "runs", labbook / "runs")
    # The other trackers the example reads (reports/trackers.md draws all four).
    shutil.copy2(ROOT / "mlflow.db", labbook / "mlflow.db")
    shutil.copytree(ROOT / "wandb", labbook / "wandb", symlinks=True)
    shutil.copytree(ROOT / "tensorboard", labbook / "tensorboard")
    git = ["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.invalid"]
    subprocess.run([*git, "init", "-q"], cwd=labbook, check=True)
    subprocess.run([*git, "add", "-A"], cwd=labbook, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "example"], cwd=labbook, check=True)

    plain = base / "plain"
    (plain / "reports").mkdir(parents=True)
    for src in sorted((ROOT / "reports").rglob("*")):
        if not src.is_file():
            continue
        dest = plain / "reports" / src.relative_to(ROOT / "reports")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.suffix == ".md":
            dest.write_text(strip_labbook(src.read_text(encoding="utf-8")), encoding="utf-8")
        else:
            shutil.copy2(src, dest)
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    (plain / "mkdocs.yml").write_text(
        yaml.safe_dump(plain_config(config), sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    return labbook, plain


def labbook_build(project_dir: Path, site: Path, engine: str) -> Callable[[], None]:
    from labbook.project import Project
    from labbook.site.build import build_site

    def run() -> None:
        project = Project.load(project_dir / "mkdocs.yml")
        result = build_site(project, site, engine=engine)
        if result.errors:
            raise SystemExit(f"labbook build ({engine}) reported errors: {result.errors[:3]}")

    return run


def labbook_compile(project_dir: Path) -> Callable[[], None]:
    from labbook.project import Project
    from labbook.report.compile import ProjectCompiler

    def run() -> None:
        project = Project.load(project_dir / "mkdocs.yml")
        compiler = ProjectCompiler(project)
        for path in project.reports():
            compiler.compile_file(path)

    return run


def plain_build(project_dir: Path, site: Path) -> Callable[[], None]:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    def run() -> None:
        build(load_config(config_file=str(project_dir / "mkdocs.yml"), site_dir=str(site)))

    return run


def plain_zensical_build(project_dir: Path) -> Callable[[], None]:
    def run() -> None:
        command = [sys.executable, "-m", "zensical", "build", "--clean", "-f", "mkdocs.yml"]
        subprocess.run(command, cwd=project_dir, check=True, capture_output=True)

    return run


def cli_build(tool: str, project_dir: Path, site: Path) -> Callable[[], None]:
    """Gives a build as a user runs it: the console script in a fresh process."""
    script = Path(sys.executable).parent / tool
    command = [str(script), "build", "-q", "-d", str(site)]

    def run() -> None:
        done = subprocess.run(command, cwd=project_dir, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{tool} build failed: {done.stderr[-2000:]}")

    return run


def timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per build (default 5)")
    parser.add_argument("--skip-zensical", action="store_true", help="leave the Zensical build out")
    args = parser.parse_args(argv)
    # MkDocs logs every build at INFO; only problems are worth showing here.
    logging.getLogger("mkdocs").setLevel(logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="labbook-bench-") as tmp:
        base = Path(tmp)
        labbook_dir, plain_dir = make_projects(base)
        builds: dict[str, Callable[[], None]] = {
            "labbook build (mkdocs)": labbook_build(labbook_dir, base / "site-labbook", "mkdocs"),
            "plain mkdocs build": plain_build(plain_dir, base / "site-plain"),
            # What a user waits for: a fresh interpreter, imports included.
            "`labbook build` (fresh process)": cli_build(
                "labbook", labbook_dir, base / "site-cli-labbook"
            ),
            "`mkdocs build` of the plain pages (fresh process)": cli_build(
                "mkdocs", plain_dir, base / "site-cli-plain"
            ),
        }
        # Not a site: the report compiler alone (runs read, blocks rendered), the plugin's share.
        builds["labbook compile only (no site)"] = labbook_compile(labbook_dir)
        if not args.skip_zensical:
            builds["labbook build (zensical)"] = labbook_build(
                labbook_dir, base / "site-zensical", "zensical"
            )
            # For scale: Zensical alone on the plain pages, run the way labbook runs it.
            builds["plain zensical build"] = plain_zensical_build(plain_dir)
        warm = {name: timed(fn) for name, fn in builds.items()}
        times: dict[str, list[float]] = {name: [] for name in builds}
        for _ in range(args.repeat):
            for name, fn in builds.items():
                times[name].append(timed(fn))

    plain = statistics.median(times["plain mkdocs build"])
    print(
        f"Example lab book: {len(list((ROOT / 'reports').rglob('*.md')))} reports, "
        f"{sum(1 for _ in (ROOT / 'runs').iterdir())} runs; {args.repeat} timed runs each "
        f"(Python {sys.version.split()[0]})\n"
    )
    print("| build | median s | min s | first (warm-up) s | ratio to plain (median) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"| {name} | {median:.3f} | {min(values):.3f} | {warm[name]:.3f} "
            f"| {median / plain:.2f}× |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
