"""Metric goals: `best`, `highlight: best` and check's notes follow the goal, not max."""

from __future__ import annotations

from pathlib import Path

import pytest

from labbook.goals import goal_of
from labbook.model import RunSet
from labbook.report.compile import CompiledPage, CompileOptions, compile_report

from .conftest import MemorySource, make_run, resolver_for

FRONT = "---\nruns:\n  sweep: {source: mem, experiment: exp}\n---\n"


def _source() -> MemorySource:
    return MemorySource(
        [
            make_run("a", "alpha", summary={"rmse": 0.9, "val/acc": 0.70, "custom": 3.0}),
            make_run("b", "bravo", summary={"rmse": 0.2, "val/acc": 0.91, "custom": 1.0}),
            make_run("c", "charlie", summary={"rmse": 0.5, "val/acc": 0.80, "custom": 2.0}),
        ]
    )


def _compile(text: str, goals: dict[str, str] | None = None) -> CompiledPage:
    options = CompileOptions(display_path="reports/r.md", goals=goals or {})
    return compile_report(Path("reports/r.md"), FRONT + text, resolver_for(_source()), options)


@pytest.mark.parametrize(
    ("key", "mode"),
    [
        ("rmse", "min"),
        ("metrics.test_RMSE", "min"),
        ("val/loss", "min"),
        ("p99-latency", "min"),
        ("eval.WER", "min"),
        ("epoch_time", "min"),
        ("val/acc", "max"),
        ("f1", "max"),
        ("lossless_ratio", "max"),  # a part must be the word itself, not contain it
    ],
)
def test_the_name_rule(key: str, mode: str) -> None:
    assert goal_of(key) == (mode, True)


def test_a_configured_goal_wins_over_the_rule_in_any_spelling() -> None:
    assert goal_of("metrics.rmse", {"rmse": "max"}) == ("max", False)
    assert goal_of("val/acc", {"metrics.val/acc": "min"}) == ("min", False)


def test_best_rmse_is_the_lowest_and_check_notes_the_guess() -> None:
    page = _compile('Intro.\n\nBest: {{ sweep.best("rmse").name }}.\n')
    assert "Best: bravo." in page.markdown
    assert not page.errors and not page.warnings
    # Front matter is 4 lines; the expression is on report line 7.
    assert [str(n) for n in page.notes] == [
        'reports/r.md:7: note: best("rmse") assumed rmse is minimised (name rule); '
        "set goals: {rmse: min} to say so"
    ]


def test_best_accuracy_is_still_the_highest() -> None:
    page = _compile('{{ sweep.best("val/acc").name }}\n')
    assert "bravo" in page.markdown
    assert "maximised" in str(page.notes[0])


def test_a_configured_goal_overrides_the_rule_and_gives_no_note() -> None:
    page = _compile(
        '{{ sweep.best("rmse").name }} {{ sweep.best("custom").name }}\n',
        goals={"rmse": "max", "custom": "min"},
    )
    assert "alpha bravo" in page.markdown
    assert page.notes == []


def test_an_explicit_mode_wins_over_the_goal() -> None:
    page = _compile('{{ sweep.best("rmse", mode="max").name }}\n', goals={"rmse": "min"})
    assert "alpha" in page.markdown
    page = _compile('{{ sweep.best("rmse", "max").name }}\n')
    assert "alpha" in page.markdown
    assert page.notes == []  # nothing was assumed


def test_a_guess_is_noted_once_per_key() -> None:
    page = _compile('{{ sweep.best("rmse").name }}\n{{ sweep.best("rmse").id }}\n')
    assert len(page.notes) == 1


def test_goals_survive_slicing_filtering_and_adding() -> None:
    page = _compile(
        '{{ sweep[:2].best("custom").name }} {{ (sweep[2:] + sweep[:1]).best("custom").name }}\n',
        goals={"custom": "min"},
    )
    assert "bravo charlie" in page.markdown


def test_a_plain_run_set_uses_the_name_rule() -> None:
    runs = RunSet(_source().runs)
    best = runs.best("rmse")
    assert best is not None and best.name == "bravo"
    best = runs.best("val/acc")
    assert best is not None and best.name == "bravo"
    worst = runs.best("val/acc", "min")
    assert worst is not None and worst.name == "alpha"


TABLE = """\
```labbook
table: [name, rmse, val/acc]
runs: sweep
highlight: {rmse: best, val/acc: best}
```
"""


def _best_cells(html: str) -> list[str]:
    import re

    return re.findall(r'<td data-value="([^"]*)" data-type="number" class="labbook-best">', html)


def test_highlight_best_marks_the_lowest_rmse_and_the_highest_accuracy() -> None:
    page = _compile(TABLE)
    assert not page.errors, page.errors
    assert _best_cells(page.markdown) == ["0.2", "0.91"]
    # Both guesses are noted at the highlight option's line (front matter 4 + 4).
    assert [(n.line, n.message.split(" assumed")[0]) for n in page.notes] == [
        (8, "highlight: {rmse: best}"),
        (8, "highlight: {val/acc: best}"),
    ]


