"""Helpers the report-pipeline tests share: an in-memory source and a compiler over it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from labbook.model import Run, Series
from labbook.report.compile import CompiledPage, CompileOptions, compile_report
from labbook.report.resolve import Resolver
from labbook.sources.base import Source


class MemorySource(Source):
    """A source over runs built in the test; series come from `points`."""

    scheme: ClassVar[str] = "memory"

    def __init__(
        self, runs: Iterable[Run], name: str = "mem", points: dict[str, Any] | None = None
    ):
        super().__init__("test", name=name, base_dir=Path.cwd())
        self.runs = list(runs)
        for run in self.runs:
            run.source = name
            run.reader = self
        # (run id, key) -> list of (step, value)
        self.points: dict[tuple[str, str], list[tuple[int, float]]] = points or {}

    def list_runs(self, experiment: str | None = None) -> list[Run]:
        return [r for r in self.runs if experiment is None or r.experiment == experiment]

    def read_series(self, run: Run, key: str) -> Series:
        pts = self.points.get((run.id, key), [])
        return Series.from_points(key, [s for s, _ in pts], [v for _, v in pts])

    def list_metric_keys(self, run: Run) -> list[str]:
        return sorted(k for (rid, k) in self.points if rid == run.id)


def make_run(
    run_id: str,
    name: str = "",
    *,
    experiment: str | None = "exp",
    params: dict[str, Any] | None = None,
    summary: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
) -> Run:
    return Run(
        id=run_id,
        source="mem",
        name=name,
        experiment=experiment,
        status="finished",
        params=dict(params or {}),
        summary=dict(summary or {}),
        tags=dict(tags or {}),
    )


def resolver_for(*sources: Source) -> Resolver:
    return Resolver({s.name: s for s in sources})


def compile_text(
    text: str, sources: Sequence[Source], display: str = "reports/r.md"
) -> CompiledPage:
    """Gives `text` compiled as the report `display` against these sources."""
    return compile_report(
        Path(display), text, resolver_for(*sources), CompileOptions(display_path=display)
    )


def steps_values(n: int, start: float, slope: float) -> list[tuple[int, float]]:
    return [(i, float(v)) for i, v in enumerate(start + slope * np.arange(n))]
