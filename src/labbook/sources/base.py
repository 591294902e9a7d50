"""The interface every source implements, and how a URI picks one.

As MLflow's `AbstractStore` does, `Source` declares every capability a caller may use,
each with a default body built on the two a tracker must implement (`list_runs`,
`read_series`). A tracker overrides a default only where it can do better (read many
series in one request, let its server filter or sample); callers never probe for a
method with `getattr`.

| capability | default |
| --- | --- |
| `list_runs`, `read_series` | required |
| `list_metric_keys` | the summary's numeric keys |
| `select_runs` (the hook `search` calls) | `list_runs` of the experiment |
| `read_many` (bulk series of a run set) | `read_series` per run and key |
| `read_sampled_series` | `read_many`, then a shape-keeping sample |
| `run_dir`, `artifact_path`, `read_artifact` | no folder, no local file; bytes from the file |
| `list_artifacts` (a tracker that lists them on request) | `run.artifacts` as read |
| `watched_paths`, `remote` | nothing to watch, not remote |
| `state_token`, `run_token` (what the run cache trusts) | the watched files' sizes and times; a run's fields and folder |
| `problems`, `close`, `detect` | none, nothing to close, detects nothing |
"""

from __future__ import annotations

import difflib
import inspect
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

import numpy as np

from ..charts import downsample
from ..errors import AmbiguousRun, QueryError, RunDataError, RunNotFound, SourceError
from ..fingerprint import digest, fingerprint
from ..model import Run, RunSet, Series
from ..query import Expr, OrderKey, matches, parse_filter, parse_order_by, sort_runs
from ..registry import load_class, registered
from ..runrecord import run_record

MIN_PREFIX = 6


