"""Snapshots: the runs reports use, frozen under `.labbook/snapshots/` so a build needs no tracker.

Layout, one folder per configured source (named as in mkdocs.yml):

    .labbook/snapshots/<source>/snapshot.json     runs, queries and references (sorted JSON)
    .labbook/snapshots/<source>/series/<run>.csv  key,step,value,time: the series blocks read
    .labbook/snapshots/<source>/artifacts/<run>/… the artifact files blocks showed (images)

Decisions:

- A snapshot holds what the frozen reports asked for, not the whole tracker: each query
  with the IDs it gave, each reference with the run it named, each run's metadata,
  params, tags, summary and metric keys, and the series the blocks read. A query or
  reference the snapshot does not hold goes to the tracker (or fails under `--offline`),
  so an edited report never silently draws from a subset of the runs.
- Series up to `FULL_POINTS` points are kept whole; a longer one is kept as the line
  chart draws it (min-max sampled to `max_points`), and its record says how many
  points were logged.
- Same data, same bytes: JSON is sorted, floats are written in their shortest exact
  form, and a run whose data did not change keeps the time it was first read, so a
  second `labbook freeze` over unchanged trackers changes no file.
- The source URI is kept with any `user:password@` taken out.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import NotInSnapshot, RunDataError, SourceError
from .export.files import write_atomically
from .model import Run, Series
from .runrecord import dumps, file_name, read_series_csv, run_from_record, run_record, series_csv
from .sources.base import redact_uri, sample_series

FORMAT = 1
SNAPSHOT_FILE = "snapshot.json"
FULL_POINTS = 20_000

QueryKey = tuple[str | None, str | None, tuple[str, ...], int | None]


def snapshot_root(project_root: Path) -> Path:
    return project_root / ".labbook" / "snapshots"


def query_record(key: QueryKey, ids: Sequence[str]) -> dict[str, Any]:
    experiment, filter_text, order_by, limit = key
    return {
        "experiment": experiment,
        "filter": filter_text,
        "order_by": list(order_by),
        "limit": limit,
        "ids": list(ids),
    }


def _query_key(record: Mapping[str, Any]) -> QueryKey:
    return (
        record.get("experiment"),
        record.get("filter"),
        tuple(record.get("order_by") or ()),
        record.get("limit"),
    )


@dataclass
class SourceSnapshot:
    """One source's frozen runs: answers queries, references and series as the tracker did."""

    name: str
    folder: Path
    uri: str = ""
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    queries: dict[QueryKey, list[str]] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    # What to do for a series the snapshot lacks (read it from the tracker); None: an error.
    fallback: Any = None
    _runs: dict[str, Run] = field(default_factory=dict, repr=False)
    _series: dict[str, dict[str, Series]] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, folder: Path, name: str) -> SourceSnapshot | None:
        """Gives the snapshot in `folder`, None when there is none; a broken one is an error."""
        path = folder / SNAPSHOT_FILE
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SourceError(
                f"cannot read the snapshot of source {name!r}: {exc}",
                file=path,
                hint="run `labbook freeze` again, or delete the folder to build from the tracker",
            ) from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise SourceError(
                f"the snapshot of source {name!r} is not in labbook's snapshot format {FORMAT}",
                file=path,
                hint="run `labbook freeze` again to rewrite it",
            )
        snapshot = cls(name, folder, uri=str(data.get("source", {}).get("uri", "")))
        snapshot.records = dict(data.get("runs") or {})
        snapshot.queries = {_query_key(q): list(q["ids"]) for q in data.get("queries") or []}
        snapshot.refs = dict(data.get("refs") or {})
        return snapshot

    # -- what a build asks ----------------------------------------------------------------

    def run(self, run_id: str) -> Run:
        """Gives the frozen run of this ID (one Run object per run)."""
        if run_id not in self._runs:
            run = run_from_record(self.records[run_id], self.name)
            run.reader = self
            self._runs[run_id] = run
        return self._runs[run_id]

    def query(self, key: QueryKey) -> list[Run] | None:
        """Gives the runs a frozen query gave, in its order; None when it was not frozen."""
        ids = self.queries.get(key)
        if ids is None or any(i not in self.records for i in ids):
            return None
        return [self.run(i) for i in ids]

    def find(self, ref: str) -> Run | None:
        """Gives the run a frozen reference (or an exact frozen ID) named; None otherwise."""
        run_id = self.refs.get(ref, ref if ref in self.records else None)
        return None if run_id is None or run_id not in self.records else self.run(run_id)

    def read_at(self, run_id: str) -> datetime | None:
        stamp = self.records.get(run_id, {}).get("read_at")
        return datetime.fromisoformat(stamp) if stamp else None

    # -- the SeriesReader protocol (frozen runs read their series here) -------------------

    def _frozen_series(self, run: Run) -> dict[str, Series]:
        if run.id not in self._series:
            path = self.folder / "series" / f"{file_name(run.id)}.csv"
            try:
                text = path.read_text(encoding="utf-8") if path.exists() else ""
                self._series[run.id] = read_series_csv(text, path) if text else {}
            except (OSError, ValueError) as exc:
                raise RunDataError(
                    f"cannot read the frozen series of run {run.ref}: {exc}",
                    file=path,
                    hint="run `labbook freeze` again",
                ) from exc
        return self._series[run.id]

    def read_series(self, run: Run, key: str) -> Series:
        record = self.records.get(run.id, {})
        if key in (record.get("series") or {}):
            return self._frozen_series(run).get(key, Series.empty(key))
        if self.fallback is not None:
            found: Series = self.fallback(run, key)
            return found
        raise NotInSnapshot(
            f"the snapshot of source {self.name!r} holds no series {key!r} of run {run.ref}",
            hint="run `labbook freeze` for this report, or build without --offline",
        )

    def list_metric_keys(self, run: Run) -> list[str]:
        return list(self.records.get(run.id, {}).get("metric_keys") or [])

    def read_many(
        self, runs: Sequence[Run], keys: Sequence[str] | None = None
    ) -> dict[str, dict[str, Series]]:
        out: dict[str, dict[str, Series]] = {}
        for run in runs:
            wanted = run.metric_keys() if keys is None else keys
            out[run.id] = {key: self.read_series(run, key) for key in wanted}
        return out

    def artifacts_of(self, run: Run) -> list[str] | None:
        """Gives the run's frozen artifact listing, None when none was frozen."""
        listed = self.records.get(run.id, {}).get("listed_artifacts")
        return None if listed is None else list(listed)

    def artifact(self, run: Run, artifact: str) -> bytes | None:
        """Gives a frozen artifact's bytes, None when it was not frozen."""
        if artifact not in (self.records.get(run.id, {}).get("frozen_artifacts") or []):
            return None
        return (self.folder / "artifacts" / file_name(run.id) / artifact).read_bytes()


