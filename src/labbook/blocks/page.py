"""What the blocks of one page share: run colours, figure numbers, copied files, templates."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from ..charts import color_for
from ..escaping import escape_html
from ..export.files import FILES_DIR
from ..model import Run

KIND_WORDS = {"fig": "Figure", "tbl": "Table"}


@dataclass(frozen=True)
class Number:
    """A numbered block: "Figure 2" or "Table 1", and the element its references link to."""

    kind: str  # "fig" or "tbl"
    n: int
    anchor: str

    @property
    def text(self) -> str:
        return f"{KIND_WORDS[self.kind]} {self.n}"


@dataclass(frozen=True)
class PrintedValue:
    """A value a reader saw on the page: printed by an expression, or a table's summary cell.

    Version records keep these so `labbook diff` can set a version's numbers beside
    another's; `key` is what matches a value across versions (lines move when text does).
    """

    kind: str  # "expression" or "table"
    key: str  # an expression's `{{ … }}` text; a table cell's "RUN_REF COLUMN"
    text: str  # as the page shows it
    number: float | None  # the number it reads as (None: text, a run name, a date)
    line: int | None = None  # the report line of the expression or of the table's block
    run: str | None = None  # table: the row's run, `SOURCE:ID`
    run_name: str | None = None
    column: str | None = None  # table: the canonical column, `metrics.val/acc`


@dataclass
class PageContext:
    """One per compiled page; every block of the page sees the same one."""

    theme_dirs: tuple[Path, ...] = ()  # project folders that may override block templates
    # One colour per run across all charts of a page, in order of first use.
    _colors: dict[tuple[str, str], int] = field(default_factory=dict)
    numbers: dict[int, Number] = field(default_factory=dict)  # block index -> its number
    labels: dict[str, Number] = field(default_factory=dict)  # `fig-x` -> its number
    # Files a block copies into the site: path relative to the page's asset folder -> bytes.
    files: dict[str, bytes] = field(default_factory=dict)
    root_url: str = ""  # from the page to the site's root: "../" for `report/index.html`
    # Every number or text the page printed, in order, for version records and `diff`.
    values: list[PrintedValue] = field(default_factory=list)

    def add_file(self, data: bytes, suffix: str) -> str:
        """Gives the URL (relative to the page) of a file the site will hold with these bytes.

        Files are named by their content's hash under `assets/labbook/files/`, so the same
        image used twice is stored once and an unchanged one keeps its name across builds.
        `suffix` is the extension with its dot (".png").
        """
        name = hashlib.sha256(data).hexdigest()[:20] + suffix.lower()
        self.files[name] = data
        return f"{self.root_url}{FILES_DIR}/{name}"

    def color(self, run: Run) -> str:
        """Gives the run's colour on this page, the same in every chart."""
        key = (run.source, run.id)
        index = self._colors.setdefault(key, len(self._colors))
        return color_for(index)

    def render(self, template: str, **values: Any) -> str:
        """Gives a block template filled in, as one raw HTML chunk with no blank lines."""
        html = environment(self.theme_dirs).get_template(template).render(**values)
        # One line: a blank line would end Markdown's raw HTML block, and an indented one
        # could read as code. Templates break lines only between tags; values hold none.
        return "".join(line.strip() for line in html.splitlines())


@lru_cache(maxsize=8)
def environment(theme_dirs: tuple[Path, ...]) -> jinja2.Environment:
    """Gives the Jinja2 environment for block HTML: the project's `themes/blocks/` first."""
    loaders: list[jinja2.BaseLoader] = [
        jinja2.FileSystemLoader(str(d / "blocks")) for d in theme_dirs if (d / "blocks").is_dir()
    ]
    loaders.append(jinja2.PackageLoader("labbook", "templates/blocks"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        finalize=_inert,
    )
    return env


def _inert(value: Any) -> Any:
    """Escapes text values and keeps their line breaks as references (no blank line)."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return Markup(str(escape_html(value)).replace("\r", "&#13;").replace("\n", "&#10;"))
