"""escaping: code spans found as both Markdown engines find them, in n log n; text that no
Plotly template and no HTML parser can act on."""

from __future__ import annotations

import random
import sys
import time

import markdown
import pytest
from mkdocs.structure.pages import _HTMLHandler

from labbook.escaping import (
    _PY_MARKDOWN_BACKTICK,
    _BacktickRuns,
    _python_markdown_code_spans,
    code_spans,
    defuse_marked_sections,
    plotly_text,
)

# --- code spans -------------------------------------------------------------------------


def regex_spans(text: str) -> list[tuple[int, int, int, int]]:
    """Gives the spans Python-Markdown's own backtick pattern finds (cubic on long runs)."""
    return [
        (m.start(), m.start(3), m.end(3), m.end())
        for m in _PY_MARKDOWN_BACKTICK.finditer(text)
        if m.group(2) is not None
    ]


def test_scanner_finds_exactly_what_python_markdowns_pattern_finds() -> None:
    rng = random.Random(20261202)
    pieces = ["`", "`", "``", "```", "\\", "\\\\", "a", " ", "\n", "x`"]
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 16)))
        assert _python_markdown_code_spans(text, _BacktickRuns(text)) == regex_spans(text), text


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("a `x` b", ["x"]),
        ("``a ` b``", ["a ` b"]),
        ("`a\n\nb`", []),  # never across a blank line
        ("\\`a`", []),  # an escaped backtick opens nothing
        ("``a`", []),  # Python-Markdown reads "`a" as code; CommonMark does not
        ("`a` and ``b``", ["a", "b"]),
        ("```x``` ```", ["x"]),
    ],
)
def test_code_spans_are_those_both_engines_read(text: str, codes: list[str]) -> None:
    assert [text[s:e] for _, s, e, _ in code_spans(text)] == codes


def test_code_spans_take_n_log_n_on_long_backtick_runs() -> None:
    # Once 277 s for this shape at 5 KB; time grew with the cube of the length.
    def timed(n: int) -> float:
        text = "`" * n + " {{ expression }} " + "`" * (3 * n) + " `" * n
        started = time.perf_counter()
        assert code_spans(text) == []
        return time.perf_counter() - started

    small, large = timed(25_000), timed(100_000)
    assert large < 2
    assert large < 8 * small + 0.05, (small, large)


# --- Plotly --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "inert"),
    [
        ("%{meta.run_id}", "&#37;{meta.run_id}"),
        ("50% <b>x</b>", "50&#37; &lt;b&gt;x&lt;/b&gt;"),
        ("a & 'b'", "a &amp; &#39;b&#39;"),
        (None, ""),
    ],
)
def test_plotly_text_has_no_template_and_no_tag(text: str | None, inert: str) -> None:
    assert plotly_text(text) == inert


# --- `<![` that stops Python's HTML parser ----------------------------------------------

MARKED = [
    "<![(x",
    "a <![foo bar",
    "x <![iffy]> y",
    "<![ x",
    "inline `a <![(y` code",
    "``b <![(z``",
]


def mkdocs_scan(text: str) -> None:
    """Runs the HTML scan MkDocs makes of every page (before Python 3.13 it can raise)."""
    handler = _HTMLHandler()
    handler.feed(text)
    handler.close()


@pytest.mark.parametrize("text", MARKED)
def test_defused_text_passes_mkdocs_html_scan_and_reads_the_same(text: str) -> None:
    if sys.version_info < (3, 13):  # the parser bug this guards against (gh-77057)
        with pytest.raises(AssertionError):
            mkdocs_scan(text)
    defused = defuse_marked_sections(text)
    assert "<![" not in defused
    mkdocs_scan(defused)
    shown = markdown.markdown(defused)
    assert "&lt;![" in shown or "&#60;&#33;&#91;" in shown


@pytest.mark.parametrize(
    "text", ["<![CDATA[x]]>", "<![if mso]> y <![endif]>", "no marked section", "<![cdata[a]]>"]
)
def test_valid_marked_sections_and_plain_text_are_untouched(text: str) -> None:
    assert defuse_marked_sections(text) == text
    mkdocs_scan(text)


def test_terminal_text_shows_control_characters_and_keeps_lines() -> None:
    from labbook.escaping import terminal_text

    assert terminal_text("run\x1b]0;owned\x07 a\tb\nc\x9b") == "run\\x1b]0;owned\\x07 a\tb\nc\\x9b"
