"""The `labbook` command: each subcommand parses its arguments and calls the library."""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import io
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import progress
from .errors import LabbookError

if TYPE_CHECKING:
    from .model import Run

EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2
PAGE_SIZES = ("A4", "letter", "A5", "legal")  # as export.pdf takes them (not imported: --help)


class UsageError(Exception):
    """Arguments that make no sense together: exit code 2, with the command's name."""


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _print_problems(
    errors: Sequence[LabbookError],
    warnings: Sequence[LabbookError] = (),
    *,
    label_errors: bool = True,
) -> tuple[int, int]:
    """Prints each problem once, with the places it broke; gives (errors, warnings) counted."""
    from .problems import group_problems

    problems = group_problems(errors, warnings)
    for problem in problems:
        for line in problem.lines(label_errors=label_errors):
            _err(line)
    failed = sum(p.is_error for p in problems)
    return failed, len(problems) - failed


def _exit_code(errors: int, warnings: int, strict: bool) -> int:
    if errors:
        return EXIT_DATA
    if strict and warnings:
        _err("--strict: failing because of the warnings above")
        return EXIT_DATA
    return EXIT_OK


# -- build / serve / check ---------------------------------------------------------------


def cmd_build(args: argparse.Namespace) -> int:
    from .site.build import build_site

    project = _load_project(args)
    site_dir = Path(args.site_dir) if args.site_dir else None
    if args.version is not None:
        result = _build_version(args, project, site_dir)
    else:
        if args.aliases or args.title or args.force:
            raise UsageError("--alias, --title and --force go with --version V")
        with _version_usage():
            result = build_site(
                project,
                site_dir,
                engine=args.engine,
                strict=args.strict,
                pdf=args.pdf,
                page_size=args.page_size,
            )
    errors, warnings = _print_problems(result.errors, result.warnings)
    print(
        f"built {result.pages} page(s) into {result.site_dir} with {args.engine}"
        f" ({errors} error(s), {warnings} warning(s))"
    )
    if args.pdf:
        print(f"wrote {len(result.pdfs)} PDF(s) into {result.site_dir / 'pdf'}")
    # The whole site is written either way, error boxes included; the exit code says.
    return _exit_code(errors, warnings, args.strict)


# -- versions / diff ------------------------------------------------------------------------


@contextlib.contextmanager
def _version_usage() -> Iterator[None]:
    """Turns a version command's refusal (an existing version, an unknown one) into exit 2."""
    from .site.versions import VersionUsageError

    try:
        yield
    except VersionUsageError as exc:
        raise UsageError(str(exc)) from exc


def _build_version(args: argparse.Namespace, project: Any, site_dir: Path | None) -> Any:
    from .site.build import build_version

    with _version_usage():
        result = build_version(
            project,
            args.version,
            site_dir,
            aliases=args.aliases,
            title=args.title,
            force=args.force,
            engine=args.engine,
            strict=args.strict,
            pdf=args.pdf,
            page_size=args.page_size,
        )
    root = result.site_dir.parent
    aliases = f" (aliases: {', '.join(args.aliases)})" if args.aliases else ""
    print(f"version {args.version}{aliases} listed in {root / 'versions.json'}")
    return result


def _versions_root(args: argparse.Namespace) -> Path:
    from .project import Project
    from .site.build import site_root

    if args.site_dir:
        return Path(args.site_dir).resolve()
    return site_root(Project.load(args.config_file))


