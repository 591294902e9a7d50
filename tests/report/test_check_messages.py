"""`labbook check` on a small project: every kind of mistake at its FILE:LINE:COL, in text and JSON.

The project has a local `dir` source of three runs and three reports: one clean, one with
a mistake of each kind an author makes, one in a subfolder. Each expected problem is
written out with its line and column as an editor shows them (1-based), and checked
against what the real command prints.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from labbook.cli import main

RUNS: dict[str, dict[str, Any]] = {
    "aaaa1111": {"name": "alpha", "lr": 0.1, "seed": 0, "loss": [1.0, 0.5, 0.25], "rmse": 0.30},
    "bbbb2222": {"name": "beta", "lr": 0.01, "seed": 1, "loss": [2.0, 1.0, 0.75], "rmse": 0.40},
    "cccc3333": {"name": "gamma", "lr": 0.01, "seed": 2, "loss": [1.5, 0.9, 0.6], "rmse": 0.35},
}

CLEAN = """\
---
title: Clean
runs:
  sweep:
    experiment: exp
---

# Clean

The best run is {{ sweep.best("val/acc").name }}.

```labbook
line: val/loss
runs: sweep
```
"""

# Line numbers on the left are the file's; the expected problems below cite them.
BAD_LINES = [
    "---",  # 1
    "title: Bad",  # 2
    "runs:",  # 3
    "  sweep:",  # 4
    "    experiment: exp",  # 5
    "  ghost: [zzzz9999]",  # 6   unknown run in a set: column 3, the set's key
    "---",  # 7
    "",  # 8
    "# Bad",  # 9
    "",  # 10
    'Best {{ sweep.best("rsme").name }}, mean {{ sweep.mean("rsme") }}.',  # 11
    "",  # 12
    "Unknown {{ swep | length }} and {{ sweep | lenght }}.",  # 13
    "",  # 14
    'A slip: {{ sweep.best("val/acc" }}.',  # 15
    "",  # 16
    "```labbook",  # 17
    "line: val/los",  # 18  misspelt metric
    "runs: sweep",  # 19
    "```",  # 20
    "",  # 21
    "```labbook",  # 22
    "line: val/loss",  # 23
    "runs: swep",  # 24  unknown run set
    "```",  # 25
    "",  # 26
    "```labbook",  # 27
    "line: val/loss",  # 28
    "runs: [zzzz9999]",  # 29  unknown run
    "```",  # 30
    "",  # 31
    "```labbook",  # 32
    "table: [name, params.lrr]",  # 33  misspelt column
    "runs: sweep",  # 34
    "sort: params.sed desc",  # 35  misspelt sort key
    "```",  # 36
    "",  # 37
    "```labbook",  # 38
    "table: [name, params.lr]",  # 39
    "runs: sweep",  # 40
    "sort: params.lr ascending",  # 41  bad direction
    "```",  # 42
    "",  # 43
    "```labbook",  # 44
    "line: val/loss",  # 45
    "runs: sweep",  # 46
    "  # a comment does not move the key",  # 47
    "smothing: 0.6",  # 48  unknown option
    "```",  # 49
    "",  # 50
    "```labbook",  # 51
    "pie: val/loss",  # 52  unknown kind
    "runs: sweep",  # 53
    "```",  # 54
    "",  # 55
    "```labbook",  # 56
    "line: val/loss",  # 57
    'title: "never closed',  # 58  bad YAML: the quote at column 8
    "```",  # 59
    "",  # 60
    "```labbook",  # 61
    "line: val/loss",  # 62
    "runs: sweep",  # 63
    "x: params.alpha",  # 64  a param as x
    "```",  # 65
    "",  # 66
    "```labbook",  # 67
    "line: val/loss",  # 68
    "runs: sweep",  # 69
    "band: std",  # 70  band without group_by
    "```",  # 71
    "",  # 72
    "```labbook",  # 73
    "line: val/loss",  # 74
    "runs: sweep",  # 75
    "label: figure-1",  # 76  bad label
    "```",  # 77
    "",  # 78
    "```labbook",  # 79
    "line: val/loss",  # 80
    "runs: sweep",  # 81
    'legend: "{name} {params.momentum}"',  # 82  legend field no run has
    "```",  # 83
    "",  # 84
    "```labbook",  # 85
    "line: rmse",  # 86  one value per run
    "runs: sweep",  # 87
    "```",  # 88
    "",  # 89
    "```labbook",  # 90
    "line: val/acc",  # 91
    "runs: sweep",  # 92
    "x: epochs",  # 93  an x metric no run logged
    "```",  # 94
    "",  # 95
    "  ```labbook",  # 96  an indented fence: columns count from the file's margin
    "  line: val/loss",  # 97
    "  runs: sweep",  # 98
    "  smoothing: 3",  # 99  out of range, key at column 3
    "  ```",  # 100
    "",  # 101
    "```labbook",  # 102
    "line: [val/loss, val/acc]",  # 103
    "runs: sweep",  # 104
    "layout: stacked",  # 105  not a layout
    "```",  # 106
    "",  # 107
    "```labbook",  # 108  no `runs`: every set of the report, the broken one too
    "table: [name]",  # 109
    "```",  # 110
    "",  # 111
    'Then {{ sweep.best("val/acc", "max").params.lrr }}.',  # 112  a param no run has
    "",  # 113
    "```labbook",  # 114
    "line: val/loss",  # 115
    "runs: sweep",  # 116
    "group_by: params.lrr",  # 117  a param no run has
    "```",  # 118
]
BAD = "\n".join(BAD_LINES) + "\n"

# In the subfolder: the file is named by its path under the project.
OTHER = """\
# Other

