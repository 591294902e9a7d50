"""Reads runs from an MLflow tracking server through its REST API (`mlflow+http://host:port`).

Only the standard library talks to the server (urllib, a thread pool), so reading a
tracking server needs neither mlflow nor requests installed. What goes over the wire:

- `experiments/get-by-name`, `experiments/get`, `experiments/search`: an experiment by
  name or ID, or every active one when a query names none; names are looked up once.
- `runs/search` (ACTIVE_ONLY, so deleted runs never show), paged by `page_token`. A
  filter, or the conjuncts of one, that MLflow evaluates exactly as labbook does
  (`query.to_mlflow_filter`) is sent to the server; the rest is evaluated here. Numeric
  order_by keys (metrics, start/end time) are sent too, so a `limit` can stop paging early.
- `runs/get` for a full ID; `attributes.run_id LIKE 'prefix%'` for a prefix.
- `metrics/get-history-bulk` (under `/ajax-api/`, the endpoint MLflow's own UI reads
  charts with) for every point of one metric of up to 100 runs a call. `read_many` uses
  it, and so does `read_series`: the first time a key is asked of a run from a search,
  that key is read for every run of the same search at once. A call stops at 25,000
  points, so when one comes back full only the runs before the last one in it are kept
  (the server sends whole runs, one after another) and the rest are asked again; a run
  that fills a call alone, and every run on a server without the endpoint (HTTP 404),
  is read with `metrics/get-history`, paged.
- `metrics/get-history-bulk-interval` for a chart's sampled series, 100 runs a call.

Requests go through `labbook.formats.http` (retries with backoff inside each request's
deadline, `timeout`, 30 s by default, then `TrackerUnavailable` naming the URI), 8 in
flight at a time by default; this module tells it how MLflow names its credentials and
errors.

Credentials come from the environment on every request, as MLflow reads them:
`MLFLOW_TRACKING_TOKEN` (Bearer) or `MLFLOW_TRACKING_USERNAME`/`MLFLOW_TRACKING_PASSWORD`
(Basic); `MLFLOW_TRACKING_INSECURE_TLS` and `MLFLOW_TRACKING_SERVER_CERT_PATH` for https.
They are never stored on the source, in runs or in error messages.
"""

from __future__ import annotations

import base64
import json
import os
import re
import ssl
import threading
import urllib.parse
import weakref
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..errors import RunDataError, RunNotFound, SourceError
from ..fingerprint import digest
from ..formats.http import HttpStatusError, Json, JsonClient, NotJson, excerpt
from ..model import Run, Scalar, Series
from ..query import And, Expr, OrderKey, matches
from ..query import to_mlflow_filter as _to_mlflow_filter
from .base import MIN_PREFIX, Query, Source, check_sample_request, sample_series
from .mlflow_common import ExperimentInfo, mlflow_run, select_experiments

API_PREFIX = "/api/2.0/mlflow/"
MAX_ARTIFACTS = 2000  # files listed per run; a run logging more is cut (media shows few)
AJAX_PREFIX = "/ajax-api/2.0/mlflow/"  # where MLflow serves get-history-bulk
RUNS_PAGE_SIZE = 1000  # SearchRuns' default page; servers accept it everywhere
EXPERIMENTS_PAGE_SIZE = 1000
HISTORY_PAGE_SIZE = 25000  # MLflow's MAX_RESULTS_GET_METRIC_HISTORY
BULK_MAX_RUNS = 100  # MLflow's MAX_RUNS_GET_METRIC_HISTORY_BULK
BULK_MAX_POINTS = 2500  # MLflow's MAX_RESULTS_PER_RUN for get-history-bulk-interval
# get-history-bulk: MAX_RUN_IDS_PER_REQUEST is 100 (20 on older servers) and the
# answer stops at MAX_HISTORY_RESULTS = 25000 points (the server takes min(asked, 25000)).
HISTORY_BULK_MAX_RUNS = 100
HISTORY_BULK_OLD_MAX_RUNS = 20
HISTORY_BULK_MAX_POINTS = 25000
# Runs of the length seen so far that a call asks, as a share of what one answer holds:
# a full answer's last run may be cut and is read again, so aim a little below.
BULK_FILL = 0.95
# Statuses meaning "no such endpoint here" (older servers, proxies that pass /api only).
NO_ENDPOINT_STATUSES = frozenset({404, 405, 501})
DEFAULT_TIMEOUT = 30.0
DEFAULT_WORKERS = 8

