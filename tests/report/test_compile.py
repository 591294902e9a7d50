"""compile_report: blocks and expressions into a page, errors into boxes at the right line."""

from __future__ import annotations

import re

import markdown
import pytest
from markupsafe import escape

from labbook.errors import AmbiguousRun, ReportError, RunNotFound
from labbook.report.compile import CompiledPage

from .conftest import MemorySource, compile_text, make_run, steps_values

FILE = "reports/broken.md"


@pytest.fixture
def source() -> MemorySource:
    runs = [
        make_run("aaaaaa01", "lr0.1-s0", params={"lr": 0.1}, summary={"val/acc": 0.90}),
        make_run("aaaaaa02", "lr0.1-s1", params={"lr": 0.1}, summary={"val/acc": 0.94}),
        make_run("bbbbbb01", "other", experiment="other", summary={"val/acc": 0.5}),
    ]
    points = {
        ("aaaaaa01", "val/loss"): steps_values(20, 2.0, -0.05),
        ("aaaaaa02", "val/loss"): steps_values(20, 2.1, -0.06),
        ("bbbbbb01", "val/loss"): steps_values(5, 1.0, 0.0),
    }
    return MemorySource(runs, name="local", points=points)


def error_boxes(page: CompiledPage) -> list[str]:
    """Gives the `FILE:LINE` of each error box on the page, in order."""
    return re.findall(
        r'<div class="admonition failure labbook-error" role="alert">'
        r'<p class="admonition-title">[^<]*</p><p><code>([^<]*)</code>',
        page.markdown,
    )


HEAD = "---\ntitle: Broken\nruns:\n  sweep:\n    experiment: exp\n---\n\nBefore the block.\n\n"
# The block's fence opens on line 10.
TAIL = "\nAfter the block: {{ sweep | length }} runs.\n"


@pytest.mark.parametrize(
    ("block", "line", "kind", "message"),
    [
        (
            "linechart: val/loss\nruns: sweep\n",
            11,
            ReportError,
            "unknown block kind 'linechart'",
        ),
        (
            "line: val/loss\nruns: sweep\nsmothing: 0.6\n",
            13,
            ReportError,
            "unknown option 'smothing' for a line block",
        ),
        (
            "line: val/loss\nruns: sweep\ncaption: c\nsmoothing: 1.5\n",
            14,
            ReportError,
            "'smoothing' must be a number from 0 up to (not including) 1, not 1.5",
        ),
        (
            "line: val/loss\ntitle: t\nruns: [aaaaaa01, aaaaab09]\n",
            13,
            RunNotFound,
            "no run 'aaaaab09' in any source (closest: ",
        ),
        (
            "line: val/loss\nruns: aaaaaa\n",
            12,
            AmbiguousRun,
            "run 'aaaaaa' is ambiguous",
        ),
        (
            "line: val/loss\nruns:\n  experiment: exp\n  sort: x\n",
            12,
            ReportError,
            "unknown query key 'sort'",
        ),
        (
            "line: val/loss\n  runs: sweep\n",
            12,
            ReportError,
            "bad YAML: mapping values are not allowed here",
        ),
        (
            "- line\n- val/loss\n",
            10,
            ReportError,
            "a labbook block must be a YAML mapping whose first key names its kind",
        ),
        (
            "line: val/loss\nruns: sweep\nlog_y: maybe\n",
            13,
            ReportError,
            "'log_y' must be true or false, not 'maybe'",
        ),
    ],
)
def test_block_error_becomes_a_box_at_its_line(
    source: MemorySource, block: str, line: int, kind: type[Exception], message: str
) -> None:
    page = compile_text(HEAD + "```labbook\n" + block + "```\n" + TAIL, [source], FILE)
    assert len(page.errors) == 1
    error = page.errors[0]
    assert type(error) is kind
    assert (error.file, error.line) == (FILE, line)
    assert message in error.message
    # The box names the place, with the column of the option's key where there is one.
    assert error_boxes(page) == [error.where]
    assert error.where in (f"{FILE}:{line}", f"{FILE}:{line}:{error.column}")
    assert str(escape(message)) in page.markdown
    # The rest of the report is still there.
    assert "Before the block." in page.markdown
    assert "After the block: 2 runs." in page.markdown
    assert page.title == "Broken"
    # The box survives Markdown as an admonition.
    rendered = markdown.markdown(page.markdown, extensions=["tables", "admonition"])
    assert '<div class="admonition failure labbook-error" role="alert">' in rendered


