"""Reads runs from the W&B public API: `wandb:ENTITY/PROJECT`.

The client is `wandb.Api()`, which takes the server from `WANDB_BASE_URL` (W&B's cloud
by default, or a W&B Server) and the key from `WANDB_API_KEY` (or `wandb login`'s
netrc entry). Runs are mapped as `wandb_common` sets out, the same way as runs read
from folders on disk; experiment is the project.

Filters. The API takes MongoDB-style filters. labbook sends the part of a filter the
server can evaluate without dropping a run labbook's own rules would keep, then
evaluates the whole filter on what comes back, so the result is exactly what the
filter language (spec §5) says; the server only narrows the transfer:

- `metrics.K <op> number` -> `summary_metrics.K` ($eq $ne $gt $gte $lt $lte $in $nin);
- `params.K = 'text'` / `IN` / `!=` -> `config.K.value`, for text that reads as no
  number or boolean (labbook compares `0.1` and `"0.1"` as equal, the server would not);
- `tags.K = ''` (a W&B tag) -> `tags`; `tags.wandb.group`, `tags.wandb.job_type` ->
  `group`, `jobType`;
- `attributes.run_id`, `run_name`, `status` -> `name`, `displayName`, `state` (a run
  without a display name is named by its ID in labbook, not on the server);
- `and` sends the parts it can, `or` only when every branch can be sent, `not` and
  LIKE stay client-side, as do keys with dots (W&B reads `a.b` as a nested path,
  while labbook's `a.b` may be a flattened nested key or a key with a dot in it).

A summary value the server holds as text ("0.5") is compared by the server as text:
the one place where sending a metric filter can drop a run labbook would keep.

Histories: `read_series` reads every point with `run.scan_history(keys=[key,
"_timestamp"])`; `read_sampled_series` asks the server for at most `max_points` points
per run with `run.history(samples=N, keys=[key, "_timestamp"])`, for charts that draw a
sample anyway. Both return only the rows holding every key asked for and `_step`;
`_timestamp` is asked for too so a chart can put time on its x axis (the SDK writes it
in every row).
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from ..errors import LabbookError, SourceError, TrackerUnavailable
from ..model import Run, Series
from ..query import And, Comparison, Expr, Not, Or
from .base import Query, Source, check_sample_request
from .wandb_common import (
    GROUP_TAG,
    JOB_TYPE_TAG,
    TIME_KEY,
    config_params,
    import_wandb_module,
    is_metric_key,
    metric_number,
    parse_time,
    run_tags,
    summary_values,
)

# Runs per API page: fewer round trips than wandb's default of 50, pages still small.
PER_PAGE = 100
# Seconds wandb's HTTP client waits for one answer.
DEFAULT_TIMEOUT = 30
HISTORY_PAGE = 1000

_T = TypeVar("_T")
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
# Text the server would compare differently from labbook (which reads it as a number,
# a boolean or None, or as JSON a param may hold).
_NOT_PLAIN_TEXT = frozenset({"true", "false", "none", "null", "nan", "inf", "-inf", "infinity"})


class WandbApiSource(Source):
    """Runs of one W&B project, read through W&B's public API."""

    scheme: ClassVar[str] = "wandb"
    remote: ClassVar[bool] = True
    config_options: ClassVar[frozenset[str] | None] = frozenset({"timeout"})

    def __init__(
        self,
        location: str,
        *,
        name: str | None = None,
        base_dir: Path | None = None,
        api: Any = None,
        timeout: float = DEFAULT_TIMEOUT,
    ):
        super().__init__(location, name=name, base_dir=base_dir)
        parts = [p for p in location.strip().strip("/").split("/") if p]
        if len(parts) != 2:
            raise SourceError(
                f"a W&B API source names ENTITY/PROJECT, not {location!r}",
                source=self.uri,
                hint="write it as wandb:my-team/my-project",
            )
        self.entity, self.project = parts
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise SourceError(
                f"timeout must be a positive number of seconds, not {timeout!r}",
                source=self.uri,
                hint="fix this source's options in mkdocs.yml",
            )
        # `api` stands in for `wandb.Api()` (tests pass a fake); made on first use otherwise.
        self._api = api
        self._timeout = timeout
        self._all: list[Run] | None = None
        self._fetched: dict[str, list[Run]] = {}
        self._runs_by_id: dict[str, Run] = {}
        self._api_runs: dict[str, Any] = {}

    @property
    @property
    def timeout(self) -> float:
        """Gives how long one request to W&B may take, in seconds."""
        return self._timeout

    def path(self) -> str:
        return f"{self.entity}/{self.project}"

    # -- the Source interface ----------------------------------------------------------

    def list_runs(self, experiment: str | None = None) -> list[Run]:
        """Gives every run of the project (none when `experiment` names another project)."""
        if experiment is not None and experiment != self.project:
            return []
        if self._all is None:
            self._all = self._fetch(None)
        return list(self._all)

    def select_runs(self, query: Query) -> list[Run]:
        """Gives the runs the server returns for the part of the filter it can evaluate."""
        if query.experiment is not None and query.experiment != self.project:
            return []
        server = to_wandb_filters(query.expr) if query.expr is not None else None
        return self.list_runs() if server is None else self._fetch(server)

    def get(self, ref: str) -> Run:
        """Gives the run with this ID (asked for directly), or the one run with this prefix."""
        known = self._runs_by_id.get(ref)
        if known is not None:
            return known
        api = self._client()
        try:
            api_run = api.run(f"{self.path}/{ref}")
        except Exception:
            # Not an exact ID (or the server did not answer): look among all runs,
            # which reports an unreachable server as a SourceError.
            api_run = None
        if api_run is not None:
            return self._register(api_run)
        return super().get(ref)

    def read_series(self, run: Run, key: str) -> Series:
        """Gives every logged point of `key` in step order, from `scan_history`."""
        api_run = self._api_run(run)
        rows = self._call(
            f"reading {key!r} of run {run.id}",
            lambda: list(api_run.scan_history(keys=[key, TIME_KEY], page_size=HISTORY_PAGE)),
        )
        return series_from_rows(key, rows)

    def read_sampled_series(
        self,
        runs: Sequence[Run],
        key: str,
        max_points: int,
        *,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> dict[str, Series]:
        """Gives run ID -> at most about `max_points` points of `key`, sampled by W&B.

        A step range is not something `run.history` takes: with one, the base class
        samples full histories instead.
        """
        check_sample_request(max_points, start_step, end_step)
        if start_step is not None:
            return super().read_sampled_series(
                runs, key, max_points, start_step=start_step, end_step=end_step
            )
        out: dict[str, Series] = {}
        for run in runs:
            sample = functools.partial(
                self._api_run(run).history, samples=max_points, keys=[key, TIME_KEY], pandas=False
            )
            rows = self._call(f"reading a sample of {key!r} of run {run.id}", sample)
            out[run.id] = series_from_rows(key, rows)
        return out

    def list_metric_keys(self, run: Run) -> list[str]:
        """Gives the numeric history keys W&B lists for the run, else its summary's numbers."""
        api_run = self._api_runs.get(run.id)
        keys = _history_keys(_attr(api_run, "history_keys")) if api_run is not None else None
        if keys is None:
            return super().list_metric_keys(run)
        return sorted(keys)

    # -- talking to W&B ----------------------------------------------------------------

    def _client(self) -> Any:
        if self._api is None:
            wandb = import_wandb_module("wandb", "the W&B API source (wandb:)")
            self._api = self._call("connecting", lambda: wandb.Api(timeout=self._timeout))
        return self._api

    def _fetch(self, filters: dict[str, Any] | None) -> list[Run]:
        """Gives the project's runs the server returns for a filter (None: all), cached."""
        cache_key = repr(filters)
        if cache_key not in self._fetched:
            api = self._client()
            api_runs = self._call(
                "listing runs",
                lambda: list(
                    api.runs(self.path, filters=filters or {}, per_page=PER_PAGE, lazy=False)
                ),
            )
            self._fetched[cache_key] = [self._register(r) for r in api_runs]
        return list(self._fetched[cache_key])

    def _register(self, api_run: Any) -> Run:
        """Gives the Run for an API run, the same object each time the run comes back."""
        run_id = str(_attr(api_run, "id"))
        self._api_runs[run_id] = api_run
        known = self._runs_by_id.get(run_id)
        if known is not None:
            return known
        run = self._to_run(api_run)
        self._runs_by_id[run_id] = run
        return run

    def _api_run(self, run: Run) -> Any:
        api_run = self._api_runs.get(run.id)
        if api_run is None:
            api = self._client()
            api_run = self._call(f"reading run {run.id}", lambda: api.run(f"{self.path}/{run.id}"))
            self._api_runs[run.id] = api_run
        return api_run

    def _call(self, what: str, action: Callable[[], _T]) -> _T:
        """Gives the action's result; any failure becomes a SourceError naming the URI."""
        try:
            return action()
        except LabbookError:
            raise
        except Exception as exc:
            if _no_answer(exc):
                raise TrackerUnavailable(
                    f"the W&B server did not answer while {what} "
                    f"(timeout {self._timeout:g} s): {_clean_message(exc)}",
                    source=self.uri,
                    hint="check the network and WANDB_BASE_URL",
                ) from None
            raise SourceError(
                f"W&B API error while {what}: {_clean_message(exc)}",
                source=self.uri,
                hint="check WANDB_API_KEY (or `wandb login`), WANDB_BASE_URL and that "
                f"the project {self.path} exists",
            ) from None

    # -- mapping -----------------------------------------------------------------------

    def _to_run(self, api_run: Any) -> Run:
        """Gives labbook's Run for one of the API's run objects."""
        state = _attr(api_run, "state")
        status = str(state).lower() if state else None
        summary = _mapping(_attr(api_run, "summary_metrics"))
        start = parse_time(_attr(api_run, "created_at"))
        end = None
        if status not in (None, "running", "pending"):
            runtime = _runtime(summary)
            if start is not None and runtime is not None:
                end = start + timedelta(seconds=runtime)
            else:
                end = parse_time(_attr(api_run, "heartbeat_at"))
        tags, hidden = run_tags(
            [str(t) for t in _attr(api_run, "tags") or []],
            group=_text(_attr(api_run, "group")),
            job_type=_text(_attr(api_run, "job_type")),
            notes=_text(_attr(api_run, "notes")),
            sweep=_text(_attr(api_run, "sweep_name")),
        )
        return Run(
            id=str(_attr(api_run, "id")),
            source=self.name,
            name=_text(_attr(api_run, "name")) or "",
            experiment=_text(_attr(api_run, "project")) or self.project,
            status=status,
            start_time=start,
            end_time=end,
            params=config_params(_mapping(_attr(api_run, "config"))),
            tags=tags,
            summary=summary_values(summary),
            git_commit=_text(_attr(api_run, "commit")),
            url=_text(_attr(api_run, "url")),
            hidden_tags=hidden,
            reader=self,
        )


# -- mapping helpers -------------------------------------------------------------------------


def _attr(obj: Any, name: str) -> Any:
    """Gives an API run's attribute, None when it has none (wandb raises AttributeError)."""
    try:
        return getattr(obj, name)
    except (AttributeError, KeyError):
        return None


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _mapping(value: Any) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, Mapping) else {}