TOKEN_ENV = "MLFLOW_TRACKING_TOKEN"
USERNAME_ENV = "MLFLOW_TRACKING_USERNAME"
PASSWORD_ENV = "MLFLOW_TRACKING_PASSWORD"
INSECURE_TLS_ENV = "MLFLOW_TRACKING_INSECURE_TLS"
SERVER_CERT_ENV = "MLFLOW_TRACKING_SERVER_CERT_PATH"

NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"
INVALID = "INVALID_PARAMETER_VALUE"

_SAFE_PREFIX = re.compile(r"[0-9A-Za-z-]+")


class NotMlflowJson(NotJson):
    """The server answered 200 with something that is not MLflow's JSON (e.g. a web page)."""


class MlflowServerError(HttpStatusError):
    """The server answered a request with an error (4xx other than 401/403, or 5xx to the end)."""


# -- the client: the HTTP transport, told how MLflow names its credentials and errors --------


class _MlflowClient(JsonClient):
    """Calls one MLflow server's REST API, credentialed as MLflow's own client is."""

    service: ClassVar[str] = "the MLflow server"
    user_agent: ClassVar[str] = "labbook (mlflow REST)"
    status_error_class: ClassVar[type[HttpStatusError]] = MlflowServerError

    def get(
        self,
        endpoint: str,
        params: Mapping[str, object] | Sequence[tuple[str, object]],
        *,
        prefix: str = API_PREFIX,
    ) -> Json:
        """Gives the decoded answer to a GET of `endpoint` (under `prefix`) with query parameters."""
        return self.get_json(f"{prefix}{endpoint}", params, endpoint)

    def post(self, endpoint: str, body: Json) -> Json:
        """Gives the decoded answer to a POST of a JSON body to `endpoint`."""
        return self.post_json(f"{API_PREFIX}{endpoint}", body, endpoint)

    def authorization(self) -> str | None:
        """Gives the Authorization header the environment asks for, as MLflow reads it."""
        token = os.environ.get(TOKEN_ENV)
        if token:
            return f"Bearer {token}"
        user, password = os.environ.get(USERNAME_ENV), os.environ.get(PASSWORD_ENV)
        if user and password:
            pair = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            return f"Basic {pair}"
        return None

    def secrets(self) -> list[str]:
        """Gives the token, the password and the Basic pair: never shown in a message."""
        values = [os.environ.get(name) for name in (TOKEN_ENV, PASSWORD_ENV)]
        auth = self.authorization()
        if auth:
            values.append(auth.partition(" ")[2])
        return [v for v in values if v]

    def credentials_hint(self, status: int) -> str:
        """Gives what to set, and what is set (names only), for an authentication failure."""
        if os.environ.get(TOKEN_ENV):
            present = f"{TOKEN_ENV} is set but was refused"
        elif os.environ.get(USERNAME_ENV) and os.environ.get(PASSWORD_ENV):
            present = f"{USERNAME_ENV}/{PASSWORD_ENV} are set but were refused"
        else:
            present = "no credentials are set"
        hint = (
            f"Set {TOKEN_ENV}, or {USERNAME_ENV} and {PASSWORD_ENV}, in the environment "
            f"labbook runs in ({present})"
        )
        if status == 403:
            hint += "; or the user lacks READ permission on the experiment"
        return hint

    def tls_context(self) -> ssl.SSLContext:
        """Gives the TLS context MLflow's own client would use under the same environment."""
        context = ssl.create_default_context(cafile=os.environ.get(SERVER_CERT_ENV) or None)
        if _truthy(os.environ.get(INSECURE_TLS_ENV)):
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def tls_hint(self) -> str:
        return (
            f"Point {SERVER_CERT_ENV} at its CA bundle, or set "
            f"{INSECURE_TLS_ENV}=true to skip verification"
        )

    def error_fields(self, body: bytes) -> tuple[str | None, str]:
        """Gives MLflow's (error_code, message) from an error body, or (None, its short text)."""
        try:
            decoded = json.loads(body)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict) and ("error_code" in decoded or "message" in decoded):
            return (
                str(decoded["error_code"]) if decoded.get("error_code") else None,
                str(decoded.get("message") or ""),
            )
        # Not MLflow's JSON (a proxy's or framework's page): keep a short, tag-free excerpt.
        return None, excerpt(body)

    def not_json(self, endpoint: str) -> NotMlflowJson:
        return NotMlflowJson(
            f"the answer to {endpoint} is not MLflow's JSON",
            source=self.uri,
            hint="Check that the URI points at an MLflow tracking server "
            "(the address `mlflow server` prints)",
        )

    def status_error(
        self, endpoint: str, status: int, code: str | None, message: str
    ) -> HttpStatusError:
        if status == 404 and code is None:
            return MlflowServerError(
                f"the server has no {endpoint} endpoint (HTTP 404)",
                status=status,
                code=code,
                source=self.uri,
                hint="Check that the URI points at an MLflow tracking server; "
                "an older MLflow may lack this endpoint",
            )
        return super().status_error(endpoint, status, code, message)


