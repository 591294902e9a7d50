"""LocalDirSource: labbook's local run format and Lightning CSVLogger folders."""

from __future__ import annotations

import json
import math
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labbook.errors import AmbiguousRun, RunDataError, RunNotFound, SourceError
from labbook.example_runs import write_example_runs
from labbook.model import Run
from labbook.sources import open_source
from labbook.sources.localdir import LocalDirSource

REPO = Path(__file__).resolve().parents[2]

# 2026-11-02T10:00:00Z
T0 = 1793613600


def write_run(
    root: Path,
    run_id: str,
    meta: dict[str, Any] | None = None,
    jsonl: list[str] | None = None,
    csv: str | None = None,
) -> Path:
    folder = root / run_id
    folder.mkdir(parents=True)
    if meta is not None:
        (folder / "run.json").write_text(json.dumps(meta))
    if jsonl is not None:
        (folder / "metrics.jsonl").write_text("\n".join(jsonl) + "\n")
    if csv is not None:
        (folder / "metrics.csv").write_text(csv)
    return folder


def by_id(source: LocalDirSource, run_id: str) -> Run:
    return next(r for r in source.list_runs() if r.id == run_id)


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    write_run(
        root,
        "3f2a9c7e51",
        meta={
            "name": "resnet50-lr0.1",
            "experiment": "resnet",
            "status": "finished",
            "start_time": "2026-11-02T10:00:00Z",
            "end_time": T0 + 5400,
            "params": {
                "lr": 0.1,
                "epochs": 3,
                "optimizer": {"name": "adam", "beta1": 0.9},
                "layers": [64, 128],
            },
            "tags": {"stage": "sweep", "priority": 2, "reviewed": True},
            "summary": {"val/acc": 0.93},
            "git": {"commit": "abc123def"},
            "url": "https://example.invalid/runs/3f2a9c7e51",
        },
        jsonl=[
            json.dumps({"step": 0, "time": T0, "train/loss": 2.5, "val/acc": 0.1}),
            json.dumps({"step": 10, "time": "2026-11-02T10:00:30Z", "train/loss": 1.5}),
            '{"step": 20, "time": 1793613660.5, "train/loss": NaN, "val/acc": 0.5}',
            '{"step": 30, "train/loss": Infinity, "lr": -Infinity}',
            json.dumps({"step": 40, "train/loss": 0.75, "val/acc": 0.8}),
        ],
    )
    (root / "3f2a9c7e51" / "artifacts" / "plots").mkdir(parents=True)
    (root / "3f2a9c7e51" / "artifacts" / "plots" / "confusion.png").write_bytes(b"\x89PNG")
    (root / "3f2a9c7e51" / "artifacts" / "model.txt").write_text("resnet50")
    write_run(
        root,
        "3f2a9c0000",
        meta={"name": "resnet50-lr0.3", "experiment": "resnet", "status": "failed"},
        jsonl=[
            # No step: the row's index is its step.
            json.dumps({"train/loss": 2.0}),
            json.dumps({"train/loss": 1.0, "extra": 7}),
            json.dumps({"train/loss": 0.5}),
        ],
    )
    write_run(
        root,
        "b7c1d2e3",
        meta={"name": "vit-small", "experiment": "vit", "git_commit": "feedbeef"},
        csv="step,time,train/loss,val/acc\n"
        "0,1793613600,2.0,\n"
        "5,2026-11-02T10:00:05Z,1.0,0.4\n"
        "10,,nan,\n"
        "15,1793613615,inf,0.6\n",
    )
    # A metrics file alone is a run too; no step column means steps by row.
    write_run(root, "c0ffee12", csv="loss,acc\n3.0,0.1\n,0.2\n1.0,\n")
    return root


def test_jsonl_run_fields(runs: Path) -> None:
    src = LocalDirSource("runs", base_dir=runs.parent)
    run = by_id(src, "3f2a9c7e51")
    assert run.name == "resnet50-lr0.1"
    assert run.experiment == "resnet"
    assert run.status == "finished"
    assert run.start_time == datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    assert run.end_time == datetime(2026, 11, 2, 11, 30, tzinfo=UTC)
    assert run.duration == 5400.0
    assert run.params == {
        "lr": 0.1,
        "epochs": 3,
        "optimizer.name": "adam",
        "optimizer.beta1": 0.9,
        "layers": "[64, 128]",
    }
    assert run.tags == {"stage": "sweep", "priority": "2", "reviewed": "true"}
    assert run.git_commit == "abc123def"
    assert run.url == "https://example.invalid/runs/3f2a9c7e51"
    assert run.artifacts == ["model.txt", "plots/confusion.png"]
    assert src.artifact_path(run, "model.txt") == runs / "3f2a9c7e51" / "artifacts" / "model.txt"
    assert run.source == "dir"
    assert run.ref == "dir:3f2a9c7e51"
    assert src.problems() == []