def cmd_versions(args: argparse.Namespace) -> int:
    from .site import versions

    root = _versions_root(args)
    with _version_usage():
        if args.action == "delete":
            if len(args.names) != 1:
                raise UsageError("usage: labbook versions delete V")
            entry = versions.delete_version(root, args.names[0])
            gone = ", ".join([entry.version, *entry.aliases])
            print(f"deleted {gone} from {root}")
            return EXIT_OK
        if args.action == "alias":
            if len(args.names) != 2:
                raise UsageError("usage: labbook versions alias ALIAS VERSION")
            left, now = versions.move_alias(root, args.names[0], args.names[1])
            moved = f" (it named {left})" if left and left != now else ""
            print(f"{args.names[0]} now leads to {now}{moved}")
            return EXIT_OK
        if args.names:
            raise UsageError(f"unexpected {' '.join(args.names)!r}: give delete V or alias A V")
        listed = versions.list_versions(root)
    if args.format == "json":
        print(json.dumps([dataclasses.asdict(v) for v in listed], indent=2))
        return EXIT_OK
    if not listed:
        print(f"no versions in {root} (build one with `labbook build --version V`)")
        return EXIT_OK
    rows = [
        {
            "version": v.version,
            "title": v.title,
            "aliases": ", ".join(v.aliases),
            "built": (v.built_at or "")[:16].replace("T", " "),
            "commit": (v.commit or "") + ("-dirty" if v.dirty else ""),
        }
        for v in listed
    ]
    _print_table(rows)
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from .site import changes, versions

    root = _versions_root(args)
    with _version_usage():
        known = versions.Versions.load(root)
        old = versions.load_record(root, known.find(args.old).version)
        new = versions.load_record(root, known.find(args.new).version)
        report = changes.find_report([old, new], args.report) if args.report else None
    diffs = changes.diff_versions(old, new, report)
    color = {"always": True, "never": False}.get(args.color, sys.stdout.isatty())
    print(changes.format_diff(diffs, old, new, color=color, all_values=args.all))
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from mkdocs.commands.serve import serve

    from .project import Project
    from .site import live

    logging.getLogger("mkdocs").setLevel(logging.INFO)
    project = Project.load(args.config_file)
    live.poll_seconds = args.poll
    serve(config_file=str(project.config_file), dev_addr=args.dev_addr, livereload=True)
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from .project import Project
    from .report.check import CheckResult, check_project

    try:
        project = Project.load(args.config_file)
        result = check_project(project)
    except LabbookError as exc:
        if args.format != "json":
            raise
        # An editor or CI reading JSON gets JSON, even when the project would not load.
        result = CheckResult(errors=[exc])
    if args.format == "json":
        # For editors and CI: every problem with file, line, column, severity, message and
        # hint, then the counts; nothing else on stdout, and the exit code as in text.
        report = result.as_json()
        print(json.dumps(report, indent=2, ensure_ascii=False))
        summary = report["summary"]
        return _exit_code(summary["errors"], summary["warnings"], args.strict)
    for note in result.notes:  # assumptions, such as a metric goal the name rule gave
        print(note)
    # Unknown metrics are warnings on the page, but a check's job is to catch them: report
    # problems are errors here; what a source could not read fails only under --strict.
    errors, warnings = _print_problems(
        result.report_problems(), result.source_problems, label_errors=False
    )
    print(
        f"checked {result.reports} report(s): {errors} problem(s) in reports, {warnings} in sources"
    )
    return _exit_code(errors, warnings, args.strict)


# -- pdf -----------------------------------------------------------------------------------


def cmd_pdf(args: argparse.Namespace) -> int:
    import tempfile

    from .export.pdf import PdfJob, write_pdfs
    from .git import GitHistory
    from .pagecache import CachedPage, PageCache, read_report_text

    if TYPE_CHECKING:
        from .report.compile import CompiledPage, ProjectCompiler

    project = _load_project(args)
    if args.all == bool(args.reports):
        raise UsageError("name the report(s) to print, or give --all (not both)")
    if args.output and (args.all or len(args.reports) > 1):
        raise UsageError("-o names one PDF: with several reports or --all, use -d DIR")
    reports = project.reports() if args.all else [_report_path(project, r) for r in args.reports]
    out_dir = Path(args.dir) if args.dir else (project.root / "pdf" if args.all else Path.cwd())
    # Reports compiled for print (no site around them) are kept apart from the site's.
    cache, kind = PageCache.for_project(project), "print"
    compiler: ProjectCompiler | None = None
    with tempfile.TemporaryDirectory(prefix="labbook-media-") as media:
        jobs = []
        for path in reports:
            text = read_report_text(path)
            page: CompiledPage | CachedPage | None = None
            if cache is not None and text is not None:
                page = cache.get(path, text, kind)
            if page is None:
                if compiler is None:
                    from .report.compile import ProjectCompiler

                    compiler = ProjectCompiler(project, root_url="")
                page = compiler.compile_file(path, text)
                if cache is not None and text is not None:
                    cache.keep_compiled(project, page, text, kind)
            if args.output:
                target = Path(args.output)
            else:
                relative = _relative_to(path, project.docs_dir)
                target = out_dir / relative.with_suffix(".pdf")
            jobs.append(PdfJob(page, Path(media), target))
        if compiler is not None:
            compiler.finish()
            if cache is not None and cache.sources_kept:
                cache.keep_sources(project, compiler.source_errors)
            source_errors = compiler.source_errors
        else:  # every report kept: the sources' problems as the last command found them
            source_errors = cache.source_problems() if cache is not None else []
        result = write_pdfs(
            project,
            jobs,
            build=GitHistory(project.root).build_info(),
            page_size=args.page_size,
            strict=args.strict,
        )
    errors, warnings = _print_problems(result.errors, result.warnings + source_errors)
    for target in result.written:
        print(f"wrote {target}")
    for target in result.refused:
        _err(f"--strict: not writing {target}: its report has problems (see above)")
    print(
        f"{len(result.written)} PDF(s), {result.exported + result.cached} chart(s)"
        f" ({result.cached} from the cache); {errors} error(s), {warnings} warning(s)"
    )
    return _exit_code(errors, warnings, args.strict)