# -- writing -------------------------------------------------------------------------------


@dataclass
class FrozenRun:
    """What freezing keeps of one run."""

    run: Run
    series: dict[str, Series] = field(default_factory=dict)
    listed_artifacts: list[str] | None = None
    artifacts: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Freezer:
    """Collects what one source gave a set of reports, then writes it as that source's snapshot."""

    name: str
    uri: str
    max_points: int
    runs: dict[str, FrozenRun] = field(default_factory=dict)
    queries: dict[QueryKey, list[str]] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)

    def add_run(self, run: Run) -> FrozenRun:
        frozen = self.runs.setdefault(run.id, FrozenRun(run))
        for key, series in run._series.items():
            frozen.series[key] = (
                series if len(series) <= FULL_POINTS else sample_series(series, self.max_points)
            )
        return frozen

    def write(self, folder: Path, *, merge: bool) -> int:
        """Writes the snapshot into `folder`; gives the number of bytes it takes.

        With `merge`, what an earlier snapshot holds beyond these runs and queries stays
        (freezing one report leaves the others' runs in place).
        """
        previous = SourceSnapshot.load(folder, self.name)
        now = datetime.now(UTC).replace(microsecond=0).isoformat()
        records: dict[str, dict[str, Any]] = {}
        queries = dict(previous.queries) if merge and previous else {}
        refs = dict(previous.refs) if merge and previous else {}
        if merge and previous:
            records.update(previous.records)
        queries.update(self.queries)
        refs.update(self.refs)
        texts: dict[str, str] = {}
        old_texts: dict[str, str] = {}  # each run's CSV as it was, read once
        for run_id, frozen in sorted(self.runs.items()):
            run = frozen.run
            record = run_record(run, run.metric_keys())
            record["series"] = {
                key: {"points": len(s), "logged": len(run._series.get(key, s))}
                for key, s in sorted(frozen.series.items())
            }
            if frozen.listed_artifacts is not None:
                record["listed_artifacts"] = sorted(frozen.listed_artifacts)
            if frozen.artifacts:
                record["frozen_artifacts"] = sorted(frozen.artifacts)
            texts[run_id] = series_csv(frozen.series.values()) if frozen.series else ""
            old_texts[run_id] = _old_text(folder, run_id)
            old = previous.records.get(run_id) if previous else None
            unchanged = (
                old is not None
                and {k: v for k, v in old.items() if k != "read_at"} == json.loads(dumps(record))
                and old_texts[run_id] == texts[run_id]
            )
            record["read_at"] = old["read_at"] if unchanged and old else now
            records[run_id] = record
        data = {
            "format": FORMAT,
            "source": {"name": self.name, "uri": redact_uri(self.uri)},
            "runs": records,
            "queries": sorted(
                (query_record(k, ids) for k, ids in queries.items()),
                key=lambda q: json.dumps(q, sort_keys=True),
            ),
            "refs": refs,
        }
        if not merge and folder.exists():
            _clear(folder)
        for run_id, text in texts.items():
            target = folder / "series" / f"{file_name(run_id)}.csv"
            if text:
                # After a clear (no merge) the folder is empty: write whatever it held.
                if not merge or old_texts[run_id] != text:
                    write_atomically(target, text.encode())
            else:
                target.unlink(missing_ok=True)
        for run_id, frozen in self.runs.items():
            for artifact, blob in frozen.artifacts.items():
                target = folder / "artifacts" / file_name(run_id) / artifact
                if not target.is_file() or target.read_bytes() != blob:
                    write_atomically(target, blob)
        write_atomically(folder / SNAPSHOT_FILE, dumps(data).encode())
        return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _old_text(folder: Path, run_id: str) -> str:
    path = folder / "series" / f"{file_name(run_id)}.csv"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def _clear(folder: Path) -> None:
    """Removes what an earlier snapshot wrote (its series and artifacts), keeping the folder."""
    for part in ("series", "artifacts"):
        shutil.rmtree(folder / part, ignore_errors=True)