def _positive(value: object) -> bool:
    """Tells whether an option is a positive number (a boolean is not one)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


# -- mapping -------------------------------------------------------------------------------


def _number(value: object) -> float:
    """Gives a metric value as a float; MLflow's JSON writes NaN and infinities as strings."""
    if isinstance(value, int | float | str):
        try:
            return float(value)
        except ValueError:
            pass
    return float("nan")


def _pairs(items: object) -> dict[str, str]:
    """Gives MLflow's [{"key": k, "value": v}, ...] as a dict."""
    if not isinstance(items, list):
        return {}
    return {
        str(item["key"]): str(item.get("value", ""))
        for item in items
        if isinstance(item, dict) and "key" in item
    }


def _series(key: str, points: Iterable[Json]) -> Series:
    """Gives a Series from MLflow metric points: step order, ties kept in timestamp order."""
    listed = list(points)
    steps = np.fromiter((int(p.get("step", 0)) for p in listed), dtype=np.int64, count=len(listed))
    values = np.fromiter((_number(p.get("value")) for p in listed), np.float64, len(listed))
    millis = np.fromiter(
        (float(p["timestamp"]) if "timestamp" in p else np.nan for p in listed),
        np.float64,
        len(listed),
    )
    order = np.lexsort((millis, steps))  # stable: steps, then timestamps, then server order
    return Series(key, steps[order], values[order], millis[order] / 1000.0)


# -- queries the server can take -----------------------------------------------------------


def _server_filter(expr: Expr | None) -> tuple[str | None, bool]:
    """Gives (the filter MLflow can take, whether it is the whole filter).

    For an `and` with some conjuncts MLflow cannot evaluate like labbook, the others still
    go to the server: they select a superset, and labbook evaluates the whole filter after.
    """
    if expr is None:
        return None, True
    whole = _to_mlflow_filter(expr)
    if whole is not None:
        return whole, True
    if isinstance(expr, And):
        parts = [text for item in expr.items if (text := _to_mlflow_filter(item)) is not None]
        if parts:
            return " AND ".join(parts), False
    return None, False


def _server_order(keys: Sequence[OrderKey]) -> list[str] | None:
    """Gives the order_by MLflow sorts exactly as labbook does, or None.

    Only numeric columns qualify: MLflow puts NaN and missing metrics last in both
    directions as labbook does, and breaks ties by start time (newest first) then run ID,
    its default order, which is the order labbook keeps ties in. Params, tags and names
    sort as text there (and by the database's collation), so they are sorted here.
    """
    out: list[str] = []
    for key in keys:
        kind, _, name = key.column.partition(".")
        if kind == "metrics":
            if re.search(r"[`\"'\\]", name):
                return None
            column = f"metrics.`{name}`"
        elif kind == "attributes" and name in ("start_time", "end_time"):
            column = f"attributes.{name}"
        else:
            return None
        out.append(f"{column} {'ASC' if key.ascending else 'DESC'}")
    return out


# -- the source ----------------------------------------------------------------------------


class _Siblings:
    """The runs one search gave: a history asked of one of them is read for all at once."""

    def __init__(self, runs: Sequence[Run]) -> None:
        self._runs = [weakref.ref(run) for run in runs]
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        # key -> run ID -> the series read in bulk, kept until that run asks for it.
        self.ready: dict[str, dict[str, Series]] = {}

    def runs(self) -> list[Run]:
        """Gives the runs still in use."""
        return [run for ref in self._runs if (run := ref()) is not None]

    def lock(self, key: str) -> threading.Lock:
        """Gives the lock that makes one thread read `key` while the others wait for it."""
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())


