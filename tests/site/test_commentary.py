"""Commentary: CommonMark plus tables, footnotes, admonitions, task lists, definition lists
and math, built by both engines from a mkdocs.yml that names no extension at all."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from labbook.project import Project
from labbook.site.build import build_site
from tests.conftest import ENGINES

REPORT = """\
# Notes

| lr | verdict |
| --- | --- |
| 0.1 | best |

The loss fell.[^why]

[^why]: Warm-up did most of it.

!!! note "Caveat"
    Three seeds only.

- [x] sweep done
- [ ] ablation

Warm-up
:   The first steps at a lower learning rate.

The rate $\\alpha_t = \\alpha_0 \\cdot t / T$ grows linearly, and

$$L = -\\sum_i y_i \\log p_i$$

```python
print("code stays code: $x$")
```
"""

MKDOCS = """\
site_name: Commentary
docs_dir: reports
theme:
  name: material
plugins:
  - labbook:
      sources: {}
"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = {}
    for engine in ENGINES:
        root = tmp_path_factory.mktemp(f"commentary-{engine}")
        (root / "reports").mkdir()
        (root / "reports" / "index.md").write_text(REPORT, encoding="utf-8")
        (root / "mkdocs.yml").write_text(MKDOCS, encoding="utf-8")
        result = build_site(Project.load(root / "mkdocs.yml"), root / "site", engine=engine)
        assert result.errors == [], result.errors
        out[engine] = (root / "site" / "index.html").read_text(encoding="utf-8")
    return out


@pytest.mark.parametrize("engine", ENGINES)
def test_every_commentary_feature_renders(pages: dict[str, str], engine: str) -> None:
    html = pages[engine]
    assert re.search(r"<table>\s*<thead>\s*<tr>\s*<th>lr</th>", html)
    assert 'class="footnote"' in html and "Warm-up did most of it." in html
    assert re.search(
        r'<div class="admonition note">\s*<p class="admonition-title">Caveat</p>', html
    )
    assert "task-list-item" in html and 'type="checkbox"' in html
    assert re.search(r"<dl>\s*<dt>Warm-up</dt>", html)
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">' in html
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">' in html
    # Code is left alone: no math inside it.
    code = html[html.index("code stays code") - 200 : html.index("code stays code") + 60]
    assert "<math" not in code and "$x$" in code
    # Nothing fetched from outside for math: no MathJax, no KaTeX.
    assert "mathjax" not in html.lower() and "katex" not in html.lower()


def test_the_authors_extensions_are_kept(tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "index.md").write_text("# X\n\n- [x] done\n", encoding="utf-8")
    config = MKDOCS + "markdown_extensions:\n  - pymdownx.tasklist:\n      custom_checkbox: true\n"
    (tmp_path / "mkdocs.yml").write_text(config, encoding="utf-8")
    result = build_site(Project.load(tmp_path / "mkdocs.yml"), tmp_path / "site")
    assert result.errors == []
    html = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert 'class="task-list-indicator"' in html  # the author's option, not a bare default