@dataclass(frozen=True)
class Query:
    """A search, parsed once: the experiment, the filter, the order and the limit asked for."""

    experiment: str | None = None
    filter: str | None = None
    expr: Expr | None = None
    order_by: tuple[str, ...] = ()
    keys: tuple[OrderKey, ...] = ()
    limit: int | None = None

    @classmethod
    def parse(
        cls,
        experiment: str | None = None,
        filter: str | None = None,
        order_by: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> Query:
        """Gives the parsed query; a bad filter, order or limit fails here, before any read."""
        expr = parse_filter(filter) if filter is not None and filter.strip() else None
        keys = tuple(parse_order_by(order_by)) if order_by else ()
        if limit is not None and limit < 0:
            raise QueryError(f"limit must be 0 or more, not {limit}")
        return cls(experiment, filter, expr, tuple(order_by or ()), keys, limit)

    def apply(self, runs: Iterable[Run]) -> list[Run]:
        """Gives the runs that match the filter, ordered (stably), at most `limit` of them."""
        selected = [run for run in runs if matches(self.expr, run)]
        if self.keys:
            selected = sort_runs(selected, self.keys)
        return selected if self.limit is None else selected[: self.limit]


class Source(ABC):
    """A tracker's runs: list them for a query, get one, read its series and files.

    Subclasses implement `list_runs` and `read_series`; every other capability has a
    default built on those two (see the module docstring), overridden where a tracker
    does better.
    """

    scheme: ClassVar[str]
    # True for a tracker reached over the network (a tracking server, the W&B API): it
    # has no file to watch, so a live preview re-reads it on an interval instead.
    remote: ClassVar[bool] = False
    # The constructor keywords mkdocs.yml may set (`{uri: …, timeout: 10}`); None: every
    # keyword-only one. A hook for Python callers (a W&B `api` object) is left out.
    config_options: ClassVar[frozenset[str] | None] = None

    def __init__(self, location: str, *, name: str | None = None, base_dir: Path | None = None):
        self.location = location
        self.name = name or self.scheme
        self.base_dir = base_dir or Path.cwd()

    @property
    def uri(self) -> str:
        return f"{self.scheme}:{self.location}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}={self.uri}>"

    def __enter__(self) -> Source:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- what a tracker implements -------------------------------------------------

    @abstractmethod
    def list_runs(self, experiment: str | None = None) -> list[Run]:
        """Gives every run (of one experiment, by name or ID, when given)."""

    @abstractmethod
    def read_series(self, run: Run, key: str) -> Series:
        """Gives every logged point of one metric of one run, in step order."""

    # -- what a tracker may do better ------------------------------------------------

    def list_metric_keys(self, run: Run) -> list[str]:
        """Gives the metric keys a run logged; by default, its summary's numeric keys."""
        return sorted(k for k, v in run.summary.items() if isinstance(v, int | float))

    def problems(self) -> list[SourceError]:
        """Gives what could not be read (corrupt files, partial runs), each naming its path."""
        return []

    def select_runs(self, query: Query) -> list[Run]:
        """Gives the runs `query` may match, in this source's order; `search` does the rest.

        The default lists the experiment's runs. A tracker that can evaluate part of the
        query (the experiment, some of the filter, the order, a limit) overrides this to
        send it: what it gives must include every run the whole query matches, because
        `search` applies the whole query to it afterwards.
        """
        return self.list_runs(query.experiment)

    def read_many(
        self, runs: Sequence[Run], keys: Sequence[str] | None = None
    ) -> dict[str, dict[str, Series]]:
        """Gives run ID -> key -> every point, for the runs (all their keys when `keys` is None).

        A run that never logged a key gets an empty series. Each series is also kept on
        its Run, so `run.series(key)` answers without reading again. The default reads
        one series at a time (what a run already holds is not read again); a tracker with
        a bulk read overrides it.
        """
        out: dict[str, dict[str, Series]] = {}
        for run in runs:
            wanted = run.metric_keys() if keys is None else keys
            found = out.setdefault(run.id, {})
            for key in wanted:
                if run.reader is self:
                    found[key] = run.series(key)  # read through this source, then kept
                else:
                    found[key] = self.read_series(run, key)
                    run.set_series(found[key])
        return out

    def read_sampled_series(
        self,
        runs: Sequence[Run],
        key: str,
        max_points: int,
        *,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> dict[str, Series]:
        """Gives run ID -> at most `max_points` points of `key` (between the steps, when given).

        For drawing: each run's first and last point stay, and each stretch between keeps
        its lowest and highest value, so spikes survive (min-max, as charts downsample).
        `Run.series` still gives every point. The default samples what `read_many` reads;
        a tracker that samples on its server overrides it.
        """
        check_sample_request(max_points, start_step, end_step)
        full = self.read_many(runs, [key])
        return {
            run_id: sample_series(in_steps(found[key], start_step, end_step), max_points)
            for run_id, found in full.items()
        }

    def run_dir(self, run: Run) -> Path | None:
        """Gives the folder a run was read from, or None (the default: a tracker with none)."""
        return None

    def artifact_path(self, run: Run, artifact: str) -> Path | None:
        """Gives the local file behind one of `run.artifacts`, or None when there is none here."""
        return None

    def list_artifacts(self, run: Run) -> list[str]:
        """Gives the run's artifact paths; a tracker that lists them only on request asks here."""
        return list(run.artifacts)

    def read_artifact(self, run: Run, artifact: str) -> bytes:
        """Gives the bytes of one of `run.artifacts`; by default, read from `artifact_path`."""
        path = self.artifact_path(run, artifact)
        if path is None:
            raise RunDataError(
                f"run {run.ref} has no artifact {artifact!r} this source can read",
                source=self.uri,
                hint="artifacts: " + (", ".join(run.artifacts[:10]) or "none"),
            )
        try:
            return path.read_bytes()
        except OSError as exc:
            raise RunDataError(
                f"cannot read artifact {artifact!r} of run {run.ref}: {exc.strerror}",
                file=path,
                source=self.uri,
            ) from exc

    @property
    def timeout(self) -> float | None:
        """Gives how long one request to the tracker may take, in seconds (None: no tracker)."""
        return None

    def check_available(self) -> None:
        """Raises TrackerUnavailable if the tracker does not answer within its deadline.

        A build asks every source at once before its first use, so dead trackers cost one
        bounded wait together. Sources that read local files have nothing to ask.
        """
        return None

    def watched_paths(self) -> list[Path]:
        """Gives the files and folders whose change means the runs changed ([]: nothing local)."""
        return []

    def state_token(self) -> str | None:
        """Gives a token that changes whenever any run changes; None when that cannot be told cheaply.

        The run cache trusts everything it kept while the token is unchanged. The default
        is every watched file's size and modification time; a source with nothing to
        watch (a tracking server) has none, so it is listed on every build.
        """
        paths = self.watched_paths()
        if self.remote or not paths:
            return None
        return digest(fingerprint(paths))

    def run_token(self, run: Run) -> str | None:
        """Gives a token that changes whenever this run changes (None: never trust a cache of it).

        The default is the run's own fields (status, times, params, tags, summary) and,
        when it has a folder, every file's size and modification time in it.
        """
        folder = self.run_dir(run)
        return digest([run_record(run), fingerprint([folder]) if folder is not None else None])

    def close(self) -> None:
        """Lets go of what the source holds open (a database connection); reading reopens it."""
        return None  # the default holds nothing open

    @classmethod
    def detect(cls, path: Path) -> bool:
        """Tells whether a bare path holds this source's kind of runs (the default: never)."""
        return False

    # -- shared behaviour ------------------------------------------------------------

    def search(
        self,
        experiment: str | None = None,
        filter: str | None = None,
        order_by: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> RunSet:
        """Gives the runs matching an MLflow-style filter, ordered and limited.

        The query is parsed once, so a bad one fails before the tracker is asked;
        `select_runs` lets the tracker narrow what is read, and the whole query is then
        applied here, so every source answers exactly as the filter language says.
        """
        query = Query.parse(experiment, filter, order_by, limit)
        return RunSet(query.apply(self.select_runs(query)))

    def get(self, ref: str) -> Run:
        """Gives the run with this ID, the one whose ID starts with this prefix, or by name."""
        try:
            return find_run(ref, self.list_runs(), where=f"source {self.name!r}")
        except (AmbiguousRun, RunNotFound) as exc:
            exc.source = self.uri
            raise


def check_sample_request(max_points: int, start_step: int | None, end_step: int | None) -> None:
    """Raises ValueError for a sample of no points, or a step range with one end only."""
    if max_points < 1:
        raise ValueError(f"max_points must be at least 1, not {max_points}")
    if (start_step is None) != (end_step is None):
        raise ValueError("give both start_step and end_step, or neither")


def in_steps(series: Series, start_step: int | None, end_step: int | None) -> Series:
    """Gives the points of `series` from start_step to end_step (inclusive); all without them."""
    if start_step is None or end_step is None:
        return series
    mask = (series.steps >= start_step) & (series.steps <= end_step)
    return Series(series.key, series.steps[mask], series.values[mask], series.times[mask])


def sample_series(series: Series, max_points: int) -> Series:
    """Gives at most `max_points` points of `series` that keep its shape (first and last kept).

    Min-max buckets as `charts.downsample` draws them; NaN and infinite points (which a
    chart does not draw) never take a bucket's place. Below 4 points a sample keeps the
    ends only (the last alone for 1).
    """
    n = len(series)
    if n <= max_points:
        return series
    if max_points < 4:
        keep = np.asarray([n - 1] if max_points == 1 else [0, n - 1], dtype=np.int64)
    else:
        values = series.values
        finite = np.isfinite(values)
        if not finite.all():
            # Each non-finite point takes the last finite value before it (the first one for
            # a leading run): it then ties with that point, and argmin/argmax pick the first.
            index = np.where(finite, np.arange(n), 0)
            np.maximum.accumulate(index, out=index)
            first = int(np.argmax(finite)) if finite.any() else 0
            index[: first + 1] = np.where(finite[: first + 1], index[: first + 1], first)
            values = values[index] if finite.any() else np.zeros(n)
        keep = downsample(np.arange(n), values, max_points)
    return Series(series.key, series.steps[keep], series.values[keep], series.times[keep])


def find_run(ref: str, runs: Sequence[Run], where: str | None = None) -> Run:
    """Gives the one run `ref` names among `runs`: exact ID, unique prefix (6+), or exact name.

    Each way is tried in turn and the first that matches anything decides, so an exact ID
    wins over a longer ID it is a prefix of.
    """
    tests: list[Callable[[Run], bool]] = [
        lambda r: r.id == ref,
        lambda r: len(ref) >= MIN_PREFIX and r.id.startswith(ref),
        lambda r: r.name == ref,
    ]
    for test in tests:
        found = [r for r in runs if test(r)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise AmbiguousRun(
                f"run {ref!r} is ambiguous{f' in {where}' if where else ''}: it matches "
                + ", ".join(f"{r.ref} ({r.name})" for r in found[:5]),
                hint="write SOURCE:ID or more characters of the ID",
            )
    starting = [r for r in runs if r.id.startswith(ref)] if ref else []
    if starting and len(ref) < MIN_PREFIX:
        listed = ", ".join(f"{r.id} ({r.name})" if r.name != r.id else r.id for r in starting[:5])
        raise RunNotFound(
            f"no run {ref!r} in {where or 'any source'}: an ID prefix needs at least "
            f"{MIN_PREFIX} characters",
            hint=f"IDs starting with {ref!r}: {listed}",
        )
    raise RunNotFound(f"no run {ref!r} in {where or 'any source'}" + closest_hint(ref, runs))


def closest_hint(ref: str, runs: Sequence[Run], n: int = 3) -> str:
    """Gives ' (closest: …)' naming the IDs and names nearest to `ref`, or ''."""
    candidates: dict[str, str] = {}
    for run in runs:
        candidates[run.id] = run.id
        if run.name and run.name != run.id:
            candidates[run.name] = f"{run.id} ({run.name})"
    near = difflib.get_close_matches(ref, list(candidates), n=n, cutoff=0.4)
    if not near:
        if not runs:
            return " (the source has no runs)"
        some = ", ".join(f"{r.id} ({r.name})" if r.name != r.id else r.id for r in runs[:n])
        return f" (nothing close; {len(runs)} run(s), e.g. {some})"
    return " (closest: " + ", ".join(dict.fromkeys(candidates[c] for c in near)) + ")"


# -- the registry ------------------------------------------------------------------------

# In the order bare-path detection asks them: cheap checks first, the TensorBoard walk last.
_BUILTIN: dict[str, str] = {
    "mlflow+sqlite": "labbook.sources.mlflow_sql:MlflowSqlSource",
    "mlflow": "labbook.sources.mlflow_files:MlflowFileSource",
    "mlflow+file": "labbook.sources.mlflow_files:MlflowFileSource",
    "wandb+offline": "labbook.sources.wandb_offline:WandbOfflineSource",
    "dir": "labbook.sources.localdir:LocalDirSource",
    "tensorboard": "labbook.sources.tensorboard:TensorBoardSource",
    "mlflow+http": "labbook.sources.mlflow_rest:MlflowRestSource",
    "mlflow+https": "labbook.sources.mlflow_rest:MlflowHttpsSource",
    "wandb": "labbook.sources.wandb_api:WandbApiSource",
}


def source_schemes() -> dict[str, str]:
    """Gives scheme -> 'module:Class' for every source, built-in or from entry points."""
    return registered("labbook.sources", _BUILTIN)


def _load_class(target: str) -> type[Source]:
    cls: type[Source] = load_class(target, Source, "source", SourceError)
    return cls


_USERINFO = re.compile(r"(//)[^/@\s]*@")


def redact_uri(uri: str) -> str:
    """Gives a URI with any `user:password@` taken out, fit for an error message."""
    return _USERINFO.sub(r"\1", uri)


def split_uri(uri: str) -> tuple[str | None, str]:
    """Gives (scheme, rest) of a source URI; scheme is None for a bare path."""
    head, sep, rest = uri.partition(":")
    # A Windows drive letter ("C:\\runs") is a path, not a scheme.
    if not sep or len(head) == 1 or "/" in head or "\\" in head:
        return None, uri
    return head, rest


def _source_classes() -> list[tuple[str, str]]:
    """Gives (scheme, 'module:Class') once per class: built-ins first, in detection order."""
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for scheme, target in [*_BUILTIN.items(), *source_schemes().items()]:
        if target not in seen:
            seen.add(target)
            out.append((scheme, target))
    return out


def detect_scheme(path: Path) -> str:
    """Gives the scheme of a bare path from what it holds: the first source whose `detect` says so.

    Built-in sources are asked first (cheap checks before the TensorBoard walk), then
    those from entry points; a path no source claims is a `dir:` folder.
    """
    for scheme, target in _source_classes():
        cls = _load_class(target)
        if cls.detect(path):
            return scheme
    return "dir"


def _check_options(cls: type[Source], options: dict[str, Any], uri: str) -> None:
    """Raises SourceError naming the options the source takes when one of `options` is not one."""
    params = inspect.signature(cls.__init__).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    valid = [
        name
        for name, p in params.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
        and name not in ("name", "base_dir")
        and (cls.config_options is None or name in cls.config_options)
    ]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise SourceError(
            f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
            f"for a {cls.scheme}: source",
            source=redact_uri(uri),
            hint="this source takes " + (", ".join(valid) if valid else "no options"),
        )


def open_source(
    uri: str, *, name: str | None = None, base_dir: Path | str | None = None, **options: Any
) -> Source:
    """Gives the source a URI names (section 3 of the spec); relative paths are from base_dir.

    `options` go to the source's constructor as keywords (e.g. `timeout=10` for a tracking
    server); one the source does not take is a SourceError that lists those it does.
    """
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    scheme, rest = split_uri(uri.strip())
    # A built-in scheme needs no scan of the installed packages' entry points.
    schemes = _BUILTIN if scheme in _BUILTIN else source_schemes()
    if scheme is None:
        path = Path(rest).expanduser()
        if not path.is_absolute():
            path = base / path
        if not path.exists():
            raise SourceError(
                f"source path {redact_uri(rest)!r} does not exist (looked in {path})",
                source=redact_uri(uri),
                hint="check the path in mkdocs.yml's labbook sources; relative paths are "
                "relative to the folder holding mkdocs.yml",
            )
        scheme = detect_scheme(path)
        if scheme == "mlflow+sqlite":
            # The SQL source takes MLflow's own URI form: three slashes, then the path.
            rest = "///" + rest
    if scheme not in schemes:
        known = ", ".join(sorted(schemes))
        raise SourceError(
            f"unknown source scheme {scheme!r} in {redact_uri(uri)!r}",
            source=redact_uri(uri),
            hint=f"known schemes: {known}",
        )
    cls = _load_class(schemes[scheme])
    _check_options(cls, options, uri)
    return cls(rest, name=name, base_dir=base, **options)
