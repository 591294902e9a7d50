"""A report's byline names its authors as .mailmap maps them; a build reads git history once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import git
import pytest

from labbook.project import Project
from labbook.report.compile import ProjectCompiler
from labbook.site.build import build_site
from tests.gitrepo import commit, init_repo, isolate_git, outside_git

MKDOCS = """\
site_name: History
docs_dir: reports
theme:
  name: material
plugins:
  - labbook:
      sources:
        local: runs
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Gives a lab book in git: résumé.md by Ana (under an old identity, then mapped) and Bo."""
    isolate_git(monkeypatch, tmp_path / "home")
    root = init_repo(tmp_path / "lab")
    (root / "runs").mkdir()
    commit(
        root,
        "Ana L",
        "ana@old.example",
        "2026-11-01T10:00:00+00:00",
        {
            "mkdocs.yml": MKDOCS,
            ".mailmap": "Ana Lima <ana@lab.example> <ana@old.example>\n",
            "reports/index.md": "# Home\n",
            "reports/résumé.md": "# Résumé\n\nFirst draft.\n",
            "reports/my report.md": "# Mine\n",
        },
    )
    commit(
        root,
        "Bo Chen",
        "bo@lab.example",
        "2026-11-05T09:30:00+00:00",
        {"reports/résumé.md": "# Résumé\n\nSecond draft.\n"},
    )
    return root


@pytest.fixture
def git_commands(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[str]]]:
    """Gives every git command GitPython runs from here on (each still runs for real)."""
    commands: list[list[str]] = []
    execute = git.cmd.Git.execute

    def counting(self: git.cmd.Git, command: Any, *args: Any, **kwargs: Any) -> Any:
        commands.append([str(part) for part in command])
        return execute(self, command, *args, **kwargs)

    monkeypatch.setattr(git.cmd.Git, "execute", counting)
    yield commands


def test_byline_names_mapped_authors_of_a_non_ascii_report(project: Path) -> None:
    compiler = ProjectCompiler(Project.load(project / "mkdocs.yml"))
    page = compiler.compile_file(project / "reports" / "résumé.md")
    assert '<span class="labbook-authors">Ana Lima, Bo Chen</span>' in page.markdown
    assert '<span class="labbook-edited">last edited 2026-11-05</span>' in page.markdown
    assert page.history.created == datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
    assert page.history.last_edited == datetime(2026, 11, 5, 9, 30, tzinfo=UTC)
    spaced = compiler.compile_file(project / "reports" / "my report.md")
    assert '<span class="labbook-authors">Ana Lima</span>' in spaced.markdown


def test_front_matter_authors_win_over_git(project: Path) -> None:
    compiler = ProjectCompiler(Project.load(project / "mkdocs.yml"))
    page = compiler.compile_file(
        project / "reports" / "résumé.md", "---\nauthors: [Cy Dore]\n---\n# Résumé\n"
    )
    assert '<span class="labbook-authors">Cy Dore</span>' in page.markdown
    assert "last edited 2026-11-05" in page.markdown


def test_a_build_reads_git_history_once(project: Path, git_commands: list[list[str]]) -> None:
    result = build_site(Project.load(project / "mkdocs.yml"), project / "site", engine="mkdocs")
    assert not result.errors
    html = (project / "site" / "résumé" / "index.html").read_text(encoding="utf-8")
    assert "Ana Lima, Bo Chen" in html
    assert "Ana L<" not in html and "Ana L," not in html
    logs = [c for c in git_commands if "log" in c]
    assert len(logs) == 1, logs  # three reports, one history read


def test_no_git_repository_gives_no_byline_authors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_git(monkeypatch, tmp_path / "home")
    root = outside_git(tmp_path / "lab")
    (root / "reports").mkdir()
    (root / "runs").mkdir()
    (root / "mkdocs.yml").write_text(MKDOCS)
    (root / "reports" / "a.md").write_text("# A\n")
    page = ProjectCompiler(Project.load(root / "mkdocs.yml")).compile_file(
        root / "reports" / "a.md"
    )
    assert page.errors == []
    assert "labbook-authors" not in page.markdown and "labbook-edited" not in page.markdown
    assert page.history.created is None
