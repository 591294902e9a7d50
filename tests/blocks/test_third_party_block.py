"""A third-party block kind installs with pip and works in reports and in `labbook check`.

`labbook-csvdemo` (tests/plugins/labbook-csvdemo, an editable dev dependency) registers
the `stat` kind through the `labbook.blocks` entry point; labbook's code never names it.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest

from labbook.blocks.registry import block_kinds, load_block
from labbook.cli import main
from labbook.project import Project
from labbook.site.build import build_site
from tests.sources.test_third_party import make_project

STAT_REPORT = """\
---
runs:
  sweep: {source: demo, experiment: sweep}
---
# Stat

```labbook
stat: loss
agg: min
runs: sweep
caption: The lowest loss.
```
"""


def test_the_kind_comes_from_the_entry_point_alone() -> None:
    [entry] = [e for e in entry_points(group="labbook.blocks") if e.name == "stat"]
    assert entry.dist is not None and entry.dist.name == "labbook-csvdemo"
    assert block_kinds()["stat"] == "labbook_csvdemo.blocks:StatBlock"
    assert load_block("stat").__module__ == "labbook_csvdemo.blocks"
    labbook_code = "".join(
        p.read_text(encoding="utf-8")
        for p in (Path(__file__).resolve().parents[2] / "src" / "labbook").rglob("*")
        if p.suffix in (".py", ".html")
    )
    assert "StatBlock" not in labbook_code and "csvdemo" not in labbook_code


def test_a_report_draws_the_third_party_block(tmp_path: Path) -> None:
    root = make_project(tmp_path / "book")
    (root / "reports" / "index.md").write_text(STAT_REPORT, encoding="utf-8")
    result = build_site(Project.load(root / "mkdocs.yml"), root / "site")
    assert result.errors == [] and result.warnings == []
    page = (root / "site" / "index.html").read_text(encoding="utf-8")
    # The two runs end at 0.75 and 2.0: the lowest is 0.75, numbered like any figure.
    assert '<span class="csvdemo-stat-value">0.75</span> min of 2 runs' in page
    assert "Figure 1:" in page and "The lowest loss." in page


def test_check_validates_the_third_party_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "book")
    broken = STAT_REPORT.replace("agg: min", "agg: median\naggr: max")
    (root / "reports" / "index.md").write_text(broken, encoding="utf-8")
    monkeypatch.chdir(root)
    assert main(["check"]) == 1
    err = capsys.readouterr().err
    assert (
        "reports/index.md:10:1: unknown option 'aggr' for a stat block (did you mean 'agg'?)" in err
    )
