"""Gives what changed in reports between two versions: their text, numbers and runs.

Decisions:

- Versions are compared through their records (`site/V/labbook-version.json`), never by
  rebuilding: a published site holds everything `labbook diff` needs, and a diff of last
  month's version shows what readers saw then, not what the trackers hold today.
- Text is compared word by word (words, runs of spaces and runs of punctuation are the
  tokens), and shown by line with one line of context, as `git diff --word-diff` does.
- A value is matched across versions by what printed it, not by its line (lines move
  when text does): an expression by its `{{ … }}` text and its count among equal ones, a
  table cell by its run and column. A number that changed shows its delta.
- A report changed in a version when its text, its runs or a value it printed differ from
  the version before; its authors and date are those of the commits that reached the
  report between the two builds (from git, kept in the records). A change with no new
  commit is a change of data ("runs and numbers"), stated so.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from ..escaping import escape_html, terminal_text
from ..project import Project
from ..report.compile import CompiledPage, page_dir, relative_report
from .versions import (
    ReportRecord,
    ValueRecord,
    VersionBuild,
    VersionRecord,
    VersionUsageError,
    report_record,
)

_TOKEN = re.compile(r"\w+|\s+|[^\w\s]+")
_RED, _GREEN, _DIM, _BOLD, _RESET = "\x1b[31m", "\x1b[32m", "\x1b[2m", "\x1b[1m", "\x1b[0m"


@dataclass(frozen=True)
class ValueChange:
    """One printed value in both versions (None where a version did not print it)."""

    kind: str
    key: str
    label: str  # how a reader names it: the expression, or "RUN column"
    old: ValueRecord | None
    new: ValueRecord | None

    @property
    def changed(self) -> bool:
        return (self.old.text if self.old else None) != (self.new.text if self.new else None)

    @property
    def delta(self) -> float | None:
        if self.old is None or self.new is None:
            return None
        if self.old.number is None or self.new.number is None:
            return None
        return self.new.number - self.old.number


@dataclass
class ReportDiff:
    """What changed in one report from one version to another."""

    path: str
    title: str | None
    status: str  # "changed", "unchanged", "added" or "removed"
    words: list[tuple[str, str]] = field(default_factory=list)  # (op, text): "=", "-", "+"
    values: list[ValueChange] = field(default_factory=list)
    runs_added: list[tuple[str, str]] = field(default_factory=list)  # (ref, name)
    runs_removed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def text_changed(self) -> bool:
        return any(op != "=" for op, _ in self.words)

    @property
    def changed_values(self) -> list[ValueChange]:
        return [v for v in self.values if v.changed]


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """Gives the word-level edit of old into new as (op, text) pieces: "=", "-" or "+"."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    out: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append(("=", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(("-", "".join(a[i1:i2])))
        if j2 > j1:
            out.append(("+", "".join(b[j1:j2])))
    return out


def _keyed(values: Iterable[ValueRecord]) -> dict[tuple[str, str, int], ValueRecord]:
    """Gives each value under (kind, key, n): the n-th value of that kind and key."""
    counts: dict[tuple[str, str], int] = {}
    out: dict[tuple[str, str, int], ValueRecord] = {}
    for value in values:
        n = counts.get((value.kind, value.key), 0)
        counts[(value.kind, value.key)] = n + 1
        out[(value.kind, value.key, n)] = value
    return out


def _label(value: ValueRecord, n: int) -> str:
    if value.kind == "table":
        return f"{value.run_name or value.run} {value.column}"
    return value.key + (f" (#{n + 1})" if n else "")


