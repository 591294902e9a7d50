"""The page cache: a report compiled once is not compiled again while nothing it rests on changed.

A warm build of an unchanged lab book then costs what MkDocs costs: no source is opened,
no run is read, and neither NumPy nor the report compiler is imported.

A page is kept under `.labbook/cache/pages/<key>.json`, where the key is a digest of
everything its compiled form follows from:

- labbook itself (its version and its files' sizes and times, so an upgrade recompiles);
- the report's path and text, and the build's settings (sources with their options,
  `max_points`, goals, whether snapshots are preferred, read afresh or required);
- the project's `themes/` folder and `.labbook/snapshots/`;
- git's HEAD commit (the byline's authors and dates come from the history);
- every configured source's state: the sizes and times of the files it reads (an
  MLflow store, the SQLite file and its WAL, the run folders).

Decisions:

- A source with nothing to fingerprint (a tracking server, the W&B API) makes every
  page uncacheable: a query's answer could change with no file changing here.
- Pages with errors are never kept: they are compiled (and reported) each build. Warnings
  are kept with the page and reported again when it is reused, and so are the sources'
  own problems (a corrupt run file), kept with the list of sources.
- A kept page holds what the site and the PDF cover show (title, authors, newest
  commit, when its data was read), so `build --pdf` and `labbook pdf` use it too, each
  with a key of its own (a page that links its PDF; a page compiled for print). All of
  them share the one manifest of the sources' files. Version builds, which record every
  value of every compiled page, do not use it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from . import __version__, errors
from .errors import LabbookError
from .export.files import write_atomically
from .fingerprint import digest, fingerprint

FORMAT = 2  # 2: pages keep their cover's fields
_PACKAGE = Path(__file__).resolve().parent


@dataclass
class CachedPage:
    """A page as the site needs it, read back from the cache (a CompiledPage's site fields)."""

    path: Path
    markdown: str
    title: str | None = None
    warnings: list[LabbookError] = field(default_factory=list)
    errors: list[LabbookError] = field(default_factory=list)  # always empty: never kept
    files: dict[str, bytes] = field(default_factory=dict)
    # What the PDF's cover says, as the CompiledPage had it.
    authors: list[str] = field(default_factory=list)
    last_commit: tuple[str, datetime] | None = None
    read_at: datetime | None = None
    frozen: bool = False


def _error_record(error: LabbookError) -> dict[str, Any]:
    return {
        "kind": type(error).__name__,
        "message": error.message,
        "file": error.file,
        "line": error.line,
        "column": error.column,
        "source": error.source,
        "hint": error.hint,
    }


def _error(record: dict[str, Any]) -> LabbookError:
    kind = getattr(errors, str(record.get("kind")), LabbookError)
    if (
        not (isinstance(kind, type) and issubclass(kind, LabbookError))
        or kind is errors.ReportErrors
    ):
        kind = LabbookError
    return kind(
        str(record["message"]),
        file=record.get("file"),
        line=record.get("line"),
        column=record.get("column"),
        source=record.get("source"),
        hint=record.get("hint"),
    )


def _git_head(root: Path) -> str | None:
    """Gives the commit HEAD names, read from .git without git; None when it cannot tell."""
    for folder in (root, *root.parents):
        dot = folder / ".git"
        if dot.is_file():  # a worktree: "gitdir: PATH"
            text = dot.read_text(encoding="utf-8", errors="replace").strip()
            if not text.startswith("gitdir:"):
                return None
            dot = (folder / text.partition(":")[2].strip()).resolve()
        if not dot.is_dir():
            continue
        try:
            head = (dot / "HEAD").read_text(encoding="utf-8").strip()
        except OSError:
            return None
        if not head.startswith("ref:"):
            return head
        ref = head.partition(":")[2].strip()
        common = dot
        if (dot / "commondir").is_file():
            common = (dot / (dot / "commondir").read_text(encoding="utf-8").strip()).resolve()
        for base in (dot, common):
            try:
                return (base / ref).read_text(encoding="utf-8").strip()
            except OSError:
                pass
            try:
                for line in (base / "packed-refs").read_text(encoding="utf-8").splitlines():
                    if line.endswith(" " + ref):
                        return line.split(" ", 1)[0]
            except OSError:
                pass
        return "unborn:" + ref  # a branch with no commit yet
    return "no-git"


def read_report_text(path: Path) -> str | None:
    """Gives a report's text as the compiler reads it; None when it cannot (the compiler says why)."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None


def json_safe(value: Any) -> Any:
    """Gives settings as plain JSON data (mappings, lists, text and numbers)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if hasattr(value, "items"):
        return {str(k): json_safe(v) for k, v in value.items()}
    return str(value)


class PageCache:
    """The page cache of one build."""

    @classmethod
    def for_project(cls, project: Any) -> PageCache | None:
        """Gives the project's page cache; None when its settings turn the cache off.

        Every command that keeps pages (`build`, `pdf`) keys them with the same settings,
        so they share one manifest of the sources' files and keep each other's pages.
        """
        if not project.settings.cache:
            return None
        key = {"settings": asdict(project.settings), "data": project.data_mode}
        return cls(project.root, json_safe(key))

    def __init__(self, root: Path, settings: dict[str, Any]) -> None:
        self.root = root
        self.folder = root / ".labbook" / "cache" / "pages"
        self.settings = settings
        self.hits = 0
        self.sources_kept = False  # this build wrote the sources' manifest
        self._base: str | bool | None = False  # False: not worked out yet

    # -- the key ---------------------------------------------------------------------------

    def _manifest(self) -> dict[str, Any]:
        try:
            data = json.loads((self.folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) and data.get("format") == FORMAT else {}

    def _source_state(self, manifest: dict[str, Any]) -> list[Any] | None:
        sources = manifest.get("sources")
        if not isinstance(sources, dict) or manifest.get("settings") != self.settings:
            return None  # sources changed since the manifest: their files are not known
        state = []
        for name, paths in sorted(sources.items()):
            if not paths:
                return None  # a source with no files to fingerprint: nothing can be trusted
            state.append([name, fingerprint([Path(p) for p in paths])])
        return state

    def base_key(self) -> str | None:
        """Gives the part of every page's key that the whole build shares; None: no page cache."""
        if self._base is False:
            manifest = self._manifest()
            state = self._source_state(manifest) if manifest else None
            head = _git_head(self.root)
            if state is None or head is None:
                self._base = None
            else:
                self._base = digest(
                    [
                        FORMAT,
                        __version__,
                        fingerprint([_PACKAGE]),
                        self.settings,
                        state,
                        head,
                        fingerprint([self.root / "themes"]),
                        fingerprint([self.root / ".labbook" / "snapshots"]),
                    ]
                )
        return self._base  # type: ignore[return-value]

    def _key(self, path: Path, text: str, extra: Any) -> str | None:
        base = self.base_key()
        if base is None:
            return None
        return digest([base, str(path), text, extra])

    # -- pages -----------------------------------------------------------------------------

    def get(self, path: Path, text: str, extra: Any = None) -> CachedPage | None:
        """Gives the page kept for this report text, or None."""
        key = self._key(path, text, extra)
        if key is None:
            return None
        try:
            data = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            files = {
                name: (self.folder / "files" / name).read_bytes() for name in data.get("files", [])
            }
        except (OSError, ValueError):
            return None
        self.hits += 1
        commit = data.get("last_commit")
        return CachedPage(
            path=path,
            markdown=str(data["markdown"]),
            title=data.get("title"),
            warnings=[_error(w) for w in data.get("warnings", [])],
            files=files,
            authors=[str(a) for a in data.get("authors", [])],
            last_commit=(str(commit[0]), datetime.fromisoformat(commit[1])) if commit else None,
            read_at=datetime.fromisoformat(data["read_at"]) if data.get("read_at") else None,
            frozen=bool(data.get("frozen")),
        )

    def put(self, page: Any, text: str, extra: Any = None) -> None:
        """Keeps a compiled page (one without errors) for the next build."""
        if page.errors:
            return
        key = self._key(page.path, text, extra)
        if key is None:
            return
        for name, data in page.files.items():
            target = self.folder / "files" / name
            if not target.exists():
                write_atomically(target, data)
        commit = page.last_commit
        record = {
            "markdown": page.markdown,
            "title": page.title,
            "warnings": [_error_record(w) for w in page.warnings],
            "files": sorted(page.files),
            "authors": list(page.authors),
            "last_commit": [commit[0], commit[1].isoformat()] if commit else None,
            "read_at": page.read_at.isoformat() if page.read_at else None,
            "frozen": page.frozen,
        }
        write_atomically(self.folder / f"{key}.json", json.dumps(record).encode())

    def source_problems(self) -> list[LabbookError]:
        """Gives the sources' problems as the last build that opened them found them."""
        return [_error(p) for p in self._manifest().get("problems", [])]

    def keep_compiled(self, project: Any, page: Any, text: str, extra: Any = None) -> None:
        """Keeps a page this build compiled, first writing the sources' manifest its key needs."""
        if not self.sources_kept:
            self.keep_sources(project, [])
        self.put(page, text, extra)

    def keep_sources(self, project: Any, problems: list[LabbookError]) -> None:
        """Keeps which files each of the project's opened sources reads, and their problems."""
        self.sources_kept = True
        paths = {
            name: ([] if s.remote else s.watched_paths()) for name, s in project.sources.items()
        }
        for name in project.failed_sources:
            paths[name] = []  # a source that would not open: nothing to trust
        self.write_manifest(paths, problems)

    def write_manifest(self, sources: dict[str, list[Path]], problems: list[LabbookError]) -> None:
        """Keeps what the sources read (their files) and found wrong, for the next build's key.

        Called after a build that opened its sources; the pages it kept were keyed with
        the manifest it found, so a changed manifest also retires them.
        """
        manifest = {
            "format": FORMAT,
            "settings": self.settings,
            "sources": {name: [str(p) for p in paths] for name, paths in sorted(sources.items())},
            "problems": [_error_record(p) for p in problems],
        }
        if manifest != self._manifest():
            write_atomically(self.folder / "manifest.json", json.dumps(manifest).encode())
            self._base = False
