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
        for folder, _dirs, files in os.walk(path):
            for name in files:
                full = os.path.join(folder, name)
                try:
                    stat = os.stat(full)
                except OSError:
                    continue  # removed while walking: the next fingerprint will say so
                found.append((full, stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(found))


def digest(data: Any) -> str:
    """Gives a short hex digest of JSON-able data, stable across processes."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]
