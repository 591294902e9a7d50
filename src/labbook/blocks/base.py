"""What every block kind shares: option validation with YAML lines, and rendering to HTML."""

from __future__ import annotations

import difflib
import fnmatch
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from markupsafe import Markup

from ..errors import LabbookError, ReportError, ReportErrors
from ..escaping import escape_html, json_for_script
from ..goals import Goals
from ..model import Run, RunSet
from ..model import known_keys_hint as known_keys_hint  # blocks import it from here
from .page import PageContext


@dataclass(frozen=True)
class Option:
    """One option of a block kind, declared once: validation and the Reference page read it."""

    name: str
    type: str  # as a reader sees it: "metric key", "true/false", "whole number ≥ 1", ...
    doc: str
    default: str | None = None  # as written in YAML; None: no default (optional or required)
    required: bool = False


# Options every kind takes; charts add `height`.
COMMON = (
    Option(
        "runs",
        "run set name, query or list of refs",
        "the runs the block draws",
        "every run set of the report",
    ),
    Option("title", "text", "a title above the block"),
    Option("caption", "text", 'a caption under the block, numbered "Figure N:" or "Table N:"'),
    Option("label", "fig-NAME or tbl-NAME", "a name that `@fig-NAME` in the prose refers to"),
)
CHART = (*COMMON, Option("height", "whole number ≥ 50", "the chart's height in pixels", "400"))
COMMON_OPTIONS = frozenset(o.name for o in COMMON)
CHART_OPTIONS = frozenset(o.name for o in CHART)
_LABEL = re.compile(r"(fig|tbl)-[A-Za-z0-9_][A-Za-z0-9_-]*\Z")


@dataclass
class BlockContext:
    """Where a block sits and what the page around it provides."""

    report_file: str
    block_index: int  # 0-based position of the block in its report, for unique element IDs
    key_lines: Mapping[str, int]  # option name -> 1-based line in the report file
    fence_line: int  # 1-based line of the opening ``` fence
    max_points: int = 1500
    key_columns: Mapping[str, int] = field(default_factory=dict)  # option -> 1-based column
    # Where a run's name links to (its notebook page, else its tracker); None: no link.
    run_link: Callable[[Run], str | None] = lambda run: run.url
    goals: Goals | None = None  # the report's metric goals, for `best`; None: the name rule
    page: PageContext = field(default_factory=lambda: PageContext())  # shared by the page's blocks
    # The report's resolver, for a block drawn inside another (the Reference's examples).
    resolve_runs: Callable[[Any], RunSet] | None = None
    # The bytes of a run's artifact, through the run's source (`media`); None: none here.
    read_artifact: Callable[[Run, str], bytes] | None = None
    list_artifacts: Callable[[Run], list[str]] = lambda run: list(run.artifacts)

    def line_of(self, option: str | None = None) -> int:
        """Gives the report line of an option, else of the block's fence."""
        if option is not None and option in self.key_lines:
            return self.key_lines[option]
        return self.fence_line

    def error(
        self, message: str, option: str | None = None, hint: str | None = None
    ) -> ReportError:
        """Gives a ReportError located at an option's line and column."""
        return ReportError(
            message,
            file=self.report_file,
            line=self.line_of(option),
            column=self.column_of(option),
            hint=hint,
        )

    def column_of(self, option: str | None = None) -> int | None:
        """Gives the report column of an option's key; None for the fence (or unknown)."""
        if option is not None and option in self.key_lines:
            return self.key_columns.get(option)
        return None

    id_suffix: str = ""  # tells apart a block drawn inside another (the Reference's examples)

    @property
    def element_id(self) -> str:
        return f"labbook-block-{self.block_index}{self.id_suffix}"


@dataclass
class RenderedBlock:
    """A block as it goes into the page: one raw-HTML chunk, and the figure it draws."""

    html: str  # no blank lines inside, so Markdown keeps it as one raw HTML block
    figure: dict[str, Any] | None = None  # the Plotly figure (for static export)
    warnings: list[LabbookError] = field(default_factory=list)


def _did_you_mean(key: str, valid: list[str]) -> str:
    near = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    return f" (did you mean {near[0]!r}?)" if near else ""


