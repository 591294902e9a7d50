"""A bare path opens the source its content calls for (SPEC section 3)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from labbook.sources import open_source

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("path", "source_class", "run_count"),
    [
        ("runs", "LocalDirSource", 13),
        ("mlflow.db", "MlflowSqlSource", 4),
        ("wandb", "WandbOfflineSource", 1),
        ("tensorboard", "TensorBoardSource", 1),
    ],
)
def test_bare_path_is_detected_by_content(
    tmp_path: Path, path: str, source_class: str, run_count: int
) -> None:
    # A copy, so detection cannot lean on the folder's name.
    target = tmp_path / "data"
    src = REPO / path
    if src.is_dir():
        shutil.copytree(src, target, symlinks=True)
    else:
        shutil.copy2(src, target)
    source = open_source("data", base_dir=tmp_path)
    assert type(source).__name__ == source_class
    assert len(source.list_runs()) == run_count
    assert source.problems() == []


def test_bare_mlruns_path_is_a_file_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlflow

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    store = tmp_path / "somewhere"
    client = mlflow.tracking.MlflowClient(tracking_uri=f"file:{store}")
    experiment = client.create_experiment("detect")
    run = client.create_run(experiment)
    client.log_param(run.info.run_id, "lr", "0.1")
    source = open_source(str(store))
    assert type(source).__name__ == "MlflowFileSource"
    assert [(r.id, r.params) for r in source.list_runs()] == [(run.info.run_id, {"lr": "0.1"})]


def test_a_misspelt_experiment_is_an_error_naming_the_known_ones() -> None:
    from labbook.errors import SourceError

    source = open_source("runs", base_dir=REPO)
    assert len(source.search(experiment="cifar-sweep")) == 9
    with pytest.raises(SourceError) as caught:
        source.search(experiment="cifar-swep")
    assert "no experiment 'cifar-swep'" in str(caught.value)
    assert "known experiments: cifar-sweep, variants" in str(caught.value)