def test_jsonl_series_keep_nan_and_infinity(runs: Path) -> None:
    src = LocalDirSource("runs", base_dir=runs.parent)
    run = by_id(src, "3f2a9c7e51")
    loss = run.series("train/loss")
    assert loss.steps.tolist() == [0, 10, 20, 30, 40]
    assert loss.values[0] == 2.5 and loss.values[1] == 1.5 and loss.values[4] == 0.75
    assert np.isnan(loss.values[2])
    assert np.isposinf(loss.values[3])
    assert np.isneginf(run.series("lr").values).tolist() == [True]
    assert loss.finite().values.tolist() == [2.5, 1.5, 0.75]
    # Times: Unix seconds, ISO 8601, and none.
    assert loss.times[0] == T0
    assert loss.times[1] == T0 + 30
    assert loss.times[2] == T0 + 60.5
    assert np.isnan(loss.times[3]) and np.isnan(loss.times[4])


def test_jsonl_missing_keys_mean_no_point(runs: Path) -> None:
    src = LocalDirSource("runs", base_dir=runs.parent)
    run = by_id(src, "3f2a9c7e51")
    acc = run.series("val/acc")
    assert acc.steps.tolist() == [0, 20, 40]
    assert acc.values.tolist() == [0.1, 0.5, 0.8]
    assert run.metric_keys() == ["lr", "train/loss", "val/acc"]
    assert len(run.series("never/logged")) == 0


def test_summary_defaults_to_last_value_and_explicit_wins(runs: Path) -> None:
    src = LocalDirSource("runs", base_dir=runs.parent)
    run = by_id(src, "3f2a9c7e51")
    assert run.summary["train/loss"] == 0.75
    assert run.summary["val/acc"] == 0.93  # run.json's summary, not the last logged 0.8
    assert run.summary["lr"] == -math.inf


def test_step_defaults_to_row_index(runs: Path) -> None:
    src = LocalDirSource("runs", base_dir=runs.parent)
    run = by_id(src, "3f2a9c0000")
    assert run.series("train/loss").steps.tolist() == [0, 1, 2]
    assert run.series("extra").steps.tolist() == [1]
    assert run.summary == {"train/loss": 0.5, "extra": 7.0}
    assert run.start_time is None and run.params == {} and run.tags == {}


def test_csv_run(runs: Path) -> None:
    src = LocalDirSource("runs", base_dir=runs.parent)
    run = by_id(src, "b7c1d2e3")
    assert run.git_commit == "feedbeef"
    loss = run.series("train/loss")
    assert loss.steps.tolist() == [0, 5, 10, 15]
    assert loss.values[:2].tolist() == [2.0, 1.0]
    assert np.isnan(loss.values[2]) and np.isposinf(loss.values[3])
    assert loss.times[0] == T0 and loss.times[1] == T0 + 5 and loss.times[3] == T0 + 15
    assert np.isnan(loss.times[2])
    acc = run.series("val/acc")
    assert acc.steps.tolist() == [5, 15]
    assert acc.values.tolist() == [0.4, 0.6]
    assert run.summary == {"train/loss": math.inf, "val/acc": 0.6}

    bare = by_id(src, "c0ffee12")
    assert bare.name == "c0ffee12" and bare.experiment is None
    assert bare.series("loss").steps.tolist() == [0, 2]
    assert bare.series("loss").values.tolist() == [3.0, 1.0]
    assert bare.series("acc").steps.tolist() == [0, 1]
    assert np.isnan(bare.series("acc").times).all()
    assert src.problems() == []


