"""Live preview: a rebuild re-reads only the sources whose data changed.

`mkdocs serve` builds with a fresh config, and so fresh plugin instances, on every
change; what must outlive a rebuild lives here, one `LiveState` per mkdocs.yml. Each
source says which files it reads (`Source.watched_paths`): the server watches them, and
before each rebuild their fingerprint (every file's size and modification time) tells
which sources changed. Those are opened afresh; the others keep their runs and the
series already read. A tracking server or the W&B API (`Source.remote`) has no files:
with `labbook serve --poll SECONDS` it is re-read at most that often, and a timer asks
for a rebuild; without it, it is read once per serve.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import LabbookError
from ..fingerprint import Fingerprint, fingerprint
from ..project import LabbookSettings, Project

if TYPE_CHECKING:  # the compiler is imported when a build first needs it
    from ..report.compile import ProjectCompiler
    from ..report.resolve import Resolver
    from ..sources.base import Source

log = logging.getLogger("mkdocs.plugins.labbook")

# Set by `labbook serve --poll`; None: remote sources are read once per serve.
poll_seconds: float | None = None
# True once `mkdocs serve` (or `labbook serve`) started: rebuilds then never abort.
serving = False


@dataclass
class LiveState:
    """What one served project keeps between rebuilds."""

    project: Project
    resolver: Resolver
    fingerprints: dict[str, Fingerprint] = field(default_factory=dict)
    polled_at: float = field(default_factory=time.monotonic)
    reopened: list[str] = field(default_factory=list)  # the last rebuild's, for tests and -v
    # The pages of the last build by report file, with the text they were compiled from:
    # editing one report compiles that one only. Emptied when any source changes.
    pages: dict[Path, tuple[str, Any]] = field(default_factory=dict)


_states: dict[Path, LiveState] = {}
_lock = threading.Lock()


def compiler_for(config_file: Path, settings: LabbookSettings, docs_dir: Path) -> ProjectCompiler:
    """Gives the compiler for the next rebuild, re-reading only the sources that changed."""
    from ..report.compile import ProjectCompiler

    key = config_file.resolve()
    with _lock:
        state = _states.get(key)
        if state is None or state.project.settings != settings:
            project = Project.from_settings(config_file, settings, docs_dir)
            pages: dict[Path, tuple[str, Any]] = {}
            compiler = ProjectCompiler(project, memo=pages)
            state = LiveState(project, compiler.resolver, pages=pages)
            state.fingerprints = {
                name: fingerprint(source.watched_paths())
                for name, source in project.sources.items()
            }
            _states[key] = state
            return compiler
        state.reopened = _refresh(state)
        if state.reopened:
            log.info(
                "labbook: re-reading %s (changed); the other sources are kept",
                ", ".join(state.reopened),
            )
            state.pages.clear()  # any page may show runs of the changed source
        return ProjectCompiler(state.project, resolver=state.resolver, memo=state.pages)


def _refresh(state: LiveState) -> list[str]:
    """Re-opens each source whose files changed (or, when polled, each remote one)."""
    now = time.monotonic()
    poll_due = poll_seconds is not None and now - state.polled_at >= poll_seconds * 0.9
    if poll_due:
        state.polled_at = now
    reopened: list[str] = []
    for name, source in list(state.resolver.sources.items()):
        if source.remote:
            changed = poll_due
        else:
            current = fingerprint(source.watched_paths())
            changed = current != state.fingerprints.get(name)
            state.fingerprints[name] = current
        if changed:
            try:
                fresh = state.project.open(name)
            except LabbookError:
                continue  # keep what was read; the next rebuild tries again
            source.close()
            state.resolver.replace_source(name, fresh)
            state.project.replace_source(name, fresh)
            reopened.append(name)
    return reopened


def watch(server: Any, sources: dict[str, Source]) -> None:
    """Makes the server rebuild when a source's files change, and on each poll tick."""
    for source in sources.values():
        for path in source.watched_paths():
            if path.exists():
                server.watch(str(path))
    if poll_seconds is not None and any(s.remote for s in sources.values()):
        _start_poll(server, poll_seconds)


def _start_poll(server: Any, seconds: float) -> None:
    # A file the server watches, touched on every tick: the server's own public way to
    # ask for a rebuild.
    tick = Path(tempfile.mkdtemp(prefix="labbook-poll-")) / "tick"
    tick.write_text("0")
    server.watch(str(tick.parent))

    def loop() -> None:
        count = 0
        while True:
            time.sleep(seconds)
            count += 1
            tick.write_text(str(count))

    threading.Thread(target=loop, name="labbook-poll", daemon=True).start()
