"""Writes the example lab book's runs in labbook's local format (used by `init --example`).

Deterministic: every number comes from numpy generators with fixed seeds and every
time from fixed timestamps, so running it twice gives byte-identical files. It
deletes and rewrites only the run folders it owns (the IDs it computes); other
folders are left alone. `scripts/make_example_runs.py` regenerates the repository's runs/.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

CHANCE_LOSS = math.log(10)  # cross-entropy of a uniform guess over CIFAR-10's classes
BASE_SEED = 20261102
MEDIA = Path(__file__).resolve().parent / "example_media"  # the runs' images, by run ID


def run_id(name: str) -> str:
    """Gives a run's 8-hex-character ID, derived from its name."""
    return hashlib.sha256(f"labbook-example/{name}".encode()).hexdigest()[:8]


def sig(x: float, digits: int = 5) -> float:
    """Gives x rounded to `digits` significant digits (NaN and infinities unchanged)."""
    if not math.isfinite(x) or x == 0:
        return float(x)
    return float(f"{x:.{digits}g}")


def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def acc_from_loss(loss: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Gives the accuracy a CIFAR-10 classifier has at a given cross-entropy (a smooth fit)."""
    gain = np.clip(CHANCE_LOSS - loss, 0.0, None)
    return 0.1 + 0.9 * (1.0 - np.exp(-0.9 * gain))


@dataclass
class Curves:
    """One run's logged history: arrays over its steps, and where each key was logged."""

    steps: np.ndarray[Any, Any]
    times: np.ndarray[Any, Any]
    columns: dict[str, np.ndarray[Any, Any]]
    logged: dict[str, np.ndarray[Any, Any]]


def training_curves(
    rng: np.random.Generator,
    n_steps: int,
    *,
    tau: float,
    floor: float,
    noise: float,
    gap: float,
    val_every: int,
    start: datetime,
    step_seconds: float,
    val_seconds: float,
    diverge_at: int | None = None,
) -> Curves:
    """Gives train/val loss and accuracy curves shaped like a real image classifier's."""
    steps = np.arange(n_steps)
    smooth = floor + (CHANCE_LOSS - floor) * np.exp(-steps / tau)
    # Mini-batch noise: multiplicative, with a slow wander so neighbouring steps correlate.
    wander = np.convolve(rng.normal(0, 1, n_steps + 30), np.ones(30) / math.sqrt(30), "valid")[
        :n_steps
    ]
    train_loss = smooth * np.exp(noise * rng.normal(0, 1, n_steps) + 0.3 * noise * wander)
    if diverge_at is not None:
        # Loss blows up geometrically once the step size overshoots, then overflows to NaN.
        after = np.clip(steps - diverge_at, 0, None)
        train_loss = train_loss * np.exp(0.13 * after)
        train_loss[train_loss > 3e7] = np.nan
    p = np.where(np.isfinite(train_loss), acc_from_loss(np.nan_to_num(train_loss, nan=99.0)), 0.1)
    train_acc = rng.binomial(128, p) / 128  # batch accuracy over 128 images

    is_val = (steps + 1) % val_every == 0
    val_loss = np.full(n_steps, np.nan)
    val_acc = np.full(n_steps, np.nan)
    v = steps[is_val]
    vl = (smooth[v] + gap * (1 - np.exp(-v / (2 * tau)))) * np.exp(0.015 * rng.normal(0, 1, len(v)))
    if diverge_at is not None:
        vl = vl * np.exp(0.13 * np.clip(v - diverge_at, 0, None))
        vl[~np.isfinite(train_loss[v])] = np.nan
    val_loss[v] = vl
    vp = np.where(np.isfinite(vl), acc_from_loss(np.nan_to_num(vl, nan=99.0)), 0.1)
    val_acc[v] = rng.binomial(10000, vp) / 10000  # accuracy over the 10,000 test images

    durations = step_seconds * np.exp(0.08 * rng.normal(0, 1, n_steps))
    durations[is_val] += val_seconds
    times = start.timestamp() + np.cumsum(durations)

    columns = {
        "train/loss": train_loss,
        "train/acc": train_acc,
        "val/loss": val_loss,
        "val/acc": val_acc,
    }
    every = np.ones(n_steps, dtype=bool)
    logged = {"train/loss": every, "train/acc": every, "val/loss": is_val, "val/acc": is_val}
    if diverge_at is not None and np.isnan(train_loss).any():
        # The NaN check runs with validation: the run stops at the first val step after a NaN.
        first_nan = int(np.argmax(np.isnan(train_loss)))
        keep = steps <= int(steps[is_val & (steps >= first_nan)][0])
        steps, times = steps[keep], times[keep]
        columns = {k: c[keep] for k, c in columns.items()}
        logged = {k: m[keep] for k, m in logged.items()}
    return Curves(steps, times, columns, logged)


def write_run(out: Path, rid: str, meta: dict[str, Any], metrics: str, filename: str) -> Path:
    folder = out / rid
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    with open(folder / filename, "w", encoding="utf-8", newline="\n") as f:
        f.write(metrics)
    return folder


def jsonl(curves: Curves) -> str:
    """Gives metrics.jsonl text; a key is in a row only where it was logged."""
    lines: list[str] = []
    for i, step in enumerate(curves.steps):
        row: dict[str, Any] = {"step": int(step), "time": round(float(curves.times[i]), 3)}
        for key, column in curves.columns.items():
            if curves.logged[key][i]:
                row[key] = sig(float(column[i]))
        lines.append(json.dumps(row))
    return "\n".join(lines) + "\n"


def csv_text(curves: Curves) -> str:
    """Gives metrics.csv text: header step,time,<metric>…; empty cells where not logged."""
    keys = list(curves.columns)
    lines = [",".join(["step", "time", *keys])]
    for i, step in enumerate(curves.steps):
        cells = [str(int(step)), f"{float(curves.times[i]):.3f}"]
        for key in keys:
            logged = bool(curves.logged[key][i])
            cells.append(repr(sig(float(curves.columns[key][i]))) if logged else "")
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def best(column: np.ndarray[Any, Any]) -> float | None:
    finite = column[np.isfinite(column)]
    return sig(float(finite.max())) if len(finite) else None


def cifar_sweep(out: Path) -> list[str]:
    """Writes the ResNet-18 learning-rate sweep: 3 learning rates x 3 seeds, JSONL metrics."""
    shapes = {  # lr -> how fast and how far the loss falls, and how noisy it is
        0.3: {"tau": 95.0, "floor": 0.64, "noise": 0.085, "gap": 0.10},
        0.1: {"tau": 125.0, "floor": 0.50, "noise": 0.055, "gap": 0.07},
        0.03: {"tau": 240.0, "floor": 0.56, "noise": 0.04, "gap": 0.05},
    }
    sweep_start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    written: list[str] = []
    for k, (lr, seed) in enumerate((lr, seed) for lr in (0.3, 0.1, 0.03) for seed in (0, 1, 2)):
        name = f"r18-lr{lr}-s{seed}"
        rng = np.random.default_rng([BASE_SEED, 1, k])
        diverges = lr == 0.3 and seed == 2
        start = sweep_start + timedelta(minutes=7 * k, seconds=int(rng.integers(0, 50)))
        shape = shapes[lr]
        # Seeds land a little apart, as they do.
        floor = shape["floor"] + 0.015 * float(rng.normal())
        curves = training_curves(
            rng,
            600,
            tau=shape["tau"],
            floor=floor,
            noise=shape["noise"],
            gap=shape["gap"],
            val_every=20,
            start=start,
            step_seconds=0.118,
            val_seconds=2.4,
            diverge_at=170 if diverges else None,
        )
        end = datetime.fromtimestamp(float(curves.times[-1]) + 4.0, tz=UTC).replace(microsecond=0)
        meta: dict[str, Any] = {
            "name": name,
            "experiment": "cifar-sweep",
            "status": "failed" if diverges else "finished",
            "start_time": iso(start),
            "end_time": iso(end),
            "params": {
                "lr": lr,
                "seed": seed,
                "optimizer": {"name": "sgd", "momentum": 0.9},
                "model": "resnet18",
                "batch_size": 128,
            },
            "tags": {"stage": "sweep", "dataset": "cifar10"},
            "git": {"commit": hashlib.sha1(b"labbook-example/cifar-sweep").hexdigest()},
        }
        if diverges:
            first_nan = int(curves.steps[np.argmax(np.isnan(curves.columns["train/loss"]))])
            meta["tags"]["note"] = f"loss went NaN at step {first_nan}; stopped by the NaN check"
        else:
            meta["summary"] = {"best/val_acc": best(curves.columns["val/acc"])}
        rid = run_id(name)
        write_run(out, rid, meta, jsonl(curves), "metrics.jsonl")
        written.append(rid)
    return written


def variants(out: Path) -> list[str]:
    """Writes the ViT-tiny vs ConvNeXt-tiny comparison: 2 models x 2 seeds, CSV metrics."""
    models = {
        "vit-tiny": {"tau": 260.0, "floor": 1.02, "noise": 0.05, "gap": 0.12, "sec": 0.141},
        "convnext-tiny": {"tau": 190.0, "floor": 0.74, "noise": 0.045, "gap": 0.09, "sec": 0.163},
    }
    day_start = datetime(2026, 11, 3, 13, 30, tzinfo=UTC)
    written: list[str] = []
    n_steps, warmup = 800, 80
    steps = np.arange(n_steps)
    schedule = np.where(
        steps < warmup,
        1e-3 * (steps + 1) / warmup,
        1e-3 * 0.5 * (1 + np.cos(np.pi * (steps - warmup) / (n_steps - warmup))),
    )
    for k, (model, seed) in enumerate((m, s) for m in models for s in (0, 1)):
        name = f"{model}-s{seed}"
        rng = np.random.default_rng([BASE_SEED, 2, k])
        shape = models[model]
        start = day_start + timedelta(minutes=11 * k, seconds=int(rng.integers(0, 50)))
        curves = training_curves(
            rng,
            n_steps,
            tau=shape["tau"],
            floor=shape["floor"] + 0.012 * float(rng.normal()),
            noise=shape["noise"],
            gap=shape["gap"],
            val_every=40,
            start=start,
            step_seconds=shape["sec"],
            val_seconds=2.9,
        )
        curves.columns["train/lr"] = schedule.copy()
        curves.logged["train/lr"] = np.ones(n_steps, dtype=bool)
        end = datetime.fromtimestamp(float(curves.times[-1]) + 5.0, tz=UTC).replace(microsecond=0)
        commit = hashlib.sha1(f"labbook-example/variants/{model}".encode()).hexdigest()
        params = {
            "model": model,
            "seed": seed,
            "lr": 1e-3,
            "optimizer": {"name": "adamw", "weight_decay": 0.05, "betas": [0.9, 0.999]},
            "schedule": {"name": "cosine", "warmup_steps": warmup},
            "batch_size": 128,
            "augment": {"randaugment": True, "mixup": 0.2},
        }
        meta = {
            "name": name,
            "experiment": "variants",
            "status": "finished",
            "start_time": iso(start),
            "end_time": iso(end),
            "params": params,
            "tags": {"stage": "ablation", "arch": model.split("-")[0]},
            "git_commit": commit,
            "summary": {"best/val_acc": best(curves.columns["val/acc"])},
        }
        rid = run_id(name)
        folder = write_run(out, rid, meta, csv_text(curves), "metrics.csv")
        (folder / "artifacts").mkdir()
        config = [f"# resolved config of {name} (commit {commit[:8]})"]
        config += [f"{key}: {json.dumps(value)}" for key, value in params.items()]
        (folder / "artifacts" / "config.yaml").write_text("\n".join(config) + "\n", "utf-8")
        # Its confusion matrix, drawn once by scripts/make_example_media.py and shipped.
        image = MEDIA / f"{rid}-confusion.png"
        if image.exists():
            (folder / "artifacts" / "plots").mkdir()
            shutil.copyfile(image, folder / "artifacts" / "plots" / "confusion.png")
        written.append(rid)
    return written


def write_example_runs(out: Path) -> list[str]:
    """Writes every example run under `out` and gives their IDs."""
    out.mkdir(parents=True, exist_ok=True)
    return cifar_sweep(out) + variants(out)
