"""Reads an MLflow file store (`mlruns/`) directly, as MLflow 1.x to 3.x write it; no mlflow import.

Layout::

    <root>/<experiment-id>/meta.yaml                 name, lifecycle_stage
    <root>/<experiment-id>/<run-id>/meta.yaml        run_name (1.x: name), status, times, …
    <root>/<experiment-id>/<run-id>/params/<key>     the value, verbatim
    <root>/<experiment-id>/<run-id>/tags/<key>       the value, verbatim
    <root>/<experiment-id>/<run-id>/metrics/<key>    one `timestamp value [step]` line per point
    <root>/<experiment-id>/<run-id>/artifacts/…
    <root>/.trash/<experiment-id>/…                  deleted experiments

A key with `/` in it (`val/acc`) is a sub-folder. Every metric file is parsed once,
when the runs are listed (the summary is MLflow's "latest" value: highest step, then
latest timestamp, which needs every line), with numpy doing the number parsing, one
call for all of a run's files. The parsed series are kept, up to `max_kept_points`, so
reading them afterwards costs nothing, while a table of 10,000 runs that needs only
their summaries does not hold every history. meta.yaml files as MLflow writes them
(plain `key: value` lines) are read by a small parser that gives what YAML gives; any
other form goes to PyYAML, imported only then. What cannot be read is reported through
`problems()` by path and line, and skipped. Nothing here writes to the store.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import RunDataError, SourceError
from ..model import FloatArray, IntArray, Run, Scalar, Series
from .base import Source
from .folders import ProblemLog
from .mlflow_common import (
    ExperimentInfo,
    list_artifact_files,
    local_path,
    mlflow_order,
    mlflow_run,
    select_experiments,
)

META_FILE = "meta.yaml"
TRASH_DIR = ".trash"
ARTIFACTS_DIR = "artifacts"
# Folders MLflow keeps next to runs inside an experiment folder (MLflow's own list).
RESERVED_EXPERIMENT_DIRS = frozenset({"tags", "datasets", "traces", "models"})
# Folders at the root that are not experiments: the model registry's store.
RESERVED_ROOT_DIRS = frozenset({"models"})
# What marks a folder without meta.yaml as a broken run rather than something else.
RUN_SUBDIRS = ("metrics", "params", "tags", "artifacts")
# Files an OS leaves in folders copied through it; never params, tags or metrics.
_OS_JUNK = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})

# Parsed series kept from listing for later reads: 2M points is about 48 MB, all of an
# experiment of 400 runs x 5 metrics x 1,000 steps. Beyond it, a series is parsed again
# when asked for, so listing a huge store for its summaries does not fill memory.
MAX_KEPT_POINTS = 2_000_000

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
# MLflow writes 2 (1.x: no step), 3, or 5 (with dataset name and digest) fields a line.
_FIELD_COUNTS = (2, 3, 5)

# meta.yaml as MLflow writes it (yaml.safe_dump): one `key: value` line per field.
_META_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(?: (.*))?")
# Values read the same by any YAML 1.1 loader: unquoted text that cannot be taken for a
# number, date or boolean (a letter first, or a hex ID with a letter in it) and holds no
# ": ", " #" or other indicator; a decimal integer; a single-quoted ASCII string.
_META_WORD = r"[A-Za-z0-9_./@+=,-]+"
_META_TEXT = re.compile(
    # A hex run ID may start with a digit; 0b and 0s and 1s is a binary integer to YAML 1.1.
    rf"(?:[A-Za-z][A-Za-z0-9_./@+=,-]*|(?!0b[01]+\Z)[0-9a-f]*[a-f][0-9a-f]*)"
    rf"(?:(?::+| ){_META_WORD})*"
)
_META_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_META_QUOTED = re.compile(r"'((?:[\x20-\x26\x28-\x7e]|'')*)'")
_YAML_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
# Words YAML 1.1 reads as booleans (or null): a key or value spelled so goes to YAML.
_YAML_WORDS = _YAML_NULLS | frozenset(
    "yes Yes YES no No NO true True TRUE false False FALSE on On ON off Off OFF".split()
)


@dataclass(frozen=True)
class _Experiment:
    info: ExperimentInfo
    path: Path


class MlflowFileSource(Source):
    """Runs in an MLflow file store (`mlflow+file:mlruns`, `mlflow:mlruns`, or a bare path).

    Deleted runs and deleted experiments are left out unless `include_deleted` is true.
    """

    scheme: ClassVar[str] = "mlflow+file"

    def __init__(
        self,
        location: str,
        *,
        name: str | None = None,
        base_dir: Path | None = None,
        include_deleted: bool = False,
    ):
        super().__init__(location, name=name, base_dir=base_dir)
        self.include_deleted = include_deleted
        self.root = _store_path(location, Path(self.base_dir), self.uri)
        self._experiments: list[_Experiment] | None = None
        self._runs_of: dict[Path, list[Run]] = {}
        self._run_dirs: dict[str, Path] = {}
        self._metric_files: dict[str, dict[str, str]] = {}
        self._artifact_dirs: dict[str, Path] = {}
        self._kept: dict[tuple[str, str], Series] = {}
        self._kept_points = 0
        self.max_kept_points = MAX_KEPT_POINTS
        self._problems: list[SourceError] = []

    # -- the Source interface ----------------------------------------------------------

    def list_runs(self, experiment: str | None = None) -> list[Run]:
        """Gives the runs of every experiment (or of the one named or numbered), newest first."""
        experiments = {e.info: e for e in self._experiment_list()}
        chosen = select_experiments(
            list(experiments),
            experiment,
            source=self.uri,
            include_deleted=self.include_deleted,
        )
        runs: list[Run] = []
        for info in chosen:
            runs.extend(self._runs_in(experiments[info]))
        return mlflow_order(runs)

    def read_series(self, run: Run, key: str) -> Series:
        """Gives every logged point of `key` in step order (equal steps by timestamp)."""
        kept = self._kept.pop((run.id, key), None)
        if kept is not None:
            # The Run keeps it from here on; holding it twice would only cost memory.
            self._kept_points -= len(kept)
            return kept
        path = self._metric_files.get(run.id, {}).get(key)
        if path is None:
            return Series.empty(key)
        # Any problem in this file was reported when the runs were listed.
        parsed = self._parse_metric_file(path, key, report=False)
        return parsed[0] if parsed is not None else Series.empty(key)

    def list_metric_keys(self, run: Run) -> list[str]:
        """Gives every metric key the run has a file for, sorted."""
        return sorted(self._metric_files.get(run.id, {}))

    def problems(self) -> list[SourceError]:
        """Gives what could not be read: unreadable meta.yaml files, bad metric lines, …"""
        try:
            self.list_runs()
        except SourceError as exc:
            return [exc]
        return list(self._problems)

    # -- extras --------------------------------------------------------------------------

    def run_dir(self, run: Run) -> Path | None:
        """Gives the folder a run was read from, or None if it is not one of this source's."""
        return self._run_dirs.get(run.id)

    def watched_paths(self) -> list[Path]:
        """Gives the mlruns folder, whose files MLflow writes."""
        return [self.root]

    @classmethod
    def detect(cls, path: Path) -> bool:
        """Tells whether a bare path is an mlruns folder (experiment folders with meta.yaml)."""
        return path.is_dir() and (
            (path / "0" / META_FILE).exists() or any(path.glob(f"*/{META_FILE}"))
        )

    def artifact_path(self, run: Run, artifact: str) -> Path | None:
        """Gives the file behind one of `run.artifacts`, or None if there is no such file."""
        base = self._artifact_dirs.get(run.id)
        if base is None or artifact not in run.artifacts:
            return None
        return base / artifact

    # -- experiments ---------------------------------------------------------------------

    def _experiment_list(self) -> list[_Experiment]:
        if self._experiments is not None:
            return self._experiments
        if not self.root.is_dir():
            what = "is not a folder" if self.root.exists() else "does not exist"
            raise SourceError(
                f"MLflow file store {self.root} {what}",
                source=self.uri,
                hint="fix this source's path in mkdocs.yml (a relative path is relative to "
                "the folder holding mkdocs.yml); it names the folder MLflow's tracking URI "
                "names, usually mlruns",
            )
        # A store's root holds no meta.yaml; an experiment's or a run's folder does.
        if (self.root / META_FILE).is_file():
            raise self._not_a_store()
        found: list[_Experiment] = []
        for path in _subfolders(self.root):
            if path.name == TRASH_DIR:
                found.extend(
                    e for sub in _subfolders(path) if (e := self._read_experiment(sub, True))
                )
            elif not path.name.startswith(".") and path.name not in RESERVED_ROOT_DIRS:
                experiment = self._read_experiment(path, False)
                if experiment is not None:
                    found.append(experiment)
        if not found:
            raise self._not_a_store()
        self._experiments = found
        return found

    def _not_a_store(self) -> SourceError:
        return SourceError(
            f"{self.root} is not an MLflow file store: it holds no experiment folder "
            "(<experiment-id>/meta.yaml)",
            source=self.uri,
            hint=_not_a_store_hint(self.root),
        )

    def _read_experiment(self, path: Path, in_trash: bool) -> _Experiment | None:
        meta_path = path / META_FILE
        if not meta_path.is_file():
            # Any folder may sit in a store; one holding runs is an experiment missing its file.
            if not any((sub / META_FILE).is_file() for sub in _subfolders(path)):
                return None
            self._problems.append(
                RunDataError(
                    "experiment folder has no meta.yaml; its runs are listed under "
                    f"experiment ID {path.name}",
                    file=self._show(path),
                    source=self.uri,
                )
            )
            return _Experiment(ExperimentInfo(path.name, None, in_trash), path)
        meta = self._load_meta(meta_path, f"its runs are listed under experiment ID {path.name}")
        if meta is None:
            return _Experiment(ExperimentInfo(path.name, None, in_trash), path)
        name = meta.get("name")
        deleted = in_trash or meta.get("lifecycle_stage") == "deleted"
        # The folder name is the ID MLflow looks runs up by, whatever meta.yaml says.
        info = ExperimentInfo(path.name, str(name) if name not in (None, "") else None, deleted)
        return _Experiment(info, path)

    # -- runs ----------------------------------------------------------------------------

    def _runs_in(self, experiment: _Experiment) -> list[Run]:
        if experiment.path in self._runs_of:
            return self._runs_of[experiment.path]
        runs: list[Run] = []
        for path in _subfolders(experiment.path):
            if path.name in RESERVED_EXPERIMENT_DIRS or path.name.startswith("."):
                continue
            run = self._read_run(experiment.info, path)
            if run is not None:
                runs.append(run)
        self._runs_of[experiment.path] = runs
        return runs

    def _read_run(self, experiment: ExperimentInfo, run_dir: Path) -> Run | None:
        meta_path = run_dir / META_FILE
        if not meta_path.is_file():
            if any((run_dir / sub).is_dir() for sub in RUN_SUBDIRS):
                self._problems.append(
                    RunDataError(
                        "run folder has no meta.yaml; run skipped",
                        file=self._show(run_dir),
                        source=self.uri,
                        hint="restore the file from a backup, or delete the folder",
                    )
                )
            return None
        meta = self._load_meta(meta_path, "run skipped")
        if meta is None:
            return None
        if meta.get("lifecycle_stage") == "deleted" and not self.include_deleted:
            return None
        run_id = run_dir.name
        recorded = meta.get("run_id") or meta.get("run_uuid")
        if recorded not in (None, "") and str(recorded) != run_id:
            self._problems.append(
                RunDataError(
                    f"meta.yaml names run {recorded!r}, but its folder is {run_id!r}; "
                    "read as the folder's",
                    file=self._show(meta_path),
                    source=self.uri,
                )
            )
        self._run_dirs[run_id] = run_dir
        run_name = meta.get("run_name") or meta.get("name")
        return mlflow_run(
            source=self.name,
            run_id=run_id,
            experiment_id=experiment.id,
            experiment_name=experiment.name,
            run_name=str(run_name) if run_name else None,
            status=meta.get("status"),
            start_time_ms=meta.get("start_time"),
            end_time_ms=meta.get("end_time"),
            params=self._read_values(os.path.join(run_dir, "params")),
            tags=self._read_values(os.path.join(run_dir, "tags")),
            summary=self._read_metrics(run_id, os.path.join(run_dir, "metrics")),
            artifacts=self._list_artifacts(run_id, run_dir, meta.get("artifact_uri")),
            reader=self,
        )

    def _load_meta(self, path: Path, consequence: str) -> dict[str, Any] | None:
        """Gives a meta.yaml's mapping, or None after reporting why it cannot be read."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            problem, line = f"cannot read meta.yaml ({exc.strerror})", None
        else:
            # MLflow's own meta.yaml files take the fast path; anything else goes to YAML.
            loaded = _simple_meta(data)
            problem, line = "", None
            if loaded is None:
                loaded, problem, line = _yaml_meta(data)
            if isinstance(loaded, dict):
                return {str(k): v for k, v in loaded.items()}
            if not problem:
                problem = "meta.yaml is empty" if loaded is None else "meta.yaml holds no mapping"
        self._problems.append(
            RunDataError(
                f"{problem}; {consequence}",
                file=self._show(path),
                line=line,
                source=self.uri,
                hint="restore the file from a backup, or delete the folder",
            )
        )
        return None

    def _read_values(self, folder: str) -> dict[str, str]:
        """Gives key -> value for a params/ or tags/ folder: each file's text, verbatim."""
        values: dict[str, str] = {}
        for key, path in _key_files(folder):
            try:
                raw = _read(path)
            except OSError as exc:
                self._problems.append(
                    RunDataError(
                        f"cannot read the file ({exc.strerror}); {key!r} skipped",
                        file=self._show(path),
                        source=self.uri,
                    )
                )
                continue
            try:
                values[key] = raw.decode("utf-8")
            except UnicodeDecodeError:
                values[key] = raw.decode("utf-8", errors="replace")
                self._problems.append(
                    RunDataError(
                        "the file is not UTF-8; its undecodable bytes read as U+FFFD",
                        file=self._show(path),
                        source=self.uri,
                    )
                )
        return dict(sorted(values.items()))

    def _read_metrics(self, run_id: str, folder: str) -> dict[str, Scalar]:
        """Gives the run's summary (each key's latest value), keeping the parsed series."""
        summary: dict[str, Scalar] = {}
        files: dict[str, str] = {}
        read: list[tuple[str, str, bytes]] = []
        for key, path in sorted(_key_files(folder)):
            files[key] = path
            data = self._read_metric_file(path, report=True)
            if data is not None:
                read.append((key, path, data))
        self._metric_files[run_id] = files
        # The run's files go through numpy together: one call costs less than one a file.
        parsed = _fast_columns_together([data for _, _, data in read])
        for (key, path, data), columns in zip(read, parsed, strict=True):
            found = self._to_series(key, path, data, columns, report=True)
            if found is None:
                continue
            series, latest = found
            summary[key] = latest
            if self._kept_points + len(series) <= self.max_kept_points:
                self._kept[(run_id, key)] = series
                self._kept_points += len(series)
        return summary

    def _parse_metric_file(
        self, path: str, key: str, *, report: bool
    ) -> tuple[Series, float] | None:
        """Gives (series, latest value) of one metric file, or None if it holds no point."""
        data = self._read_metric_file(path, report=report)
        if data is None:
            return None
        return self._to_series(key, path, data, _fast_columns(data), report=report)

    def _read_metric_file(self, path: str, *, report: bool) -> bytes | None:
        try:
            return _read(path)
        except OSError as exc:
            bad = self._problem_log(path, report)
            bad.add(f"cannot read the metric file ({exc.strerror}); metric skipped")
            bad.close()
            return None

    def _to_series(
        self, key: str, path: str, data: bytes, columns: _Columns | None, *, report: bool
    ) -> tuple[Series, float] | None:
        """Gives (series, latest value) of a metric file's bytes, or None if they hold no point.

        `columns` are the fast parser's; without them, the careful parser reads the file
        line by line and reports what it skips.
        """
        if columns is not None:
            series = _sorted_series(key, *columns)
        else:
            # The problem log (and the path shown in it) only for files that need it.
            bad = self._problem_log(path, report)
            series = _sorted_series(key, *_careful_columns(data, bad))
            if len(series) == 0 and bad.count == 0:
                bad.add("the metric file is empty; metric skipped")
            bad.close()
        if len(series) == 0:
            return None
        return series, latest_value(series)

    def _problem_log(self, path: str, report: bool) -> ProblemLog:
        sink: list[SourceError] = self._problems if report else []
        return ProblemLog(sink, self._show(path), self.uri)

    def _list_artifacts(self, run_id: str, run_dir: Path, artifact_uri: object) -> list[str]:
        """Gives the run's artifact files: its artifacts/ folder, else a local artifact_uri."""
        candidates = [run_dir / ARTIFACTS_DIR]
        elsewhere = (
            local_path(artifact_uri, self.base_dir) if isinstance(artifact_uri, str) else None
        )
        # Only a folder that is plainly this run's: an artifact_uri of "/" must not walk the disk.
        if elsewhere is not None and (elsewhere.name == ARTIFACTS_DIR or run_id in elsewhere.parts):
            candidates.append(elsewhere)
        for base in candidates:
            files = list_artifact_files(base)
            if files:
                self._artifact_dirs[run_id] = base
                return files
        return []

    def _show(self, path: str | Path) -> str:
        """Gives a path as a user would type it: relative to the project when inside it."""
        text, base = str(path), str(self.base_dir).rstrip(os.sep) + os.sep
        # Plain string work: this runs for every metric file, problem or not.
        return text[len(base) :].replace(os.sep, "/") if text.startswith(base) else text


