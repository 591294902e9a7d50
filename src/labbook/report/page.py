"""Gives what a compiled page is: the generator-neutral page of a report or of the notebook."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from ..blocks.page import PrintedValue
from ..errors import LabbookError
from ..escaping import escape_html
from ..git import FileHistory
from ..goals import Note
from ..model import RunSet


@dataclass
class CompiledPage:
    """A report ready for any generator: Markdown body, title, and what went wrong."""

    path: Path
    markdown: str
    title: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    errors: list[LabbookError] = field(default_factory=list)
    warnings: list[LabbookError] = field(default_factory=list)
    # What labbook assumed (a metric goal from the name rule): `check` prints, never fails.
    notes: list[Note] = field(default_factory=list)
    runs: RunSet = field(default_factory=RunSet)
    figures: list[dict[str, Any]] = field(default_factory=list)
    # Files the blocks copy into the site, by name under FILES_DIR (images of `media`).
    files: dict[str, bytes] = field(default_factory=dict)
    history: FileHistory = field(default_factory=FileHistory)  # authors, created, last edit
    authors: list[str] = field(default_factory=list)  # front matter's, else git's
    read_at: datetime | None = None  # when the run data was read (None: no runs)
    data: DataStatement | None = None  # when and from where the run data came (None: no runs)
    # What its expressions printed and its tables' summary cells, in page order.
    values: list[PrintedValue] = field(default_factory=list)
    text: str | None = None  # the report's source as compiled (None: it could not be read)

    @property
    def last_commit(self) -> tuple[str, datetime] | None:
        """Gives the report's newest commit, short, and its date; None outside git."""
        newest = self.history.commits[0] if self.history.commits else None
        return (newest.hexsha[:10], newest.date) if newest else None

    @property
    def frozen(self) -> bool:
        """Whether some of its run data came from a snapshot (`labbook freeze`)."""
        return bool(self.data and self.data.frozen)

    def as_document(self) -> str:
        """Gives the page with a front matter holding its title, for generators that read one."""
        meta = {
            k: v for k, v in self.meta.items() if isinstance(v, str | int | float | bool | list)
        }
        if self.title:
            meta["title"] = self.title
        if not meta:
            return self.markdown
        return (
            "---\n"
            + yaml.safe_dump(meta, sort_keys=True, allow_unicode=True)
            + "---\n\n"
            + self.markdown
        )


@dataclass(frozen=True)
class DataStatement:
    """When a page's run data was read, from which sources, and how much of it was frozen."""

    read_at: datetime | None  # read from the trackers now (None: every run was frozen)
    frozen_at: datetime | None  # the oldest snapshot read among the frozen runs
    sources: tuple[str, ...]
    runs: int
    frozen: int

    @classmethod
    def of(cls, used: RunSet, frozen_at: Mapping[str, datetime | None]) -> DataStatement | None:
        runs = list(dict.fromkeys(used))
        if not runs:
            return None
        frozen = [frozen_at[r.ref] for r in runs if r.ref in frozen_at]
        stamps = [t for t in frozen if t is not None]
        live = len(frozen) < len(runs)
        return cls(
            read_at=datetime.now(UTC).replace(microsecond=0) if live else None,
            frozen_at=min(stamps) if stamps else None,
            sources=tuple(dict.fromkeys(r.source for r in runs)),
            runs=len(runs),
            frozen=len(frozen),
        )

    @property
    def oldest(self) -> datetime | None:
        """Gives the earliest time any of the data was read."""
        stamps = [t for t in (self.read_at, self.frozen_at) if t is not None]
        return min(stamps) if stamps else None

    def text(self) -> str:
        """Gives the statement as a reader sees it, e.g. 'read … from local, sweeps'."""
        sources = ", ".join(self.sources)
        frozen = _stamp(self.frozen_at) if self.frozen_at else "an unknown time"
        if not self.frozen:
            return f"run data read {_stamp(self.read_at)} from {sources}"
        if self.frozen == self.runs:
            return f"run data from a snapshot (frozen {frozen}) of {sources}"
        return (
            f"run data read {_stamp(self.read_at)} from {sources}; {self.frozen} of {self.runs}"
            f" runs from a snapshot (frozen {frozen})"
        )


def _stamp(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d %H:%M UTC") if when else ""


def error_box(error: LabbookError) -> str:
    """Gives the visible error box a failed block or expression renders as."""
    return (
        '<div class="admonition failure labbook-error" role="alert">'
        '<p class="admonition-title">labbook: this part of the report could not be built</p>'
        f"<p><code>{escape_html(error.where)}</code> {escape_html(_error_text(error))}</p></div>"
    )


def _error_text(error: LabbookError) -> str:
    text = error.message
    if error.hint:
        text += f". {error.hint}"
    return text
