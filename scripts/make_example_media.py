"""Draws the example runs' image artifacts: a confusion matrix per variants run (PNG).

Deterministic: each matrix comes from the run's own final validation accuracy and a
seed from its ID, so running this again writes the same pixels. Needs Pillow (a dev
dependency). The images go to src/labbook/example_media/, which ships in the package;
`write_example_runs` (and so `labbook init --example` and make_example_runs.py) copies
each into its run's `artifacts/plots/confusion.png`.

    uv run python scripts/make_example_media.py && uv run python scripts/make_example_runs.py
"""

from __future__ import annotations

import csv
import json
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1] / "runs"
MEDIA = Path(__file__).resolve().parents[1] / "src" / "labbook" / "example_media"
CLASSES = ["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
# Pairs a small model confuses most, as on CIFAR-10.
CONFUSED = [(3, 5), (5, 3), (1, 9), (9, 1), (2, 4), (4, 2), (0, 8), (8, 0)]
CELL = 26
MARGIN = 64


def final_accuracy(run: Path) -> float:
    with (run / "metrics.csv").open(encoding="utf-8") as f:
        values = [float(r["val/acc"]) for r in csv.DictReader(f) if r.get("val/acc")]
    return values[-1]


def confusion(accuracy: float, seed: int) -> np.ndarray:
    """Gives a 10x10 row-normalised confusion matrix whose diagonal averages `accuracy`."""
    rng = np.random.default_rng(seed)
    matrix = np.zeros((10, 10))
    for i in range(10):
        right = np.clip(accuracy + rng.normal(0, 0.06), 0.05, 0.99)
        wrong = rng.dirichlet(np.ones(9) * 0.6)
        for a, b in CONFUSED:
            if a == i:
                wrong[b - (b > i)] += 0.8
        wrong = wrong / wrong.sum() * (1 - right)
        matrix[i] = np.insert(wrong, i, right)
    return matrix


def draw(matrix: np.ndarray, title: str) -> Image.Image:
    size = MARGIN + CELL * 10 + 8
    image = Image.new("RGB", (size, size + 18), "white")
    pen = ImageDraw.Draw(image)
    pen.text((8, 6), title, fill=(20, 20, 20))
    for i, name in enumerate(CLASSES):
        pen.text((6, MARGIN + i * CELL + 8), name, fill=(60, 60, 60))
        pen.text((MARGIN + i * CELL + 2, MARGIN - 14), name[:4], fill=(60, 60, 60))
        for j in range(10):
            v = float(matrix[i, j])
            shade = int(255 * (1 - min(1.0, v * 1.4)))
            colour = (shade, shade + (255 - shade) // 3, 255)
            x, y = MARGIN + j * CELL, MARGIN + i * CELL
            pen.rectangle((x, y, x + CELL - 1, y + CELL - 1), fill=colour)
            if v >= 0.05:
                ink = (255, 255, 255) if v > 0.45 else (20, 20, 20)
                pen.text((x + 3, y + 8), f"{v:.2f}"[1:], fill=ink)
    pen.text((MARGIN, size), "columns: predicted, rows: true class", fill=(90, 90, 90))
    return image


def main() -> None:
    for run in sorted(ROOT.iterdir()):
        meta = json.loads((run / "run.json").read_text(encoding="utf-8"))
        if meta.get("experiment") != "variants":
            continue
        accuracy = final_accuracy(run)
        matrix = confusion(accuracy, zlib.crc32(run.name.encode()))
        out = MEDIA / f"{run.name}-confusion.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        draw(matrix, f"{meta['name']}: val acc {accuracy:.3f}").save(out, optimize=True)
        print(out.relative_to(MEDIA.parents[2]), out.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
