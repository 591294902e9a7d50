"""What labbook imports: no tracker library until a source of that tracker is read.

Each check runs in a fresh interpreter, since this test process has imported them all.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

TRACKER_LIBRARIES = ("wandb", "mlflow", "tensorboard", "tensorboardX", "google.protobuf")

# Prints which of the tracker libraries (or their submodules) are imported after `code`.
PROBE = """
import json, sys
{code}
names = {names!r}
print(json.dumps(sorted(
    m for m in sys.modules if any(m == n or m.startswith(n + ".") for n in names)
)))
"""


def imported_after(code: str) -> list[str]:
    """Gives the tracker modules a fresh interpreter has imported after running `code`."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(code=code, names=TRACKER_LIBRARIES)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    modules: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return modules


def test_the_probe_sees_an_imported_tracker() -> None:
    assert "google.protobuf" in imported_after("import google.protobuf")


def test_help_imports_no_tracker_library() -> None:
    code = (
        "from labbook.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
    )
    assert imported_after(code) == []


def test_help_through_python_m_prints_usage() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "labbook.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "usage" in done.stdout.lower()


def test_the_package_imports_no_tracker_library() -> None:
    assert imported_after("import labbook, labbook.sources") == []


@pytest.mark.parametrize(
    "module", ["labbook.sources.wandb_offline", "labbook.formats.wandb_record"]
)
def test_reading_wandb_offline_runs_imports_no_tracker_library(module: str) -> None:
    example = Path(__file__).resolve().parents[1] / "wandb"
    code = (
        f"import {module}\n"
        "from labbook.sources.wandb_offline import WandbOfflineSource\n"
        f"runs = WandbOfflineSource({str(example)!r}).list_runs()\n"
        "assert runs and all(len(r.series(k)) for r in runs for k in r.metric_keys()[:3])\n"
    )
    assert imported_after(code) == []