def _runtime(summary: Mapping[str, Any]) -> float | None:
    """Gives the run's runtime in seconds from its summary (`_wandb.runtime` or `_runtime`)."""
    internal = summary.get("_wandb")
    for value in (
        internal.get("runtime") if isinstance(internal, Mapping) else None,
        summary.get("_runtime"),
    ):
        number = metric_number(value)
        if number is not None and math.isfinite(number):
            return number
    return None


def _history_keys(value: Any) -> list[str] | None:
    """Gives the numeric keys of W&B's `historyKeys` ({"keys": {k: {"typeCounts": …}}})."""
    if not isinstance(value, Mapping) or not isinstance(value.get("keys"), Mapping):
        return None
    keys: list[str] = []
    for key, info in value["keys"].items():
        counts = info.get("typeCounts") if isinstance(info, Mapping) else None
        numeric = isinstance(counts, list) and any(
            isinstance(c, Mapping) and c.get("type") == "number" for c in counts
        )
        if numeric and is_metric_key(str(key)):
            keys.append(str(key))
    return keys


def series_from_rows(key: str, rows: Iterable[Mapping[str, Any]]) -> Series:
    """Gives a Series from W&B history rows: `_step`, `_timestamp` and the key's numbers."""
    steps: list[int] = []
    values: list[float] = []
    times: list[float | None] = []
    for index, row in enumerate(rows):
        number = metric_number(row.get(key))
        if number is None:
            continue  # no point in this row (missing, text, media)
        step = row.get("_step")
        steps.append(int(step) if isinstance(step, int | float) and math.isfinite(step) else index)
        values.append(number)
        times.append(metric_number(row.get("_timestamp")))
    return Series.from_points(key, steps, values, times)


