"""Reads W&B run folders the wandb SDK writes: `offline-run-*` and synced `run-*`.

`wandb+offline:PATH` takes the SDK's `wandb/` folder (or `.wandb/`), the folder holding
it, or one run folder. The `latest-run` symlink is skipped, so no run is counted twice.

Current SDKs keep a run's config, summary, tags, history and metadata only in the run's
transaction log, `run-<id>.wandb` (the `files/` folder may hold just requirements.txt),
so that log is what is read: `formats.wandb_log` gives its whole records and
`formats.wandb_record` decodes the fields labbook reads from their protobuf wire format.
Neither imports wandb or protobuf, so offline runs are read without the W&B SDK
installed. Here those records are folded into runs. Each log is read once, into numpy
arrays per history key; `read_series` serves from that cache. Nothing is written anywhere.

What labbook decided where W&B leaves it open:

- A log that ends inside a record is read up to its last whole record. While the log
  changed within `running_window` (below), that is the record being written and no
  problem; once older, the cut is reported by path and byte offset via `problems()`, as
  a crash or an incomplete copy leaves it. A bad checksum, a fragment running past its
  block or a record that does not parse is reported by path and byte offset too;
  reading resumes at the next block, as LevelDB's own reader does, so the records
  around the damage are kept. A file that is not a W&B log is skipped.
- Status: `finished` when the run's exit record has exit code 0, `failed` for a
  nonzero exit code. With no exit record, `running` if one of the run's logs was
  modified within `running_window` seconds (10 minutes by default), else `crashed`.
  wandb-core buffers the log in 32 KiB blocks, so a run that logs rarely can look
  idle for a while; the window is a guess, not a heartbeat.
- History keys: W&B stores a nested `wandb.log({"val": {"acc": …}})` as the key path
  `val`, `acc`, which its UI shows as `val.acc`; labbook joins paths with dots too.
  `_step` and `_timestamp` place a row; `_runtime` and `_wandb.*` are not metrics.
  Strings, nulls and media objects are not points (wandb-core stores a logged image
  as items `samples.width`, `samples.path`, …, `samples._type`: all of them are left out).
- Summary: the summary records applied in order (W&B's own final summary), then the
  last logged value of every history key the summary lacks. `files/wandb-summary.json`,
  `files/config.yaml` and `files/wandb-metadata.json` (older SDKs) are read when the
  log holds no summary, config or metadata.
- end_time: start time plus the exit record's runtime; for a crashed run, the time of
  its last history row; none while running.
- Folders holding the same run ID (a resumed run) are read as one run, in the order of
  the timestamps in their names.
- artifacts: the files under the run's `files/` folder (logged media, saved files),
  without the SDK's own bookkeeping files.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import yaml

from ..errors import RunDataError, SourceError
from ..formats.wandb_log import LogReader
from ..formats.wandb_record import (
    Config,
    Decoded,
    DecodeError,
    Environment,
    History,
    KeyedUpdate,
    KeyPath,
    RecordDecoder,
    RunExit,
    RunInfo,
    Summary,
)
from ..model import FloatArray, IntArray, Run, Scalar, Series
from ..yamlfiles import load_tolerant
from .folders import RUNNING_WINDOW, FolderSource, ProblemLog
from .wandb_common import (
    BOOKKEEPING_KEYS,
    INTERNAL_KEY,
    STEP_KEY,
    TIME_KEY,
    config_params,
    flat_items,
    is_media,
    metric_number,
    parse_time,
    run_tags,
    summary_values,
)

_RUN_FOLDER = re.compile(r"(?:offline-)?run-(?P<stamp>\d{8}_\d{6})-(?P<id>.+)")
_WANDB_DIRS = ("wandb", ".wandb")
# What the SDK itself keeps under files/; everything else there is the run's own output.
_SDK_FILES = frozenset(
    {
        "requirements.txt",
        "conda-environment.yaml",
        "config.yaml",
        "wandb-summary.json",
        "wandb-metadata.json",
        "wandb-history.jsonl",
        "wandb-events.jsonl",
        "output.log",
        "diff.patch",
    }
)
_SDK_FOLDERS = ("code/",)
MEDIA_TYPE_SUFFIX = "._type"


# -- folding records into a run ----------------------------------------------------------------

_REMOVED = None  # marks a removed config or summary key in the write-ordered maps


@dataclass
class _Columns:
    """History as it is read: row steps and times, and per key its rows and values."""

    steps: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    rows: dict[str, list[int]] = field(default_factory=dict)
    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, key: str, row: int, value: float) -> None:
        rows = self.rows.get(key)
        if rows is None:
            rows = self.rows[key] = []
            self.values[key] = []
        rows.append(row)
        self.values[key].append(value)

    def drop_row_entries(self, row: int, prefixes: tuple[str, ...]) -> None:
        """Removes one row's points of the keys under `prefixes` (a media object's fields)."""
        for key in [k for k in self.rows if k.startswith(prefixes)]:
            rows = self.rows[key]
            if rows and rows[-1] == row:
                rows.pop()
                self.values[key].pop()
                if not rows:
                    del self.rows[key], self.values[key]


class _RunRecords:
    """Folds one run's records (from one or more folders) into its fields and history."""

    def __init__(self) -> None:
        self.run_id = ""
        self.project = ""
        self.display_name = ""
        self.group = ""
        self.job_type = ""
        self.notes = ""
        self.host = ""
        self.sweep_id = ""
        self.git_commit = ""
        self.tags: list[str] | None = None
        self.run_start: float | None = None
        self.env_start: float | None = None
        # key path -> JSON text (None: removed), kept in the order of the last write.
        self.config: dict[KeyPath, bytes | None] = {}
        self.summary: dict[KeyPath, bytes | None] = {}
        self.exit_code: int | None = None
        self.runtime: int | None = None
        self.history = _Columns()

    def add(self, record: Decoded) -> None:
        match record:
            case History():
                self._history(record)
            case Summary():
                self._keyed(self.summary, record)
            case Config():
                self._keyed(self.config, record)
            case RunInfo():
                self._run(record)
            case Environment():
                self._environment(record)
            case RunExit():
                self.exit_code = record.exit_code
                self.runtime = record.runtime

    @staticmethod
    def _keyed(target: dict[KeyPath, bytes | None], update: KeyedUpdate) -> None:
        pop = target.pop
        for path, raw in update.update:
            # Re-inserting keeps the map in order of last write, which applies it right.
            pop(path, None)
            target[path] = raw
        for path in update.remove:
            pop(path, None)
            target[path] = _REMOVED

    def _run(self, run: RunInfo) -> None:
        if run.run_id:
            self.run_id = run.run_id
        for name, value in (
            ("project", run.project),
            ("display_name", run.display_name),
            ("group", run.run_group),
            ("job_type", run.job_type),
            ("notes", run.notes),
            ("host", run.host),
            ("sweep_id", run.sweep_id),
            ("git_commit", run.git_commit),
        ):
            if value:
                setattr(self, name, value)
        if run.tags:
            self.tags = list(run.tags)
        # A resumed run's later folders repeat the record; the first start is the run's.
        if self.run_start is None and run.start_time is not None:
            self.run_start = run.start_time
        if run.config is not None:
            self._keyed(self.config, run.config)
        if run.summary is not None:
            self._keyed(self.summary, run.summary)

    def _environment(self, env: Environment) -> None:
        if env.git_commit and not self.git_commit:
            self.git_commit = env.git_commit
        if env.host and not self.host:
            self.host = env.host
        if self.env_start is None and env.started_at is not None:
            self.env_start = env.started_at

    def _history(self, history: History) -> None:
        columns = self.history
        row = len(columns.steps)
        step: int | None = None
        when = math.nan
        rows_of, values_of = columns.rows, columns.values
        media: list[str] = []  # key prefixes of the media objects in this row
        for key, raw, typed in history.items:
            if key.startswith("_"):
                if key == STEP_KEY:
                    step = _step_value(raw, typed)
                    continue
                if key == TIME_KEY:
                    number = _number_value(raw, typed)
                    when = math.nan if number is None else number
                    continue
                if key in BOOKKEEPING_KEYS or key.startswith(INTERNAL_KEY + "."):
                    continue
            if raw:
                # The usual value is a plain number; float() reads W&B's NaN/Infinity too.
                try:
                    number = float(raw)
                except ValueError:
                    value: Any = _json_or_none(raw)
                else:
                    rows = rows_of.get(key)
                    if rows is None:
                        columns.add(key, row, number)
                    else:
                        rows.append(row)
                        values_of[key].append(number)
                    continue
            else:
                value = _typed_value(typed)
            if isinstance(value, str) and key.endswith(MEDIA_TYPE_SUFFIX):
                # wandb-core flattens a logged image or table into items, its `_type` among them.
                media.append(key[: -len(MEDIA_TYPE_SUFFIX)] + ".")
                continue
            for point_key, point in _points(key, value):
                columns.add(point_key, row, point)
        if media:
            columns.drop_row_entries(row, tuple(media))
        if step is None:
            # No `_step` item: the record's own step, else the row after the last one.
            if history.step is not None:
                step = history.step
            else:
                step = columns.steps[-1] + 1 if columns.steps else 0
        columns.steps.append(step)
        columns.times.append(when)

    # -- the results ---------------------------------------------------------------------

    def start_seconds(self) -> float | None:
        return self.run_start if self.run_start is not None else self.env_start

    def last_time(self) -> float | None:
        """Gives the time of the last history row that has one (Unix seconds)."""
        return next((t for t in reversed(self.history.times) if not math.isnan(t)), None)

    def series(self) -> dict[str, tuple[IntArray, FloatArray, FloatArray]]:
        """Gives per history key its points (steps, values, times) in step order."""
        columns = self.history
        steps = np.asarray(columns.steps, dtype=np.int64)
        times = np.asarray(columns.times, dtype=np.float64)
        out: dict[str, tuple[IntArray, FloatArray, FloatArray]] = {}
        for key, rows in columns.rows.items():
            index = np.asarray(rows, dtype=np.int64)
            key_steps, key_values, key_times = (
                steps[index],
                np.asarray(columns.values[key], dtype=np.float64),
                times[index],
            )
            if len(key_steps) > 1 and bool(np.any(key_steps[1:] < key_steps[:-1])):
                order = np.argsort(key_steps, kind="stable")
                key_steps, key_values, key_times = (
                    key_steps[order],
                    key_values[order],
                    key_times[order],
                )
            out[key] = (key_steps, key_values, key_times)
        return out


