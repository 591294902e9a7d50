"""The run cache: what a build read from a source, kept under `.labbook/cache/runs/` for the next.

`CachedSource` wraps a source and answers from the cache while the tracker says nothing
changed; everything else goes to the source itself and is kept for next time.

Decisions:

- Two levels of invalidation, each from what the tracker offers. The source's state
  token (`Source.state_token`: every file's size and modification time for folder
  stores, the SQLite file's change counter) vouches for everything at once: while it is
  unchanged, no listing, query or series is read again. A tracker with no token (a
  tracking server, the W&B API) is listed on every build; then each run's own token
  (its status, times, params, tags and summary, or its folder's file sizes and times)
  decides whether its cached series still hold.
- A run that is still running is never served from the cache: its series are re-read.
- Listings are kept per call (`list_runs` of an experiment, `select_runs` of a query),
  so a tracker that filters on its server is asked the same question only once.
- The cache is labbook's own, git-ignored and disposable: JSON for the index, NumPy
  arrays (`allow_pickle=False`) for series. A cache that cannot be read is ignored and
  rewritten, never an error; `labbook cache clear` removes it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import SourceError
from ..export.files import write_atomically
from ..fingerprint import digest
from ..model import Run, Series
from ..runrecord import (
    file_name,
    load_series_arrays,
    run_from_record,
    run_record,
    save_series_arrays,
)
from .base import Query, Source

FORMAT = 2  # 2: series in one .npy per run
INDEX = "index.json"
# Series held in memory, read or waiting to be written, before they are written and let go.
SPILL_POINTS = 2_000_000
RUNNING = frozenset({"running", "RUNNING", "scheduled", "SCHEDULED"})


def cache_root(project_root: Path) -> Path:
    return project_root / ".labbook" / "cache" / "runs"


def folder_for(root: Path, name: str, uri: str) -> Path:
    """Gives the cache folder of one source under a cache root (its name and URI both count)."""
    return root / f"{file_name(name)}-{digest(uri)[:10]}"


def source_folder(project_root: Path, name: str, uri: str) -> Path:
    """Gives the cache folder of one configured source of a project."""
    return folder_for(cache_root(project_root), name, uri)


def is_running(run: Run) -> bool:
    return (run.status or "").lower() in {s.lower() for s in RUNNING}


class CachedSource(Source):
    """A source read through the run cache; `read=False` (`--refresh`) reads the tracker anew."""

    def __init__(self, live: Source, folder: Path, *, read: bool = True) -> None:
        super().__init__(live.location, name=live.name, base_dir=live.base_dir)
        self.live = live
        self.folder = folder
        self.read = read
        self.scheme = live.scheme  # type: ignore[misc]
        self.remote = live.remote  # type: ignore[misc]
        self._index: dict[str, Any] | None = None
        self._token: str | bool | None = False  # False: not asked yet this build
        self._runs: dict[str, Run] = {}
        self._series: dict[str, dict[str, Series]] = {}
        self._dirty_runs: set[str] = set()
        self._held = 0  # points in self._series, for _spill
        self._dirty = False
        self._live_runs: dict[str, Run] | None = None
        self.hits = 0  # answers given from the cache, for tests and the bench
        self.misses = 0

    @property
    def uri(self) -> str:
        return self.live.uri

    @property
    def timeout(self) -> float | None:
        return self.live.timeout

    def __repr__(self) -> str:
        return f"<CachedSource {self.live!r}>"

    def __getattr__(self, name: str) -> Any:
        # What only one kind of tracker has (a local source's `root`) is the tracker's own.
        if name == "live" or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.live, name)

    # -- the index ---------------------------------------------------------------------------

    def token(self) -> str | None:
        """Gives the tracker's state token, asked once per build."""
        if self._token is False:
            self._token = self.live.state_token()
        return self._token  # type: ignore[return-value]

    def _load(self) -> dict[str, Any]:
        if self._index is None:
            index: dict[str, Any] = {}
            if self.read:
                try:
                    index = json.loads((self.folder / INDEX).read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    index = {}
            if index.get("format") != FORMAT or index.get("uri") != self.uri:
                index = {}
            token = self.token()
            if token is None or index.get("token") != token:
                # Listings and problems are only as good as the token; runs keep their own.
                index["lists"] = {}
                index.pop("problems", None)
            index.update(format=FORMAT, uri=self.uri, token=token)
            index.setdefault("lists", {})
            index.setdefault("runs", {})
            self._index = index
        return self._index

    def _trusted(self) -> bool:
        """Tells whether the whole cache holds (the tracker's token is known and unchanged)."""
        return self.read and self.token() is not None and bool(self._load().get("lists"))

    def flush(self) -> None:
        """Writes what this build added to the cache; nothing when nothing was added.

        A cache that cannot be written is left as it was: the next read asks the tracker.
        """
        if not self._dirty or self._index is None:
            return
        runs = self._index["runs"]
        try:
            for run_id in self._dirty_runs:
                kept = self._series.get(run_id)
                if kept and run_id in runs:
                    path = self.folder / "series" / f"{file_name(run_id)}.npy"
                    runs[run_id]["series"] = save_series_arrays(path, kept)
            write_atomically(
                self.folder / INDEX, json.dumps(self._index, sort_keys=True, default=str).encode()
            )
        except OSError:
            pass
        self._dirty = False
        self._dirty_runs.clear()

    def _spill(self) -> None:
        """Writes and lets go of the series held once they pass SPILL_POINTS (read again from disk)."""
        if self._held > SPILL_POINTS:
            self.flush()
            self._series.clear()
            self._held = 0

    def __del__(self) -> None:
        try:
            self.flush()
        except Exception:
            pass

    # -- runs --------------------------------------------------------------------------------

    def _run_token(self, run: Run) -> str | None:
        if is_running(run):
            return None
        return self.live.run_token(run)

    def _cached_runs(self, key: str) -> list[Run] | None:
        if not self._trusted():
            return None
        ids = self._load()["lists"].get(key)
        runs = self._load()["runs"]
        if ids is None or any(i not in runs for i in ids):
            return None
        self.hits += 1
        return [self._run(i) for i in ids]

    def _run(self, run_id: str) -> Run:
        if run_id not in self._runs:
            run = run_from_record(self._load()["runs"][run_id]["record"], self.name)
            run.reader = self
            self._runs[run_id] = run
        return self._runs[run_id]

    def _keep_runs(self, key: str, live_runs: list[Run]) -> list[Run]:
        """Keeps a listing the tracker gave; gives the runs, read through this cache."""
        self.misses += 1
        index = self._load()
        out: list[Run] = []
        for live in live_runs:
            token = self._run_token(live)
            entry = index["runs"].get(live.id)
            if entry is None or entry.get("token") != token or token is None:
                # New or changed: what was cached of its series no longer holds.
                entry = {"token": token, "series": []}
                self._series.pop(live.id, None)
                self._remove_series(live.id)
            entry["record"] = run_record(live)
            index["runs"][live.id] = entry
            self._runs.pop(live.id, None)
            run = self._run(live.id)
            run.url = live.url
            self._remember_live(live)
            out.append(run)
        index["lists"][key] = [r.id for r in out]
        self._dirty = True
        return out

    def _remember_live(self, run: Run) -> None:
        if self._live_runs is None:
            self._live_runs = {}
        self._live_runs[run.id] = run

    def _live_run(self, run: Run) -> Run:
        """Gives the tracker's own Run object for a cached run (found by its ID)."""
        if self._live_runs is None or run.id not in self._live_runs:
            found = self.live.get(run.id)
            self._remember_live(found)
        assert self._live_runs is not None
        return self._live_runs[run.id]

    def _remove_series(self, run_id: str) -> None:
        try:
            os.unlink(self.folder / "series" / f"{file_name(run_id)}.npy")
        except OSError:
            pass

    def list_runs(self, experiment: str | None = None) -> list[Run]:
        key = json.dumps(["list", experiment])
        cached = self._cached_runs(key)
        if cached is not None:
            return cached
        return self._keep_runs(key, self.live.list_runs(experiment))

    def select_runs(self, query: Query) -> list[Run]:
        key = json.dumps(
            ["select", query.experiment, query.filter, list(query.order_by), query.limit]
        )
        cached = self._cached_runs(key)
        if cached is not None:
            return cached
        return self._keep_runs(key, self.live.select_runs(query))

    # -- series ------------------------------------------------------------------------------

    def _cached_series(self, run: Run) -> dict[str, Series]:
        if run.id not in self._series:
            found: dict[str, Series] = {}
            entry = self._load()["runs"].get(run.id)
            if self.read and entry and entry.get("series") and entry.get("token") is not None:
                try:
                    found = load_series_arrays(
                        self.folder / "series" / f"{file_name(run.id)}.npy", entry["series"]
                    )
                except (OSError, ValueError, KeyError):
                    found = {}
            self._series[run.id] = found
            self._held += sum(len(s) for s in found.values())
        return self._series[run.id]

    def read_series(self, run: Run, key: str) -> Series:
        return self.read_many([run], [key])[run.id][key]

    def list_metric_keys(self, run: Run) -> list[str]:
        entry = self._load()["runs"].get(run.id)
        if entry is not None and "metric_keys" in entry and entry.get("token") is not None:
            return list(entry["metric_keys"])
        keys = self.live.list_metric_keys(self._live_run(run))
        if entry is not None:
            entry["metric_keys"] = keys
            self._dirty = True
        return keys

    def read_many(
        self, runs: Sequence[Run], keys: Sequence[str] | None = None
    ) -> dict[str, dict[str, Series]]:
        out: dict[str, dict[str, Series]] = {}
        missing: dict[tuple[str, ...], list[Run]] = {}
        for run in runs:
            wanted = tuple(run.metric_keys() if keys is None else keys)
            kept = self._cached_series(run) if not is_running(run) else {}
            out[run.id] = {key: kept[key] for key in wanted if key in kept}
            lacking = tuple(key for key in wanted if key not in kept)
            if lacking:
                missing.setdefault(lacking, []).append(run)
        for lacking, members in missing.items():
            self.misses += 1
            live_runs = [self._live_run(run) for run in members]
            found = self.live.read_many(live_runs, list(lacking))
            for run in members:
                series = found.get(run.id, {})
                for key in lacking:
                    got = series.get(key, Series.empty(key))
                    out[run.id][key] = got
                    if not is_running(run) and run.id in self._load()["runs"]:
                        self._series.setdefault(run.id, {})[key] = got
                        self._held += len(got)
                        self._dirty_runs.add(run.id)
                        self._dirty = True
        if not missing and runs:
            self.hits += 1
        for run in runs:
            for got in out[run.id].values():
                run.set_series(got)
        self._spill()
        return out

    # -- the rest goes to the tracker --------------------------------------------------------

    def list_artifacts(self, run: Run) -> list[str]:
        return self.live.list_artifacts(self._live_run(run))

    def read_artifact(self, run: Run, artifact: str) -> bytes:
        return self.live.read_artifact(self._live_run(run), artifact)

    def run_dir(self, run: Run) -> Path | None:
        return self.live.run_dir(self._live_run(run))

    def artifact_path(self, run: Run, artifact: str) -> Path | None:
        return self.live.artifact_path(self._live_run(run), artifact)

    def check_available(self) -> None:
        self.live.check_available()

    def watched_paths(self) -> list[Path]:
        return self.live.watched_paths()

    def state_token(self) -> str | None:
        return self.token()

    def run_token(self, run: Run) -> str | None:
        return self.live.run_token(run)

    def problems(self) -> list[SourceError]:
        index = self._load()
        if self._trusted() and "problems" in index and not self.misses:
            return [SourceError(**p) for p in index["problems"]]
        found = self.live.problems()
        index["problems"] = [
            {
                "message": p.message,
                "file": p.file,
                "line": p.line,
                "source": p.source,
                "hint": p.hint,
            }
            for p in found
            if type(p) is SourceError
        ]
        if len(index["problems"]) == len(found):
            self._dirty = True
        else:
            index.pop("problems")  # a kind of problem the cache cannot keep: ask each time
        return found

    def close(self) -> None:
        self.flush()
        self.live.close()


def cache_usage(project_root: Path) -> list[tuple[str, int, int, int]]:
    """Gives (part, runs, files, bytes) for each part of .labbook/cache: each source's runs, figures."""
    base = project_root / ".labbook" / "cache"
    out: list[tuple[str, int, int, int]] = []
    if not base.is_dir():
        return out
    runs_root = cache_root(project_root)
    parts = sorted(runs_root.iterdir()) if runs_root.is_dir() else []
    for folder in [*parts, *sorted(p for p in base.iterdir() if p != runs_root)]:
        files = [p for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else [folder]
        count = 0
        if folder.parent == runs_root:
            try:
                index = json.loads((folder / INDEX).read_text(encoding="utf-8"))
                count = len(index.get("runs") or {})
            except (OSError, ValueError):
                count = 0
        name = f"runs of {folder.name}" if folder.parent == runs_root else folder.name
        out.append((name, count, len(files), sum(p.stat().st_size for p in files)))
    return out
