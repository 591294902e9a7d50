"""Escaping for everything read from a run before it reaches a page."""

from __future__ import annotations

import bisect
import json
import math
import re
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup, escape

# Characters that Markdown (CommonMark, Python-Markdown and its common extensions)
# could read as markup anywhere in a line. Written as numeric entities they show as
# themselves.
_MARKDOWN_SPECIAL = set("\\`*_{}[]()<>#+!|~$^&\"'")
# Characters that are markup only at the start of a line ("- x", ": x", "===") or,
# for ".", after a number that starts a line ("1. x"); escaped where they could be.
_LINE_START_SPECIAL = set("-:=.")


def escape_html(value: object) -> Markup:
    """Gives text safe inside HTML elements and attribute values."""
    return escape("" if value is None else str(value))


class MarkdownSafe(Markup):
    """Markup whose concatenation escapes the other side for Markdown too, not only HTML.

    `{{ (run | link) + other.name }}` joins through here, so the name stays literal.
    """

    @classmethod
    def escape(cls, s: Any) -> MarkdownSafe:
        if hasattr(s, "__html__"):
            return cls(s.__html__())
        return cls(escape_inline(s))


def safe_link(link: str | None) -> str | None:
    """Gives the link when it is a web or relative address; never a `javascript:` one."""
    if not link:
        return None
    scheme = urlsplit(link.strip()).scheme.lower()
    return link if scheme in ("", "http", "https") else None


def escape_inline(value: object) -> Markup:
    """Gives text that shows literally in Markdown prose: no HTML, no Markdown markup.

    Every character Markdown or HTML could interpret becomes a numeric entity, so a run
    named `**x**` or `<img onerror=…>` shows as exactly that text.
    """
    text = "" if value is None else str(value)
    out = []
    for i, ch in enumerate(text):
        risky_at_start = ch in _LINE_START_SPECIAL and (
            i == 0 or text[i - 1].isspace() or i + 1 == len(text) or text[i + 1].isspace()
        )
        if ch in _MARKDOWN_SPECIAL or risky_at_start:
            out.append(f"&#{ord(ch)};")
        elif ch == "\n":
            out.append(" ")
        else:
            out.append(ch)
    return MarkdownSafe("".join(out))


# Python-Markdown's own code-span pattern (mkdocs renders reports with Python-Markdown).
# Kept as the definition the scanner below reproduces; the scanner runs in n log n where
# this pattern's backtracking takes cubic time on long backtick runs (issue 7).
_PY_MARKDOWN_BACKTICK = re.compile(
    r"(?:(?<!\\)((?:\\{2})+)(?=`+)|(?<!\\)(`+)(.+?)(?<!`)\2(?!`))", re.S
)
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_BACKTICK_RUN = re.compile(r"`+")
_BACKSLASH_OR_BACKTICK = re.compile(r"[\\`]")
Span = tuple[int, int, int, int]


class _BacktickRuns:
    """The maximal backtick runs of a text, by length, to find a span's closer by bisection."""

    def __init__(self, text: str) -> None:
        self.starts: dict[int, list[int]] = {}
        for m in _BACKTICK_RUN.finditer(text):
            self.starts.setdefault(m.end() - m.start(), []).append(m.start())

    def next_run(self, length: int, after: int) -> int | None:
        """Gives the start of the first run of exactly `length` backticks starting at or after `after`."""
        starts = self.starts.get(length)
        if not starts:
            return None
        i = bisect.bisect_left(starts, after)
        return starts[i] if i < len(starts) else None


def _commonmark_code_spans(text: str, runs: _BacktickRuns) -> set[Span]:
    spans = set()
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch != "`":
            found = _BACKSLASH_OR_BACKTICK.search(text, i)
            i = found.start() if found else n
            continue
        j = i
        while j < n and text[j] == "`":
            j += 1
        close = runs.next_run(j - i, j)
        if close is None:
            i = j
            continue
        spans.add((i, j, close, close + j - i))
        i = close + j - i
    return spans


