"""The Reference section: generated from every block kind's declarations, examples drawn live."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from labbook.blocks.base import COMMON, Block
from labbook.blocks.registry import block_kinds, load_block
from labbook.project import Project
from labbook.report.compile import ProjectCompiler

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "reports" / "reference" / "blocks.md"
KINDS = sorted(k for k in block_kinds() if k != "reference" and not k.startswith("csvdemo"))


def builtin_kinds() -> list[str]:
    return [k for k in KINDS if block_kinds()[k].startswith("labbook.")]


@pytest.mark.parametrize("kind", builtin_kinds())
def test_every_builtin_kind_declares_its_options_and_has_a_reference_section(kind: str) -> None:
    cls: type[Block] = load_block(kind)
    names = [o.name for o in cls.declared]
    assert names[0] == kind, "the first option is the kind's own key"
    assert cls.options == frozenset(names)
    assert all(o.doc and o.type for o in cls.declared)
    # Every kind takes the common options; one that names its runs itself has no `runs`.
    common = {o.name for o in COMMON} - ({"runs"} if cls.runs_option != "runs" else set())
    assert common <= cls.options
    assert cls.summary and cls.example.startswith(f"{kind}:")
    text = REFERENCE.read_text(encoding="utf-8")
    assert f"## {kind}\n\n```labbook\nreference: {kind}\n```" in text


class _Options(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[str]] = []
        self._in_table = False
        self._first_cell = False
        self._row_cell = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and ("class", "labbook-reference-options") in attrs:
            self._in_table = True
            self.tables.append([])
        elif self._in_table and tag == "tr":
            self._row_cell = 0
        elif self._in_table and tag == "td":
            self._row_cell += 1
            self._first_cell = self._row_cell == 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_table = False
        elif tag == "td":
            self._first_cell = False

    def handle_data(self, data: str) -> None:
        if self._in_table and self._first_cell and data.strip():
            self.tables[-1].append(data.strip())


@pytest.fixture(scope="module")
def reference_page() -> tuple[str, list[str]]:
    project = Project.load(REPO / "mkdocs.yml")
    page = ProjectCompiler(project).compile_file(REFERENCE)
    assert page.errors == [] and page.warnings == []
    return page.markdown, [str(e) for e in page.errors]


def test_the_reference_lists_exactly_the_declared_options(
    reference_page: tuple[str, list[str]],
) -> None:
    markdown, _ = reference_page
    parser = _Options()
    parser.feed(markdown)
    sections = re.findall(r"^## (\S+)$", markdown, re.M)
    assert len(parser.tables) == len(sections) > 0
    for kind, options in zip(sections, parser.tables, strict=True):
        assert options == [o.name for o in load_block(kind).declared], kind


def test_each_example_is_drawn_from_the_runs(reference_page: tuple[str, list[str]]) -> None:
    markdown, _ = reference_page
    sections = re.findall(r"^## (\S+)$", markdown, re.M)
    # Each section holds its example's own block, drawn (a figure or a table), no error box.
    assert "labbook-error" not in markdown
    for index, _kind in enumerate(sections):
        assert f'id="labbook-block-{index}-example"' in markdown
    assert markdown.count("r18-lr") > 0  # the example table names the sweep's runs


def test_an_unknown_kind_is_an_error_naming_the_kinds() -> None:
    from labbook.blocks.base import BlockContext
    from labbook.blocks.reference import ReferenceBlock
    from labbook.errors import ReportError

    ctx = BlockContext(report_file="r.md", block_index=0, key_lines={"reference": 4}, fence_line=3)
    with pytest.raises(ReportError, match="'reference' must name a block kind, not 'lin'") as info:
        ReferenceBlock({"reference": "lin"}, ctx)
    assert info.value.line == 4 and "line" in (info.value.hint or "")


def test_a_projects_theme_overrides_a_block_template(tmp_path: Path) -> None:
    import json

    (tmp_path / "runs" / "r1").mkdir(parents=True)
    (tmp_path / "runs" / "r1" / "run.json").write_text(
        json.dumps({"name": "a", "summary": {"acc": 0.5}})
    )
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "r.md").write_text("# R\n\n```labbook\ntable: [name, acc]\n```\n")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: t\ndocs_dir: reports\nplugins:\n  - labbook:\n      sources:\n        local: runs\n"
    )
    (tmp_path / "themes" / "blocks").mkdir(parents=True)
    (tmp_path / "themes" / "blocks" / "block.html").write_text(
        '<section class="team-block" id="{{ element_id }}">{% block body %}{{ body }}{% endblock %}'
        "</section>"
    )
    project = Project.load(tmp_path / "mkdocs.yml")
    page = ProjectCompiler(project).compile_file(tmp_path / "reports" / "r.md")
    assert page.errors == []
    # The team's frame, with labbook's table inside it (table.html extends block.html).
    assert '<section class="team-block" id="labbook-block-0">' in page.markdown
    assert '<table class="labbook-table"' in page.markdown