def diff_reports(old: ReportRecord | None, new: ReportRecord | None) -> ReportDiff:
    """Gives what changed in one report between two of its records (None: absent there)."""
    either = new or old
    assert either is not None
    title = (new.title if new else None) or (old.title if old else None)
    if old is None or new is None:
        status = "added" if old is None else "removed"
    else:
        status = "unchanged"
    diff = ReportDiff(either.path, title, status)
    diff.words = word_diff(old.text or "" if old else "", new.text or "" if new else "")
    before, after = _keyed(old.values if old else ()), _keyed(new.values if new else ())
    for key in list(before) + [k for k in after if k not in before]:
        value = after.get(key) or before[key]
        diff.values.append(
            ValueChange(key[0], key[1], _label(value, key[2]), before.get(key), after.get(key))
        )
    old_runs = dict(old.runs) if old else {}
    new_runs = dict(new.runs) if new else {}
    diff.runs_added = [(ref, name) for ref, name in new_runs.items() if ref not in old_runs]
    diff.runs_removed = [(ref, name) for ref, name in old_runs.items() if ref not in new_runs]
    if status == "unchanged" and (
        diff.text_changed or diff.changed_values or diff.runs_added or diff.runs_removed
    ):
        diff.status = "changed"
    return diff


def diff_versions(
    old: VersionRecord, new: VersionRecord, report: str | None = None
) -> list[ReportDiff]:
    """Gives each report's diff between two versions (one report's when `report` is given)."""
    paths = list(new.reports) + [p for p in old.reports if p not in new.reports]
    if report is not None:
        paths = [p for p in paths if p == report]
    return [diff_reports(old.reports.get(p), new.reports.get(p)) for p in sorted(paths)]


def find_report(records: Sequence[VersionRecord], name: str) -> str:
    """Gives the record key of a report named by its path, its file name or its page URL."""
    known = sorted({p for r in records for p in r.reports})
    wanted = name.removeprefix("./").strip("/")
    for docs_prefix in ("reports/", "docs/"):  # a path from the project root
        if wanted.startswith(docs_prefix) and wanted.removeprefix(docs_prefix) in known:
            return wanted.removeprefix(docs_prefix)
    for path in known:
        if wanted in (path, path.removesuffix(".md")):
            return path
    urls = {r.url.strip("/"): p for rec in records for p, r in rec.reports.items() if r.url}
    if wanted in urls:
        return urls[wanted]
    raise VersionUsageError(
        f"no report {name!r} in these versions",
        hint="reports: " + ", ".join(known[:12]),
    )


# --- the terminal -----------------------------------------------------------------------


def _number(value: float) -> str:
    return f"{value:.6g}"


def _delta(change: ValueChange) -> str:
    delta = change.delta
    if delta is None or delta == 0:
        return ""
    return f" ({'+' if delta > 0 else ''}{_number(delta)})"


def _paint(code: str, text: str, color: bool) -> str:
    text = terminal_text(text)
    return code + text + _RESET if color else text


def _marked(op: str, text: str, color: bool) -> str:
    text = terminal_text(text)
    if op == "=" or not text:
        return text
    if color:
        return (_RED if op == "-" else _GREEN) + text + _RESET
    return f"[-{text}-]" if op == "-" else f"{{+{text}+}}"


def diff_rows(
    words: Sequence[tuple[str, str]], context: int = 1
) -> list[tuple[int, list[tuple[str, str]]] | None]:
    """Gives the lines of a word diff that changed, with `context` lines around them.

    Each is (its line in the new text, its pieces); None stands for lines left out.
    """
    rows: list[tuple[int, list[tuple[str, str]]]] = [(1, [])]
    line = 1
    for op, text in words:
        for i, part in enumerate(text.split("\n")):
            if i:
                if op != "-":
                    line += 1
                rows.append((line, []))
            if part or op != "=":
                rows[-1][1].append((op, part))
    keep: set[int] = set()
    for i, (_, pieces) in enumerate(rows):
        if any(op != "=" for op, _ in pieces):
            keep.update(range(max(0, i - context), min(len(rows), i + context + 1)))
    out: list[tuple[int, list[tuple[str, str]]] | None] = []
    last = -2
    for i in sorted(keep):
        if i != last + 1 and out:
            out.append(None)
        out.append(rows[i])
        last = i
    return out


def text_lines(words: Sequence[tuple[str, str]], color: bool) -> list[str]:
    """Gives the changed lines of a word diff as terminal text, numbered, with context."""
    out = []
    for row in diff_rows(words):
        if row is None:
            out.append("   …")
            continue
        number, pieces = row
        out.append(f"{number:>4}  " + "".join(_marked(op, t, color) for op, t in pieces))
    return out


