"""Reads runs from TensorBoard log folders: `tensorboard:PATH`.

What is a run, and what it holds:

* Every folder under PATH (PATH included; folders whose name starts with "." are not looked in)
  that holds `events.out.tfevents.*` files is a run. Its ID and name are its path relative to
  PATH in POSIX form (`exp1/run_a`), as TensorBoard names runs. PATH itself, when it holds event
  files, has the ID "." (TensorBoard's name for it) and PATH's folder name as its name.
* experiment: the first folder of the ID for a nested run (`exp1` for `exp1/run_a`), else
  PATH's folder name.
* Series: the scalars of every event file in the folder (files in name order, which is the
  order they were written), merged in step order, then wall time, then the order they were
  read: every point, nothing sampled away (TensorBoard's own loader keeps 1,000 per tag), NaN
  and infinities as logged. Two summary forms are scalars: v1 `simple_value` (tensorboardX,
  PyTorch's SummaryWriter, tf.summary v1) and v2 one-number tensors whose tag's first metadata
  names the "scalars" plugin (tensorboard.summary.Writer, tf.summary v2), float32 or float64
  (also float16, int32 and int64 when written as `tensor_content`). float32 values are widened
  to float64 exactly, so they equal `float(np.float32(v))`. Series.times is wall_time (Unix
  seconds).
* Points are never dropped for a restart: TensorBoard hides points logged after a
  `SessionLog.START` whose step it has seen before; here every logged point is kept.
* start_time / end_time: the earliest / latest event wall_time; status is None (event files
  do not say whether a run finished); summary: each tag's last value in step order.
* params: the hparams plugin's `_hparams_/session_start_info` (tensorboardX and PyTorch
  `add_hparams`, TensorBoard's `hp.hparams`); integral numbers become ints (the protobuf keeps
  only doubles, and integral hparams are nearly always counts), lists and mappings JSON text.
  When a run holds several sessions, later ones win key by key.
* `add_hparams` of tensorboardX and PyTorch writes into a subfolder named by the time
  (`run_a/1712345678.123456/`) holding the hparams and one point per metric. Such a
  subfolder is not a run of its own: its params and points belong to the run of the folder
  above, as if it had been written there, which is how users read the HParams dashboard. It is
  folded in only when it matches all of: its name is a Unix time, it holds an hparams session
  and at most one point per tag, and the folder above is a run with no session of
  its own. Otherwise (a custom `run_name`, TensorBoard's own `hp.hparams` layout) it is a run.
* A folder whose event files hold nothing but the HParams experiment description
  (`hp.hparams_config` at the top of a tuning folder) is not a run: it describes the runs
  below it.

Event files are read by `labbook.sources.tfevents`, a direct reader (no TensorFlow, no
`tensorboard` package needed) that checks every record's CRCs. A damaged record is reported by
path and byte offset, and the records before it are kept. A file that ends inside a record is
read up to its last whole record: quietly while it may still be being written, and reported
by path and the byte offset of the cut once it has not changed for `running_window` seconds
(10 minutes, the rule W&B offline uses for running against crashed).
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

import numpy as np

from ..errors import SourceError
from ..formats.protowire import DecodeError
from ..model import FloatArray, IntArray, Run, Scalar, Series
from .folders import RUNNING_WINDOW, FolderSource, ProblemLog
from .tfevents import (
    EXPERIMENT_TAG,
    SCALARS_PLUGIN,
    EventFileData,
    read_event_file,
    session_hparams,
)

EVENT_FILE_PREFIX = "events.out.tfevents."
ROOT_ID = "."
# How tensorboardX and PyTorch name add_hparams' subfolder by default: str(time.time()).
_TIMESTAMP_NAME = re.compile(r"\d+(\.\d+)?")
# Integral floats up to this size are exact as ints.
_EXACT_INT = 2**53

_Points = tuple[IntArray, FloatArray, FloatArray]  # steps, values, times


@dataclass
class _Folder:
    """A folder holding event files, and what its files hold."""

    rel: str
    path: Path
    files: list[tuple[Path, EventFileData]] = field(default_factory=list)

    @property
    def has_session(self) -> bool:
        """Gives whether the files hold an hparams session start."""
        return any(data.sessions for _, data in self.files)

    @property
    def experiment_only(self) -> bool:
        """Gives whether the files hold nothing but the HParams experiment description."""
        tags: set[str] = set()
        for _, data in self.files:
            tags |= data.tags
        return tags == {EXPERIMENT_TAG} and not self.has_session


@dataclass
class _RunTables:
    """A run's scalars by tag, and what its files say about the run."""

    points: dict[str, _Points]
    sessions: list[tuple[int, bytes, Path]]  # order read, HParamsPluginData bytes, file
    start: float | None
    end: float | None


