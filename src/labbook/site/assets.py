"""Gives the files labbook adds to every site: Plotly.js, its script and stylesheet, overrides."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

ASSET_PREFIX = "assets/labbook"


@dataclass(frozen=True)
class SiteAsset:
    """A file copied into the built site at `dest` (a site-relative URL path)."""

    src: Path
    dest: str


@cache
def themes_dir() -> Path:
    """Gives labbook's themes folder: packaged in a wheel, or at the repository root."""
    packaged = Path(__file__).resolve().parent.parent / "themes"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "themes"


def overrides_dir() -> Path:
    """Gives the Material template overrides labbook registers."""
    return themes_dir() / "overrides"


@cache
def plotly_js() -> Path:
    """Gives the path of the Plotly.js bundle that ships inside the plotly package."""
    import plotly

    path = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
    if not path.exists():  # pragma: no cover - a broken plotly install
        raise FileNotFoundError(f"plotly.min.js not found in the plotly package ({path})")
    return path


def site_assets() -> list[SiteAsset]:
    """Gives every asset a labbook page needs, in load order for scripts."""
    assets = themes_dir() / "assets"
    return [
        SiteAsset(plotly_js(), f"{ASSET_PREFIX}/plotly.min.js"),
        SiteAsset(assets / "labbook.js", f"{ASSET_PREFIX}/labbook.js"),
        SiteAsset(assets / "labbook.css", f"{ASSET_PREFIX}/labbook.css"),
    ]


def stylesheets() -> list[str]:
    return [a.dest for a in site_assets() if a.dest.endswith(".css")]


def scripts() -> list[str]:
    return [a.dest for a in site_assets() if a.dest.endswith(".js")]


# What report commentary is written in (SPEC section 6): CommonMark plus tables,
# footnotes, admonitions, task lists and definition lists. Added to a site's
# `markdown_extensions` when missing; math needs none (labbook renders it to MathML).
MARKDOWN_EXTENSIONS = (
    "tables",
    "footnotes",
    "admonition",
    "def_list",
    "attr_list",
    "pymdownx.tasklist",
)
