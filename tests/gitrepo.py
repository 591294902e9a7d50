"""A real git repository for tests, made with the `git` CLI and free of the machine's config."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.skips import skip_or_fail


def isolate_git(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """Makes git (the CLI and GitPython alike) ignore the machine's config and identity."""
    if shutil.which("git") is None:
        skip_or_fail("the git executable is not installed")
    home.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_CONFIG", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    for name in ("NAME", "EMAIL", "DATE"):
        for who in ("AUTHOR", "COMMITTER"):
            monkeypatch.delenv(f"GIT_{who}_{name}", raising=False)


def git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Gives the standard output of one git command run in `root`."""
    return subprocess.run(
        ["git", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    ).stdout.strip()


def init_repo(root: Path) -> Path:
    """Gives `root`, made an empty git repository on branch main."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    return root


def commit(
    root: Path, author: str, email: str, date: str, files: dict[str, str], message: str = "edit"
) -> str:
    """Gives the hexsha of a commit by `author` at `date` that writes `files` (path -> text)."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    env = {
        "GIT_AUTHOR_NAME": author,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_NAME": author,
        "GIT_COMMITTER_EMAIL": email,
        "GIT_COMMITTER_DATE": date,
    }
    git(root, "add", "-A", env=env)
    git(root, "commit", "-qm", message, env=env)
    return git(root, "rev-parse", "HEAD")


def outside_git(root: Path) -> Path:
    """Gives `root`, created, after checking that no git repository holds it."""
    root.mkdir(parents=True, exist_ok=True)
    inside = subprocess.run(["git", "rev-parse", "--git-dir"], cwd=root, capture_output=True)
    if inside.returncode == 0:  # GitPython would find that repository: the test means none
        pytest.fail(f"{root} is inside a git repository; give pytest a --basetemp outside one")
    return root
