"""Gives what git knows about a project: each file's authors and dates, and the build's commit.

Decisions:

- One `git log` per build, for the whole project, read through GitPython: a page costs
  a dictionary lookup, not a subprocess. `-z` keeps paths as git stores them (no
  quoting of non-ASCII bytes or spaces), and the output is decoded the way Python
  decodes file names (UTF-8 with surrogate escapes), so a path read from git equals
  the `Path` the build holds.
- Authors are `%aN`/`%aE`, the name and email as `.mailmap` (and `mailmap.file`)
  maps them, deduplicated by name, first author first.
- Dates are author dates (`%aI`): when the change was made, which a rebase keeps.
  Created is the oldest commit touching the file, last edited the newest, as
  mkdocs-git-revision-date-localized reads them. Renames are not followed: a moved
  report's history starts at the move (following them needs one `--follow` per file).
- Merge commits list no files (git's default), so a file's history is the commits
  that changed it, as `git log FILE` shows.
- Outside git (no repository, no commits, no git executable, a repository git
  refuses to read) every file has an empty history and the build has no commit:
  a build must work from an unpacked archive.
- Dirty means a tracked file differs from HEAD (staged or not), as `git describe
  --dirty` reads it; untracked files do not count (a built `site/` would otherwise
  make every second build dirty).

A file's history keeps its commits, newest first, so per-report history (what changed
in each version of a report) builds on `GitHistory.of(path).commits`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from git import Repo

# A record's header: commit, author name, author email, author date, subject. 0x1e and
# 0x1f cannot occur in the first four fields; the subject comes last so it may hold them.
_FORMAT = "%x1e%H%x1f%aN%x1f%aE%x1f%aI%x1f%s"
_HEADER = re.compile(r"\n?\x1e([0-9a-f]{40,64})\x1f([^\x1f]*)\x1f([^\x1f]*)\x1f([^\x1f]*)\x1f")
_LOG_TIMEOUT = 60  # seconds; a history read must not hang a build


@dataclass(frozen=True)
class Commit:
    """One commit as a file's history shows it."""

    hexsha: str
    author: str  # as .mailmap maps it
    email: str
    date: datetime  # author date, with the author's UTC offset
    subject: str


@dataclass(frozen=True)
class FileHistory:
    """A file's commits, newest first; empty when git does not know the file."""

    commits: tuple[Commit, ...] = ()

    @property
    def authors(self) -> tuple[str, ...]:
        """Gives the file's authors, first author first, each once."""
        return tuple(dict.fromkeys(c.author for c in reversed(self.commits)))

    @property
    def created(self) -> datetime | None:
        """Gives the author date of the file's first commit."""
        return self.commits[-1].date if self.commits else None

    @property
    def last_edited(self) -> datetime | None:
        """Gives the author date of the file's newest commit."""
        return self.commits[0].date if self.commits else None


@dataclass(frozen=True)
class BuildInfo:
    """The commit a build was made from and whether tracked files differed from it."""

    commit: str | None = None  # full hexsha of HEAD; None outside git or before a commit
    short_commit: str | None = None
    dirty: bool = False


@dataclass
class GitHistory:
    """Gives each file's history and the build's commit, reading git once per build.

    Nothing is read until asked; `of` reads the project's whole log on its first call.
    """

    root: Path
    _files: dict[str, FileHistory] | None = field(default=None, init=False, repr=False)
    _top: Path | None = field(default=None, init=False, repr=False)
    _build: BuildInfo | None = field(default=None, init=False, repr=False)

    def of(self, path: Path) -> FileHistory:
        """Gives the history of `path` (absolute, or relative to the project root)."""
        if self._files is None:
            self._files = self._read_log()
        if self._top is None:
            return FileHistory()
        key = _key(self.root / path, self._top)
        return self._files.get(key, FileHistory()) if key else FileHistory()

    def build_info(self) -> BuildInfo:
        """Gives the commit HEAD names and whether the work tree differs from it."""
        if self._build is None:
            self._build = BuildInfo()
            repo = _open(self.root)
            if repo is not None:
                with repo:
                    self._build = _build_info(repo)
        return self._build

    def _read_log(self) -> dict[str, FileHistory]:
        repo = _open(self.root)
        if repo is None:
            return {}
        from git.exc import GitError  # importable: `_open` gave a repository

        with repo:
            if repo.working_tree_dir is None:  # a bare repository holds no project files
                return {}
            top = Path(repo.working_tree_dir).resolve()
            args = ["-z", "--name-only", "--no-show-signature", "--no-color", f"--format={_FORMAT}"]
            below = _key(self.root, top)
            if below:  # a project in a subfolder reads only its own folder's history
                args += ["--", f":(literal){below}"]
            try:
                raw = repo.git.log(*args, stdout_as_string=False, kill_after_timeout=_LOG_TIMEOUT)
            except (GitError, OSError):  # no commits yet, or git refused the repository
                return {}
        self._top = top
        files = _parse_log(bytes(raw).decode("utf-8", "surrogateescape"))
        return {path: FileHistory(tuple(commits)) for path, commits in files.items()}


def _parse_log(text: str) -> dict[str, list[Commit]]:
    """Gives path -> commits that changed it, newest first, from `git log -z --name-only`."""
    files: dict[str, list[Commit]] = {}
    commit: Commit | None = None
    for token in text.split("\0"):
        header = _HEADER.match(token)
        if header:
            hexsha, author, email, date = header.groups()
            subject = token[header.end() :]
            commit = Commit(hexsha, author, email, datetime.fromisoformat(date), subject)
        elif commit is not None and token.strip("\n"):
            # The first name after a header follows the newline that ends the header.
            files.setdefault(token.removeprefix("\n"), []).append(commit)
    return files


def _key(path: Path, top: Path) -> str | None:
    """Gives `path` relative to the work tree `top` as git spells it, or None outside it."""
    # The folder is resolved, the name is not: git tracks a symlink, not its target.
    absolute = path.absolute()
    try:
        relative = (absolute.parent.resolve() / absolute.name).relative_to(top)
    except ValueError:
        return None
    key = relative.as_posix()
    return "" if key == "." else key


def _open(root: Path) -> Repo | None:
    """Gives the repository holding `root`, or None outside git or without a git executable."""
    try:
        from git import Repo  # GitPython refuses to import when no git executable exists
        from git.exc import GitError
    except ImportError:
        return None
    try:
        return Repo(root, search_parent_directories=True)
    except (GitError, OSError):
        return None


def _build_info(repo: Repo) -> BuildInfo:
    """Gives HEAD's commit and whether tracked files differ from it; empty before a commit."""
    from git.exc import GitError

    try:
        commit, short = repo.git.rev_parse("HEAD", "--short", "HEAD").split()
        dirty = repo.is_dirty(index=True, working_tree=True, untracked_files=False)
    except (GitError, OSError, ValueError):
        return BuildInfo()
    return BuildInfo(commit=commit, short_commit=short, dirty=dirty)
