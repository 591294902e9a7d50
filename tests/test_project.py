"""mkdocs.yml as MkDocs reads it (`!ENV`, `INHERIT`), and one declaration of the options."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from labbook.errors import ConfigError
from labbook.example_runs import write_example_runs
from labbook.project import OPTION_NAMES, LabbookConfig, Project

BIN = Path(sys.executable).parent

CONFIG = """\
site_name: env
docs_dir: reports
theme:
  name: material
plugins:
  - labbook:
      sources:
        local: !ENV [RUNS_DIR, runs]
"""


@pytest.fixture
def book(tmp_path: Path) -> Path:
    write_example_runs(tmp_path / "runs")
    write_example_runs(tmp_path / "other-runs")
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "index.md").write_text(
        "---\nruns:\n  s: {source: local, experiment: cifar-sweep}\n---\n# Env\n\n"
        "{{ s | length }} runs.\n",
        encoding="utf-8",
    )
    (tmp_path / "mkdocs.yml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


def run(
    book: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "RUNS_DIR"} | (env or {})
    return subprocess.run(
        [str(BIN / "labbook"), *args],
        cwd=book,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "command",
    [["check"], ["runs", "local", "--format", "json"], ["show", "55099931"], ["build", "-q"]],
)
def test_env_tag_unset_uses_its_default(book: Path, command: list[str]) -> None:
    done = run(book, *command)
    assert done.returncode == 0, done.stderr
    assert "sources must map" not in done.stderr


def test_env_tag_set_is_followed(book: Path) -> None:
    # Remove one run from the other folder, so which folder was read shows in the count.
    import shutil

    shutil.rmtree(book / "other-runs" / "55099931")
    rows = json.loads(run(book, "runs", "local", "--format", "json").stdout)
    assert "55099931" in {r["id"] for r in rows}
    done = run(book, "runs", "local", "--format", "json", env={"RUNS_DIR": "other-runs"})
    assert done.returncode == 0, done.stderr
    assert "55099931" not in {r["id"] for r in json.loads(done.stdout)}
    assert len(json.loads(done.stdout)) == len(rows) - 1


def test_inherit_is_followed(tmp_path: Path) -> None:
    write_example_runs(tmp_path / "runs")
    (tmp_path / "base.yml").write_text(CONFIG.replace("!ENV [RUNS_DIR, runs]", "runs"))
    (tmp_path / "mkdocs.yml").write_text("INHERIT: base.yml\nsite_name: child\n")
    project = Project.load(tmp_path / "mkdocs.yml")
    assert project.config["site_name"] == "child"
    assert list(project.settings.sources) == ["local"]
    assert project.settings.sources["local"].uri == "runs"


def test_a_missing_inherit_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "mkdocs.yml").write_text("INHERIT: nope.yml\nsite_name: child\n")
    with pytest.raises(ConfigError, match=r"nope\.yml"):
        Project.load(tmp_path / "mkdocs.yml")


def test_the_options_are_declared_once() -> None:
    # The plugin's own schema is the CLI's: MkDocs validates what LabbookConfig declares.
    from labbook.site.mkdocs_plugin import LabbookPlugin

    assert LabbookPlugin.config_class is LabbookConfig
    assert tuple(name for name, _ in LabbookConfig._schema) == OPTION_NAMES


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("max_pionts: 100", "labbook option 'max_pionts'"),
        ("max_points: 3", "option 'max_points': must be an integer >= 10"),
        ("notebook: maybe", "option 'notebook': must be true, false or all, not 'maybe'"),
        ("goals: {rmse: lowest}", "option 'goals': rmse: the goal must be min or max"),
    ],
)
def test_labbook_and_mkdocs_refuse_the_same_options(book: Path, options: str, message: str) -> None:
    (book / "mkdocs.yml").write_text(CONFIG + f"      {options}\n", encoding="utf-8")
    done = run(book, "check")
    assert done.returncode == 1
    assert message in done.stderr
    assert "mkdocs.yml:9:" in done.stderr  # the option's own line
    mkdocs = subprocess.run(
        [str(BIN / "mkdocs"), "build"], cwd=book, capture_output=True, text=True, timeout=120
    )
    assert mkdocs.returncode == 1
    assert message in mkdocs.stderr