def test_list_runs_filters_by_experiment_and_is_cached(runs: Path) -> None:
    src = LocalDirSource("runs", base_dir=runs.parent)
    everything = src.list_runs()
    assert [r.id for r in everything] == ["3f2a9c0000", "3f2a9c7e51", "b7c1d2e3", "c0ffee12"]
    assert [r.id for r in src.list_runs("resnet")] == ["3f2a9c0000", "3f2a9c7e51"]
    with pytest.raises(SourceError, match=r"no experiment 'nope'.*known experiments: resnet, vit"):
        src.list_runs("nope")
    assert all(r.reader is src for r in everything)
    # The first scan is kept: a run added later is not seen by this source object.
    write_run(runs, "dddddddd", meta={"name": "late"})
    assert len(src.list_runs()) == 4
    assert src.list_runs()[0] is everything[0]


def test_metrics_file_parsed_once(runs: Path) -> None:
    src = LocalDirSource("runs", base_dir=runs.parent)
    run = by_id(src, "3f2a9c7e51")
    (runs / "3f2a9c7e51" / "metrics.jsonl").unlink()
    assert run.series("train/loss").values[-1] == 0.75
    assert src.read_series(run, "val/acc").values.tolist() == [0.1, 0.5, 0.8]


def test_corrupt_jsonl_lines_are_reported_and_skipped(tmp_path: Path) -> None:
    write_run(
        tmp_path / "runs",
        "aaaa1111",
        meta={"name": "partial"},
        jsonl=[
            json.dumps({"step": 1, "loss": 1.0}),
            '{"step": 2, "loss": 0.9',  # truncated
            "[1, 2]",
            json.dumps({"step": 4, "loss": "high", "acc": 0.5}),
            json.dumps({"step": 5, "loss": 0.5}),
        ],
    )
    src = open_source("runs", base_dir=tmp_path)
    run = src.get("aaaa1111")
    assert run.series("loss").steps.tolist() == [1, 5]
    assert run.series("loss").values.tolist() == [1.0, 0.5]
    assert run.series("acc").values.tolist() == [0.5]
    problems = src.problems()
    assert [(p.file, p.line) for p in problems] == [
        ("runs/aaaa1111/metrics.jsonl", 2),
        ("runs/aaaa1111/metrics.jsonl", 3),
        ("runs/aaaa1111/metrics.jsonl", 4),
    ]
    assert all(isinstance(p, RunDataError) and p.source == "dir:runs" for p in problems)
    assert "'loss'" in problems[2].message and "'high'" in problems[2].message
    assert str(problems[0]).startswith("runs/aaaa1111/metrics.jsonl:2: ")


def test_jsonl_values_as_wandb_logs_them(tmp_path: Path) -> None:
    write_run(
        tmp_path / "runs",
        "ffff6666",
        jsonl=[
            json.dumps({"_step": 3, "_timestamp": T0, "val": {"acc": 0.5, "loss": 1.5}}),
            json.dumps({"_step": 4, "img": {"_type": "image-file", "path": "a.png"}, "ok": True}),
            json.dumps({"_step": 5, "acc": None, "q": "NaN", "big": 10**400}),
            json.dumps({"step": 2**70, "acc": 0.1}),
        ],
    )
    src = LocalDirSource("runs", base_dir=tmp_path)
    run = src.get("ffff6666")
    assert run.metric_keys() == ["ok", "q", "val.acc", "val.loss"]
    assert run.series("val.acc").steps.tolist() == [3]
    assert run.series("val.acc").times.tolist() == [T0]
    assert run.series("ok").values.tolist() == [1.0]
    assert np.isnan(run.series("q").values).tolist() == [True]
    assert [(p.line, "too large" in p.message) for p in src.problems()] == [(3, True), (4, False)]


def test_many_bad_lines_are_listed_up_to_a_cap(tmp_path: Path) -> None:
    write_run(tmp_path / "runs", "abcdef01", jsonl=["{oops"] * 30 + ['{"loss": 1.0}'])
    src = LocalDirSource("runs", base_dir=tmp_path)
    assert src.get("abcdef01").series("loss").steps.tolist() == [30]
    problems = src.problems()
    assert len(problems) == 21
    assert problems[19].line == 20
    assert problems[20].line is None and problems[20].message.startswith("10 more bad lines")


def test_jsonl_wins_over_csv_and_csv_is_reported(tmp_path: Path) -> None:
    write_run(tmp_path / "runs", "abcdef02", jsonl=['{"loss": 1.0}'], csv="loss\n2.0\n")
    src = LocalDirSource("runs", base_dir=tmp_path)
    assert src.get("abcdef02").series("loss").values.tolist() == [1.0]
    (problem,) = src.problems()
    assert problem.file == "runs/abcdef02/metrics.csv"


