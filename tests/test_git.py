"""labbook.git against real repositories made with the git CLI."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from labbook.git import BuildInfo, FileHistory, GitHistory
from tests.gitrepo import commit, git, init_repo, isolate_git, outside_git

RESUME = "reports/résumé.md"
SPACED = "reports/my report.md"
# Ana first committed under an old name and address; .mailmap names her canonically.
MAILMAP = "Ana Lima <ana@lab.example> Ana L <ana@old.example>\n"


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Gives a repository: Ana (old identity), then Bo, then Ana (canonical) edit résumé.md."""
    isolate_git(monkeypatch, tmp_path / "home")
    root = init_repo(tmp_path / "lab")
    commit(
        root,
        "Ana L",
        "ana@old.example",
        "2026-11-01T10:00:00+00:00",
        {".mailmap": MAILMAP, RESUME: "1\n", SPACED: "1\n"},
        "Start the résumé",
    )
    commit(root, "Bo Chen", "bo@lab.example", "2026-11-05T09:30:00+00:00", {RESUME: "2\n"})
    commit(
        root,
        "Ana Lima",
        "ana@lab.example",
        "2026-11-07T12:00:00+02:00",
        {RESUME: "3\n"},
        "Final numbers",
    )
    return root


def test_authors_as_mailmap_maps_them_first_author_first(lab: Path) -> None:
    # Without .mailmap the first author would read "Ana L": the test proves the mapping.
    assert git(lab, "log", "--reverse", "--format=%an", "--", RESUME).splitlines()[0] == "Ana L"
    history = GitHistory(lab).of(lab / RESUME)
    assert history.authors == ("Ana Lima", "Bo Chen")
    assert [c.email for c in history.commits] == [
        "ana@lab.example",
        "bo@lab.example",
        "ana@lab.example",
    ]


def test_created_and_last_edited_are_the_first_and_newest_author_dates(lab: Path) -> None:
    history = GitHistory(lab).of(lab / RESUME)
    assert history.created == datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
    assert history.last_edited == datetime(2026, 11, 7, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert history.last_edited.utcoffset() == timedelta(hours=2)  # the author's own clock
    assert [c.subject for c in history.commits] == ["Final numbers", "edit", "Start the résumé"]
    assert history.commits[0].hexsha == git(lab, "rev-parse", "HEAD")


def test_non_ascii_and_space_holding_paths(lab: Path) -> None:
    # git's default output quotes the non-ASCII name; the history must not depend on that.
    assert '"reports/r\\303\\251sum\\303\\251.md"' in git(lab, "log", "--name-only")
    history = GitHistory(lab)
    spaced = history.of(lab / SPACED)
    assert spaced.authors == ("Ana Lima",)
    assert spaced.created == spaced.last_edited == datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
    assert history.of(Path(RESUME)).authors == ("Ana Lima", "Bo Chen")  # relative to the root
    assert history.of(lab / "reports" / "new.md") == FileHistory()
    assert history.of(lab.parent / "elsewhere.md") == FileHistory()


def test_build_commit_and_dirty_tree(lab: Path) -> None:
    info = GitHistory(lab).build_info()
    assert info.commit == git(lab, "rev-parse", "HEAD")
    assert info.short_commit == git(lab, "rev-parse", "--short", "HEAD")
    assert info.dirty is False
    (lab / "site").mkdir()
    (lab / "site" / "index.html").write_text("built")  # untracked output is not a change
    assert GitHistory(lab).build_info().dirty is False
    (lab / RESUME).write_text("4\n", encoding="utf-8")
    assert GitHistory(lab).build_info() == BuildInfo(info.commit, info.short_commit, dirty=True)


def test_project_in_a_subfolder_of_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_git(monkeypatch, tmp_path / "home")
    top = init_repo(tmp_path / "mono")
    commit(
        top, "Ana Lima", "ana@lab.example", "2026-11-01T10:00:00+00:00", {"lab/reports/a.md": "1"}
    )
    commit(top, "Bo Chen", "bo@lab.example", "2026-11-02T10:00:00+00:00", {"README.md": "x"})
    history = GitHistory(top / "lab")
    assert history.of(top / "lab" / "reports" / "a.md").authors == ("Ana Lima",)
    assert history.of(Path("reports/a.md")).authors == ("Ana Lima",)
    assert history.of(top / "README.md") == FileHistory()  # outside the project's folder
    assert history.build_info().commit == git(top, "rev-parse", "HEAD")


@pytest.mark.parametrize("make", [outside_git, init_repo], ids=["not-a-repository", "no-commits"])
def test_outside_git_every_answer_is_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make: Callable[[Path], Path]
) -> None:
    isolate_git(monkeypatch, tmp_path / "home")
    root = make(tmp_path / "lab")
    (root / "a.md").write_text("x")
    if make is init_repo:
        git(root, "add", "a.md")  # staged, never committed
    history = GitHistory(root)
    assert history.of(root / "a.md") == FileHistory()
    assert history.build_info() == BuildInfo(commit=None, short_commit=None, dirty=False)
    assert GitHistory(tmp_path / "missing").of(tmp_path / "missing" / "a.md") == FileHistory()


def test_no_git_executable_gives_empty_answers(lab: Path, tmp_path: Path) -> None:
    # A fresh interpreter with no git on PATH: GitPython refuses to import there.
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    script = (
        "import sys; from pathlib import Path; from labbook.git import GitHistory\n"
        "h = GitHistory(Path(sys.argv[1]))\n"
        "print(h.of(Path(sys.argv[1]) / 'reports/my report.md'), h.build_info())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(lab)],
        env={"PATH": str(empty_bin), "HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert (
        out.strip()
        == "FileHistory(commits=()) BuildInfo(commit=None, short_commit=None, dirty=False)"
    )
