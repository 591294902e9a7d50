"""Gives the runs a report names: run references, named run sets and inline queries."""

from __future__ import annotations

import difflib
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from ..errors import (
    LabbookError,
    NotInSnapshot,
    ReportError,
    RunNotFound,
    SourceError,
    TrackerUnavailable,
    at_place,
)
from ..model import Run, RunSet, column_value, missing_key_hint
from ..progress import advance, timed
from ..query import Comparison, Expr, Not, parse_filter
from ..snapshots import QueryKey, SourceSnapshot
from ..sources.base import Source, find_run

_T = TypeVar("_T")

QUERY_KEYS = frozenset({"source", "experiment", "filter", "order_by", "limit"})

# How a build treats snapshots: use them where they answer (the default), read every
# tracker again (`--refresh`, and `labbook freeze`), or never touch a tracker (`--offline`).
DATA_MODES = ("prefer", "refresh", "offline")
QUERY_PARTS = ("experiment", "filter", "order_by", "limit")


class UnresolvedRunSet(RunSet):
    """A named run set whose query or references failed: using it raises why.

    An empty set would draw empty charts and print blanks; this one makes every block and
    expression that uses it an error box naming the set and its cause.
    """

    def __init__(self, name: str, error: LabbookError) -> None:
        super().__init__(name=name)
        self.error = error

    def problem(self) -> LabbookError:
        """Gives the error a use of this set raises, following from the set's own."""
        cause = self.error.root
        where = f" (front matter, line {self.error.line})" if self.error.line else ""
        return ReportError(
            f"run set {self.name!r} could not be resolved{where}: {cause.message}",
            hint=cause.hint,
        ).because(self.error)

    def __iter__(self) -> Iterator[Run]:
        raise self.problem()

    def __len__(self) -> int:
        raise self.problem()

    def __bool__(self) -> bool:
        raise self.problem()

    def values(self, key: str) -> list[Any]:
        raise self.problem()

    def best(self, key: str, mode: str | None = None) -> Run | None:
        raise self.problem()

    def mean(self, key: str) -> float | None:
        raise self.problem()

    def std(self, key: str) -> float | None:
        raise self.problem()

    @property
    def ids(self) -> list[str]:
        raise self.problem()