def test_csv_row_with_bad_cell_is_skipped_and_reported(tmp_path: Path) -> None:
    write_run(
        tmp_path / "runs",
        "bbbb2222",
        csv="step,loss,acc\n0,1.0,0.1\n1,oops,0.2\n2,0.5\n3,0.25,0.4\n",
    )
    src = LocalDirSource("runs", base_dir=tmp_path)
    run = src.get("bbbb2222")
    assert run.series("loss").steps.tolist() == [0, 3]
    assert run.series("acc").values.tolist() == [0.1, 0.4]
    assert [(p.file, p.line) for p in src.problems()] == [
        ("runs/bbbb2222/metrics.csv", 3),
        ("runs/bbbb2222/metrics.csv", 4),
    ]
    assert "'oops'" in src.problems()[0].message and "'loss'" in src.problems()[0].message
    assert "2 cells" in src.problems()[1].message


@pytest.mark.parametrize(
    ("content", "line", "says"),
    [
        (b"", 1, "not valid JSON"),
        (b'[{"name": "x"}]', None, "holds a JSON list, not an object"),
        (b'{"name": "broken",\n "params": {', 2, "not valid JSON"),
        (b'{"name": "caf\xe9"}', None, "not valid JSON"),
        (b"[" * 100_000, None, "not valid JSON"),
    ],
    ids=["empty", "array", "cut-mid-object", "not-utf8", "deeply-nested"],
)
def test_damaged_run_json_keeps_the_run_and_its_metrics(
    tmp_path: Path, content: bytes, line: int | None, says: str
) -> None:
    # Every run.json field is optional: a damaged file costs its fields, never the run.
    root = tmp_path / "runs"
    bad = write_run(
        root, "cccc3333", jsonl=[json.dumps({"step": s, "loss": 1.0 / (s + 1)}) for s in range(3)]
    )
    (bad / "run.json").write_bytes(content)
    write_run(root, "dddd4444", meta={"name": "fine"})
    src = LocalDirSource("runs", base_dir=tmp_path)
    assert [r.id for r in src.list_runs()] == ["cccc3333", "dddd4444"]
    run = src.get("cccc3333")
    assert run.series("loss").values.tolist() == [1.0, 0.5, 1.0 / 3]
    assert run.summary["loss"] == 1.0 / 3
    assert run.params == {} and run.tags == {}
    (problem,) = src.problems()
    assert isinstance(problem, RunDataError)
    assert problem.file == "runs/cccc3333/run.json"
    assert problem.line == line
    assert says in problem.message and "read without its name" in problem.message


def test_bad_field_is_reported_and_left_out(tmp_path: Path) -> None:
    write_run(
        tmp_path / "runs",
        "eeee5555",
        meta={"name": "x", "start_time": "yesterday", "params": [1, 2], "status": "finished"},
    )
    src = LocalDirSource("runs", base_dir=tmp_path)
    run = src.get("eeee5555")
    assert run.start_time is None and run.params == {} and run.status == "finished"
    assert [p.file for p in src.problems()] == ["runs/eeee5555/run.json"] * 2


