"""Live preview follows the data: `labbook serve` rebuilds when a store changes.

A real `labbook serve` runs on 127.0.0.1 over a copy of the example MLflow SQLite store
and local runs; the test changes the store with sqlite3 and re-fetches the page until it
shows the new value. Only the changed source is read again.
"""

from __future__ import annotations

import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from labbook.example_runs import write_example_runs

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]
RUN_ID = "2b8c67272f364c0c9000e022ca1a9e65"  # r18-aug-none in the example store


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return str(answer.read().decode("utf-8"))
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def wait_for(url: str, text: str, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    page = None
    while time.monotonic() < deadline:
        page = fetch(url)
        if page is not None and text in page:
            return page
        time.sleep(0.3)
    raise AssertionError(f"{text!r} never showed at {url}; last page: {(page or '')[-500:]}")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str, Path]]:
    root = tmp_path / "book"
    (root / "reports").mkdir(parents=True)
    shutil.copy2(REPO / "mlflow.db", root / "mlflow.db")
    write_example_runs(root / "runs")
    (root / "mkdocs.yml").write_text(
        "site_name: live\ndocs_dir: reports\ntheme:\n  name: material\nplugins:\n"
        "  - labbook:\n      sources:\n        local: runs\n"
        "        sweeps: mlflow+sqlite:///mlflow.db\n",
        encoding="utf-8",
    )
    (root / "reports" / "index.md").write_text(
        f'# Live\n\nlr is LR[{{{{ run("sweeps:{RUN_ID}").params["lr"] }}}}] and the local '
        'run is NAME[{{ run("local:55099931").name }}].\n',
        encoding="utf-8",
    )
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(BIN / "labbook"), "serve", "-a", f"127.0.0.1:{port}"],
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield root, f"http://127.0.0.1:{port}/", log
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def test_serve_rebuilds_when_the_sqlite_store_changes(served: tuple[Path, str, Path]) -> None:
    root, url, log = served
    wait_for(url, "LR[0.1]", 120)
    assert "NAME[r18-lr0.1-s0]" in (fetch(url) or "")
    with sqlite3.connect(root / "mlflow.db") as db:
        db.execute("UPDATE params SET value = '0.777' WHERE run_uuid = ? AND key = 'lr'", (RUN_ID,))
    wait_for(url, "LR[0.777]", 60)
    text = log.read_text()
    # The SQLite source was read again; the local runs were not.
    assert "re-reading sweeps (changed)" in text, text[-3000:]
    assert "re-reading local" not in text and "re-reading sweeps, local" not in text


def test_serve_rebuilds_when_a_local_run_changes(served: tuple[Path, str, Path]) -> None:
    root, url, log = served
    wait_for(url, "NAME[r18-lr0.1-s0]", 120)
    run_json = root / "runs" / "55099931" / "run.json"
    run_json.write_text(run_json.read_text().replace('"r18-lr0.1-s0"', '"renamed-run"'))
    wait_for(url, "NAME[renamed-run]", 60)
    text = log.read_text()
    assert "re-reading local (changed)" in text, text[-3000:]
    assert "re-reading sweeps" not in text


def test_serve_recompiles_only_the_edited_report(served: tuple[Path, str, Path]) -> None:
    root, url, log = served
    other = root / "reports" / "other.md"
    other.write_text('# Other\n\nOTHER[{{ run("local:55099931").params["lr"] }}]\n')
    wait_for(url + "other/", "OTHER[0.1]", 120)
    wait_for(url, "LR[0.1]", 30)
    before = log.read_text()
    index = root / "reports" / "index.md"
    index.write_text(index.read_text().replace("# Live", "# Live, edited"))
    wait_for(url, "Live, edited", 60)
    deadline = time.monotonic() + 30
    while "compiled" not in log.read_text()[len(before) :] and time.monotonic() < deadline:
        time.sleep(0.2)
    after = log.read_text()[len(before) :]
    # The edited report alone was compiled again; the other page kept its compiled form.
    assert "labbook: compiled 1 of 2 report(s): reports/index.md" in after, after
    assert "OTHER[0.1]" in (fetch(url + "other/") or "")


def test_serve_keeps_serving_through_report_errors(served: tuple[Path, str, Path]) -> None:
    root, url, log = served
    wait_for(url, "LR[0.1]", 120)
    index = root / "reports" / "index.md"
    index.write_text(index.read_text() + '\n{{ run("no-such-run").name }}\n')
    page = wait_for(url, "labbook-error", 60)
    assert "no run &#39;no-such-run&#39;" in page or "no run 'no-such-run'" in page
    index.write_text(index.read_text().replace("no-such-run", "local:55099931"))
    wait_for(url, "r18-lr0.1-s0</p>", 60)
    assert "Aborted" not in log.read_text()
