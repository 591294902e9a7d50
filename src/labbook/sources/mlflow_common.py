"""What the three MLflow sources share: mapping MLflow's run fields into labbook's Run."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

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