# -- paths -------------------------------------------------------------------------------------


def _store_path(location: str, base_dir: Path, uri: str) -> Path:
    """Gives the store's folder: a path, or a `file:` URI's path; relative ones from base_dir."""
    text = location.strip() or "mlruns"  # MLflow's own default tracking folder
    if text.startswith("file:"):
        text = text[len("file:") :]
    if text.startswith("//"):
        path = local_path("file:" + text)
        if path is None:
            raise SourceError(
                f"{location!r} names a file store on another host",
                source=uri,
                hint="mount it and give the local path",
            )
        return path
    path = Path(text).expanduser()
    return path if path.is_absolute() else base_dir / path


def _not_a_store_hint(root: Path) -> str:
    """Gives what the user probably meant, from what the folder holds."""
    if (root / META_FILE).is_file():
        if (root / "metrics").is_dir() or (root / "params").is_dir():
            return (
                "it is one run's folder; point the source at the store, two levels up "
                f"({root.parent.parent})"
            )
        return f"it is one experiment's folder; point the source at its parent ({root.parent})"
    if (root / "mlruns").is_dir():
        return f"did you mean {root / 'mlruns'}?"
    return (
        "point the source at the folder MLflow's tracking URI names (the one holding "
        "0/meta.yaml, usually mlruns), or use dir: for labbook's own run folders"
    )


