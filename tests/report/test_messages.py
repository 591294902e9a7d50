"""Messages that point the right way: each at the line of the mistake, naming what exists."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from labbook.cli import main
from labbook.errors import ReportError

from .conftest import MemorySource, compile_text, make_run, steps_values

BIN = Path(sys.executable).parent


@pytest.fixture
def source() -> MemorySource:
    runs = [make_run("aaaaaa01", "a", params={"alpha": 0.1}), make_run("bbbbbb02", "b")]
    points = {
        ("aaaaaa01", "rmse"): steps_values(5, 1.0, -0.1),
        ("aaaaaa01", "val/acc"): steps_values(5, 0.5, 0.1),
        ("bbbbbb02", "rmse"): steps_values(5, 1.2, -0.1),
    }
    return MemorySource(runs, points=points)


def block(body: str) -> str:
    return f"# R\n\n```labbook\n{body}```\n"


def test_unclosed_quote_is_reported_at_its_line(source: MemorySource) -> None:
    # Line 4 is the block's first line; the quote opens on its line 2, line 5 of the file.
    page = compile_text(block('line: rmse\ntitle: "unclosed\nruns: [a]\n'), [source])
    [error] = page.errors
    assert (error.file, error.line) == ("reports/r.md", 5)
    assert error.message.startswith("bad YAML: while scanning a quoted scalar")


def test_unclosed_bracket_is_reported_where_it_opens(source: MemorySource) -> None:
    page = compile_text(block("line: rmse\nruns: [a, b\ncaption: x\n"), [source])
    [error] = page.errors
    assert error.line == 5


def test_every_unknown_option_is_reported_at_its_line(source: MemorySource) -> None:
    page = compile_text(block("line: rmse\nsmothing: 0.5\nruns: [a]\nlog_yy: true\n"), [source])
    assert [(e.line, e.message) for e in page.errors] == [
        (5, "unknown option 'smothing' for a line block (did you mean 'smoothing'?)"),
        (7, "unknown option 'log_yy' for a line block (did you mean 'log_y'?)"),
    ]
    assert all(isinstance(e, ReportError) for e in page.errors)
    assert page.markdown.count("labbook-error") == 2


def test_a_misspelt_metric_lists_the_keys_that_exist(source: MemorySource) -> None:
    page = compile_text(block("line: rsme\nruns: [a, b]\n"), [source])
    [error] = page.errors  # nothing drawn: an error box, not an empty chart
    assert error.message.startswith("no run has any point of 'rsme'")
    assert error.hint == "did you mean 'rmse'? metrics these runs logged: rmse, val/acc"


def test_a_param_as_x_says_a_param_is_no_series(source: MemorySource) -> None:
    page = compile_text(block("line: rmse\nx: params.alpha\nruns: [a]\n"), [source])
    [error] = page.errors
    assert error.line == 5
    assert error.message == (
        "'x: params.alpha' is a param: one value per run, not a series a line is drawn along"
    )
    assert "group_by: params.alpha" in str(error.hint)
    assert not page.warnings  # no misleading "the y metric has no points"


def test_a_subcommand_usage_error_shows_that_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["runs", "local", "--filtr", "x"])
    assert exit_info.value.code == 2
    _, err = capsys.readouterr()
    assert err.startswith("usage: labbook runs ")
    assert "labbook runs: error: unrecognized arguments: --filtr x" in err


def test_a_fresh_clone_of_a_new_project_builds_strict(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "A",
        "GIT_AUTHOR_EMAIL": "a@example.org",
        "GIT_COMMITTER_NAME": "A",
        "GIT_COMMITTER_EMAIL": "a@example.org",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }

    def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)

    assert run(str(BIN / "labbook"), "init", "book", cwd=tmp_path).returncode == 0
    book = tmp_path / "book"
    run("git", "init", "-q", cwd=book)
    run("git", "add", "-A", cwd=book)
    assert run("git", "commit", "-qm", "new", cwd=book).returncode == 0
    assert run("git", "clone", "-q", str(book), "clone", cwd=tmp_path).returncode == 0
    clone = tmp_path / "clone"
    assert (clone / "runs").is_dir()  # git kept the folder
    done = run(str(BIN / "labbook"), "build", "--strict", "-q", cwd=clone)
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr


def test_show_a_short_prefix_names_the_rule_and_the_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from labbook.example_runs import write_example_runs

    write_example_runs(tmp_path / "runs")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: x\nplugins:\n  - labbook:\n      sources:\n        local: runs\n"
    )
    monkeypatch.chdir(tmp_path)
    assert main(["show", "5509"]) == 1
    _, err = capsys.readouterr()
    assert err == (
        "error: no run '5509' in any source: an ID prefix needs at least 6 characters. "
        "IDs starting with '5509': 55099931 (r18-lr0.1-s0)\n"
    )