def _materialize(entries: Mapping[KeyPath, bytes | None]) -> tuple[dict[str, Any], int]:
    """Gives the nested mapping write-ordered key paths build, and how many values were bad."""
    out: dict[str, Any] = {}
    bad = 0
    for path, raw in entries.items():
        if raw is _REMOVED:
            _delete_path(out, path)
            continue
        value = _json_or_none(raw) if raw else None
        if raw and value is None and raw.strip() != b"null":
            bad += 1
            continue
        _set_path(out, path, value)
    return out, bad


def _set_path(target: dict[str, Any], path: KeyPath, value: Any) -> None:
    node = target
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    if path:
        node[path[-1]] = value


def _delete_path(target: dict[str, Any], path: KeyPath) -> None:
    node: Any = target
    for part in path[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict) and path:
        node.pop(path[-1], None)


def _json_or_none(raw: str | bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _typed_value(typed: tuple[str, Any] | None) -> Any:
    """Gives the value of a history item written in the SDK's typed form (not value_json)."""
    if typed is None:
        return None
    kind, value = typed
    return _json_or_none(value) if kind == "json" else value


def _number_value(raw: bytes, typed: tuple[str, Any] | None) -> float | None:
    """Gives a history item's value as a number (`raw` is its value_json), or None."""
    if raw:
        try:
            return float(raw)
        except ValueError:
            return metric_number(_json_or_none(raw))
    return metric_number(_typed_value(typed))


def _step_value(raw: bytes, typed: tuple[str, Any] | None) -> int | None:
    """Gives a `_step` item's value (`raw` is its value_json) as an int, or None."""
    if raw.isdigit():
        return int(raw)
    value = _json_or_none(raw) if raw else _typed_value(typed)
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, int) else None