def test_nested_run_folders(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    write_run(root / "ablation", "r1", jsonl=['{"loss": 1.0}'])
    write_run(root / "ablation", "r2", meta={"experiment": "other"})
    write_run(root / ".hidden", "r3", meta={})
    (root / "notes").mkdir()
    src = LocalDirSource("runs", base_dir=tmp_path)
    assert [(r.id, r.experiment) for r in src.list_runs()] == [
        ("ablation/r1", "ablation"),
        ("ablation/r2", "other"),
    ]


def test_missing_root_raises_source_error(tmp_path: Path) -> None:
    src = open_source("dir:nowhere", base_dir=tmp_path)
    with pytest.raises(SourceError) as info:
        src.list_runs()
    assert str(tmp_path / "nowhere") in str(info.value)
    assert "mkdocs.yml" in str(info.value)
    assert src.problems()[0].source == "dir:nowhere"


def test_open_source_bare_path_and_scheme(runs: Path) -> None:
    bare = open_source("runs", base_dir=runs.parent)
    assert isinstance(bare, LocalDirSource)
    assert bare.uri == "dir:runs"
    schemed = open_source("dir:runs", name="local", base_dir=runs.parent)
    assert isinstance(schemed, LocalDirSource)
    assert schemed.name == "local"
    assert schemed.get("3f2a9c7e51").ref == "local:3f2a9c7e51"
    absolute = open_source(f"dir:{runs}")
    assert len(absolute.list_runs()) == 4


def test_get_by_id_prefix_ambiguous_and_unknown(runs: Path) -> None:
    src = open_source("runs", base_dir=runs.parent)
    assert src.get("b7c1d2e3").name == "vit-small"
    assert src.get("3f2a9c7").name == "resnet50-lr0.1"
    assert src.get("b7c1d2").id == "b7c1d2e3"
    with pytest.raises(AmbiguousRun) as ambiguous:
        src.get("3f2a9c")
    assert "3f2a9c0000" in str(ambiguous.value) and "3f2a9c7e51" in str(ambiguous.value)
    with pytest.raises(RunNotFound):
        src.get("b7c1d")  # a prefix under 6 characters is not looked up
    with pytest.raises(RunNotFound) as unknown:
        src.get("resnet50-lr0.2")
    assert "resnet50-lr0.1" in str(unknown.value) and "3f2a9c7e51" in str(unknown.value)


def test_never_writes_to_run_folders(runs: Path) -> None:
    before = {p: p.read_bytes() for p in runs.rglob("*") if p.is_file()}
    src = LocalDirSource("runs", base_dir=runs.parent)
    for run in src.list_runs():
        for key in run.metric_keys():
            run.series(key)
    src.problems()
    after = {p: p.read_bytes() for p in runs.rglob("*") if p.is_file()}
    assert after == before


# -- PyTorch Lightning CSVLogger -----------------------------------------------------------

# As Lightning's CSVLogger writes them: sorted header, sparse rows (train rows every
# 50 steps, a validation row per epoch), `epoch` on every row, no time column.
LIGHTNING_CSV = """epoch,step,train_loss,val_acc,val_loss
0,49,1.8126,,
0,99,1.2034,,
0,99,,0.7125,0.9851
1,149,0.8842,,
1,199,0.6411,,
1,199,,0.8350,0.5532
"""

LIGHTNING_HPARAMS = """batch_size: 64
lr: 0.001
model:
  hidden: 128
  dropout: 0.1
betas: !!python/tuple
- 0.9
- 0.999
"""


def write_lightning(folder: Path, csv: str = LIGHTNING_CSV, hparams: str | None = None) -> None:
    folder.mkdir(parents=True)
    (folder / "metrics.csv").write_text(csv)
    if hparams is not None:
        (folder / "hparams.yaml").write_text(hparams)


def test_lightning_logger_folders(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_lightning(logs / "mnist" / "version_0", hparams=LIGHTNING_HPARAMS)
    write_lightning(logs / "mnist" / "version_1", hparams="{}\n")
    (logs / "mnist" / "version_1" / "checkpoints").mkdir()
    (logs / "mnist" / "version_1" / "checkpoints" / "epoch=1-step=199.ckpt").write_bytes(b"x")
    src = open_source("logs", base_dir=tmp_path)
    assert [r.id for r in src.list_runs()] == ["mnist/version_0", "mnist/version_1"]
    run = src.get("mnist/version_0")
    assert run.name == "mnist/version_0"
    assert run.experiment == "mnist"
    assert run.params == {
        "batch_size": 64,
        "lr": 0.001,
        "model.hidden": 128,
        "model.dropout": 0.1,
        "betas": "[0.9, 0.999]",
    }
    assert run.metric_keys() == ["epoch", "train_loss", "val_acc", "val_loss"]
    loss = run.series("train_loss")
    assert loss.steps.tolist() == [49, 99, 149, 199]
    assert loss.values.tolist() == [1.8126, 1.2034, 0.8842, 0.6411]
    assert np.isnan(loss.times).all()
    assert run.series("val_acc").steps.tolist() == [99, 199]
    assert run.series("val_acc").values.tolist() == [0.7125, 0.835]
    assert run.series("epoch").values.tolist() == [0, 0, 0, 1, 1, 1]
    assert run.summary == {"epoch": 1.0, "train_loss": 0.6411, "val_acc": 0.835, "val_loss": 0.5532}
    other = src.get("mnist/version_1")
    assert other.params == {}
    assert other.artifacts == ["checkpoints/epoch=1-step=199.ckpt"]
    assert src.list_runs("mnist") == src.list_runs()
    assert src.problems() == []


def test_lightning_versions_directly_under_root(tmp_path: Path) -> None:
    logs = tmp_path / "lightning_logs"
    write_lightning(logs / "version_0")  # no hparams.yaml: the folder name tells
    write_lightning(logs / "version_1", hparams="lr: 0.01\n")
    src = LocalDirSource("lightning_logs", base_dir=tmp_path)
    assert [(r.id, r.experiment) for r in src.list_runs()] == [
        ("version_0", None),
        ("version_1", None),
    ]
    assert src.get("version_1").params == {"lr": 0.01}
    # Pointing at one version folder reads it alone.
    single = LocalDirSource("lightning_logs/version_1", base_dir=tmp_path)
    assert [r.id for r in single.list_runs()] == ["version_1"]


def test_lightning_bad_hparams_reported(tmp_path: Path) -> None:
    write_lightning(tmp_path / "logs" / "exp" / "version_0", hparams="lr: [0.1\n")
    src = LocalDirSource("logs", base_dir=tmp_path)
    (run,) = src.list_runs()
    assert run.params == {} and run.summary["val_acc"] == 0.835
    (problem,) = src.problems()
    assert problem.file == "logs/exp/version_0/hparams.yaml"


# -- speed ---------------------------------------------------------------------------------


def test_large_csv_and_jsonl_parse_fast(tmp_path: Path) -> None:
    n = 100_000
    rng = np.random.default_rng(0)
    loss = np.round(rng.random(n), 5)
    root = tmp_path / "runs"
    lines = ["step,time,train/loss,val/acc"]
    lines += [f"{i},{T0 + i * 0.1:.1f},{loss[i]},{'0.5' if i % 20 == 0 else ''}" for i in range(n)]
    write_run(root, "big-csv", csv="\n".join(lines) + "\n")
    rows = [
        json.dumps({"step": i, "train/loss": float(loss[i]), **({"v": 1.0} if i % 20 else {})})
        for i in range(n)
    ]
    write_run(root, "big-jsonl", jsonl=rows)
    src = LocalDirSource("runs", base_dir=tmp_path)
    started = time.perf_counter()
    big_csv = src.get("big-csv")
    csv_series = big_csv.series("train/loss")
    elapsed = time.perf_counter() - started
    assert len(csv_series) == n and np.array_equal(csv_series.values, loss)
    assert len(big_csv.series("val/acc")) == n // 20
    assert len(src.get("big-jsonl").series("train/loss")) == n
    # Both files are parsed by the first scan; a generous bound for a loaded CI machine.
    assert elapsed < 5.0


# -- the example lab book's runs --------------------------------------------------------------


def test_example_runs_are_deterministic_and_readable(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    ids = write_example_runs(first)
    (first / "someone-elses-run").mkdir()
    assert write_example_runs(second) == ids
    write_example_runs(first)  # rewrites its own folders, leaves others alone
    assert (first / "someone-elses-run").is_dir()
    shutil.rmtree(first / "someone-elses-run")
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert all((first / f).read_bytes() == (second / f).read_bytes() for f in files)

    src = LocalDirSource(str(first))
    assert src.problems() == []
    sweep = src.list_runs("cifar-sweep")
    assert sorted(r.name for r in sweep) == sorted(
        f"r18-lr{lr}-s{seed}" for lr in (0.3, 0.1, 0.03) for seed in (0, 1, 2)
    )
    assert all(len(r.id) == 8 and int(r.id, 16) >= 0 for r in sweep)
    assert len(src.list_runs("variants")) == 4
    failed = [r for r in src.list_runs() if r.status == "failed"]
    assert [r.name for r in failed] == ["r18-lr0.3-s2"]
    loss = failed[0].series("train/loss")
    assert np.nanmax(loss.values) > 1e6 and np.isnan(loss.values[-1])
    good = next(r for r in sweep if r.name == "r18-lr0.1-s0")
    assert good.params["optimizer.momentum"] == 0.9 and good.params["lr"] == 0.1
    assert len(good.series("train/loss")) == 600
    assert good.series("val/acc").steps.tolist() == list(range(19, 600, 20))
    final_acc = good.summary["val/acc"]
    assert isinstance(final_acc, float) and 0.7 < final_acc < 0.9
    assert good.start_time is not None and good.start_time.date().isoformat() == "2026-11-02"
