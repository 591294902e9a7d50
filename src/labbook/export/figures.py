"""Exports Plotly figures to SVG (or PNG) through Kaleido: one browser per command, cached.

Kaleido drives a headless Chromium; starting it costs seconds, so every figure of a
command goes through one session. Each image is cached under `.labbook/cache/figures/`
by a hash of the figure's JSON and the export options, so an unchanged chart is never
exported twice. Nothing is fetched: Plotly.js comes from the plotly package, MathJax is
off, and the browser is the machine's own Chromium.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import LabbookError
from ..escaping import json_for_script
from ..progress import advance

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
EXPORT_WIDTH = 720  # CSS px a chart is laid out at for paper; the PDF scales it to fit
INSTALL_HINT = (
    "install Chromium (Debian/Ubuntu: `apt-get install chromium`), or point BROWSER_PATH "
    "at a Chrome or Chromium binary"
)


class ExportError(LabbookError):
    """A chart could not be exported (no browser, or the browser failed)."""


def print_figure(figure: Mapping[str, Any], width: int = EXPORT_WIDTH) -> dict[str, Any]:
    """Gives the figure as it goes on paper: light colours, a fixed size, no hover layer.

    The site themes a chart in the browser (labbook.js); on paper it is always light.
    """
    layout = dict(figure.get("layout") or {})
    layout.update(
        {
            "width": width,
            "height": int(layout.get("height") or 400),
            "paper_bgcolor": "#ffffff",
            "plot_bgcolor": "#ffffff",
            "font": {**(layout.get("font") or {}), "color": "#222222"},
        }
    )
    for name, axis in list(layout.items()):
        if (name.startswith("xaxis") or name.startswith("yaxis")) and isinstance(axis, dict):
            layout[name] = {**axis, "gridcolor": "#e5e5e5", "linecolor": "#888888"}
    return {"data": list(figure.get("data") or []), "layout": layout}


def figure_key(figure: Mapping[str, Any], fmt: str) -> str:
    """Gives the cache key of a figure's image: its JSON and the format, hashed."""
    text = json_for_script({"figure": figure, "format": fmt, "v": 1})
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def find_browser() -> str:
    """Gives the path of the Chromium Kaleido drives; an ExportError naming what to install."""
    configured = os.environ.get("BROWSER_PATH")
    if configured:
        if Path(configured).is_file():
            return configured
        raise ExportError(f"BROWSER_PATH is {configured!r}, which is not a file", hint=INSTALL_HINT)
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise ExportError("charts cannot be exported: no Chromium found", hint=INSTALL_HINT)


class FigureExporter:
    """Images of Plotly figures, from a cache folder or one Kaleido session for the rest."""

    def __init__(self, cache_dir: Path | None) -> None:
        self.cache_dir = cache_dir
        self.exported = 0  # images made by the browser (the rest came from the cache)
        self.cached = 0

    def images(
        self,
        figures: Sequence[Mapping[str, Any]],
        fmt: str = "svg",
        keys: Sequence[str] | None = None,
        meanwhile: Callable[[], object] | None = None,
    ) -> list[bytes]:
        """Gives each figure's image (`svg` or `png`), in order; `keys` their figure_keys if known.

        `meanwhile` runs in this thread while the browser draws (when it has anything to
        draw): work the caller needs next, such as an import. Its errors are ignored here,
        left for whoever calls it again for its result.
        """
        keys = list(keys) if keys is not None else [figure_key(f, fmt) for f in figures]
        found: dict[str, bytes] = {}
        missing: dict[str, Mapping[str, Any]] = {}
        for key, figure in zip(keys, figures, strict=True):
            if key in found or key in missing:
                continue
            data = self._cached(key, fmt)
            if data is not None:
                found[key] = data
                self.cached += 1
            else:
                missing[key] = figure
        if missing:
            made = self._export(list(missing.items()), fmt, meanwhile)
            for key, data in made.items():
                found[key] = data
                self._store(key, fmt, data)
        return [found[k] for k in keys]

    def cached_path(self, key: str, fmt: str) -> Path | None:
        """Gives the cache file of an image, when the cache holds it."""
        if self.cache_dir is None:
            return None
        path = self.cache_dir / f"{key}.{fmt}"
        return path if path.is_file() else None

    def _cached(self, key: str, fmt: str) -> bytes | None:
        if self.cache_dir is None:
            return None
        path = self.cache_dir / f"{key}.{fmt}"
        try:
            return path.read_bytes()
        except OSError:
            return None

    def _store(self, key: str, fmt: str, data: bytes) -> None:
        if self.cache_dir is None:
            return
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.cache_dir, delete=False) as handle:
                handle.write(data)
            os.replace(handle.name, self.cache_dir / f"{key}.{fmt}")
        except OSError:
            pass  # a cache that cannot be written costs time, not correctness

    def _export(
        self,
        items: list[tuple[str, Mapping[str, Any]]],
        fmt: str,
        meanwhile: Callable[[], object] | None = None,
    ) -> dict[str, bytes]:
        import asyncio  # here, not at the top: a warm print has every chart cached
        from concurrent.futures import ThreadPoolExecutor
        from importlib import metadata

        browser = find_browser()
        try:
            import kaleido
        except ImportError as exc:
            raise ExportError(
                "exporting charts needs Kaleido", hint="install it with: pip install 'labbook[pdf]'"
            ) from exc
        from ..site.assets import plotly_js

        os.environ.setdefault("BROWSER_PATH", browser)

        async def run() -> dict[str, bytes]:
            out: dict[str, bytes] = {}
            session_class = _session_class(kaleido, metadata.version("kaleido"))
            async with session_class(n=1, plotlyjs=str(plotly_js()), mathjax=False) as session:
                for key, figure in items:
                    out[key] = await session.calc_fig(dict(figure), opts={"format": fmt})
                    self.exported += 1
                    advance("exporting charts", total=len(items))
            return out

        try:
            # A thread of its own: the caller may be inside a running event loop (a
            # notebook, or Playwright's sync API), where asyncio.run refuses to start.
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="labbook-kaleido") as pool:
                drawn = pool.submit(asyncio.run, run())
                if meanwhile is not None:
                    with contextlib.suppress(Exception):
                        meanwhile()
                return drawn.result()
        except ExportError:
            raise
        except Exception as exc:  # Kaleido and choreographer raise many kinds
            raise ExportError(
                f"the browser could not export the charts ({type(exc).__name__}: {exc})",
                hint=INSTALL_HINT,
            ) from exc


def _session_class(kaleido: Any, version: str) -> Any:
    """Gives Kaleido's session class, made to keep its page between figures.

    Kaleido reloads its page after every figure, so that each starts from a fresh one;
    the reload parses Plotly.js (4.8 MB) again, 0.2 to 0.3 s a chart here, most of what a
    chart costs once the browser is up. Kaleido's script exports with `Plotly.toImage`,
    which draws each figure in a new element and removes it, so nothing of one chart is
    left for the next: the SVGs of a kept page equal a reloaded page's apart from Plotly's
    random element ids (tests/export/test_figures.py). The method replaced is Kaleido's
    own, not its API, so only Kaleido 1.x (`version`), which has it so, gets the
    replacement; another version's class is used as it is.
    """
    base = kaleido.Kaleido
    if version.split(".")[0] != "1" or not callable(getattr(base, "_return_kaleido_tab", None)):
        return base

    class KeptPageSession(base):  # type: ignore[misc, valid-type]
        async def _return_kaleido_tab(self, tab: Any) -> None:
            await self.tabs_ready.put(tab)

    return KeptPageSession