def _points(key: str, value: Any) -> Iterator[tuple[str, float]]:
    """Gives the (key, number) points one logged value holds; a plain dict nests with dots."""
    if isinstance(value, dict):
        if is_media(value):
            return
        for sub_key, sub_value in flat_items(value, key):
            number = metric_number(sub_value)
            if number is not None:
                yield sub_key, number
        return
    number = metric_number(value)
    if number is not None:
        yield key, number


# -- the source ----------------------------------------------------------------------------------


@dataclass
class _RunFolder:
    path: Path
    run_id: str  # from the folder name; the log's run record has the last word
    stamp: str
    log: Path | None


@dataclass
class _ReadRun:
    run: Run
    history: dict[str, tuple[IntArray, FloatArray, FloatArray]]
    folders: list[Path]
    artifacts: dict[str, Path]


class WandbOfflineSource(FolderSource):
    """Runs in W&B run folders on disk, read from their `.wandb` transaction logs."""

    scheme: ClassVar[str] = "wandb+offline"
    folder_label: ClassVar[str] = "W&B folder"
    missing_hint: ClassVar[str] = (
        "point the source at the SDK's wandb/ folder or the folder holding it "
        "(a relative path is relative to the folder holding mkdocs.yml)"
    )

    def __init__(
        self,
        location: str,
        *,
        name: str | None = None,
        base_dir: Path | None = None,
        running_window: float = RUNNING_WINDOW,
    ):
        super().__init__(location, name=name, base_dir=base_dir)
        self.running_window = running_window
        self._read: dict[str, _ReadRun] = {}

    # -- the Source interface ----------------------------------------------------------

    def read_series(self, run: Run, key: str) -> Series:
        """Gives every logged point of `key` in step order (empty if the run never logged it)."""
        read = self._read_run(run)
        if read is None or key not in read.history:
            return Series.empty(key)
        steps, values, times = read.history[key]
        return Series(key, steps, values, times)

    def list_metric_keys(self, run: Run) -> list[str]:
        """Gives every key the run's history logged a number for, sorted."""
        read = self._read_run(run)
        return sorted(read.history) if read is not None else []

    @classmethod
    def detect(cls, path: Path) -> bool:
        """Tells whether a bare path holds wandb run folders (`*/*.wandb` or `wandb/*/*.wandb`)."""
        return path.is_dir() and (any(path.glob("*/*.wandb")) or any(path.glob("wandb/*/*.wandb")))

    # -- extras for blocks that show files ----------------------------------------------

    def run_dir(self, run: Run) -> Path | None:
        """Gives the (latest) folder a run was read from, or None if it is not this source's."""
        read = self._read_run(run)
        return read.folders[-1] if read is not None else None

    def artifact_path(self, run: Run, artifact: str) -> Path | None:
        """Gives the file behind one of `run.artifacts`, or None if there is no such file."""
        read = self._read_run(run)
        return read.artifacts.get(artifact) if read is not None else None

    # -- scanning --------------------------------------------------------------------------

    def _read_run(self, run: Run) -> _ReadRun | None:
        self._scan()
        return self._read.get(run.id)

    def _read_runs(self) -> list[Run]:
        groups: dict[str, list[_RunFolder]] = {}
        for folder in self._find_run_folders():
            groups.setdefault(folder.run_id, []).append(folder)
        runs: list[Run] = []
        for folders in groups.values():
            folders.sort(key=lambda f: (f.stamp, f.path.name))
            read = self._read_folders(folders)
            if read is None:
                continue
            if read.run.id in self._read:
                self._problem(
                    folders[-1].path,
                    f"run ID {read.run.id!r} also read from another folder; this one skipped",
                )
                continue
            self._read[read.run.id] = read
            runs.append(read.run)
        runs.sort(key=lambda r: (r.start_time or datetime.max.replace(tzinfo=UTC), r.id))
        return runs

    def _find_run_folders(self) -> Iterator[_RunFolder]:
        """Gives the run folders under the root, each real folder once."""
        if self._is_run_folder(self.root):
            folder = self._run_folder(self.root)
            if folder is not None:
                yield folder
            return
        parents = [self.root] + [
            self.root / name for name in _WANDB_DIRS if (self.root / name).is_dir()
        ]
        seen: set[Path] = set()
        for parent in parents:
            try:
                entries = sorted(os.scandir(parent), key=lambda e: e.name)
            except OSError as exc:
                self._problem(parent, f"cannot list folder: {exc.strerror}", kind=SourceError)
                continue
            for entry in entries:
                # `latest-run` is a symlink to a run folder listed anyway.
                if entry.is_symlink() or not entry.is_dir():
                    continue
                if not _RUN_FOLDER.fullmatch(entry.name):
                    continue
                path = Path(entry.path)
                real = path.resolve()
                if real in seen:
                    continue
                seen.add(real)
                folder = self._run_folder(path)
                if folder is not None:
                    yield folder

    @staticmethod
    def _is_run_folder(path: Path) -> bool:
        return bool(_RUN_FOLDER.fullmatch(path.name)) or bool(_logs_in(path))

    def _run_folder(self, path: Path) -> _RunFolder | None:
        match = _RUN_FOLDER.fullmatch(path.name)
        run_id = match["id"] if match else path.name
        stamp = match["stamp"] if match else ""
        logs = _logs_in(path)
        log = next((p for p in logs if p.name == f"run-{run_id}.wandb"), logs[0] if logs else None)
        if log is None and not (path / "files").is_dir():
            self._problem(path, "run folder without a .wandb log or files/ folder; skipped")
            return None
        return _RunFolder(path, run_id, stamp, log)

    # -- reading one run ---------------------------------------------------------------------

    def _read_folders(self, folders: list[_RunFolder]) -> _ReadRun | None:
        records = _RunRecords()
        newest_write = 0.0
        read_any = False
        for folder in folders:
            if folder.log is None:
                read_any = True  # an old SDK's run: files/ only
                continue
            modified = self._read_log(folder.log, records)
            if modified is not None:
                read_any = True
                newest_write = max(newest_write, modified)
        if not read_any:
            return None
        last = folders[-1]
        files = _FilesFallback.read(
            [f.path / "files" for f in folders], self._problems, self._show, self.uri
        )
        run_id = records.run_id or last.run_id

        config, bad_config = _materialize(records.config)
        if not records.config:
            config = files.config
        summary_nested, bad_summary = _materialize(records.summary)
        if not records.summary:
            summary_nested = files.summary
        if bad_config or bad_summary:
            self._problem(
                last.log or last.path,
                f"{bad_config + bad_summary} config or summary values are not JSON; left out",
            )
        history = records.series()
        summary: dict[str, Scalar] = summary_values(summary_nested)
        for key, (_, values, _) in history.items():
            if key not in summary and len(values):
                summary[key] = float(values[-1])

        start = records.start_seconds()
        if start is None:
            start = files.start
        host = records.host or files.host
        tags, hidden = run_tags(
            records.tags or [],
            group=records.group,
            job_type=records.job_type,
            notes=records.notes,
            host=host,
            sweep=records.sweep_id,
        )
        status, end = self._status(records, start, newest_write)
        artifacts: dict[str, Path] = {}
        for folder in folders:
            artifacts.update(_list_artifacts(folder.path / "files"))
        run = Run(
            id=run_id,
            source=self.name,
            name=records.display_name,
            experiment=records.project or None,
            status=status,
            start_time=parse_time(start) if start is not None else None,
            end_time=parse_time(end) if end is not None else None,
            params=config_params(config),
            tags=tags,
            summary=summary,
            artifacts=sorted(artifacts),
            git_commit=records.git_commit or files.git_commit,
            hidden_tags=hidden,
            reader=self,
        )
        return _ReadRun(run, history, [f.path for f in folders], artifacts)

    def _status(
        self, records: _RunRecords, start: float | None, newest_write: float
    ) -> tuple[str, float | None]:
        """Gives the run's status and its end (Unix seconds) as the module docstring sets out."""
        if records.exit_code is not None:
            status = "finished" if records.exit_code == 0 else "failed"
            # The exit record's runtime is whole seconds; the last row may be later still.
            ends = [t for t in (records.last_time(),) if t is not None]
            if start is not None:
                ends.append(start + (records.runtime or 0))
            return status, max(ends) if ends else None
        if time.time() - newest_write < self.running_window:
            return "running", None
        return "crashed", records.last_time()

    def _read_log(self, log: Path, records: _RunRecords) -> float | None:
        """Folds one log's whole records into `records`; gives its mtime, or None if no W&B log."""
        problems = ProblemLog(self._problems, self._show(log), self.uri, what="damaged spots")
        try:
            # Taken before the read: a log written to meanwhile is still recent.
            modified = log.stat().st_mtime
            data = log.read_bytes()
        except OSError as exc:
            problems.add(f"cannot read the log: {exc.strerror}; run skipped")
            problems.close()
            return None
        reader = LogReader(data)
        decode = RecordDecoder().decode
        for offset, payload in reader.records():
            try:
                record = decode(payload)
            except DecodeError as exc:
                problems.add(f"record at byte {offset} is not a W&B record ({exc}); skipped")
                continue
            if record is not None:
                records.add(record)
        for problem in reader.problems:
            problems.add(
                f"at byte {problem.offset}: {problem.message}",
                hint="the records around it were read" if not reader.not_a_log else None,
            )
        if reader.cut_at is not None and time.time() - modified >= self.running_window:
            # Recent, it is the record being written; this old, the log was cut short.
            problems.add(
                f"the log ends inside a record: cut at byte {reader.cut_at} of {len(data)}; "
                "read up to the last whole record",
                hint="a crash or an incomplete copy leaves a log like this",
            )
        problems.close()
        return None if reader.not_a_log else modified


