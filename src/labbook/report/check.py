"""Gives every problem in a project's reports without building the site.

Each problem is located as a compiler's are, `FILE:LINE:COL`, so an editor or CI can jump
to it. Block options carry the column of their key (from the parse); what is known only
to its line (a front-matter run set, a source's problem met at a report line) gets the
column of the line's first character that is not a space, where its key starts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LabbookError
from ..goals import Note
from ..problems import group_problems
from ..project import Project
from .compile import ProjectCompiler, read_report

SEVERITIES = ("error", "warning", "note")


@dataclass(frozen=True)
class CheckMessage:
    """One problem as `labbook check` prints it, in text or JSON."""

    file: str | None
    line: int | None
    column: int | None
    severity: str  # "error" (fails the check), "warning" (fails with --strict) or "note"
    message: str
    hint: str | None = None
    also: tuple[str, ...] = ()  # other places (FILE:LINE:COL) the same problem broke

    def as_json(self) -> dict[str, Any]:
        """Gives the message as the JSON object `check --format json` lists."""
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
            "also": list(self.also),
        }


@dataclass
class CheckResult:
    """Report problems (unknown runs, metrics, options, bad YAML) and source problems apart."""

    reports: int = 0
    errors: list[LabbookError] = field(default_factory=list)
    warnings: list[LabbookError] = field(default_factory=list)
    source_problems: list[LabbookError] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)  # what was assumed; never a failure
    # Report file as errors name it -> its lines, for the column of a line-only problem.
    texts: dict[str, list[str]] = field(default_factory=dict)

    def report_problems(self) -> list[LabbookError]:
        """Gives the reports' problems, errors and warnings alike, in reading order.

        Reports in the order they were checked; in each, by line and column, as a compiler
        lists them (a page's warnings would otherwise follow all of its errors).
        """
        order = {name: i for i, name in enumerate(self.texts)}

        def place(error: LabbookError) -> tuple[int, int, int]:
            return (
                order.get(error.file or "", len(order)),
                error.line or 0,
                error.column or 0,
            )

        return sorted(self.errors + self.warnings, key=place)

    def messages(self) -> list[CheckMessage]:
        """Gives each distinct problem once: report problems as errors, source problems as
        warnings (a check's job is to catch a misspelt key, which a page only warns of),
        then the notes."""
        out: list[CheckMessage] = []
        for problem in group_problems(self.report_problems(), self.source_problems):
            error = problem.error
            own = error.where
            also = tuple(p for p in dict.fromkeys(problem.places) if p and p != own)
            out.append(
                CheckMessage(
                    file=error.file,
                    line=error.line,
                    column=error.column,
                    severity="error" if problem.is_error else "warning",
                    message=error.message,
                    hint=error.hint,
                    also=also,
                )
            )
        for note in self.notes:
            column = _first_column(self.texts.get(note.file), note.line)
            out.append(CheckMessage(note.file, note.line, column, "note", note.message))
        return out

    def summary(self) -> dict[str, int]:
        """Gives the counts `check` ends with: reports, errors, warnings and notes."""
        messages = self.messages()
        counts = {s: sum(m.severity == s for m in messages) for s in SEVERITIES}
        return {
            "reports": self.reports,
            "errors": counts["error"],
            "warnings": counts["warning"],
            "notes": counts["note"],
        }

    def as_json(self) -> dict[str, Any]:
        """Gives what `check --format json` prints: every problem, then the counts."""
        return {
            "problems": [m.as_json() for m in self.messages()],
            "summary": self.summary(),
        }


def check_project(project: Project) -> CheckResult:
    """Gives the problems of every report, each with its file, line and column."""
    # Blocks check their keys against what the runs list; no history is read.
    compiler = ProjectCompiler(project, check_only=True)
    result = CheckResult()
    for path in project.reports():
        page = compiler.compile_file(path)
        result.reports += 1
        display = compiler.display_path(path)
        lines = _report_lines(path, display)
        result.texts[display] = lines
        _add_columns([*page.errors, *page.warnings], display, lines)
        result.errors.extend(page.errors)
        result.warnings.extend(page.warnings)
        result.notes.extend(page.notes)
    result.source_problems = compiler.source_errors
    compiler.finish()
    return result


def _report_lines(path: Path, display: str) -> list[str]:
    try:
        return read_report(path, display).splitlines()
    except LabbookError:
        return []  # the compile reported it


def _add_columns(errors: Iterable[LabbookError], display: str, lines: list[str]) -> None:
    """Gives each problem of this report that has a line but no column the line's first."""
    for error in errors:
        for one in (error, error.root):
            if one.file == display and one.line is not None and one.column is None:
                one.column = _first_column(lines, one.line)


def _first_column(lines: list[str] | None, line: int | None) -> int | None:
    """Gives the 1-based column of a line's first character that is not a space (1 if none)."""
    if lines is None or line is None or not 1 <= line <= len(lines):
        return None
    text = lines[line - 1]
    return len(text) - len(text.lstrip(" \t")) + 1 if text.strip() else 1
