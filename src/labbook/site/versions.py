"""Gives a versioned site: `site/V/` per version, `versions.json`, alias redirects, records.

Decisions:

- The layout is mike's, so Material's (and Zensical's) own version selector reads it:
  `site/versions.json` is a JSON list of `{"version", "title", "aliases"}`, newest
  first, and the selector fetches it as `../versions.json` from a version's root.
  Versions are ordered as mike orders them: names that do not start with a digit (or
  `v` and a digit), such as `dev`, first; then by their numbers, so `v10` follows `v9`.
  "The version before V" (what the Changes page and `labbook diff` compare with) is the
  next one in that order.
- An alias is a folder of redirect pages, one per page of its version (mike's
  `--alias-type redirect`): deep links such as `latest/lr-sweep/` work, on any host and
  any URL prefix (every link is relative), and without JavaScript (a meta refresh and a
  plain link; the script only keeps the `?query` and `#anchor`). No symlinks: a static
  host or an archive may not keep them.
- `site/index.html` redirects to the default: the first alias of the newest version, else
  the newest version. labbook writes it only when it is absent or its own redirect, so
  an unversioned build already in `site/` is never overwritten silently.
- A version is built into a staging folder beside the others and moved into place when
  the build is done: a build that fails leaves the published versions as they were, and
  no build writes into another version's folder. Rebuilding an existing version needs
  `--force` (a usage error otherwise, exit 2).
- Each version carries its record, `site/V/labbook-version.json`: the commit it was built
  from, whether the work tree was dirty, when, and per report its source text, its runs,
  every value its expressions printed and every summary cell of its tables. A published
  site thus carries what `labbook diff` and the pages' version notes read; nothing else.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

from ..errors import LabbookError
from ..git import BuildInfo

VERSIONS_FILE = "versions.json"
RECORD_FILE = "labbook-version.json"
RECORD_FORMAT = 1
_REDIRECT_MARK = '<meta name="generator" content="labbook version redirect">'
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,99}")
_RESERVED = frozenset({VERSIONS_FILE, "index.html", "404.html", "assets"})


class VersionUsageError(LabbookError):
    """A version command asked for something that cannot be done: the CLI exits 2."""


# --- versions.json ----------------------------------------------------------------------


@dataclass
class VersionEntry:
    """One entry of versions.json, as mike writes it."""

    version: str
    title: str
    aliases: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "title": self.title, "aliases": list(self.aliases)}


def version_order(name: str) -> tuple[int, tuple[tuple[int, int | str], ...]]:
    """Gives a sort key, larger for newer: development names, then numbers as numbers."""
    development = 0 if re.match(r"v?\d", name) else 1
    parts = tuple(
        (1, int(p)) if p.isdigit() else (0, p) for p in re.findall(r"\d+|[^\d.\-_]+", name)
    )
    return development, parts


def check_name(name: str, kind: str = "version") -> str:
    """Gives the name when it can be a folder of the site; raises VersionUsageError otherwise."""
    # Stricter than mike (which refuses only slashes): the name is a folder, a URL part
    # and a title in the nav, and none of these may need escaping.
    if not _NAME.fullmatch(name) or name in _RESERVED:
        raise VersionUsageError(
            f"{name!r} cannot be {'an' if kind[0] in 'aeiou' else 'a'} {kind} name",
            hint="use letters, digits and . _ + - (starting with a letter or digit),"
            " such as v2, 2026-11-30 or latest",
        )
    return name


@dataclass
class Versions:
    """The versions of a site, read from and written to its versions.json."""

    root: Path  # the site folder holding versions.json and one folder per version
    entries: list[VersionEntry] = field(default_factory=list)

    @classmethod
    def load(cls, root: Path) -> Versions:
        """Gives the site's versions; none when it has no versions.json yet."""
        path = root / VERSIONS_FILE
        if not path.exists():
            return cls(root)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            entries = [
                VersionEntry(
                    str(d["version"]), str(d.get("title", d["version"])), list(d["aliases"])
                )
                for d in data
            ]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LabbookError(
                f"cannot read the list of versions: {exc}",
                file=path,
                hint="it must be a JSON list of {version, title, aliases}, as mike writes it",
            ) from exc
        return cls(root, entries).sorted()

    def sorted(self) -> Versions:
        self.entries.sort(key=lambda e: version_order(e.version), reverse=True)
        return self

    def save(self) -> None:
        self.sorted()
        self.root.mkdir(parents=True, exist_ok=True)
        text = json.dumps([e.to_json() for e in self.entries], indent=2, ensure_ascii=False)
        (self.root / VERSIONS_FILE).write_text(text + "\n", encoding="utf-8")

    @property
    def names(self) -> list[str]:
        return [e.version for e in self.entries]

    def get(self, version: str) -> VersionEntry | None:
        return next((e for e in self.entries if e.version == version), None)

    def owner_of(self, alias: str) -> VersionEntry | None:
        """Gives the version an alias points to, or None."""
        return next((e for e in self.entries if alias in e.aliases), None)

    def find(self, identifier: str) -> VersionEntry:
        """Gives the version named, or pointed to by an alias; an error names the versions."""
        entry = self.get(identifier) or self.owner_of(identifier)
        if entry is None:
            raise VersionUsageError(
                f"no version {identifier!r} in {self.root / VERSIONS_FILE}",
                hint=self.known_hint(),
            )
        return entry

    def known_hint(self) -> str:
        if not self.entries:
            return "no version is built yet: build one with `labbook build --version V`"
        names = []
        for e in self.entries:
            names.append(e.version + (f" ({', '.join(e.aliases)})" if e.aliases else ""))
        return "versions: " + ", ".join(names)

    def default(self) -> str | None:
        """Gives where the site's root leads: the newest version's first alias, else itself."""
        if not self.entries:
            return None
        newest = self.entries[0]
        return newest.aliases[0] if newest.aliases else newest.version


