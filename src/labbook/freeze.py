"""`labbook freeze`: compile reports against their trackers and keep what they read as snapshots."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import LabbookError
from .project import Project
from .report.compile import CompiledPage, ProjectCompiler
from .runrecord import file_name
from .snapshots import Freezer, snapshot_root


@dataclass
class FreezeResult:
    """What a freeze wrote, and what went wrong on the way."""

    pages: list[CompiledPage] = field(default_factory=list)
    written: dict[str, int] = field(default_factory=dict)  # source -> bytes of its snapshot
    runs: dict[str, int] = field(default_factory=dict)  # source -> runs frozen
    errors: list[LabbookError] = field(default_factory=list)
    warnings: list[LabbookError] = field(default_factory=list)

    @property
    def folder_bytes(self) -> int:
        return sum(self.written.values())


def freeze(project: Project, reports: Sequence[Path] | None = None) -> FreezeResult:
    """Reads every run the reports use from its tracker and writes it under .labbook/snapshots.

    With no reports, every report is frozen and each snapshot is written anew (runs no
    report uses any more leave it); with some, their runs are added to what the
    snapshots hold. A report with errors still freezes what it could read.
    """
    project.data_mode = "refresh"
    compiler = ProjectCompiler(project)
    compiler.resolver.recording = True
    result = FreezeResult()
    for path in reports if reports is not None else project.reports():
        page = compiler.compile_file(path)
        result.pages.append(page)
        result.errors.extend(page.errors)
        result.warnings.extend(page.warnings)
    result.warnings.extend(compiler.source_errors)
    compiler.finish()
    resolver = compiler.resolver
    freezers: dict[str, Freezer] = {}

    def freezer(name: str) -> Freezer:
        if name not in freezers:
            source = resolver.sources.get(name)
            uri = source.uri if source is not None else ""
            freezers[name] = Freezer(name, uri, project.settings.max_points)
        return freezers[name]

    for run in resolver.canonical_runs():
        if run.source in resolver.unusable:
            continue  # nothing of it was read this time: an earlier snapshot stays as it is
        frozen = freezer(run.source).add_run(run)
        frozen.listed_artifacts = resolver.listed_artifacts.get(run.ref)
        frozen.artifacts = dict(resolver.read_artifacts.get(run.ref, {}))
    for name, queries in resolver.frozen_query_keys().items():
        if name in freezers:
            freezers[name].queries.update(queries)
    for name, refs in resolver.resolved_refs().items():
        if name in freezers:
            freezers[name].refs.update(refs)
    root = snapshot_root(project.root)
    for name, item in sorted(freezers.items()):
        result.written[name] = item.write(root / file_name(name), merge=reports is not None)
        result.runs[name] = len(item.runs)
    return result