def _python_markdown_code_spans(text: str, runs: _BacktickRuns) -> list[Span]:
    """Gives the spans `_PY_MARKDOWN_BACKTICK.finditer` finds, in n log n time.

    At a backtick not after a backslash, the pattern takes the longest opener (up to the
    run's end) for which a later run of exactly that many backticks exists, and closes at
    the first such run. An even run of backslashes before a backtick is consumed on its own.
    """
    out: list[Span] = []
    pos, n = 0, len(text)
    while pos < n:
        found = _BACKSLASH_OR_BACKTICK.search(text, pos)
        if found is None:
            break
        p = found.start()
        if text[p] == "\\":
            q = p
            while q < n and text[q] == "\\":
                q += 1
            # Matched or not, every position up to q is done: inner ones follow a backslash.
            pos = q
            continue
        if p > 0 and text[p - 1] == "\\":
            pos = p + 1
            continue
        r = p
        while r < n and text[r] == "`":
            r += 1
        for k in range(r - p, 0, -1):
            close = runs.next_run(k, r)
            if close is not None:
                out.append((p, p + k, close, close + k))
                pos = close + k
                break
        else:
            pos = r
    return out


def code_spans(text: str) -> list[Span]:
    """Gives the inline code spans of Markdown text as (open, content start, content end, close end).

    Only spans that CommonMark and Python-Markdown both read as code are given, and none
    crosses a blank line: text outside them is never mistaken for code. Time is n log n in
    the text's length, whatever its backticks.
    """
    out: list[Span] = []
    start = 0
    for end in [m.start() for m in _BLANK_LINE.finditer(text)] + [len(text)]:
        chunk = text[start:end]
        if "`" in chunk:
            runs = _BacktickRuns(chunk)
            commonmark = _commonmark_code_spans(chunk, runs)
            for span in _python_markdown_code_spans(chunk, runs):
                if span in commonmark:
                    out.append((span[0] + start, span[1] + start, span[2] + start, span[3] + start))
        start = end
    return out


# Characters a value shown plainly inside a code span must not hold: a backtick could
# close the span, a line break could end a table row or paragraph, `|` splits a GFM table
# cell, and HTML characters would be live if the span is inside a raw HTML block or tag.
CODE_UNSAFE = set("`<>&\"'|\n\r")


def code_html(text: str) -> Markup:
    """Gives text as an HTML `<code>` element that shows literally in Markdown and HTML."""
    return MarkdownSafe("<code>{}</code>").format(escape_inline(text.strip()))


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def json_for_script(data: Any) -> str:
    """Gives JSON safe inside <script type="application/json">: no `</script>`, no NaN."""
    text = json.dumps(_clean(data), separators=(",", ":"), allow_nan=False, default=str)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def plotly_text(value: object) -> str:
    """Gives text that Plotly shows literally in any string field: a name, title or hover.

    Plotly reads HTML-like tags in every label, and `%{…}` as a template in hover
    templates, trace names (filled from `meta`) and titles. `%` as `&#37;` is never a
    template, and Plotly turns the entity back into `%` when it draws the text.
    """
    return str(escape_html(value)).replace("%", "&#37;")


# `<![` opens a marked section in Python's HTML parser, which MkDocs runs over every page;
# before Python 3.13 it raises (AssertionError) unless a section keyword follows. The
# keywords are those `_markupbase.ParserBase.parse_marked_section` accepts.
_BAD_MARKED_SECTION = re.compile(
    r"<!\[(?!(?:temp|cdata|ignore|include|rcdata|if|else|endif)(?![-_.a-zA-Z0-9]))",
    re.IGNORECASE,
)


def defuse_marked_sections(text: str) -> str:
    """Gives Markdown prose in which no `<![` can stop an HTML parser; it still reads `<![`.

    In prose the `<` becomes `&lt;`; an inline code span holding one becomes an HTML
    `<code>` element (where `&lt;` shows as `<`, as it would not in a Markdown span).
    """
    if "<![" not in text:
        return text
    out: list[str] = []
    pos = 0
    for start, content_start, content_end, end in code_spans(text):
        content = text[content_start:content_end]
        if not _BAD_MARKED_SECTION.search(content):
            continue
        out.append(_BAD_MARKED_SECTION.sub("&lt;![", text[pos:start]))
        out.append(str(code_html(content)))
        pos = end
    out.append(_BAD_MARKED_SECTION.sub("&lt;![", text[pos:]))
    return "".join(out)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_text(value: object) -> str:
    """Gives text safe to print on a terminal: control characters (an escape sequence from a
    run's name could recolour or retitle it) shown as `\\xNN`; line breaks and tabs kept."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", str(value))
