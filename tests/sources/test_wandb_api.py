"""WandbApiSource: mapping the W&B public API's run objects into labbook's runs.

No W&B server can run here (the cloud is out of reach and W&B Server is not open
source), so these tests use `FakeWandbApiRun` and `fake_wandb_api`, stand-ins for the
W&B cloud's `wandb.apis.public.Run` and `wandb.Api()`, shaped after wandb 0.31's
classes. They test the mapping and the filter translation; that the real server
answers as the stand-ins do is not verified here.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from labbook.errors import AmbiguousRun, MissingExtra, RunNotFound, SourceError
from labbook.query import apply_query, parse_filter
from labbook.sources import open_source
from labbook.sources.wandb_api import WandbApiSource, to_wandb_filters


@dataclass
class FakeWandbApiRun:
    """Stands in for a W&B cloud run (`wandb.apis.public.Run`); the cloud cannot run here.

    Attributes are named as wandb's Run exposes them; `rows` is the run's full history.
    """

    id: str
    name: str
    state: str = "finished"
    project: str = "vision"
    entity: str = "team"
    config: dict[str, Any] = field(default_factory=dict)
    summary_metrics: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    group: str | None = None
    job_type: str | None = None
    notes: str | None = None
    created_at: str = "2026-11-02T10:00:00"
    heartbeat_at: str = "2026-11-02T11:00:00"
    commit: str | None = None
    sweep_name: str | None = None
    history_keys: dict[str, Any] | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"https://wandb.example/{self.entity}/{self.project}/runs/{self.id}"

    def _projected(self, keys: list[str]) -> list[dict[str, Any]]:
        # W&B returns the rows holding every requested key, with `_step` and those keys.
        return [
            {"_step": row["_step"], **{k: row[k] for k in keys}}
            for row in self.rows
            if all(k in row for k in keys)
        ]

    def scan_history(self, keys: list[str], page_size: int = 1000) -> list[dict[str, Any]]:
        self.calls.append(("scan_history", list(keys)))
        return self._projected(keys)

    def history(
        self, samples: int = 500, keys: list[str] | None = None, pandas: bool = True
    ) -> list[dict[str, Any]]:
        self.calls.append(("history", (samples, list(keys or []), pandas)))
        rows = self._projected(keys or [])
        stride = max(1, math.ceil(len(rows) / samples))
        return rows[::stride]

    def document(self) -> dict[str, Any]:
        """Gives the run as the server's filters see it (config wrapped, as W&B stores it)."""
        return {
            "name": self.id,
            "displayName": self.name,
            "state": self.state,
            "group": self.group,
            "jobType": self.job_type,
            "tags": self.tags,
            "config": {k: {"value": v} for k, v in self.config.items()},
            "summary_metrics": self.summary_metrics,
        }


class fake_wandb_api:
    """Stands in for `wandb.Api()` talking to the W&B cloud, which cannot run here.

    `runs()` evaluates the MongoDB-style filters the way the docs describe them ($and,
    $or, $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin; a list field matches when any
    element does; dotted paths reach into config and summary).
    """

    def __init__(self, runs: list[FakeWandbApiRun], error: Exception | None = None) -> None:
        self._runs = runs
        self.error = error
        self.queries: list[dict[str, Any]] = []

    def runs(
        self,
        path: str,
        filters: dict[str, Any] | None = None,
        per_page: int = 50,
        lazy: bool = True,
    ) -> list[FakeWandbApiRun]:
        if self.error is not None:
            raise self.error
        self.queries.append({"path": path, "filters": filters, "lazy": lazy})
        return [r for r in self._runs if _matches(r.document(), filters or {})]

    def run(self, path: str) -> FakeWandbApiRun:
        if self.error is not None:
            raise self.error
        run_id = path.rsplit("/", 1)[-1]
        for run in self._runs:
            if run.id == run_id:
                return run
        raise ValueError(f"Could not find run {path}")


_MISSING = object()


