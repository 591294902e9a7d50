"""One error hierarchy: every user-facing failure says where and what would fix it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class LabbookError(Exception):
    """A problem a user can fix: carries the file, line, column and source it concerns."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        column: int | None = None,
        source: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.column = column
        self.source = source
        self.hint = hint
        # The problem this one follows from (a run set that failed because its tracker did
        # not answer): the CLI prints the cause once, with every place it broke.
        self.cause: LabbookError | None = None

    def located(
        self,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> LabbookError:
        """Gives this error with a file, line and column filled in where it had none."""
        if self.file is None and file is not None:
            self.file = str(file)
            # A column found before there was a file counts in other text (a filter's
            # position in its query), not in the file's line.
            self.column = None
        if self.line is None and line is not None:
            self.line = line
            if self.column is None:
                self.column = column
        return self

    def because(self, cause: LabbookError) -> LabbookError:
        """Gives this error marked as following from `cause`."""
        self.cause = cause
        self.__cause__ = cause
        return self

    @property
    def root(self) -> LabbookError:
        """Gives the first problem this one follows from (itself when it follows from none)."""
        seen: set[int] = set()
        error: LabbookError = self
        while error.cause is not None and id(error.cause) not in seen:
            seen.add(id(error))
            error = error.cause
        return error

    @property
    def where(self) -> str:
        parts: list[str] = []
        if self.file:
            parts.append(self.file)
            if self.line is not None:
                parts.append(str(self.line))
                if self.column is not None:
                    parts.append(str(self.column))
        elif self.source:
            parts.append(self.source)
        return ":".join(parts)

    def __str__(self) -> str:
        text = self.message
        if self.source and self.file:
            text = f"{text} (source {self.source})"
        if self.hint:
            text = f"{text}. {self.hint}"
        where = self.where
        return f"{where}: {text}" if where else text


class ConfigError(LabbookError):
    """mkdocs.yml or the labbook plugin configuration is wrong."""


class SourceError(LabbookError):
    """A source cannot be opened or read."""


class TrackerUnavailable(SourceError):
    """A tracker did not answer within its deadline (refused, timed out, unreachable).

    Distinct from bad data, unknown runs and refused credentials: it is the one case a
    build may answer from a snapshot. Once a source raised it, the rest of that build
    gets the same error at once instead of waiting again.
    """


class NotInSnapshot(LabbookError):
    """`--offline`: a report needs a run, query or series that no snapshot holds."""


class RunDataError(SourceError):
    """A run's files are corrupt or partial; the run or line is skipped and reported."""


class QueryError(LabbookError):
    """A filter or order_by expression does not parse or names something unknown."""


class RunNotFound(LabbookError):
    """A run reference matches no run."""


class AmbiguousRun(LabbookError):
    """A run reference (a prefix) matches more than one run."""


class ReportError(LabbookError):
    """A report's front matter, expressions or blocks are wrong."""


class ReportErrors(ReportError):
    """Several problems found at once (every unknown option of a block), each at its line."""

    def __init__(self, errors: Sequence[LabbookError]) -> None:
        first = errors[0]
        super().__init__(
            first.message, file=first.file, line=first.line, column=first.column, hint=first.hint
        )
        self.errors = list(errors)


class MissingExtra(LabbookError):
    """An optional dependency is not installed; the hint names the extra."""


def at_place(
    error: LabbookError, file: str | Path | None, line: int | None, column: int | None = None
) -> LabbookError:
    """Gives the error located at a report's line.

    A source's own problem (it names a URI, not a file) is left as it is and wrapped: the
    same problem breaks many places and is printed once, with each of them.
    """
    if isinstance(error, SourceError) and error.file is None:
        kind = TrackerUnavailable if isinstance(error, TrackerUnavailable) else SourceError
        return kind(
            error.message, file=file, line=line, column=column, source=error.source, hint=error.hint
        ).because(error)
    return error.located(file=file, line=line, column=column)
