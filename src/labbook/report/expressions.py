"""Gives prose with its Jinja2 expressions rendered, every run-derived value escaped."""

from __future__ import annotations

import difflib
import json
import math
import re
import secrets
import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from ..blocks.page import PrintedValue
from ..errors import LabbookError, ReportError, at_place
from ..escaping import (
    CODE_UNSAFE,
    MarkdownSafe,
    code_html,
    code_spans,
    escape_html,
    escape_inline,
    safe_link,
)
from ..model import Run, RunSet, as_number, format_seconds


def fmt(value: Any, spec: str = ".4g") -> str:
    """Gives a value formatted with a Python format spec (`{:.3f}` style, without braces)."""
    if value is None:
        return "—"
    try:
        return format(value, spec)
    except (TypeError, ValueError):
        return str(value)


def pct(value: Any, digits: int = 1) -> str:
    """Gives a fraction as a percentage: 0.9312 -> '93.1%'."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "—" if value is None else str(value)
    if not math.isfinite(value):
        return str(value)
    return f"{value * 100:.{digits}f}%"


def duration(value: Any) -> str:
    """Gives seconds (or a Run's duration) as a table shows them: '1h 02m', '3m 05s', '42s'."""
    if isinstance(value, Run):
        value = value.duration
    if not isinstance(value, int | float) or not math.isfinite(value):
        return "—"
    return format_seconds(value)


def delta(value: Any, other: Any, spec: str = "+.3g", unit: str = "") -> str:
    """Gives `value - other` signed and formatted: 0.912 | delta(0.9) -> '+0.012'.

    `unit="pp"` gives percentage points of fractions (0.912 vs 0.9: '+1.2 pp' with
    `spec="+.1f"`); "%" gives the change relative to `other` ('+1.3%').
    """
    a, b = as_number(value), as_number(other)
    if a is None or b is None:
        return "—"
    if unit == "pp":
        return f"{format((a - b) * 100, spec)} pp"
    if unit == "%":
        if b == 0:
            return "—"
        return f"{format((a - b) / abs(b) * 100, spec)}%"
    if unit:
        raise ValueError(f"delta(): unit must be '', 'pp' or '%', not {unit!r}")
    return format(a - b, spec)


def _escape(value: Any) -> Markup:
    # Jinja's `e`/`escape` make HTML safe but leave Markdown markup (`**x**`, `[a](b)`) live.
    return value if isinstance(value, Markup) else escape_inline(value)


def _forceescape(value: Any) -> Markup:
    return escape_inline(str(value))


def _tojson(value: Any, indent: int | None = None) -> Markup:
    return escape_inline(json.dumps(value, indent=indent, sort_keys=True, default=str))


def _finalize(value: Any) -> Any:
    # Everything printed goes through here: run-derived text can inject nothing.
    if isinstance(value, Markup):
        return value
    if isinstance(value, Run):
        return escape_inline(value.name)
    if isinstance(value, RunSet):
        return Markup(", ").join(escape_inline(r.name) for r in value)
    if isinstance(value, datetime):
        return escape_inline(value.strftime("%Y-%m-%d %H:%M"))
    if value is None:
        return Markup("—")
    return escape_inline(value)


def _plain(value: Any) -> str:
    # A value as plain text, for inside a code span where Markdown markup is inert.
    if isinstance(value, Markup):
        return value.striptags()
    if isinstance(value, Run):
        return value.name
    if isinstance(value, RunSet):
        return ", ".join(r.name for r in value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if value is None:
        return "—"
    return str(value)


class _Printed:
    """The values one render printed, each left in the output as a marker until placed.

    Whether a value is escaped for prose or shown plainly depends on whether its marker
    ends up inside an inline code span, which is known only once the text is rendered.
    """

    def __init__(self) -> None:
        nonce = secrets.token_hex(8)
        # Each printed value as (escaped for prose, plain for a code span).
        self.values: list[tuple[str, str]] = []
        # Each value printed while rendering, with its template line (None: a constant
        # Jinja folded while compiling), for the page's record of what it printed.
        self.printed: list[tuple[int | None, Any, str]] = []
        self._prefix = f"\ue000{nonce}:"
        self._marker = re.compile(re.escape(self._prefix) + "(\\d+)\ue001")

    def mark(self, value: Any) -> str:
        # Both forms are made now, so a failing value fails at its template line.
        self.values.append((str(_finalize(value)), _plain(value)))
        self.printed.append((_template_line(), value, self.values[-1][1]))
        return f"{self._prefix}{len(self.values) - 1}\ue001"

    def fill(self, text: str, code: bool, below: int | None = None) -> tuple[str, bool]:
        """Gives text with markers replaced, and whether a value was unsafe in code."""
        unsafe = False
        limit = len(self.values) if below is None else below

        def one(match: re.Match[str]) -> str:
            nonlocal unsafe
            index = int(match.group(1))
            if index >= limit:  # only a value printed earlier can hold a marker
                return ""
            escaped, plain = self.values[index]
            if code:
                text, inner_unsafe = self.fill(plain, True, index)
                unsafe = unsafe or inner_unsafe or any(ch in CODE_UNSAFE for ch in text)
                return text
            text, _ = self.fill(escaped, False, index)
            return text

        return self._marker.sub(one, text), unsafe

    def place(self, text: str) -> str:
        """Gives the rendered text with every value escaped for where it stands."""
        if self._prefix not in text:
            return text
        out: list[str] = []
        pos = 0
        for start, content_start, content_end, end in code_spans(text):
            content = text[content_start:content_end]
            if self._prefix not in content:
                continue
            out.append(self.fill(text[pos:start], False)[0])
            plain, unsafe = self.fill(content, True)
            if unsafe:
                out.append(str(code_html(plain)))
            else:
                out.append(text[start:content_start] + plain + text[content_end:end])
            pos = end
        out.append(self.fill(text[pos:], False)[0])
        return "".join(out)


class Expressions:
    """A Jinja2 environment for one report: run sets by name, `run(ref)`, labbook's filters."""

    def __init__(
        self,
        path: Path,
        run_sets: Mapping[str, RunSet],
        lookup_run: Callable[[str], Run],
        run_link: Callable[[Run], str | None],
        record: Callable[[PrintedValue], None] | None = None,
    ) -> None:
        self.path = path
        self._record = record  # given every value a successful render printed
        self._printed = _Printed()
        self.env = SandboxedEnvironment(
            undefined=jinja2.StrictUndefined,
            finalize=self._mark,
            autoescape=False,
            keep_trailing_newline=True,
        )

        def link(value: Any, text: Any = None) -> Markup:
            if not isinstance(value, Run):
                return escape_inline(value)
            label = escape_inline(value.name if text is None else text)
            href = safe_link(run_link(value))
            if not href:
                return label
            return MarkdownSafe('<a href="{}" class="labbook-run-link">{}</a>').format(
                escape_html(href), label
            )

        self.env.filters.update(
            {"fmt": fmt, "pct": pct, "duration": duration, "link": link, "delta": delta}
        )
        # Jinja's own filters that give Markup would let run text through as Markdown.
        self.env.filters.update(
            {"e": _escape, "escape": _escape, "forceescape": _forceescape, "tojson": _tojson}
        )
        self.env.globals.update(dict(run_sets))
        self.env.globals["run"] = lookup_run
        self.env.globals["len"] = len

    def _mark(self, value: Any) -> str:
        # Everything printed goes through here; `_Printed.place` escapes it afterwards.
        return self._printed.mark(value)

    def render(self, text: str, first_line: int) -> str:
        """Gives the prose with expressions rendered; errors name the report line.

        Run-derived values are escaped for Markdown prose, except inside an inline code
        span, where they show plainly (or the span becomes an HTML `<code>` if a value
        holds a backtick, a line break or HTML characters).
        """
        if "{{" not in text and "{%" not in text and "{#" not in text:
            return text
        self._printed = printed = _Printed()
        try:
            placed = printed.place(self.env.from_string(text).render())
        except jinja2.TemplateSyntaxError as exc:
            raise ReportError(
                f"expression syntax error: {(exc.message or '').rstrip('.')}",
                file=self.path,
                line=first_line + (exc.lineno or 1) - 1,
                hint=self._syntax_hint(exc.message or ""),
            ) from exc
        except LabbookError as exc:
            raise at_place(exc, self.path, _error_line(exc, first_line)) from exc
        except jinja2.UndefinedError as exc:
            raise ReportError(
                f"expression error: {exc.message}",
                file=self.path,
                line=_error_line(exc, first_line),
                hint=self._undefined_hint(exc.message or ""),
            ) from exc
        except Exception as exc:  # any failure in an author's expression is a report error
            raise ReportError(
                f"expression error: {type(exc).__name__}: {exc}",
                file=self.path,
                line=_error_line(exc, first_line),
            ) from exc
        if self._record is not None:
            for value in printed_values(text, first_line, printed.printed):
                self._record(value)
        return placed

    def _syntax_hint(self, message: str) -> str | None:
        found = re.match(r"No (filter|test) named '([^']*)'", message)
        if found is None:
            return None
        kind, name = found.groups()
        names = sorted(self.env.filters if kind == "filter" else self.env.tests)
        near = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        mean = f"did you mean {near[0]!r}? " if near else ""
        if kind == "filter":
            return f"{mean}labbook's filters: fmt, pct, duration, link; Jinja's own work too"
        return f"{mean}tests: " + ", ".join(names)

    def _undefined_hint(self, message: str) -> str:
        general = "names available: run sets from the front matter and run(ref)"
        missing_key = re.match(r"'dict object' has no attribute '([^']*)'", message)
        if missing_key is not None:
            near = difflib.get_close_matches(missing_key.group(1), self._run_keys(), n=1)
            mean = f"did you mean {near[0]!r}? " if near else ""
            return (
                f"{mean}a run's params, tags and summary hold the keys it logged"
                " (`labbook show REF` lists them)"
            )
        found = re.match(r"'([^']*)' is undefined", message)
        sets = sorted(k for k, v in self.env.globals.items() if isinstance(v, RunSet))
        if found is None or not sets:
            return general
        near = difflib.get_close_matches(found.group(1), sets, n=1, cutoff=0.6)
        if not near:
            return general
        return f"did you mean {near[0]!r}? run sets of this report: {', '.join(sets)}; and run(ref)"

    def _run_keys(self) -> list[str]:
        """Gives every param, tag and summary key of the report's runs."""
        keys: set[str] = set()
        for value in self.env.globals.values():
            if not isinstance(value, RunSet):
                continue
            try:
                runs = list(value)
            except LabbookError:  # a set that could not be resolved says so itself
                continue
            for run in runs:
                keys.update(run.params, run.tags, run.summary)
        return sorted(keys)

    def errors_in(self, text: str, first_line: int, limit: int = 50) -> list[LabbookError]:
        """Gives every failing expression of the prose, each at its line and column.

        Jinja stops at the first error, so a report with three misspelt keys would need
        three runs of `labbook check`. After an expression fails, the `{{ … }}` that failed
        is blanked out (lines and columns kept) and the prose rendered again. An error in
        a `{% … %}` tag ends the search: blanking part of a structure (an `if` without its
        `endif`) would invent errors that are not there.
        """
        errors: list[LabbookError] = []
        for _ in range(limit):
            try:
                self.render(text, first_line)
                break
            except LabbookError as exc:
                unclosed = _UNCLOSED.search(exc.message)
                opened = _opening_tag(text, unclosed.group(1)) if unclosed else None
                if opened is not None:
                    # Jinja names the end of the text; the mistake is the tag never closed.
                    exc.line = first_line + text.count("\n", 0, opened)
                    exc.column = _column(text, opened)
                    errors.append(exc)
                    break
                tag = _failing_tag(text, (exc.line or first_line) - first_line, exc.message)
                if tag is not None and exc.column is None and exc.line is not None:
                    exc.column = _column(text, tag[0])
                errors.append(exc)
                structural = unclosed is not None or "unknown tag" in exc.message
                if structural or tag is None or not text.startswith("{{", tag[0]):
                    break
                start, end = tag
                blank = "".join(ch if ch == "\n" else " " for ch in text[start:end])
                text = text[:start] + blank + text[end:]
        return sorted(errors, key=lambda e: (e.line or 0, e.column or 0))


_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
_OUTPUT = re.compile(r"\{\{.*?\}\}", re.S)


def _template_line() -> int | None:
    """Gives the template line being rendered, from the call stack (None: not rendering)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename == "<template>":
            # The frame runs Jinja's generated Python: its template maps the line back.
            template = frame.f_globals.get("__jinja_template__")
            if isinstance(template, jinja2.Template):
                return template.get_corresponding_lineno(frame.f_lineno)
            return None
        frame = frame.f_back
    return None


def printed_values(
    text: str, first_line: int, printed: list[tuple[int | None, Any, str]]
) -> list[PrintedValue]:
    """Gives what each `{{ … }}` of the prose printed, keyed by the expression's own text.

    Jinja names the line, not the tag: of several tags on a line, the k-th value printed
    there is taken as the (k mod n)-th tag's, which holds unless a tag sits in a branch not
    taken. Constants (`{{ "x" }}`, folded by Jinja) are left out: no run gave them.
    """
    lines = text.count("\n") + 1
    tags: dict[int, list[str]] = {}
    for match in _OUTPUT.finditer(text):
        tag_line = text.count("\n", 0, match.start()) + 1
        tags.setdefault(tag_line, []).append(" ".join(match.group(0).split()))
    seen: dict[int, int] = {}
    out: list[PrintedValue] = []
    for line, value, plain in printed:
        if line is None or not 0 < line <= lines:
            continue
        on_line = tags.get(line) or [f"line {first_line + line - 1}"]
        k = seen.get(line, 0)
        seen[line] = k + 1
        run = value if isinstance(value, Run) else None
        if run is not None:
            number = None
        elif isinstance(value, int | float) and not isinstance(value, bool):
            number = as_number(value)
        else:
            number = as_number(plain.strip().removesuffix("%").removesuffix(" pp"))
        key = on_line[k % len(on_line)]
        out.append(
            PrintedValue(
                "expression",
                key,
                plain,
                number,
                line=first_line + line - 1,
                run=run.ref if run else None,
                run_name=run.name if run else None,
            )
        )
    return out


_UNCLOSED = re.compile(r"The innermost block that needs to be closed is '(\w+)'")


def _opening_tag(text: str, name: str) -> int | None:
    """Gives the offset of the last `{% name …` tag, the one Jinja found never closed."""
    found = list(re.finditer(r"\{%[-+]?\s*" + re.escape(name) + r"\b", text))
    return found[-1].start() if found else None


def _failing_tag(text: str, line: int, message: str) -> tuple[int, int] | None:
    """Gives the span of the tag on a template line (0-based) that most likely failed.

    Jinja gives the line only; of several tags there, the one holding the name the
    message quotes ('rsme', 'nosuch') is taken, else the first.
    """
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    if not 0 <= line < len(starts):
        return None
    line_start = starts[line]
    line_end = starts[line + 1] if line + 1 < len(starts) else len(text)
    tags = [
        (m.start(), m.end())
        for m in _TAG.finditer(text)
        if m.start() < line_end and m.end() > line_start
    ]
    if not tags:
        return None
    quoted = re.findall(r"'([^']+)'", message)
    for start, end in tags:
        if any(name in text[start:end] for name in quoted):
            return start, end
    return tags[0]


def _column(text: str, offset: int) -> int:
    """Gives the 1-based column of a text offset."""
    return offset - (text.rfind("\n", 0, offset) + 1) + 1


def _error_line(exc: BaseException, first_line: int) -> int:
    """Gives the report line of an error raised while rendering a template."""
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return first_line + (line or 1) - 1