class Resolver:
    """Resolves references against a project's sources; one per report build."""

    def __init__(
        self,
        sources: Mapping[str, Source],
        default_source: str | None = None,
        failed: Mapping[str, LabbookError] | None = None,
        *,
        snapshots: Mapping[str, SourceSnapshot] | None = None,
        mode: str = "prefer",
    ):
        if mode not in DATA_MODES:
            raise ValueError(f"mode must be one of {', '.join(DATA_MODES)}, not {mode!r}")
        self.mode = mode
        self.snapshots = dict(snapshots or {})
        for name, snapshot in self.snapshots.items():
            snapshot.fallback = None if mode == "offline" else self._live_series(name)
        # Run ref -> when its frozen data was read, for every run a snapshot gave.
        self.frozen_at: dict[str, datetime | None] = {}
        # `labbook freeze` keeps what blocks listed and read of each run's artifacts.
        self.recording = False
        self.listed_artifacts: dict[str, list[str]] = {}
        self.read_artifacts: dict[str, dict[str, bytes]] = {}
        self.sources = dict(sources)
        self.default_source = default_source or next(iter(self.sources), None)
        # Sources that would not open, or whose tracker did not answer in time: every
        # later use in this build fails at once with the same problem.
        self.unusable: dict[str, LabbookError] = dict(failed or {})
        self._all: dict[str, list[Run]] = {}
        self.problems: list[SourceError] = []
        self._probes: dict[str, threading.Thread] = {}
        # One Run object per run for the whole build, so a series read for one block or
        # report is not read again for the next; and each query or reference asked once.
        self._canonical: dict[str, Run] = {}
        self._queries: dict[tuple[Any, ...], RunSet] = {}
        self._refs: dict[str, Run] = {}

    def _keep(self, run: Run) -> Run:
        return self._canonical.setdefault(run.ref, run)

    # -- sources that may not answer ---------------------------------------------------------

    def open_all(self) -> None:
        """Starts asking every source whether its tracker answers, all at once.

        Each probe is bounded by its source's deadline; a first use of a source waits
        for its own probe only, so two dead trackers cost one deadline together, and a
        dead tracker no report uses costs nothing but a warning.
        """
        if self.mode == "offline":
            return  # no tracker is asked anything
        for name, source in self.sources.items():
            if name in self._probes or name in self.unusable:
                continue
            thread = threading.Thread(
                target=self._probe, args=(name, source), name=f"labbook-probe-{name}", daemon=True
            )
            self._probes[name] = thread
            thread.start()

    def _deadline(self, name: str) -> float:
        return self.sources[name].timeout or 0.0

    def _probe(self, name: str, source: Source) -> None:
        try:
            source.check_available()
        except TrackerUnavailable as exc:
            self._mark_unusable(name, exc)
        except LabbookError:
            pass  # other problems (credentials, bad data) show where the source is used

    def _mark_unusable(self, name: str, exc: LabbookError) -> None:
        if name not in self.unusable:
            self.unusable[name] = exc
            if isinstance(exc, SourceError):
                self.problems.append(exc)

    def _unusable_error(self, name: str) -> LabbookError:
        cause = self.unusable[name]
        kind = TrackerUnavailable if isinstance(cause, TrackerUnavailable) else SourceError
        return kind(
            f"source {name!r}{f' ({cause.source})' if cause.source else ''} could not be read: "
            f"{cause.message}",
            source=cause.source,
            hint=cause.hint,
        ).because(cause)

    def source(self, name: str) -> Source:
        """Gives a usable source by name; one that failed this build raises its problem at once."""
        probe = self._probes.get(name)
        if probe is not None and probe.is_alive():
            # Say on the terminal what the build is waiting for, and for how long at most.
            advance(f"waiting for {name} (at most {self._deadline(name):g} s)", n=0)
            probe.join()
        if name in self.unusable:
            raise self._unusable_error(name)
        return self.sources[name]

    def list_artifacts(self, run: Run) -> list[str]:
        """Gives a run's artifact paths, asking its tracker when it lists them on request."""
        if isinstance(run.reader, SourceSnapshot):
            frozen = run.reader.artifacts_of(run)
            if frozen is not None:
                return frozen
        listed = self.ask(run.source, lambda source: source.list_artifacts(self._live(run)))
        if self.recording:
            self.listed_artifacts[run.ref] = list(listed)
        return listed

    def read_artifact(self, run: Run, artifact: str) -> bytes:
        """Gives the bytes of one of a run's artifacts, through the source it came from."""
        if isinstance(run.reader, SourceSnapshot):
            frozen = run.reader.artifact(run, artifact)
            if frozen is not None:
                return frozen
        data = self.ask(run.source, lambda source: source.read_artifact(self._live(run), artifact))
        if self.recording:
            self.read_artifacts.setdefault(run.ref, {})[artifact] = data
        return data

    # -- snapshots ---------------------------------------------------------------------------

    def _live(self, run: Run) -> Run:
        """Gives the tracker's own Run for a run (itself unless a snapshot gave it)."""
        if not isinstance(run.reader, SourceSnapshot):
            return run
        if self.mode == "offline":
            raise NotInSnapshot(
                f"--offline: run {run.ref} is frozen without what this block reads",
                hint="run `labbook freeze` for this report while its trackers answer",
            )
        return self.ask(run.source, lambda source: source.get(run.id))

    def _live_series(self, name: str) -> Callable[[Run, str], Any]:
        def read(run: Run, key: str) -> Any:
            live = self._live(run)
            return self.ask(name, lambda source: source.read_series(live, key))

        return read

    def _frozen(self, name: str, runs: list[Run] | None) -> list[Run] | None:
        if runs is not None:
            snapshot = self.snapshots[name]
            for run in runs:
                self.frozen_at.setdefault(run.ref, snapshot.read_at(run.id))
        return runs

    def _frozen_query(
        self, name: str, key: QueryKey, *, fallback: bool = False
    ) -> list[Run] | None:
        snapshot = self.snapshots.get(name)
        if snapshot is None or (self.mode == "refresh" and not fallback):
            return None
        return self._frozen(name, snapshot.query(key))

    def _frozen_ref(self, ref: str, *, fallback: bool = False) -> Run | None:
        if self.mode == "refresh" and not fallback:
            return None
        source_name, sep, rest = ref.partition(":")
        if sep and source_name in self.configured:
            names, wanted = [source_name], rest
        else:
            names, wanted = self.configured, ref
        for name in names:
            snapshot = self.snapshots.get(name)
            found = snapshot.find(wanted) if snapshot is not None else None
            if found is not None:
                self._frozen(name, [found])
                return found
        return None

    def _fell_back(self, name: str, cause: LabbookError) -> None:
        """Records that a dead tracker's snapshot stood in for it: a warning, once per source."""
        message = (
            f"source {name!r} did not answer, so its runs come from the snapshot in "
            ".labbook/snapshots (frozen data, not the tracker's current state)"
        )
        if not any(p.message == message for p in self.problems):
            self.problems.append(SourceError(message, source=cause.source, hint=cause.message))

    def ask(self, name: str, call: Callable[[Source], _T]) -> _T:
        """Gives call(source); a tracker that does not answer is not asked again this build."""
        source = self.source(name)
        try:
            with timed("source", name):
                result = call(source)
            advance(f"runs from {name}", n=len(result) if isinstance(result, list | RunSet) else 1)
            return result
        except TrackerUnavailable as exc:
            self._mark_unusable(name, exc)
            raise self._unusable_error(name) from exc

    def replace_source(self, name: str, source: Source) -> None:
        """Puts a re-opened source in place, forgetting what was read from the old one.

        Live preview keeps one resolver across rebuilds and replaces only the sources whose
        data changed, so an edit to one store re-reads that store and nothing else.
        """
        old = self.sources.get(name)
        self.sources[name] = source
        self.unusable.pop(name, None)
        self._probes.pop(name, None)
        self._all.pop(name, None)
        self._queries = {k: v for k, v in self._queries.items() if k[0] != name}
        prefix = f"{name}:"
        self._canonical = {k: v for k, v in self._canonical.items() if not k.startswith(prefix)}
        # A bare reference may name a run of any source: found again from the caches.
        self._refs = {k: v for k, v in self._refs.items() if ":" in k and not k.startswith(prefix)}
        if old is not None:
            self.problems = [p for p in self.problems if p.source != old.uri]

    def _runs_of(self, name: str) -> list[Run]:
        if name not in self._all:
            try:
                self._all[name] = self.ask(name, lambda source: source.list_runs())
            except LabbookError as exc:
                # One unreachable source must not break references into the others;
                # the build lists it among the source problems.
                if isinstance(exc.root, SourceError) and exc.root not in self.problems:
                    self.problems.append(exc.root)
                self._all[name] = []
        return self._all[name]

    @property
    def configured(self) -> list[str]:
        """Gives every configured source name, usable or not, in mkdocs.yml's order."""
        return list(dict.fromkeys([*self.sources, *self.unusable]))

    def run(self, ref: str) -> Run:
        """Gives the one run a reference names: `SOURCE:ID`, an ID, a unique prefix or a name."""
        ref = str(ref).strip()
        if ref not in self._refs:
            frozen = self._frozen_ref(ref)
            if frozen is None and self.mode == "offline":
                raise NotInSnapshot(
                    f"--offline: no snapshot holds run {ref!r}",
                    hint="run `labbook freeze` for this report while its trackers answer",
                )
            if frozen is None:
                try:
                    frozen = self._find(ref)
                except LabbookError as exc:
                    stale = (
                        self._frozen_ref(ref, fallback=True)
                        if isinstance(exc.root, TrackerUnavailable)
                        else None
                    )
                    if stale is None:
                        raise
                    self._fell_back(stale.source, exc.root)
                    frozen = stale
            self._refs[ref] = self._keep(frozen)
        return self._refs[ref]

    def _find(self, ref: str) -> Run:
        source_name, sep, rest = ref.partition(":")
        if sep and (source_name in self.sources or source_name in self.unusable):
            return self.ask(source_name, lambda source: source.get(rest))
        if not self.sources and not self.unusable:
            raise RunNotFound(
                f"no run {ref!r}: no sources are configured",
                hint="add sources under the labbook plugin in mkdocs.yml",
            )
        runs = [r for name in self.sources for r in self._runs_of(name)]
        try:
            return find_run(ref, runs)
        except RunNotFound as exc:
            unread = [name for name in self.configured if name in self.unusable]
            if not unread:
                raise
            # The run may well be in the source that could not be read: say so, and let the
            # CLI print this under that source's problem.
            exc.hint = f"source {unread[0]!r} could not be read this build, so the run may be there"
            raise exc.because(self.unusable[unread[0]]) from None

    def query(self, spec: Mapping[str, Any]) -> RunSet:
        """Gives the runs an inline query mapping selects."""
        unknown = sorted(set(spec) - QUERY_KEYS)
        if unknown:
            raise ReportError(
                f"unknown query key {unknown[0]!r}", hint="valid: " + ", ".join(sorted(QUERY_KEYS))
            )
        source_name = spec.get("source") or self.default_source
        if source_name is None:
            raise ReportError("the query names no source and no sources are configured")
        if not isinstance(source_name, str):
            raise ReportError(
                f"'source' must be one source name, not {source_name!r}",
                hint="configured sources: " + (", ".join(self.configured) or "none"),
            )
        if source_name not in self.sources and source_name not in self.unusable:
            raise ReportError(
                f"unknown source {source_name!r}",
                hint="configured sources: " + (", ".join(self.configured) or "none"),
            )
        order_by = spec.get("order_by")
        if isinstance(order_by, str):
            order_by = [order_by]
        if order_by is not None and not (
            isinstance(order_by, list) and all(isinstance(o, str) for o in order_by)
        ):
            raise ReportError("'order_by' must be a list of texts like \"metrics.`val/acc` DESC\"")
        query_filter = spec.get("filter")
        if query_filter is not None and not isinstance(query_filter, str):
            raise ReportError("'filter' must be text, e.g. \"params.lr > 0.01\"")
        limit = spec.get("limit")
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise ReportError("'limit' must be a non-negative integer")
        raw_experiment = spec.get("experiment")
        experiment = None if raw_experiment is None else str(raw_experiment)
        frozen_key: QueryKey = (experiment, query_filter, tuple(order_by or ()), limit)
        key = (source_name, *frozen_key)
        if key not in self._queries:
            found = self._frozen_query(source_name, frozen_key)
            if found is None and self.mode == "offline":
                asked = ", ".join(
                    f"{name} {value!r}"
                    for name, value in zip(QUERY_PARTS, frozen_key, strict=True)
                    if value not in (None, ())
                )
                raise NotInSnapshot(
                    f"--offline: no snapshot holds the query of source {source_name!r}"
                    + (f" ({asked})" if asked else " (all its runs)"),
                    hint="run `labbook freeze` for this report while its trackers answer",
                )
            if found is None:
                try:
                    found = list(
                        self.ask(
                            source_name,
                            lambda source: source.search(
                                experiment=experiment,
                                filter=query_filter,
                                order_by=order_by,
                                limit=limit,
                            ),
                        )
                    )
                except TrackerUnavailable as exc:
                    found = self._frozen_query(source_name, frozen_key, fallback=True)
                    if found is None:
                        raise
                    self._fell_back(source_name, exc)
            self._queries[key] = RunSet(self._keep(run) for run in found)
        return self._queries[key]

    def frozen_query_keys(self) -> dict[str, dict[QueryKey, list[str]]]:
        """Gives source -> query -> run IDs, for every query this build answered."""
        out: dict[str, dict[QueryKey, list[str]]] = {}
        for (name, *rest), found in self._queries.items():
            out.setdefault(name, {})[tuple(rest)] = found.ids
        return out

    def resolved_refs(self) -> dict[str, dict[str, str]]:
        """Gives source -> reference (as that source resolves it) -> run ID, for every reference."""
        out: dict[str, dict[str, str]] = {}
        for ref, run in self._refs.items():
            source_name, sep, rest = ref.partition(":")
            wanted = rest if sep and source_name in self.configured else ref
            out.setdefault(run.source, {})[wanted] = run.id
        return out

    def all_runs(self, name: str) -> list[Run]:
        """Gives every run of a source, as this build's one Run object each (the notebook's).

        Offline, only the runs the snapshots hold: no tracker is asked.
        """
        if self.mode == "offline":
            return [r for r in self._canonical.values() if r.source == name]
        return [self._keep(run) for run in self._runs_of(name)]

    def canonical_runs(self) -> list[Run]:
        """Gives every run this build resolved, once each."""
        return list(self._canonical.values())

    def runs(self, spec: Any, named: Mapping[str, RunSet]) -> RunSet:
        """Gives the runs a `runs:` value names: a set, refs, `a + b`, or a query mapping."""
        if isinstance(spec, Mapping):
            return self.query(spec)
        if isinstance(spec, list):
            return RunSet(self.run(str(item)) for item in spec)
        if isinstance(spec, str):
            result = RunSet()
            for part in (p.strip() for p in spec.split(" + ")):
                found = named.get(part)
                if isinstance(found, UnresolvedRunSet):
                    raise found.problem()
                if found is None:
                    try:
                        found = RunSet([self.run(part)])
                    except RunNotFound as exc:
                        raise _not_a_set(exc, part, named) from None
                result = result + found
            return result
        raise ReportError(
            "'runs' must be a run set name, a list of run references, `a + b`, or a query mapping"
        )


