"""Authors and last edits come from one `git log` over the project."""

from __future__ import annotations

import subprocess
from pathlib import Path

from labbook.report.compile import GitHistory


def commit(root: Path, author: str, date: str, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    env = {
        "GIT_AUTHOR_NAME": author,
        "GIT_AUTHOR_EMAIL": "a@example.org",
        "GIT_COMMITTER_NAME": author,
        "GIT_COMMITTER_EMAIL": "a@example.org",
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
        "PATH": "/usr/bin:/bin",
    }
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, env=env)
    subprocess.run(["git", "commit", "-qm", "x"], cwd=root, check=True, env=env)


def test_authors_first_commit_first_and_last_edit(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    commit(
        tmp_path,
        "Ana Lima",
        "2026-11-01T10:00:00+00:00",
        {"reports/a.md": "1", "reports/b.md": "1"},
    )
    commit(tmp_path, "Bo Chen", "2026-11-05T10:00:00+00:00", {"reports/a.md": "2"})
    commit(tmp_path, "Ana Lima", "2026-11-07T10:00:00+00:00", {"reports/a.md": "3"})
    history = GitHistory(tmp_path)
    assert history.of(tmp_path / "reports" / "a.md") == (
        ["Ana Lima", "Bo Chen"],
        "2026-11-07T10:00:00+00:00",
    )
    assert history.of(tmp_path / "reports" / "b.md") == (["Ana Lima"], "2026-11-01T10:00:00+00:00")
    assert history.of(tmp_path / "reports" / "new.md") == ([], None)


def test_no_git_repository_gives_no_history(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("x")
    assert GitHistory(tmp_path).of(tmp_path / "a.md") == ([], None)