class TensorBoardSource(FolderSource):
    """Runs logged as TensorBoard event files: each folder holding event files is one run."""

    scheme: ClassVar[str] = "tensorboard"
    folder_label: ClassVar[str] = "TensorBoard log folder"
    missing_hint: ClassVar[str] = (
        "fix this source's path in mkdocs.yml "
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
        self._points: dict[str, dict[str, _Points]] = {}
        self._dirs: dict[str, Path] = {}

    # -- the Source interface ------------------------------------------------------------------

    def read_series(self, run: Run, key: str) -> Series:
        """Gives every logged point of `key` in step order (empty if the run never logged it)."""
        self._scan()
        points = self._points.get(run.id, {}).get(key)
        if points is None:
            return Series.empty(key)
        steps, values, times = points
        return Series(key, steps, values, times)

    def list_metric_keys(self, run: Run) -> list[str]:
        """Gives every scalar tag the run logged, sorted."""
        self._scan()
        return sorted(self._points.get(run.id, {}))

    @classmethod
    def detect(cls, path: Path) -> bool:
        """Tells whether a bare path is a folder with event files somewhere below it."""
        return path.is_dir() and any(path.rglob(EVENT_FILE_PREFIX + "*"))

    def run_dir(self, run: Run) -> Path | None:
        """Gives the folder a run was read from, or None if it is not one of this source's."""
        self._scan()
        return self._dirs.get(run.id)

    # -- scanning --------------------------------------------------------------------------------

    def _read_runs(self) -> list[Run]:
        """Gives every run, reading all event files at once (summaries need last values)."""
        folders = {f.rel: f for f in self._find_folders()}
        groups = self._group(folders)
        runs: list[Run] = []
        for rel in sorted(groups):
            runs.append(self._make_run(folders[rel], groups[rel]))
        return runs

    def _find_folders(self) -> list[_Folder]:
        """Gives every folder holding event files, its files read."""
        found: list[_Folder] = []

        def unreadable(exc: OSError) -> None:  # os.walk's onerror: note it, walk on
            where = Path(exc.filename) if exc.filename else self.root
            self._problem(where, f"cannot list folder: {exc.strerror}", kind=SourceError)

        for dirpath, dirnames, filenames in os.walk(self.root, onerror=unreadable):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            names = sorted(f for f in filenames if f.startswith(EVENT_FILE_PREFIX))
            if not names:
                continue
            path = Path(dirpath)
            folder = _Folder(path.relative_to(self.root).as_posix(), path)
            for name in names:
                data = self._read_file(path / name)
                if data is not None:
                    folder.files.append((path / name, data))
            found.append(folder)
        return found

    def _read_file(self, path: Path) -> EventFileData | None:
        """Gives what an event file holds, its problems noted; None when it cannot be read."""
        try:
            raw = path.read_bytes()
        except OSError as exc:
            self._problem(path, f"cannot read the event file: {exc.strerror}; file skipped")
            return None
        data = read_event_file(raw)
        if data.cut is not None:
            self._note_cut(path, data, len(raw))
        bad = ProblemLog(self._problems, self._show(path), self.uri, what="bad records")
        for i, (_, message) in enumerate(data.problems):
            bad.add(
                message,
                hint="the event file is damaged; copy it again from where the run was "
                "logged, or delete it"
                if i == 0
                else None,
            )
        bad.close()
        return data

    def _note_cut(self, path: Path, data: EventFileData, size: int) -> None:
        """Reports a file that ends inside a record once it has stopped changing.

        While a writer is on a file its last record is often half written, so that is no
        problem; a file untouched for `running_window` seconds was left that way.
        """
        try:
            idle = time.time() - path.stat().st_mtime
        except OSError:
            return
        if idle < self.running_window:
            return
        self._problem(
            path,
            f"the file ends inside the record at byte {data.cut} ({size - (data.cut or 0)} of "
            f"its bytes written) and has not changed for {idle / 60:.0f} minutes; "
            f"the {len(data.steps)} records before it are read",
            hint="the writer stopped in the middle of a record (a crash, a full disk or "
            "a copy cut short); copy the file again if a complete one exists",
        )

    def _group(self, folders: dict[str, _Folder]) -> dict[str, list[_Folder]]:
        """Gives run ID -> the folders its data comes from (an add_hparams subfolder joins its parent)."""
        groups: dict[str, list[_Folder]] = {}
        joining: list[tuple[str, _Folder]] = []
        for rel, folder in folders.items():
            if folder.experiment_only:
                continue
            parent = _parent_rel(rel)
            if parent is not None and _is_hparams_subfolder(folder, folders.get(parent)):
                joining.append((parent, folder))
            else:
                groups[rel] = [folder]
        for parent, folder in sorted(joining, key=lambda pair: pair[1].rel):
            groups[parent].append(folder)
        return groups

    def _make_run(self, folder: _Folder, parts: list[_Folder]) -> Run:
        """Gives the run of a folder, read with the add_hparams subfolders that join it."""
        files = [item for part in parts for item in part.files]
        tables = self._tables(files)
        run_id = folder.rel
        name = self._root_name() if run_id == ROOT_ID else run_id
        top = PurePosixPath(run_id).parts
        experiment = top[0] if len(top) >= 2 else self._root_name()
        run = Run(
            id=run_id,
            source=self.name,
            name=name,
            experiment=experiment,
            status=None,
            start_time=_when(tables.start),
            end_time=_when(tables.end),
            params=self._params(tables.sessions),
            summary={tag: float(values[-1]) for tag, (_, values, _) in tables.points.items()},
        )
        run.reader = self
        self._points[run_id] = tables.points
        self._dirs[run_id] = folder.path
        return run

    def _tables(self, files: list[tuple[Path, EventFileData]]) -> _RunTables:
        """Gives the merged scalars of a run's files and the sessions and times they hold."""
        plugin_of: dict[str, str] = {}
        for _, data in files:  # a tag's first metadata decides what it is, as in TensorBoard
            for tag, (_, plugin) in data.plugins.items():
                plugin_of.setdefault(tag, plugin)
        chunks: dict[str, list[tuple[IntArray, FloatArray, FloatArray, IntArray]]] = {}
        sessions: list[tuple[int, bytes, Path]] = []
        start = end = None
        offset = 0
        for path, data in files:
            for tag, (events, values) in data.scalar_points(plugin_of).items():
                chunks.setdefault(tag, []).append(
                    (data.steps[events], values, data.wall_times[events], events + offset)
                )
            for tag, (count, dtype) in data.unread.items():
                if plugin_of.get(tag) == SCALARS_PLUGIN:
                    self._problem(
                        path,
                        f"tag {tag!r}: {count} scalar points are {dtype} tensors in a form "
                        "labbook does not read; left out",
                    )
            sessions.extend((offset + event, content, path) for event, content in data.sessions)
            walls = data.wall_times[np.isfinite(data.wall_times)]
            if len(walls):
                lo, hi = float(walls.min()), float(walls.max())
                start = lo if start is None else min(start, lo)
                end = hi if end is None else max(end, hi)
            offset += len(data.wall_times)
        points: dict[str, _Points] = {}
        for tag, parts in chunks.items():
            steps = np.concatenate([p[0] for p in parts])
            values = np.concatenate([p[1] for p in parts])
            times = np.concatenate([p[2] for p in parts])
            order = np.concatenate([p[3] for p in parts])
            if len(steps) > 1 and not bool(np.all(steps[1:] > steps[:-1])):
                # Step first, then wall time, then the order read (lexsort's last key is primary).
                sort = np.lexsort((order, times, steps))
                steps, values, times = steps[sort], values[sort], times[sort]
            points[tag] = (steps, values, times)
        return _RunTables(points, sessions, start, end)

    def _params(self, sessions: list[tuple[int, bytes, Path]]) -> dict[str, Scalar]:
        """Gives the params of a run's hparams sessions, a later session's winning key by key."""
        params: dict[str, Scalar] = {}
        for _, content, path in sorted(sessions, key=lambda s: s[0]):
            try:
                hparams = session_hparams(content)
            except DecodeError as exc:
                self._problem(
                    path, f"the hparams session cannot be read ({exc}); its params are left out"
                )
                continue
            for key, value in (hparams or {}).items():
                params[key] = _param(value)
        return params

    def _root_name(self) -> str:
        """Gives the name of the folder the source reads, even for a path like "."."""
        return Path(os.path.abspath(self.root)).name


def _parent_rel(rel: str) -> str | None:
    """Gives the ID of the folder above a run folder, None for the root."""
    if rel == ROOT_ID:
        return None
    parent = PurePosixPath(rel).parent.as_posix()
    return parent  # "." for a folder right under the root


def _is_hparams_subfolder(folder: _Folder, parent: _Folder | None) -> bool:
    """Gives whether a folder is what add_hparams writes beside a run, to be read with it."""
    if parent is None or parent.has_session or parent.experiment_only:
        return False
    if not _TIMESTAMP_NAME.fullmatch(folder.path.name) or not folder.has_session:
        return False
    plugin_of: dict[str, str] = {}
    for _, data in folder.files:
        for tag, (_, plugin) in data.plugins.items():
            plugin_of.setdefault(tag, plugin)
    seen: set[str] = set()
    for _, data in folder.files:
        for tag, (events, _) in data.scalar_points(plugin_of).items():
            if tag in seen or len(events) != 1:
                return False
            seen.add(tag)
    return True


def _param(value: Any) -> Scalar:
    """Gives an hparam as a Scalar: integral numbers as ints, lists and mappings as JSON text."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, float):
        if value.is_integer() and abs(value) <= _EXACT_INT:
            return int(value)
        return value
    return json.dumps(value, sort_keys=True)


def _when(seconds: float | None) -> datetime | None:
    """Gives Unix seconds as an aware UTC datetime, None when unknown or out of range."""
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