def _not_a_set(exc: RunNotFound, name: str, named: Mapping[str, RunSet]) -> RunNotFound:
    """Gives a run reference that is no run, said as a misspelt run set when it reads as one."""
    if not named:
        return exc
    sets = ", ".join(named)
    near = difflib.get_close_matches(name, list(named), n=1, cutoff=0.6)
    if near:
        error = RunNotFound(
            f"unknown run set {name!r} (did you mean {near[0]!r}?)",
            hint=f"run sets of this report: {sets}; a run is named by ID, prefix or SOURCE:ID",
        )
        if exc.cause is not None:
            error.because(exc.cause)
        return error
    listed = f"run sets of this report: {sets}"
    exc.hint = f"{exc.hint}; {listed}" if exc.hint else listed
    return exc


def filter_warnings(
    resolver: Resolver, spec: Mapping[str, Any], found: RunSet
) -> list[tuple[str, str | None]]:
    """Gives what is suspect about a query's filter: a key no run has, or no run matched.

    Neither is an error (a sweep may not have logged the metric yet), but either usually
    means a misspelling, which would otherwise show as an empty table or chart.
    """
    text = spec.get("filter")
    if not isinstance(text, str) or not text.strip():
        return []
    try:
        columns = _filter_columns(parse_filter(text))
        # All the experiment's runs: a limit could hide the runs that have the key.
        everything = {k: v for k, v in spec.items() if k not in ("filter", "limit", "order_by")}
        unfiltered = list(resolver.query(everything))
    except LabbookError:
        return []  # the query itself reports these
    if not unfiltered:
        return []
    out: list[tuple[str, str | None]] = []
    for column in dict.fromkeys(columns):
        if column.startswith("attributes."):
            continue
        if all(column_value(run, column) is None for run in unfiltered):
            out.append(
                (
                    f"the filter names {column!r}, which none of the {len(unfiltered)} runs has",
                    missing_key_hint(column, unfiltered),
                )
            )
    if not out and not len(found):
        out.append((f"the filter {text!r} matches none of the {len(unfiltered)} runs", None))
    return out