```labbook
table: [name, metrics.val/acc]
colour: red
```
"""


class Expected(NamedTuple):
    file: str
    line: int
    column: int
    message: str  # how the message starts
    hint: str | None = None  # what the hint holds (a suggestion), if it must hold one


B = "reports/bad.md"
EXPECTED = [
    Expected(B, 6, 3, "no run 'zzzz9999' in any source (nothing close; 3 run(s), e.g. "),
    Expected(B, 11, 6, "no run of run set 'sweep' has 'rsme'", "did you mean 'rmse'?"),
    Expected(B, 11, 42, "no run of run set 'sweep' has 'rsme'", "did you mean 'rmse'?"),
    Expected(B, 13, 9, "expression error: 'swep' is undefined", "did you mean 'sweep'?"),
    Expected(
        B, 13, 33, "expression syntax error: No filter named 'lenght'", "did you mean 'length'?"
    ),
    Expected(B, 15, 9, "expression syntax error: unexpected '}', expected ')'"),
    Expected(B, 18, 1, "no run has any point of 'val/los'", "did you mean 'val/loss'?"),
    Expected(B, 24, 1, "unknown run set 'swep' (did you mean 'sweep'?)", "run sets of this report"),
    Expected(B, 29, 1, "no run 'zzzz9999' in any source"),
    Expected(
        B, 33, 1, "'table': no run of this block has 'params.lrr'", "did you mean 'params.lr'?"
    ),
    Expected(
        B, 35, 1, "'sort': no run of this block has 'params.sed'", "did you mean 'params.seed'?"
    ),
    Expected(
        B,
        41,
        1,
        "'sort': 'params.lr ascending': the direction must be asc or desc",
        "`sort: params.lr asc`",
    ),
    Expected(B, 48, 1, "unknown option 'smothing' for a line block (did you mean 'smoothing'?)"),
    Expected(B, 52, 1, "unknown block kind 'pie'", "known kinds: "),
    Expected(B, 58, 8, "bad YAML: while scanning a quoted scalar: found unexpected end of stream"),
    Expected(B, 64, 1, "'x: params.alpha' is a param", "`group_by: params.alpha`"),
    Expected(B, 70, 1, "'band' only applies to a grouped chart", "add `group_by: params.K`"),
    Expected(B, 76, 1, "'label' must be fig-NAME or tbl-NAME, not 'figure-1'"),
    Expected(B, 82, 1, "'legend': no run of this block has 'params.momentum'", "params.lr"),
    # (Line 86, `line: rmse` over runs that logged one value each, is an error a build
    # finds from the points; check reads no history, so it does not see it.)
    Expected(
        B, 93, 1, "'x': no run of this block logged the metric 'epochs'", "metrics these runs"
    ),
    Expected(B, 99, 3, "'smoothing' must be a number from 0 up to (not including) 1, not 3"),
    Expected(B, 105, 1, "'layout' must be one of overlay, grid, not 'stacked'"),
    Expected(B, 112, 6, "expression error: 'dict object' has no attribute 'lrr'", "'lr'?"),
    Expected(B, 117, 1, "no run has a value for 'params.lrr'", "did you mean 'params.lr'?"),
    Expected(
        "reports/sub/other.md",
        5,
        1,
        "unknown option 'colour' for a table block",
        "valid options: ",
    ),
]


def write_runs(root: Path) -> None:
    for run_id, run in RUNS.items():
        folder = root / "runs" / run_id
        folder.mkdir(parents=True)
        meta = {
            "name": run["name"],
            "experiment": "exp",
            "params": {"lr": run["lr"], "seed": run["seed"]},
            "tags": {"stage": "sweep"},
        }
        (folder / "run.json").write_text(json.dumps(meta), encoding="utf-8")
        rows = []
        for i, loss in enumerate(run["loss"]):
            row: dict[str, Any] = {"step": 10 * i, "val/loss": loss, "val/acc": 1 - loss / 3}
            if i == 0:
                row["rmse"] = run["rmse"]  # as a scikit-learn run logs it: once
            rows.append(json.dumps(row))
        (folder / "metrics.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.fixture
def book(tmp_path: Path) -> Path:
    root = tmp_path / "book"
    (root / "reports" / "sub").mkdir(parents=True)
    (root / "mkdocs.yml").write_text(
        "site_name: t\ndocs_dir: reports\ntheme:\n  name: material\nplugins:\n"
        "  - labbook:\n      sources:\n        local: dir:runs\n",
        encoding="utf-8",
    )
    write_runs(root)
    (root / "reports" / "index.md").write_text(CLEAN, encoding="utf-8")
    (root / "reports" / "bad.md").write_text(BAD, encoding="utf-8")
    (root / "reports" / "sub" / "other.md").write_text(OTHER, encoding="utf-8")
    return root


def check(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", "-f", str(root / "mkdocs.yml"), *args])
    out, err = capsys.readouterr()
    return code, out, err


_PLACE = re.compile(r"(?P<file>[\w/.-]+\.md):(?P<line>\d+):(?P<column>\d+): (?P<text>.+)")


def test_the_bad_report_is_written_as_the_expected_places_say() -> None:
    # The expectations cite lines of BAD by number; a shifted line would make them wrong.
    assert BAD_LINES[58 - 1] == 'title: "never closed'
    assert BAD_LINES[99 - 1] == "  smoothing: 3"
    assert BAD.count("\n") == 118
    assert len({(e.file, e.line, e.column) for e in EXPECTED}) == len(EXPECTED) >= 15


def test_check_prints_each_problem_at_file_line_and_column(
    book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = check(book, capsys)
    assert code == 1
    assert "Traceback" not in err
    printed = [m for m in map(_PLACE.fullmatch, err.splitlines()) if m is not None]
    places = [(m["file"], int(m["line"]), int(m["column"])) for m in printed]
    assert places == [(e.file, e.line, e.column) for e in EXPECTED]
    for match, expected in zip(printed, EXPECTED, strict=True):
        assert match["text"].startswith(expected.message), (expected, match["text"])
        if expected.hint is not None:
            assert expected.hint in match["text"], (expected, match["text"])
    # A block without `runs` draws every set of the report, so the broken set breaks it too:
    # printed once, under the set's own problem, with the place it broke.
    lines = err.splitlines()
    assert lines[lines.index(printed[0].group(0)) + 1] == "  it broke: reports/bad.md:108:1"
    others = [
        line
        for line in err.splitlines()
        if not _PLACE.fullmatch(line) and not line.startswith("  it broke: ")
    ]
    assert others == []
    # On stdout: the note of what was assumed, and the count.
    assert out == (
        'reports/index.md:10: note: best("val/acc") assumed val/acc is maximised (name rule);'
        " set goals: {val/acc: max} to say so\n"
        f"checked 3 report(s): {len(EXPECTED)} problem(s) in reports, 0 in sources\n"
    )


def test_check_format_json_lists_the_same_problems_and_a_summary(
    book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = check(book, capsys, "--format", "json")
    assert code == 1  # the exit code does not depend on the format
    assert err == ""
    report = json.loads(out)
    assert set(report) == {"problems", "summary"}
    *problems, note = report["problems"]
    assert problems[0]["also"] == ["reports/bad.md:108:1"]
    # Notes come last: what labbook assumed (here the goal of val/acc), never a failure.
    assert (note["file"], note["line"], note["severity"]) == ("reports/index.md", 10, "note")
    assert [(p["file"], p["line"], p["column"]) for p in problems] == [
        (e.file, e.line, e.column) for e in EXPECTED
    ]
    for problem, expected in zip(problems, EXPECTED, strict=True):
        assert set(problem) == {"file", "line", "column", "severity", "message", "hint", "also"}
        assert problem["severity"] == "error"
        assert problem["message"].startswith(expected.message)
        if expected.hint is not None:
            # The suggestion is in the message or, split from it, in the hint.
            assert expected.hint in problem["message"] + " " + (problem["hint"] or "")
    # The text and JSON say the same: message then hint, as the text line joins them.
    code, _, err = check(book, capsys)
    text = [m["text"] for m in map(_PLACE.fullmatch, err.splitlines()) if m is not None]
    joined = [p["message"] + (f". {p['hint']}" if p["hint"] else "") for p in problems]
    assert text == joined
    assert report["summary"] == {
        "reports": 3,
        "errors": len(EXPECTED),
        "warnings": 0,
        "notes": 1,  # best("val/acc") in the clean report: the goal the name rule gave
    }


def test_check_json_from_the_installed_command_equals_the_in_process_one(
    book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, in_process, _ = check(book, capsys, "--format", "json")
    done = subprocess.run(
        [sys.executable, "-m", "labbook.cli", "check", "--format", "json"],
        cwd=book,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout) == json.loads(in_process)


def test_a_clean_project_checks_with_exit_0_and_its_notes(
    book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (book / "reports" / "bad.md").unlink()
    (book / "reports" / "sub" / "other.md").unlink()
    code, out, err = check(book, capsys, "--format", "json")
    assert code == 0 and err == ""
    report = json.loads(out)
    assert report["summary"] == {"reports": 1, "errors": 0, "warnings": 0, "notes": 1}
    [note] = report["problems"]
    assert (note["file"], note["line"], note["column"], note["severity"]) == (
        "reports/index.md",
        10,
        1,
        "note",
    )
    assert note["message"].startswith('best("val/acc") assumed val/acc is maximised')
    code, out, err = check(book, capsys)
    assert code == 0 and err == ""
    assert out.endswith("checked 1 report(s): 0 problem(s) in reports, 0 in sources\n")


def test_a_usage_error_is_exit_2(book: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["check", "-f", str(book / "mkdocs.yml"), "--format", "xml"])
    assert info.value.code == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err


def test_a_project_that_will_not_load_is_still_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = check(tmp_path, capsys, "--format", "json")
    assert code == 1 and err == ""
    report = json.loads(out)
    [problem] = report["problems"]
    assert problem["severity"] == "error"
    assert problem["message"] == f"no mkdocs.yml found in {tmp_path}"
    assert report["summary"] == {"reports": 0, "errors": 1, "warnings": 0, "notes": 0}
    # In text, the same problem on stderr.
    code, out, err = check(tmp_path, capsys)
    assert code == 1 and out == ""
    assert f"no mkdocs.yml found in {tmp_path}" in err
