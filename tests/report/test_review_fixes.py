"""Regressions found in review: hostile links, titles in code, broken sources, bad query types."""

from __future__ import annotations

from pathlib import Path

import markdown

from labbook.errors import SourceError
from labbook.model import Run, Series
from labbook.sources.base import Source

from .conftest import MemorySource, compile_text, make_run


def test_link_never_writes_a_javascript_href() -> None:
    run = make_run("aaaaaa01", "sneaky")
    run.url = "javascript:alert(3)"
    page = compile_text("Best: {{ run('aaaaaa01') | link }}\n", [MemorySource([run])])
    assert page.errors == []
    assert "javascript:" not in page.markdown
    assert "sneaky" in page.markdown


def test_markup_concatenation_keeps_run_text_literal() -> None:
    good = make_run("aaaaaa01", "good")
    good.url = "https://tracker.example/r/1"
    evil = make_run("bbbbbb01", "[click](javascript:alert(1)) **bold**")
    page = compile_text(
        "{{ (run('aaaaaa01') | link) + run('bbbbbb01').name }}\n",
        [MemorySource([good, evil])],
    )
    html = markdown.markdown(page.markdown)
    assert '<a href="https://tracker.example/r/1"' in html
    assert "<strong>" not in html
    assert 'href="javascript' not in html
    assert html.count("<a ") == 1


def test_title_is_the_first_h1_of_prose_not_a_comment_in_code() -> None:
    text = "Intro.\n\n```bash\n# install deps\npip install x\n```\n\n# Real title\n\nBody.\n"
    page = compile_text("---\nauthors: [Ana]\n---\n" + text, [MemorySource([])])
    assert page.title == "Real title"
    code_start = page.markdown.index("```bash")
    code_end = page.markdown.index("```", code_start + 3)
    assert "labbook-byline" not in page.markdown[code_start:code_end]
    assert page.markdown.index("labbook-byline") > page.markdown.index("# Real title")


class UnreachableSource(Source):
    """A source whose tracker does not answer (a real failure path, no tracker involved)."""

    scheme = "down"

    def list_runs(self, experiment: str | None = None) -> list[Run]:
        raise SourceError("the tracker did not answer", source="down://tracker")

    def read_series(self, run: Run, key: str) -> Series:
        raise AssertionError("never reached")


def test_a_broken_source_does_not_break_references_into_the_others() -> None:
    good = MemorySource([make_run("aaaaaa01", "fine")])
    down = UnreachableSource("//tracker", name="down", base_dir=Path())
    page = compile_text("Run: {{ run('aaaaaa01').name }}\n", [down, good])
    assert page.errors == []
    assert "Run: fine" in page.markdown


def test_query_options_of_the_wrong_type_are_report_errors_at_their_line() -> None:
    text = "---\nruns:\n  sweep:\n    source: mem\n    filter: 5\n---\n\nText.\n"
    page = compile_text(text, [MemorySource([make_run("aaaaaa01")])])
    assert [(e.file, e.line) for e in page.errors] == [("reports/r.md", 3)]
    assert "'filter' must be text" in page.errors[0].message


def test_a_labbook_block_nested_in_a_list_is_a_warning_at_its_line() -> None:
    text = "Intro.\n\n- item\n\n  ```labbook\n  line: val/loss\n  ```\n"
    page = compile_text(text, [MemorySource([])])
    assert [(w.file, w.line) for w in page.warnings] == [("reports/r.md", 5)]
    assert "top level" in page.warnings[0].message
