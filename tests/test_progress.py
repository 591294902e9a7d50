"""Progress on long work: bars on a terminal, nothing when piped, timings with -v."""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("progress") / "book"
    root.mkdir()
    for name in ("mkdocs.yml", "mlflow.db"):
        shutil.copy2(REPO / name, root / name)
    for name in ("reports", "runs", "tensorboard"):
        shutil.copytree(REPO / name, root / name)
    shutil.copytree(REPO / "wandb", root / "wandb", symlinks=True)
    return root


def cold(book: Path) -> None:
    """Empties the caches: progress and timings are about reading runs and compiling reports."""
    shutil.rmtree(book / ".labbook", ignore_errors=True)


def run_piped(book: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cold(book)
    return subprocess.run(
        [str(BIN / "labbook"), *args], cwd=book, capture_output=True, text=True, timeout=300
    )


def run_on_terminal(book: Path, *args: str) -> str:
    """Gives what a terminal shows while `labbook ARGS` runs with stderr on a pseudo-terminal."""
    cold(book)
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    process = subprocess.Popen(
        [str(BIN / "labbook"), *args],
        cwd=book,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    process.wait(timeout=60)
    os.close(leader)
    assert process.returncode == 0
    return b"".join(chunks).decode("utf-8", "replace")


def test_nothing_extra_when_stderr_is_not_a_terminal(book: Path) -> None:
    done = run_piped(book, "build")
    assert done.returncode == 0, done.stderr
    assert "compiling reports" not in done.stderr
    assert "\x1b[" not in done.stderr
    assert "timing:" not in done.stderr


def test_progress_bars_on_a_terminal(book: Path) -> None:
    shown = run_on_terminal(book, "build")
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown)
    # Rich draws the steps with counts: five reports compiled, runs read per source.
    assert re.search(r"compiling reports.*6/6", plain), plain[-2000:]
    assert "runs from local" in plain
    assert "reading series" in plain


def test_quiet_shows_no_progress_on_a_terminal(book: Path) -> None:
    shown = run_on_terminal(book, "build", "-q")
    assert "compiling reports" not in shown


def test_verbose_prints_timings_per_source_and_per_report(book: Path) -> None:
    done = run_piped(book, "build", "-v")
    assert done.returncode == 0, done.stderr
    timings = dict(
        (m.group(1), float(m.group(2)))
        for m in re.finditer(r"^timing: (\S+ \S+): ([0-9.]+) s$", done.stderr, re.M)
    )
    for name in ("local", "sweeps", "wb", "tb"):
        assert f"source {name}" in timings, done.stderr
    for report in ("index.md", "lr-sweep.md", "variants.md", "augment-ablation.md", "trackers.md"):
        assert f"report reports/{report}" in timings
    assert all(seconds >= 0 for seconds in timings.values())
