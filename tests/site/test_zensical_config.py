"""The staged mkdocs.yml Zensical builds from keeps the original's YAML tags and paths."""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path

import pytest
import yaml

from labbook.example_runs import write_example_runs
from labbook.project import Project
from labbook.site.assets import MARKDOWN_EXTENSIONS
from labbook.site.build import build_site
from labbook.site.zensical import _staged_config
from labbook.yamlfiles import load_tolerant
from tests.skips import skip_or_fail

MKDOCS_YML = """\
site_name: !ENV [LABBOOK_TEST_SITE_NAME, "Fallback"]
docs_dir: reports
theme:
  name: material
  custom_dir: overrides
hooks:
  - hooks/noop.py
markdown_extensions:
  - attr_list
  - pymdownx.emoji:
      emoji_index: !!python/name:material.extensions.emoji.twemoji
      emoji_generator: !!python/name:material.extensions.emoji.to_svg
  - pymdownx.snippets:
      base_path: [snips]
plugins:
  - search
  - labbook:
      sources:
        local: runs
"""


def _project(root: Path, config: str = MKDOCS_YML) -> Project:
    root.mkdir(parents=True, exist_ok=True)
    (root / "mkdocs.yml").write_text(config, encoding="utf-8")
    (root / "reports").mkdir()
    (root / "reports" / "index.md").write_text(
        '# Home\n\nA smile :smile:\n\n--8<-- "note.md"\n', encoding="utf-8"
    )
    (root / "snips").mkdir()
    (root / "snips" / "note.md").write_text("Snippet text from snips.\n", encoding="utf-8")
    (root / "overrides").mkdir()
    (root / "hooks").mkdir()
    (root / "hooks" / "noop.py").write_text("", encoding="utf-8")
    write_example_runs(root / "runs")
    return Project.load(root / "mkdocs.yml")


def test_staged_config_keeps_tags_and_makes_paths_absolute(tmp_path: Path) -> None:
    project = _project(tmp_path / "book")
    text = _staged_config(project)
    assert '!ENV [LABBOOK_TEST_SITE_NAME, "Fallback"]' in text or (
        "!ENV [LABBOOK_TEST_SITE_NAME, Fallback]" in text
    )
    assert "!!python/name:material.extensions.emoji.twemoji" in text
    assert "!!python/name:material.extensions.emoji.to_svg" in text
    staged = load_tolerant(text)
    root = project.root
    assert staged["site_name"] == ["LABBOOK_TEST_SITE_NAME", "Fallback"]
    assert staged["docs_dir"] == "docs"
    assert staged["site_dir"] == "site"
    assert staged["plugins"] == ["search"]
    assert staged["theme"]["font"] is False
    assert staged["theme"]["custom_dir"] == str(root / "overrides")
    assert staged["hooks"] == [str(root / "hooks" / "noop.py")]
    snippets = next(e for e in staged["markdown_extensions"] if "pymdownx.snippets" in e)
    assert snippets["pymdownx.snippets"]["base_path"] == [str(root / "snips")]
    assert staged["extra_css"] and staged["extra_javascript"]


def test_staged_config_simple_forms(tmp_path: Path) -> None:
    config = textwrap.dedent(
        """\
        INHERIT: base.yml
        site_name: Lab
        docs_dir: reports
        theme: material
        markdown_extensions:
          - pymdownx.snippets
        plugins:
          labbook:
            sources: {local: runs}
          search: {}
        extra_css: [custom.css]
        """
    )
    # MkDocs refuses an INHERIT whose file is missing, and labbook reads mkdocs.yml as it does.
    (tmp_path / "book").mkdir(parents=True, exist_ok=True)
    (tmp_path / "book" / "base.yml").write_text("site_description: inherited\n")
    project = _project(tmp_path / "book", config)
    staged = yaml.safe_load(_staged_config(project))
    root = project.root
    assert staged["INHERIT"] == str(root / "base.yml")
    assert staged["theme"] == {"name": "material", "font": False}
    assert staged["plugins"] == {"search": {}}
    # The author's extensions first, as written; then the commentary ones labbook adds.
    assert staged["markdown_extensions"] == [
        {"pymdownx.snippets": {"base_path": [str(root)]}},
        *MARKDOWN_EXTENSIONS,
    ]
    assert staged["extra_css"][0] == "custom.css" and len(staged["extra_css"]) > 1


@pytest.fixture(scope="module")
def zensical_available() -> None:
    if importlib.util.find_spec("zensical") is None:
        skip_or_fail("Zensical is not installed")


@pytest.mark.parametrize("site_name", ["Env Lab Name", None])
def test_zensical_build_resolves_tags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zensical_available: None, site_name: str | None
) -> None:
    if site_name is None:
        monkeypatch.delenv("LABBOOK_TEST_SITE_NAME", raising=False)
    else:
        monkeypatch.setenv("LABBOOK_TEST_SITE_NAME", site_name)
    project = _project(tmp_path / "book")
    result = build_site(project, tmp_path / "site", engine="zensical")
    assert not result.errors, [str(e) for e in result.errors]
    html = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    title = html.split("<title>", 1)[1].split("</title>", 1)[0]
    assert (site_name or "Fallback") in title
    assert "Snippet text from snips." in html
    assert "twemoji" in html  # the emoji index and generator were resolved