def _lookup(doc: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(doc, Mapping) or part not in doc:
            return _MISSING
        doc = doc[part]
    return doc


def _compare(value: Any, op: str, arg: Any) -> bool:
    if isinstance(value, list):
        return any(_compare(v, op, arg) for v in value)
    if op == "$eq":
        return value is not _MISSING and value == arg
    if op == "$in":
        return value is not _MISSING and value in arg
    numeric = isinstance(value, int | float) and isinstance(arg, int | float)
    same_kind = numeric or (isinstance(value, str) and isinstance(arg, str))
    if op in ("$gt", "$gte", "$lt", "$lte"):
        if not same_kind:
            return False
        return {
            "$gt": value > arg,
            "$gte": value >= arg,
            "$lt": value < arg,
            "$lte": value <= arg,
        }[op]
    raise AssertionError(op)


def _matches(doc: dict[str, Any], query: Mapping[str, Any]) -> bool:
    for key, cond in query.items():
        if key == "$and":
            if not all(_matches(doc, q) for q in cond):
                return False
            continue
        if key == "$or":
            if not any(_matches(doc, q) for q in cond):
                return False
            continue
        value = _lookup(doc, key)
        conditions = cond if isinstance(cond, Mapping) else {"$eq": cond}
        for op, arg in conditions.items():
            if op == "$ne":
                ok = not _compare(value, "$eq", arg)
            elif op == "$nin":
                ok = not _compare(value, "$in", arg)
            else:
                ok = _compare(value, op, arg)
            if not ok:
                return False
    return True


def sample_runs() -> list[FakeWandbApiRun]:
    return [
        FakeWandbApiRun(
            id="a1b2c3d4",
            name="resnet-adam",
            config={"optimizer": {"name": "adam", "lr": 0.001}, "epochs": 3, "_wandb": {"x": 1}},
            summary_metrics={
                "val": {"acc": 0.91},
                "val/loss": 0.3,
                "best": 0.93,
                "_step": 99,
                "_runtime": 3600.5,
                "_timestamp": 1.8e9,
                "_wandb": {"runtime": 3600},
                "examples": {"_type": "table-file", "path": "media/t.json"},
            },
            tags=["baseline", "adam"],
            group="sweep-1",
            job_type="train",
            notes="first try",
            commit="0123abcd",
            sweep_name="sw33p",
            history_keys={
                "keys": {
                    "loss": {"typeCounts": [{"type": "number", "count": 100}]},
                    "val.acc": {"typeCounts": [{"type": "number", "count": 10}]},
                    "samples": {"typeCounts": [{"type": "image-file", "count": 3}]},
                    "_step": {"typeCounts": [{"type": "number", "count": 100}]},
                },
                "lastStep": 99,
            },
            rows=[
                {"_step": 0, "_timestamp": 1.0e9, "loss": 1.0},
                {"_step": 1, "_timestamp": 1.0e9 + 1, "loss": "NaN"},
                {"_step": 2, "_timestamp": 1.0e9 + 2, "loss": None},
                {"_step": 3, "_timestamp": 1.0e9 + 3, "loss": {"_type": "image-file"}},
                {"_step": 4, "_timestamp": 1.0e9 + 4, "loss": 0.25, "val.acc": 0.5},
                {"_step": 5, "_timestamp": 1.0e9 + 5, "loss": "text"},
            ],
        ),
        FakeWandbApiRun(
            id="a1b2c3ff",
            name="resnet-sgd",
            state="failed",
            config={"optimizer": {"name": "sgd", "lr": 0.1}, "epochs": 3, "note": "0.1"},
            summary_metrics={"val": {"acc": 0.62}, "best": 0.7, "_wandb": {"runtime": 60}},
            tags=["sgd"],
            group="sweep-1",
        ),
        FakeWandbApiRun(
            id="zz99yy88",
            name="vit",
            state="running",
            config={"optimizer": "adam", "epochs": 10, "flag": True},
            summary_metrics={"best": 0.8, "val/loss": math.nan},
            tags=["baseline"],
            job_type="eval",
        ),
    ]


def make_source(runs: list[FakeWandbApiRun] | None = None) -> tuple[WandbApiSource, Any]:
    api = fake_wandb_api(sample_runs() if runs is None else runs)
    return WandbApiSource("team/vision", name="wb", api=api), api


def test_maps_an_api_run() -> None:
    source, api = make_source()
    run = source.get("a1b2c3d4")
    assert run.ref == "wb:a1b2c3d4"
    assert run.name == "resnet-adam"
    assert run.experiment == "vision"
    assert run.status == "finished"
    assert run.params == {"optimizer.name": "adam", "optimizer.lr": 0.001, "epochs": 3}
    assert run.summary == {"val.acc": 0.91, "val/loss": 0.3, "best": 0.93}
    assert run.tags == {
        "baseline": "",
        "adam": "",
        "wandb.group": "sweep-1",
        "wandb.job_type": "train",
        "wandb.notes": "first try",
        "wandb.sweep": "sw33p",
    }
    assert run.hidden_tags == {"wandb.notes", "wandb.sweep"}
    assert run.git_commit == "0123abcd"
    assert run.url == "https://wandb.example/team/vision/runs/a1b2c3d4"
    assert run.start_time is not None and run.start_time.isoformat() == "2026-11-02T10:00:00+00:00"
    assert run.duration == 3600
    running = source.get("zz99yy88")
    assert running.status == "running" and running.end_time is None
    assert math.isnan(float(running.summary["val/loss"] or 0))
    assert api.queries == []  # exact IDs are asked for one by one


def test_wrapped_config_is_unwrapped() -> None:
    # Older servers and clients hand back the config as W&B stores it.
    wrapped = FakeWandbApiRun(
        id="old00001",
        name="old",
        config={
            "lr": {"value": 0.1, "desc": None},
            "model": {"value": {"depth": 50}},
            "_wandb": {"value": {"cli_version": "0.18.0"}},
        },
    )
    plain = FakeWandbApiRun(id="new00001", name="new", config={"lr": {"value": 0.1}, "x": 1})
    source, _ = make_source([wrapped, plain])
    assert source.get("old00001").params == {"lr": 0.1, "model.depth": 50}
    # Not every entry wrapped: the config is plain, and {"value": …} is the user's own.
    assert source.get("new00001").params == {"lr.value": 0.1, "x": 1}


def test_filters_sent_to_the_server() -> None:
    def sent(text: str) -> Any:
        return to_wandb_filters(parse_filter(text))

    assert sent("metrics.best > 0.75") == {"summary_metrics.best": {"$gt": 0.75}}
    assert sent("metrics.`val/loss` <= 1") == {"summary_metrics.val/loss": {"$lte": 1}}
    assert sent("params.optimizer = 'adam' and metrics.best >= 0.5") == {
        "$and": [{"config.optimizer.value": "adam"}, {"summary_metrics.best": {"$gte": 0.5}}]
    }
    assert sent("tags.baseline = ''") == {"tags": "baseline"}
    assert sent("tags.`wandb.group` = 'sweep-1'") == {"group": "sweep-1"}
    assert sent("attributes.status IN ('FINISHED', 'Failed')") == {
        "state": {"$in": ["finished", "failed"]}
    }
    assert sent("attributes.run_name != 'vit'") == {"displayName": {"$ne": "vit"}}
    assert sent("metrics.best = 1 or params.epochs IN ('x')") == {
        "$or": [{"summary_metrics.best": 1}, {"config.epochs.value": {"$in": ["x"]}}]
    }
    # Sent partly: what the server cannot judge as labbook does stays client-side.
    assert sent("metrics.best > 0.5 and params.optimizer.name = 'adam'") == {
        "summary_metrics.best": {"$gt": 0.5}
    }
    for text in (
        "params.lr = 0.1",  # "0.1" and 0.1 are equal to labbook, not to the server
        "params.flag = 'true'",
        "params.optimizer.name = 'adam'",  # a dotted key: nested, or a key with a dot?
        "not metrics.best > 0.5",
        "metrics.best > 0.5 or attributes.run_name LIKE 'res%'",
        "tags.baseline != ''",
        "attributes.start_time > '2026-01-01'",
    ):
        assert sent(text) is None, text


FILTERS = [
    "metrics.best > 0.75",
    "metrics.`val.acc` > 0.5",
    "metrics.`val/loss` != 0.3",
    "params.optimizer = 'adam'",
    "params.optimizer.name = 'adam'",
    "params.epochs = 3",
    "params.note = 0.1",
    "params.flag = 'True'",
    "params.optimizer != 'adam'",
    "tags.baseline = ''",
    "tags.`wandb.group` = 'sweep-1' and metrics.best < 0.8",
    "attributes.status = 'FINISHED' or attributes.status = 'running'",
    "attributes.run_id IN ('a1b2c3d4', 'zz99yy88') and not tags.adam = ''",
    "attributes.run_name LIKE 'resnet%'",
    "metrics.best IN (0.7, 0.8)",
    "metrics.best NOT IN (0.7)",
]


@pytest.mark.parametrize("text", FILTERS)
def test_search_gives_what_the_filter_language_says(text: str) -> None:
    source, api = make_source()
    everything = [source._to_run(r) for r in sample_runs()]
    expected = [r.id for r in apply_query(everything, text, None, None)]
    assert source.search(filter=text).ids == expected
    assert len(api.queries) == 1 and api.queries[0]["lazy"] is False


def test_search_orders_and_limits_client_side() -> None:
    source, api = make_source()
    found = source.search(filter="metrics.best > 0.1", order_by=["metrics.best DESC"], limit=2)
    assert found.ids == ["a1b2c3d4", "zz99yy88"]
    assert api.queries[0]["filters"] == {"summary_metrics.best": {"$gt": 0.1}}
    assert source.search(experiment="other").ids == []
    assert source.list_runs("other") == []
    assert [r.id for r in source.list_runs("vision")] == ["a1b2c3d4", "a1b2c3ff", "zz99yy88"]


def test_read_series_reads_the_full_history() -> None:
    source, _ = make_source()
    run = source.get("a1b2c3d4")
    loss = run.series("loss")
    assert loss.steps.tolist() == [0, 1, 4]  # missing, media and text rows are no points
    assert loss.values[0] == 1.0 and math.isnan(loss.values[1]) and loss.values[2] == 0.25
    assert loss.times.tolist() == [1.0e9, 1.0e9 + 1, 1.0e9 + 4]
    api_run = source._api_runs["a1b2c3d4"]
    assert api_run.calls == [("scan_history", ["loss", "_timestamp"])]
    assert run.metric_keys() == ["best", "loss", "val.acc", "val/loss"]


def test_read_sampled_series_asks_the_server_for_a_sample() -> None:
    rows = [{"_step": i, "_timestamp": float(i), "acc": i / 1000} for i in range(1000)]
    runs = [FakeWandbApiRun(id="big00001", name="big", rows=rows)]
    source, _ = make_source(runs)
    run = source.get("big00001")
    sample = source.read_sampled_series([run], "acc", 100)["big00001"]
    assert len(sample) == 100
    assert sample.steps[0] == 0 and sample.values[10] == sample.steps[10] / 1000
    assert source._api_runs["big00001"].calls == [("history", (100, ["acc", "_timestamp"], False))]


def test_get_by_prefix_and_unknown() -> None:
    source, _ = make_source()
    assert source.get("zz99yy").id == "zz99yy88"
    with pytest.raises(AmbiguousRun):
        source.get("a1b2c3")
    with pytest.raises(RunNotFound, match="closest"):
        source.get("a1b2c3d5")


def test_api_errors_name_the_uri_and_hide_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_API_KEY", "secret-key-123")
    api = fake_wandb_api([], error=RuntimeError("401 unauthorized for key secret-key-123"))
    source = WandbApiSource("team/vision", api=api)
    with pytest.raises(SourceError) as info:
        source.list_runs()
    text = str(info.value)
    assert "wandb:team/vision" in text and "401" in text
    assert "secret-key-123" not in text


def test_location_must_be_entity_and_project() -> None:
    with pytest.raises(SourceError, match="ENTITY/PROJECT"):
        WandbApiSource("just-a-project", api=fake_wandb_api([]))
    source = open_source("wandb:team/vision", name="wb")
    assert isinstance(source, WandbApiSource)
    assert (source.entity, source.project) == ("team", "vision")


def test_without_wandb_the_hint_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "wandb", None)
    source = WandbApiSource("team/vision")
    with pytest.raises(MissingExtra) as info:
        source.list_runs()
    assert info.value.hint == "pip install 'labbook[wandb]'"


def test_a_server_that_does_not_answer_is_tracker_unavailable_within_the_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import socket
    import time

    from labbook.errors import TrackerUnavailable

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("WANDB_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("WANDB_API_KEY", "k" * 40)
    monkeypatch.setenv("WANDB_SILENT", "true")
    source = open_source("wandb:team/vision", timeout=2)  # the real wandb.Api
    started = time.monotonic()
    with pytest.raises(TrackerUnavailable) as info:
        source.list_runs()
    assert time.monotonic() - started < 30
    assert "wandb:team/vision" in str(info.value) and "k" * 40 not in str(info.value)


def test_a_bad_timeout_option_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="timeout"):
        open_source("wandb:team/vision", timeout="soon")