def test_unknown_run_error_suggests_the_closest_id(source: MemorySource) -> None:
    page = compile_text(
        HEAD + "```labbook\nline: val/loss\nruns: [aaaaaa03]\n```\n" + TAIL, [source], FILE
    )
    (error,) = page.errors
    assert error.message.startswith("no run 'aaaaaa03' in any source (closest: aaaaaa0")
    assert f"<code>{FILE}:12:1</code> no run &#39;aaaaaa03&#39; in any source (closest: " in (
        page.markdown
    )


def test_many_errors_each_at_its_line_and_good_parts_render(source: MemorySource) -> None:
    text = """\
---
title: Broken things
authors: [Ana Lima, Bo Chen]
runs:
  sweep:
    experiment: exp
  ghost: [nosuch01]
---

# Broken things

Intro prose with {{ sweep | length }} runs.

```labbook
linechart: val/loss
runs: sweep
```

Between one.

```labbook
line: val/loss
runs: sweep
smothing: 0.6
```

Between two: {{ nosuch }}.

```labbook
line: val/loss
runs: sweep
smoothing: 1.5
```

```labbook
line: val/loss
runs: [aaaaaa01, aaaaab99]
```

```labbook
line: val/loss
runs: sweep
title: The good chart
```

Closing prose.
"""
    page = compile_text(text, [source], FILE)
    # The front matter's set errors come first, then each part's in page order.
    assert [(e.line, type(e).__name__) for e in page.errors] == [
        (7, "RunNotFound"),
        (15, "ReportError"),
        (24, "ReportError"),
        (27, "ReportError"),
        (32, "ReportError"),
        (37, "RunNotFound"),
    ]
    assert all(e.file == FILE for e in page.errors)
    # Boxes appear in page order: the front matter's first, then each part's.
    # Blocks' and expressions' with the column of the key or of the `{{` that failed.
    places = ("7", "15:1", "24:1", "27:14", "32:1", "37:1")
    assert error_boxes(page) == [f"{FILE}:{n}" for n in places]
    for prose in ("Intro prose with 2 runs.", "Between one.", "Closing prose."):
        assert prose in page.markdown
    # A failed prose segment keeps its text, unrendered, after the box.
    assert "Between two: {{ nosuch }}." in page.markdown
    assert page.markdown.count('class="labbook-block labbook-chart"') == 1
    assert '<div class="labbook-title">The good chart</div>' in page.markdown
    assert page.warnings == []


def test_good_report_has_no_errors_and_draws_its_runs(source: MemorySource) -> None:
    text = (
        "---\nruns:\n  sweep:\n    experiment: exp\n---\n\n# Sweep\n\n"
        "```labbook\nline: val/loss\nruns: sweep\n```\n"
    )
    page = compile_text(text, [source], FILE)
    assert page.errors == [] and page.warnings == []
    assert error_boxes(page) == []
    assert page.runs.ids == ["aaaaaa01", "aaaaaa02"]
    assert len(page.figures) == 1
    names = [trace["name"] for trace in page.figures[0]["data"]]
    assert names == ["lr0.1-s0", "lr0.1-s1"]
    assert page.figures[0]["data"][0]["y"][:2] == [2.0, 1.95]
    assert '<span class="labbook-read-at"' in page.markdown


