"""Gives long steps a progress display on a terminal, and timings with `-v`.

The library only says what it is doing (`advance`, `timed`); what is shown is the CLI's
choice (`use`): nothing by default and when stderr is not a terminal, rich progress
bars on one. Nothing here imports rich until a terminal display is asked for.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Reporter:
    """Hears what the library does; this base shows nothing and only keeps timings."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.timings: dict[tuple[str, str], float] = {}

    def advance(self, step: str, total: int | None = None, n: int = 1) -> None:
        """Counts `n` more items done of `step` (of `total` when known)."""

    def add_time(self, kind: str, name: str, seconds: float) -> None:
        """Adds time spent on one source or report to its total."""
        with self._lock:
            self.timings[kind, name] = self.timings.get((kind, name), 0.0) + seconds

    def close(self) -> None:
        """Takes the display down."""


class RichReporter(Reporter):
    """Progress bars with counts and rates on a terminal's stderr."""

    def __init__(self) -> None:
        super().__init__()
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._tasks: dict[str, Any] = {}
        self._started: dict[str, float] = {}
        self._progress.start()

    def advance(self, step: str, total: int | None = None, n: int = 1) -> None:
        with self._lock:
            task = self._tasks.get(step)
            if task is None:
                task = self._tasks[step] = self._progress.add_task(step, total=total, rate="")
                self._started[step] = time.monotonic()
            done = self._progress.tasks[task].completed + n
            elapsed = max(time.monotonic() - self._started[step], 1e-9)
            rate = f"{done / elapsed:,.0f}/s" if elapsed > 0.2 else ""
            self._progress.update(task, advance=n, total=total, rate=rate)

    def close(self) -> None:
        if self._progress.live.is_started:
            self._progress.stop()


_current: Reporter = Reporter()


@contextmanager
def use(reporter: Reporter) -> Iterator[Reporter]:
    """Makes `reporter` hear the library's progress for the duration of the block."""
    global _current
    previous, _current = _current, reporter
    try:
        yield reporter
    finally:
        _current = previous
        reporter.close()


def advance(step: str, total: int | None = None, n: int = 1) -> None:
    """Counts progress on a long step ("reading series", "compiling reports")."""
    _current.advance(step, total, n)


@contextmanager
def timed(kind: str, name: str) -> Iterator[None]:
    """Adds the time the block takes to the total of one source or report."""
    start = time.perf_counter()
    try:
        yield
    finally:
        _current.add_time(kind, name, time.perf_counter() - start)


def current() -> Reporter:
    """Gives the reporter in use."""
    return _current
