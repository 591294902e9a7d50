"""`labbook export --format gfm`: Markdown for a pull request, checked with a GFM renderer."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from labbook.cli import main
from labbook.export.gfm import admonitions_to_alerts
from tests.conftest import copy_example

from .conftest import chromium_or_skip, make_project

FENCE = "```"


def gfm(text: str) -> str:
    return MarkdownIt("gfm-like").render(text)


@pytest.mark.browser
def test_the_example_report_exports_with_tables_images_and_captions(tmp_path: Path) -> None:
    chromium_or_skip()
    root = copy_example(tmp_path / "book")
    out = tmp_path / "out"
    config = str(root / "mkdocs.yml")
    assert (
        main(
            [
                "export",
                "-f",
                config,
                "reports/lr-sweep.md",
                "--format",
                "gfm",
                "-o",
                str(out),
                "--png",
            ]
        )
        == 0
    )
    text = (out / "lr-sweep.md").read_text(encoding="utf-8")
    html = gfm(text)
    assert "labbook-block labbook" not in text and "<script" not in text  # no site HTML left
    assert "81.6% validation accuracy" in html  # expressions evaluated
    # The runs table: a real table, one row per run, values as the runs have them.
    tables = re.findall(r"<table>.*?</table>", html, re.S)
    assert tables
    rows = re.findall(r"<tr>(.*?)</tr>", tables[0], re.S)
    cells = [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r) for r in rows]
    assert cells[0][:2] == ["name", "status"] and len(cells) == 10
    names = {
        json.loads((p / "run.json").read_text())["name"]
        for p in (root / "runs").iterdir()
        if (p / "run.json").is_file()
        and json.loads((p / "run.json").read_text()).get("experiment") == "cifar-sweep"
    }
    assert {row[0] for row in cells[1:]} == names
    assert ["r18-lr0.1-s2", "finished", "0.1", "2", "0.8158"] == cells[1][:5]
    # Each chart an SVG (and a PNG) file beside the Markdown, with its caption under it.
    images = re.findall(r'<img src="([^"]+)" alt="([^"]*)"', html)
    charts = (root / "reports" / "lr-sweep.md").read_text().count("```labbook") - 1  # a table
    assert [src for src, _ in images] == [f"lr-sweep-fig-{i}.svg" for i in range(1, charts + 1)]
    for src, alt in images:
        assert (out / src).read_bytes().lstrip().startswith(b"<svg") and alt
        assert (out / src).with_suffix(".png").read_bytes().startswith(b"\x89PNG")
    assert "<em>Figure 1: Mean over seeds, ±1 std; log scale.</em>" in html
    assert html.index("lr-sweep-fig-1.svg") < html.index("Figure 1: Mean over seeds")
    assert "[!WARNING]" in text  # the admonition, as a GitHub alert


def test_run_values_stay_inert_and_math_stays_source(tmp_path: Path) -> None:
    report = f"""---
runs:
  sweep: {{source: local, experiment: sweep}}
---
# Inert

The rate $\\alpha = 0.1$ was used.

{FENCE}labbook
table: [name, params.note]
{FENCE}
"""
    root = make_project(tmp_path / "book", {"r.md": report}, runs=2)
    run = root / "runs" / "r00000" / "run.json"
    meta = json.loads(run.read_text())
    meta["name"] = "a|b <script>alert(1)</script> *bold* [x](http://e.vil)"
    meta["params"]["note"] = "pipe | here"
    run.write_text(json.dumps(meta))
    out = tmp_path / "out"
    assert main(["export", "-f", str(root / "mkdocs.yml"), "reports/r.md", "-o", str(out)]) == 0
    text = (out / "r.md").read_text(encoding="utf-8")
    assert "$\\alpha = 0.1$" in text  # GitHub renders math itself
    html = gfm(text)
    assert "<script" not in html and "<strong>" not in html and ">x</a>" not in html
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    assert all(len(re.findall(r"<t[dh]", r)) == 2 for r in rows)  # a pipe did not add a cell
    # Shown as written (GitHub autolinks the bare URL, as it would in any text).
    assert "a|b &lt;script&gt;alert(1)&lt;/script&gt; *bold* [x](" in html
    assert "pipe | here" in html


def test_admonitions_become_github_alerts() -> None:
    text = '!!! danger "Careful"\n    Line one.\n\n    Line two.\n\nAfter.\n\n```\n!!! note\n```\n'
    assert admonitions_to_alerts(text) == (
        "> [!CAUTION]\n> **Careful**\n>\n> Line one.\n>\n> Line two.\n\nAfter.\n\n```\n!!! note\n```\n"
    )