def cmd_export(args: argparse.Namespace) -> int:
    import tempfile

    from .export.gfm import write_gfm
    from .report.compile import ProjectCompiler

    project = _load_project(args)
    path = _report_path(project, args.report)
    compiler = ProjectCompiler(project, root_url="", math_source=True)
    with tempfile.TemporaryDirectory(prefix="labbook-media-") as media:
        page = compiler.compile_file(path)
        compiler.finish()
        from .export.files import write_page_files

        write_page_files([page], Path(media))
        errors, warnings = _print_problems(page.errors, page.warnings + compiler.source_errors)
        if args.strict and (errors or warnings):
            _err("--strict: not writing the export: the report has problems (see above)")
            return EXIT_DATA
        result = write_gfm(project, page, Path(args.output), png=args.png, base_dir=Path(media))
    print(f"wrote {result.markdown} and {len(result.images)} image(s)")
    return _exit_code(errors, warnings, args.strict)


def _load_project(args: argparse.Namespace) -> Any:
    """Gives the project of `-f`, reading snapshots as `--offline` or `--refresh` asks."""
    from .project import Project

    project = Project.load(args.config_file)
    if getattr(args, "offline", False):
        project.data_mode = "offline"
    elif getattr(args, "refresh", False):
        project.data_mode = "refresh"
    return project


# -- freeze --------------------------------------------------------------------------------


def cmd_freeze(args: argparse.Namespace) -> int:
    from .freeze import freeze
    from .project import Project

    project = Project.load(args.config_file)
    reports = [_report_path(project, r) for r in args.reports] if args.reports else None
    result = freeze(project, reports)
    errors, warnings = _print_problems(result.errors, result.warnings)
    for name, size in result.written.items():
        print(f"froze {result.runs[name]} run(s) of {name}: {size / 1024:.1f} KiB")
    folder = _relative_to(project.root / ".labbook" / "snapshots", project.root)
    print(
        f"froze {len(result.pages)} report(s) into {folder}"
        f" ({errors} error(s), {warnings} warning(s))"
    )
    return _exit_code(errors, warnings, False)


def cmd_cache(args: argparse.Namespace) -> int:
    import shutil

    from .project import Project
    from .sources.cached import cache_usage

    project = Project.load(args.config_file)
    folder = project.root / ".labbook" / "cache"
    usage = cache_usage(project.root)
    total = sum(size for *_, size in usage)
    if args.action == "clear":
        shutil.rmtree(folder, ignore_errors=True)
        print(f"removed {_relative_to(folder, project.root)} ({total / 1024:.1f} KiB)")
        return EXIT_OK
    if not usage:
        print(f"no cache in {_relative_to(folder, project.root)}: the next build fills it")
        return EXIT_OK
    rows = [
        {"part": name, "runs": runs or "", "files": files, "KiB": f"{size / 1024:.1f}"}
        for name, runs, files, size in usage
    ]
    _print_table(rows)
    print(f"{_relative_to(folder, project.root)}: {total / 1024:.1f} KiB in all")
    return EXIT_OK


