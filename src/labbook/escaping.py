"""Escaping for everything read from a run before it reaches a page."""

from __future__ import annotations

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
_PY_MARKDOWN_BACKTICK = re.compile(
    r"(?:(?<!\\)((?:\\{2})+)(?=`+)|(?<!\\)(`+)(.+?)(?<!`)\2(?!`))", re.S
)
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def _commonmark_code_spans(text: str) -> set[tuple[int, int, int, int]]:
    spans = set()
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch != "`":
            i += 1
            continue
        j = i
        while j < n and text[j] == "`":
            j += 1
        closer = re.compile(r"(?<!`)`{" + str(j - i) + r"}(?!`)")
        found = closer.search(text, j)
        if found is None:
            i = j
            continue
        spans.add((i, j, found.start(), found.end()))
        i = found.end()
    return spans


def code_spans(text: str) -> list[tuple[int, int, int, int]]:
    """Gives the inline code spans of Markdown text as (open, content start, content end, close end).

    Only spans that CommonMark and Python-Markdown both read as code are given, and none
    crosses a blank line: text outside them is never mistaken for code.
    """
    out: list[tuple[int, int, int, int]] = []
    start = 0
    for end in [m.start() for m in _BLANK_LINE.finditer(text)] + [len(text)]:
        chunk = text[start:end]
        if "`" in chunk:
            commonmark = _commonmark_code_spans(chunk)
            for m in _PY_MARKDOWN_BACKTICK.finditer(chunk):
                if m.group(2) is None:
                    continue
                span = (m.start(), m.start(3), m.end(3), m.end())
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
