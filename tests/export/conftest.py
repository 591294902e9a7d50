"""Helpers for the export tests: a small project of local runs, PDFs read back with poppler."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.skips import skip_or_fail

MKDOCS = """\
site_name: Export tests
docs_dir: reports
theme:
  name: material
plugins:
  - labbook:
      sources:
        local: runs
"""


def write_runs(root: Path, count: int, steps: int = 20) -> list[dict[str, object]]:
    """Writes `count` local runs (lr, acc, a loss history); gives their run.json contents."""
    runs = []
    for i in range(count):
        lr = [0.1, 0.03, 0.01, 0.003][i % 4]
        acc = round(0.5 + 0.4 * (i % 17) / 17, 4)
        meta = {
            "name": f"run-{i:03d}",
            "experiment": "sweep",
            "status": "finished",
            "params": {"lr": lr, "seed": i},
            "summary": {"acc": acc},
        }
        folder = root / "runs" / f"r{i:05d}"
        folder.mkdir(parents=True)
        (folder / "run.json").write_text(json.dumps(meta), encoding="utf-8")
        rows = ["step,loss"] + [f"{s},{2.0 * (1 - lr) ** s + 0.01 * i:.6f}" for s in range(steps)]
        (folder / "metrics.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        runs.append(meta)
    return runs


def make_project(root: Path, reports: dict[str, str], runs: int = 4) -> Path:
    (root / "reports").mkdir(parents=True)
    for name, text in reports.items():
        (root / "reports" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "reports" / name).write_text(text, encoding="utf-8")
    (root / "mkdocs.yml").write_text(MKDOCS, encoding="utf-8")
    write_runs(root, runs)
    return root


def poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        skip_or_fail(f"{tool} (poppler-utils) is not installed")
    return path


def pdf_pages_text(pdf: Path) -> list[str]:
    """Gives the text of each page of the PDF (pdftotext, layout kept)."""
    out = subprocess.run(
        [poppler("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return out.split("\f")[:-1] if out.endswith("\f") else out.split("\f")


def pdf_info(pdf: Path) -> dict[str, str]:
    out = subprocess.run(
        [poppler("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}


def chromium_or_skip() -> None:
    if not any(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")):
        skip_or_fail(
            "Chromium is not installed (apt-get install chromium)", "LABBOOK_REQUIRE_BROWSER"
        )
