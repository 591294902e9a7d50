"""What the three MLflow sources share: mapping MLflow's run fields into labbook's Run."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..errors import SourceError
from ..model import Run, Scalar, SeriesReader

# MLflow's RunStatus enum as the file store of MLflow 1.x wrote it (integers), and as names.
_STATUS_BY_NUMBER = {1: "running", 2: "scheduled", 3: "finished", 4: "failed", 5: "killed"}

# Tags that say where the code came from; kept, but not shown by `table: auto`.
SYSTEM_TAG_PREFIX = "mlflow."
GIT_COMMIT_TAG = "mlflow.source.git.commit"
RUN_NAME_TAG = "mlflow.runName"


def status_name(status: object) -> str | None:
    """Gives a run status as labbook writes it (lower case): 3 or 'FINISHED' -> 'finished'."""
    if status is None or status == "":
        return None
    if isinstance(status, int) or (isinstance(status, str) and status.isdigit()):
        return _STATUS_BY_NUMBER.get(int(status), str(status))
    return str(status).lower()


def from_millis(value: object) -> datetime | None:
    """Gives an aware UTC datetime from MLflow's milliseconds since the epoch (None stays None)."""
    if not isinstance(value, int | float | str) or value == "":
        return None
    try:
        return datetime.fromtimestamp(int(float(value)) / 1000.0, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def tracker_url(base: str | None, experiment_id: str, run_id: str) -> str | None:
    """Gives the run's page in the MLflow UI, `{server}/#/experiments/{eid}/runs/{rid}`."""
    if not base:
        return None
    return f"{base.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"


def mlflow_run(
    *,
    source: str,
    run_id: str,
    experiment_id: str,
    experiment_name: str | None,
    run_name: str | None,
    status: object,
    start_time_ms: object,
    end_time_ms: object,
    params: Mapping[str, str],
    tags: Mapping[str, str],
    summary: Mapping[str, Scalar],
    artifacts: list[str] | None = None,
    url_base: str | None = None,
    reader: SeriesReader | None = None,
) -> Run:
    """Gives a Run from the fields every MLflow store holds, mapped the same way for all three."""
    name = run_name or tags.get(RUN_NAME_TAG) or run_id
    return Run(
        id=run_id,
        source=source,
        name=name,
        experiment=experiment_name or experiment_id,
        status=status_name(status),
        start_time=from_millis(start_time_ms),
        end_time=from_millis(end_time_ms),
        params=dict(params),
        tags=dict(tags),
        summary=dict(summary),
        artifacts=list(artifacts or []),
        git_commit=tags.get(GIT_COMMIT_TAG),
        url=tracker_url(url_base, experiment_id, run_id),
        hidden_tags=frozenset(k for k in tags if k.startswith(SYSTEM_TAG_PREFIX)),
        reader=reader,
    )


# -- what the file store and the SQLite store share ----------------------------------------


@dataclass(frozen=True)
class ExperimentInfo:
    """An MLflow experiment as a store lists it: ID, name (None if unreadable), deleted or not."""

    id: str
    name: str | None
    deleted: bool = False

    @property
    def label(self) -> str:
        return f"{self.name} (ID {self.id})" if self.name else f"ID {self.id}"


def select_experiments(
    experiments: Sequence[ExperimentInfo],
    wanted: str | None,
    *,
    source: str,
    include_deleted: bool,
) -> list[ExperimentInfo]:
    """Gives the experiments whose runs to list: the one `wanted` names (name first, then ID), or all.

    Deleted experiments count only with `include_deleted`; naming one without it is an
    error that says so, rather than an empty result.
    """
    visible = [e for e in experiments if include_deleted or not e.deleted]
    if wanted is None:
        return visible
    for found in (
        [e for e in visible if e.name == wanted],
        [e for e in visible if e.id == wanted],
    ):
        if found:
            return found[:1]
    deleted = [e for e in experiments if e.deleted and wanted in (e.name, e.id)]
    if deleted:
        raise SourceError(
            f"experiment {wanted!r} is deleted",
            source=source,
            hint="restore it in MLflow, or open the source with include_deleted=True",
        )
    known = ", ".join(e.label for e in visible) or "none"
    raise SourceError(
        f"no experiment {wanted!r}",
        source=source,
        hint=f"known experiments: {known}",
    )


def mlflow_order(runs: Iterable[Run]) -> list[Run]:
    """Gives the runs in MLflow's default order: latest start first, then by ID."""
    # Runs without a start time go last, as MLflow puts them.
    return sorted(
        runs,
        key=lambda r: (
            r.start_time is None,
            -r.start_time.timestamp() if r.start_time is not None else 0.0,
            r.id,
        ),
    )


def local_path(uri: str | None, base_dir: Path | None = None) -> Path | None:
    """Gives the local path a `file:` URI or plain path names, or None (s3:, http:, …)."""
    if not uri:
        return None
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            return None
        text = unquote(parsed.path)
        # file:///C:/x is C:/x on Windows.
        if os.name == "nt" and len(text) > 2 and text[0] == "/" and text[2] == ":":
            text = text[1:]
        return Path(text)
    # One letter is a Windows drive ("C:/..."), not a scheme.
    if parsed.scheme and len(parsed.scheme) > 1:
        return None
    path = Path(uri).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path


def list_artifact_files(base: Path) -> list[str]:
    """Gives every file below `base` as a sorted POSIX path relative to it ([] if no folder)."""
    if not base.is_dir():
        return []
    found: list[str] = []
    for dirpath, _dirnames, filenames in os.walk(base):
        rel = Path(dirpath).relative_to(base)
        found.extend((rel / name).as_posix() for name in filenames)
    return sorted(found)
