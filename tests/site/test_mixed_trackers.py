"""The example's `trackers` report in headless Chromium: one line chart and one table over a
local run, an MLflow run, a W&B run and a TensorBoard run.

What the page shows is compared with what each run logged, found without labbook's
readers: the W&B and TensorBoard values are recomputed with the generator that logged
them (scripts/make_example_trackers.py), the MLflow values come from MLflow's own client
on a copy of mlflow.db, and the local run's from its metrics.jsonl. (test_browser.py
checks every chart of every report against labbook's readers.)
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from scripts import make_example_trackers as trackers

from tests.conftest import ENGINES, BuiltSites, OpenPage
from tests.site.test_browser import draw_every_chart, page_path

pytestmark = pytest.mark.browser

REPORT = "trackers"
KEY = "val/acc"
LOCAL_ID = "55099931"  # r18-lr0.1-s0


@dataclass
class Logged:
    """One run as its tracker logged it: which source it is in, its lr and its val/acc."""

    source: str
    name: str
    lr: float
    steps: list[int]
    values: list[float]


@pytest.fixture(scope="session")
def logged(built_sites: BuiltSites, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Logged]:
    """Run ID -> what that run logged, each read without labbook."""
    project = built_sites.project
    runs: dict[str, Logged] = {}

    # Local: labbook's own run folder, read as plain JSON.
    meta = json.loads((project / "runs" / LOCAL_ID / "run.json").read_text(encoding="utf-8"))
    rows = [
        json.loads(line)
        for line in (project / "runs" / LOCAL_ID / "metrics.jsonl").read_text().splitlines()
    ]
    points = [(r["step"], r[KEY]) for r in rows if KEY in r]
    runs[LOCAL_ID] = Logged(
        "local",
        meta["name"],
        meta["params"]["lr"],
        [s for s, _ in points],
        [v for _, v in points],
    )

    # MLflow: its own client on a copy of the store (the client may touch the file).
    mlflow_env = pytest.MonkeyPatch()
    mlflow_env.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    mlflow_env.setenv("DO_NOT_TRACK", "true")
    try:
        from mlflow.tracking import MlflowClient

        copy = tmp_path_factory.mktemp("mlflow-copy") / "mlflow.db"
        shutil.copy2(project / "mlflow.db", copy)
        client = MlflowClient(tracking_uri=f"sqlite:///{copy}")
        experiment = client.get_experiment_by_name("augment-ablation")
        assert experiment is not None
        best = client.search_runs(
            [experiment.experiment_id], order_by=["metrics.`val/acc` DESC"], max_results=1
        )[0]
        history = sorted(
            client.get_metric_history(best.info.run_id, KEY), key=lambda m: (m.step, m.timestamp)
        )
    finally:
        mlflow_env.undo()
    runs[best.info.run_id] = Logged(
        "sweeps",
        best.info.run_name,
        float(best.data.params["lr"]),
        [m.step for m in history],
        [m.value for m in history],
    )

    # W&B: float64 values, exactly as logged.
    steps, values = trackers.logged_points(trackers.wandb_curves())[KEY]
    runs[trackers.WANDB_ID] = Logged(
        "wb", trackers.WANDB_NAME, trackers.WANDB_CONFIG["lr"], steps, values
    )

    # TensorBoard: tensorboardX keeps scalars as float32.
    steps, values = trackers.logged_points(trackers.tensorboard_curves())[KEY]
    runs[trackers.TB_RUN] = Logged(
        "tb",
        trackers.TB_RUN,
        trackers.TB_HPARAMS["lr"],
        steps,
        [float(np.float32(v)) for v in values],
    )
    return runs


def test_generator_logs_what_the_report_says(logged: dict[str, Logged]) -> None:
    """The W&B and TensorBoard runs log 30 validation points, 20 steps apart, to step 599."""
    for run_id in (trackers.WANDB_ID, trackers.TB_RUN):
        assert logged[run_id].steps == list(range(19, 600, 20)), run_id
        assert all(0.0 < v < 1.0 for v in logged[run_id].values)
    assert logged[trackers.WANDB_ID].values != logged[trackers.TB_RUN].values


@pytest.mark.parametrize("engine", ENGINES)
def test_one_chart_draws_each_trackers_values(
    open_page: OpenPage,
    example_origins: dict[str, str],
    logged: dict[str, Logged],
    engine: str,
) -> None:
    visit = open_page(example_origins[engine], page_path(REPORT))
    charts = draw_every_chart(visit.page)
    assert len(charts) == 1, f"{engine}: one chart expected, got {len(charts)}"
    traces = charts[0]["traces"]
    assert [t["meta"]["role"] for t in traces] == ["line"] * 4
    by_run = {t["meta"]["run_id"]: t for t in traces}
    assert set(by_run) == set(logged)
    for run_id, run in logged.items():
        trace = by_run[run_id]
        where = f"{engine} {run.source}:{run_id}"
        assert trace["meta"]["key"] == KEY
        assert trace["name"] == f"{run.name} ({run.source})", where
        assert trace["x"] == run.steps, f"{where}: x is not the logged steps"
        assert trace["y"] == run.values, f"{where}: y is not the logged values"
    assert visit.errors == []


def table_rows(page: Any) -> list[dict[str, str]]:
    """Gives the first labbook table's rows as {column key: data-value}."""
    rows: list[dict[str, str]] = page.locator("table.labbook-table").first.evaluate(
        """table => {
          const keys = Array.from(table.tHead.rows[0].cells).map(h => h.getAttribute('data-key'));
          return Array.from(table.tBodies[0].rows).map(r => Object.fromEntries(
            Array.from(r.children).map((c, i) => [keys[i], c.getAttribute('data-value')])));
        }"""
    )
    return rows


@pytest.mark.parametrize("engine", ENGINES)
def test_one_table_shows_each_trackers_run(
    open_page: OpenPage,
    example_origins: dict[str, str],
    logged: dict[str, Logged],
    engine: str,
) -> None:
    visit = open_page(example_origins[engine], page_path(REPORT))
    rows = table_rows(visit.page)
    by_name = {row["name"]: row for row in rows}
    assert len(rows) == len(by_name) == 4
    for run in logged.values():
        row = by_name[run.name]
        where = f"{engine} {run.name}"
        assert row["source"] == run.source, where
        assert float(row["params.lr"]) == run.lr, where
        assert float(row[f"metrics.{KEY}"]) == run.values[-1], where
    # Sorted by val/acc, best first, as the block asks; TensorBoard knows no run status.
    accs = [float(row[f"metrics.{KEY}"]) for row in rows]
    assert accs == sorted(accs, reverse=True)
    assert by_name[trackers.TB_RUN]["status"] == ""
    assert {by_name[r.name]["status"] for r in logged.values() if r.source != "tb"} == {"finished"}
    assert visit.errors == []
