"""The run cache: a build with nothing changed reads no tracker file; a change is seen.

Proof that a file was not read: its bytes are changed while its size and modification
time are put back, which is all the cache looks at. A build that still shows the old
values read the cache; one that shows the new values read the file.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from labbook.cli import main
from labbook.project import Project
from labbook.report.compile import ProjectCompiler
from labbook.sources.cached import CachedSource
from tests.conftest import copy_example

RUN = "55099931"  # r18-lr0.1-s0, a finished local run
SWEEP_RUN = "2b8c67272f364c0c9000e022ca1a9e65"  # r18-aug-none in the example SQLite store


def rewrite_keeping_stat(path: Path, old: bytes, new: bytes) -> None:
    """Replaces bytes of a file with as many others, then puts its size and times back."""
    assert len(old) == len(new)
    stat = path.stat()
    data = path.read_bytes()
    assert old in data
    path.write_bytes(data.replace(old, new, 1))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size


def compile_all(root: Path) -> tuple[Project, ProjectCompiler]:
    """Compiles every report as a fresh build does (a new project: nothing in memory)."""
    project = Project.load(root / "mkdocs.yml")
    compiler = ProjectCompiler(project)
    for path in project.reports():
        page = compiler.compile_file(path)
        assert page.errors == [], page.errors
    compiler.finish()
    return project, compiler


def first_value(compiler: ProjectCompiler, ref: str, key: str) -> float:
    return float(compiler.resolver.run(ref).series(key).values[0])


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return copy_example(tmp_path / "book")


def test_a_build_with_nothing_changed_reads_no_tracker_file(book: Path) -> None:
    project, compiler = compile_all(book)
    assert first_value(compiler, f"local:{RUN}", "train/loss") == 2.0444
    # Only the cache knows the old value from here on.
    rewrite_keeping_stat(
        book / "runs" / RUN / "metrics.jsonl", b'"train/loss": 2.0444', b'"train/loss": 9.0444'
    )
    run_json = book / "runs" / RUN / "run.json"
    rewrite_keeping_stat(run_json, b'"r18-lr0.1-s0"', b'"XXX-lr0.1-s0"')
    project, compiler = compile_all(book)
    assert first_value(compiler, f"local:{RUN}", "train/loss") == 2.0444
    assert compiler.resolver.run(f"local:{RUN}").name == "r18-lr0.1-s0"
    for name, source in project.sources.items():
        assert isinstance(source, CachedSource)
        assert source.misses == 0, name  # every listing, query and series from the cache
        assert source.hits > 0, name


def test_a_changed_file_is_read_again_and_only_its_run(book: Path) -> None:
    compile_all(book)
    run_json = book / "runs" / RUN / "run.json"
    run_json.write_text(run_json.read_text().replace('"r18-lr0.1-s0"', '"renamed-run0"'))
    metrics = book / "runs" / RUN / "metrics.jsonl"
    metrics.write_text(
        metrics.read_text().replace('"train/loss": 2.0444', '"train/loss": 7.0444', 1)
    )
    project, compiler = compile_all(book)
    assert compiler.resolver.run(f"local:{RUN}").name == "renamed-run0"
    assert first_value(compiler, f"local:{RUN}", "train/loss") == 7.0444
    local = project.sources["local"]
    assert isinstance(local, CachedSource) and local.misses > 0
    sweeps = project.sources["sweeps"]
    assert isinstance(sweeps, CachedSource) and sweeps.misses == 0


def test_a_write_to_the_sqlite_store_is_seen(book: Path, tmp_path: Path) -> None:
    assert main(["-q", "build", "-f", str(book / "mkdocs.yml"), "-d", str(tmp_path / "one")]) == 0
    with sqlite3.connect(book / "mlflow.db") as db:
        db.execute(
            "UPDATE params SET value = 'mixup' WHERE run_uuid = ? AND key = 'augment'",
            (SWEEP_RUN,),
        )
    project, compiler = compile_all(book)
    assert compiler.resolver.run(f"sweeps:{SWEEP_RUN}").params["augment"] == "mixup"
    sweeps = project.sources["sweeps"]
    assert isinstance(sweeps, CachedSource) and sweeps.misses > 0


def test_a_run_still_running_is_read_again(book: Path) -> None:
    run_json = book / "runs" / RUN / "run.json"
    record = json.loads(run_json.read_text())
    record["status"] = "running"
    run_json.write_text(json.dumps(record, indent=2))
    _, compiler = compile_all(book)
    assert first_value(compiler, f"local:{RUN}", "train/loss") == 2.0444
    rewrite_keeping_stat(
        book / "runs" / RUN / "metrics.jsonl", b'"train/loss": 2.0444', b'"train/loss": 5.0444'
    )
    _, compiler = compile_all(book)
    # The folder's files look unchanged, but a running run's series are never cached.
    assert first_value(compiler, f"local:{RUN}", "train/loss") == 5.0444


def test_refresh_reads_every_tracker_and_rewrites_the_cache(book: Path, tmp_path: Path) -> None:
    compile_all(book)
    rewrite_keeping_stat(
        book / "runs" / RUN / "metrics.jsonl", b'"train/loss": 2.0444', b'"train/loss": 3.0444'
    )
    project = Project.load(book / "mkdocs.yml")
    project.data_mode = "refresh"
    compiler = ProjectCompiler(project)
    assert first_value(compiler, f"local:{RUN}", "train/loss") == 3.0444
    compiler.finish()
    _, compiler = compile_all(book)  # the refreshed value is what the cache keeps now
    assert first_value(compiler, f"local:{RUN}", "train/loss") == 3.0444


def test_cache_off_in_mkdocs_yml_reads_the_trackers(book: Path) -> None:
    config = book / "mkdocs.yml"
    config.write_text(
        config.read_text().replace("      sources:", "      cache: false\n      sources:", 1)
    )
    project, _ = compile_all(book)
    assert not any(isinstance(s, CachedSource) for s in project.sources.values())
    assert not (book / ".labbook" / "cache" / "runs").exists()


def test_cache_info_and_clear(book: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(book / "mkdocs.yml")
    compile_all(book)
    capsys.readouterr()
    assert main(["cache", "info", "-f", config]) == 0
    out = capsys.readouterr().out
    assert "runs of local-" in out and "runs of sweeps-" in out
    local = next(line for line in out.splitlines() if line.startswith("runs of local-"))
    assert local.split()[3] == "13"  # the example's 13 local runs
    assert main(["cache", "clear", "-f", config]) == 0
    assert not (book / ".labbook" / "cache").exists()
    assert main(["cache", "info", "-f", config]) == 0
    assert "no cache" in capsys.readouterr().out


def test_the_page_cache_serves_an_unchanged_page_and_sees_each_change(
    book: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    build = ["-q", "build", "-f", str(book / "mkdocs.yml"), "-d", str(site)]
    sweep = site / "lr-sweep" / "index.html"
    assert main(build) == 0
    assert main(build) == 0  # the second build keeps every page in the page cache
    pages = book / ".labbook" / "cache" / "pages"
    kept = {p.name for p in pages.glob("*.json")} - {"manifest.json"}
    assert len(kept) == 6
    first = sweep.read_text(encoding="utf-8")
    assert "r18-lr0.1-s0" in first
    # Unseen by size and time, so only a kept page can still show the old name.
    run_json = book / "runs" / RUN / "run.json"
    rewrite_keeping_stat(run_json, b'"r18-lr0.1-s0"', b'"XXX-lr0.1-s0"')
    assert main(build) == 0
    assert sweep.read_text(encoding="utf-8") == first
    # A real change to the run (its time moves): the pages are compiled again.
    run_json.write_text(run_json.read_text().replace('"XXX-lr0.1-s0"', '"renamed-s0"'))
    assert main(build) == 0
    assert "renamed-s0" in sweep.read_text(encoding="utf-8")
    # An edited report is compiled again too.
    report = book / "reports" / "lr-sweep.md"
    report.write_text(report.read_text().replace("Learning-rate sweep", "LR sweep, edited", 1))
    assert main(build) == 0
    assert "LR sweep, edited" in sweep.read_text(encoding="utf-8")
