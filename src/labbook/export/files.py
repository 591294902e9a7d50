"""Writing export files so that nothing half-written is ever left at the output path."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

FILES_DIR = "assets/labbook/files"  # where blocks put the files they copy, from the site root


def write_atomically(target: Path, data: bytes) -> None:
    """Writes data to a temporary file beside target, then renames it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(
        dir=target.parent, prefix=f".{target.name}.", suffix=".part", delete=False
    )
    try:
        with handle:
            handle.write(data)
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def write_page_files(pages: Iterable[Any], root: Path) -> None:
    """Writes the files the pages' blocks copied (named by content) under the site's root."""
    folder = root / FILES_DIR
    for page in pages:
        for name, data in page.files.items():
            target = folder / name
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