def _no_answer(exc: BaseException) -> bool:
    """Tells whether a failure is the server not answering (timed out, unreachable)."""
    network: tuple[type[BaseException], ...] = (TimeoutError, ConnectionError)
    try:
        import requests  # what wandb's HTTP client raises; installed with wandb

        network += (requests.ConnectionError, requests.Timeout)
    except ImportError:
        pass
    seen: BaseException | None = exc
    for _ in range(5):  # wandb wraps the transport's error; look a few causes down
        if seen is None:
            return False
        if isinstance(seen, network):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _clean_message(exc: BaseException) -> str:
    """Gives an exception's first line, short, with the API key blanked out if it shows."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    key = os.environ.get("WANDB_API_KEY")
    if key:
        text = text.replace(key, "***")
    return text if len(text) <= 300 else text[:299] + "…"


# -- filters -----------------------------------------------------------------------------------

_MONGO_OPS = {"=": "$eq", "!=": "$ne", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}
_ATTRIBUTE_FIELDS = {"run_id": "name", "run_name": "displayName", "status": "state"}
_TAG_FIELDS = {GROUP_TAG: "group", JOB_TYPE_TAG: "jobType"}


def to_wandb_filters(expr: Expr) -> dict[str, Any] | None:
    """Gives a W&B (MongoDB-style) filter every run matching `expr` also matches, or None.

    None means nothing can be sent; the caller lists all runs. The caller always applies
    `expr` itself to what the server returns.
    """
    if isinstance(expr, Comparison):
        return _comparison_filter(expr)
    if isinstance(expr, And):
        parts = [p for p in (to_wandb_filters(item) for item in expr.items) if p is not None]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else {"$and": parts}
    if isinstance(expr, Or):
        branches = [to_wandb_filters(item) for item in expr.items]
        if any(b is None for b in branches):
            return None  # one branch would have to match everything
        return {"$or": branches}
    assert isinstance(expr, Not)
    return None


def _field_condition(op: str, value: Any) -> Any:
    """Gives the MongoDB condition for `op value` (`IN` lists as $in, `NOT IN` as $nin)."""
    if op == "IN":
        return {"$in": list(value)}
    if op == "NOT IN":
        return {"$nin": list(value)}
    if op == "=":
        return value
    return {_MONGO_OPS[op]: value}


def _safe_key(key: str) -> bool:
    """Tells whether a key reads the same as a MongoDB path (no dots, no leading $)."""
    return bool(key) and "." not in key and not key.startswith("$")


def _plain_text(value: object) -> bool:
    """Tells whether a literal is text the server compares as labbook does."""
    if not isinstance(value, str) or not value:
        return False
    text = value.strip()
    return (
        text.lower() not in _NOT_PLAIN_TEXT
        and not _NUMBER.fullmatch(text)
        and not text.startswith(("[", "{"))
    )


def _finite_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _comparison_filter(c: Comparison) -> dict[str, Any] | None:
    kind, key, op, value = c.ident.kind, c.ident.key, c.op, c.value
    values = value if isinstance(value, tuple) else (value,)
    if op in ("LIKE", "ILIKE"):
        return None
    if kind == "metrics":
        if not _safe_key(key) or not all(_finite_number(v) for v in values):
            return None
        return {f"summary_metrics.{key}": _field_condition(op, value)}
    if kind == "params":
        if not _safe_key(key) or op not in ("=", "!=", "IN", "NOT IN"):
            return None
        if not all(_plain_text(v) for v in values):
            return None
        return {f"config.{key}.value": _field_condition(op, value)}
    if kind == "tags":
        if key in _TAG_FIELDS:
            if op not in ("=", "!=", "IN", "NOT IN") or not all(_plain_text(v) for v in values):
                return None
            return {_TAG_FIELDS[key]: _field_condition(op, value)}
        # A W&B tag is a tag with an empty value: `tags.K = ''` asks for runs tagged K.
        if key.startswith("wandb.") or not key:
            return None
        if (op == "=" and value == "") or (op == "IN" and "" in values):
            return {"tags": key}
        return None
    field = _ATTRIBUTE_FIELDS.get(key)
    if field is None or op not in ("=", "!=", "IN", "NOT IN"):
        return None
    if not all(isinstance(v, str) and v for v in values):
        return None
    if key == "status":
        # W&B's states are lower case; labbook compares status without case.
        lowered = tuple(str(v).lower() for v in values)
        value = lowered if isinstance(value, tuple) else lowered[0]
    return {field: _field_condition(op, value)}