def _subfolders(folder: Path) -> list[Path]:
    """Gives the folder's sub-folders sorted by name ([] if it cannot be listed)."""
    try:
        with os.scandir(folder) as entries:
            return sorted(Path(e.path) for e in entries if e.is_dir())
    except OSError:
        return []


def _key_files(folder: str) -> list[tuple[str, str]]:
    """Gives (key, file path) for every file below a params/, tags/ or metrics/ folder.

    MLflow stores a key with "/" in it as sub-folders, so the key is the relative path.
    Paths stay strings: with thousands of small files, pathlib's overhead would show.
    """
    found: list[tuple[str, str]] = []
    try:
        with os.scandir(folder) as entries:
            listed = [(e.name, e.path, e.is_dir()) for e in entries]
    except OSError:
        return found
    for name, path, is_dir in listed:
        if name in _OS_JUNK or name.startswith("._"):
            continue
        if is_dir:
            found.extend((f"{name}/{key}", sub) for key, sub in _key_files(path))
        else:
            found.append((name, path))
    return found


def _read(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


def _yaml_meta(data: bytes) -> tuple[Any, str, int | None]:
    """Gives (what YAML reads in a meta.yaml, "", None), or (None, the problem, its line)."""
    import yaml  # here, not at the top: MLflow's own meta.yaml files never need it

    try:
        return yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)), "", None
    except (yaml.YAMLError, ValueError) as exc:
        # PyYAML raises ValueError for some malformed numbers (`0b_`, `0x_`).
        mark = getattr(exc, "problem_mark", None)
        problem = f"meta.yaml is not valid YAML ({getattr(exc, 'problem', None) or exc})"
        return None, problem, mark.line + 1 if mark is not None else None