# --- redirect pages ---------------------------------------------------------------------


def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("labbook", "templates/site"),
        autoescape=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def redirect_page(href: str) -> str:
    """Gives an HTML page that sends the reader to `href` (relative), with or without JS."""
    return _templates().get_template("redirect.html").render(href=href, mark=_REDIRECT_MARK)


def is_redirect(path: Path) -> bool:
    """Tells whether a file is one of labbook's redirect pages."""
    try:
        return _REDIRECT_MARK in path.read_text(encoding="utf-8", errors="replace")[:2000]
    except OSError:
        return False


def _href(src: str, dest: str) -> str:
    """Gives the relative URL from the page at site path `src` to the page at `dest`."""
    href = posixpath.relpath(dest, posixpath.dirname(src))
    if posixpath.basename(href) == "index.html":
        href = posixpath.dirname(href) + "/"
        href = "./" if href == "/" else href
    return href


def write_alias(root: Path, alias: str, version: str) -> int:
    """Gives the number of redirect pages written to make `root/alias/` lead to `root/version/`.

    The alias folder is replaced: pages the version no longer has do not linger.
    """
    target = root / alias
    if target.exists():
        shutil.rmtree(target)
    written = 0
    source = root / version
    for page in sorted(source.rglob("*.html")):
        relative = page.relative_to(source).as_posix()
        out = target / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        href = _href(f"{alias}/{relative}", f"{version}/{relative}")
        out.write_text(redirect_page(href), encoding="utf-8")
        written += 1
    return written


def write_root_redirect(versions: Versions) -> None:
    """Points `site/index.html` at the default version; leaves a page of another build alone."""
    index = versions.root / "index.html"
    default = versions.default()
    if index.exists() and not is_redirect(index):
        return
    if default is None:
        index.unlink(missing_ok=True)
        return
    index.write_text(redirect_page(f"{default}/"), encoding="utf-8")


def _refuse_unversioned(root: Path) -> None:
    index = root / "index.html"
    if index.exists() and not is_redirect(index) and not (root / VERSIONS_FILE).exists():
        raise VersionUsageError(
            f"{root} holds a build without versions ({index.name} is a page of it)",
            hint=f"remove it (rm -r {root}) or give the versioned site its own folder with -d",
        )


# --- version records --------------------------------------------------------------------


@dataclass(frozen=True)
class CommitRecord:
    """A commit that changed a report, as its version record keeps it."""

    commit: str
    author: str
    date: str  # ISO 8601 author date


@dataclass(frozen=True)
class ValueRecord:
    """A value the report printed (see blocks.page.PrintedValue)."""

    kind: str
    key: str
    text: str
    number: float | None
    line: int | None = None
    run: str | None = None
    run_name: str | None = None
    column: str | None = None


@dataclass(frozen=True)
class ReportRecord:
    """What one version of a report showed: its text, runs and printed values."""

    path: str  # inside the docs folder, `lr-sweep.md`
    title: str | None
    url: str | None  # its page, from the version's root: `lr-sweep/`
    text: str | None  # the source as compiled
    history: tuple[CommitRecord, ...] = ()  # the file's commits at the build, newest first
    runs: tuple[tuple[str, str], ...] = ()  # (ref, name)
    values: tuple[ValueRecord, ...] = ()
    errors: int = 0  # problems the build found in it


