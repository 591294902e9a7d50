"""Trackers that do not answer: one bounded wait per build, one message, a non-zero exit.

Two dead trackers run on 127.0.0.1: a port that refuses connections, and a socket that
accepts them and never answers. Each build runs `labbook` (or `mkdocs`) as a fresh
process, the way a user runs it.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import labbook
from labbook.errors import SourceError, TrackerUnavailable
from labbook.example_runs import write_example_runs
from labbook.sources.mlflow_rest import MlflowRestSource

BIN = Path(sys.executable).parent
DEADLINE = 4.0  # seconds, set per source in mkdocs.yml

REPORT = """\
---
title: {title}
runs:
  healthy:
    source: local
    experiment: cifar-sweep
    filter: "params.seed = 0 and params.lr = 0.1"
  refused:
    source: refused
  silent:
    source: silent
---

Text that is fine.

```labbook
line: train/loss
runs: healthy
```

```labbook
table: auto
runs: refused
```

```labbook
table: auto
runs: silent
```
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Gives a port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]


def write_project(root: Path, sources: dict[str, str | dict[str, object]]) -> Path:
    (root / "reports").mkdir(parents=True)
    write_example_runs(root / "runs")
    lines = ["site_name: faults", "docs_dir: reports", "theme:", "  name: material", "plugins:"]
    lines += ["  - labbook:", "      sources:"]
    for name, spec in sources.items():
        lines.append(f"        {name}: {json.dumps(spec)}")
    (root / "mkdocs.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def run_cli(root: Path, *args: str, tool: str = "labbook") -> tuple[int, str, str, float]:
    start = time.monotonic()
    done = subprocess.run(
        [str(BIN / tool), *args], cwd=root, capture_output=True, text=True, timeout=300
    )
    return done.returncode, done.stdout, done.stderr, time.monotonic() - start


@pytest.fixture
def dead_book(tmp_path: Path, silent_port: int) -> Path:
    refused = f"mlflow+http://127.0.0.1:{free_port()}"
    silent = f"mlflow+http://127.0.0.1:{silent_port}"
    root = write_project(
        tmp_path / "book",
        {
            "local": "runs",
            "refused": {"uri": refused, "timeout": DEADLINE},
            "silent": {"uri": silent, "timeout": DEADLINE},
        },
    )
    for name in ("a", "b", "c"):
        (root / "reports" / f"{name}.md").write_text(
            REPORT.format(title=f"Report {name}"), encoding="utf-8"
        )
    return root


def test_two_dead_trackers_cost_one_deadline_and_one_message_each(
    dead_book: Path, tmp_path: Path
) -> None:
    # The same reports without the dead sources, for the build's own time.
    healthy = write_project(tmp_path / "healthy", {"local": "runs"})
    for name in ("a", "b", "c"):
        text = REPORT.format(title=f"Report {name}")
        (healthy / "reports" / f"{name}.md").write_text(text.split("  refused:")[0] + "---\n")
    code, _, _, baseline = run_cli(healthy, "build", "-q")
    assert code == 0

    code, out, err, elapsed = run_cli(dead_book, "build", "-q")
    assert code == 1, err
    # Both trackers were waited for at once, each for its deadline, never again.
    # (The wait overlaps the build's own work, so only the total is bounded below.)
    assert elapsed >= DEADLINE, (elapsed, baseline)
    assert elapsed - baseline < DEADLINE * 1.6, (elapsed, baseline)
    assert "(2 error(s), 0 warning(s))" in out
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2, err
    assert any("connection refused" in line for line in errors)
    assert any("timed out" in line for line in errors)
    for line in errors:
        assert f"did not answer within {DEADLINE:g} s" in line
    # Each names every place it broke: the set in the front matter and the table using it.
    broke = [line for line in err.splitlines() if line.startswith("  it broke: ")]
    assert len(broke) == 2
    for line in broke:
        for name in ("a", "b", "c"):
            assert f"reports/{name}.md:" in line
    assert "Traceback" not in err


def test_the_healthy_source_still_draws(dead_book: Path) -> None:
    code, out, err, _ = run_cli(dead_book, "build", "-q")
    assert code == 1, out + err
    page = (dead_book / "site" / "a" / "index.html").read_text(encoding="utf-8")
    # The two failed sets, in the front matter's box and in the block that uses each.
    assert page.count("labbook-error") == 4
    assert page.count("run set &#39;refused&#39; could not be resolved") == 1
    assert page.count("run set &#39;silent&#39; could not be resolved") == 1
    figure = json.loads(
        re.search(r'<script type="application/json" id="[^"]+">(.*?)</script>', page).group(1)
    )
    [trace] = figure["data"]
    assert trace["name"] == "r18-lr0.1-s0"
    logged = [
        json.loads(line)["train/loss"]
        for line in (dead_book / "runs" / "55099931" / "metrics.jsonl").read_text().splitlines()
        if "train/loss" in json.loads(line)
    ]
    assert trace["y"] == logged
    assert "Text that is fine." in page


def test_mkdocs_build_aborts_on_report_errors(dead_book: Path) -> None:
    code, _, err, _ = run_cli(dead_book, "build", tool="mkdocs")
    assert code == 1
    assert "labbook: 2 error(s) in reports" in err
    assert err.count("did not answer within") == 2
    # The pages were written before the abort, error boxes included.
    assert "labbook-error" in (dead_book / "site" / "a" / "index.html").read_text()


def test_warnings_fail_only_under_strict(tmp_path: Path) -> None:
    root = write_project(tmp_path / "book", {"local": "runs"})
    (root / "reports" / "index.md").write_text(
        "---\nruns:\n  s: [55099931]\n---\n# Hi\n\n```labbook\nline: [train/loss, no/such-metric]\n```\n",
        encoding="utf-8",
    )
    (root / "reports" / "other.md").write_text(
        "---\nruns:\n  s: {source: local, experiment: cifar-sweep}\n---\n# Other\n",
        encoding="utf-8",
    )
    code, out, err, _ = run_cli(root, "build", "-q")
    assert code == 0, err
    assert "(0 error(s), 1 warning(s))" in out
    code, _, err, _ = run_cli(root, "build", "-q", "--strict")
    assert code == 1
    assert "--strict: failing because of the warnings above" in err


def test_a_source_that_would_not_open_is_one_message_naming_it(tmp_path: Path) -> None:
    root = write_project(tmp_path / "book", {"local": "no-such-folder"})
    (root / "reports" / "index.md").write_text(
        "---\nruns:\n  s: {source: local}\n---\n# Hi\n\n"
        "```labbook\nline: train/loss\nruns: s\n```\n\n```labbook\ntable: auto\nruns: s\n```\n",
        encoding="utf-8",
    )
    code, _, err, _ = run_cli(root, "build", "-q")
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith(("error: ", "warning: "))]
    assert len(lines) == 1, err
    assert "no-such-folder" in lines[0] and "does not exist" in lines[0]
    # No cascade of "no run has any point of …" for the blocks that use the set.
    assert "no run has any point" not in err
    assert "it broke: reports/index.md:3, reports/index.md:" in err


