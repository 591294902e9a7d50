"""What sources that read runs from a folder on disk share: the path, one scan, the problems."""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import ClassVar

from ..errors import RunDataError, SourceError
from ..model import Run
from .base import Source

# Per file, the problems listed one by one before the rest are counted in one note.
MAX_PROBLEMS_PER_FILE = 20
# Seconds a run file may go unchanged and still count as being written (W&B offline's rule
# for running against crashed): after that, a file cut mid-record is reported.
RUNNING_WINDOW = 600.0


class ProblemLog:
    """Collects one file's problems into a source's list, capping how many are listed."""

    def __init__(
        self, sink: list[SourceError], file: str, source: str, what: str = "bad lines"
    ) -> None:
        self.sink = sink
        self.file = file
        self.source = source
        self.what = what
        self.count = 0

    def add(self, message: str, line: int | None = None, hint: str | None = None) -> None:
        self.count += 1
        if self.count <= MAX_PROBLEMS_PER_FILE:
            self.sink.append(
                RunDataError(message, file=self.file, line=line, source=self.source, hint=hint)
            )

    def close(self) -> None:
        """Adds the one note that counts what was not listed."""
        extra = self.count - MAX_PROBLEMS_PER_FILE
        if extra > 0:
            self.sink.append(
                RunDataError(
                    f"{extra} more {self.what} skipped (only the first "
                    f"{MAX_PROBLEMS_PER_FILE} are listed)",
                    file=self.file,
                    source=self.source,
                )
            )


class FolderSource(Source):
    """A source whose runs live under one folder: scanned once, problems kept by path.

    Subclasses implement `_read_runs`, which appends what it cannot read to
    `self._problems` rather than raising.
    """

    # How an error names the folder, and what would fix a missing one.
    folder_label: ClassVar[str] = "run folder"
    missing_hint: ClassVar[str] = (
        "create it, or fix this source's path in mkdocs.yml "
        "(a relative path is relative to the folder holding mkdocs.yml)"
    )

    def __init__(self, location: str, *, name: str | None = None, base_dir: Path | None = None):
        super().__init__(location, name=name, base_dir=base_dir)
        path = Path(location).expanduser()
        self.root = path if path.is_absolute() else Path(self.base_dir) / path
        self._runs: list[Run] | None = None
        self._problems: list[SourceError] = []

    @abstractmethod
    def _read_runs(self) -> list[Run]:
        """Gives every run under the root; called once, with the root known to be a folder."""

    def list_runs(self, experiment: str | None = None) -> list[Run]:
        """Gives every run under the root (only those of `experiment`, when given)."""
        runs = self._scan()
        if experiment is None:
            return list(runs)
        chosen = [r for r in runs if r.experiment == experiment]
        if not chosen:
            # Experiments here exist only through their runs: no run means a misspelt name,
            # which should not turn into a silently empty chart.
            known = sorted({r.experiment for r in runs if r.experiment})
            raise SourceError(
                f"no experiment {experiment!r} in {self.root}",
                source=self.uri,
                hint="known experiments: " + (", ".join(known) or "none"),
            )
        return chosen

    def watched_paths(self) -> list[Path]:
        """Gives the root folder: the runs are the files below it."""
        return [self.root]

    def problems(self) -> list[SourceError]:
        """Gives what could not be read, each naming its path (or the missing root)."""
        if self._runs is None:
            try:
                self._scan()
            except SourceError as exc:
                return [exc]
        return list(self._problems)

    def _scan(self) -> list[Run]:
        if self._runs is None:
            if not self.root.is_dir():
                what = "is not a folder" if self.root.exists() else "does not exist"
                raise SourceError(
                    f"{self.folder_label} {self.root} {what}",
                    source=self.uri,
                    hint=self.missing_hint,
                )
            self._runs = self._read_runs()
        return self._runs

    def _problem(
        self,
        path: Path,
        message: str,
        *,
        line: int | None = None,
        hint: str | None = None,
        kind: type[SourceError] = RunDataError,
    ) -> None:
        """Records what could not be read at path; the scan goes on without it."""
        self._problems.append(
            kind(message, file=self._show(path), line=line, source=self.uri, hint=hint)
        )

    def _show(self, path: Path) -> str:
        """Gives a path as a user would type it: relative to the project when inside it."""
        try:
            return path.relative_to(self.base_dir).as_posix()
        except ValueError:
            return str(path)