# -- files/ (older SDKs, synced runs) -------------------------------------------------------------


@dataclass
class _FilesFallback:
    """What a run's files/ folder says: config.yaml, wandb-summary.json, wandb-metadata.json."""

    config: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    git_commit: str | None = None
    host: str | None = None
    start: float | None = None

    @classmethod
    def read(
        cls,
        folders: list[Path],
        sink: list[SourceError],
        show: Callable[[Path], str],
        source: str,
    ) -> _FilesFallback:
        """Gives what the folders' SDK files hold, later folders winning; bad files reported."""
        out = cls()

        def bad(path: Path, what: str) -> None:
            sink.append(RunDataError(f"{what}; file ignored", file=show(path), source=source))

        for folder in folders:
            config_file = folder / "config.yaml"
            if config_file.is_file():
                try:
                    loaded = load_tolerant(config_file.read_bytes())
                except (OSError, yaml.YAMLError):
                    bad(config_file, "config.yaml is not valid YAML")
                else:
                    if isinstance(loaded, dict):
                        out.config.update({str(k): v for k, v in loaded.items()})
            summary_file = folder / "wandb-summary.json"
            if summary_file.is_file():
                loaded = _load_json(summary_file)
                if isinstance(loaded, dict):
                    out.summary.update(loaded)
                else:
                    bad(summary_file, "wandb-summary.json is not a JSON object")
            meta_file = folder / "wandb-metadata.json"
            if meta_file.is_file():
                meta = _load_json(meta_file)
                if not isinstance(meta, dict):
                    bad(meta_file, "wandb-metadata.json is not a JSON object")
                    continue
                git = meta.get("git")
                if isinstance(git, dict) and isinstance(git.get("commit"), str):
                    out.git_commit = git["commit"]
                if isinstance(meta.get("host"), str):
                    out.host = meta["host"]
                started = parse_time(meta.get("startedAt"))
                if started is not None and out.start is None:
                    out.start = started.timestamp()
        return out


def _logs_in(folder: Path) -> list[Path]:
    """Gives the `.wandb` log files in a folder (not a `.wandb/` folder), sorted."""
    try:
        return sorted(
            Path(e.path)
            for e in os.scandir(folder)
            if e.name.endswith(".wandb") and e.name != ".wandb" and e.is_file()
        )
    except OSError:
        return []


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def _list_artifacts(base: Path) -> dict[str, Path]:
    """Gives the run's own files under files/ (relative POSIX path -> file)."""
    if not base.is_dir():
        return {}
    found: dict[str, Path] = {}
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        rel = Path(dirpath).relative_to(base)
        for filename in filenames:
            path = (rel / filename).as_posix()
            if filename.startswith(".") or path in _SDK_FILES or path.startswith(_SDK_FOLDERS):
                continue
            found[path] = Path(dirpath) / filename
    return found
