"""Reads an MLflow SQL store in SQLite with the standard library's sqlite3, read-only; no mlflow import.

The tables MLflow 1.x to 3.x write (`experiments`, `runs`, `params`, `tags`, `metrics`,
`latest_metrics`) are read with whatever columns the schema version has: a column an
older schema lacks reads as MLflow's default (step 0, not NaN). Listing runs costs one
query per table for all of them; a metric's history is one indexed query. NaN is
stored as 0 with `is_nan` set, and ±infinity as ±DBL_MAX; both read back as logged.
The database is opened with `mode=ro`: nothing here can write to it.
"""

from __future__ import annotations

import itertools
import sqlite3
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import SourceError
from ..fingerprint import digest
from ..model import Run, Scalar, Series
from .base import Query, Source
from .mlflow_common import (
    ExperimentInfo,
    list_artifact_files,
    local_path,
    mlflow_order,
    mlflow_run,
    select_experiments,
)

# MLflow's SQL store writes ±infinity as the largest finite double.
_DBL_MAX = sys.float_info.max
# Integers a float64 holds exactly.
_EXACT_INT = float(2**53)
# Run IDs per `IN (…)` list: well under SQLite's smallest limit on bound variables (999).
_CHUNK = 500
# The tables labbook reads, and the columns an older schema may lack, with MLflow's default.
_DEFAULTS: dict[str, dict[str, str]] = {
    "experiments": {"name": "NULL", "lifecycle_stage": "'active'"},
    "runs": {
        "name": "NULL",
        "status": "NULL",
        "start_time": "NULL",
        "end_time": "NULL",
        "lifecycle_stage": "'active'",
        "artifact_uri": "NULL",
    },
    "metrics": {"step": "0", "is_nan": "0"},
    "latest_metrics": {"step": "0", "is_nan": "0"},
}

Row = tuple[Any, ...]