def _report_path(project: Any, name: str) -> Path:
    path = Path(name)
    for candidate in (path, project.root / path, project.docs_dir / path):
        if candidate.is_file():
            return candidate.resolve()
    from .errors import ConfigError

    known = ", ".join(str(_relative_to(p, project.root)) for p in project.reports()[:8])
    raise ConfigError(f"no report {name!r}", hint=f"reports: {known}")


def _relative_to(path: Path, root: Path) -> Path:
    try:
        return path.resolve().relative_to(root.resolve())
    except ValueError:
        return Path(path.name)


# -- runs / show ---------------------------------------------------------------------------


def _open_sources(args: argparse.Namespace) -> dict[str, Any]:
    from .project import Project

    project = Project.load(args.config_file)
    sources = project.sources
    _print_problems([], project.source_errors)
    return sources


def _run_row(run: Run, keys: Sequence[str]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "source": run.source,
        "id": run.id,
        "name": run.name,
        "experiment": run.experiment,
        "status": run.status,
        "start_time": run.start_time.isoformat() if run.start_time else None,
    }
    for key in keys:
        row[f"metrics.{key}"] = run.summary.get(key)
    return row


def cmd_runs(args: argparse.Namespace) -> int:
    from .errors import ConfigError
    from .sources.base import open_source

    if (args.source and ":" in args.source) or (args.source and Path(args.source).exists()):
        sources = {"cli": open_source(args.source)}
    else:
        sources = _open_sources(args)
        if args.source:
            if args.source not in sources:
                raise ConfigError(
                    f"unknown source {args.source!r}",
                    hint="configured sources: " + (", ".join(sources) or "none"),
                )
            sources = {args.source: sources[args.source]}
    from .query import apply_query

    # One query over every source's runs, so order and limit are global.
    everything = [run for source in sources.values() for run in source.list_runs()]
    order_by = [args.order_by] if args.order_by else None
    from .model import RunSet

    runs = RunSet(apply_query(everything, args.filter, order_by, args.limit))
    keys = sorted({k for r in runs for k, v in r.summary.items() if isinstance(v, int | float)})[:6]
    rows = [_run_row(r, keys) for r in runs]
    if args.format == "json":
        print(json.dumps(rows, indent=2, default=str, allow_nan=True))
    elif args.format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["id"])
        writer.writeheader()
        writer.writerows(rows)
        print(buffer.getvalue(), end="")
    else:
        _print_table(rows)
    return EXIT_OK


