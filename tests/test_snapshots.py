"""Snapshots: `labbook freeze` keeps what reports use, and a build from them needs no tracker.

Everything runs through the CLI's `main` on a copy of the example lab book: the MLflow
SQLite store written by mlflow, the local runs, the W&B offline run and the TensorBoard
logs. The frozen values are checked against the store's own rows.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import socket
import sqlite3
import time
from pathlib import Path

import pytest

from labbook.cli import main
from tests.conftest import copy_example

SWEEP_RUN = "2b8c67272f364c0c9000e022ca1a9e65"  # r18-aug-none in the example store
BYLINE = re.compile(r'<span class="labbook-read-at"[^>]*>[^<]*</span>')
TRACKERS = ("runs", "mlflow.db", "wandb", "tensorboard")


def pages(site: Path) -> dict[str, str]:
    """Gives every page of a site by path, with the byline's data statement taken out."""
    return {
        str(p.relative_to(site)): BYLINE.sub("", p.read_text(encoding="utf-8"))
        for p in sorted(site.rglob("index.html"))
    }


def hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def hide_trackers(book: Path, away: Path) -> None:
    away.mkdir()
    for name in TRACKERS:
        shutil.move(str(book / name), str(away / name))


@pytest.fixture
def book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = copy_example(tmp_path / "book")
    monkeypatch.chdir(root)
    return root


def test_an_offline_build_from_snapshots_equals_the_live_build_with_every_store_gone(
    book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["freeze"]) == 0
    out = capsys.readouterr().out
    assert "froze 6 report(s) into .labbook/snapshots (0 error(s), 0 warning(s))" in out
    assert main(["build", "--refresh", "-d", str(tmp_path / "live")]) == 0
    hide_trackers(book, tmp_path / "away")
    capsys.readouterr()
    assert main(["build", "--offline", "-d", str(tmp_path / "frozen")]) == 0
    out, err = capsys.readouterr()
    assert "(0 error(s), 0 warning(s))" in out, out + err
    live, frozen = pages(tmp_path / "live"), pages(tmp_path / "frozen")
    assert live.keys() == frozen.keys() and len(live) == 6
    for name, html in live.items():
        # Charts (their figure JSON), tables, numbers and images: the same, byte for byte.
        assert frozen[name] == html, name
    sweep = (tmp_path / "frozen" / "lr-sweep" / "index.html").read_text(encoding="utf-8")
    statement = BYLINE.search(sweep)
    assert statement is not None
    assert 'data-frozen="true"' in statement.group(0)
    assert re.search(
        r"run data from a snapshot \(frozen \d{4}-\d\d-\d\d \d\d:\d\d UTC\) of local", sweep
    )
    # The copied images came from the snapshot too.
    assert list((tmp_path / "frozen" / "assets" / "labbook" / "files").glob("*.png"))


def test_frozen_series_and_params_equal_the_stores_own_rows(book: Path) -> None:
    assert main(["freeze"]) == 0
    folder = book / ".labbook" / "snapshots" / "sweeps"
    snapshot = json.loads((folder / "snapshot.json").read_text())
    assert snapshot["source"]["uri"] == "mlflow+sqlite:///mlflow.db"
    record = snapshot["runs"][SWEEP_RUN]
    with sqlite3.connect(book / "mlflow.db") as db:
        params = dict(db.execute("SELECT key, value FROM params WHERE run_uuid = ?", (SWEEP_RUN,)))
        rows = db.execute(
            "SELECT key, step, value, timestamp FROM metrics WHERE run_uuid = ? ORDER BY key, step",
            (SWEEP_RUN,),
        ).fetchall()
    assert {k: str(v) for k, v in record["params"].items()} == params
    lines = (folder / "series" / f"{SWEEP_RUN}.csv").read_text().splitlines()
    assert lines[0] == "key,step,value,time"
    frozen = [line.split(",") for line in lines[1:]]
    kept = {key for key in record["series"]}
    expected = [r for r in rows if r[0] in kept]
    assert len(frozen) == len(expected) > 0
    for (key, step, value, stamp), (k, s, v, t) in zip(expected, frozen, strict=True):
        assert (key, step, value) == (k, int(s), float(v))
        assert float(t) == pytest.approx(stamp / 1000)


def test_freezing_unchanged_trackers_again_changes_no_byte(book: Path) -> None:
    assert main(["freeze"]) == 0
    first = hashes(book / ".labbook" / "snapshots")
    time.sleep(1.1)  # a second freeze in a later second would show a new read time
    assert main(["freeze"]) == 0
    assert hashes(book / ".labbook" / "snapshots") == first


def test_offline_names_the_report_line_and_run_that_no_snapshot_holds(
    book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["freeze"]) == 0
    report = book / "reports" / "later.md"
    report.write_text(
        "# Later\n\nAdded after the freeze: {{ run('sweeps:0c55f5d5defe').name }}.\n\n"
        "```labbook\ntable: [name]\n"
        'runs: {source: local, experiment: cifar-sweep, filter: "params.lr > 0.5"}\n```\n',
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["build", "--offline", "-d", str(tmp_path / "site")]) == 1
    err = capsys.readouterr().err
    assert "reports/later.md:3:25: --offline: no snapshot holds run 'sweeps:0c55f5d5defe'" in err, (
        err
    )
    assert (
        "reports/later.md:7:1: --offline: no snapshot holds the query of source 'local'"
        " (experiment 'cifar-sweep', filter 'params.lr > 0.5')" in err
    ), err
    assert "labbook freeze" in err


def test_freezing_one_report_keeps_what_the_others_froze(book: Path) -> None:
    assert main(["freeze"]) == 0
    before = json.loads((book / ".labbook/snapshots/local/snapshot.json").read_text())
    assert main(["freeze", "reports/index.md"]) == 0
    after = json.loads((book / ".labbook/snapshots/local/snapshot.json").read_text())
    assert after["runs"].keys() == before["runs"].keys()
    assert after["queries"] == before["queries"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # closed again: connections are refused


def test_a_dead_tracker_falls_back_to_its_snapshot_with_one_warning(
    book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["freeze"]) == 0
    assert main(["build", "--refresh", "-d", str(tmp_path / "live")]) == 0
    config = book / "mkdocs.yml"
    text = config.read_text()
    dead = f"{{uri: 'mlflow+http://127.0.0.1:{closed_port()}', timeout: 3}}"
    config.write_text(re.sub(r"sweeps: \S+", f"sweeps: {dead}", text), encoding="utf-8")
    capsys.readouterr()
    started = time.monotonic()
    # --refresh asks the tracker; it does not answer, so its snapshot stands in.
    code = main(["build", "--refresh", "-d", str(tmp_path / "fallback")])
    seconds = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 0, err
    assert err.count("did not answer, so its runs come from the snapshot") == 1, err
    assert seconds < 30
    live, fallback = pages(tmp_path / "live"), pages(tmp_path / "fallback")
    variants = "variants/index.html"
    assert fallback[variants] == live[variants]
    # --strict fails on that warning.
    assert main(["build", "--refresh", "--strict", "-d", str(tmp_path / "strict")]) == 1


def test_a_broken_snapshot_is_an_error_naming_its_file(
    book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["freeze"]) == 0
    (book / ".labbook/snapshots/sweeps/snapshot.json").write_text("{not json", encoding="utf-8")
    capsys.readouterr()
    main(["build", "--offline", "-d", str(tmp_path / "site")])
    err = capsys.readouterr().err
    assert ".labbook/snapshots/sweeps/snapshot.json" in err
    assert "cannot read the snapshot of source 'sweeps'" in err
