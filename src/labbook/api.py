"""`labbook.open_source`: a source for a script or a notebook, read through the run cache.

A notebook is run again and again over the same store. So the public `open_source` keeps
what it read, as a build does (`sources/cached.py`), and a later process answers from it
while the tracker says nothing changed: every file's size and modification time for
folder stores, SQLite's change counter, each run's own token for a tracking server.

Decisions:

- The cache lives in the user's cache folder (`$XDG_CACHE_HOME/labbook/runs`, else
  `~/.cache/labbook/runs`), one folder per source URI, because a script has no project
  folder to keep it in. `cache=False` reads the tracker every time; `cache=PATH` keeps it
  under PATH (a project passes its own `.labbook/cache/runs`).
- What a process read is written when the source is closed (`with` or `close()`), when
  the process exits, and whenever the series held for writing pass `SPILL_POINTS`, so a
  loop over 10,000 runs' histories does not keep them all in memory.
- A cache folder that cannot be written is not an error: the source is read as if the
  cache were off.
"""

from __future__ import annotations

import atexit
import os
import weakref
from pathlib import Path
from typing import Any

from .sources.base import Source
from .sources.base import open_source as open_tracker


def user_cache_root() -> Path:
    """Gives where scripts keep their run cache: $XDG_CACHE_HOME/labbook/runs or ~/.cache/…"""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "labbook" / "runs"


def open_source(
    uri: str,
    *,
    name: str | None = None,
    base_dir: Path | str | None = None,
    cache: bool | str | Path = True,
    **options: Any,
) -> Source:
    """Gives the source a URI names (section 3 of the spec), read through the run cache.

    `options` go to the source's constructor as keywords (e.g. `timeout=10` for a
    tracking server). `cache=False` reads the tracker every time; `cache=PATH` keeps the
    cache under PATH instead of the user's cache folder.
    """
    source = open_tracker(uri, name=name, base_dir=base_dir, **options)
    if cache is False:
        return source
    from .sources.cached import CachedSource, folder_for

    root = user_cache_root() if cache is True else Path(cache).expanduser()
    cached = CachedSource(source, folder_for(root, source.name, source.uri))
    atexit.register(_flush, weakref.ref(cached))
    return cached


def _flush(ref: weakref.ref[Any]) -> None:
    source = ref()
    if source is not None:
        source.flush()
