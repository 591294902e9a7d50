"""Reads runs from plain folders: labbook's local format and PyTorch Lightning CSVLogger folders.

Local format (spec section 4)::

    <root>/<run-id>/run.json
    <root>/<run-id>/metrics.jsonl   (or metrics.csv)
    <root>/<run-id>/artifacts/...

Lightning ``CSVLogger``::

    <root>/<name>/version_N/metrics.csv + hparams.yaml   (or <root>/version_N/...)

Each metrics file is parsed once, into numpy arrays per key, the first time the
runs are listed (the summaries need the last values); `read_series` serves from
that cache. Bad rows and files are skipped and kept as `RunDataError`s for
`problems()`. Nothing here writes to a run folder.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import yaml

from ..errors import SourceError
from ..model import FloatArray, IntArray, Run, Scalar, Series, flatten
from ..yamlfiles import load_tolerant
from .folders import FolderSource, ProblemLog

RUN_FILE = "run.json"
JSONL_FILE = "metrics.jsonl"
CSV_FILE = "metrics.csv"
HPARAMS_FILE = "hparams.yaml"
ARTIFACTS_DIR = "artifacts"

# Columns (CSV) and row keys (JSONL) that place a row rather than hold a metric.
# The underscored names are how W&B history exports spell them.
STEP_KEYS = ("step", "_step")
TIME_KEYS = ("time", "_timestamp")

# How deep below the root run folders are looked for (root/<name>/version_N is 2).
MAX_DEPTH = 4

_LIGHTNING_VERSION = re.compile(r"version_\d+")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


@dataclass
class _MetricTable:
    """A parsed metrics file: per key, its points sorted by step."""

    keys: list[str] = field(default_factory=list)
    points: dict[str, tuple[IntArray, FloatArray, FloatArray]] = field(default_factory=dict)

    def series(self, key: str) -> Series:
        if key not in self.points:
            return Series.empty(key)
        steps, values, times = self.points[key]
        return Series(key, steps, values, times)

    def last_values(self) -> dict[str, float]:
        return {k: float(v[-1]) for k, (_, v, _) in self.points.items() if len(v)}


@dataclass
class _RunFolder:
    path: Path
    run_id: str
    kind: str  # "local" or "lightning"
    parent: str | None  # the folder path between root and the run, POSIX, if any


class LocalDirSource(FolderSource):
    """Runs kept as plain folders: labbook's local format and Lightning CSVLogger output."""

    scheme: ClassVar[str] = "dir"

    def __init__(self, location: str, *, name: str | None = None, base_dir: Path | None = None):
        super().__init__(location, name=name, base_dir=base_dir)
        self._folders: dict[str, _RunFolder] = {}
        self._tables: dict[str, _MetricTable] = {}
        self._artifact_dirs: dict[str, Path] = {}

    # -- the Source interface ----------------------------------------------------------

    def read_series(self, run: Run, key: str) -> Series:
        """Gives every logged point of `key` in step order (empty if the run never logged it)."""
        table = self._table(run)
        return table.series(key) if table is not None else Series.empty(key)

    def list_metric_keys(self, run: Run) -> list[str]:
        """Gives every key the run's metrics file logged, sorted."""
        table = self._table(run)
        return sorted(table.keys) if table is not None else []

    @classmethod
    def detect(cls, path: Path) -> bool:
        """Tells whether a bare path is a folder of local-format runs (run.json or metrics.jsonl)."""
        return path.is_dir() and (
            any(path.glob(f"*/{RUN_FILE}")) or any(path.glob(f"*/{JSONL_FILE}"))
        )

    # -- files ------------------------------------------------------------------------------

    def run_dir(self, run: Run) -> Path | None:
        """Gives the folder a run was read from, or None if it is not one of this source's."""
        self._scan()
        folder = self._folders.get(run.id)
        return folder.path if folder is not None else None

    def artifact_path(self, run: Run, artifact: str) -> Path | None:
        """Gives the file behind one of `run.artifacts`, or None if there is no such file."""
        self._scan()
        base = self._artifact_dirs.get(run.id)
        if base is None or artifact not in run.artifacts:
            return None
        return base / artifact

    # -- scanning ------------------------------------------------------------------------

    def _read_runs(self) -> list[Run]:
        runs: list[Run] = []
        for folder in sorted(self._find_run_folders(), key=lambda f: f.run_id):
            run: Run | None
            if folder.kind == "lightning":
                run = self._read_lightning_run(folder)
            else:
                run = self._read_local_run(folder)
            if run is not None:
                run.reader = self
                self._folders[run.id] = folder
                runs.append(run)
        return runs

    def _find_run_folders(self) -> Iterator[_RunFolder]:
        root_kind = _folder_kind(self.root)
        if root_kind is not None:
            # The root itself is one run (e.g. `dir:lightning_logs/version_3`).
            yield _RunFolder(self.root, self.root.name, root_kind, None)
            return
        yield from self._walk(self.root, (), 1)

    def _walk(self, folder: Path, rel: tuple[str, ...], depth: int) -> Iterator[_RunFolder]:
        try:
            entries = sorted(e.name for e in os.scandir(folder) if e.is_dir())
        except OSError as exc:
            self._problem(folder, f"cannot list folder: {exc.strerror}", kind=SourceError)
            return
        for name in entries:
            if name.startswith(".") or name == "__pycache__":
                continue
            path = folder / name
            kind = _folder_kind(path)
            if kind is not None:
                parent = "/".join(rel) if rel else None
                yield _RunFolder(path, "/".join((*rel, name)), kind, parent)
            elif depth < MAX_DEPTH:
                yield from self._walk(path, (*rel, name), depth + 1)

    # -- labbook's local format ------------------------------------------------------------

    def _read_local_run(self, folder: _RunFolder) -> Run | None:
        meta: dict[str, Any] = {}
        run_file = folder.path / RUN_FILE
        if run_file.is_file():
            # Every run.json field is optional, so a damaged file costs its fields, not the
            # run: the metrics are still read, and the problem names the file.
            kept = "the run is read without its name, params, tags and summary"
            try:
                loaded = json.loads(run_file.read_bytes())
            except (OSError, ValueError, RecursionError) as exc:
                self._problem(
                    run_file,
                    f"run.json is not valid JSON ({_short_error(exc)}); {kept}",
                    line=getattr(exc, "lineno", None),
                    hint="fix or remove the file",
                )
                loaded = {}
            if not isinstance(loaded, dict):
                self._problem(
                    run_file,
                    f"run.json holds a JSON {type(loaded).__name__}, not an object; {kept}",
                    hint='write one object, e.g. {"name": "resnet50-lr0.1"}',
                )
                loaded = {}
            meta = loaded
        bad = ProblemLog(self._problems, self._show(run_file), self.uri)

        table = self._read_metrics(folder)
        summary: dict[str, Scalar] = dict(table.last_values())
        summary.update(_scalars(_mapping(meta, "summary", bad), bad, "summary"))

        params = _scalars(_mapping(meta, "params", bad), bad, "params")
        tags = _tags(meta.get("tags"), bad)
        experiment = _text(meta, "experiment", bad)
        if experiment is None and "experiment" not in meta:
            experiment = folder.parent
        git = meta.get("git")
        git_commit = _text(meta, "git_commit", bad)
        if git_commit is None and isinstance(git, dict):
            git_commit = _text(git, "commit", bad)

        run = Run(
            id=folder.run_id,
            source=self.name,
            name=_text(meta, "name", bad) or "",
            experiment=experiment,
            status=_text(meta, "status", bad),
            start_time=_datetime(meta, "start_time", bad),
            end_time=_datetime(meta, "end_time", bad),
            params=params,
            tags=tags,
            summary=summary,
            artifacts=self._list_artifacts(folder.run_id, folder.path / ARTIFACTS_DIR),
            git_commit=git_commit,
            url=_text(meta, "url", bad),
        )
        bad.close()
        return run

    def _read_metrics(self, folder: _RunFolder) -> _MetricTable:
        jsonl, csv_path = folder.path / JSONL_FILE, folder.path / CSV_FILE
        table = _MetricTable()
        if jsonl.is_file():
            if csv_path.is_file():
                self._problem(
                    csv_path,
                    "metrics.csv ignored: the run also has metrics.jsonl, which is read",
                    hint="keep one metrics file per run",
                )
            table = self._parse_file(jsonl, _parse_jsonl)
        elif csv_path.is_file():
            table = self._parse_file(csv_path, _parse_csv)
        self._tables[folder.run_id] = table
        return table

    def _parse_file(
        self, path: Path, parser: Callable[[bytes, ProblemLog], _MetricTable]
    ) -> _MetricTable:
        bad = ProblemLog(self._problems, self._show(path), self.uri)
        try:
            data = path.read_bytes()
        except OSError as exc:
            bad.add(f"cannot read the file: {exc.strerror}; no metrics read")
            return _MetricTable()
        table = parser(data, bad)
        bad.close()
        return table

    def _list_artifacts(self, run_id: str, base: Path, skip: Iterable[str] = ()) -> list[str]:
        if not base.is_dir():
            return []
        skipped = set(skip)
        found: list[str] = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel = Path(dirpath).relative_to(base)
            for filename in filenames:
                path = (rel / filename).as_posix()
                if not filename.startswith(".") and path not in skipped:
                    found.append(path)
        self._artifact_dirs[run_id] = base
        return sorted(found)

    # -- Lightning CSVLogger ---------------------------------------------------------------

    def _read_lightning_run(self, folder: _RunFolder) -> Run:
        params: dict[str, Scalar] = {}
        hparams = folder.path / HPARAMS_FILE
        if hparams.is_file():
            bad = ProblemLog(self._problems, self._show(hparams), self.uri)
            try:
                loaded = load_tolerant(hparams.read_bytes())
            except (OSError, yaml.YAMLError) as exc:
                mark = getattr(exc, "problem_mark", None)
                bad.add(
                    f"hparams.yaml could not be read ({_short_error(exc)}); params left empty",
                    line=mark.line + 1 if mark is not None else None,
                )
                loaded = None
            if isinstance(loaded, dict):
                params = _scalars(flatten({str(k): v for k, v in loaded.items()}), bad, "params")
            elif loaded is not None:
                bad.add("hparams.yaml does not hold a mapping; params left empty")
            bad.close()
        table = self._read_metrics(folder)
        return Run(
            id=folder.run_id,
            source=self.name,
            name=folder.run_id,
            experiment=folder.parent,
            params=params,
            summary=dict(table.last_values()),
            artifacts=self._list_artifacts(
                folder.run_id, folder.path, skip=(CSV_FILE, HPARAMS_FILE)
            ),
        )

    # -- the cache ---------------------------------------------------------------------------

    def _table(self, run: Run) -> _MetricTable | None:
        self._scan()
        return self._tables.get(run.id)


