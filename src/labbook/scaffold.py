"""Gives a new labbook project on disk: `labbook init [DIR] [--example]`."""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

from .errors import ConfigError
from .example_runs import write_example_runs

MINIMAL_CONFIG = """\
site_name: Lab book
docs_dir: reports
theme:
  name: material
plugins:
  - search
  - labbook:
      sources:
        local: runs
"""

MINIMAL_INDEX = """\
# Lab book

Reports go in this folder as Markdown. Name runs in a report's front matter and
draw them with `labbook` blocks:

````markdown
---
runs:
  mine:
    experiment: my-experiment
---

```labbook
line: val/loss
runs: mine
```
````

Put runs in `runs/` (one folder per run with `run.json` and `metrics.jsonl`), or point
`sources` in `mkdocs.yml` at MLflow, W&B or TensorBoard.
"""


@cache
def example_dir() -> Path:
    """Gives the folder holding the example lab book (packaged, or the repository root)."""
    packaged = Path(__file__).resolve().parent / "example"
    if (packaged / "mkdocs.yml").exists():
        return packaged
    return Path(__file__).resolve().parents[2]


def any_files(path: Path) -> bool:
    """Gives whether path is a file, or a folder holding any file."""
    return path.is_file() or any(p.is_file() for p in path.rglob("*"))


RUNS_README = """\
# runs

Runs in labbook's local format: one folder per run, holding `run.json` (name,
experiment, params, tags, summary) and `metrics.jsonl` (one JSON row per logged step).
This file keeps the folder in git until the first run arrives.
"""


def init_project(target: Path, *, example: bool = False) -> list[Path]:
    """Writes a new project into target and gives the paths written; never overwrites."""
    target.mkdir(parents=True, exist_ok=True)
    config = target / "mkdocs.yml"
    if config.exists():
        raise ConfigError(
            f"{config} already exists", hint="init writes only into a folder without a project"
        )
    planned = (
        ["reports", "runs"]
        if not example
        else ["reports", "runs", "mlflow.db", "wandb", "tensorboard"]
    )
    clashes = [name for name in planned if (target / name).exists() and any_files(target / name)]
    if clashes:
        raise ConfigError(
            f"{target} already holds " + ", ".join(clashes),
            hint="init writes only into a folder without a project; choose an empty folder",
        )
    written: list[Path] = []
    if example:
        source = example_dir()
        shutil.copy2(source / "mkdocs.yml", config)
        shutil.copytree(source / "reports", target / "reports", dirs_exist_ok=True)
        written += [config, target / "reports"]
        # The example's `sweeps` source: an MLflow SQLite store (scripts/make_example_mlflow.py).
        shutil.copy2(source / "mlflow.db", target / "mlflow.db")
        written.append(target / "mlflow.db")
        # The `wb` and `tb` sources: a W&B offline run and a TensorBoard run
        # (scripts/make_example_trackers.py); W&B's `latest-run` link stays a link.
        for folder in ("wandb", "tensorboard"):
            shutil.copytree(source / folder, target / folder, symlinks=True, dirs_exist_ok=True)
            written.append(target / folder)
        write_example_runs(target / "runs")
        written.append(target / "runs")
    else:
        config.write_text(MINIMAL_CONFIG, encoding="utf-8")
        (target / "reports").mkdir(exist_ok=True)
        (target / "runs").mkdir(exist_ok=True)
        # git keeps no empty folder: without a file here a fresh clone has no runs/, and
        # every build would warn that the source is missing.
        (target / "runs" / "README.md").write_text(RUNS_README, encoding="utf-8")
        (target / "reports" / "index.md").write_text(MINIMAL_INDEX, encoding="utf-8")
        written += [config, target / "reports" / "index.md", target / "runs" / "README.md"]
    gitignore = target / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("/site/\n.labbook/cache/\n.labbook/zensical/\n", encoding="utf-8")
        written.append(gitignore)
    return written
