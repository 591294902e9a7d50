"""The `labbook` command on a copy of the example lab book: exit codes, messages, output."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from labbook.cli import main
from labbook.example_runs import write_example_runs
from tests.skips import skip_or_fail

REPO = Path(__file__).resolve().parents[1]

EXAMPLE_IDS = [
    "183998cd",
    "431c5bb7",
    "499575bd",
    "4cf196be",
    "503922f7",
    "55099931",
    "60112552",
    "7285f0a0",
    "93576cc5",
    "960b4713",
    "b1da572d",
    "d46c43e6",
    "db71eb02",
]
LR_01_IDS = ["431c5bb7", "55099931", "960b4713"]

# Four problems, one per block; the comments give each offending key's line.
BROKEN_REPORT = """\
---
title: Broken
runs:
  sweep:
    experiment: cifar-sweep
---

# Broken

Some text that is fine.

```labbook
line: val/acc
runs: [55099932]
```

```labbook
line: val/accuracy
runs: sweep
```

```labbook
line: val/loss
  runs: sweep
```

```labbook
table: auto
runs: sweep
colour: red
```

Closing text.
"""
# line 14: unknown run; 18: unknown metric; 24: bad YAML; 30: unknown option.
BROKEN_LINES = [14, 18, 24, 30]


def make_example(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(REPO / "reports", root / "reports")
    write_example_runs(root / "runs")
    shutil.copy2(REPO / "mlflow.db", root / "mlflow.db")
    shutil.copytree(REPO / "wandb", root / "wandb", symlinks=True)
    shutil.copytree(REPO / "tensorboard", root / "tensorboard")
    return root


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_example(tmp_path / "book")
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def broken(project: Path) -> Path:
    (project / "reports" / "broken.md").write_text(BROKEN_REPORT, encoding="utf-8")
    return project


def problem_places(stderr: str, file: str) -> dict[tuple[int, int | None], str]:
    """Gives (line, column) -> message of every `FILE:LINE:COL: message` line (or FILE:LINE)."""
    out: dict[tuple[int, int | None], str] = {}
    for line in stderr.splitlines():
        match = re.fullmatch(re.escape(file) + r":(\d+)(?::(\d+))?: (.+)", line)
        if match:
            column = int(match.group(2)) if match.group(2) else None
            out[(int(match.group(1)), column)] = match.group(3)
    return out


def problem_lines(stderr: str, file: str) -> dict[int, str]:
    """Gives line -> message of every `FILE:LINE:COL: message` line."""
    return {line: message for (line, _), message in problem_places(stderr, file).items()}


# -- check ------------------------------------------------------------------------------------


def test_check_passes_on_the_example(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    out, err = capsys.readouterr()
    assert out == "checked 6 report(s): 0 problem(s) in reports, 0 in sources\n"
    assert err == ""


def test_check_reports_each_problem_at_its_line(
    broken: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check"]) == 1
    out, err = capsys.readouterr()
    problems = problem_lines(err, "reports/broken.md")
    assert sorted(problems) == BROKEN_LINES
    # Each at its column: the key of the option (1), or the colon PyYAML stopped at (7).
    assert sorted(problem_places(err, "reports/broken.md")) == [(14, 1), (18, 1), (24, 7), (30, 1)]
    assert problems[14].startswith("no run '55099932' in any source (closest: 55099931")
    assert problems[18].startswith("no run has any point of 'val/accuracy'")
    assert problems[24].startswith("bad YAML: mapping values are not allowed here")
    assert problems[30].startswith("unknown option 'colour' for a table block. valid options: ")
    # Nothing but those problems is printed on stderr.
    assert len(err.splitlines()) == 4
    assert out == "checked 7 report(s): 4 problem(s) in reports, 0 in sources\n"
    assert "Traceback" not in err


def test_check_format_json_on_the_example_and_a_broken_report(
    broken: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--format", "json"]) == 1
    out, err = capsys.readouterr()
    assert err == ""
    report = json.loads(out)
    errors = [p for p in report["problems"] if p["severity"] == "error"]
    assert [(p["file"], p["line"], p["column"]) for p in errors] == [
        ("reports/broken.md", 14, 1),
        ("reports/broken.md", 18, 1),
        ("reports/broken.md", 24, 7),
        ("reports/broken.md", 30, 1),
    ]
    assert errors[3]["message"] == "unknown option 'colour' for a table block"
    assert errors[3]["hint"].startswith("valid options: caption, ")
    assert report["summary"]["reports"] == 7 and report["summary"]["errors"] == 4
    (broken / "reports" / "broken.md").unlink()
    assert main(["check", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["summary"] == {"reports": 6, "errors": 0, "warnings": 0, "notes": 0}


@pytest.mark.parametrize(
    ("block", "line", "column", "message"),
    [
        (
            "line: val/acc\nruns: [r18-lr0.1-s9]\n",
            14,
            1,
            "no run 'r18-lr0.1-s9' in any source (closest: ",
        ),
        (
            "line: val/acc\nruns: sweep\nsmothing: 0.5\n",
            15,
            1,
            "unknown option 'smothing' for a line block",
        ),
        # The bracket never closed, at column 7.
        ("line: [val/acc\nruns: sweep\n", 13, 7, "bad YAML: "),
        ("line: val/acc\nruns: sweep\nsmoothing: 3\n", 15, 1, "'smoothing' must be a number"),
        ("line: nope/metric\nruns: sweep\n", 13, 1, "no run has any point of 'nope/metric'"),
        ("pie: val/acc\nruns: sweep\n", 13, 1, "unknown block kind 'pie'"),
        # A flow mapping: the option's key is inside the line.
        ("{line: val/acc, runs: sweep, smoothing: 2}\n", 13, 30, "'smoothing' must be"),
    ],
)
def test_check_one_problem(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    block: str,
    line: int,
    column: int,
    message: str,
) -> None:
    text = BROKEN_REPORT.split("```labbook")[0] + "```labbook\n" + block + "```\n"
    (project / "reports" / "one.md").write_text(text, encoding="utf-8")
    assert main(["check"]) == 1
    _, err = capsys.readouterr()
    problems = problem_places(err, "reports/one.md")
    assert list(problems) == [(line, column)]
    assert problems[(line, column)].startswith(message)


def test_check_unknown_run_suggests_id_and_name(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = BROKEN_REPORT.split("```labbook")[0] + "{{ run('r18-lr0.1-s9') | link }}\n"
    (project / "reports" / "one.md").write_text(text, encoding="utf-8")
    assert main(["check"]) == 1
    _, err = capsys.readouterr()
    problems = problem_lines(err, "reports/one.md")
    assert list(problems) == [12]
    # The closest names are shown with their IDs.
    assert "r18-lr0.1-s" in problems[12]
    assert re.search(r"\(closest: [0-9a-f]{8} \(r18-lr0\.1-s\d\)", problems[12])


def test_check_with_a_config_file_elsewhere(
    broken: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["check", "-f", str(broken / "mkdocs.yml")]) == 1
    _, err = capsys.readouterr()
    # Files are still named relative to the project.
    assert sorted(problem_lines(err, "reports/broken.md")) == BROKEN_LINES


# -- build --------------------------------------------------------------------------------------


def test_build_strict_passes_on_the_example(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build", "--strict"]) == 0
    out, _ = capsys.readouterr()
    assert "built 6 page(s) into " in out and "(0 error(s), 0 warning(s))" in out
    page = (project / "site" / "lr-sweep" / "index.html").read_text(encoding="utf-8")
    assert "labbook-error" not in page
    assert "Learning-rate sweep for ResNet-18 on CIFAR-10" in page
    assert (
        page.count('class="labbook-block labbook-chart"') == 7
    )  # two lines, bar, scatter, parallel, importance, histogram


def test_build_strict_fails_on_a_broken_project(
    broken: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build", "--strict", "-d", str(broken / "out")]) == 1
    out, err = capsys.readouterr()
    assert "(4 error(s), 0 warning(s))" in out
    assert "error: reports/broken.md:14:1: no run '55099932'" in err
    # Each problem once: no bare copy of the message besides the labelled one.
    assert err.count("no run '55099932'") == 1
    assert "error: reports/broken.md:18:1: no run has any point of 'val/accuracy'" in err


def test_build_without_strict_shows_error_boxes(
    broken: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The whole site is written, error boxes included, and the exit code says it has errors.
    assert main(["build"]) == 1
    out, _ = capsys.readouterr()
    assert "built 7 page(s) into " in out
    page = (broken / "site" / "broken" / "index.html").read_text(encoding="utf-8")
    assert page.count("labbook-error") == 4
    for place in ("14:1", "18:1", "24:7", "30:1"):
        assert f"<code>reports/broken.md:{place}</code>" in page
    # The rest of the report is on the page.
    assert "Some text that is fine." in page and "Closing text." in page
    assert page.count('class="labbook-block labbook-chart"') == 0
    # The other reports are unaffected.
    assert "labbook-error" not in (broken / "site" / "index.html").read_text(encoding="utf-8")


# -- runs and show --------------------------------------------------------------------------


def runs_json(
    capsys: pytest.CaptureFixture[str], *args: str, source: str = "local"
) -> list[dict[str, object]]:
    assert main(["runs", source, "--format", "json", *args]) == 0
    out, _ = capsys.readouterr()
    rows = json.loads(out)
    assert isinstance(rows, list)
    return rows


def test_runs_json_lists_every_example_run(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = runs_json(capsys)
    assert [r["id"] for r in rows] == EXAMPLE_IDS
    assert sorted(p.name for p in (project / "runs").iterdir()) == EXAMPLE_IDS
    first = rows[0]
    assert first["source"] == "local"
    assert first["name"] == "vit-tiny-s1"
    assert first["experiment"] == "variants"
    assert first["status"] == "finished"
    assert first["metrics.val/acc"] == 0.6807


def test_runs_filter(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = runs_json(capsys, "--filter", "params.lr = 0.1")
    assert [r["id"] for r in rows] == LR_01_IDS
    assert [r["name"] for r in rows] == ["r18-lr0.1-s2", "r18-lr0.1-s0", "r18-lr0.1-s1"]


def test_runs_order_by_and_limit(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = runs_json(capsys, "--order-by", "metrics.`val/acc` DESC", "--limit", "4")
    assert [(r["id"], r["metrics.val/acc"]) for r in rows] == [
        ("431c5bb7", 0.8158),
        ("960b4713", 0.8149),
        ("55099931", 0.8047),
        ("7285f0a0", 0.7841),
    ]
    rows = runs_json(
        capsys, "--filter", "params.lr = 0.1", "--order-by", "params.seed", "--limit", "2"
    )
    assert [r["id"] for r in rows] == ["55099931", "960b4713"]


def test_runs_with_a_source_uri(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = runs_json(capsys, "--filter", "attributes.status = 'failed'", source="dir:runs")
    assert [(r["source"], r["id"]) for r in rows] == [("dir", "db71eb02")]


def test_runs_csv_parses(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs", "local", "--format", "csv"]) == 0
    out, _ = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["id"] for r in rows] == EXAMPLE_IDS
    by_id = {r["id"]: r for r in rows}
    assert by_id["55099931"]["name"] == "r18-lr0.1-s0"
    assert float(by_id["55099931"]["metrics.val/acc"]) == 0.8047
    assert by_id["55099931"]["start_time"] == "2026-11-02T09:21:08+00:00"


def test_runs_table(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs", "local", "--filter", "params.lr = 0.1"]) == 0
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split()[:5] == ["source", "id", "name", "experiment", "status"]
    assert [line.split()[1] for line in lines[1:]] == LR_01_IDS


def test_runs_unknown_source_and_bad_filter(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["runs", "nosuch"]) == 1
    _, err = capsys.readouterr()
    assert err == "error: unknown source 'nosuch'. configured sources: local, sweeps, wb, tb\n"
    assert main(["runs", "--filter", "params.lr =="]) == 1
    _, err = capsys.readouterr()
    assert err.startswith("error: ") and "Traceback" not in err


def test_show_prints_params_and_metric_keys(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["show", "55099931"]) == 0
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == "r18-lr0.1-s0  (local:55099931)"
    params = lines[lines.index("params:") + 1 : lines.index("tags:")]
    assert params == [
        "  batch_size: 128",
        "  lr: 0.1",
        "  model: resnet18",
        "  optimizer.momentum: 0.9",
        "  optimizer.name: sgd",
        "  seed: 0",
    ]
    metrics = lines[lines.index("metrics:") + 1 :]
    assert metrics == [
        "  best/val_acc (summary only)",
        "  train/acc (600 points)",
        "  train/loss (600 points)",
        "  val/acc (30 points)",
        "  val/loss (30 points)",
    ]
    assert "  val/acc: 0.8047" in lines
    assert "  experiment: cifar-sweep" in lines


def test_show_by_prefix_name_and_source(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for ref in ("550999", "r18-lr0.1-s0", "local:55099931"):
        assert main(["show", ref]) == 0
        out, _ = capsys.readouterr()
        assert out.splitlines()[0] == "r18-lr0.1-s0  (local:55099931)"


def test_show_lists_artifacts(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "b1da572d"]) == 0
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    artifacts = lines[lines.index("artifacts:") + 1 :]
    expected = sorted(
        p.relative_to(project / "runs" / "b1da572d" / "artifacts").as_posix()
        for p in (project / "runs" / "b1da572d" / "artifacts").rglob("*")
        if p.is_file()
    )
    assert sorted(a.strip() for a in artifacts) == expected


def test_show_unknown_id(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "55099932"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: no run '55099932' in any source (closest: 55099931")
    assert len(err.splitlines()) == 1
    assert "Traceback" not in err


# -- init -----------------------------------------------------------------------------------


@pytest.mark.parametrize("example", [False, True])
def test_init_creates_a_project_that_checks_and_builds(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    example: bool,
) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["init", "newbook", *(["--example"] if example else [])]
    assert main(args) == 0
    out, _ = capsys.readouterr()
    assert "wrote " in out and "next: cd newbook && labbook build" in out
    root = tmp_path / "newbook"
    assert (root / "mkdocs.yml").is_file()
    assert (root / "reports" / "index.md").is_file()
    assert (root / ".gitignore").read_text() == "/site/\n.labbook/cache/\n.labbook/zensical/\n"
    if example:
        assert sorted(p.name for p in (root / "runs").iterdir()) == EXAMPLE_IDS
        assert sorted(p.name for p in (root / "reports").iterdir()) == [
            "augment-ablation.md",
            "index.md",
            "lr-sweep.md",
            "reference",
            "trackers.md",
            "variants.md",
        ]
    else:
        # A placeholder, so git keeps the folder and a fresh clone's build does not warn.
        assert [p.name for p in (root / "runs").iterdir()] == ["README.md"]

    monkeypatch.chdir(root)
    assert main(["check"]) == 0
    out, _ = capsys.readouterr()
    reports = 6 if example else 1
    assert out == f"checked {reports} report(s): 0 problem(s) in reports, 0 in sources\n"
    assert main(["build", "--strict"]) == 0
    out, _ = capsys.readouterr()
    assert f"built {reports} page(s)" in out
    index = (root / "site" / "index.html").read_text(encoding="utf-8")
    assert "labbook-error" not in index
    if example:
        assert "This lab book currently holds 13 runs." in index


def test_init_into_an_existing_project(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = (project / "mkdocs.yml").read_bytes()
    assert main(["init", "."]) == 1
    _, err = capsys.readouterr()
    assert err.startswith("error: ") and "mkdocs.yml already exists" in err
    assert (project / "mkdocs.yml").read_bytes() == before


# -- usage and missing projects -------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["runs", "--limit", "many"],
        ["runs", "--format", "xml"],
        ["build", "--engine", "sphinx"],
        ["show"],
        ["check", "--no-such-flag"],
    ],
)
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    _, err = capsys.readouterr()
    assert err.startswith("usage: labbook")


@pytest.mark.parametrize("command", [["check"], ["build"], ["runs"], ["show", "55099931"]])
def test_missing_mkdocs_yml(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    assert main(command) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"error: no mkdocs.yml found in {empty.resolve()}")
    assert "labbook init" in err
    assert "Traceback" not in err


def test_bad_mkdocs_yml_names_file_and_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "mkdocs.yml").write_text("site_name: x\nplugins:\n  - labbook:\n    sources: [\n")
    assert main(["check"]) == 1
    _, err = capsys.readouterr()
    assert err.startswith("error: mkdocs.yml:5: bad YAML: ")
    assert "Traceback" not in err


def test_unknown_plugin_option(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = (project / "mkdocs.yml").read_text()
    (project / "mkdocs.yml").write_text(config.replace("max_points: 1500", "max_point: 1500"))
    assert main(["check"]) == 1
    _, err = capsys.readouterr()
    line = config.splitlines().index("      max_points: 1500") + 1
    assert err == (
        f"error: mkdocs.yml:{line}: unknown labbook option 'max_point'. "
        "valid options: sources, notebook, max_points, enabled, goals, cache\n"
    )


# -- the real console script ------------------------------------------------------------------


def test_console_script_as_a_subprocess(broken: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "labbook.cli", "check"],
        cwd=broken,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert sorted(problem_lines(done.stderr, "reports/broken.md")) == BROKEN_LINES
    assert "Traceback" not in done.stderr

    done = subprocess.run(
        [sys.executable, "-m", "labbook.cli", "runs", "--bogus"],
        cwd=broken,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2


def test_installed_entry_point(project: Path) -> None:
    exe = shutil.which("labbook", path=str(Path(sys.executable).parent))
    if exe is None:
        skip_or_fail("the labbook entry point is not installed next to this Python")
    done = subprocess.run(
        [exe, "show", "55099932"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: no run '55099932' in any source")
    assert "Traceback" not in done.stderr
    done = subprocess.run(
        [exe, "--version"], cwd=project, capture_output=True, text=True, timeout=120, check=False
    )
    assert (done.returncode, done.stdout) == (0, "labbook 0.1.0\n")