class MlflowRestSource(Source):
    """Runs on an MLflow tracking server, read through its REST API."""

    scheme: ClassVar[str] = "mlflow+http"
    remote: ClassVar[bool] = True

    def __init__(
        self,
        location: str,
        *,
        name: str | None = None,
        base_dir: Path | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        page_size: int = RUNS_PAGE_SIZE,
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        web_scheme = self.scheme.partition("+")[2]
        parts = urllib.parse.urlsplit(f"{web_scheme}:{location}")
        if parts.username is not None or parts.password is not None:
            # Rebuild the URI without the user part so no message can echo it.
            shown = location.replace(f"{parts.netloc.rpartition('@')[0]}@", "")
            raise SourceError(
                "credentials in the URI are not read",
                source=f"{self.scheme}:{shown}",
                hint=f"Remove them and set {TOKEN_ENV}, or {USERNAME_ENV} and {PASSWORD_ENV}",
            )
        super().__init__(location, name=name, base_dir=base_dir)
        if not parts.hostname:
            raise SourceError(
                "no host in the MLflow server URI",
                source=self.uri,
                hint=f"Write it as {self.scheme}://HOST:PORT, e.g. {self.scheme}://127.0.0.1:5000",
            )
        if not (_positive(timeout) and _positive(page_size) and _positive(workers)):
            raise SourceError(
                f"timeout ({timeout}), page_size ({page_size}) and workers ({workers}) "
                "must be positive",
                source=self.uri,
                hint="fix this source's options in mkdocs.yml",
            )
        self.base_url = f"{web_scheme}://{parts.netloc}{parts.path}".rstrip("/")
        self.page_size = page_size
        self._client = _MlflowClient(self.base_url, self.uri, timeout=timeout, workers=workers)
        # Experiment ID -> name, filled as experiments are met, so each is looked up once.
        self._experiment_names: dict[str, str] = {}
        self._latest: dict[str, list[list[object]]] = {}  # run ID -> [key, step, timestamp]
        # What an `experiment:` value (name or ID) resolved to.
        self._resolved: dict[str, str] = {}
        # Run -> the runs of the search that gave it, for reading a key for all of them.
        self._siblings: weakref.WeakKeyDictionary[Run, _Siblings] = weakref.WeakKeyDictionary()
        # Runs per get-history-bulk call: 20 on old servers, 0 once a server lacks it.
        self._bulk_runs = HISTORY_BULK_MAX_RUNS

    @property
    def timeout(self) -> float:
        return self._client.timeout

    def check_available(self) -> None:
        """Raises TrackerUnavailable unless the server answers one small request in time."""
        self._client.post("experiments/search", {"max_results": 1, "view_type": "ACTIVE_ONLY"})

    # -- experiments -----------------------------------------------------------------------

    def _list_experiments(self) -> dict[str, str]:
        """Gives ID -> name of every active experiment.

        Asked on every query that names no experiment (one cheap request), so a long-lived
        source (`mkdocs serve`) sees experiments created since it started.
        """
        listed: dict[str, str] = {}
        token: str | None = None
        while True:
            body: Json = {"max_results": EXPERIMENTS_PAGE_SIZE, "view_type": "ACTIVE_ONLY"}
            if token:
                body["page_token"] = token
            answer = self._client.post("experiments/search", body)
            for experiment in answer.get("experiments", []):
                experiment_id = self._remember(experiment)
                listed[experiment_id] = self._experiment_names[experiment_id]
            token = answer.get("next_page_token") or None
            if not token:
                return listed

    def _remember(self, experiment: Json) -> str:
        """Gives the ID of an experiment record, keeping its name for the runs that follow."""
        experiment_id = str(experiment.get("experiment_id", ""))
        self._experiment_names[experiment_id] = str(experiment.get("name") or experiment_id)
        return experiment_id

    def _find_experiment(self, experiment: str) -> Json | None:
        """Gives the server's experiment record for a name or an ID, or None."""
        lookups = (
            ("experiments/get-by-name", {"experiment_name": experiment}),
            ("experiments/get", {"experiment_id": experiment}),
        )
        for endpoint, params in lookups:
            try:
                found = self._client.get(endpoint, params).get("experiment")
            except MlflowServerError as err:
                # A name that is no number makes some stores answer INVALID for get-by-ID.
                if err.code in (NOT_FOUND, INVALID) or err.status in (400, 404):
                    continue
                raise
            if isinstance(found, dict):
                return found
        return None

    def _experiment_id(self, experiment: str) -> str:
        """Gives the ID of an experiment named by name or ID; unknown ones are an error."""
        if experiment in self._resolved:
            return self._resolved[experiment]
        found = self._find_experiment(experiment)
        if found is None:
            # Worded as the file and SQLite stores word it, listing the known experiments.
            listed = [ExperimentInfo(i, n) for i, n in self._list_experiments().items()]
            chosen = select_experiments(listed, experiment, source=self.uri, include_deleted=False)
            found = {"experiment_id": chosen[0].id, "name": chosen[0].name}
        if found.get("lifecycle_stage") == "deleted":
            raise SourceError(
                f"experiment {experiment!r} is deleted on the MLflow server",
                source=self.uri,
                hint="Restore it (mlflow experiments restore) or name another experiment",
            )
        self._resolved[experiment] = self._remember(found)
        return self._resolved[experiment]

    def _experiment_name(self, experiment_id: str) -> str | None:
        """Gives an experiment's name, asking the server only the first time."""
        if experiment_id not in self._experiment_names and experiment_id:
            try:
                found = self._client.get("experiments/get", {"experiment_id": experiment_id})
            except MlflowServerError:
                return None  # the name is a nicety; the run is still readable
            if isinstance(found.get("experiment"), dict):
                self._remember(found["experiment"])
        return self._experiment_names.get(experiment_id)

    def _experiment_ids(self, experiment: str | None) -> list[str]:
        if experiment is None:
            return list(self._list_experiments())
        return [self._experiment_id(str(experiment))]

    # -- runs --------------------------------------------------------------------------------

    def run_token(self, run: Run) -> str | None:
        """Gives the run's fields with each latest metric's step and timestamp, as listed."""
        return digest([super().run_token(run), self._latest.get(run.id)])

    def _to_run(self, raw: Json) -> Run:
        """Gives a labbook Run from a runs/search or runs/get record."""
        info = raw.get("info") or {}
        data = raw.get("data") or {}
        experiment_id = str(info.get("experiment_id", ""))
        summary: dict[str, Scalar] = {
            str(m["key"]): _number(m.get("value"))
            for m in data.get("metrics") or []
            if isinstance(m, dict) and "key" in m
        }
        run_id = str(info.get("run_id") or info.get("run_uuid"))
        # Each latest metric's step and timestamp: a point logged since changes them even
        # when the value comes out the same (what the run cache's token looks at).
        self._latest[run_id] = sorted(
            [str(m["key"]), m.get("step"), m.get("timestamp")]
            for m in data.get("metrics") or []
            if isinstance(m, dict) and "key" in m
        )
        return mlflow_run(
            source=self.name,
            run_id=run_id,
            experiment_id=experiment_id,
            experiment_name=self._experiment_name(experiment_id),
            run_name=info.get("run_name"),
            status=info.get("status"),
            start_time_ms=info.get("start_time"),
            end_time_ms=info.get("end_time"),
            params=_pairs(data.get("params")),
            tags=_pairs(data.get("tags")),
            summary=summary,
            url_base=self.base_url,
            reader=self,
        )

    def _search_runs(
        self,
        experiment_ids: list[str],
        server_filter: str | None,
        server_order: list[str],
        *,
        enough: int | None = None,
        expr: Expr | None = None,
    ) -> list[Run]:
        """Gives the active runs the server selects, in its order, paging until the end.

        With `enough`, paging stops once that many runs satisfy `expr`: the caller knows
        the server's order is the final one.
        """
        if not experiment_ids:
            return []
        runs: list[Run] = []
        hits = 0
        token: str | None = None
        page = self.page_size if enough is None else max(1, min(self.page_size, enough))
        while True:
            body: Json = {
                "experiment_ids": experiment_ids,
                "run_view_type": "ACTIVE_ONLY",
                "max_results": page,
            }
            if server_filter:
                body["filter"] = server_filter
            if server_order:
                body["order_by"] = server_order
            if token:
                body["page_token"] = token
            answer = self._client.post("runs/search", body)
            for raw in answer.get("runs", []):
                run = self._to_run(raw)
                runs.append(run)
                hits += matches(expr, run)
            token = answer.get("next_page_token") or None
            if not token or (enough is not None and hits >= enough):
                return runs

    def list_runs(self, experiment: str | None = None) -> list[Run]:
        """Gives every active run (of one experiment, by name or ID, when given)."""
        return self._search_runs(self._experiment_ids(experiment), None, [])

    def select_runs(self, query: Query) -> list[Run]:
        """Gives the runs the server selects for what it can evaluate exactly of the query.

        The filter (or the conjuncts of it) `query.to_mlflow_filter` can write and numeric
        order_by keys go to the server; `search` then applies the whole query to what
        comes back, so the answer is the one labbook's own evaluation gives over all runs.
        """
        experiment_ids = self._experiment_ids(query.experiment)
        if query.limit == 0:
            return []
        server_filter, _ = _server_filter(query.expr)
        server_order = _server_order(query.keys) if query.keys else []
        # The server's order is the final one when there is no order_by (labbook keeps the
        # source's order) or when order_by went to the server; then a limit stops paging.
        enough = query.limit if server_order is not None else None
        try:
            runs = self._search_runs(
                experiment_ids, server_filter, server_order or [], enough=enough, expr=query.expr
            )
        except MlflowServerError as err:
            if err.status != 400 or not (server_filter or server_order):
                raise
            # A server older or stricter than labbook expects: evaluate everything here.
            runs = self._search_runs(
                experiment_ids,
                None,
                [],
                enough=None if query.keys else query.limit,
                expr=query.expr,
            )
        if len(runs) > 1:
            # The runs the query drops are let go of at once (the siblings hold weak refs).
            siblings = _Siblings(runs)
            for run in runs:
                self._siblings[run] = siblings
        return runs

    def get(self, ref: str) -> Run:
        """Gives the run with this ID, or the one active run whose ID starts with this prefix."""
        try:
            raw = self._client.get("runs/get", {"run_id": ref}).get("run")
        except MlflowServerError as err:
            if err.code not in (NOT_FOUND, INVALID) and err.status not in (400, 404):
                raise
            raw = None
        if isinstance(raw, dict):
            if (raw.get("info") or {}).get("lifecycle_stage") == "deleted":
                raise RunNotFound(
                    f"run {ref!r} is deleted in source {self.name!r}",
                    source=self.uri,
                    hint="Restore it in MLflow (mlflow runs restore) or refer to another run",
                )
            return self._to_run(raw)
        if len(ref) >= MIN_PREFIX and _SAFE_PREFIX.fullmatch(ref):
            try:
                candidates = self._search_runs(
                    self._experiment_ids(None), f"attributes.run_id LIKE '{ref}%'", []
                )
            except MlflowServerError:
                candidates = []  # a server without LIKE on run_id: list everything below
            # LIKE's `_` and case rules differ between databases: check the prefix here.
            hits = [run for run in candidates if run.id.startswith(ref)]
            if len(hits) == 1:
                return hits[0]
        # Ambiguous or unknown: the base class lists the runs and names the closest ones.
        return super().get(ref)

    # -- series ------------------------------------------------------------------------------

    def read_series(self, run: Run, key: str) -> Series:
        """Gives every logged point of one metric of one run, in step order (ties by time).

        For a run from a search, the first time a key is asked of any run of that search
        it is read for all of them in bulk: a chart asks every run the same keys.
        """
        siblings = self._siblings.get(run)
        if siblings is not None:
            with siblings.lock(key):
                if key not in siblings.ready:
                    siblings.ready[key] = self._read_histories(siblings.runs(), key)
                series = siblings.ready[key].pop(run.id, None)
            if series is not None:
                return series
        return _series(key, self._history(run.id, key))

    def read_many(
        self, runs: Sequence[Run], keys: Sequence[str] | None = None
    ) -> dict[str, dict[str, Series]]:
        """Gives run ID -> key -> every point, for the runs (all their keys when `keys` is None).

        Read in bulk: get-history-bulk calls, 100 runs a call, several in flight. Each series
        is kept on its run (`Run.set_series`), so `run.series(key)` answers without a request.
        """
        wanted = [(run, run.metric_keys() if keys is None else list(keys)) for run in runs]
        ids: dict[str, dict[str, None]] = {}  # key -> run IDs, each once, in order
        for run, run_keys in wanted:
            for key in run_keys:
                ids.setdefault(key, {})[run.id] = None
        points = self._read_points([(key, list(run_ids)) for key, run_ids in ids.items()])
        out: dict[str, dict[str, Series]] = {}
        for run, run_keys in wanted:
            found = out.setdefault(run.id, {})
            for key in run_keys:
                found[key] = _series(key, points[key, run.id])
                run.set_series(found[key])
        return out

    def _read_histories(self, runs: Sequence[Run], key: str) -> dict[str, Series]:
        """Gives run ID -> every point of `key`, for several runs at once."""
        ids = list(dict.fromkeys(run.id for run in runs))
        points = self._read_points([(key, ids)])
        return {run_id: _series(key, points[key, run_id]) for run_id in ids}

    def _read_points(
        self, wanted: Sequence[tuple[str, list[str]]]
    ) -> dict[tuple[str, str], list[Json]]:
        """Gives (key, run ID) -> every point MLflow holds, for each key and its runs.

        get-history-bulk calls, in parallel, 100 runs each; what they cannot give (a run
        that fills a call alone, a server without the endpoint) is read with get-history.
        """
        tasks = [
            (key, run_ids[i : i + HISTORY_BULK_MAX_RUNS])
            for key, run_ids in wanted
            for i in range(0, len(run_ids), HISTORY_BULK_MAX_RUNS)
        ]
        found: dict[tuple[str, str], list[Json]] = {}
        rest: list[tuple[str, str]] = []
        for (key, _), (read, unread) in zip(
            tasks, self._client.parallel(lambda task: self._bulk_history(*task), tasks), strict=True
        ):
            found.update(((key, run_id), points) for run_id, points in read.items())
            rest += [(key, run_id) for run_id in unread]
        histories = self._client.parallel(lambda pair: self._history(pair[1], pair[0]), rest)
        found.update(zip(rest, histories, strict=True))
        return found

    def _bulk_history(
        self, key: str, run_ids: list[str]
    ) -> tuple[dict[str, list[Json]], list[str]]:
        """Gives (run ID -> every point of `key`, the runs left for get-history).

        The server sends whole runs one after another and stops at max_results points. An
        answer shorter than that is complete; a full one is complete for every run in it
        but the last, which may be cut, so that run and the ones not in the answer are
        asked again. A run that fills a call alone is left for get-history's paging.
        Once some runs are read, a call asks as many runs as should fit in one answer.
        """
        read: dict[str, list[Json]] = {}
        unread: list[str] = []
        pending = list(run_ids)
        points_read = 0
        while pending and self._bulk_runs:
            size = self._bulk_runs
            if points_read:
                fit = BULK_FILL * HISTORY_BULK_MAX_POINTS * len(read) / points_read
                size = max(1, min(size, int(fit)))
            batch = pending[:size]
            params: list[tuple[str, object]] = [("run_id", run_id) for run_id in batch]
            params += [("metric_key", key), ("max_results", HISTORY_BULK_MAX_POINTS)]
            try:
                answer = self._client.get("metrics/get-history-bulk", params, prefix=AJAX_PREFIX)
            except NotMlflowJson:
                self._bulk_runs = 0  # a web page where the endpoint should be
                break
            except MlflowServerError as err:
                if err.status in NO_ENDPOINT_STATUSES:
                    self._bulk_runs = 0  # an older server, or a proxy passing /api only
                    break
                if err.status == 400 and len(batch) > HISTORY_BULK_OLD_MAX_RUNS:
                    self._bulk_runs = HISTORY_BULK_OLD_MAX_RUNS  # older servers take 20
                    continue
                raise
            points = [p for p in answer.get("metrics", []) if isinstance(p, dict)]
            by_run: dict[str, list[Json]] = {}
            for point in points:
                by_run.setdefault(str(point.get("run_id")), []).append(point)
            seen = list(by_run)
            switches = sum(a.get("run_id") != b.get("run_id") for a, b in pairwise(points))
            if switches != max(len(seen) - 1, 0) or not set(seen) <= set(batch):
                # Not the shape MLflow sends (runs one after another, only those asked).
                done, unread = [], unread + batch
            elif len(points) < HISTORY_BULK_MAX_POINTS:
                done = batch
            elif len(seen) == 1:
                done, unread = [], [*unread, seen[0]]
            else:
                done = seen[:-1]
            for run_id in done:
                read[run_id] = by_run.get(run_id, [])
                points_read += len(read[run_id])
            left = set(unread)
            pending = [run_id for run_id in pending if run_id not in read and run_id not in left]
        return read, unread + pending

    def _history(self, run_id: str, key: str) -> list[Json]:
        """Gives every point of one metric of one run, paging through get-history."""
        points: list[Json] = []
        token: str | None = None
        while True:
            params: dict[str, object] = {
                "run_id": run_id,
                "metric_key": key,
                "max_results": HISTORY_PAGE_SIZE,
            }
            if token:
                params["page_token"] = token
            answer = self._client.get("metrics/get-history", params)
            points.extend(p for p in answer.get("metrics", []) if isinstance(p, dict))
            token = answer.get("next_page_token") or None
            if not token:
                return points

    def read_sampled_series(
        self,
        runs: Sequence[Run],
        key: str,
        max_points: int,
        *,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> dict[str, Series]:
        """Gives run ID -> at most `max_points` points of `key`, sampled by the server.

        get-history-bulk-interval, 100 runs a call; the first and last point of each run are
        kept. Above the server's 2,500-point cap, and on servers older than MLflow 2.11, the
        base class samples full histories instead. The sample is for drawing; `Run.series`
        still gives every point.
        """
        check_sample_request(max_points, start_step, end_step)
        ids = list(dict.fromkeys(run.id for run in runs))
        if not ids:
            return {}
        if max_points > BULK_MAX_POINTS:
            return super().read_sampled_series(
                runs, key, max_points, start_step=start_step, end_step=end_step
            )
        batches = [ids[i : i + BULK_MAX_RUNS] for i in range(0, len(ids), BULK_MAX_RUNS)]

        def fetch(batch: list[str]) -> list[Json]:
            params: list[tuple[str, object]] = [("run_ids", run_id) for run_id in batch]
            params += [("metric_key", key), ("max_results", max_points)]
            if start_step is not None and end_step is not None:
                params += [("start_step", start_step), ("end_step", end_step)]
            answer = self._client.get("metrics/get-history-bulk-interval", params)
            return [p for p in answer.get("metrics", []) if isinstance(p, dict)]

        try:
            answers = self._client.parallel(fetch, batches)
        except MlflowServerError as err:
            if err.status != 404 or err.code is not None:
                raise
            # An MLflow older than 2.11 has no bulk-interval endpoint.
            return super().read_sampled_series(
                runs, key, max_points, start_step=start_step, end_step=end_step
            )
        by_run: dict[str, list[Json]] = {run_id: [] for run_id in ids}
        for points in answers:
            for point in points:
                by_run.setdefault(str(point.get("run_id")), []).append(point)
        # File-store servers add every run's first and last step to the sample, which can
        # exceed max_points; trim, keeping the shape, so the promise holds on any server.
        return {run_id: sample_series(_series(key, by_run[run_id]), max_points) for run_id in ids}

    # -- artifacts: listed and read through the server, which proxies its artifact store --

    def list_artifacts(self, run: Run) -> list[str]:
        """Gives the run's artifact files, walking the server's `artifacts/list` folders."""
        if run.artifacts:
            return list(run.artifacts)
        found: list[str] = []
        folders = [""]
        while folders and len(found) < MAX_ARTIFACTS:
            folder = folders.pop(0)
            params = {"run_id": run.id, **({"path": folder} if folder else {})}
            answer = self._client.get("artifacts/list", params)
            for item in answer.get("files") or []:
                if not isinstance(item, dict) or not isinstance(item.get("path"), str):
                    continue
                (folders if item.get("is_dir") else found).append(item["path"])
        run.artifacts = sorted(found)
        return list(run.artifacts)

    def read_artifact(self, run: Run, artifact: str) -> bytes:
        """Gives an artifact's bytes from the server (`get-artifact`, as MLflow's UI reads it)."""
        if artifact not in self.list_artifacts(run):
            raise RunDataError(
                f"run {run.ref} has no artifact {artifact!r}",
                source=self.uri,
                hint="artifacts: " + (", ".join(run.artifacts[:10]) or "none"),
            )
        return self._client.get_bytes(
            "/get-artifact", {"path": artifact, "run_uuid": run.id}, "get-artifact"
        )


class MlflowHttpsSource(MlflowRestSource):
    """Runs on an MLflow tracking server behind https (`mlflow+https://host`)."""

    scheme: ClassVar[str] = "mlflow+https"