class Block(ABC):
    """A block kind. Subclasses set `kind` and `declared`, validate in `__init__`, draw in `render`.

    `declared` lists every option with its type, default and meaning, the first key
    first; `options` (the names) is derived from it, and the Reference page of the lab
    book is generated from it, so the documentation cannot drift from the code.
    """

    kind: ClassVar[str]
    summary: ClassVar[str] = ""  # one sentence for the Reference page
    example: ClassVar[str] = ""  # a YAML block body the Reference page shows and draws
    figure_kind: ClassVar[str] = "fig"  # what a caption numbers: "fig" (Figure N) or "tbl"
    runs_option: ClassVar[str] = "runs"  # the option whose line a run that cannot be found gets
    declared: ClassVar[tuple[Option, ...]] = ()
    options: ClassVar[frozenset[str]]  # every option the kind accepts, the first key included

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("declared"):
            cls.options = frozenset(o.name for o in cls.declared)

    def __init__(self, spec: Mapping[str, Any], ctx: BlockContext) -> None:
        unknown = [str(k) for k in spec if k not in self.options]
        if unknown:
            valid = sorted(self.options)
            errors = [
                ctx.error(
                    f"unknown option {key!r} for a {self.kind} block" + _did_you_mean(key, valid),
                    key,
                    hint="valid options: " + ", ".join(valid),
                )
                for key in unknown
            ]
            raise ReportErrors(errors)
        self.spec = dict(spec)
        self.ctx = ctx
        self.runs_spec: Any = spec.get("runs")
        self.title: str | None = _opt_str(spec, "title", ctx)
        self.caption: str | None = _opt_str(spec, "caption", ctx)
        self.label: str | None = _opt_str(spec, "label", ctx)
        if self.label is not None and not _LABEL.match(self.label):
            raise ctx.error(
                f"'label' must be fig-NAME or tbl-NAME, not {self.label!r}",
                "label",
                hint="e.g. `label: fig-loss`, then write @fig-loss in the prose",
            )

    @abstractmethod
    def render(self, runs: RunSet) -> RenderedBlock:
        """Gives the block's HTML for these (already resolved) runs."""

    def metric_keys(self) -> list[str]:
        """Gives the metric keys (or globs) this block reads, for `labbook check`."""
        return []

    checking: bool = False  # True while `check` renders: blocks drawn inside check, not draw

    def check(self, runs: RunSet) -> RenderedBlock:
        """Gives what `labbook check` needs: the block's errors and warnings, as render would.

        By default the block renders, with `checking` set so that a block drawn inside it
        is checked instead. A kind that draws histories overrides this to check its keys
        against the runs' metric keys and summaries without reading any series.
        """
        self.checking = True
        try:
            return self.render(runs)
        finally:
            self.checking = False

    # --- The HTML every kind wraps its body in, from the templates in templates/blocks/. ---

    def frame(self, body: str, css_class: str, template: str = "block.html", **values: Any) -> str:
        """Gives the block's HTML: its title, the body (trusted HTML) and its numbered caption."""
        return self.ctx.page.render(
            template,
            css_class=css_class,
            element_id=self.ctx.element_id,
            figure_kind=self.figure_kind,
            title=self.title,
            caption=self.caption,
            # A block drawn inside another (a Reference example) is not numbered itself.
            number=None if self.ctx.id_suffix else self.ctx.page.numbers.get(self.ctx.block_index),
            body=Markup(body),
            **values,
        )

    def chart(self, figure: Mapping[str, Any], height: int, extra: str = "") -> str:
        """Gives a chart block's HTML: a Plotly figure that labbook.js draws in the page.

        `extra` is trusted HTML placed under the plot (a toggle, a note).
        """
        return self.frame(
            "",
            "labbook-chart",
            template="chart.html",
            figure_json=Markup(json_for_script(figure)),
            height=height,
            extra=Markup(extra),
        )


def _opt_str(spec: Mapping[str, Any], key: str, ctx: BlockContext) -> str | None:
    value = spec.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        raise ctx.error(f"{key!r} must be text", key)
    return str(value)


def expand_keys(patterns: list[str], runs: RunSet) -> list[str]:
    """Gives the metric keys the patterns name, globs (`train/*`) expanded over the runs' keys."""
    out: list[str] = []
    for pattern in patterns:
        if any(ch in pattern for ch in "*?["):
            found = sorted(
                {k for r in runs for k in r.metric_keys() if fnmatch.fnmatchcase(k, pattern)}
            )
            out.extend(k for k in found if k not in out)
        elif pattern not in out:
            out.append(pattern)
    return out


# --- Helpers the block kinds share: option checks and the HTML around a block. ---


def html_text(value: object) -> str:
    """Gives escaped text that also keeps no raw line breaks.

    A blank line inside a block's HTML would end Markdown's raw HTML block, so
    newlines become character references, which the browser shows as spaces.
    """
    return str(escape_html(value)).replace("\r", "&#13;").replace("\n", "&#10;")


