"""Gives the runs a report names: run references, named run sets and inline queries."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import LabbookError, ReportError, RunNotFound, SourceError
from ..model import Run, RunSet
from ..sources.base import Source, find_run

QUERY_KEYS = frozenset({"source", "experiment", "filter", "order_by", "limit"})


class Resolver:
    """Resolves references against a project's sources; one per report build."""

    def __init__(self, sources: Mapping[str, Source], default_source: str | None = None):
        self.sources = dict(sources)
        self.default_source = default_source or next(iter(self.sources), None)
        self._all: dict[str, list[Run]] = {}
        self.problems: list[SourceError] = []
        # One Run object per run for the whole build, so a series read for one block or
        # report is not read again for the next; and each query or reference asked once.
        self._canonical: dict[str, Run] = {}
        self._queries: dict[tuple[Any, ...], RunSet] = {}
        self._refs: dict[str, Run] = {}

    def _keep(self, run: Run) -> Run:
        return self._canonical.setdefault(run.ref, run)

    def _runs_of(self, name: str) -> list[Run]:
        if name not in self._all:
            try:
                self._all[name] = self.sources[name].list_runs()
            except SourceError as exc:
                # One unreachable source must not break references into the others;
                # the build lists it among the source problems.
                self.problems.append(exc)
                self._all[name] = []
        return self._all[name]

    def run(self, ref: str) -> Run:
        """Gives the one run a reference names: `SOURCE:ID`, an ID, a unique prefix or a name."""
        ref = str(ref).strip()
        if ref not in self._refs:
            self._refs[ref] = self._keep(self._find(ref))
        return self._refs[ref]

    def _find(self, ref: str) -> Run:
        source_name, sep, rest = ref.partition(":")
        if sep and source_name in self.sources:
            return self.sources[source_name].get(rest)
        if not self.sources:
            raise RunNotFound(
                f"no run {ref!r}: no sources are configured",
                hint="add sources under the labbook plugin in mkdocs.yml",
            )
        return find_run(ref, [r for name in self.sources for r in self._runs_of(name)])

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
        if not isinstance(source_name, str) or source_name not in self.sources:
            raise ReportError(
                f"unknown source {source_name!r}",
                hint="configured sources: " + (", ".join(self.sources) or "none"),
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
        key = (source_name, experiment, query_filter, tuple(order_by or ()), limit)
        if key not in self._queries:
            found = self.sources[source_name].search(
                experiment=experiment,
                filter=query_filter,
                order_by=order_by,
                limit=limit,
            )
            self._queries[key] = RunSet(self._keep(run) for run in found)
        return self._queries[key]

    def runs(self, spec: Any, named: Mapping[str, RunSet]) -> RunSet:
        """Gives the runs a `runs:` value names: a set, refs, `a + b`, or a query mapping."""
        if isinstance(spec, Mapping):
            return self.query(spec)
        if isinstance(spec, list):
            return RunSet(self.run(str(item)) for item in spec)
        if isinstance(spec, str):
            result = RunSet()
            for part in (p.strip() for p in spec.split(" + ")):
                result = result + (named[part] if part in named else RunSet([self.run(part)]))
            return result
        raise ReportError(
            "'runs' must be a run set name, a list of run references, `a + b`, or a query mapping"
        )


def resolve_run_sets(
    resolver: Resolver, front_matter: Mapping[str, Any], lines: Mapping[str, int], path: Path
) -> tuple[dict[str, RunSet], list[LabbookError]]:
    """Gives each named run set of the front matter; each failure is an error at its line."""
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
        except LabbookError as exc:
            errors.append(exc.located(file=path, line=line))
            sets[str(name)] = RunSet(name=str(name))
    return sets, errors