def _print_table(rows: list[dict[str, Any]]) -> None:
    from .blocks.base import display_value

    if not rows:
        print("no runs")
        return
    columns = list(rows[0])
    cells = [[display_value(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


def cmd_show(args: argparse.Namespace) -> int:
    from .blocks.base import display_value
    from .report.resolve import Resolver

    sources = _open_sources(args)
    run = Resolver(sources).run(args.ref)
    print(f"{run.name}  ({run.ref})")
    for label, value in (
        ("experiment", run.experiment),
        ("status", run.status),
        ("start", run.start_time),
        ("end", run.end_time),
        ("git commit", run.git_commit),
        ("url", run.url),
    ):
        if value is not None:
            print(f"  {label}: {value}")
    for title, mapping in (("params", run.params), ("tags", run.tags), ("summary", run.summary)):
        if mapping:
            print(f"{title}:")
            for key in sorted(mapping):
                print(f"  {key}: {display_value(mapping[key])}")
    keys = run.metric_keys()
    if keys:
        print("metrics:")
        for key in keys:
            points = len(run.series(key))
            print(f"  {key} ({points} points)" if points else f"  {key} (summary only)")
    if run.artifacts:
        print("artifacts:")
        for artifact in run.artifacts:
            print(f"  {artifact}")
    return EXIT_OK


# -- init --------------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    from .scaffold import init_project

    written = init_project(Path(args.dir), example=args.example)
    for path in written:
        print(f"wrote {path}")
    print(f"next: cd {args.dir} && labbook build")
    return EXIT_OK


# -- the parser ------------------------------------------------------------------------------


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return value


def _version_options(p: argparse.ArgumentParser) -> None:
    """`build --version V [--alias A ...] [--title T] [--force]`."""
    p.add_argument(
        "--version",
        metavar="V",
        help="build into SITE/V/ as a published version, listed in SITE/versions.json for"
        " the version selector; the other versions are left as they are",
    )
    p.add_argument(
        "--alias",
        dest="aliases",
        action="append",
        default=[],
        metavar="A",
        help="another name that leads to V, e.g. latest (SITE/A/ redirects to SITE/V/);"
        " an alias moves from the version that had it. Repeatable",
    )
    p.add_argument("--title", help="the version's title in the selector (default: V)")
    p.add_argument(
        "--force", action="store_true", help="rebuild V when it exists (its pages are replaced)"
    )


def _versions_parsers(sub: Any, with_config: Any) -> None:
    """`labbook versions [delete V | alias A V]` and `labbook diff V1 V2 [REPORT]`."""
    p = with_config(
        sub.add_parser(
            "versions",
            help="the published versions of the site",
            description="List the site's versions (version, title, aliases, when built, from"
            " which commit); `delete V` removes V's folder, its entry and its aliases;"
            " `alias A V` makes the alias A lead to V (moving it from another version).",
        )
    )
    p.add_argument("action", nargs="?", choices=("list", "delete", "alias"), default="list")
    p.add_argument("names", nargs="*", metavar="NAME", help="V, or A V")
    p.add_argument("-d", "--site-dir", help="the site folder (default: mkdocs.yml's site_dir)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_versions)

    p = with_config(
        sub.add_parser(
            "diff",
            help="what changed in a report between two versions: text and numbers",
            description="Compare two built versions (names or aliases) from their records:"
            " each report's text as a word diff, every value its expressions printed and"
            " every summary in its tables (old -> new, with the delta), and the runs that"
            " appeared or disappeared.",
        )
    )
    p.add_argument("old", metavar="V1")
    p.add_argument("new", metavar="V2")
    p.add_argument("report", nargs="?", metavar="REPORT", help="one report (default: every one)")
    p.add_argument("-d", "--site-dir", help="the site folder (default: mkdocs.yml's site_dir)")
    p.add_argument("--all", action="store_true", help="list unchanged values too")
    p.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="auto: colour on a terminal, [-old-]{+new+} markers otherwise",
    )
    p.set_defaults(func=cmd_diff)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="labbook", description="Lab books for ML teams: reports over tracked runs."
    )
    parser.add_argument("--version", action="version", version="labbook 0.1.0")
    # Accepted before or after the command: `labbook -v build` and `labbook build -v`.
    talk = argparse.ArgumentParser(add_help=False)
    talk.add_argument(
        "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress display"
    )
    talk.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print timings per source and per report",
    )
    for action in talk._actions:
        parser._add_action(action)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_parser = sub.add_parser

    def command(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        return add_parser(name, parents=[talk], **kwargs)

    sub.add_parser = command  # type: ignore[method-assign]

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("-f", "--config-file", default="mkdocs.yml", help="the project's mkdocs.yml")
        return p

    def with_data(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        data = p.add_mutually_exclusive_group()
        data.add_argument(
            "--offline",
            action="store_true",
            help="touch no tracker: build from .labbook/snapshots only (labbook freeze)",
        )
        data.add_argument(
            "--refresh", action="store_true", help="read every tracker, not the snapshots"
        )
        return p

    p = with_data(with_config(sub.add_parser("build", help="build the site")))
    p.add_argument(
        "-d", "--site-dir", help="where to write the site (default: mkdocs.yml's site_dir)"
    )
    p.add_argument("--strict", action="store_true", help="fail on any report error or warning")
    p.add_argument("--engine", choices=("mkdocs", "zensical"), default="mkdocs")
    p.add_argument("--pdf", action="store_true", help="also print each report to pdf/ in the site")
    p.add_argument("--page-size", choices=PAGE_SIZES, default=None, help="PDF paper (default: A4)")
    _version_options(p)
    p.set_defaults(func=cmd_build)

    p = with_config(sub.add_parser("serve", help="live preview, rebuilt on every change"))
    p.add_argument("-a", "--dev-addr", default="127.0.0.1:8000")
    p.add_argument(
        "--poll",
        type=_positive_seconds,
        metavar="SECONDS",
        help="re-read tracking servers and the W&B API this often (default: once per serve)",
    )
    p.set_defaults(func=cmd_serve)

    p = with_config(sub.add_parser("check", help="validate every report"))
    p.add_argument("--strict", action="store_true", help="warnings fail too")
    p.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: FILE:LINE:COL: message lines; json: a list of problems and a summary",
    )
    p.set_defaults(func=cmd_check)

    p = with_data(with_config(sub.add_parser("pdf", help="one report (or every report) as a PDF")))
    p.add_argument("reports", nargs="*", metavar="REPORT.md", help="the report(s) to print")
    p.add_argument("-o", "--output", help="the PDF to write (one report); default: REPORT.pdf here")
    p.add_argument("--all", action="store_true", help="every report of the project")
    p.add_argument("-d", "--dir", help="folder for the PDFs (default: here; pdf/ with --all)")
    p.add_argument("--page-size", choices=PAGE_SIZES, default=None, help="default: A4")
    p.add_argument("--strict", action="store_true", help="write no PDF of a report with problems")
    p.set_defaults(func=cmd_pdf)

    p = with_data(
        with_config(
            sub.add_parser("export", help="a report as Markdown with chart images (pull requests)")
        )
    )
    p.add_argument("report", metavar="REPORT.md")
    p.add_argument("--format", choices=("gfm",), default="gfm", help="GitHub-flavoured Markdown")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="folder to write into")
    p.add_argument("--png", action="store_true", help="also write each chart as PNG")
    p.add_argument("--strict", action="store_true", help="write nothing if the report has problems")
    p.set_defaults(func=cmd_export)

    p = with_config(sub.add_parser("runs", help="list runs of a source"))
    p.add_argument("source", nargs="?", help="a configured source name or a source URI")
    p.add_argument("--filter", help="an MLflow-style filter")
    p.add_argument("--order-by", help="e.g. 'metrics.`val/acc` DESC'")
    p.add_argument("--limit", type=int)
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.set_defaults(func=cmd_runs)

    p = with_config(sub.add_parser("show", help="one run: params, tags, summary, metrics"))
    p.add_argument("ref", help="run ID, unique prefix (6+ characters), name, or SOURCE:ID")
    p.set_defaults(func=cmd_show)

    p = with_config(
        sub.add_parser("freeze", help="snapshot the runs reports use into .labbook/snapshots")
    )
    p.add_argument(
        "reports", nargs="*", metavar="REPORT.md", help="the reports to freeze (default: all)"
    )
    p.set_defaults(func=cmd_freeze)

    p = with_config(sub.add_parser("cache", help="the cache of what builds read: info or clear"))
    p.add_argument("action", choices=("info", "clear"), help="info: its size; clear: remove it")
    p.set_defaults(func=cmd_cache)

    _versions_parsers(sub, with_config)

    p = sub.add_parser("init", help="scaffold a project")
    p.add_argument("dir", nargs="?", default=".")
    p.add_argument("--example", action="store_true", help="add demo runs and reports")
    p.set_defaults(func=cmd_init)
    return parser


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Gives the parsed arguments; a wrong one is reported with its own command's usage."""
    args, extra = parser.parse_known_args(argv)
    if extra:
        subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        chosen = subparsers.choices.get(getattr(args, "command", ""), parser)
        chosen.error("unrecognized arguments: " + " ".join(extra))
    return args


def _reporter(args: argparse.Namespace) -> progress.Reporter:
    """Gives the progress display: bars on a terminal's stderr, nothing otherwise or with -q."""
    if getattr(args, "quiet", False) or not sys.stderr.isatty():
        return progress.Reporter()
    return progress.RichReporter()


def _print_timings(reporter: progress.Reporter) -> None:
    for (kind, name), seconds in sorted(reporter.timings.items(), key=lambda kv: -kv[1]):
        _err(f"timing: {kind} {name}: {seconds:.2f} s")


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the CLI; gives the exit code (0 ok, 1 report or data errors, 2 usage errors)."""
    parser = build_parser()
    args = _parse(parser, argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)-7s -  %(message)s")
    code: int
    with progress.use(_reporter(args)) as reporter:
        try:
            code = args.func(args)
        except LabbookError as exc:
            reporter.close()
            _print_problems([exc])
            code = EXIT_DATA
        except UsageError as exc:
            reporter.close()
            _err(f"labbook {args.command}: error: {exc}")
            code = EXIT_USAGE
        except KeyboardInterrupt:
            return 130
    if getattr(args, "verbose", False):
        _print_timings(reporter)
    return code


if __name__ == "__main__":
    sys.exit(main())
