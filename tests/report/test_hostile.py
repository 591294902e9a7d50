"""Hostile input (issue 7, section 9): reports, run data and files made to break labbook.

Each case is one that once ended in a traceback, a wrong chart or a stalled build. Every
problem must now be a LabbookError on its report's page, naming the file and line, while
every other report is still checked and built.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from labbook.cli import main
from labbook.errors import ReportError
from labbook.project import Project
from labbook.report.check import check_project
from labbook.report.compile import CompiledPage, CompileOptions, compile_report
from tests.conftest import OpenPage, ServeDir, build_project

from .conftest import MemorySource, compile_text, make_run, resolver_for, steps_values

# --- a small project on disk -----------------------------------------------------------

MKDOCS_YML = (
    "site_name: Hostile\n"
    "docs_dir: reports\n"
    "theme:\n  name: material\n"
    "plugins:\n  - labbook:\n      sources: {local: runs}\n"
)
GOOD_REPORT = "# Fine\n\nThe run {{ run('feed0001').name }} is fine.\n"


def write_run(root: Path, run_id: str, info: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    folder = root / "runs" / run_id
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps(info), encoding="utf-8")
    text = "".join(json.dumps(row) + "\n" for row in rows)
    (folder / "metrics.jsonl").write_text(text, encoding="utf-8")


def make_project(root: Path, reports: dict[str, bytes | str]) -> Path:
    """Writes mkdocs.yml, two runs and the reports (name -> text or raw bytes); gives root."""
    (root / "reports").mkdir(parents=True)
    (root / "mkdocs.yml").write_text(MKDOCS_YML, encoding="utf-8")
    write_run(
        root,
        "feed0001",
        {"name": "%{meta.run_id}", "params": {"lr": "%{meta.n}"}},
        [{"step": s, "loss": 1.0 / (s + 1), "acc%{meta.key}": s / 10} for s in range(5)],
    )
    write_run(
        root,
        "feed0002",
        {"name": "50%{x} <b>%{y}</b>", "params": {"lr": "%{meta.n}"}},
        [{"step": s, "loss": 2.0 / (s + 1)} for s in range(5)],
    )
    for name, text in reports.items():
        path = root / "reports" / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
    return root


# --- Plotly: run-derived text reaches every string field inert --------------------------


def strings(value: Any) -> list[str]:
    """Gives every string Plotly may draw inside a figure's JSON (`meta` is data, not text)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() if k != "meta" for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


PLOTLY_REPORT = """\
---
runs:
  both: [feed0001, feed0002]
---

# Plotly templates

```labbook
line: loss
runs: both
```

```labbook
line: loss
runs: both
legend: "{name} lr={params.lr}"
```

```labbook
line: loss
runs: both
group_by: params.lr
```

```labbook
line: "acc%{meta.key}"
runs: [feed0001]
x: loss
```
"""


def hostile_source() -> MemorySource:
    runs = [
        make_run("feed0001", "%{meta.run_id}", params={"lr": "%{meta.n}"}),
        make_run("feed0002", "50%{x} <b>%{y}</b>", params={"lr": "%{meta.n}"}),
    ]
    points = {
        ("feed0001", "loss"): steps_values(5, 1.0, -0.1),
        ("feed0002", "loss"): steps_values(5, 2.0, -0.1),
        ("feed0001", "acc%{meta.key}"): steps_values(5, 0.0, 0.1),
    }
    return MemorySource(runs, name="local", points=points)


