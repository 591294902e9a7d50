"""Gives every problem in a project's reports without building the site."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import LabbookError
from ..goals import Note
from ..project import Project
from .compile import ProjectCompiler


@dataclass
class CheckResult:
    """Report problems (unknown runs, metrics, options, bad YAML) and source problems apart."""

    reports: int = 0
    errors: list[LabbookError] = field(default_factory=list)
    warnings: list[LabbookError] = field(default_factory=list)
    source_problems: list[LabbookError] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)  # what was assumed; never a failure


def check_project(project: Project) -> CheckResult:
    """Gives the problems of every report, each with its file and line."""
    # Blocks check their keys against what the runs list; no history is read.
    compiler = ProjectCompiler(project, check_only=True)
    result = CheckResult()
    for path in project.reports():
        page = compiler.compile_file(path)
        result.reports += 1
        result.errors.extend(page.errors)
        result.warnings.extend(page.warnings)
        result.notes.extend(page.notes)
    result.source_problems = compiler.source_errors
    return result
