"""The interface every source implements, and how a URI picks one."""

from __future__ import annotations

import difflib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar

from ..errors import AmbiguousRun, RunNotFound, SourceError
from ..model import Run, RunSet, Series

MIN_PREFIX = 6


class Source(ABC):
    """A tracker's runs: list them for a query, get one, read its series.

    Subclasses implement `list_runs` and `read_series`; searching, prefix lookup
    and client-side filtering come from here. A source that can push a filter to
    its tracker overrides `search`.
    """

    scheme: ClassVar[str]

    def __init__(self, location: str, *, name: str | None = None, base_dir: Path | None = None):
        self.location = location
        self.name = name or self.scheme
        self.base_dir = base_dir or Path.cwd()

    @property
    def uri(self) -> str:
        return f"{self.scheme}:{self.location}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}={self.uri}>"

    # -- what a tracker implements -------------------------------------------------

    @abstractmethod
    def list_runs(self, experiment: str | None = None) -> list[Run]:
        """Gives every run (of one experiment, by name or ID, when given)."""

    @abstractmethod
    def read_series(self, run: Run, key: str) -> Series:
        """Gives every logged point of one metric of one run, in step order."""

    def list_metric_keys(self, run: Run) -> list[str]:
        """Gives the metric keys a run logged; by default, its summary's numeric keys."""
        return sorted(k for k, v in run.summary.items() if isinstance(v, int | float))

    def problems(self) -> list[SourceError]:
        """Gives what could not be read (corrupt files, partial runs), each naming its path."""
        return []

    def check_available(self) -> None:
        """Raises TrackerUnavailable if the tracker does not answer within its deadline.

        A build asks every source at once before its first use, so dead trackers cost one
        bounded wait together. Sources that read local files have nothing to ask.
        """
        return None

    # -- shared behaviour ------------------------------------------------------------

    def search(
        self,
        experiment: str | None = None,
        filter: str | None = None,
        order_by: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> RunSet:
        """Gives the runs matching an MLflow-style filter, ordered and limited."""
        from ..query import apply_query

        runs = self.list_runs(experiment)
        return RunSet(apply_query(runs, filter, order_by, limit))

    def get(self, ref: str) -> Run:
        """Gives the run with this ID, the one whose ID starts with this prefix, or by name."""
        try:
            return find_run(ref, self.list_runs(), where=f"source {self.name!r}")
        except (AmbiguousRun, RunNotFound) as exc:
            exc.source = self.uri
            raise


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

_BUILTIN: dict[str, str] = {
    "dir": "labbook.sources.localdir:LocalDirSource",
    "mlflow": "labbook.sources.mlflow_files:MlflowFileSource",
    "mlflow+file": "labbook.sources.mlflow_files:MlflowFileSource",
    "mlflow+sqlite": "labbook.sources.mlflow_sql:MlflowSqlSource",
    "mlflow+http": "labbook.sources.mlflow_rest:MlflowRestSource",
    "mlflow+https": "labbook.sources.mlflow_rest:MlflowHttpsSource",
    "wandb+offline": "labbook.sources.wandb_offline:WandbOfflineSource",
    "wandb": "labbook.sources.wandb_api:WandbApiSource",
    "tensorboard": "labbook.sources.tensorboard:TensorBoardSource",
}


def source_schemes() -> dict[str, str]:
    """Gives scheme -> 'module:Class' for every source, built-in or from entry points."""
    schemes = dict(_BUILTIN)
    for ep in entry_points(group="labbook.sources"):
        schemes[ep.name] = ep.value
    return schemes


def _load_class(target: str) -> type[Source]:
    from importlib import import_module

    module_name, _, attr = target.partition(":")
    try:
        cls = getattr(import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise SourceError(
            f"the source {target} cannot be loaded: {exc}",
            hint="reinstall the package that provides it",
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, Source)):
        raise SourceError(f"{target} is not a labbook Source")
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


def detect_scheme(path: Path) -> str:
    """Gives the scheme of a bare path from what it holds."""
    if path.is_file():
        with path.open("rb") as handle:
            if handle.read(16) == b"SQLite format 3\x00":
                return "mlflow+sqlite"
        return "dir"
    if not path.is_dir():
        return "dir"
    if (path / "0" / "meta.yaml").exists() or any(path.glob("*/meta.yaml")):
        return "mlflow+file"
    if any(path.glob("*/*.wandb")) or any(path.glob("wandb/*/*.wandb")):
        return "wandb+offline"
    if any(path.glob("*/run.json")) or any(path.glob("*/metrics.jsonl")):
        return "dir"
    if any(path.rglob("events.out.tfevents.*")):
        return "tensorboard"
    return "dir"


def open_source(
    uri: str, *, name: str | None = None, base_dir: Path | str | None = None, **options: Any
) -> Source:
    """Gives the source a URI names (section 3 of the spec); relative paths are from base_dir.

    `options` (from mkdocs.yml's `{uri: …, timeout: 10}` form) go to the source's
    constructor; one it does not take is an error naming those it does.
    """
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    scheme, rest = split_uri(uri.strip())
    schemes = source_schemes()
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
    if options:
        import inspect

        taken = [
            p.name
            for p in inspect.signature(cls.__init__).parameters.values()
            if p.kind is p.KEYWORD_ONLY and p.name not in ("name", "base_dir")
        ]
        unknown = sorted(set(options) - set(taken))
        if unknown:
            raise SourceError(
                f"source option {unknown[0]!r} is not taken by {scheme} sources",
                source=redact_uri(uri),
                hint="options it takes: " + (", ".join(taken) or "none"),
            )
    return cls(rest, name=name, base_dir=base, **options)
