"""What every block kind shares: option validation with YAML lines, and rendering to HTML."""

from __future__ import annotations

import difflib
import fnmatch
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from ..errors import LabbookError, ReportError, ReportErrors
from ..escaping import escape_html
from ..goals import Goals
from ..model import Run, RunSet
from ..model import known_keys_hint as known_keys_hint  # blocks import it from here

# Options every kind takes; charts add `height`.
COMMON_OPTIONS = frozenset({"runs", "title", "caption"})
CHART_OPTIONS = COMMON_OPTIONS | {"height"}


@dataclass
class BlockContext:
    """Where a block sits and what the page around it provides."""

    report_file: str
    block_index: int  # 0-based position of the block in its report, for unique element IDs
    key_lines: Mapping[str, int]  # option name -> 1-based line in the report file
    fence_line: int  # 1-based line of the opening ``` fence
    max_points: int = 1500
    # Where a run's name links to (its notebook page, else its tracker); None: no link.
    run_link: Callable[[Run], str | None] = lambda run: run.url
    goals: Goals | None = None  # the report's metric goals, for `best`; None: the name rule

    def line_of(self, option: str | None = None) -> int:
        """Gives the report line of an option, else of the block's fence."""
        if option is not None and option in self.key_lines:
            return self.key_lines[option]
        return self.fence_line

    def error(
        self, message: str, option: str | None = None, hint: str | None = None
    ) -> ReportError:
        """Gives a ReportError located at an option's line."""
        return ReportError(message, file=self.report_file, line=self.line_of(option), hint=hint)

    @property
    def element_id(self) -> str:
        return f"labbook-block-{self.block_index}"


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
    """A block kind. Subclasses set `kind` and `options`, validate in `__init__`, draw in `render`."""

    kind: ClassVar[str]
    options: ClassVar[frozenset[str]]  # every option the kind accepts, the first key included

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

    @abstractmethod
    def render(self, runs: RunSet) -> RenderedBlock:
        """Gives the block's HTML for these (already resolved) runs."""

    def metric_keys(self) -> list[str]:
        """Gives the metric keys (or globs) this block reads, for `labbook check`."""
        return []


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