def title_html(title: str | None) -> str:
    """Gives the block's title element, or nothing without a title."""
    return f'<div class="labbook-title">{html_text(title)}</div>' if title else ""


def caption_html(caption: str | None) -> str:
    """Gives the block's caption element, or nothing without a caption."""
    return f'<p class="labbook-caption">{html_text(caption)}</p>' if caption else ""


def opt_bool(spec: Mapping[str, Any], key: str, ctx: BlockContext, default: bool = False) -> bool:
    """Gives a true/false option, its default when absent."""
    value = spec.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ctx.error(f"{key!r} must be true or false, not {value!r}", key)
    return value


def opt_int(
    spec: Mapping[str, Any],
    key: str,
    ctx: BlockContext,
    default: int,
    minimum: int = 1,
) -> int:
    """Gives a whole-number option of at least `minimum`, its default when absent."""
    value = spec.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise ctx.error(f"{key!r} must be a whole number, not {value!r}", key)
    if value < minimum:
        raise ctx.error(f"{key!r} must be at least {minimum}, not {value}", key)
    return value


def opt_choice(
    spec: Mapping[str, Any], key: str, ctx: BlockContext, choices: tuple[str, ...], default: str
) -> str:
    """Gives an option that must be one of `choices`, its default when absent."""
    value = spec.get(key)
    if value is None:
        return default
    if value not in choices:
        raise ctx.error(
            f"{key!r} must be one of {', '.join(choices)}, not {value!r}",
            key,
            hint=f"write e.g. `{key}: {choices[0]}`",
        )
    return str(value)


def opt_str_list(spec: Mapping[str, Any], key: str, ctx: BlockContext) -> list[str]:
    """Gives an option written as one text value or a non-empty list of them."""
    value = spec.get(key)
    items: list[Any] = value if isinstance(value, list) else [value]
    # Kept as written: a metric key may begin or end with a space (" loss" is not "loss").
    names = [v for v in items if isinstance(v, str) and v.strip()]
    if not items or len(names) != len(items):
        raise ctx.error(
            f"{key!r} must be a name or a list of names, not {value!r}",
            key,
            hint=f"write e.g. `{key}: val/loss` or `{key}: [train/loss, val/loss]`",
        )
    return names


def display_value(value: object) -> str:
    """Gives a run value as a reader sees it: floats to 4 significant digits, None as nothing."""
    if value is None:
        return ""
    if isinstance(value, float):
        return format(value, ".4g")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


# --- What readers see instead of column keys: `val/acc`, not `metrics.val/acc`. ---

# A key that ends in a unit says it: `latency_ms` is "latency (ms)".
_UNITS = {
    "ms": "ms",
    "s": "s",
    "sec": "s",
    "secs": "s",
    "seconds": "s",
    "min": "min",
    "mins": "min",
    "minutes": "min",
    "h": "h",
    "hours": "h",
    "kb": "KB",
    "mb": "MB",
    "gb": "GB",
    "pct": "%",
    "percent": "%",
    "usd": "USD",
}
_UNIT_SUFFIX = re.compile(r"^(?P<stem>.*[^_\-.\s])[_\-.](?P<unit>[A-Za-z]+)$")
_ATTRIBUTE_LABELS = {
    "start_time": "started",
    "end_time": "ended",
    "id": "run ID",
}


def human_label(column: str) -> str:
    """Gives a column's header or axis title: the key without its prefix, units in brackets."""
    prefix, dot, rest = column.partition(".")
    if dot and prefix in ("metrics", "params", "tags", "summary"):
        column = rest
    elif column in _ATTRIBUTE_LABELS:
        return _ATTRIBUTE_LABELS[column]
    match = _UNIT_SUFFIX.match(column)
    if match and match.group("unit").lower() in _UNITS:
        return f"{match.group('stem')} ({_UNITS[match.group('unit').lower()]})"
    return column


def human_labels(
    columns: list[str], chosen: Mapping[str, str | None] | None = None
) -> dict[str, str]:
    """Gives each column its header: the author's own, else `human_label`, unless two collide.

    When a param and a metric share a name, both keep their prefix, so no header is ambiguous.
    """
    chosen = chosen or {}
    plain = {c: human_label(c) for c in columns}
    counts: dict[str, int] = {}
    for label in plain.values():
        counts[label] = counts.get(label, 0) + 1
    return {c: chosen.get(c) or (plain[c] if counts[plain[c]] == 1 else c) for c in columns}
