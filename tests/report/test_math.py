"""Math in the prose becomes MathML at compile time: offline, for every generator and the PDF."""

from __future__ import annotations

import markdown
import pytest

from labbook.errors import ReportError
from labbook.report.math import render_math

from .conftest import MemorySource, compile_text


def test_inline_and_display_math_become_mathml() -> None:
    out = render_math("Loss is $\\frac{1}{n}\\sum_i \\ell_i$ here.\n$$\nx^2\n$$\nafter", 1, "r.md")
    assert (
        '<span class="labbook-math"><math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">'
        in out
    )
    assert "<mfrac>" in out and "<mo>&#x02211;</mo>" in out
    assert (
        '<div class="labbook-math"><math xmlns="http://www.w3.org/1998/Math/MathML" display="block">'
        in out
    )
    assert "<msup><mi>x</mi><mn>2</mn></msup>" in out
    assert "$" not in out


@pytest.mark.parametrize(
    "text",
    [
        "It cost $5 and then $10.",  # closing $ followed by a digit: prose
        "A lone $ sign.",
        "Spaced $ x $ is not math.",
        "Code `$x$` stays code.",
    ],
)
def test_dollars_that_are_not_math_stay_text(text: str) -> None:
    assert render_math(text, 1, "r.md") == text


def test_an_escaped_dollar_is_a_dollar_sign() -> None:
    out = render_math("Price \\$5, math $y$, code `\\$`", 1, "r.md")
    html = markdown.markdown(out)
    assert "Price &#36;5" in html and "<code>\\$</code>" in html and "<math" in html


def test_bad_latex_is_an_error_at_its_line_and_column() -> None:
    with pytest.raises(ReportError) as info:
        render_math("one\ntwo $\\frac{a}{$ three", 7, "r.md")
    assert (info.value.line, info.value.column) == (8, 5)
    assert "cannot read the math" in info.value.message


def test_math_in_a_compiled_report_renders_in_markdown() -> None:
    page = compile_text("# M\n\nThe rate $\\alpha = 0.1$ and\n\n$$E = mc^2$$\n", [MemorySource([])])
    assert page.errors == []
    html = markdown.markdown(page.markdown)
    assert (
        '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline"><mrow><mi>&#x003B1;</mi>'
        in html
    )
    assert '<div class="labbook-math"><math' in html and 'display="block"' in html