@dataclass(frozen=True)
class VersionRecord:
    """What a version was built from and what each of its reports showed."""

    version: str
    title: str
    built_at: str
    commit: str | None
    short_commit: str | None
    dirty: bool
    reports: dict[str, ReportRecord] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["format"] = RECORD_FORMAT
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VersionRecord:
        reports = {}
        for path, r in data.get("reports", {}).items():
            reports[path] = ReportRecord(
                path=r["path"],
                title=r.get("title"),
                url=r.get("url"),
                text=r.get("text"),
                history=tuple(CommitRecord(**c) for c in r.get("history", ())),
                runs=tuple((str(ref), str(name)) for ref, name in r.get("runs", ())),
                values=tuple(ValueRecord(**v) for v in r.get("values", ())),
                errors=int(r.get("errors", 0)),
            )
        return cls(
            version=str(data["version"]),
            title=str(data.get("title", data["version"])),
            built_at=str(data.get("built_at", "")),
            commit=data.get("commit"),
            short_commit=data.get("short_commit"),
            dirty=bool(data.get("dirty", False)),
            reports=reports,
        )


def record_path(root: Path, version: str) -> Path:
    return root / version / RECORD_FILE


def load_record(root: Path, version: str) -> VersionRecord:
    """Gives a built version's record; an error says which file and what to do."""
    path = record_path(root, version)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return VersionRecord.from_json(data)
    except FileNotFoundError as exc:
        raise LabbookError(
            f"version {version!r} has no record ({RECORD_FILE})",
            file=path,
            hint="it was not built by labbook; rebuild it with `labbook build --version "
            f"{version} --force` to compare it",
        ) from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LabbookError(
            f"cannot read the record of version {version!r}: {exc}",
            file=path,
            hint=f"rebuild it with `labbook build --version {version} --force`",
        ) from exc


def report_record(
    path: str,
    *,
    title: str | None,
    url: str | None,
    text: str | None,
    commits: Iterable[Any],
    runs: Iterable[Any],
    values: Iterable[Any],
    errors: int = 0,
) -> ReportRecord:
    """Gives a report's record from its compiled page's parts (git commits, runs, values)."""
    return ReportRecord(
        path=path,
        title=title,
        url=url,
        text=text,
        history=tuple(CommitRecord(c.hexsha, c.author, c.date.isoformat()) for c in commits),
        runs=tuple((r.ref, r.name) for r in runs),
        values=tuple(ValueRecord(**asdict(v)) for v in values),
        errors=errors,
    )


# --- one version build ------------------------------------------------------------------


@dataclass
class VersionBuild:
    """A version being built: its names, where it goes, and the versions built before it."""

    root: Path  # the site folder: versions.json and one folder per version
    version: str
    title: str
    aliases: list[str]
    previous: VersionRecord | None = None  # the version just before, for the Changes page
    earlier: list[VersionRecord] = field(default_factory=list)  # every older one, oldest first
    reports: dict[str, ReportRecord] = field(default_factory=dict)  # filled as pages compile

    @property
    def staging(self) -> Path:
        """Gives the folder the engine builds into, moved to `root/version` when done."""
        return self.root / f".{self.version}.building"


def prepare_version(
    root: Path,
    version: str,
    *,
    aliases: Sequence[str] = (),
    title: str | None = None,
    force: bool = False,
) -> VersionBuild:
    """Gives the plan of a version build, or refuses one that would overwrite something."""
    check_name(version)
    for alias in aliases:
        check_name(alias, "alias")
    if version in aliases:
        raise VersionUsageError(
            f"{version!r} is both the version and one of its aliases",
            hint="an alias is another name: e.g. --version v2 --alias latest",
        )
    _refuse_unversioned(root)
    versions = Versions.load(root)
    owner = versions.owner_of(version)
    if owner is not None:
        raise VersionUsageError(
            f"{version!r} is an alias of version {owner.version!r}, not a version",
            hint=f"choose another version name, or move the alias first with "
            f"`labbook versions alias {version} OTHER`",
        )
    for alias in aliases:
        if versions.get(alias) is not None:
            raise VersionUsageError(
                f"the alias {alias!r} is the name of a version",
                hint=f"choose another alias, or delete that version (`labbook versions delete {alias}`)",
            )
    if not force and (versions.get(version) is not None or (root / version).exists()):
        raise VersionUsageError(
            f"version {version!r} is already built in {root / version}",
            hint="published versions are kept as they are: choose a new version name, or add "
            "--force to replace this one",
        )
    older = sorted(
        (e for e in versions.entries if version_order(e.version) < version_order(version)),
        key=lambda e: version_order(e.version),
    )
    earlier = [load_record(root, e.version) for e in older if record_path(root, e.version).exists()]
    entry = versions.get(version)
    plan = VersionBuild(
        root=root,
        version=version,
        title=title or (entry.title if entry else version),
        aliases=list(aliases),
        earlier=earlier,
        previous=earlier[-1] if earlier else None,
    )
    if plan.staging.exists():  # what a build that was killed left
        shutil.rmtree(plan.staging)
    return plan