class MlflowSqlSource(Source):
    """Runs in an MLflow SQLite database: `mlflow+sqlite:///rel/path.db`, `…:////abs/path.db`.

    Deleted runs and deleted experiments are left out unless `include_deleted` is true.
    """

    scheme: ClassVar[str] = "mlflow+sqlite"

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
        self.path = _database_path(location, Path(self.base_dir), self.uri)
        self._conn: sqlite3.Connection | None = None
        self._columns: dict[str, set[str]] = {}
        self._metrics_from = "metrics"
        self._experiments: list[ExperimentInfo] | None = None
        self._listed: dict[str | None, list[Run]] = {}
        self._by_id: dict[str, Run] = {}
        self._artifact_dirs: dict[str, Path] = {}

    # -- the Source interface ----------------------------------------------------------

    def list_runs(self, experiment: str | None = None) -> list[Run]:
        """Gives the runs of every experiment (or of the one named or numbered), newest first."""
        chosen = self._choose(experiment)
        key = None if experiment is None else chosen[0].id
        if key not in self._listed:
            self._listed[key] = mlflow_order(self._load(chosen))
        return list(self._listed[key])

    def read_series(self, run: Run, key: str) -> Series:
        """Gives every logged point of `key` in step order (equal steps by timestamp)."""
        if not self._has("metrics"):
            return Series.empty(key)
        step, is_nan = self._column("metrics", "step"), self._column("metrics", "is_nan")
        # Ordered by step alone, as the (run_uuid, key, step) index holds the rows, so SQLite
        # sorts nothing (a sort by all four columns cost 40% more); _series orders the
        # points of equal steps.
        rows = self._query(
            f"SELECT {step}, timestamp, value, {is_nan} FROM {self._metrics_from} "
            "WHERE run_uuid = ? AND key = ? ORDER BY 1",
            (run.id, key),
        )
        return _series(key, rows)

    def list_metric_keys(self, run: Run) -> list[str]:
        """Gives every metric key the run logged, sorted."""
        if not self._has("metrics"):
            return []
        rows = self._query(
            f"SELECT DISTINCT key FROM {self._metrics_from} WHERE run_uuid = ?", (run.id,)
        )
        return sorted(str(row[0]) for row in rows)

    def problems(self) -> list[SourceError]:
        """Gives why the database cannot be read, if it cannot; a readable one has none."""
        try:
            self._experiment_list()
        except SourceError as exc:
            return [exc]
        return []

    def select_runs(self, query: Query) -> list[Run]:
        """Gives the runs the query may match: the experiment is chosen in SQL, and so is the
        limit when there is no filter or order to apply first."""
        if query.limit is not None and query.expr is None and not query.keys:
            return self._load(self._choose(query.experiment), limit=query.limit)
        return self.list_runs(query.experiment)

    # -- extras ----------------------------------------------------------------------------

    def artifact_path(self, run: Run, artifact: str) -> Path | None:
        """Gives the file behind one of `run.artifacts`, or None if there is no such file."""
        base = self._artifact_dirs.get(run.id)
        if base is None or artifact not in run.artifacts:
            return None
        return base / artifact

    def watched_paths(self) -> list[Path]:
        """Gives the database file: every write MLflow makes lands in it."""
        return [self.path]

    def state_token(self) -> str | None:
        """Gives the database's change counter with the file's size and time, and its WAL's.

        SQLite bumps the counter in the file's header (bytes 24-27) on every committed
        write; a database in WAL mode commits to the `-wal` file first, so its size and
        time count too. None when the file cannot be read (the build then reads it).
        """
        parts: list[object] = []
        try:
            with self.path.open("rb") as handle:
                header = handle.read(100)
            stat = self.path.stat()
        except OSError:
            return None
        parts.append([header[24:28].hex(), stat.st_size, stat.st_mtime_ns])
        for suffix in ("-wal", "-journal"):
            side = self.path.with_name(self.path.name + suffix)
            if side.exists():
                side_stat = side.stat()
                parts.append([suffix, side_stat.st_size, side_stat.st_mtime_ns])
        return digest(parts)

    @classmethod
    def detect(cls, path: Path) -> bool:
        """Tells whether a bare path is an SQLite database file (MLflow's `sqlite:///` store)."""
        if not path.is_file():
            return False
        try:
            with path.open("rb") as handle:
                return handle.read(16) == b"SQLite format 3\x00"
        except OSError:
            return False

    def close(self) -> None:
        """Closes the database connection (it opens again when needed)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- the database ------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        if not self.path.is_file():
            what = "is not a file" if self.path.exists() else "does not exist"
            raise SourceError(
                f"MLflow database {self.path} {what}",
                source=self.uri,
                hint="fix this source's path in mkdocs.yml: mlflow+sqlite:///rel/path.db is "
                "relative to the folder holding mkdocs.yml, mlflow+sqlite:////abs/path.db absolute",
            )
        try:
            conn = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise SourceError(
                f"cannot open {self.path} ({exc})", source=self.uri, hint="check its permissions"
            ) from exc
        try:
            tables = {
                str(row[0])
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            for table in ("experiments", "runs", "params", "tags", "metrics", "latest_metrics"):
                if table in tables:
                    info = conn.execute(f"PRAGMA table_info('{table}')").fetchall()
                    self._columns[table] = {str(row[1]) for row in info}
            self._metrics_from = _metrics_table(conn) if "metrics" in tables else "metrics"
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise SourceError(
                f"{self.path} is not an SQLite database ({exc})",
                source=self.uri,
                hint="mlflow+sqlite: names the .db file of MLflow's sqlite:/// tracking URI",
            ) from exc
        missing = sorted({"experiments", "runs"} - tables)
        if missing:
            conn.close()
            raise SourceError(
                f"{self.path} is an SQLite database but not an MLflow store "
                f"(it has no {' or '.join(missing)} table)",
                source=self.uri,
                hint="point the source at the database MLflow's tracking URI names",
            )
        self._conn = conn
        return conn

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        try:
            return self._db().execute(sql, tuple(args)).fetchall()
        except sqlite3.Error as exc:
            raise SourceError(
                f"cannot read {self.path} ({exc})",
                source=self.uri,
                hint="if MLflow is writing to it right now, try again",
            ) from exc

    def _has(self, table: str) -> bool:
        self._db()
        return table in self._columns

    def _column(self, table: str, column: str) -> str:
        """Gives the column's SQL, or its MLflow default when this schema version lacks it."""
        self._db()
        if column in self._columns.get(table, ()):
            return column
        return _DEFAULTS[table][column]

    # -- experiments and runs ------------------------------------------------------------------

    def _experiment_list(self) -> list[ExperimentInfo]:
        if self._experiments is None:
            name = self._column("experiments", "name")
            stage = self._column("experiments", "lifecycle_stage")
            rows = self._query(
                f"SELECT experiment_id, {name}, {stage} FROM experiments ORDER BY experiment_id"
            )
            self._experiments = [
                ExperimentInfo(
                    str(eid), None if ename in (None, "") else str(ename), s == "deleted"
                )
                for eid, ename, s in rows
            ]
        return self._experiments

    def _choose(self, experiment: str | None) -> list[ExperimentInfo]:
        return select_experiments(
            self._experiment_list(),
            experiment,
            source=self.uri,
            include_deleted=self.include_deleted,
        )

    def _load(self, experiments: Sequence[ExperimentInfo], limit: int | None = None) -> list[Run]:
        """Gives the runs of these experiments, with params, tags and summaries: a query a table."""
        if not experiments:
            return []
        names = {e.id: e.name for e in experiments}
        where = f"experiment_id IN ({', '.join('?' * len(experiments))})"
        args: list[Any] = [_sql_id(e.id) for e in experiments]
        if not self.include_deleted:
            where += f" AND COALESCE({self._column('runs', 'lifecycle_stage')}, '') != 'deleted'"
        order = ""
        if limit is not None:
            order = " ORDER BY start_time IS NULL, start_time DESC, run_uuid LIMIT ?"
        columns = ", ".join(
            self._column("runs", c)
            for c in ("name", "status", "start_time", "end_time", "artifact_uri")
        )
        run_rows = self._query(
            f"SELECT run_uuid, experiment_id, {columns} FROM runs WHERE {where}{order}",
            [*args, limit] if limit is not None else args,
        )
        run_ids = [str(row[0]) for row in run_rows]
        params = self._values("params", run_ids)
        tags = self._values("tags", run_ids)
        summaries = self._summaries(run_ids)
        runs: list[Run] = []
        for run_id, (_, eid, run_name, status, start, end, artifact_uri) in zip(
            run_ids, run_rows, strict=True
        ):
            if run_id in self._by_id:
                # One Run object per ID, so series read through one listing serve the next.
                runs.append(self._by_id[run_id])
                continue
            run = mlflow_run(
                source=self.name,
                run_id=run_id,
                experiment_id=str(eid),
                experiment_name=names.get(str(eid)),
                run_name=None if run_name is None else str(run_name),
                status=status,
                start_time_ms=start,
                end_time_ms=end,
                params=params.get(run_id, {}),
                tags=tags.get(run_id, {}),
                summary=summaries.get(run_id, {}),
                artifacts=self._list_artifacts(run_id, artifact_uri),
                reader=self,
            )
            self._by_id[run_id] = run
            runs.append(run)
        return runs

    def _values(self, table: str, run_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        """Gives run ID -> key -> value of the params or tags table, sorted by key."""
        out: dict[str, dict[str, str]] = {}
        if not self._has(table):
            return out
        for chunk in _chunks(run_ids):
            rows = self._query(
                f"SELECT run_uuid, key, value FROM {table} "
                f"WHERE run_uuid IN ({', '.join('?' * len(chunk))}) ORDER BY run_uuid, key",
                chunk,
            )
            for run_id, key, value in rows:
                out.setdefault(str(run_id), {})[str(key)] = "" if value is None else str(value)
        return out

    def _summaries(self, run_ids: Sequence[str]) -> dict[str, dict[str, Scalar]]:
        """Gives run ID -> key -> latest value: highest step, then latest time, then largest."""
        out: dict[str, dict[str, Scalar]] = {}
        for chunk in _chunks(run_ids):
            marks = ", ".join("?" * len(chunk))
            if self._has("latest_metrics"):
                is_nan = self._column("latest_metrics", "is_nan")
                sql = (
                    f"SELECT run_uuid, key, value, {is_nan} FROM latest_metrics "
                    f"WHERE run_uuid IN ({marks})"
                )
            elif self._has("metrics"):
                # Older schemas have no latest_metrics table: pick the same point from metrics.
                step, is_nan = self._column("metrics", "step"), self._column("metrics", "is_nan")
                sql = (
                    f"SELECT run_uuid, key, value, nan_flag FROM (SELECT run_uuid, key, value, "
                    f"{is_nan} AS nan_flag, ROW_NUMBER() OVER (PARTITION BY run_uuid, key "
                    f"ORDER BY {step} DESC, timestamp DESC, value DESC) AS latest_rank "
                    f"FROM {self._metrics_from} WHERE run_uuid IN ({marks})) WHERE latest_rank = 1"
                )
            else:
                return out
            for run_id, key, value, nan in self._query(f"{sql} ORDER BY run_uuid, key", chunk):
                out.setdefault(str(run_id), {})[str(key)] = _value(value, nan)
        return out

    def _list_artifacts(self, run_id: str, artifact_uri: object) -> list[str]:
        """Gives the run's artifact files when its artifact URI is a folder on this machine."""
        if not isinstance(artifact_uri, str):
            return []
        base = local_path(artifact_uri, self.path.parent)
        # Only a folder that is plainly this run's: an artifact_uri of "/" must not walk the disk.
        if base is None or not (base.name == "artifacts" or run_id in base.parts):
            return []
        files = list_artifact_files(base)
        if files:
            self._artifact_dirs[run_id] = base
        return files


# -- helpers --------------------------------------------------------------------------------


def _database_path(location: str, base_dir: Path, uri: str) -> Path:
    """Gives the database file of `///rel/path.db` (relative to base_dir) or `////abs/path.db`."""
    text = location.strip().split("?", 1)[0]
    if text.startswith("sqlite:"):
        text = text[len("sqlite:") :]
    if text.startswith("//"):
        # SQLAlchemy's form: two slashes, an empty host, then a slash before the path.
        if not text.startswith("///"):
            raise SourceError(
                f"{location!r} is not an SQLite location",
                source=uri,
                hint="write mlflow+sqlite:///relative/path.db or mlflow+sqlite:////absolute/path.db",
            )
        text = text[3:]
    if text in ("", ":memory:"):
        raise SourceError(
            "the source names no database file",
            source=uri,
            hint="write mlflow+sqlite:///relative/path.db or mlflow+sqlite:////absolute/path.db",
        )
    path = Path(text).expanduser()
    return path if path.is_absolute() else base_dir / path


def _metrics_table(conn: sqlite3.Connection) -> str:
    """Gives `metrics`, with the index on (run_uuid, key) or run_uuid named when there is one.

    Without statistics SQLite's planner picks the primary key's index (key first), which
    reads every run's points of a key to find one run's: measured 25x slower.
    """
    best: tuple[int, str] | None = None
    for row in conn.execute("PRAGMA index_list('metrics')").fetchall():
        name = str(row[1])
        columns = [str(info[2]) for info in conn.execute(f"PRAGMA index_info('{name}')")]
        rank = 2 if columns[:2] == ["run_uuid", "key"] else 1 if columns[:1] == ["run_uuid"] else 0
        if rank and (best is None or rank > best[0]):
            best = (rank, name)
    if best is None:
        return "metrics"
    quoted = best[1].replace('"', '""')
    return f'metrics INDEXED BY "{quoted}"'


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _sql_id(experiment_id: str) -> int | str:
    """Gives an experiment ID as the integer MLflow's schema stores (text if it is not one)."""
    return int(experiment_id) if experiment_id.lstrip("-").isdigit() else experiment_id


def _value(value: object, is_nan: object) -> float:
    """Gives a stored metric value as logged: NaN from `is_nan`, ±infinity from ±DBL_MAX."""
    if is_nan:
        return float("nan")
    number = float(value)  # type: ignore[arg-type]
    if abs(number) == _DBL_MAX:
        return float("inf") if number > 0 else float("-inf")
    return number


def _series(key: str, rows: Sequence[Row]) -> Series:
    """Gives a Series from (step, timestamp ms, value, is_nan) rows in step order.

    Points of equal steps are put in timestamp, value, is_nan order, as MLflow's
    `ORDER BY step, timestamp, value, is_nan` has them.
    """
    if not rows:
        return Series.empty(key)
    try:  # twice as fast as np.array on a list of tuples
        flat = itertools.chain.from_iterable(rows)
        table = np.fromiter(flat, dtype=np.float64, count=4 * len(rows)).reshape(-1, 4)
    except (TypeError, ValueError):  # a row of another length, a text value: np.array says
        table = np.array(rows, dtype=np.float64)
    if np.all(np.abs(table[:, 0]) < _EXACT_INT):
        steps = table[:, 0].astype(np.int64)
    else:  # beyond 2**53 a float64 would round the step
        steps = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    if len(steps) > 1 and not np.all(steps[1:] > steps[:-1]):
        order = np.lexsort((table[:, 3], table[:, 2], table[:, 1], steps))
        table, steps = table[order], steps[order]
    values = table[:, 2].copy()
    values[table[:, 3] != 0] = np.nan
    values[values == _DBL_MAX] = np.inf
    values[values == -_DBL_MAX] = -np.inf
    return Series(key, steps, values, table[:, 1] / 1000.0)