def _filter_columns(expr: Expr) -> list[str]:
    """Gives the columns a filter compares, in order."""
    if isinstance(expr, Comparison):
        return [expr.column]
    if isinstance(expr, Not):
        return _filter_columns(expr.item)
    return [column for item in expr.items for column in _filter_columns(item)]


def resolve_run_sets(
    resolver: Resolver,
    front_matter: Mapping[str, Any],
    lines: Mapping[str, int],
    path: Path,
    warnings: list[LabbookError] | None = None,
) -> tuple[dict[str, RunSet], list[LabbookError]]:
    """Gives each named run set of the front matter; each failure is an error at its line.

    With `warnings`, a filter naming a key no run has, or matching no run, adds a warning.
    """
    spec = front_matter.get("runs")
    sets: dict[str, RunSet] = {}
    errors: list[LabbookError] = []
    if spec is None:
        return sets, errors
    if not isinstance(spec, Mapping):
        return sets, [
            ReportError(
                "'runs' must map set names to queries or run lists",
                file=path,
                line=lines.get("runs"),
            )
        ]
    for name, set_spec in spec.items():
        line = lines.get(f"runs.{name}", lines.get("runs"))
        try:
            sets[str(name)] = RunSet(resolver.runs(set_spec, sets), name=str(name))
            if warnings is not None and isinstance(set_spec, Mapping):
                for text, hint in filter_warnings(resolver, set_spec, sets[str(name)]):
                    warnings.append(
                        ReportError(f"run set {name!r}: {text}", file=path, line=line, hint=hint)
                    )
        except LabbookError as exc:
            located = at_place(exc, path, line)
            errors.append(located)
            sets[str(name)] = UnresolvedRunSet(str(name), located)
    return sets, errors