def test_run_text_is_never_a_plotly_template() -> None:
    page = compile_text(PLOTLY_REPORT, [hostile_source()])
    assert page.errors == [] and page.warnings == []
    assert len(page.figures) == 4
    # Labbook's own hover fields are the only templates; no run-derived `%{` is left.
    own = re.compile(r"%\{(?:x|y|customdata)[:|][^}]*\}")
    for figure in page.figures:
        for text in strings(figure["data"]) + strings(figure["layout"]):
            assert "%{" not in own.sub("", text), text
            assert "<b>%" not in text
    names = [t.get("name") for f in page.figures for t in f["data"]]
    assert "&#37;{meta.run_id}" in names
    assert "50&#37;{x} &lt;b&gt;&#37;{y}&lt;/b&gt;" in names
    assert "&#37;{meta.run_id} lr=&#37;{meta.n}" in names  # the legend template
    assert "lr=&#37;{meta.n} (n=2)" in names  # the group label
    assert page.figures[3]["layout"]["yaxis"]["title"]["text"] == "acc&#37;{meta.key}"


@pytest.fixture(scope="module")
def plotly_origin(tmp_path_factory: pytest.TempPathFactory, serve_dir: ServeDir) -> str:
    root = make_project(tmp_path_factory.mktemp("plotly") / "book", {"index.md": PLOTLY_REPORT})
    site = build_project(root, ("mkdocs",))["mkdocs"]
    return serve_dir(site)


@pytest.mark.browser
def test_browser_shows_run_names_literally_in_legend_and_hover(
    open_page: OpenPage, plotly_origin: str
) -> None:
    from playwright.sync_api import expect

    visit = open_page(plotly_origin, "/")
    page = visit.page
    plots = page.locator(".labbook-plot[data-labbook-figure]")
    assert plots.count() == 4
    for i in range(4):
        plots.nth(i).scroll_into_view_if_needed()
        expect(plots.nth(i)).to_have_attribute("data-labbook-drawn", "true", timeout=15_000)

    def legend(i: int) -> list[str]:
        texts: list[str] = plots.nth(i).locator(".legendtext").all_text_contents()
        return texts

    assert legend(0) == ["%{meta.run_id}", "50%{x} <b>%{y}</b>"]
    assert legend(1) == ["%{meta.run_id} lr=%{meta.n}", "50%{x} <b>%{y}</b> lr=%{meta.n}"]
    assert legend(2) == ["lr=%{meta.n} (n=2)"]
    ytitle = plots.nth(3).locator(".ytitle").text_content()
    assert ytitle == "acc%{meta.key}"

    # Hover the first point of the first run: the label names the run literally.
    hover = plots.nth(0).evaluate(
        """el => { Plotly.Fx.hover(el, [{curveNumber: 0, pointNumber: 1}]);
                   const t = el.querySelector('.hoverlayer .hovertext');
                   return t ? t.textContent : null; }"""
    )
    assert hover is not None and "%{meta.run_id}" in hover and "feed0001" not in hover
    assert "step 1" in hover
    hover = plots.nth(1).evaluate(
        """el => { Plotly.Fx.hover(el, [{curveNumber: 1, pointNumber: 2}]);
                   const t = el.querySelector('.hoverlayer .hovertext');
                   return t ? t.textContent : null; }"""
    )
    assert hover is not None and "50%{x} <b>%{y}</b>" in hover
    assert visit.errors == []
    assert all(r.startswith(plotly_origin) for r in visit.requests)


# --- keys, YAML and run sets that once raised --------------------------------------------