# -- what a folder is ------------------------------------------------------------------------


def _folder_kind(path: Path) -> str | None:
    """Gives "local", "lightning" or None (not a run folder) from the files a folder holds."""
    try:
        names = {e.name for e in os.scandir(path) if e.is_file()}
    except OSError:
        return None
    if RUN_FILE in names or JSONL_FILE in names:
        return "local"
    if CSV_FILE in names:
        if HPARAMS_FILE in names or _LIGHTNING_VERSION.fullmatch(path.name):
            return "lightning"
        return "local"
    return None


# -- metrics files ----------------------------------------------------------------------------


def _parse_jsonl(data: bytes, bad: ProblemLog) -> _MetricTable:
    """Gives the table of a metrics.jsonl file: one JSON object per row, as W&B history rows."""
    steps: list[int] = []
    times: list[float] = []
    # Per key, the row numbers (into steps/times) and values of its points.
    rows_of: dict[str, list[int]] = {}
    values_of: dict[str, list[float]] = {}
    index = 0  # a bad row still takes its index, so later default steps stay as logged
    for line_no, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        row_index = index
        index += 1
        try:
            row = json.loads(raw)
        except ValueError as exc:
            bad.add(f"not a JSON object ({_short_error(exc)}); line skipped", line_no)
            continue
        if not isinstance(row, dict):
            bad.add(f"holds a JSON {type(row).__name__}, not an object; line skipped", line_no)
            continue
        step = _row_step(row, row_index)
        if step is None:
            bad.add(
                f"step {_first(row, STEP_KEYS)!r} is not a 64-bit integer; line skipped", line_no
            )
            continue
        when = _row_time(row)
        if when is None:
            bad.add(
                f"time {_first(row, TIME_KEYS)!r} is not Unix seconds or ISO 8601; line skipped",
                line_no,
            )
            continue
        n = len(steps)
        steps.append(step)
        times.append(when)
        for key, value in _metric_items(row, "", bad, line_no):
            rows = rows_of.get(key)
            if rows is None:
                rows = rows_of[key] = []
                values_of[key] = []
            rows.append(n)
            values_of[key].append(value)
    step_arr = np.asarray(steps, dtype=np.int64)
    time_arr = np.asarray(times, dtype=np.float64)
    table = _MetricTable(keys=list(rows_of))
    for key, rows in rows_of.items():
        idx = np.asarray(rows, dtype=np.int64)
        table.points[key] = _sorted(
            step_arr[idx], np.asarray(values_of[key], dtype=np.float64), time_arr[idx]
        )
    return table


