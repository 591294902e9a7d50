"""Regenerates the example lab book's MLflow store, <repo>/mlflow.db, with the real mlflow library.

    uv run python scripts/make_example_mlflow.py             # writes <repo>/mlflow.db
    uv run python scripts/make_example_mlflow.py --out FILE  # writes elsewhere

One experiment, `augment-ablation`: ResNet-18 on CIFAR-10 with four augmentation
recipes, 200 logged steps each of train/loss, val/loss and val/acc. Every value comes
from a seeded generator and every time is passed explicitly, and MLflow's random run
IDs are drawn from a seeded generator too, so the runs are the same on every machine.
mkdocs.yml reads it as `sweeps: mlflow+sqlite:///mlflow.db`. mlflow is a dev dependency;
labbook itself reads the file with sqlite3.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "mlflow.db"
EXPERIMENT = "augment-ablation"
STEPS = 200
STEP_MS = 6_000  # one logged step every six seconds
START = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
GIT_COMMIT = "8d1c3f0a9b7e4d2c6f5a1e0b9c8d7e6f5a4b3c2d"
SEED = 20261105

# Recipe -> (validation accuracy reached, late overfitting, training-loss floor). Stronger
# augmentation overfits less and keeps the training loss higher (mixup most of all).
RECIPES = {
    "none": (0.865, 0.35, 0.01),
    "flip-crop": (0.912, 0.08, 0.12),
    "randaugment": (0.925, 0.02, 0.28),
    "randaugment+mixup": (0.931, 0.0, 0.46),
}


def sig(x: float, digits: int = 5) -> float:
    """Gives x rounded to `digits` significant digits, as a logger printing floats would."""
    return float(f"{x:.{digits}g}")


def curves(
    rng: np.random.Generator, final_acc: float, overfit: float, floor: float
) -> dict[str, list[float]]:
    """Gives train/loss, val/loss and val/acc over STEPS steps for one recipe."""
    t = np.arange(STEPS) / (STEPS - 1)
    train = floor + (2.3 - floor) * np.exp(-6 * t) + 0.02 * rng.standard_normal(STEPS)
    val_loss = 0.25 + 2.05 * np.exp(-5 * t) + overfit * t**3 + 0.02 * rng.standard_normal(STEPS)
    acc = 0.1 + (final_acc - 0.1) * (1 - np.exp(-6 * t)) - 0.08 * overfit * t**4
    acc = acc + 0.004 * rng.standard_normal(STEPS)
    return {
        "train/loss": [sig(v) for v in np.clip(train, 0.005, None)],
        "val/loss": [sig(v) for v in np.clip(val_loss, 0.05, None)],
        "val/acc": [sig(v) for v in np.clip(acc, 0.0, 1.0)],
    }


def write_store(out: Path) -> list[str]:
    """Writes the store to `out` (replacing it) and gives the run IDs."""
    # Seeded run IDs: MLflow draws them from uuid.uuid4.
    ids = random.Random(SEED)
    uuid.uuid4 = lambda: uuid.UUID(int=ids.getrandbits(128), version=4)
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    out.unlink(missing_ok=True)
    rng = np.random.default_rng(SEED)
    run_ids: list[str] = []
    # MLflow's default experiment gets an artifact folder under the working directory; make
    # that a throwaway one, and name no local folder in the file.
    with tempfile.TemporaryDirectory() as scratch:
        cwd = Path.cwd()
        os.chdir(scratch)
        try:
            client = MlflowClient(tracking_uri=f"sqlite:///{out.resolve()}")
            experiment_id = client.create_experiment(
                EXPERIMENT, artifact_location=f"mlflow-artifacts:/{EXPERIMENT}"
            )
            start_ms = int(START.timestamp() * 1000)
            for index, (recipe, shape) in enumerate(RECIPES.items()):
                begin = start_ms + index * 2 * 3_600_000
                run = client.create_run(
                    experiment_id, start_time=begin, run_name=f"r18-aug-{recipe}"
                )
                run_id = run.info.run_id
                series = curves(rng, *shape)
                metrics = [
                    Metric(key, value, begin + (step + 1) * STEP_MS, step)
                    for key, values in series.items()
                    for step, value in enumerate(values)
                ]
                params = {
                    "augment": recipe,
                    "model": "resnet18",
                    "lr": "0.1",
                    "batch_size": "128",
                    "epochs": "30",
                    "seed": "0",
                }
                tags = {"stage": "ablation", "mlflow.source.git.commit": GIT_COMMIT}
                for first in range(0, len(metrics), 1000):  # log_batch takes 1000 at a time
                    client.log_batch(
                        run_id,
                        metrics=metrics[first : first + 1000],
                        params=[Param(k, v) for k, v in params.items()] if first == 0 else [],
                        tags=[RunTag(k, v) for k, v in tags.items()] if first == 0 else [],
                    )
                client.set_terminated(run_id, "FINISHED", end_time=begin + (STEPS + 1) * STEP_MS)
                run_ids.append(run_id)
        finally:
            os.chdir(cwd)
    db = sqlite3.connect(out)
    try:
        # Wall-clock times and this machine's paths would make every regeneration differ.
        db.execute(
            "UPDATE experiments SET creation_time = ?, last_update_time = ?", (start_ms,) * 2
        )
        db.execute(
            "UPDATE experiments SET artifact_location = 'mlflow-artifacts:/0' "
            "WHERE experiment_id = 0"
        )
        db.commit()
        # MLflow's ~80 tables are mostly empty: small pages keep the committed file small.
        db.execute("PRAGMA page_size = 1024")
        db.execute("VACUUM")
    finally:
        db.close()
    return run_ids


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    args = parser.parse_args()
    written = write_store(args.out)
    print(f"wrote {len(written)} runs to {args.out}")