def test_metric_key_with_a_leading_space_is_drawn() -> None:
    source = MemorySource(
        [make_run("aaaaaa01", "r1")],
        name="local",
        points={("aaaaaa01", " loss"): steps_values(5, 1.0, -0.1)},
    )
    page = compile_text('```labbook\nline: " loss"\nruns: [aaaaaa01]\n```\n', [source])
    assert page.errors == [] and page.warnings == []
    (trace,) = page.figures[0]["data"]
    assert trace["meta"]["key"] == " loss" and trace["y"] == [1.0, 0.9, 0.8, 0.7, 0.6]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("---\ntitle: Deep\nruns: " + "[" * 1000 + "\n---\n\nText.\n", 3),
        ("# Deep\n\n```labbook\nline: " + "[" * 1000 + "\n```\n", 4),
        ("---\nruns:\n  s:\n" + "".join("  " * i + "    a:\n" for i in range(200)) + "---\n", 5),
        ("---\nruns: &a {b: *a}\n---\n", 2),
        ("---\nruns:\n  s: &a [*a]\n---\n", 3),
    ],
    ids=[
        "brackets-front-matter",
        "brackets-block",
        "indented-mappings",
        "cyclic-map",
        "cyclic-list",
    ],
)
def test_deep_or_cyclic_yaml_is_a_report_error_at_its_line(text: str, line: int) -> None:
    page = compile_text(text, [hostile_source()])
    (error,) = page.errors
    assert isinstance(error, ReportError)
    assert error.file == "reports/r.md" and error.line >= line
    assert "bad YAML" in error.message
    assert "labbook-error" in page.markdown


def test_yaml_that_expands_to_billions_of_values_is_refused_fast() -> None:
    laughs = "a0: &a0 [x, x]\n" + "".join(
        f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n" for i in range(1, 40)
    )
    started = time.perf_counter()
    page = compile_text("---\n" + laughs + "---\n\nText.\n", [hostile_source()])
    assert time.perf_counter() - started < 2
    (error,) = page.errors
    assert "once aliases are expanded" in error.message


@pytest.mark.parametrize("source", ["[local]", "{name: local}"])
def test_a_source_that_is_not_a_name_is_a_report_error(source: str) -> None:
    text = f"---\nruns:\n  s:\n    source: {source}\n---\n\n{{{{ s | length }}}} runs\n"
    page = compile_text(text, [hostile_source()])
    error = page.errors[0]  # then the expression that uses the set, at its own line
    assert error.line == 3 and "'source' must be one source name" in error.message
    assert "configured sources: local" in str(error)


# --- files that are not UTF-8, and check going on past broken reports ---------------------

BROKEN_REPORTS: dict[str, bytes | str] = {
    "a-latin1.md": b"# Caf\xe9\n\nSecond line.\n",
    "b-deep.md": "---\nruns: " + "[" * 1000 + "\n---\n",
    "c-source.md": "---\nruns:\n  s:\n    source: [local]\n---\n",
    "index.md": GOOD_REPORT,
    "z-latin1.md": b"---\ntitle: ok\n---\n\nfine\n\nna\xefve\n",
}


def test_check_reports_every_problem_of_every_report(tmp_path: Path) -> None:
    root = make_project(tmp_path / "book", BROKEN_REPORTS)
    result = check_project(Project.load(root / "mkdocs.yml"))
    assert result.reports == 5
    found = {(e.file, e.line): e for e in result.errors}
    assert set(found) == {
        ("reports/a-latin1.md", 1),
        ("reports/b-deep.md", 2),
        ("reports/c-source.md", 3),
        ("reports/z-latin1.md", 7),
    }
    latin = found[("reports/a-latin1.md", 1)]
    assert "not UTF-8" in latin.message and "0xe9 at offset 5" in latin.message
    assert latin.hint is not None and "UTF-8" in latin.hint
    assert "0xef at offset 27" in found[("reports/z-latin1.md", 7)].message