def format_diff(
    diffs: Sequence[ReportDiff],
    old: VersionRecord,
    new: VersionRecord,
    *,
    color: bool = False,
    all_values: bool = False,
) -> str:
    """Gives the diff as terminal text: colour, else [-old-]{+new+} markers."""

    def bold(text: str) -> str:
        return f"{_BOLD}{text}{_RESET}" if color else text

    out = [bold(f"{old.version} ({_when(old)}) → {new.version} ({_when(new)})")]
    shown = [d for d in diffs if d.status != "unchanged"]
    same = len(diffs) - len(shown)
    if not shown:
        out.append("no report changed" if len(diffs) != 1 else "the report did not change")
    for diff in shown:
        out.append("")
        heading = f"{diff.path} — {diff.title or ''}".rstrip(" —") + f": {diff.status}"
        out.append(bold(terminal_text(heading)))
        if diff.status in ("added", "removed"):
            out.append(
                f"  {len(diff.values)} value(s), {len(diff.runs_added or diff.runs_removed)} run(s)"
            )
            continue
        if diff.text_changed:
            out.append("  text:")
            out.extend("  " + line for line in text_lines(diff.words, color))
        values = diff.values if all_values else diff.changed_values
        if values:
            out.append("  values:")
            for change in values:
                old_text = change.old.text if change.old else "(none)"
                new_text = change.new.text if change.new else "(none)"
                arrow = "→" if change.changed else "="
                line = f"    {change.label}: {old_text} {arrow} {new_text}{_delta(change)}"
                out.append(terminal_text(line))
        unchanged = len(diff.values) - len(diff.changed_values)
        if unchanged and not all_values:
            out.append(f"    ({unchanged} value(s) unchanged; --all lists them)")
        for ref, name in diff.runs_added:
            out.append(_paint(_GREEN, f"  + run {name} ({ref})", color))
        for ref, name in diff.runs_removed:
            out.append(_paint(_RED, f"  - run {name} ({ref})", color))
    if same and shown:
        out.append("")
        out.append(f"{same} report(s) unchanged")
    return "\n".join(out)


def _when(record: VersionRecord) -> str:
    parts = [record.built_at[:10] or "?"]
    if record.short_commit:
        parts.append(record.short_commit + ("-dirty" if record.dirty else ""))
    return ", ".join(parts)


# --- the site ---------------------------------------------------------------------------