def finish_version(plan: VersionBuild, build: BuildInfo) -> VersionRecord:
    """Gives the version's record, after moving the build into place and updating the list."""
    record = VersionRecord(
        version=plan.version,
        title=plan.title,
        built_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
        commit=build.commit,
        short_commit=build.short_commit,
        dirty=build.dirty,
        reports=dict(sorted(plan.reports.items())),
    )
    text = json.dumps(record.to_json(), indent=2, sort_keys=True, ensure_ascii=False)
    (plan.staging / RECORD_FILE).write_text(text + "\n", encoding="utf-8")
    final = plan.root / plan.version
    if final.exists():  # --force: checked in prepare_version
        shutil.rmtree(final)
    os.replace(plan.staging, final)

    versions = Versions.load(plan.root)
    for other in versions.entries:  # an alias names one version: it moves here
        other.aliases = [a for a in other.aliases if a not in plan.aliases]
    entry = versions.get(plan.version)
    if entry is None:
        entry = VersionEntry(plan.version, plan.title, list(plan.aliases))
        versions.entries.append(entry)
    else:
        entry.title = plan.title
        entry.aliases = list(dict.fromkeys([*entry.aliases, *plan.aliases]))
    versions.save()
    for alias in entry.aliases:
        write_alias(plan.root, alias, plan.version)
    write_root_redirect(versions)
    return record


def abandon_version(plan: VersionBuild) -> None:
    """Removes what a failed version build wrote; the published versions stay as they were."""
    if plan.staging.exists():
        shutil.rmtree(plan.staging)


# --- the versions command ---------------------------------------------------------------


@dataclass(frozen=True)
class VersionInfo:
    """A published version as `labbook versions` lists it."""

    version: str
    title: str
    aliases: tuple[str, ...]
    built_at: str | None
    commit: str | None
    dirty: bool


def list_versions(root: Path) -> list[VersionInfo]:
    """Gives the site's versions, newest first, with when and from which commit each was built."""
    out = []
    for entry in Versions.load(root).entries:
        built_at = commit = None
        dirty = False
        if record_path(root, entry.version).exists():
            record = load_record(root, entry.version)
            built_at, commit, dirty = record.built_at, record.short_commit, record.dirty
        out.append(
            VersionInfo(entry.version, entry.title, tuple(entry.aliases), built_at, commit, dirty)
        )
    return out


def delete_version(root: Path, version: str) -> VersionEntry:
    """Gives the deleted entry, after removing its folder and its aliases' folders."""
    versions = Versions.load(root)
    entry = versions.get(version)
    if entry is None:
        owner = versions.owner_of(version)
        if owner is not None:
            raise VersionUsageError(
                f"{version!r} is an alias of {owner.version!r}, not a version",
                hint=f"move it with `labbook versions alias {version} OTHER`, "
                f"or delete the version itself: `labbook versions delete {owner.version}`",
            )
        raise VersionUsageError(f"no version {version!r} to delete", hint=versions.known_hint())
    versions.entries.remove(entry)
    versions.save()
    for name in (entry.version, *entry.aliases):
        if (root / name).exists():
            shutil.rmtree(root / name)
    write_root_redirect(versions)
    return entry


def move_alias(root: Path, alias: str, version: str) -> tuple[str | None, str]:
    """Gives (the version the alias left, the one it names now), its redirects rewritten."""
    check_name(alias, "alias")
    versions = Versions.load(root)
    if versions.get(alias) is not None:
        raise VersionUsageError(
            f"{alias!r} is a version, not an alias", hint="choose another alias name"
        )
    target = versions.find(version)
    previous = versions.owner_of(alias)
    for entry in versions.entries:
        entry.aliases = [a for a in entry.aliases if a != alias]
    target.aliases.append(alias)
    versions.save()
    write_alias(root, alias, target.version)
    write_root_redirect(versions)
    return (previous.version if previous else None), target.version