def test_highlight_best_follows_a_configured_goal() -> None:
    page = _compile(TABLE, goals={"rmse": "max"})
    assert _best_cells(page.markdown) == ["0.9", "0.91"]
    assert len(page.notes) == 1  # val/acc alone was guessed


def test_highlight_rejects_an_unknown_mode() -> None:
    page = _compile(TABLE.replace("rmse: best", "rmse: lowest"))
    assert page.errors and page.errors[0].line == 8
    assert "max, min or best" in page.errors[0].message


def _project(tmp_path: Path, options: str = "") -> Path:
    from labbook.example_runs import write_example_runs

    write_example_runs(tmp_path / "runs")
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "index.md").write_text(
        "---\nruns:\n  s: {source: local, experiment: cifar-sweep}\n---\n# Sweep\n\n"
        'Best {{ s.best("val/loss").name }}; top {{ s.best("val/loss", "max").name }}.\n',
        encoding="utf-8",
    )
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: g\ndocs_dir: reports\ntheme:\n  name: material\nplugins:\n"
        "  - labbook:\n      sources:\n        local: runs\n" + options,
        encoding="utf-8",
    )
    return tmp_path


def _check(book: Path, *args: str) -> tuple[int, str]:
    import subprocess
    import sys

    done = subprocess.run(
        [str(Path(sys.executable).parent / "labbook"), "check", *args],
        cwd=book,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


def test_check_on_the_example_runs_notes_the_guess_and_passes_strict(tmp_path: Path) -> None:
    from labbook.project import Project

    book = _project(tmp_path)
    runs = Project.load(book / "mkdocs.yml").sources["local"].list_runs("cifar-sweep")
    losses = [
        (r.summary["val/loss"], r.name)
        for r in runs
        if r.summary["val/loss"] == r.summary["val/loss"]
    ]
    lowest = min(losses)[1]
    page = _compile_project(book)
    assert f"Best {lowest};" in page.markdown
    assert f"top {max(losses)[1]}." in page.markdown
    code, out = _check(book, "--strict")
    assert code == 0, out
    assert (
        'reports/index.md:7: note: best("val/loss") assumed val/loss is minimised (name rule); '
        "set goals: {val/loss: min} to say so"
    ) in out


def test_check_is_quiet_once_the_goal_is_configured(tmp_path: Path) -> None:
    book = _project(tmp_path, '      goals: {"val/loss": min}\n')
    code, out = _check(book, "--strict")
    assert code == 0, out
    assert "note:" not in out


def test_a_bad_goal_in_mkdocs_yml_is_an_error_at_its_line(tmp_path: Path) -> None:
    book = _project(tmp_path, "      goals: {rmse: lowest}\n")
    code, out = _check(book)
    assert code == 1
    assert "mkdocs.yml:9:" in out
    assert "labbook option 'goals': rmse: the goal must be min or max, not 'lowest'" in out


def _compile_project(book: Path) -> CompiledPage:
    from labbook.project import Project
    from labbook.report.compile import ProjectCompiler

    compiler = ProjectCompiler(Project.load(book / "mkdocs.yml"))
    return compiler.compile_file(book / "reports" / "index.md")


# --- misspelt keys are errors naming what exists -----------------------------------------


@pytest.mark.parametrize(
    ("expression", "suggestion"),
    [
        ('{{ sweep.best("rsme").name }}', "did you mean 'rmse'?"),
        ('{{ sweep.mean("rsme") }}', "did you mean 'rmse'?"),
        ('{{ sweep.std("val/acc_") }}', "did you mean 'val/acc'?"),
        ('{{ sweep.values("metrics.rsme") }}', "did you mean 'metrics.rmse'?"),
        ('{{ sweep.best("rsme", "min") }}', "did you mean 'rmse'?"),
    ],
)
def test_an_unknown_key_in_an_expression_is_an_error_at_its_line(
    expression: str, suggestion: str
) -> None:
    page = _compile(f"Intro.\n\n{expression}\n")
    assert len(page.errors) == 1
    error = page.errors[0]
    assert error.line == 7
    assert "no run of run set 'sweep' has" in error.message
    assert error.hint is not None and error.hint.startswith(suggestion)
    assert page.notes == []  # a misspelt key assumes no goal
    assert "labbook-error" in page.markdown


def test_a_bare_param_name_is_told_to_say_params() -> None:
    source = MemorySource([make_run("a", "alpha", params={"alpha": 0.1}, summary={"rmse": 1})])
    page = compile_report(
        Path("reports/r.md"),
        FRONT + '{{ sweep.mean("alpha") }}\n',
        resolver_for(source),
        CompileOptions(display_path="reports/r.md"),
    )
    assert page.errors[0].hint == "'alpha' is a param, not a metric: write params.alpha"


def test_a_key_some_runs_lack_is_not_an_error() -> None:
    runs = RunSet([*_source().runs, make_run("d", "delta", summary={"other": 1.0})])
    assert runs.values("rmse") == [0.9, 0.2, 0.5, None]
    best = runs.best("rmse")
    assert best is not None and best.name == "bravo"
    assert RunSet().best("rmse") is None  # an empty set has nothing to name


def test_library_best_on_an_unknown_key_raises_a_query_error() -> None:
    from labbook.errors import QueryError

    with pytest.raises(QueryError, match="no run of these runs has 'rsme'"):
        RunSet(_source().runs).best("rsme")


BAD_TABLE = """\
```labbook
table: [name, {columns}]
runs: sweep
sort: {sort}
```
"""


@pytest.mark.parametrize(
    ("columns", "sort", "line", "message", "hint"),
    [
        (
            "metrics.rsme",
            "name",
            6,
            "'table': no run of this block has 'metrics.rsme'",
            "did you mean 'metrics.rmse'?",
        ),
        (
            "params.alhpa",
            "name",
            6,
            "'table': no run of this block has 'params.alhpa'",
            "did you mean 'params.alpha'?",
        ),
        ("rsme", "name", 6, "'table': no run of this block has 'rsme'", "did you mean 'rmse'?"),
        (
            "alpha",
            "name",
            6,
            "'table': no run of this block has 'alpha'",
            "'alpha' is a param, not a metric: write params.alpha",
        ),
        (
            "rmse",
            "metrics.rsme desc",
            8,
            "'sort': no run of this block has 'metrics.rsme'",
            "did you mean 'metrics.rmse'?",
        ),
        (
            "rmse",
            "metrics.rmse ascending",
            8,
            "'sort': 'metrics.rmse ascending': the direction must be asc or desc, not 'ascending'",
            "write `sort: metrics.rmse asc`",
        ),
    ],
)
def test_a_misspelt_table_key_is_an_error_at_its_line(
    columns: str, sort: str, line: int, message: str, hint: str
) -> None:
    source = MemorySource(
        [
            make_run("a", "alpha", params={"alpha": 0.1}, summary={"rmse": 0.9}),
            make_run("b", "bravo", params={"alpha": 0.2}, summary={"rmse": 0.2}),
        ]
    )
    page = compile_report(
        Path("reports/r.md"),
        FRONT + BAD_TABLE.format(columns=columns, sort=sort),
        resolver_for(source),
        CompileOptions(display_path="reports/r.md"),
    )
    assert len(page.errors) == 1, page.errors
    error = page.errors[0]
    assert (error.file, error.line, error.message) == ("reports/r.md", line, message)
    assert error.hint is not None and error.hint.startswith(hint)


def test_check_reports_the_misspellings_on_the_example_runs(tmp_path: Path) -> None:
    book = _project(tmp_path)
    (book / "reports" / "bad.md").write_text(
        "---\nruns:\n  s: {source: local, experiment: cifar-sweep}\n---\n# Bad\n\n"
        '{{ s.best("val/los").name }}\n\n'
        "```labbook\ntable: [name, val/acc]\nruns: s\nsort: val/acc ascending\n```\n\n"
        "```labbook\ntable: [name, params.lrr]\nruns: s\n```\n",
        encoding="utf-8",
    )
    code, out = _check(book)
    assert code == 1
    assert (
        "reports/bad.md:7:1: no run of run set 's' has 'val/los'. did you mean 'val/loss'?" in out
    )
    assert (
        "reports/bad.md:12:1: 'sort': 'val/acc ascending': the direction must be asc or desc" in out
    )


def _filtered(filter_text: str) -> CompiledPage:
    front = (
        "---\nruns:\n  sweep: {source: mem, experiment: exp}\n"
        f"  picked: {{source: mem, experiment: exp, filter: {filter_text!r}}}\n---\n"
    )
    text = front + "{{ sweep | length }}\n"
    options = CompileOptions(display_path="reports/r.md")
    return compile_report(Path("reports/r.md"), text, resolver_for(_source()), options)


def test_a_filter_on_a_key_no_run_has_is_a_warning_with_suggestions() -> None:
    page = _filtered("metrics.rsme < 0.5")
    assert page.errors == []
    assert len(page.warnings) == 1
    warning = page.warnings[0]
    assert warning.line == 4
    assert warning.message == (
        "run set 'picked': the filter names 'metrics.rsme', which none of the 3 runs has"
    )
    assert warning.hint is not None and warning.hint.startswith("did you mean 'metrics.rmse'?")


def test_a_filter_matching_no_run_is_a_warning() -> None:
    page = _filtered("metrics.rmse < 0.1")
    assert [w.message for w in page.warnings] == [
        "run set 'picked': the filter 'metrics.rmse < 0.1' matches none of the 3 runs"
    ]


def test_a_filter_that_matches_gives_no_warning() -> None:
    assert _filtered("metrics.rmse < 0.6").warnings == []