def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("labbook", "templates/site"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _one_line(html: str) -> str:
    # One raw HTML block for Markdown: no blank line may end it early.
    return "".join(line.strip() for line in html.splitlines())


def _html_words(words: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    return [
        {"gap": True, "line": None, "pieces": []}
        if row is None
        else {"gap": False, "line": row[0], "pieces": row[1]}
        for row in diff_rows(words)
    ]


def changes_html(diffs: Sequence[ReportDiff], old: VersionRecord, new: VersionRecord) -> str:
    """Gives the Changes page's body: every report's text, values and runs, old → new."""
    reports = []
    for diff in diffs:
        values = []
        for change in diff.values:
            delta = change.delta
            values.append(
                {
                    "label": change.label,
                    "old": change.old.text if change.old else None,
                    "new": change.new.text if change.new else None,
                    "changed": change.changed,
                    "delta": None if not delta else ("+" if delta > 0 else "") + _number(delta),
                }
            )
        reports.append(
            {
                "path": diff.path,
                "title": diff.title or diff.path,
                "status": diff.status,
                "lines": _html_words(diff.words) if diff.status == "changed" else [],
                "rows": values,
                "changed_values": sum(1 for v in values if v["changed"]),
                "runs_added": diff.runs_added,
                "runs_removed": diff.runs_removed,
            }
        )
    html = (
        _templates()
        .get_template("changes.html")
        .render(old=old, new=new, reports=reports, old_when=_when(old), new_when=_when(new))
    )
    return _one_line(html)


def changes_page(plan: VersionBuild, new: VersionRecord) -> str:
    """Gives the Changes page as Markdown (a title and one raw HTML block)."""
    assert plan.previous is not None
    title = f"Changes since {plan.previous.version}"
    body = changes_html(diff_versions(plan.previous, new), plan.previous, new)
    return f"# {escape_html(title)}\n\n{body}\n"


def current_record(plan: VersionBuild) -> VersionRecord:
    """Gives the record of the version being built, as far as its pages are compiled."""
    return VersionRecord(
        version=plan.version,
        title=plan.title,
        built_at=datetime.now().astimezone().isoformat(timespec="seconds"),
        commit=None,
        short_commit=None,
        dirty=False,
        reports=dict(plan.reports),
    )


# --- each page's version note -----------------------------------------------------------


@dataclass(frozen=True)
class VersionChange:
    """A version in which a report changed, with who changed it and when."""

    version: str
    url: str | None  # the report's page in that version, from the version's root
    authors: tuple[str, ...]
    date: str | None  # YYYY-MM-DD of the newest commit that reached the report
    data_only: bool  # its text and commits did not change: its runs or numbers did
    current: bool


def report_changes(
    path: str, earlier: Sequence[VersionRecord], current: VersionRecord
) -> list[VersionChange]:
    """Gives the versions in which a report changed, newest first (the current one included)."""
    out: list[VersionChange] = []
    previous: ReportRecord | None = None
    chain = [*earlier, current]
    for record in chain:
        report = record.reports.get(path)
        if report is None:
            previous = None
            continue
        diff = diff_reports(previous, report)
        if previous is None or diff.status != "unchanged":
            seen = {c.commit for c in previous.history} if previous else set()
            new_commits = [c for c in report.history if c.commit not in seen]
            authors = tuple(dict.fromkeys(c.author for c in reversed(new_commits)))
            date = new_commits[0].date[:10] if new_commits else None
            out.append(
                VersionChange(
                    record.version,
                    report.url,
                    authors,
                    date,
                    data_only=previous is not None and not diff.text_changed and not new_commits,
                    current=record is current,
                )
            )
        previous = report
    return list(reversed(out))


def version_note(changes: Sequence[VersionChange], to_root: str) -> str:
    """Gives the page's "Changed in" note; `to_root` leads from the page to its version's root."""
    items = []
    for change in changes:
        href = None
        if change.url is not None and not change.current:
            href = f"{to_root}../{change.version}/{change.url}"
        detail = [", ".join(change.authors)] if change.authors else []
        if change.date:
            detail.append(change.date)
        if change.data_only:
            detail.append("runs and numbers")
        items.append({"version": change.version, "href": href, "detail": "; ".join(detail)})
    html = _templates().get_template("version-note.html").render(items=items)
    return "\n\n" + _one_line(html) + "\n"


def page_url(project: Project, path: Path) -> str | None:
    """Gives a report's page URL from its version's root (`lr-sweep/`, `` for the index)."""
    relative = relative_report(project, path)
    if relative is None:
        return None
    if project.config.get("use_directory_urls", True) is False:
        return relative.with_suffix(".html").as_posix()
    folder = page_dir(project, path)
    return "" if folder is None or folder == Path(".") else folder.as_posix() + "/"


def note_page(plan: VersionBuild, project: Project, page: CompiledPage, to_root: str) -> str:
    """Gives the version note for a compiled page, after keeping the page in the version's record.

    `to_root` leads from the page to its version's root, as its other links do.
    """
    relative = relative_report(project, page.path)
    if relative is None:
        return ""
    path = relative.as_posix()
    plan.reports[path] = report_record(
        path,
        title=page.title,
        url=page_url(project, page.path),
        text=page.text,
        commits=page.history.commits,
        runs=page.runs,
        values=page.values,
        errors=len(page.errors),
    )
    return version_note(report_changes(path, plan.earlier, current_record(plan)), to_root)


def changes_file_name(docs_dir: Path) -> str:
    """Gives the generated Changes page's file: `changes.md`, unless the docs hold one."""
    for name in ("changes.md", "labbook-changes.md"):
        if not (docs_dir / name).exists():
            return name
    return "labbook-version-changes.md"
