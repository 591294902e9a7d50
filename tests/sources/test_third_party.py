"""A third-party source is one file and one entry point (SPEC section 3).

`labbook-csvdemo` (tests/plugins/labbook-csvdemo, installed in the test environment as
an editable dev dependency) registers the `csvdemo` scheme through the `labbook.sources`
entry point and nothing else; labbook's code does not name it anywhere. Here a report
draws its runs, `labbook runs` lists them, and a bare path to its file is detected.
"""

from __future__ import annotations

import json
import re
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from labbook.cli import main
from labbook.project import Project
from labbook.site.build import build_site
from labbook.sources import open_source, source_schemes
from labbook.sources.cached import CachedSource

# Two runs of a sweep, long format: one point a row, params as `params.K` rows.
POINTS = """\
run,experiment,step,metric,value
alpha,sweep,0,params.lr,0.1
alpha,sweep,0,loss,2.5
alpha,sweep,1,loss,1.25
alpha,sweep,2,loss,0.75
beta,sweep,0,params.lr,0.01
beta,sweep,0,loss,3.0
beta,sweep,2,loss,2.0
beta,sweep,1,loss,2.5
"""

REPORT = """\
---
title: Sweep from a CSV file
runs:
  sweep:
    source: demo
    experiment: sweep
    order_by: ["metrics.loss ASC"]
---

# Sweep

The best run, {{ sweep.best("loss", mode="min").name }}, ended at a loss of
{{ sweep.best("loss", mode="min").summary["loss"] }}.

```labbook
line: loss
runs: sweep
```

```labbook
table: [name, params.lr, metrics.loss]
runs: sweep
```
"""

MKDOCS = """\
site_name: Third-party source
docs_dir: reports
theme:
  name: material
plugins:
  - labbook:
      sources:
        demo: {uri}
"""

FIGURE = re.compile(r'<script type="application/json" id="[^"]*-figure">(.*?)</script>', re.S)


def make_project(root: Path, uri: str = "csvdemo:points.csv") -> Path:
    (root / "reports").mkdir(parents=True)
    (root / "points.csv").write_text(POINTS, encoding="utf-8")
    (root / "reports" / "index.md").write_text(REPORT, encoding="utf-8")
    (root / "mkdocs.yml").write_text(MKDOCS.format(uri=uri), encoding="utf-8")
    return root


def test_the_scheme_comes_from_the_entry_point_alone() -> None:
    [entry] = [e for e in entry_points(group="labbook.sources") if e.name == "csvdemo"]
    assert entry.value == "labbook_csvdemo:CsvDemoSource"
    assert entry.dist is not None and entry.dist.name == "labbook-csvdemo"
    assert source_schemes()["csvdemo"] == entry.value
    labbook_code = "".join(
        p.read_text(encoding="utf-8")
        for p in Path(open_source.__code__.co_filename).parents[1].rglob("*.py")
    )
    assert "csvdemo" not in labbook_code


@pytest.mark.parametrize("uri", ["csvdemo:points.csv", "points.csv"])
def test_a_report_over_the_source_builds_with_its_values(tmp_path: Path, uri: str) -> None:
    project_dir = make_project(tmp_path / "book", uri)
    project = Project.load(project_dir / "mkdocs.yml")
    source = project.sources["demo"]
    assert isinstance(source, CachedSource) and type(source.live).__name__ == "CsvDemoSource"
    result = build_site(project, project_dir / "site")
    assert result.errors == [] and result.warnings == []
    page = (project_dir / "site" / "index.html").read_text(encoding="utf-8")
    assert "labbook-error" not in page
    assert "The best run, alpha, ended at a loss of\n0.75." in page
    [figure_json] = FIGURE.findall(page)
    traces = {t["meta"]["run_id"]: t for t in json.loads(figure_json)["data"]}
    assert traces["alpha"]["x"] == [0, 1, 2] and traces["alpha"]["y"] == [2.5, 1.25, 0.75]
    assert traces["beta"]["x"] == [0, 1, 2] and traces["beta"]["y"] == [3.0, 2.5, 2.0]
    table = page[page.index("labbook-table") :]
    assert table.index("alpha") < table.index("beta")  # ordered by loss, ascending
    assert "0.01" in table and "0.75" in table


def test_labbook_runs_lists_its_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project(tmp_path / "book")
    monkeypatch.chdir(tmp_path / "book")
    for source in ("demo", "csvdemo:points.csv", "points.csv"):  # configured, URI, bare path
        assert main(["runs", source, "--format", "json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert [(r["id"], r["experiment"], r["metrics.loss"]) for r in rows] == [
            ("alpha", "sweep", 0.75),
            ("beta", "sweep", 2.0),
        ], source


def test_a_bare_path_is_detected_and_others_are_not_claimed(tmp_path: Path) -> None:
    (tmp_path / "points.csv").write_text(POINTS, encoding="utf-8")
    source = open_source("points.csv", base_dir=tmp_path, name="demo")
    assert source.scheme == "csvdemo" and source.uri == "csvdemo:points.csv"
    assert [r.id for r in source.search(filter="params.lr = '0.1'")] == ["alpha"]
    # What the base class gives it: bulk and sampled reads, what to watch.
    runs = source.list_runs()
    assert source.read_many(runs, ["loss"])["beta"]["loss"].values.tolist() == [3.0, 2.5, 2.0]
    assert len(source.read_sampled_series(runs, "loss", 2)["alpha"]) == 2
    assert source.watched_paths() == [tmp_path / "points.csv"]
    # Another CSV is not this format: it stays what it was (a dir: source's path).
    (tmp_path / "other.csv").write_text("step,loss\n0,1.0\n", encoding="utf-8")
    assert open_source("other.csv", base_dir=tmp_path).scheme == "dir"