def _row_step(row: Mapping[str, Any], default: int) -> int | None:
    value = _first(row, STEP_KEYS)
    if value is None:
        return default
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and _INT64_MIN <= value <= _INT64_MAX:
        return value
    return None


def _row_time(row: Mapping[str, Any]) -> float | None:
    """Gives a row's time as Unix seconds, NaN when it has none, None when it is unreadable."""
    value = _first(row, TIME_KEYS)
    if value is None:
        return math.nan
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            return None
    if isinstance(value, str):
        parsed = _parse_iso(value)
        return parsed.timestamp() if parsed is not None else None
    return None


def _first(row: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in row:
            return row[key]
    return None


def _metric_items(
    row: Mapping[str, Any], prefix: str, bad: ProblemLog, line_no: int
) -> Iterator[tuple[str, float]]:
    """Gives a row's (key, value) points; nested objects flatten with dots, as W&B does."""
    for key, value in row.items():
        if not prefix and key in STEP_KEYS + TIME_KEYS:
            continue
        full = f"{prefix}{key}"
        kind = type(value)
        if kind is float:
            yield full, value
        elif kind is int:
            try:
                yield full, float(value)
            except OverflowError:
                bad.add(f"value of {full!r} is too large for a float; value left out", line_no)
        elif value is None:
            continue  # logged as "no value": no point
        elif kind is bool:
            yield full, float(value)
        elif kind is dict:
            if "_type" in value:
                continue  # a W&B media or histogram object, not a scalar metric
            yield from _metric_items(value, f"{full}.", bad, line_no)
        elif kind is str:
            try:
                yield full, float(value)  # "NaN", "Infinity" as some writers quote them
            except ValueError:
                bad.add(
                    f"value of {full!r} is not a number: {_clip(value)}; value left out", line_no
                )
        else:
            bad.add(f"value of {full!r} is not a number: {_clip(value)}; value left out", line_no)


def _parse_csv(data: bytes, bad: ProblemLog) -> _MetricTable:
    """Gives the table of a metrics.csv file: header `step,time,<metric>…`; empty cell = no point."""
    text = data.decode("utf-8-sig", errors="replace")
    reader = csv.reader(text.splitlines())
    header: list[str] | None = None
    header_line = 1
    rows: list[list[str]] = []
    line_nos: list[int] = []
    row_indexes: list[int] = []
    short_rows: dict[int, str] = {}  # line -> why the row was skipped
    index = 0
    for cells in reader:
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue  # a blank line
        if header is None:
            header = [c.strip() for c in cells]
            header_line = reader.line_num
            continue
        row_index = index
        index += 1
        if len(cells) != len(header):
            short_rows[reader.line_num] = f"has {len(cells)} cells, the header has {len(header)}"
            continue
        rows.append(cells)
        line_nos.append(reader.line_num)
        row_indexes.append(row_index)
    if header is None:
        return _MetricTable()

    n = len(rows)
    columns: list[tuple[str, ...]] = list(zip(*rows, strict=True)) if rows else [()] * len(header)
    skip = np.zeros(n, dtype=bool)
    reasons: dict[int, str] = {}

    def mark(i: int, reason: str) -> None:
        if not skip[i]:
            skip[i] = True
            reasons[i] = reason

    seen: set[str] = set()
    metric_cols: list[tuple[str, int]] = []
    step_col = time_col = None
    for j, name in enumerate(header):
        if name in seen or not name:
            bad.add(
                f"column {j + 1} ({name!r}) is {'unnamed' if not name else 'a repeat'}; "
                "column ignored",
                header_line,
            )
            continue
        seen.add(name)
        if name in STEP_KEYS and step_col is None:
            step_col = j
        elif name in TIME_KEYS and time_col is None:
            time_col = j
        else:
            metric_cols.append((name, j))

    steps = np.asarray(row_indexes, dtype=np.int64)
    if step_col is not None:
        col = columns[step_col]
        try:  # the usual file: every step a plain integer
            steps = np.fromiter(map(int, col), dtype=np.int64, count=n)
        except (ValueError, OverflowError):
            for i, cell in enumerate(col):
                if cell:
                    as_float = _float_or_none(cell)
                    if as_float is not None and as_float.is_integer() and abs(as_float) < 2**63:
                        steps[i] = int(as_float)
                    else:
                        mark(i, f"step {_clip(cell)} is not an integer")

    times = np.full(n, np.nan, dtype=np.float64)
    if time_col is not None:
        col = columns[time_col]
        try:  # the usual file: Unix seconds or empty
            times = np.fromiter((float(c) if c else np.nan for c in col), np.float64, count=n)
        except ValueError:
            for i, cell in enumerate(col):
                if cell:
                    seconds = _float_or_none(cell)
                    if seconds is None:
                        parsed = _parse_iso(cell)
                        if parsed is None:
                            mark(i, f"time {_clip(cell)} is not Unix seconds or ISO 8601")
                            continue
                        seconds = parsed.timestamp()
                    times[i] = seconds

    parsed_cols: list[tuple[str, FloatArray, npt.NDArray[np.bool_]]] = []
    for name, j in metric_cols:
        col = columns[j]
        present = np.fromiter((c != "" for c in col), dtype=bool, count=n)
        try:
            values = np.fromiter((float(c) if c else np.nan for c in col), np.float64, count=n)
        except ValueError:
            values = np.full(n, np.nan, dtype=np.float64)
            for i, cell in enumerate(col):
                if cell:
                    number = _float_or_none(cell)
                    if number is None:
                        mark(i, f"{name!r} is {_clip(cell)}, not a number")
                    else:
                        values[i] = number
        parsed_cols.append((name, values, present))

    skipped = short_rows | {line_nos[i]: reason for i, reason in reasons.items()}
    for line in sorted(skipped):
        bad.add(f"{skipped[line]}; row skipped", line)

    keep = ~skip
    table = _MetricTable()
    for name, values, present in parsed_cols:
        mask = present & keep
        if not mask.any():
            continue
        table.keys.append(name)
        table.points[name] = _sorted(steps[mask], values[mask], times[mask])
    return table


def _sorted(
    steps: IntArray, values: FloatArray, times: FloatArray
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Gives the points in step order (stable: a repeated step keeps its logged order)."""
    if len(steps) > 1 and bool(np.any(steps[1:] < steps[:-1])):
        order = np.argsort(steps, kind="stable")
        return steps[order], values[order], times[order]
    return steps, values, times


def _float_or_none(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


# -- run.json fields ----------------------------------------------------------------------------


def _mapping(meta: Mapping[str, Any], key: str, bad: ProblemLog) -> dict[str, Any]:
    value = meta.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        bad.add(f"{key!r} should be an object, not {_clip(value)}; left out")
        return {}
    return flatten(value)


def _scalars(flat: Mapping[str, Any], bad: ProblemLog, what: str) -> dict[str, Scalar]:
    """Gives a flat mapping with every value a Scalar; lists and other objects become JSON text."""
    out: dict[str, Scalar] = {}
    for key, value in flat.items():
        if value is None or isinstance(value, str | int | float | bool):
            out[key] = value
        else:
            try:
                out[key] = json.dumps(value, sort_keys=True, default=str)
            except (TypeError, ValueError):
                bad.add(f"{what}.{key} cannot be read: {_clip(value)}; left out")
    return out


def _tags(value: Any, bad: ProblemLog) -> dict[str, str]:
    """Gives tags as str -> str; a list of labels (W&B style) gives each label an empty value."""
    if value is None:
        return {}
    if isinstance(value, list):
        return {str(label): "" for label in value}
    if not isinstance(value, dict):
        bad.add(f"'tags' should be an object, not {_clip(value)}; left out")
        return {}
    return {
        str(k): v if isinstance(v, str) else json.dumps(v, default=str) for k, v in value.items()
    }


def _text(meta: Mapping[str, Any], key: str, bad: ProblemLog) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    bad.add(f"{key!r} should be a string, not {_clip(value)}; left out")
    return None


def _datetime(meta: Mapping[str, Any], key: str, bad: ProblemLog) -> datetime | None:
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            pass
    elif isinstance(value, str):
        parsed = _parse_iso(value)
        if parsed is not None:
            return parsed
    bad.add(f"{key!r} is {_clip(value)}, not ISO 8601 or Unix seconds; left out")
    return None


def _parse_iso(text: str) -> datetime | None:
    """Gives an aware UTC datetime from ISO 8601 text (naive means UTC), or None."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# -- small helpers -------------------------------------------------------------------------------


def _clip(value: object, width: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _short_error(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at column {exc.colno}"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