def test_check_command_lists_all_problems_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "book", BROKEN_REPORTS)
    assert main(["check", "-f", str(root / "mkdocs.yml")]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    for where in ("a-latin1.md:1:", "b-deep.md:2:", "c-source.md:3:", "z-latin1.md:7:"):
        assert f"reports/{where}" in err, err
    assert "checked 5 report(s): 4 problem(s)" in out


MARKED_SECTIONS = """\
# Marked sections

Prose <![(x and <![foo bar, inline `a <![(y` code, and a real <![CDATA[z]]> section.

<![(w at the start of a line.

```text
fenced <![(v stays as written
```
"""


def test_build_goes_on_past_undecodable_and_unparsable_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = dict(BROKEN_REPORTS, **{"marked.md": MARKED_SECTIONS})
    root = make_project(tmp_path / "book", reports)
    site = tmp_path / "site"
    code = main(["build", "-f", str(root / "mkdocs.yml"), "-d", str(site)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert code in (0, 1)  # exit code on errors is cli.py's business; the site must be whole
    assert "built 6 page(s)" in out, out
    for where in ("a-latin1.md:1:", "b-deep.md:2:", "c-source.md:3:", "z-latin1.md:7:"):
        assert f"error: reports/{where}" in err, err
    assert "The run" in (site / "index.html").read_text(encoding="utf-8")
    latin = (site / "a-latin1" / "index.html").read_text(encoding="utf-8")
    assert "labbook-error" in latin and "offset 5" in latin
    # Python's HTML parser (which MkDocs runs over every page) stops on these `<![`;
    # the page shows them as written.
    marked = (site / "marked" / "index.html").read_text(encoding="utf-8")
    assert "Prose &lt;![(x and &lt;![foo bar" in marked
    assert "<code>a &lt;![(y</code>" in marked or "<code>a &#60;&#33;&#91;&#40;y</code>" in marked
    assert "&lt;![(w at the start" in marked
    assert "fenced &lt;![(v stays as written" in marked


# --- size: every step linear or n log n -----------------------------------------------------


def hostile_report(size: int) -> str:
    """Gives a report of about `size` characters made of shapes that break naive parsers."""
    pieces = [
        "`" * 1343 + " {{ run('feed0001').name }} " + "`" * 3657 + "\n\n",
        "``" + "` `" * 200 + "\n\n",
        "\\`" * 300 + "`x`" * 100 + "\n\n",
        "<![(x " * 50 + "\n\n",
        "*" * 500 + "_" * 500 + "\n\n",
        "[" * 400 + "]" * 10 + "(" * 300 + "\n\n",
        "> " * 60 + "quote\n\n",
        "- " * 8 + "list\n\n",
        "{{ '" + "x" * 200 + "' }} {{ run('feed0002').name }} `{{ 1 }}`\n\n",
        "<div>" * 100 + "\n\n",
        "```labbook\nline: loss\nruns: [feed0001]\n```\n\n",
        "~~~\n" + "```\n" * 20 + "~~~\n\n",
        "| a | b |\n|---|---|\n" + "| `x` | {{ 2 }} |\n" * 30 + "\n",
    ]
    out: list[str] = []
    total = 0
    i = 0
    while total < size:
        piece = pieces[i % len(pieces)]
        out.append(piece)
        total += len(piece)
        i += 1
    # The title is looked for in the first heading lines: they once took cubic time.
    head = "#" + " \t" * 2000 + "\n\n# a" + " " * 5000 + "b\n\n"
    return head + "".join(out) + "- " * 60 + "deep list\n"


def compile_timed(text: str) -> tuple[float, CompiledPage]:
    source = hostile_source()
    started = time.perf_counter()
    page = compile_report(
        Path("reports/big.md"),
        text,
        resolver_for(source),
        CompileOptions(display_path="reports/big.md"),
    )
    return time.perf_counter() - started, page


def test_a_1mb_hostile_report_compiles_in_seconds_and_scales_linearly() -> None:
    small, _ = compile_timed(hostile_report(250_000))
    elapsed, page = compile_timed(hostile_report(1_000_000))
    assert elapsed < 10, f"a 1 MB report took {elapsed:.1f} s"
    assert page.errors == []
    assert [w.message for w in page.warnings] == [
        "lists or quotes nest more than 19 levels deep here; labbook reads no block after this line"
    ]
    assert page.title == "a" + " " * 5000 + "b"
    assert len(page.figures) > 50
    # Linear: 4x the text, about 4x the time (n log n a little more); cubic would be 64x.
    assert elapsed < 8 * small + 0.5, f"250 KB: {small:.2f} s, 1 MB: {elapsed:.2f} s"
