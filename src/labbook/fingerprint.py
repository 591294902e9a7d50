"""What changed on disk, told cheaply: file sizes and modification times, and stable digests.

Light on purpose (the standard library only): a warm build asks these before it imports
anything that reads runs.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

Fingerprint = tuple[tuple[str, int, int], ...]


def fingerprint(paths: Sequence[Path]) -> Fingerprint:
    """Gives every file under the paths with its size and modification time, sorted.

    A file's SQLite write-ahead log (`NAME-wal`) counts with it: a database in WAL mode
    commits there first.
    """
    found: list[tuple[str, int, int]] = []
    for path in paths:
        if path.is_file():
            for file in (path, path.with_name(path.name + "-wal")):
                try:
                    stat = file.stat()
                except OSError:
                    continue
                found.append((str(file), stat.st_size, stat.st_mtime_ns))
            continue
        _walk(str(path), found)
    return tuple(sorted(found))


def _walk(folder: str, found: list[tuple[str, int, int]]) -> None:
    # os.scandir, not os.walk: a store of 300 runs has 2,000 folders, and os.walk's own
    # bookkeeping cost three times the stat calls.
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return  # removed while walking: the next fingerprint will say so
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):  # as os.walk: links not followed
                _walk(entry.path, found)
            else:
                stat = entry.stat()
                found.append((entry.path, stat.st_size, stat.st_mtime_ns))
        except OSError:
            continue


def digest(data: Any) -> str:
    """Gives a short hex digest of JSON-able data, stable across processes."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]
