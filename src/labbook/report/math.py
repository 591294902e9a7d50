"""Math in the prose, `$…$` and `$$…$$`, rendered to MathML when the report compiles.

No script and no CDN: Chromium and Firefox draw MathML themselves, so the site works
air-gapped, and the same markup reaches every generator (MkDocs, Zensical) and the PDF.
The rules are pandoc's: an opening `$` is not followed by a space, a closing one is not
preceded by a space nor followed by a digit (so "$5 and $10" is prose), `\\$` is a
dollar sign, and math never starts inside a code span.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from ..errors import ReportError
from ..escaping import code_spans

_DISPLAY = re.compile(r"(?<![\\$])\$\$(?P<tex>[^$]+?)\$\$(?!\$)", re.S)
_INLINE = re.compile(r"(?<![\\$])\$(?![\s$])(?P<tex>[^$\n]*?[^\s\\$])\$(?![$\d])")


@dataclass(frozen=True)
class _Found:
    start: int
    end: int
    tex: str
    display: bool


def render_math(text: str, first_line: int, file: str) -> str:
    """Gives the prose with its math as MathML; LaTeX that cannot be read is a ReportError."""
    if "$" not in text:
        return text
    found = _find(text)
    if not found and "\\$" not in text:
        return text
    from latex2mathml.converter import convert  # only reports with math pay for the import

    out: list[str] = []
    last = 0
    for item in found:
        try:
            mathml = convert(item.tex.strip(), display="block" if item.display else "inline")
        except Exception as exc:  # latex2mathml raises its own exceptions for bad LaTeX
            before = text[: item.start]
            raise ReportError(
                f"cannot read the math {item.tex.strip()[:40]!r} ({type(exc).__name__})",
                file=file,
                line=first_line + before.count("\n"),
                column=item.start - (before.rfind("\n") + 1) + 1,
                hint="check the braces and commands; write \\$ for a dollar sign",
            ) from exc
        out.append(_dollars(text, last, item.start))
        if item.display:
            # Its own HTML block: no blank line inside, blank lines around.
            out.append(f'\n\n<div class="labbook-math">{mathml}</div>\n\n')
        else:
            out.append(f'<span class="labbook-math">{mathml}</span>')
        last = item.end
    out.append(_dollars(text, last, len(text)))
    return "".join(out)


def _dollars(text: str, start: int, end: int) -> str:
    """Gives text[start:end] with each `\\$` outside code spans as a plain dollar sign."""
    piece = text[start:end]
    if "\\$" not in piece:
        return piece
    spans = [(s[0], s[3]) for s in code_spans(text)] if "`" in text else []
    out = []
    last = start
    for match in re.finditer(r"\\\$", piece):
        at = start + match.start()
        if any(a <= at < b for a, b in spans):
            continue
        out.append(text[last:at])
        out.append("&#36;")
        last = at + 2
    out.append(text[last:end])
    return "".join(out)


def _find(text: str) -> list[_Found]:
    """Gives the math spans, display first, none inside a code span or another math span."""
    spans = sorted((s[0], s[3]) for s in code_spans(text)) if "`" in text else []
    taken: list[tuple[int, int]] = list(spans)

    def free(start: int, end: int) -> bool:
        starts = [a for a, _ in taken]
        i = bisect.bisect_right(starts, start) - 1
        if i >= 0 and start < taken[i][1]:
            return False
        return i + 1 >= len(taken) or end <= taken[i + 1][0]

    found: list[_Found] = []
    for pattern, display in ((_DISPLAY, True), (_INLINE, False)):
        for match in pattern.finditer(text):
            if free(match.start(), match.end()) and match.group("tex").strip():
                found.append(_Found(match.start(), match.end(), match.group("tex"), display))
                bisect.insort(taken, (match.start(), match.end()))
    return sorted(found, key=lambda f: f.start)