def _simple_meta(data: bytes) -> dict[str, Any] | None:
    """Gives a meta.yaml's mapping when every line is a plain `key: value`, else None.

    What it reads, it reads as YAML does: text, decimal integers, single-quoted strings,
    null, `[]` and `{}`. Anything else (a comment, a folded line, a double-quoted or
    non-ASCII string, a boolean, a float) gives None, and the caller uses a YAML parser;
    so does a file that is not UTF-8 or holds no field.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    meta: dict[str, Any] = {}
    for line in text.split("\n"):
        if not line:
            continue
        matched = _META_LINE.fullmatch(line)
        if matched is None:
            return None
        key, value = matched.group(1), matched.group(2) or ""
        if key in _YAML_WORDS:
            return None
        if value in _YAML_NULLS:
            meta[key] = None
        elif value in _YAML_WORDS:
            return None
        elif _META_TEXT.fullmatch(value):
            meta[key] = value
        elif _META_INT.fullmatch(value):
            meta[key] = int(value)
        elif (quoted := _META_QUOTED.fullmatch(value)) is not None:
            meta[key] = quoted.group(1).replace("''", "'")
        elif value == "[]":
            meta[key] = []
        elif value == "{}":
            meta[key] = {}
        else:
            return None
    return meta or None


# -- metric files ------------------------------------------------------------------------------


def parse_metric_file(key: str, data: bytes, bad: ProblemLog) -> Series:
    """Gives the points of one metric file in step order (equal steps by timestamp).

    Each line is `timestamp value step`; MLflow 1.x wrote no step (step 0), and lines
    with a dataset name and digest have five fields. Lines that cannot be read are
    reported to `bad` with their number and skipped.
    """
    columns = _fast_columns(data)
    if columns is None:
        columns = _careful_columns(data, bad)
    return _sorted_series(key, *columns)


def _sorted_series(key: str, stamps: IntArray, values: FloatArray, steps: IntArray) -> Series:
    """Gives a Series of the columns in step order (equal steps by timestamp, then file order)."""
    if len(steps) > 1 and not _in_step_order(steps, stamps):
        order = np.lexsort((stamps, steps))  # stable: equal (step, time) keep file order
        stamps, values, steps = stamps[order], values[order], steps[order]
    return Series(key, steps, values, stamps / 1000.0)


def latest_value(series: Series) -> float:
    """Gives MLflow's "latest" value: at the highest step, the latest timestamp, then the largest.

    The series must be non-empty and in step order (as `parse_metric_file` gives it).
    """
    steps, times, values = series.steps, series.times, series.values
    last = len(steps) - 1
    first = last
    while first > 0 and steps[first - 1] == steps[last] and times[first - 1] == times[last]:
        first -= 1
    if first == last:
        return float(values[last])
    tied = values[first:]
    # MLflow takes the max of the tied points; a NaN only wins when all are NaN.
    return float("nan") if np.all(np.isnan(tied)) else float(np.nanmax(tied))


# A metric file's (timestamps in ms, values, steps), in file order.
_Columns = tuple[IntArray, FloatArray, IntArray]

# The columns of a file whose lines all hold 2 (MLflow 1.x) or 3 fields.
_ROW_TYPES = {
    2: np.dtype([("stamp", np.int64), ("value", np.float64)]),
    3: np.dtype([("stamp", np.int64), ("value", np.float64), ("step", np.int64)]),
}


def _fast_columns(data: bytes) -> _Columns | None:
    """Gives (timestamps ms, values, steps) when every line holds 2 or 3 plain numbers, else None.

    numpy's C parser reads the whole file in one call, the timestamps and steps as 64-bit
    integers and the values as correctly rounded doubles; most of the time goes into that
    float parsing. Any irregular line (text, a field too many or too few, a number out of
    range, a cut-off last line) makes this give None, and the careful parser reports it.
    """
    if not data.endswith(b"\n"):
        return None
    row_type = _ROW_TYPES.get(data.count(b" ", 0, data.find(b"\n")) + 1)
    if row_type is None:
        return None
    return _load_rows(data, row_type)


def _fast_columns_together(files: Sequence[bytes]) -> list[_Columns | None]:
    """Gives `_fast_columns` of each file, parsing files of the same form in one numpy call.

    The files are parsed as one text; when every line of it gave a row, each file's rows
    are its lines, in order. Otherwise (or if the text does not parse) each file is tried
    on its own, so one bad file costs its neighbours only time.
    """
    found: list[_Columns | None] = [None] * len(files)
    groups: dict[int, list[int]] = {}
    for i, data in enumerate(files):
        if data.endswith(b"\n"):
            fields = data.count(b" ", 0, data.find(b"\n")) + 1
            if fields in _ROW_TYPES:
                groups.setdefault(fields, []).append(i)
    for fields, members in groups.items():
        if len(members) > 1:
            lines = [_newlines(files[i]) for i in members]
            columns = _load_rows(b"".join(files[i] for i in members), _ROW_TYPES[fields])
            if columns is not None and len(columns[0]) == sum(lines):
                ends = np.cumsum(lines).tolist()
                for i, start, end in zip(members, [0, *ends], ends, strict=False):
                    found[i] = (
                        columns[0][start:end],
                        columns[1][start:end],
                        columns[2][start:end],
                    )
                continue
        for i in members:
            found[i] = _load_rows(files[i], _ROW_TYPES[fields])
    return found


def _newlines(data: bytes) -> int:
    """Gives how many newlines the bytes hold (numpy's vectorized compare: 2.5x bytes.count)."""
    return int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n")))


def _load_rows(data: bytes, row_type: np.dtype[Any]) -> _Columns | None:
    """Gives the columns of text whose every line is `timestamp value [step]`, else None."""
    try:
        table = np.loadtxt(io.BytesIO(data), dtype=row_type, delimiter=" ", comments=None, ndmin=1)
    except (ValueError, OverflowError):
        return None
    stamps = np.ascontiguousarray(table["stamp"])
    values = np.ascontiguousarray(table["value"])
    # MLflow 1.x wrote no step: every point is at step 0.
    has_steps = "step" in (row_type.names or ())
    steps = np.ascontiguousarray(table["step"]) if has_steps else np.zeros_like(stamps)
    return stamps, values, steps


def _careful_columns(data: bytes, bad: ProblemLog) -> tuple[IntArray, FloatArray, IntArray]:
    """Gives (timestamps ms, values, steps) line by line, reporting and skipping bad lines."""
    stamps: list[int] = []
    values: list[float] = []
    steps: list[int] = []
    lines = data.split(b"\n")
    complete = lines[-1] == b""  # the file ends with a newline, as MLflow writes it
    if complete:
        lines.pop()
    previous_fields: int | None = None
    for number, raw in enumerate(lines, start=1):
        parts = raw.split()
        if not parts:
            continue
        cut_off = number == len(lines) and not complete
        shown = raw.strip()[:80].decode("utf-8", errors="replace")
        if len(parts) not in _FIELD_COUNTS or (
            cut_off and previous_fields is not None and len(parts) < previous_fields
        ):
            what = "cut off (the file ends mid-line)" if cut_off else "not 'timestamp value step'"
            bad.add(f"line {shown!r} is {what}; line skipped", number)
            continue
        try:
            stamp = int(parts[0])
            value = float(parts[1])
            step = int(parts[2]) if len(parts) >= 3 else 0
        except ValueError:
            bad.add(
                f"line {shown!r} does not hold numbers as 'timestamp value step'; line skipped",
                number,
            )
            continue
        if not (_INT64_MIN <= stamp <= _INT64_MAX and _INT64_MIN <= step <= _INT64_MAX):
            bad.add(f"line {shown!r} has a step or timestamp beyond 64 bits; line skipped", number)
            continue
        previous_fields = len(parts)
        stamps.append(stamp)
        values.append(value)
        steps.append(step)
    return (
        np.asarray(stamps, dtype=np.int64),
        np.asarray(values, dtype=np.float64),
        np.asarray(steps, dtype=np.int64),
    )


def _in_step_order(steps: IntArray, stamps: IntArray) -> bool:
    """Tells whether points are already ordered by step, then timestamp."""
    later = steps[1:] > steps[:-1]
    if later.all():  # the array method: np.all's wrapper costs more than the check here
        return True
    same = steps[1:] == steps[:-1]
    return bool((later | (same & (stamps[1:] >= stamps[:-1]))).all())