def test_tracker_unavailable_is_its_own_exported_class() -> None:
    assert labbook.TrackerUnavailable is TrackerUnavailable
    assert issubclass(TrackerUnavailable, SourceError)
    source = MlflowRestSource(f"//127.0.0.1:{free_port()}", timeout=0.5)
    start = time.monotonic()
    with pytest.raises(TrackerUnavailable) as first:
        source.list_runs()
    assert time.monotonic() - start < 2
    # Asked again in the same life of the source: at once, with the same problem.
    start = time.monotonic()
    with pytest.raises(TrackerUnavailable) as again:
        source.search(filter="params.x = '1'")
    assert time.monotonic() - start < 0.1
    assert again.value is first.value


def test_a_bad_per_source_option_names_the_valid_ones(tmp_path: Path) -> None:
    root = write_project(tmp_path / "book", {"local": {"uri": "runs", "timeout": 5}})
    (root / "reports" / "index.md").write_text("# Hi\n", encoding="utf-8")
    code, _, err, _ = run_cli(root, "check")
    assert code == 0, err  # the warning names the option; the report itself is fine
    assert "unknown option 'timeout' for a dir: source" in err and "takes no options" in err
    root2 = write_project(tmp_path / "book2", {"local": {"uri": "runs", "timeout": -1}})
    (root2 / "reports" / "index.md").write_text("# Hi\n", encoding="utf-8")
    code, _, err, _ = run_cli(root2, "check")
    assert code == 1
    assert "'timeout' must be a number of seconds > 0" in err


def test_python_only_hooks_are_no_config_options() -> None:
    # `api=` is for Python callers (a W&B Api object); mkdocs.yml may set only the timeout.
    with pytest.raises(SourceError) as info:
        labbook.open_source("wandb:team/vision", api="not-an-api")
    assert "unknown option 'api' for a wandb: source" in str(info.value)
    assert "this source takes timeout" in str(info.value)