def test_unknown_metric_is_an_error_box_at_the_key_line(source: MemorySource) -> None:
    text = HEAD + "```labbook\nline: val/lost\nruns: sweep\n```\n" + TAIL
    page = compile_text(text, [source], FILE)
    assert page.warnings == []
    (error,) = page.errors
    assert (error.file, error.line) == (FILE, 11)
    assert "no run has any point of 'val/lost'" in error.message
    assert "did you mean 'val/loss'?" in str(error.hint)
    assert page.markdown.count("labbook-error") == 1


def test_block_without_runs_uses_every_run_set(source: MemorySource) -> None:
    text = "---\nruns:\n  a: [aaaaaa01]\n  b: [bbbbbb01]\n---\n\n```labbook\nline: val/loss\n```\n"
    page = compile_text(text, [source], FILE)
    assert page.errors == []
    assert [t["name"] for t in page.figures[0]["data"]] == ["lr0.1-s0", "other"]


def test_front_matter_that_is_not_a_mapping_is_an_error_page(source: MemorySource) -> None:
    page = compile_text("---\n- a\n- b\n---\n\n# Title\n\nText\n", [source], FILE)
    assert [(e.line, e.message) for e in page.errors] == [
        (2, "front matter must be a YAML mapping")
    ]
    assert error_boxes(page) == [f"{FILE}:2"]


# -- title and byline ----------------------------------------------------------------------


def test_title_from_front_matter_wins_over_h1(source: MemorySource) -> None:
    page = compile_text("---\ntitle: From front matter\n---\n\n# From the H1\n\nText\n", [source])
    assert page.title == "From front matter"
    # The H1 stays as written; no second heading is added.
    assert page.markdown.count("# ") == 1
    assert "# From the H1" in page.markdown


def test_title_from_h1(source: MemorySource) -> None:
    page = compile_text("Some intro.\n\n# The real title #\n\nText\n", [source])
    assert page.title == "The real title"
    assert page.markdown.startswith("Some intro.\n\n# The real title #\n")


def test_front_matter_title_without_h1_adds_one(source: MemorySource) -> None:
    page = compile_text("---\ntitle: Only here\n---\n\nText\n", [source])
    assert page.title == "Only here"
    assert page.markdown.startswith("# Only here\n\n")
    assert page.as_document().startswith("---\ntitle: Only here\n---\n\n# Only here\n")


def test_no_title(source: MemorySource) -> None:
    page = compile_text("Just text.\n", [source])
    assert page.title is None
    assert page.markdown == "Just text.\n"


def test_byline_authors_after_the_h1(source: MemorySource) -> None:
    text = "---\ntitle: T\nauthors: [Ana Lima, Bo <b>Chen</b>]\n---\n\n# T\n\nBody\n"
    page = compile_text(text, [source])
    assert page.markdown.startswith(
        "\n# T\n\n\n"
        '<p class="labbook-byline"><span class="labbook-authors">'
        "Ana Lima, Bo &lt;b&gt;Chen&lt;/b&gt;</span></p>\n"
    )
    assert page.meta["authors"] == ["Ana Lima", "Bo <b>Chen</b>"]
    assert "runs" not in page.meta


def test_byline_single_author_string_and_generated_title(source: MemorySource) -> None:
    page = compile_text("---\ntitle: T\nauthors: Ana Lima\n---\n\nBody\n", [source])
    assert page.markdown == (
        "# T\n\n"
        '<p class="labbook-byline"><span class="labbook-authors">Ana Lima</span></p>\n\n'
        "\nBody\n"
    )


def test_byline_shows_when_run_data_was_read(source: MemorySource) -> None:
    text = "---\nauthors: [A]\nruns:\n  s: [aaaaaa01]\n---\n\n# T\n\nBody\n"
    page = compile_text(text, [source])
    match = re.search(
        r'<span class="labbook-authors">A</span> · <span class="labbook-read-at" '
        r'data-read-at="(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00)">run data read '
        r"\d{4}-\d\d-\d\d \d\d:\d\d UTC from \w+</span>",
        page.markdown,
    )
    assert match is not None
