"""The `media` block: image artifacts of the runs (PNG, JPEG, GIF, SVG) in a grid, by run.

Each image is read through its run's source, checked to be what its name says (by its
first bytes), copied into the site under a name from its content's hash, and shown as
an `<img>`: an SVG is never inlined, so nothing in it can run in the page.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

from ..errors import LabbookError
from ..escaping import safe_link
from ..model import Run, RunSet
from .base import COMMON, Block, BlockContext, Option, RenderedBlock, opt_int

IMAGE_TYPES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".svg": "SVG"}
MAX_BYTES = 20 * 1024 * 1024  # one image; a bigger one is left out with a warning
MAX_IMAGES = 60  # per block, so a glob over every step's images cannot bloat a page


class MediaBlock(Block):
    """Images from the runs' artifacts, matched by a glob, in a grid labelled by run."""

    kind = "media"
    summary = "Image artifacts of the runs (PNG, JPEG, GIF, SVG) in a grid, labelled by run."
    example = "media: plots/confusion.png\nruns: {source: local, experiment: variants}\ncolumns: 2"
    declared = (
        Option(
            "media",
            "artifact path glob",
            "which artifacts to show, e.g. `plots/*.png` or `**/confusion*`",
            required=True,
        ),
        Option("columns", "whole number 1-8", "images per row", "3"),
        Option("limit", "whole number ≥ 1", "at most this many images", str(MAX_IMAGES)),
        *COMMON,
    )

    def __init__(self, spec: Mapping[str, Any], ctx: BlockContext) -> None:
        super().__init__(spec, ctx)
        pattern = spec.get("media")
        if not isinstance(pattern, str) or not pattern.strip():
            raise ctx.error(
                f"'media' must be an artifact path or glob, not {pattern!r}",
                "media",
                hint="write e.g. `media: plots/*.png`",
            )
        self.pattern = pattern.strip().lstrip("/")
        self.columns = opt_int(spec, "columns", ctx, default=3, minimum=1)
        if self.columns > 8:
            raise ctx.error(f"'columns' must be at most 8, not {self.columns}", "columns")
        self.limit = opt_int(spec, "limit", ctx, default=MAX_IMAGES, minimum=1)

    def render(self, runs: RunSet) -> RenderedBlock:
        warnings: list[LabbookError] = []
        listed: dict[str, list[str]] = {}
        for run in runs:
            try:
                listed[run.id] = self.ctx.list_artifacts(run)
            except LabbookError as exc:
                warnings.append(self.ctx.error(f"{run.name or run.id}: {exc.message}", "media"))
                listed[run.id] = []
        wanted = [(run, path) for run in runs for path in listed[run.id] if self._matches(path)]
        if not wanted:
            raise self.ctx.error(
                f"no artifact of these runs matches {self.pattern!r}",
                "media",
                hint=_artifacts_hint(listed),
            )
        images = [(run, path) for run, path in wanted if _suffix(path) in IMAGE_TYPES]
        if not images:
            raise self.ctx.error(
                f"{len(wanted)} artifact(s) match {self.pattern!r}, but none is an image "
                f"({', '.join(sorted(IMAGE_TYPES))})",
                "media",
                hint="e.g. " + ", ".join(p for _, p in wanted[:3]),
            )
        if len(images) > self.limit:
            warnings.append(
                self.ctx.error(
                    f"{len(images)} images match; showing the first {self.limit}",
                    "media",
                    hint="narrow the glob, or raise `limit`",
                )
            )
            images = images[: self.limit]
        items = []
        for run, path in images:
            data = self._read(run, path, warnings)
            if data is None:
                continue
            items.append(
                {
                    "url": self.ctx.page.add_file(data, _suffix(path)),
                    "alt": f"{path} of {run.name or run.id}",
                    "run": run.name or run.id,
                    "href": safe_link(self.ctx.run_link(run)),
                    "path": path,
                    "svg": _suffix(path) == ".svg",
                }
            )
        if not items:
            raise self.ctx.error(
                f"none of the {len(images)} matching images could be shown",
                "media",
                hint="see the warnings above",
            )
        html = self.frame("", "labbook-media", "media.html", items=items, columns=self.columns)
        return RenderedBlock(html, warnings=warnings)

    def _matches(self, path: str) -> bool:
        return fnmatch.fnmatchcase(path, self.pattern) or (
            "/" not in self.pattern and fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], self.pattern)
        )

    def _read(self, run: Run, path: str, warnings: list[LabbookError]) -> bytes | None:
        reader = self.ctx.read_artifact
        if reader is None:
            raise self.ctx.error("this page cannot read artifacts", "media")
        try:
            data = reader(run, path)
        except LabbookError as exc:
            warnings.append(self.ctx.error(f"{run.name or run.id}: {path}: {exc.message}", "media"))
            return None
        kind = IMAGE_TYPES[_suffix(path)]
        if len(data) > MAX_BYTES:
            warnings.append(
                self.ctx.error(
                    f"{run.name or run.id}: {path} is {len(data) / 1e6:.0f} MB, over the "
                    f"{MAX_BYTES // (1024 * 1024)} MB an image may be; left out",
                    "media",
                )
            )
            return None
        if not _looks_like(kind, data):
            warnings.append(
                self.ctx.error(
                    f"{run.name or run.id}: {path} is not a {kind} file (its first bytes say "
                    "otherwise); left out",
                    "media",
                )
            )
            return None
        return data


def _suffix(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return ("." + name.rsplit(".", 1)[-1]).lower() if "." in name else ""


def _looks_like(kind: str, data: bytes) -> bool:
    if kind == "PNG":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if kind == "JPEG":
        return data.startswith(b"\xff\xd8\xff")
    if kind == "GIF":
        return data.startswith((b"GIF87a", b"GIF89a"))
    head = data[:4096].lstrip().lower()
    return b"<svg" in head and not head.startswith(b"\x89png")


def _artifacts_hint(by_run: dict[str, list[str]]) -> str:
    listed = sorted({p for paths in by_run.values() for p in paths})
    if not listed:
        return "these runs have no artifacts at all"
    shown = ", ".join(listed[:8])
    more = f" and {len(listed) - 8} more" if len(listed) > 8 else ""
    return f"artifacts these runs have: {shown}{more}"
