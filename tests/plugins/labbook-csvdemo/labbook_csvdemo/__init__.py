"""A labbook source for one long-format CSV file: `csvdemo:PATH`, or the bare path.

The file holds one point a row under the header `run,experiment,step,metric,value`;
a metric named `params.K` sets the run's param K instead (its value kept as text).
Each run's summary is the value at its highest step of every metric.

Everything labbook needs is here: the `Source` subclass with its two required methods
(labbook's base class gives bulk and sampled reads, searching and the rest), what it
watches for a live preview, and `detect`, which bare-path detection asks.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import ClassVar

from labbook.errors import RunDataError, SourceError
from labbook.model import Run, Series
from labbook.sources import Source

HEADER = ["run", "experiment", "step", "metric", "value"]
PARAM_PREFIX = "params."


class CsvDemoSource(Source):
    """Runs read from one long-format CSV file."""

    scheme: ClassVar[str] = "csvdemo"

    def __init__(self, location: str, *, name: str | None = None, base_dir: Path | None = None):
        super().__init__(location, name=name, base_dir=base_dir)
        path = Path(location).expanduser()
        self.path = path if path.is_absolute() else self.base_dir / path
        self._runs: list[Run] | None = None
        self._points: dict[tuple[str, str], list[tuple[int, float]]] = {}
        self._problems: list[SourceError] = []

    @classmethod
    def detect(cls, path: Path) -> bool:
        """Tells whether a bare path is a file that starts with this format's header."""
        if not path.is_file():
            return False
        with path.open(newline="", encoding="utf-8", errors="replace") as handle:
            return next(csv.reader(handle), None) == HEADER

    def list_runs(self, experiment: str | None = None) -> list[Run]:
        """Gives every run in the file (of one experiment, when given)."""
        runs = self._read()
        return [r for r in runs if experiment is None or r.experiment == experiment]

    def read_series(self, run: Run, key: str) -> Series:
        """Gives every point of one metric of one run, in step order."""
        self._read()
        points = self._points.get((run.id, key), [])
        return Series.from_points(key, [s for s, _ in points], [v for _, v in points])

    def list_metric_keys(self, run: Run) -> list[str]:
        """Gives the metrics the run has points of."""
        self._read()
        return sorted(k for (run_id, k) in self._points if run_id == run.id)

    def watched_paths(self) -> list[Path]:
        """Gives the file: a change to it is a change to the runs."""
        return [self.path]

    def problems(self) -> list[SourceError]:
        """Gives the rows that could not be read, each by line."""
        self._read()
        return list(self._problems)

    def _read(self) -> list[Run]:
        if self._runs is not None:
            return self._runs
        if not self.path.is_file():
            raise SourceError(f"no file {self.path}", source=self.uri, hint="fix the path")
        runs: dict[str, Run] = {}
        with self.path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            if next(reader, None) != HEADER:
                raise SourceError(
                    f"{self.path} does not start with {','.join(HEADER)}", source=self.uri
                )
            for row in reader:
                if len(row) != len(HEADER):
                    self._problem(f"has {len(row)} cells, not {len(HEADER)}", reader.line_num)
                    continue
                run_id, experiment, step, metric, value = row
                run = runs.setdefault(
                    run_id,
                    Run(id=run_id, source=self.name, experiment=experiment or None, reader=self),
                )
                if metric.startswith(PARAM_PREFIX):
                    run.params[metric[len(PARAM_PREFIX) :]] = value
                    continue
                try:
                    point = (int(step), float(value))
                except ValueError:
                    self._problem(f"step {step!r} or value {value!r} is no number", reader.line_num)
                    continue
                self._points.setdefault((run_id, metric), []).append(point)
        for (run_id, metric), points in self._points.items():
            runs[run_id].summary[metric] = max(points, key=lambda p: p[0])[1]
        self._runs = list(runs.values())
        return self._runs

    def _problem(self, message: str, line: int) -> None:
        self._problems.append(
            RunDataError(f"row {message}; skipped", file=self.path, line=line, source=self.uri)
        )
