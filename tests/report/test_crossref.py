"""Figure and table numbers, and `@fig-x` references, as Quarto writes them."""

from __future__ import annotations

import re

import markdown
import pytest

from .conftest import MemorySource, compile_text, make_run, steps_values

FENCE = "```"


@pytest.fixture
def source() -> MemorySource:
    runs = [make_run("aaaaaa01", "a", summary={"acc": 0.9}), make_run("bbbbbb01", "b")]
    points = {("aaaaaa01", "loss"): steps_values(5, 1.0, -0.1)}
    return MemorySource(runs, name="local", points=points)


REPORT = f"""---
runs:
  all: {{experiment: exp}}
---
# Refs

As @fig-loss shows (and @tbl-runs lists), it learns. Mail me@fig-loss.org.
Code keeps `@fig-loss` as written.

{FENCE}labbook
line: loss
caption: Training loss.
label: fig-loss
{FENCE}

{FENCE}labbook
line: loss
caption: No label, still numbered.
{FENCE}

{FENCE}labbook
table: [name, acc]
label: tbl-runs
caption: The runs.
{FENCE}

Back to @fig-loss and forward to nothing.
"""


def test_captions_are_numbered_and_references_link_to_them(source: MemorySource) -> None:
    page = compile_text(REPORT, [source])
    assert page.errors == []
    html = markdown.markdown(page.markdown, extensions=["md_in_html"])
    captions = re.findall(r'<p class="labbook-caption">(.*?)</p>', html)
    assert [re.sub("<[^>]+>", "", c) for c in captions] == [
        "Figure 1: Training loss.",
        "Figure 2: No label, still numbered.",
        "Table 1: The runs.",
    ]
    links = re.findall(r'<a href="#(labbook-block-\d)">([^<]*)</a>', html)
    assert links == [
        ("labbook-block-0", "Figure 1"),
        ("labbook-block-2", "Table 1"),
        ("labbook-block-0", "Figure 1"),
    ]
    # The anchors exist on the page.
    assert 'id="labbook-block-0"' in html and 'id="labbook-block-2"' in html
    # Not in code, not in an e-mail address.
    assert "<code>@fig-loss</code>" in html
    assert "me@fig-loss.org" in html


def test_an_unknown_reference_is_an_error_at_its_line_and_column(source: MemorySource) -> None:
    text = REPORT.replace("forward to nothing", "forward to @fig-nope")
    page = compile_text(text, [source])
    assert len(page.errors) == 1
    error = page.errors[0]
    line = text.splitlines().index("Back to @fig-loss and forward to @fig-nope.") + 1
    assert (error.file, error.line, error.column) == ("reports/r.md", line, 34)
    assert "@fig-nope refers to no figure or table" in error.message
    assert "@fig-loss" in (error.hint or "") and "@tbl-runs" in (error.hint or "")


def test_a_bad_label_is_an_error_at_its_line(source: MemorySource) -> None:
    text = f"# R\n\n{FENCE}labbook\nline: loss\nlabel: loss chart\n{FENCE}\n"
    page = compile_text(text, [source])
    assert [(e.line, e.message) for e in page.errors] == [
        (5, "'label' must be fig-NAME or tbl-NAME, not 'loss chart'")
    ]
